//! `pipesim gate`'s verdicts: thresholds checked against a run's report, every metric compared
//! with the committed baseline, and the outputs CI systems read (a text table, JUnit XML,
//! github-action-benchmark's `customSmallerIsBetter` JSON).
//!
//! Runs are deterministic, so the baseline comparison is exact by default: any metric that moved
//! is a change a reviewer should see, unless the scenario's `[gate.tolerance]` allows it.

use crate::compare::{Num, change, metrics, num, show_num};
use crate::html::esc;
use crate::json::lookup;
use crate::table::TextTable;
use pipesim_scenario::gate::Gate;
use pipesim_scenario::threshold::Threshold;
use serde_json::Value;

/// One threshold checked on one model.
#[derive(Clone, Debug)]
pub struct ThresholdVerdict {
    /// The model.
    pub model: String,
    /// The threshold.
    pub threshold: Threshold,
    /// The metric's value in the run (`None`: the model has no such metric).
    pub value: Option<f64>,
    /// Whether it held.
    pub passed: bool,
}

/// One metric compared with the baseline.
#[derive(Clone, Debug)]
pub struct MetricVerdict {
    /// The model.
    pub model: String,
    /// The dotted path.
    pub metric: String,
    /// In the baseline (`None`: absent there).
    pub baseline: Option<f64>,
    /// In the run (`None`: absent).
    pub fresh: Option<f64>,
    /// Whether the values are the same.
    pub equal: bool,
    /// The tolerance that applied, as written.
    pub tolerance: Option<String>,
    /// Whether the change is beyond the tolerance (a regression).
    pub failed: bool,
    /// Both values as the report writes them, for the table.
    shown: (String, String, String, String),
}

/// The verdicts of one scenario.
#[derive(Clone, Debug, Default)]
pub struct GateVerdict {
    /// The scenario's name.
    pub scenario: String,
    /// Every threshold on every model it applies to.
    pub thresholds: Vec<ThresholdVerdict>,
    /// Every metric of every model (empty when there was no baseline to compare with).
    pub metrics: Vec<MetricVerdict>,
    /// Whether a baseline was compared.
    pub compared: bool,
}

impl GateVerdict {
    /// Thresholds that failed.
    pub fn failed_thresholds(&self) -> usize {
        self.thresholds.iter().filter(|t| !t.passed).count()
    }

    /// Metrics beyond their tolerance.
    pub fn regressions(&self) -> usize {
        self.metrics.iter().filter(|m| m.failed).count()
    }

    /// Whether the gate passes.
    pub fn passed(&self) -> bool {
        self.failed_thresholds() == 0 && self.regressions() == 0
    }
}

/// The model entries of a report, by name, in report order.
fn entries(report: &Value) -> Vec<(&str, &Value)> {
    report
        .get("models")
        .and_then(Value::as_array)
        .map(|ms| ms.iter().filter_map(|m| Some((m.get("name")?.as_str()?, m))).collect())
        .unwrap_or_default()
}

/// Thresholds whose metric names nothing numeric in the models they apply to, as
/// (threshold, model) pairs. The caller checks this on a short probe run before the real one.
pub fn missing_metrics<'g>(report: &Value, gate: &'g Gate) -> Vec<(&'g Threshold, String)> {
    let mut out = Vec::new();
    for t in &gate.thresholds {
        for (name, m) in entries(report) {
            if t.model.as_deref().is_some_and(|only| only != name) {
                continue;
            }
            if lookup(m, &t.metric).and_then(Value::as_f64).is_none() {
                out.push((t, name.to_string()));
            }
        }
    }
    out
}

