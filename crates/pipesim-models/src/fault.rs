//! Faults as the run loop hands them to a model.

use pipesim_components::CrashScope;
use pipesim_engine::{Dist, SimTime};

/// What goes wrong. Each model maps the fault's role onto its components and makes the
/// component fail through its own mechanism.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// The process, or its whole machine, crashes at the start of the window and comes back
    /// `restart_ns` later; it loses what that scope really loses (see [`CrashScope`]).
    Crash {
        /// Time from the crash until the process serves again.
        restart_ns: SimTime,
        /// What the crash takes down, as the scenario gave it: the process (its page cache
        /// survives) or the machine. `None`: the model's default for the role (see
        /// [`crate::ModelKind::crash_scopes`]; a process crash for every simulated component).
        scope: Option<CrashScope>,
    },
    /// The network between the role's parties is cut for the window.
    Partition {
        /// Which way messages are cut.
        direction: Direction,
        /// Messages on the wire are held and delivered at the heal rather than lost.
        hold: bool,
    },
    /// Messages sent during the window take an extra delay.
    LatencySpike {
        /// The extra delay.
        extra: Dist,
    },
    /// Each transmission during the window is lost with a probability and retransmitted after
    /// a doubling retransmission timeout.
    PacketLoss {
        /// Chance that one transmission is lost.
        probability: f64,
        /// The first retransmission timeout (at least 200 ms).
        rto_ns: SimTime,
    },
    /// The role's disk is slow or stopped for the window: fsyncs and writes take longer, or
    /// wait for the window's end.
    DiskStall {
        /// How the disk misbehaves.
        effect: DiskStallEffect,
    },
    /// The process is frozen for the window (a stop-the-world GC, VM steal): it does no work
    /// and loses nothing; what it had in hand finishes after the window.
    Pause,
    /// Each node of the role restarts in turn: down for `downtime_ns`, then `gap_ns` before the
    /// next. Models see it as one [`FaultKind::Crash`] per node (see [`resolve`]), a process
    /// crash: a restart stops the process, not the machine.
    RollingRestart {
        /// How long each node is down.
        downtime_ns: SimTime,
        /// The wait after a node is back before the next goes down.
        gap_ns: SimTime,
        /// How many nodes restart; `None`: every node of the role.
        nodes: Option<u32>,
    },
    /// The event schema changes every `interval_ns` during the window; what a change costs is
    /// the model's to decide (a compaction that blocks a flush thread, a registry round trip,
    /// a consumer that cannot decode).
    SchemaFlood {
        /// Time between two schema changes.
        interval_ns: SimTime,
    },
    /// Checkpoints every `interval_ns` during the window instead of the configured interval
    /// (a stream processor's barriers and snapshots, a database's checkpoints and the
    /// full-page writes after each).
    CheckpointStorm {
        /// Time between two checkpoints during the window.
        interval_ns: SimTime,
    },
    /// A node's wall clock runs `ahead_ns` ahead for the window, then steps back (an NTP
    /// correction): what the node stamps with its clock is off by that much.
    ClockSkew {
        /// How far ahead the clock reads.
        ahead_ns: SimTime,
    },
}

/// What a [`FaultKind::DiskStall`] does to each disk operation during its window.
#[derive(Clone, Debug, PartialEq)]
pub enum DiskStallEffect {
    /// Each operation takes `factor` times as long.
    Slow {
        /// The slowdown, above 1.
        factor: f64,
    },
    /// Each operation takes an extra delay.
    Extra {
        /// The added delay.
        extra: Dist,
    },
    /// Nothing completes until the window ends.
    Stop,
}

impl DiskStallEffect {
    /// The time an operation that would take `ns` takes when it starts at `now` (within the
    /// window ending at `end_ns`), drawing from `rng` for an added distribution.
    pub fn apply(
        &self,
        ns: SimTime,
        now: SimTime,
        end_ns: SimTime,
        rng: &mut pipesim_engine::StreamRng,
    ) -> SimTime {
        match self {
            Self::Slow { factor } => (ns as f64 * factor) as SimTime,
            Self::Extra { extra } => ns + extra.sample(rng),
            Self::Stop => end_ns.saturating_sub(now) + ns,
        }
    }
}

