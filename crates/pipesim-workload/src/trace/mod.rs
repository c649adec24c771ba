//! Workload traces: arrivals read from a file, one event per line, streamed.
//!
//! Two formats, chosen by the file's extension: CSV (`.csv`) with a header line naming the
//! columns `time`, `key`, `type`, `size`, and JSON lines (`.jsonl`, `.ndjson`), one object
//! `{"time": …, "key": …, "type": …, "size": …}` per line. `time` is the creation time, as an
//! integer number of nanoseconds or a duration string (`"1.5ms"`); `key` an integer below the
//! scenario's key count; `type` free text (read and ignored today); `size` bytes, as an integer
//! or a size string (`"512B"`), the scenario's payload when absent.
//!
//! A [`TraceReader`] holds one line in memory at a time, so a trace of any length is read in
//! constant memory. The scenario loader reads a trace once in full ([`scan`]) before anything
//! runs, so that every error in it is reported up front; each run then reads it again, and if
//! the file no longer gives what the scan saw, the arrivals end and the generator holds the
//! failure ([`crate::ArrivalGen::failure`]), which the run loop turns into an error result.
//!
//! This file holds the types a trace is described by; `reader` reads lines, `parse` turns one
//! line into a record, `arrivals` replays a trace as a run's arrivals.

mod arrivals;
mod parse;
mod reader;
#[cfg(test)]
mod tests;

pub(crate) use arrivals::TraceArrivals;
pub use reader::{TraceReader, scan};

use pipesim_engine::SimTime;
use std::fmt;
use std::path::{Path, PathBuf};

/// Lines longer than this are refused: no record needs it, and it keeps memory bounded when a
/// file that is not a trace (one with no newlines) is named by mistake.
pub const MAX_LINE_BYTES: u64 = 64 * 1024;

/// How many skipped lines a summary keeps as examples.
const SKIPPED_EXAMPLES: usize = 5;

/// The columns a trace may have, in the order `pipesim trace export` writes them.
pub const TRACE_COLUMNS: [&str; 4] = ["time", "key", "type", "size"];

/// How a trace file is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl TraceFormat {
    /// The format its extension names (`.csv`; `.jsonl` or `.ndjson`), if any.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" => Some(Self::JsonLines),
            _ => None,
        }
    }
}

/// What to do with a line that does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnError {
    /// Stop with an error naming the line (the default).
    #[default]
    Stop,
    /// Skip the line and count it.
    Skip,
}

/// A problem with a trace file: exit code 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    /// The file, as messages show it.
    pub file: String,
    /// The line (1-based), when the problem is one line.
    pub line: Option<u64>,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for TraceError {}

/// One event of a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceRecord {
    /// Creation time.
    pub time_ns: SimTime,
    /// The key, below the key count.
    pub key: u32,
    /// Payload size.
    pub size_bytes: u32,
}

/// What a full read of a trace found.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TraceSummary {
    /// Events created before the end of arrivals (the ones a run uses).
    pub events: u64,
    /// Lines skipped because they did not parse (with `on_error = "skip"`).
    pub skipped: u64,
    /// The first few skipped lines: line number and why.
    pub skipped_examples: Vec<(u64, String)>,
    /// Creation time of the last event used.
    pub last_time_ns: SimTime,
}

/// A trace as a workload uses it: where it is, how to read it, and what the load-time scan
/// found.
#[derive(Clone, Debug)]
pub struct TraceSpec {
    /// The file to open.
    pub path: PathBuf,
    /// How it is laid out.
    pub format: TraceFormat,
    /// What to do with a line that does not parse.
    pub on_error: OnError,
    /// What the scan at load time found; each run checks that it reads the same.
    pub summary: TraceSummary,
}

impl PartialEq for TraceSpec {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
            && self.format == other.format
            && self.on_error == other.on_error
            && self.summary == other.summary
    }
}

impl TraceSpec {
    /// A trace spec with the scan's `summary`.
    pub fn new(
        path: PathBuf,
        format: TraceFormat,
        on_error: OnError,
        summary: TraceSummary,
    ) -> Self {
        Self { path, format, on_error, summary }
    }

    /// The file as messages show it.
    pub fn shown(&self) -> String {
        self.path.display().to_string()
    }
}
