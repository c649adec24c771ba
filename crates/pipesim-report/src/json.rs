//! report.json, schema version 1.

use crate::numbers::{ms, ms_f, round_to, secs};
use crate::{ModelRun, RunReport};
use pipesim_config::format_rate;
use pipesim_metrics::{LatencyHistogram, PhaseStats, RunResults};
use pipesim_models::{Cell, DetailTable, FaultKind, FaultSpec};
use pipesim_workload::{Popularity, Process};
use serde::Serialize;
use serde_json::{Map, Value};

/// The version of report.json's layout. Bump it when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    pipesim_version: &'static str,
    scenario: &'a str,
    description: &'a str,
    seed: u64,
    duration_s: f64,
    warmup_s: f64,
    drain_s: f64,
    window_s: f64,
    command: &'a str,
    workload: Workload,
    /// Only with `[faults.random]`: the kinds this seed's mix drew (the faults themselves are
    /// in each model's `faults[]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    random_fault_mix: Option<&'a [&'static str]>,
    warnings: &'a [String],
    models: Vec<Value>,
    claims: Vec<ClaimRow>,
}

/// A write-up's figure beside the simulated one.
#[derive(Serialize, Clone, Debug)]
pub struct ClaimRow {
    /// The model.
    pub model: String,
    /// The metric path in the model's entry.
    pub metric: String,
    /// What the write-up states.
    pub claimed: f64,
    /// What the simulation gave (`None` if the path names nothing in the report).
    pub simulated: Option<f64>,
    /// simulated / claimed.
    pub ratio: Option<f64>,
    /// Where the claim comes from.
    pub source: String,
}

#[derive(Serialize)]
struct Workload {
    process: &'static str,
    rate: String,
    rate_per_s: f64,
    phases: Vec<PhaseJson>,
    keys: u32,
    popularity: String,
    payload_bytes: u32,
    /// Only for a replayed trace: the events used and the lines skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    trace: Option<TraceJson>,
}

#[derive(Serialize)]
struct TraceJson {
    events: u64,
    skipped_lines: u64,
}

#[derive(Serialize)]
struct PhaseJson {
    at_s: f64,
    rate_per_s: f64,
    ramp_s: f64,
}

#[derive(Serialize)]
struct ModelJson<'a> {
    name: &'a str,
    kind: &'a str,
    parameters: Value,
    latency: Latencies,
    throughput: Throughput,
    invariants: Invariants,
    mean_in_system: f64,
    simulation: Simulation,
    timeline: Vec<WindowJson>,
    faults: Vec<FaultJson>,
    /// Only with faults: the statistics of events created during each fault window, then of
    /// those created outside all of them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    phases: Vec<FaultPhaseJson>,
    details: Map<String, Value>,
    histograms: Histograms,
}

#[derive(Serialize)]
struct Latencies {
    e2e: Latency,
    ack: Latency,
    read: Option<Latency>,
    staleness: Option<Latency>,
}

#[derive(Serialize)]
struct Latency {
    count: u64,
    mean_ms: f64,
    p50_ms: f64,
    p90_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
}

#[derive(Serialize)]
struct Throughput {
    offered: u64,
    delivered: u64,
    offered_per_s: f64,
    delivered_per_s: f64,
}

#[derive(Serialize)]
struct Invariants {
    ordering_violations: u64,
    duplicates: u64,
    lost: u64,
    dropped: u64,
    dropped_by_reason: Vec<DropJson>,
    in_flight_at_end: u64,
    examples: Vec<ExampleJson>,
}

#[derive(Serialize)]
struct DropJson {
    reason: String,
    events: u64,
    copies: u64,
}

#[derive(Serialize)]
struct ExampleJson {
    kind: &'static str,
    key: u32,
    seq: u64,
    t_s: f64,
    detail: String,
}