/// Checks every threshold of `gate` on `report` (a parsed report.json), and compares every
/// metric with `baseline` when there is one.
pub fn evaluate(
    scenario: &str,
    report: &Value,
    baseline: Option<&Value>,
    gate: &Gate,
) -> GateVerdict {
    let mut v = GateVerdict {
        scenario: scenario.to_string(),
        compared: baseline.is_some(),
        ..Default::default()
    };
    for t in &gate.thresholds {
        for (name, m) in entries(report) {
            if t.model.as_deref().is_some_and(|only| only != name) {
                continue;
            }
            let value = lookup(m, &t.metric).and_then(Value::as_f64);
            v.thresholds.push(ThresholdVerdict {
                model: name.to_string(),
                threshold: t.clone(),
                value,
                passed: value.is_some_and(|x| t.holds(x)),
            });
        }
    }
    if let Some(base) = baseline {
        let fresh_models = entries(report);
        let base_models = entries(base);
        let mut names: Vec<&str> = base_models.iter().map(|(n, _)| *n).collect();
        for (n, _) in &fresh_models {
            if !names.contains(n) {
                names.push(n);
            }
        }
        for name in names {
            let get = |list: &[(&str, &Value)]| {
                list.iter().find(|(n, _)| *n == name).map(|(_, m)| metrics(m)).unwrap_or_default()
            };
            let (b, f) = (get(&base_models), get(&fresh_models));
            let mut paths: Vec<&str> = b.iter().map(|(p, _)| p.as_str()).collect();
            for (p, _) in &f {
                if !paths.contains(&p.as_str()) {
                    paths.push(p);
                }
            }
            for p in paths {
                let find =
                    |list: &[(String, Num)]| list.iter().find(|(q, _)| q == p).map(|(_, x)| *x);
                let (bv, fv) = (find(&b), find(&f));
                v.metrics.push(metric_verdict(name, p, bv, fv, gate));
            }
        }
    }
    v
}

fn metric_verdict(
    model: &str,
    metric: &str,
    b: Option<Num>,
    f: Option<Num>,
    gate: &Gate,
) -> MetricVerdict {
    let tol = gate.tolerance_for(metric);
    let equal = b.map(|x| x.value) == f.map(|x| x.value);
    let failed = match (b, f) {
        (Some(b), Some(f)) => !equal && !tol.is_some_and(|t| t.tolerance.allows(b.value, f.value)),
        _ => !equal,
    };
    let dash = || "–".to_string();
    let (d, rel) = match (b, f) {
        (Some(b), Some(f)) => change(b, f),
        _ => (dash(), dash()),
    };
    MetricVerdict {
        model: model.to_string(),
        metric: metric.to_string(),
        baseline: b.map(|x| x.value),
        fresh: f.map(|x| x.value),
        equal,
        tolerance: tol.map(|t| t.text.clone()),
        failed,
        shown: (b.map_or_else(dash, show_num), f.map_or_else(dash, show_num), d, rel),
    }
}

fn value_text(x: Option<f64>) -> String {
    x.and_then(|x| num(&Value::from(x))).map_or("no such metric".to_string(), show_num)
}

/// The verdicts as text: thresholds, then the metrics that changed, then one line of totals.
pub fn gate_text(v: &GateVerdict) -> String {
    let mut out = format!("gate {}\n", v.scenario);
    out.push_str(&thresholds_text(v));
    out.push_str(&baseline_text(v));
    out.push_str(&format!(
        "  {}: {} of {} thresholds failed, {} metrics beyond tolerance\n",
        if v.passed() { "PASSED" } else { "FAILED" },
        v.failed_thresholds(),
        v.thresholds.len(),
        v.regressions()
    ));
    out
}

/// The thresholds section of [`gate_text`]: a table of every threshold and its verdict.
fn thresholds_text(v: &GateVerdict) -> String {
    if v.thresholds.is_empty() {
        return "  no thresholds ([gate] table)\n".to_string();
    }
    let t = TextTable {
        headers: ["model", "threshold", "value", "verdict"].iter().map(|s| s.to_string()).collect(),
        rows: v
            .thresholds
            .iter()
            .map(|t| {
                vec![
                    t.model.clone(),
                    format!("{} {}", t.threshold.name, t.threshold.condition),
                    value_text(t.value),
                    if t.passed { "pass".to_string() } else { "FAIL".to_string() },
                ]
            })
            .collect(),
    };
    indent(&t.to_text())
}

/// The baseline section of [`gate_text`]: none compared, all identical, or the changed metrics.
fn baseline_text(v: &GateVerdict) -> String {
    if !v.compared {
        return "  baseline: none compared\n".to_string();
    }
    let changed: Vec<&MetricVerdict> = v.metrics.iter().filter(|m| !m.equal).collect();
    if changed.is_empty() {
        return format!("  baseline: all {} metrics identical\n", v.metrics.len());
    }
    let mut out = format!("  baseline: {} of {} metrics changed\n", changed.len(), v.metrics.len());
    out.push_str(&indent(&changed_table(&changed).to_text()));
    out
}