/// Which way a network fault cuts: requests (client to server), responses (server to client),
/// or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Both ways: a symmetric partition.
    Both,
    /// Only client → server.
    Requests,
    /// Only server → client.
    Responses,
}

impl Direction {
    /// Whether the fault cuts messages going this way (`requests`: client → server).
    pub fn covers(self, requests: bool) -> bool {
        match self {
            Self::Both => true,
            Self::Requests => requests,
            Self::Responses => !requests,
        }
    }
}

/// The fault kinds scenario files can name.
pub const FAULT_KINDS: [&str; 10] = [
    "crash",
    "partition",
    "latency_spike",
    "packet_loss",
    "disk_stall",
    "pause",
    "rolling_restart",
    "schema_flood",
    "checkpoint_storm",
    "clock_skew",
];

/// The network kinds, which act on links.
pub const NETWORK_FAULT_KINDS: [&str; 3] = ["partition", "latency_spike", "packet_loss"];

impl FaultKind {
    /// The name scenario files use.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Crash { .. } => "crash",
            Self::Partition { .. } => "partition",
            Self::LatencySpike { .. } => "latency_spike",
            Self::PacketLoss { .. } => "packet_loss",
            Self::DiskStall { .. } => "disk_stall",
            Self::Pause => "pause",
            Self::RollingRestart { .. } => "rolling_restart",
            Self::SchemaFlood { .. } => "schema_flood",
            Self::CheckpointStorm { .. } => "checkpoint_storm",
            Self::ClockSkew { .. } => "clock_skew",
        }
    }

    /// The name, with a crash's scope when the scenario gave one (`crash (machine)`): what
    /// reports call the fault.
    pub fn label(&self) -> String {
        match self {
            Self::Crash { scope: Some(scope), .. } => format!("crash ({})", scope.name()),
            _ => self.name().to_string(),
        }
    }

    /// Whether a fault of this kind naming no node hits one node, the next in turn (it happens
    /// to one machine: a crash, a clock that jumps), rather than every node of its role.
    pub fn hits_one_node(&self) -> bool {
        matches!(self, Self::Crash { .. } | Self::ClockSkew { .. })
    }
}

/// The link faults that the network faults of role `role` in `faults` put on links going one
/// way (`requests`: client → server), for [`pipesim_components::Link::set_faults`].
pub fn link_faults(
    faults: &[FaultSpec],
    role: &str,
    requests: bool,
) -> std::sync::Arc<[pipesim_components::LinkFault]> {
    use pipesim_components::{LinkFault, LinkFaultEffect};
    faults
        .iter()
        .filter(|f| f.role == role)
        .filter_map(|f| {
            let effect = match &f.kind {
                FaultKind::Partition { direction, hold } => {
                    if !direction.covers(requests) {
                        return None;
                    }
                    LinkFaultEffect::Partition { hold: *hold }
                }
                FaultKind::LatencySpike { extra } => {
                    LinkFaultEffect::LatencySpike { extra: extra.clone() }
                }
                FaultKind::PacketLoss { probability, rto_ns } => {
                    LinkFaultEffect::PacketLoss { probability: *probability, rto_ns: *rto_ns }
                }
                _ => return None,
            };
            Some(LinkFault { start_ns: f.start_ns, end_ns: f.end_ns, effect })
        })
        .collect()
}

/// One fault of the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    /// What goes wrong.
    pub kind: FaultKind,
    /// The role it hits (`store`, `network`, …).
    pub role: String,
    /// When it starts.
    pub start_ns: SimTime,
    /// When it ends (for a crash, when the process is back).
    pub end_ns: SimTime,
    /// Which node of the role it hits (the crashes a rolling restart becomes name theirs);
    /// `None`: the rule of [`RoleNodes`] (a crash takes the role's next node in turn, any other
    /// kind hits every node).
    pub node: Option<u32>,
}

