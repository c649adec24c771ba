//! report.json read back: what the charts, the HTML page and `pipesim compare` draw from.
//!
//! Charts and pages are made from the JSON, never from the in-memory results, so that a run and
//! a later `pipesim compare` of its report.json draw the same pictures from the same numbers.
//! Unknown fields are ignored (newer reports keep working); missing required ones are errors.

use crate::SCHEMA_VERSION;
use pipesim_metrics::LatencyHistogram;
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

/// A report.json as the outputs need it.
#[derive(Clone, Debug, Deserialize)]
pub struct ReportView {
    /// Layout version; only [`SCHEMA_VERSION`] is read.
    pub schema_version: u32,
    /// The pipesim version that wrote it.
    pub pipesim_version: String,
    /// The scenario's name.
    pub scenario: String,
    /// The scenario's description.
    #[serde(default)]
    pub description: String,
    /// The root seed.
    pub seed: u64,
    /// Simulated seconds of arrivals.
    pub duration_s: f64,
    /// Seconds excluded from the statistics.
    pub warmup_s: f64,
    /// Timeline window, seconds.
    pub window_s: f64,
    /// The command that reproduces the report.
    pub command: String,
    /// Kinds of a random fault mix, if the scenario drew one.
    #[serde(default)]
    pub random_fault_mix: Option<Vec<String>>,
    /// One entry per model, in scenario order.
    pub models: Vec<ModelView>,
    /// Write-ups' figures beside simulated ones.
    #[serde(default)]
    pub claims: Vec<ClaimView>,
    /// The whole document, for metrics the typed fields do not name.
    #[serde(skip)]
    pub raw: Value,
}

/// One model's entry.
#[derive(Clone, Debug, Deserialize)]
pub struct ModelView {
    /// The model's name in the scenario.
    pub name: String,
    /// Its kind.
    pub kind: String,
    /// Latency summaries.
    pub latency: LatenciesView,
    /// Load.
    pub throughput: ThroughputView,
    /// Findings.
    pub invariants: InvariantsView,
    /// One row per window.
    pub timeline: Vec<WindowView>,
    /// The model's fault windows.
    #[serde(default)]
    pub faults: Vec<FaultView>,
    /// Serialized histograms.
    pub histograms: HistogramsView,
}

/// The model's latency summaries.
#[derive(Clone, Debug, Deserialize)]
pub struct LatenciesView {
    /// Creation → visible.
    pub e2e: LatencyView,
    /// Creation → acknowledged.
    pub ack: LatencyView,
    /// Reads, where the model has a read path.
    #[serde(default)]
    pub read: Option<LatencyView>,
    /// Staleness at each read.
    #[serde(default)]
    pub staleness: Option<LatencyView>,
}

/// One latency summary, milliseconds.
#[derive(Clone, Copy, Debug, Deserialize)]
#[allow(missing_docs)]
pub struct LatencyView {
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

/// Offered and delivered load.
#[derive(Clone, Copy, Debug, Deserialize)]
#[allow(missing_docs)]
pub struct ThroughputView {
    pub offered: u64,
    pub delivered: u64,
    pub offered_per_s: f64,
    pub delivered_per_s: f64,
}

/// The invariant findings.
#[derive(Clone, Copy, Debug, Deserialize)]
#[allow(missing_docs)]
pub struct InvariantsView {
    pub ordering_violations: u64,
    pub duplicates: u64,
    pub lost: u64,
    pub dropped: u64,
}

/// One timeline window.
#[derive(Clone, Copy, Debug, Deserialize)]
#[allow(missing_docs)]
pub struct WindowView {
    pub t_s: f64,
    pub offered: u64,
    pub delivered: u64,
    #[serde(default)]
    pub dropped: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub backlog: u64,
}

/// One fault window.
#[derive(Clone, Debug, Deserialize)]
#[allow(missing_docs)]
pub struct FaultView {
    pub kind: String,
    pub target: String,
    pub start_s: f64,
    pub end_s: f64,
}

/// A claim row.
#[derive(Clone, Debug, Deserialize)]
#[allow(missing_docs)]
pub struct ClaimView {
    pub model: String,
    pub metric: String,
    pub claimed: f64,
    pub simulated: Option<f64>,
    pub ratio: Option<f64>,
    pub source: String,
}

/// The serialized histograms (HdrHistogram V2, base64).
#[derive(Clone, Debug, Deserialize)]
#[allow(missing_docs)]
pub struct HistogramsView {
    pub e2e: String,
    pub ack: String,
    #[serde(default)]
    pub read: Option<String>,
    #[serde(default)]
    pub staleness: Option<String>,
}

/// Why a file is not a report pipesim can read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewError(pub String);

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ViewError {}

impl ReportView {
    /// Parses report.json text.
    pub fn parse(text: &str) -> Result<Self, ViewError> {
        let raw: Value = serde_json::from_str(text)
            .map_err(|e| ViewError(format!("is not JSON ({e}): is this a report.json?")))?;
        match raw.get("schema_version").and_then(Value::as_u64) {
            Some(v) if v == u64::from(SCHEMA_VERSION) => {}
            Some(v) => {
                return Err(ViewError(format!(
                    "has schema_version {v}; this pipesim reads version {SCHEMA_VERSION}"
                )));
            }
            None => {
                return Err(ViewError(
                    "has no schema_version: it is not a pipesim report.json".to_string(),
                ));
            }
        }
        let mut view: ReportView = serde_path_to_error::deserialize(&raw)
            .map_err(|e| ViewError(format!("is not a complete report: {e}")))?;
        view.check().map_err(|e| ViewError(format!("is not a report pipesim wrote: {e}")))?;
        view.raw = raw;
        Ok(view)
    }

