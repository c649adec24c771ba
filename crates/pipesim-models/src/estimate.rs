//! What a run of one model will cost, predicted from its validated parameters before it
//! starts: the engine events it processes, its peak memory, and its wall time.
//!
//! Memory is the sum of parts, each named by the parameter that sets it so that a refusal can
//! say which to lower:
//! - what every run keeps: per-key state (the generator's sequence counters and the checker's
//!   highest visible sequence, 16 bytes a key), the timeline (one 2-significant-digit
//!   histogram a window with arrivals, and a row a window), two 3-digit latency histograms per
//!   fault window, the run's own histograms, and the faults as the model receives them;
//! - what the design keeps: [`crate::ModelKind::memory`], one item per parameter (an LRU per
//!   producer instance, accumulators per instance and partition, per-key arrays);
//! - what is in flight: events in queues and on the wire, rate × a time in the system that the
//!   kind states ([`Work::in_flight_s`]).
//!
//! Time: arrivals × the kind's engine events per arrival × its wall nanoseconds per event
//! ([`Work`]), calibrated on the shipped scenarios (docs/scenario.md gives the rule and its
//! measured accuracy). Machines differ; the figure is for a warning, never for a result.

use crate::driver::RunSettings;
use crate::fault::{FaultKind, FaultSpec};
use pipesim_workload::WorkloadSpec;

/// One part of a model's memory and the parameter that sets it.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryItem {
    /// The parameter to lower, as a path within the scenario (`workload.keys.count`,
    /// `window`) or within the model's table (`lru.capacity`).
    pub param: String,
    /// What the bytes are, in words: "an LRU of 3,000,000 keys per producer instance (16)".
    pub what: String,
    /// Bytes.
    pub bytes: u64,
    /// Whether `param` is a path within the model's table (shown as `model[NAME].PARAM`).
    pub in_model: bool,
}

impl MemoryItem {
    /// An item of the model's own state, set by the model parameter `param`.
    pub fn model(param: &str, what: String, bytes: u64) -> Self {
        Self { param: param.to_string(), what, bytes, in_model: true }
    }

    /// An item set by a scenario-level parameter (`workload.keys.count`).
    pub fn scenario(param: &str, what: String, bytes: u64) -> Self {
        Self { param: param.to_string(), what, bytes, in_model: false }
    }
}

/// How much work a kind does per arrival, calibrated on its shipped scenarios.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Work {
    /// Engine events (arrivals, the design's own events, fault boundaries) per arrival.
    pub events_per_arrival: f64,
    /// Wall nanoseconds per engine event on one core of the reference machine.
    pub ns_per_event: f64,
    /// Seconds an event typically spends in the design (queues, the wire, a commit): rate ×
    /// this many events are in flight.
    pub in_flight_s: f64,
    /// Bytes one event in flight takes (its engine events and queue slots).
    pub bytes_in_flight: f64,
    /// Wall seconds a run takes whatever its length (report details computed over every key).
    pub fixed_s: f64,
}

impl Work {
    /// A default for kinds that state nothing: a few events per arrival.
    pub const DEFAULT: Work = Work {
        events_per_arrival: 4.0,
        ns_per_event: 60.0,
        in_flight_s: 0.01,
        bytes_in_flight: 200.0,
        fixed_s: 0.0,
    };
}

/// What one model's run is expected to cost.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelEstimate {
    /// The model's name.
    pub model: String,
    /// Expected arrivals.
    pub arrivals: f64,
    /// Expected engine events.
    pub events: f64,
    /// Expected wall seconds on one core.
    pub wall_s: f64,
    /// Memory while the model runs, by part, largest first.
    pub items: Vec<MemoryItem>,
    /// Of the memory, what the finished run keeps until the report is written (its timeline
    /// and histograms), while other models run.
    pub kept_bytes: u64,
    /// What rendering its part of the report takes (report.json as text and parsed back).
    pub report_bytes: u64,
}

impl ModelEstimate {
    /// Peak bytes while the model runs.
    pub fn bytes(&self) -> u64 {
        self.items.iter().map(|i| i.bytes).sum()
    }
}