impl FaultSpec {
    /// A fault of `kind` on `role` over `[start_ns, end_ns)`, on no node in particular.
    pub fn new(
        kind: FaultKind,
        role: impl Into<String>,
        start_ns: SimTime,
        end_ns: SimTime,
    ) -> Self {
        Self { kind, role: role.into(), start_ns, end_ns, node: None }
    }
}

/// A model's fault timeline: the windows its report shows and the faults its run delivers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResolvedFaults {
    /// One per scenario fault, in timeline order, with the end a rolling restart reaches on
    /// this model; phases and report rows refer to these by index.
    pub windows: Vec<FaultSpec>,
    /// What [`crate::Model::on_fault`] receives: the scenario's faults, with each rolling
    /// restart replaced by one crash per node.
    pub delivered: Vec<FaultSpec>,
}

/// Resolves a scenario's timeline for one model: `nodes(role)` says how many nodes the model's
/// role has. A rolling restart of `n` nodes from `t` takes node `i` down at
/// `t + i·(downtime + gap)` for `downtime`, so its window ends at `t + n·downtime + (n−1)·gap`.
pub fn resolve(faults: &[FaultSpec], nodes: impl Fn(&str) -> u32) -> ResolvedFaults {
    let mut out = ResolvedFaults::default();
    for f in faults {
        let FaultKind::RollingRestart { downtime_ns, gap_ns, nodes: n } = f.kind else {
            out.windows.push(f.clone());
            out.delivered.push(f.clone());
            continue;
        };
        let n = n.unwrap_or_else(|| nodes(&f.role)).max(1);
        let step = downtime_ns.saturating_add(gap_ns);
        for i in 0..n {
            let start = f.start_ns.saturating_add(step.saturating_mul(u64::from(i)));
            out.delivered.push(FaultSpec {
                kind: FaultKind::Crash { restart_ns: downtime_ns, scope: None },
                role: f.role.clone(),
                start_ns: start,
                end_ns: start.saturating_add(downtime_ns),
                node: Some(i),
            });
        }
        let end =
            f.start_ns.saturating_add(step.saturating_mul(u64::from(n))).saturating_sub(gap_ns);
        out.windows.push(FaultSpec { end_ns: end, ..f.clone() });
    }
    out
}

/// Which nodes of one role (brokers, Postgres servers, producer instances, hosts) each fault
/// hits: the one rule every design of both backends follows.
///
/// - A fault that names a node (`node`; a rolling restart's crashes name theirs) hits that
///   node, modulo the role's count.
/// - A `crash` or a `clock_skew` that names none (a fault of one machine,
///   [`FaultKind::hits_one_node`]) takes the role's next node in turn: the first such fault
///   takes node 0, the next node 1, and so on, wrapping (crashes walk a fleet one process at a
///   time, as machines fail; a whole-role outage is a rolling restart with no gap, or one crash
///   per node).
/// - Any other kind that names none hits every node of the role at once: a `pause` freezes the
///   role, a `disk_stall` slows every disk of it, a schema flood reaches every broker.
///
/// A design keeps one `RoleNodes` per role with several nodes, asks [`RoleNodes::begin`] when a
/// fault begins and [`RoleNodes::end`] when it ends, and gets the same nodes both times.
#[derive(Clone, Debug, Default)]
pub struct RoleNodes {
    next_crash: u32,
    /// One-machine faults under way that named no node: their window and the node their turn
    /// took.
    crashed: Vec<(SimTime, SimTime, u32)>,
}

impl RoleNodes {
    /// The nodes a fault hits unless it is a crash naming no node: `node` (modulo the role's
    /// `count`), or, naming none, every node of the role.
    pub fn named_or_all(node: Option<u32>, count: u32) -> std::ops::Range<u32> {
        let count = count.max(1);
        match node {
            Some(n) => n % count..n % count + 1,
            None => 0..count,
        }
    }

    /// The nodes `fault` hits, of a role of `count` nodes, as it begins.
    pub fn begin(&mut self, fault: &FaultSpec, count: u32) -> std::ops::Range<u32> {
        match (fault.node, &fault.kind) {
            (None, kind) if kind.hits_one_node() => {
                let n = self.next_crash % count.max(1);
                self.next_crash = self.next_crash.wrapping_add(1);
                self.crashed.push((fault.start_ns, fault.end_ns, n));
                n..n + 1
            }
            (node, _) => Self::named_or_all(node, count),
        }
    }