#[derive(Serialize)]
struct Simulation {
    events: u64,
    end_s: f64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct WindowJson {
    t_s: f64,
    offered: u64,
    delivered: u64,
    dropped: u64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    backlog: u64,
    /// Latency samples that came after the window's percentiles were fixed (absent when 0).
    #[serde(skip_serializing_if = "is_zero")]
    late: u64,
    /// Indices into `faults[]` of the fault windows that overlap this window.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    faults: Vec<usize>,
}

#[derive(Serialize)]
struct FaultPhaseJson {
    /// "fault" or "outside".
    phase: &'static str,
    /// Index into `faults[]` (fault phases only).
    #[serde(skip_serializing_if = "Option::is_none")]
    fault: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    start_s: f64,
    end_s: f64,
    created: u64,
    delivered: u64,
    e2e: Latency,
    ack: Latency,
    ordering_violations: u64,
    duplicates: u64,
    lost: u64,
    dropped: u64,
}

fn fault_phase_json(p: &PhaseStats, faults: &[FaultSpec]) -> FaultPhaseJson {
    let f = p.fault.and_then(|i| faults.get(i));
    FaultPhaseJson {
        phase: if p.fault.is_some() { "fault" } else { "outside" },
        fault: p.fault,
        kind: f.map(|f| f.kind.name()),
        target: f.map(|f| f.role.clone()),
        start_s: secs(p.start_ns),
        end_s: secs(p.end_ns),
        created: p.created,
        delivered: p.delivered,
        e2e: latency(&p.e2e),
        ack: latency(&p.ack),
        ordering_violations: p.ordering_violations,
        duplicates: p.duplicates,
        lost: p.lost,
        dropped: p.dropped,
    }
}

#[derive(Serialize)]
struct Histograms {
    e2e: String,
    ack: String,
    read: Option<String>,
    staleness: Option<String>,
}

fn latency(h: &LatencyHistogram) -> Latency {
    let s = h.summary();
    Latency {
        count: s.count,
        mean_ms: ms_f(s.mean_ns),
        p50_ms: ms(s.p50_ns),
        p90_ms: ms(s.p90_ns),
        p95_ms: ms(s.p95_ns),
        p99_ms: ms(s.p99_ns),
        p999_ms: ms(s.p999_ns),
        max_ms: ms(s.max_ns),
    }
}

fn cell_value(cell: &Cell) -> Value {
    match cell {
        Cell::Text(s) => Value::String(s.clone()),
        Cell::Int(n) => Value::from(*n),
        Cell::Fixed(x, d) => Value::from(round_to(*x, *d)),
    }
}

fn details(tables: &[DetailTable]) -> Map<String, Value> {
    let mut out = Map::new();
    for t in tables {
        let rows = t
            .rows
            .iter()
            .map(|row| {
                // serde_json's Map is ordered by key; the column order lives in the Markdown.
                let obj: Map<String, Value> = t
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| (c.to_string(), cell_value(v)))
                    .collect();
                Value::Object(obj)
            })
            .collect();
        out.insert(t.name.to_string(), Value::Array(rows));
    }
    out
}

#[derive(Serialize)]
struct FaultJson {
    kind: &'static str,
    /// A crash's scope, when the scenario gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'static str>,
    target: String,
    start_s: f64,
    end_s: f64,
}

fn fault_json(f: &FaultSpec) -> FaultJson {
    FaultJson {
        kind: f.kind.name(),
        scope: match f.kind {
            FaultKind::Crash { scope, .. } => scope.map(|s| s.name()),
            _ => None,
        },
        target: f.role.clone(),
        start_s: secs(f.start_ns),
        end_s: secs(f.end_ns),
    }
}

/// A model's report.json entry (`faults`: the fault windows of its run).
fn model_json<'a>(m: &ModelRun<'a>, faults: &[FaultSpec]) -> ModelJson<'a> {
    let r: &RunResults = &m.outcome.results;
    ModelJson {
        name: &m.spec.name,
        kind: m.spec.kind,
        parameters: m.spec.parameters(),
        latency: latencies_json(r),
        throughput: throughput_json(&r.throughput),
        invariants: invariants_json(&r.invariants),
        mean_in_system: round_to(r.mean_in_system, 6),
        simulation: Simulation { events: r.events_simulated, end_s: secs(r.end_ns) },
        timeline: timeline_json(r, faults),
        faults: faults.iter().map(fault_json).collect(),
        phases: r.phases.iter().map(|p| fault_phase_json(p, faults)).collect(),
        details: details(&m.outcome.details),
        histograms: histograms_json(r),
    }
}

/// The latency summaries of a run: e2e and ack always, read and staleness where measured.
fn latencies_json(r: &RunResults) -> Latencies {
    Latencies {
        e2e: latency(&r.e2e),
        ack: latency(&r.ack),
        read: r.read.as_ref().map(latency),
        staleness: r.staleness.as_ref().map(latency),
    }
}

/// Offered and delivered counts and rates (rates to 3 decimals).
fn throughput_json(t: &pipesim_metrics::Throughput) -> Throughput {
    Throughput {
        offered: t.offered,
        delivered: t.delivered,
        offered_per_s: round_to(t.offered_per_s, 3),
        delivered_per_s: round_to(t.delivered_per_s, 3),
    }
}

/// The invariant counts, drops by reason and the first findings.
fn invariants_json(inv: &pipesim_metrics::Invariants) -> Invariants {
    Invariants {
        ordering_violations: inv.ordering_violations,
        duplicates: inv.duplicates,
        lost: inv.lost,
        dropped: inv.dropped,
        dropped_by_reason: inv
            .dropped_by_reason
            .iter()
            .map(|d| DropJson { reason: d.reason.clone(), events: d.events, copies: d.copies })
            .collect(),
        in_flight_at_end: inv.in_flight_at_end,
        examples: inv
            .examples
            .iter()
            .map(|e| ExampleJson {
                kind: e.kind.name(),
                key: e.key,
                seq: e.seq,
                t_s: secs(e.at_ns),
                detail: e.detail.clone(),
            })
            .collect(),
    }
}