/// Bytes of an auto-resizing HdrHistogram of `sigfig` significant digits whose largest value
/// is about `max_ns`: (buckets + 1) × sub-buckets / 2 eight-byte counters, plus its header.
pub fn histogram_bytes(sigfig: u32, max_ns: u64) -> u64 {
    let sub_buckets = (2 * 10u64.pow(sigfig)).next_power_of_two();
    let mut buckets = 1u64;
    let mut reach = sub_buckets;
    while reach < max_ns.max(2) && buckets < 64 {
        reach = reach.saturating_mul(2);
        buckets += 1;
    }
    (buckets + 1) * (sub_buckets / 2) * 8 + 256
}

/// Keys an LRU, a cache or a per-key table can hold at once under `workload`: no more than the
/// keys there are or the events that arrive.
pub fn distinct_keys(workload: &WorkloadSpec) -> u64 {
    let arrivals = workload.expected_arrivals().max(1.0).min(u64::MAX as f64) as u64;
    u64::from(workload.keys.count).min(arrivals)
}

/// The memory of `instances` LRUs of `capacity` keys each under `workload`: they grow with the
/// keys they hold ([`pipesim_components::LRU_BYTES_PER_ENTRY`] a key).
pub fn lru_item(param: &str, capacity: u32, instances: u32, workload: &WorkloadSpec) -> MemoryItem {
    let held = u64::from(capacity).min(distinct_keys(workload));
    let count = pipesim_config::limits::grouped;
    let what = if instances == 1 {
        format!("an LRU of up to {} keys", count(held))
    } else {
        format!("{} LRUs of up to {} keys each", count(u64::from(instances)), count(held))
    };
    MemoryItem::model(
        param,
        what,
        u64::from(instances) * held * pipesim_components::LRU_BYTES_PER_ENTRY,
    )
}

/// An array of `bytes_per_key` per workload key that a design keeps.
pub fn per_key_item(what: &str, bytes_per_key: u64, workload: &WorkloadSpec) -> MemoryItem {
    let keys = u64::from(workload.keys.count);
    MemoryItem::scenario(
        "workload.keys.count",
        format!("{what} of {} keys", pipesim_config::limits::grouped(keys)),
        keys * bytes_per_key,
    )
}

/// Bytes of the timeline row of one window besides its histogram.
const ROW_BYTES: u64 = 64;
/// Bytes a timeline row takes while the report is rendered: its JSON text and parsed tree.
const REPORT_BYTES_PER_WINDOW: u64 = 1_024;
/// The rest of a model's report while it is rendered (histograms in base64, details).
const REPORT_BYTES: u64 = 2 << 20;
/// Bytes a fault takes as the model receives it (a spec, two boundaries, link windows).
const FAULT_BYTES: u64 = 256;
/// Per-key state of every run: the generator's sequence counter and the checker's highest
/// visible sequence.
const KEY_BYTES: u64 = 16;
/// The run's own histograms (end-to-end, acknowledgement, their sum, read, staleness) and
/// recorder state besides them.
const RUN_HISTOGRAMS: u64 = 5;

