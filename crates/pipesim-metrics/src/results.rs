//! What one model's run produced, before any formatting.

use crate::examples::Example;
use crate::histogram::LatencyHistogram;
use crate::phases::PhaseStats;
use crate::timeline::WindowRow;
use pipesim_engine::SimTime;

/// Offered and delivered load over the measured part of the run (after the warmup, up to the
/// duration).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Throughput {
    /// Events created in the measured interval.
    pub offered: u64,
    /// Events that became visible in the measured interval, whenever they were created.
    pub delivered: u64,
    /// `offered` per second of the measured interval.
    pub offered_per_s: f64,
    /// `delivered` per second of the measured interval.
    pub delivered_per_s: f64,
}

/// How many events were dropped for one reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropReason {
    /// The reason, as the model names it ("station db full").
    pub reason: String,
    /// Events dropped for it (first outcome of the event).
    pub events: u64,
    /// Further copies of already-visible or already-dropped events discarded for it.
    pub copies: u64,
}

/// The invariant findings of a run, over every event whatever its creation time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Invariants {
    /// Events that became visible after a higher sequence number of the same key had.
    pub ordering_violations: u64,
    /// Second (and later) visibilities of the same event.
    pub duplicates: u64,
    /// Acknowledged events that were never visible by the end of the drain.
    pub lost: u64,
    /// Events the design rejected or discarded on purpose.
    pub dropped: u64,
    /// Drops per reason, in the order the model registered them.
    pub dropped_by_reason: Vec<DropReason>,
    /// Events neither visible, dropped nor acknowledged when the run ended (still queued).
    pub in_flight_at_end: u64,
    /// The first few findings of each kind.
    pub examples: Vec<Example>,
}

/// Everything a run measured.
#[derive(Clone, Debug)]
pub struct RunResults {
    /// Creation → visible, events created after the warmup.
    pub e2e: LatencyHistogram,
    /// Creation → acknowledged to the producer.
    pub ack: LatencyHistogram,
    /// Read latency, for models with a read path.
    pub read: Option<LatencyHistogram>,
    /// Staleness at each read, for models with a read path: how long the oldest acknowledged
    /// event of the key read had been acknowledged without being visible (0 if none).
    pub staleness: Option<LatencyHistogram>,
    /// Load.
    pub throughput: Throughput,
    /// Findings.
    pub invariants: Invariants,
    /// One row per window (or per group of windows: see `window_ns`).
    pub timeline: Vec<WindowRow>,
    /// The length of a timeline row: the run's window, times the number of windows a row
    /// merges when the run has more than a report holds.
    pub window_ns: SimTime,
    /// Events the engine processed (arrivals included).
    pub events_simulated: u64,
    /// Simulated time when the run stopped.
    pub end_ns: SimTime,
    /// Time-average number of events in the system over the measured interval (created, not yet
    /// visible or dropped), for Little's law.
    pub mean_in_system: f64,
    /// Statistics by fault window, then outside all windows; empty without faults.
    pub phases: Vec<PhaseStats>,
    /// Every event's first visibility (event id, time), in visibility order, when the run
    /// asked for it ([`crate::Recorder::log_visibility`]).
    pub visibility_log: Option<Vec<(u64, SimTime)>>,
}
