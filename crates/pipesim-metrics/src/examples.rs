//! The first few examples of each invariant finding, for the report.

use pipesim_engine::SimTime;

/// Which invariant an example illustrates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExampleKind {
    /// Visible after a higher sequence number of its key.
    OrderingViolation,
    /// Visible a second time.
    Duplicate,
    /// Acknowledged, never visible.
    Lost,
    /// Rejected or discarded on purpose.
    Dropped,
}

impl ExampleKind {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::OrderingViolation => "ordering_violation",
            Self::Duplicate => "duplicate",
            Self::Lost => "lost",
            Self::Dropped => "dropped",
        }
    }
}

/// One finding: which event, when, and a short explanation.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// What was found.
    pub kind: ExampleKind,
    /// The event's key.
    pub key: u32,
    /// The event's sequence number within its key.
    pub seq: u64,
    /// When it was found (simulated ns).
    pub at_ns: SimTime,
    /// For instance "visible after seq 14" or the drop reason.
    pub detail: String,
}

/// How many examples of each kind a report keeps.
pub(crate) const EXAMPLES_PER_KIND: usize = 5;