/// One row per timeline window, each with the indices of the fault windows it overlaps.
fn timeline_json(r: &RunResults, faults: &[FaultSpec]) -> Vec<WindowJson> {
    r.timeline
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let (start_ns, end_ns) = (i as u64 * r.window_ns, (i as u64 + 1) * r.window_ns);
            WindowJson {
                faults: faults
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.start_ns < end_ns && f.end_ns > start_ns)
                    .map(|(k, _)| k)
                    .collect(),
                t_s: secs(start_ns),
                offered: w.offered,
                delivered: w.delivered,
                dropped: w.dropped,
                p50_ms: ms(w.p50_ns),
                p99_ms: ms(w.p99_ns),
                max_ms: ms(w.max_ns),
                backlog: w.backlog,
                late: w.late,
            }
        })
        .collect()
}

/// The run's histograms, serialized (HdrHistogram V2, base64).
fn histograms_json(r: &RunResults) -> Histograms {
    Histograms {
        e2e: r.e2e.to_v2_base64(),
        ack: r.ack.to_v2_base64(),
        read: r.read.as_ref().map(LatencyHistogram::to_v2_base64),
        staleness: r.staleness.as_ref().map(LatencyHistogram::to_v2_base64),
    }
}

fn workload(report: &RunReport<'_>) -> Workload {
    let w = &report.scenario.workload;
    Workload {
        process: match w.process {
            _ if w.trace.is_some() => "trace",
            Process::Poisson => "poisson",
            Process::Constant => "constant",
            Process::Bursty { .. } => "bursty",
        },
        rate: format_rate(w.rate_per_s),
        rate_per_s: round_to(w.rate_per_s, 3),
        phases: w
            .phases
            .iter()
            .map(|p| PhaseJson {
                at_s: secs(p.at_ns),
                rate_per_s: round_to(p.rate_per_s, 3),
                ramp_s: secs(p.ramp_ns),
            })
            .collect(),
        keys: w.keys.count,
        popularity: match w.keys.popularity {
            Popularity::Uniform => "uniform".to_string(),
            Popularity::Zipf { exponent } => format!("zipf({exponent})"),
        },
        payload_bytes: w.payload_bytes,
        trace: w
            .trace
            .as_ref()
            .map(|t| TraceJson { events: t.summary.events, skipped_lines: t.summary.skipped }),
    }
}

/// Each model's report entry as JSON, in scenario order.
pub(crate) fn model_values(report: &RunReport<'_>) -> Vec<Value> {
    report
        .models
        .iter()
        .map(|m| {
            serde_json::to_value(model_json(m, &m.outcome.faults))
                .expect("a model entry serializes")
        })
        .collect()
}

/// Looks up a dotted path (`latency.e2e.p99_ms`, `details.store[0].commits`) in a JSON value.
pub fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let mut node = value;
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            node = node.get(key)?;
        }
        while let Some(body) = rest.strip_prefix('[') {
            let end = body.find(']')?;
            node = node.get(body[..end].parse::<usize>().ok()?)?;
            rest = &body[end + 1..];
        }
    }
    Some(node)
}

/// Every claim of the scenario with the simulated value beside it.
pub(crate) fn resolve_claims(report: &RunReport<'_>, models: &[Value]) -> Vec<ClaimRow> {
    report
        .scenario
        .claims
        .iter()
        .filter_map(|c| {
            let i = report.models.iter().position(|m| m.spec.name == c.model)?;
            let simulated = lookup(&models[i], &c.metric).and_then(Value::as_f64);
            Some(ClaimRow {
                model: c.model.clone(),
                metric: c.metric.clone(),
                claimed: c.value,
                simulated,
                ratio: simulated.filter(|_| c.value != 0.0).map(|x| round_to(x / c.value, 3)),
                source: c.source.clone(),
            })
        })
        .collect()
}

/// The report as pretty-printed JSON, ending in a newline.
pub fn report_json(report: &RunReport<'_>) -> String {
    let s = report.scenario;
    let models = model_values(report);
    let doc = Report {
        schema_version: SCHEMA_VERSION,
        pipesim_version: env!("CARGO_PKG_VERSION"),
        scenario: &s.name,
        description: &s.description,
        seed: s.seed,
        duration_s: secs(s.duration_ns),
        warmup_s: secs(s.warmup_ns),
        drain_s: secs(s.drain_ns),
        // A timeline row's length: the scenario's window unless rows merge several windows.
        window_s: secs(report.models.first().map_or(s.window_ns, |m| m.outcome.results.window_ns)),
        command: &report.command,
        workload: workload(report),
        random_fault_mix: s.random_fault_mix.as_deref(),
        warnings: &s.warnings,
        claims: resolve_claims(report, &models),
        models,
    };
    let mut out = serde_json::to_string_pretty(&doc).expect("the report serializes");
    out.push('\n');
    out
}
