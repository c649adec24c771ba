//! The fault timeline as the wire backend applies it: which kinds it takes, and what each does.
//!
//! | kind | mechanism |
//! | --- | --- |
//! | `crash` | on one host of the role (`node`, or the next in turn: the rule of `RoleNodes`), turmoil crashes the host's software (its tasks are dropped, peers' streams see the connection close, unsynced disk writes are lost or torn) and restarts it after `duration` |
//! | `rolling_restart` | one crash per host of the role, in turn (`resolve`) |
//! | `pause` | an approximation, on the role's hosts (`node`, or every host of the role): every message to and from it is held for the window and delivered at its end, so from outside the host is frozen; inside, its timers and disk go on (a real stopped process's timers would fire late) |
//! | `partition` | `hold = false`: turmoil cuts the links (messages lost, connects refused); `hold = true`: messages held and delivered at the heal. One way (`direction`) or both |
//! | `latency_spike` | extra delay on each message sent in the window |
//! | `packet_loss` | lost transmissions retransmitted after doubling timeouts |
//! | `disk_stall` | each fsync of the role's hosts (`node`, or every one) that starts in the window is slowed, delayed or held until the window ends (`Disk::sync`) |
//!
//! `schema_flood` and `checkpoint_storm` are about what a design's own code does, which the
//! harness cannot impose: a wire model refuses them, naming the kinds it takes.
//!
//! A fault boundary takes effect at the first step boundary at or after its time (times are
//! scaled by the dilation), before that step runs.

use crate::network::{NetEffect, NetFault};
use pipesim_engine::SimTime;
use pipesim_models::{Direction, DiskStallEffect, FaultKind, FaultPhase, FaultSpec, RoleNodes};

/// The role of the producers' connections.
pub const NETWORK_ROLE: &str = "network";

/// The kinds a role of hosts with a disk takes.
pub const HOST_KINDS_WITH_DISK: [&str; 7] = [
    "crash",
    "rolling_restart",
    "pause",
    "partition",
    "latency_spike",
    "packet_loss",
    "disk_stall",
];
/// The kinds a role of hosts without a disk takes.
pub const HOST_KINDS: [&str; 6] =
    ["crash", "rolling_restart", "pause", "partition", "latency_spike", "packet_loss"];
/// The kinds the producers' connections take.
pub const NETWORK_KINDS: [&str; 3] = ["partition", "latency_spike", "packet_loss"];

/// What one boundary of the timeline does.
#[derive(Clone, Debug)]
pub(crate) enum Action {
    /// Crash these hosts (begin) or restart them (end).
    Crash(Vec<usize>),
    /// A network fault (an index into the network's faults) opens or closes.
    Net(usize),
    /// Disk stalls on these hosts.
    Disk(Vec<usize>, DiskStallEffect, SimTime),
}

/// One boundary, in wire time.
#[derive(Clone, Debug)]
pub(crate) struct Boundary {
    pub(crate) at_wire: u64,
    pub(crate) phase: FaultPhase,
    pub(crate) action: Action,
}

/// The timeline, ready to apply: boundaries in time order (begins before ends at one time,
/// each in timeline order), and the network's fault windows.
pub(crate) struct Plan {
    pub(crate) boundaries: Vec<Boundary>,
    pub(crate) net: Vec<NetFault>,
}

/// The hosts a fault hits, by the one rule of [`RoleNodes`]: `node` of the role, or (no node
/// given) the role's next host in turn for a crash and every host of the role for other kinds.
fn pick(turns: &mut Vec<(String, RoleNodes)>, f: &FaultSpec, role_hosts: &[usize]) -> Vec<usize> {
    if role_hosts.is_empty() {
        return Vec::new();
    }
    let nodes = match turns.iter().position(|(r, _)| *r == f.role) {
        Some(i) => &mut turns[i].1,
        None => {
            turns.push((f.role.clone(), RoleNodes::default()));
            &mut turns.last_mut().expect("just pushed").1
        }
    };
    nodes.begin(f, role_hosts.len() as u32).map(|n| role_hosts[n as usize]).collect()
}