/// The estimate for a model whose kind states `work` and `own` (its state's items), over
/// `workload` and the fault timeline `faults` as the model receives them.
pub fn estimate(
    model: &str,
    work: Work,
    own: Vec<MemoryItem>,
    settings: &RunSettings,
    workload: &WorkloadSpec,
    faults: &[FaultSpec],
) -> ModelEstimate {
    let run_ns = settings.duration_ns.saturating_add(settings.drain_ns);
    let window = settings.window_ns.max(1);
    let arrivals = workload.expected_arrivals();
    let count = |n: u64| pipesim_config::limits::grouped(n);
    let mut items = own;
    let keys = u64::from(workload.keys.count);
    items.push(MemoryItem::scenario(
        "workload.keys.count",
        format!("per-key state of {} keys", count(keys)),
        keys * KEY_BYTES,
    ));
    // Events in flight: those arriving within the design's time in the system, plus, through an
    // outage (a crash, a pause, a partition), those arriving during the longest one: held,
    // retried or replayed. A schema flood, a checkpoint storm and a clock skew hold nothing up.
    let outage_s = faults
        .iter()
        .filter(|f| {
            !matches!(
                f.kind,
                FaultKind::SchemaFlood { .. }
                    | FaultKind::CheckpointStorm { .. }
                    | FaultKind::ClockSkew { .. }
            )
        })
        .map(|f| f.end_ns.saturating_sub(f.start_ns) as f64 / 1e9)
        .fold(0.0, f64::max)
        .min(settings.duration_ns as f64 / 1e9);
    // A histogram's size follows the largest latency it holds: a few times the time in the
    // system, at least a millisecond, at most the run.
    let latency_ns = ((work.in_flight_s + outage_s) * 4e9).clamp(1e6, run_ns.max(1) as f64) as u64;
    let windows = run_ns.div_ceil(window);
    let with_arrivals = settings.duration_ns.div_ceil(window).min(windows);
    let timeline = with_arrivals * histogram_bytes(2, latency_ns) + windows * ROW_BYTES;
    items.push(MemoryItem::scenario(
        "window",
        format!("a timeline of {} windows", count(windows)),
        timeline,
    ));
    let run_histograms = RUN_HISTOGRAMS * histogram_bytes(3, latency_ns);
    let mut kept = timeline + run_histograms;
    if !faults.is_empty() {
        let phases = (faults.len() as u64 + 1) * 2 * histogram_bytes(3, latency_ns);
        let bytes = phases + faults.len() as u64 * FAULT_BYTES + schema_changes(faults) * 64;
        kept += phases;
        items.push(MemoryItem::scenario(
            "fault",
            format!("statistics of {} fault windows", count(faults.len() as u64)),
            bytes,
        ));
    }
    items.push(MemoryItem::scenario("window", "the run's histograms".to_string(), run_histograms));
    let in_flight = busiest_arrivals(workload, work.in_flight_s + outage_s);
    items.push(MemoryItem::scenario(
        "workload.arrivals.rate",
        format!("about {} events in flight", count(in_flight as u64)),
        (in_flight * work.bytes_in_flight) as u64,
    ));
    items.sort_by_key(|i| std::cmp::Reverse(i.bytes));
    let events = arrivals * work.events_per_arrival + faults.len() as f64 * 2.0;
    ModelEstimate {
        model: model.to_string(),
        arrivals,
        events,
        wall_s: events * work.ns_per_event / 1e9 + work.fixed_s,
        items,
        kept_bytes: kept,
        report_bytes: windows * REPORT_BYTES_PER_WINDOW + REPORT_BYTES,
    }
}

/// The most arrivals any `span_s`-long stretch of the workload holds (a rate step's peak, or
/// the whole run when it is shorter).
pub fn busiest_arrivals(workload: &WorkloadSpec, span_s: f64) -> f64 {
    let end = workload.duration_ns as f64;
    let span = (span_s * 1e9).min(end);
    if workload.phases.len() > 100 {
        // Each candidate costs a pass over the phases: bound the work by the peak rate.
        return workload.peak_rate_per_s() * span / 1e9 * workload.duty_cycle();
    }
    let profile = pipesim_workload::RateProfile::new(workload);
    let mut starts = vec![0.0, end - span];
    for p in &workload.phases {
        let (at, ramp) = (p.at_ns as f64, p.ramp_ns as f64);
        starts.extend([at, at + ramp, at - span, at + ramp - span]);
    }
    let area = |from: f64| {
        let from = from.clamp(0.0, end - span);
        profile.area_until(from + span) - profile.area_until(from)
    };
    starts.into_iter().map(area).fold(0.0, f64::max) * workload.duty_cycle()
}

/// Schema changes and checkpoints the faults set off (each a scheduled event and a catalogue
/// entry).
fn schema_changes(faults: &[FaultSpec]) -> u64 {
    faults
        .iter()
        .map(|f| match f.kind {
            FaultKind::SchemaFlood { interval_ns } | FaultKind::CheckpointStorm { interval_ns } => {
                f.end_ns.saturating_sub(f.start_ns) / interval_ns.max(1) + 1
            }
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_sizes_follow_hdrhistogram() {
        // 3 digits: 2048 sub-buckets; 1 s needs 20 buckets: 21 × 1024 counters.
        assert_eq!(histogram_bytes(3, 1_000_000_000), 21 * 1024 * 8 + 256);
        // 2 digits (timeline windows): 256 sub-buckets, 23 buckets for 1 s: about 24 KB.
        assert_eq!(histogram_bytes(2, 1_000_000_000), 24 * 128 * 8 + 256);
        let mut h = pipesim_metrics::LatencyHistogram::with_sigfig(3);
        h.record(1_000_000_000);
        assert!(histogram_bytes(3, 1_000_000_000) >= 21 * 1024 * 8, "{h:?}");
    }
}
