//! What a run measures.
//!
//! Models report what happens to each event through one [`Recorder`]: created, acknowledged to
//! its producer, visible to a reader, dropped on purpose. The recorder keeps
//!
//! - HdrHistograms (3 significant digits) of end-to-end, acknowledgement and read latency,
//!   measured from the event's intended creation time, for events created after the warmup;
//! - a [`Timeline`] of fixed windows (offered, delivered, latency percentiles, backlog);
//! - the invariant checks (docs/report.md): per-key ordering violations, duplicates, lost and
//!   dropped events, with the first examples of each.
//!
//! Memory grows with the events *pending* (created, not yet visible or dropped) and with the
//! number of keys, never with the number of events simulated nor with simulated time: the
//! timeline keeps a constant-size row per window and a bounded number of rows
//! ([`window_rule`]).

mod acked;
mod bucket_counts;
mod examples;
mod histogram;
mod idwindow;
mod phases;
mod recorder;
mod results;
mod timeline;
pub mod window_rule;

pub use examples::{Example, ExampleKind};
pub use histogram::{HistogramDecodeError, LatencyHistogram, LatencySummary};
pub use idwindow::IdWindow;
pub use phases::PhaseStats;
pub use recorder::{ReasonId, Recorder, RecorderConfig};
pub use results::{DropReason, Invariants, RunResults, Throughput};
pub use timeline::{MAX_OPEN_WINDOWS, Timeline, WindowRow, WindowSink};