/// Builds the plan of `faults` (already resolved: rolling restarts are crashes) over hosts
/// whose roles are `roles` (producers' hosts have the role [`NETWORK_ROLE`]).
pub(crate) fn plan(faults: &[FaultSpec], roles: &[&str], dilation: u64) -> Plan {
    let mut boundaries = Vec::new();
    let mut net = Vec::new();
    let mut next_in_turn: Vec<(String, RoleNodes)> = Vec::new();
    let wire = |ns: SimTime| ns.saturating_mul(dilation);
    for f in faults {
        let role_hosts: Vec<usize> =
            roles.iter().enumerate().filter(|(_, r)| **r == f.role).map(|(i, _)| i).collect();
        let side: Vec<bool> = roles.iter().map(|r| *r == f.role).collect();
        let client_side = f.role == NETWORK_ROLE;
        let mut push_net = |direction: Direction, effect: NetEffect| {
            net.push(NetFault {
                start_wire: wire(f.start_ns),
                end_wire: wire(f.end_ns),
                side: side.clone(),
                client_side,
                direction,
                effect,
            });
            Action::Net(net.len() - 1)
        };
        let action = match &f.kind {
            FaultKind::Crash { .. } => Action::Crash(pick(&mut next_in_turn, f, &role_hosts)),
            FaultKind::Partition { direction, hold } => {
                push_net(*direction, if *hold { NetEffect::Hold } else { NetEffect::Drop })
            }
            FaultKind::Pause => {
                // The hosts frozen: every link that touches one of them.
                let host = pick(&mut next_in_turn, f, &role_hosts);
                let one: Vec<bool> = (0..roles.len()).map(|i| host.contains(&i)).collect();
                net.push(NetFault {
                    start_wire: wire(f.start_ns),
                    end_wire: wire(f.end_ns),
                    side: one,
                    client_side: false,
                    direction: Direction::Both,
                    effect: NetEffect::Hold,
                });
                Action::Net(net.len() - 1)
            }
            FaultKind::LatencySpike { extra } => {
                push_net(Direction::Both, NetEffect::Spike(extra.clone()))
            }
            FaultKind::PacketLoss { probability, rto_ns } => push_net(
                Direction::Both,
                NetEffect::Loss { probability: *probability, rto_ns: *rto_ns },
            ),
            FaultKind::DiskStall { effect } => {
                Action::Disk(pick(&mut next_in_turn, f, &role_hosts), effect.clone(), f.end_ns)
            }
            // Refused when the scenario was checked (see `HOST_KINDS`).
            FaultKind::RollingRestart { .. }
            | FaultKind::SchemaFlood { .. }
            | FaultKind::CheckpointStorm { .. }
            | FaultKind::ClockSkew { .. } => continue,
        };
        boundaries.push(Boundary {
            at_wire: wire(f.start_ns),
            phase: FaultPhase::Begin,
            action: action.clone(),
        });
        boundaries.push(Boundary { at_wire: wire(f.end_ns), phase: FaultPhase::End, action });
    }
    // Stable: one time keeps begins first, then timeline order.
    boundaries.sort_by_key(|b| (b.at_wire, b.phase == FaultPhase::End));
    Plan { boundaries, net }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_without_a_node_takes_the_next_host_in_turn() {
        let crash = |start| {
            FaultSpec::new(
                FaultKind::Crash { restart_ns: 5, scope: None },
                "store",
                start,
                start + 5,
            )
        };
        let roles = ["store", "store", "log", NETWORK_ROLE];
        let p = plan(&[crash(0), crash(10), crash(20)], &roles, 1);
        let hosts: Vec<Vec<usize>> = p
            .boundaries
            .iter()
            .filter(|b| b.phase == FaultPhase::Begin)
            .map(|b| match &b.action {
                Action::Crash(h) => h.clone(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(hosts, [vec![0], vec![1], vec![0]]);
    }

    #[test]
    fn boundaries_are_in_wire_time_and_begins_come_first() {
        let pause = FaultSpec::new(FaultKind::Pause, "store", 10, 20);
        let spike = FaultSpec::new(
            FaultKind::LatencySpike { extra: pipesim_engine::Dist::Const { ns: 1 } },
            NETWORK_ROLE,
            20,
            30,
        );
        let p = plan(&[pause, spike], &["store", NETWORK_ROLE], 10);
        let times: Vec<(u64, bool)> =
            p.boundaries.iter().map(|b| (b.at_wire, b.phase == FaultPhase::End)).collect();
        assert_eq!(times, [(100, false), (200, false), (200, true), (300, true)]);
        assert!(p.net[1].client_side && !p.net[0].client_side);
    }
}
