//! Faults as the run loop hands them to a model.

use pipesim_engine::{Dist, SimTime};

/// What goes wrong. Each model maps the fault's role onto its components and makes the
/// component fail through its own mechanism.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// The process crashes at the start of the window and comes back `restart_ns` later; it
    /// loses what that process would really lose.
    Crash {
        /// Time from the crash until the process serves again.
        restart_ns: SimTime,
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

/// The fault kinds scenario files can name today.
pub const FAULT_KINDS: [&str; 4] = ["crash", "partition", "latency_spike", "packet_loss"];

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
        }
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
                FaultKind::Crash { .. } => return None,
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
}

/// Whether a fault is starting or ending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultPhase {
    /// The window opens.
    Begin,
    /// The window closes.
    End,
}
