//! Faults as the run loop hands them to a model.

use pipesim_engine::SimTime;

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
}

impl FaultKind {
    /// The name scenario files use.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Crash { .. } => "crash",
        }
    }
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