/// The changed metrics with both values, the change, the tolerance and the verdict.
fn changed_table(changed: &[&MetricVerdict]) -> TextTable {
    TextTable {
        headers: [
            "model",
            "metric",
            "baseline",
            "now",
            "change",
            "relative",
            "tolerance",
            "verdict",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows: changed
            .iter()
            .map(|m| {
                vec![
                    m.model.clone(),
                    m.metric.clone(),
                    m.shown.0.clone(),
                    m.shown.1.clone(),
                    m.shown.2.clone(),
                    m.shown.3.clone(),
                    m.tolerance.clone().unwrap_or_else(|| "exact".to_string()),
                    if m.failed {
                        "REGRESSION".to_string()
                    } else {
                        "within tolerance".to_string()
                    },
                ]
            })
            .collect(),
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// JUnit XML: one test suite per scenario, a test case per threshold and per compared metric.
pub fn junit_xml(verdicts: &[GateVerdict]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let tests: usize = verdicts.iter().map(|v| v.thresholds.len() + v.metrics.len()).sum();
    let failures: usize = verdicts.iter().map(|v| v.failed_thresholds() + v.regressions()).sum();
    out.push_str(&format!(
        "<testsuites name=\"pipesim gate\" tests=\"{tests}\" failures=\"{failures}\">\n"
    ));
    for v in verdicts {
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">\n",
            esc(&v.scenario),
            v.thresholds.len() + v.metrics.len(),
            v.failed_thresholds() + v.regressions()
        ));
        for t in &v.thresholds {
            let name = format!("threshold {} {}", t.threshold.name, t.threshold.condition);
            let failure =
                (!t.passed).then(|| format!("{} = {}", t.threshold.metric, value_text(t.value)));
            out.push_str(&testcase(&v.scenario, &t.model, &name, failure));
        }
        for m in &v.metrics {
            let failure = m.failed.then(|| {
                format!(
                    "{}: baseline {}, now {} ({}, {}); tolerance {}",
                    m.metric,
                    m.shown.0,
                    m.shown.1,
                    m.shown.2,
                    m.shown.3,
                    m.tolerance.as_deref().unwrap_or("exact")
                )
            });
            out.push_str(&testcase(
                &v.scenario,
                &m.model,
                &format!("baseline {}", m.metric),
                failure,
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn testcase(scenario: &str, model: &str, name: &str, failure: Option<String>) -> String {
    let head = format!(
        "    <testcase classname=\"{}.{}\" name=\"{}\"",
        esc(scenario),
        esc(model),
        esc(name)
    );
    match failure {
        None => format!("{head}/>\n"),
        Some(msg) => {
            format!("{head}>\n      <failure message=\"{}\"/>\n    </testcase>\n", esc(&msg))
        }
    }
}

/// The metrics github-action-benchmark tracks, all smaller-is-better: latencies in ms and the
/// findings in events.
const BENCHMARK_METRICS: [(&str, &str); 9] = [
    ("latency.e2e.p50_ms", "ms"),
    ("latency.e2e.p99_ms", "ms"),
    ("latency.e2e.p999_ms", "ms"),
    ("latency.e2e.max_ms", "ms"),
    ("latency.ack.p99_ms", "ms"),
    ("invariants.ordering_violations", "events"),
    ("invariants.duplicates", "events"),
    ("invariants.lost", "events"),
    ("invariants.dropped", "events"),
];

/// github-action-benchmark's `customSmallerIsBetter` input: `[{name, unit, value}]` for each
/// scenario, model and tracked metric.
pub fn benchmark_json(reports: &[(&str, &Value)]) -> String {
    let mut items = Vec::new();
    for (scenario, report) in reports {
        for (model, m) in entries(report) {
            for (metric, unit) in BENCHMARK_METRICS {
                if let Some(value) = lookup(m, metric).and_then(Value::as_f64) {
                    items.push(serde_json::json!({
                        "name": format!("{scenario}/{model} {metric}"),
                        "unit": unit,
                        "value": value,
                    }));
                }
            }
        }
    }
    let mut s = serde_json::to_string_pretty(&Value::Array(items)).expect("serializes");
    s.push('\n');
    s
}