    /// The values no run can produce (a negative latency, a window of 0 s, a fault that ends
    /// before it starts), so that charts and comparisons never draw from them.
    fn check(&self) -> Result<(), String> {
        let time = |what: &str, x: f64| {
            if x.is_finite() && x >= 0.0 { Ok(()) } else { Err(format!("{what} is {x}")) }
        };
        time("duration_s", self.duration_s)?;
        time("warmup_s", self.warmup_s)?;
        if !(self.window_s.is_finite() && self.window_s > 0.0) {
            return Err(format!("window_s is {}, not a positive number of seconds", self.window_s));
        }
        for m in &self.models {
            let at = |what: &str| format!("models[{}].{what}", m.name);
            let l = &m.latency;
            let all = [("e2e", Some(&l.e2e)), ("ack", Some(&l.ack)), ("read", l.read.as_ref())];
            for (name, v) in all.into_iter().chain([("staleness", l.staleness.as_ref())]) {
                let Some(v) = v else { continue };
                for (f, x) in [
                    ("mean_ms", v.mean_ms),
                    ("p50_ms", v.p50_ms),
                    ("p90_ms", v.p90_ms),
                    ("p95_ms", v.p95_ms),
                    ("p99_ms", v.p99_ms),
                    ("p999_ms", v.p999_ms),
                    ("max_ms", v.max_ms),
                ] {
                    time(&at(&format!("latency.{name}.{f}")), x)?;
                }
            }
            time(&at("throughput.offered_per_s"), m.throughput.offered_per_s)?;
            time(&at("throughput.delivered_per_s"), m.throughput.delivered_per_s)?;
            for (i, w) in m.timeline.iter().enumerate() {
                for (f, x) in [
                    ("t_s", w.t_s),
                    ("p50_ms", w.p50_ms),
                    ("p99_ms", w.p99_ms),
                    ("max_ms", w.max_ms),
                ] {
                    time(&at(&format!("timeline[{i}].{f}")), x)?;
                }
            }
            for (i, f) in m.faults.iter().enumerate() {
                time(&at(&format!("faults[{i}].start_s")), f.start_s)?;
                if !(f.end_s.is_finite() && f.end_s >= f.start_s) {
                    return Err(format!(
                        "{} is {}, before its start",
                        at(&format!("faults[{i}].end_s")),
                        f.end_s
                    ));
                }
            }
        }
        Ok(())
    }
}

impl ModelView {
    /// The decoded histograms that exist, with their names: e2e, ack, read, staleness.
    pub fn decoded_histograms(&self) -> Result<Vec<(&'static str, LatencyHistogram)>, ViewError> {
        let h = &self.histograms;
        let all = [
            ("e2e", Some(&h.e2e)),
            ("ack", Some(&h.ack)),
            ("read", h.read.as_ref()),
            ("staleness", h.staleness.as_ref()),
        ];
        all.into_iter()
            .filter_map(|(name, text)| text.map(|t| (name, t)))
            .map(|(name, text)| {
                LatencyHistogram::from_v2_base64(text)
                    .map(|h| (name, h))
                    .map_err(|e| ViewError(format!("models[{}].histograms.{name}: {e}", self.name)))
            })
            .collect()
    }
}