    /// The nodes `fault` hit, as it ends: the ones [`RoleNodes::begin`] gave it (none for a
    /// crash that never began).
    pub fn end(&mut self, fault: &FaultSpec, count: u32) -> std::ops::Range<u32> {
        match (fault.node, &fault.kind) {
            (None, kind) if kind.hits_one_node() => {
                let key = (fault.start_ns, fault.end_ns);
                match self.crashed.iter().position(|&(s, e, _)| (s, e) == key) {
                    Some(i) => {
                        let n = self.crashed.remove(i).2;
                        n..n + 1
                    }
                    None => 0..0,
                }
            }
            (node, _) => Self::named_or_all(node, count),
        }
    }
}

/// Whether a fault is starting or ending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultPhase {
    /// The window opens.
    Begin,
    /// The window closes.
    End,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_node_is_hit_a_nameless_crash_takes_the_next_and_other_kinds_hit_all() {
        let crash =
            |s, e| FaultSpec::new(FaultKind::Crash { restart_ns: e - s, scope: None }, "log", s, e);
        let mut nodes = RoleNodes::default();
        let (a, b, c) = (crash(1, 5), crash(2, 6), crash(3, 7));
        assert_eq!(nodes.begin(&a, 3), 0..1);
        assert_eq!(nodes.begin(&b, 3), 1..2);
        assert_eq!(nodes.begin(&c, 3), 2..3);
        // Ends find their own node whatever the order.
        assert_eq!(nodes.end(&b, 3), 1..2);
        assert_eq!(nodes.end(&a, 3), 0..1);
        assert_eq!(nodes.end(&a, 3), 0..0, "ended once");
        // The turn wraps.
        assert_eq!(nodes.begin(&crash(8, 9), 3), 0..1);
        // A named node, modulo the count; another kind hits every node.
        let named = FaultSpec { node: Some(4), ..crash(10, 11) };
        assert_eq!(nodes.begin(&named, 3), 1..2);
        assert_eq!(nodes.end(&named, 3), 1..2);
        let pause = FaultSpec::new(FaultKind::Pause, "log", 12, 13);
        assert_eq!(nodes.begin(&pause, 3), 0..3);
        assert_eq!(nodes.end(&pause, 3), 0..3);
    }

    #[test]
    fn a_rolling_restart_becomes_one_crash_per_node_in_turn() {
        let restart = FaultKind::RollingRestart { downtime_ns: 3, gap_ns: 2, nodes: None };
        let crash = FaultKind::Crash { restart_ns: 1, scope: None };
        let faults = [
            FaultSpec::new(restart.clone(), "log", 10, 10),
            FaultSpec::new(crash, "store", 12, 13),
        ];
        let r = resolve(&faults, |role| if role == "log" { 3 } else { 1 });
        // The window: from 10 to the third node's return, 10 + 3·3 + 2·2.
        assert_eq!(r.windows.len(), 2);
        assert_eq!((r.windows[0].start_ns, r.windows[0].end_ns), (10, 23));
        assert_eq!(r.windows[0].kind, restart);
        assert_eq!(r.windows[1], faults[1]);
        let crashes: Vec<(SimTime, SimTime, Option<u32>)> = r
            .delivered
            .iter()
            .filter(|f| f.role == "log")
            .map(|f| (f.start_ns, f.end_ns, f.node))
            .collect();
        assert_eq!(crashes, [(10, 13, Some(0)), (15, 18, Some(1)), (20, 23, Some(2))]);
        assert!(r.delivered.iter().all(|f| f.kind.name() == "crash"));
        // `nodes` restarts fewer than the role has.
        let two = [FaultSpec::new(
            FaultKind::RollingRestart { downtime_ns: 3, gap_ns: 0, nodes: Some(2) },
            "log",
            0,
            0,
        )];
        let r = resolve(&two, |_| 5);
        assert_eq!(r.delivered.len(), 2);
        assert_eq!(r.windows[0].end_ns, 6);
    }
}
