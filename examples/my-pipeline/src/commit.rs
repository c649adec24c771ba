//! `[model.commit]`: the group-commit policy both designs share, and the schedule it implies.
//!
//! The log is fsynced on a fixed schedule, at every multiple of `interval` from the start of
//! the run (or of the server's restart), and at once when `max_batch` events are waiting: a
//! batch is everything appended since the previous fsync began. One fsync runs at a time; a
//! boundary that passes during one is served as soon as it ends. An event is acknowledged, and
//! visible, only once the fsync covering it has completed.
//!
//! Under light load an event waits for the next boundary (uniform over the interval, so
//! `interval / 2` on average) and then one fsync: [`predicted_wait_ns`].

use pipesim_config::{ConfigError, Duration, ParamDoc};
use pipesim_engine::{NS_PER_MS, NS_PER_S, SimTime};
use serde::{Deserialize, Serialize};

/// The shortest interval: below 100 µs the fsync time, not the schedule, sets the batches.
pub const MIN_INTERVAL_NS: SimTime = 100_000;
/// The longest interval: a minute of unacknowledged events is no longer a group commit.
pub const MAX_INTERVAL_NS: SimTime = 60 * NS_PER_S;
/// The largest batch: bounds one write's size (32 bytes a record, so 3.2 MB).
pub const MAX_BATCH: u32 = 100_000;

/// `[model.commit]` as written, and as echoed in the report.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommitParams {
    /// Time between two scheduled fsyncs.
    pub interval: Duration,
    /// Waiting events that start an fsync before the next boundary.
    pub max_batch: u32,
}

impl Default for CommitParams {
    fn default() -> Self {
        Self { interval: Duration { ns: 10 * NS_PER_MS }, max_batch: 256 }
    }
}

impl CommitParams {
    /// Checks the bounds; error paths are relative to the model table.
    pub fn validate(self) -> Result<Self, ConfigError> {
        let ns = self.interval.ns;
        if !(MIN_INTERVAL_NS..=MAX_INTERVAL_NS).contains(&ns) {
            return Err(ConfigError::new(
                "commit.interval",
                format!("must be from 100us to 60s, found {}", self.interval),
            ));
        }
        if self.max_batch == 0 || self.max_batch > MAX_BATCH {
            return Err(ConfigError::new(
                "commit.max_batch",
                format!(
                    "must be from 1 to {MAX_BATCH} events (1: an fsync per event), found {}",
                    self.max_batch
                ),
            ));
        }
        Ok(self)
    }

    /// The interval in nanoseconds.
    pub fn interval_ns(&self) -> SimTime {
        self.interval.ns
    }

    /// The first scheduled boundary after `now_ns`.
    pub fn next_boundary_ns(&self, now_ns: SimTime) -> SimTime {
        (now_ns / self.interval_ns() + 1) * self.interval_ns()
    }

    /// The parameters, for `pipesim models`.
    pub fn docs() -> Vec<ParamDoc> {
        vec![
            ParamDoc::new(
                "commit.interval",
                "duration 100us-60s",
                "10ms",
                "time between two scheduled fsyncs of the log (at every multiple from the start)",
            ),
            ParamDoc::new(
                "commit.max_batch",
                "integer 1-100000",
                "256",
                "events waiting for an fsync that start one before the next boundary",
            ),
        ]
    }
}

/// The mean time from an event's arrival at the server to its fsync's end when batches stay
/// under `max_batch` and fsyncs under the interval: half an interval, then one fsync.
pub fn predicted_wait_ns(commit: &CommitParams, mean_fsync_ns: f64) -> f64 {
    commit.interval_ns() as f64 / 2.0 + mean_fsync_ns
}

/// The warning both designs give when the schedule cannot keep up: an fsync longer than the
/// interval makes batches grow until they reach `max_batch`.
pub fn warnings(commit: &CommitParams, mean_fsync_ns: f64) -> Vec<String> {
    if mean_fsync_ns >= commit.interval_ns() as f64 {
        vec![format!(
            "the mean fsync ({:.3} ms) is not shorter than commit.interval ({}): fsyncs run back to back and the interval no longer sets the wait",
            mean_fsync_ns / NS_PER_MS as f64,
            commit.interval
        )]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_checked_and_boundaries_are_multiples() {
        let ok = CommitParams::default().validate().unwrap();
        assert_eq!(ok.next_boundary_ns(0), 10 * NS_PER_MS);
        assert_eq!(ok.next_boundary_ns(10 * NS_PER_MS), 20 * NS_PER_MS);
        let zero = CommitParams { max_batch: 0, ..CommitParams::default() };
        assert_eq!(zero.validate().unwrap_err().path, "commit.max_batch");
        let short = CommitParams { interval: Duration { ns: 1 }, ..CommitParams::default() };
        assert_eq!(short.validate().unwrap_err().path, "commit.interval");
        assert_eq!(predicted_wait_ns(&ok, 2e6), 7e6);
    }
}
