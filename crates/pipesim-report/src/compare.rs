//! `pipesim compare`: every metric of several reports side by side, with the change against
//! the first.
//!
//! Metrics are named by the same dotted paths claims use (`latency.e2e.p99_ms`,
//! `details.store[0].commits`, `phases[1].e2e.p99_ms`), so what a comparison shows is what a
//! claim or a gate can name. Models are matched by name; a model missing from a report shows "–".

use crate::numbers::thousands;
use crate::table::TextTable;
use crate::view::ReportView;
use serde_json::Value;

/// One report in a comparison.
pub struct Compared<'a> {
    /// Its short label in tables and legends ("A", "B", …).
    pub label: String,
    /// Where it was read from.
    pub path: String,
    /// The report.
    pub view: &'a ReportView,
}

/// Parts of a model's entry that are not metrics: per-window rows and serialized histograms
/// (charts show them), examples and fault windows (text), parameters (compared separately).
const NOT_METRICS: [&str; 6] =
    ["histograms", "timeline", "examples", "faults", "parameters", "name"];

/// The order metric groups are listed in: what people look at first, first.
const GROUP_ORDER: [&str; 7] =
    ["latency", "throughput", "invariants", "mean_in_system", "simulation", "phases", "details"];

/// A metric's value, and whether the report wrote it as a whole number (a count).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Num {
    pub(crate) value: f64,
    pub(crate) count: bool,
}

/// Every numeric leaf under `v`, as (dotted path, value), in document order.
fn leaves(v: &Value, path: &str, out: &mut Vec<(String, Num)>) {
    match v {
        Value::Number(n) => {
            if let Some(value) = n.as_f64() {
                out.push((path.to_string(), Num { value, count: n.is_u64() || n.is_i64() }));
            }
        }
        Value::Object(map) => {
            for (k, child) in map {
                if NOT_METRICS.contains(&k.as_str()) {
                    continue;
                }
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                leaves(child, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                leaves(child, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Latency metrics and statistics in the order report.md lists them (the JSON's keys are
/// alphabetical).
const LATENCY_ORDER: [&str; 4] = ["e2e", "ack", "read", "staleness"];
const STAT_ORDER: [&str; 8] =
    ["count", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"];

/// Where a metric path sorts: its group in [`GROUP_ORDER`], then, for latencies, the metric and
/// the statistic; anything else keeps document order.
fn rank(path: &str) -> (usize, usize, usize) {
    let parts: Vec<&str> = path.split(['.', '[']).collect();
    let group = GROUP_ORDER.iter().position(|g| *g == parts[0]).unwrap_or(GROUP_ORDER.len());
    let pos = |list: &[&str], s: Option<&&str>| {
        s.and_then(|s| list.iter().position(|x| x == s)).unwrap_or(0)
    };
    let stat = pos(&STAT_ORDER, parts.last());
    match parts[0] {
        "latency" => (group, pos(&LATENCY_ORDER, parts.get(1)), stat),
        _ => (group, 0, 0),
    }
}

/// A model's metrics in [`GROUP_ORDER`], then anything else.
pub(crate) fn metrics(model: &Value) -> Vec<(String, Num)> {
    let mut all = Vec::new();
    leaves(model, "", &mut all);
    // Stable: document order among equal ranks.
    all.sort_by_key(|(p, _)| rank(p));
    all
}

/// A number as the report shows it: counts with separators, others to 6 decimals at most.
pub(crate) fn show_num(n: Num) -> String {
    if n.count { show(n.value) } else { trim(n.value) }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_string() } else { s.to_string() }
}

/// A whole number with separators (others as [`trim`]).
fn show(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        let s = thousands(x.abs() as u64);
        if x < 0.0 { format!("-{s}") } else { s }
    } else {
        trim(x)
    }
}

/// `b` against `a`: the difference and the relative change.
pub(crate) fn change(a: Num, b: Num) -> (String, String) {
    let (a, b, count) = (a.value, b.value, a.count && b.count);
    if a == b {
        return ("=".to_string(), "=".to_string());
    }
    // Rounded to the reports' microsecond precision, so 0.1 + 0.2 shows as 0.3.
    let d = ((b - a) * 1e6).round() / 1e6;
    let shown = if count { show(d) } else { trim(d) };
    let abs = if d > 0.0 { format!("+{shown}") } else { shown };
    let rel = if a == 0.0 { "new".to_string() } else { format!("{:+.1}%", d / a.abs() * 100.0) };
    (abs, rel)
}

/// The model names of all reports, in first-appearance order.
fn model_names(reports: &[Compared<'_>]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in reports {
        for m in &r.view.models {
            if !names.contains(&m.name) {
                names.push(m.name.clone());
            }
        }
    }
    names
}

/// Model `name`'s entry in `r`, if it has one.
fn model_entry<'v>(r: &'v Compared<'_>, name: &str) -> Option<&'v Value> {
    r.view
        .raw
        .get("models")?
        .as_array()?
        .iter()
        .find(|m| m.get("name").and_then(Value::as_str) == Some(name))
}

/// Headers: metric, each report, then the change of each later report against the first.
fn headers(first: &str, reports: &[Compared<'_>]) -> Vec<String> {
    let mut h = vec![first.to_string()];
    h.extend(reports.iter().map(|r| r.label.clone()));
    let base = &reports[0].label;
    for r in &reports[1..] {
        h.push(format!("{} − {base}", r.label));
        h.push(format!("{} vs {base}", r.label));
    }
    h
}

/// One row: a name, each report's value (or "–"), and the changes against the first.
fn row(name: String, values: &[Option<Num>]) -> Vec<String> {
    let mut out = vec![name];
    out.extend(values.iter().map(|v| v.map_or("–".to_string(), show_num)));
    for v in &values[1..] {
        let (abs, rel) = match (values[0], *v) {
            (Some(a), Some(b)) => change(a, b),
            _ => ("–".to_string(), "–".to_string()),
        };
        out.push(abs);
        out.push(rel);
    }
    out
}

/// The headline metrics of the summary table.
const HEADLINE: [(&str, &str); 9] = [
    ("latency.e2e.p50_ms", "e2e p50 ms"),
    ("latency.e2e.p99_ms", "e2e p99 ms"),
    ("latency.e2e.p999_ms", "e2e p99.9 ms"),
    ("latency.ack.p99_ms", "ack p99 ms"),
    ("throughput.delivered_per_s", "delivered/s"),
    ("invariants.ordering_violations", "ordering violations"),
    ("invariants.duplicates", "duplicates"),
    ("invariants.lost", "lost"),
    ("invariants.dropped", "dropped"),
];

/// How many metrics a comparison listed side by side, and how many of them differ.
#[derive(Default)]
struct MetricTally {
    compared: usize,
    changed: usize,
}

/// The comparison as Markdown: the reports, a headline table, then every metric of every model
/// (only those that differ when `only_changed`), and parameters that differ.
pub fn compare_markdown(reports: &[Compared<'_>], only_changed: bool) -> String {
    let mut md = String::from("# pipesim compare\n\n");
    md.push_str(&reports_table(reports).to_markdown());
    if reports.len() < 2 {
        return md;
    }
    let names = model_names(reports);
    let entries: Vec<Vec<Option<&Value>>> =
        names.iter().map(|n| reports.iter().map(|r| model_entry(r, n)).collect()).collect();

    md.push_str("\n## Headline\n\n");
    md.push_str(&headline_table(reports, &names, &entries).to_markdown());

    let mut tally = MetricTally::default();
    for (name, per_report) in names.iter().zip(&entries) {
        md.push_str(&model_section(reports, name, per_report, only_changed, &mut tally));
    }
    md.push_str(&format!(
        "\n{} of {} metrics differ from {}.\n",
        tally.changed, tally.compared, reports[0].label
    ));
    md
}

/// The table of the reports compared: label, path, scenario, seed, version and command.
fn reports_table(reports: &[Compared<'_>]) -> TextTable {
    TextTable {
        headers: ["", "report", "scenario", "seed", "pipesim", "command"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        rows: reports
            .iter()
            .map(|r| {
                vec![
                    r.label.clone(),
                    format!("`{}`", r.path),
                    r.view.scenario.clone(),
                    r.view.seed.to_string(),
                    r.view.pipesim_version.clone(),
                    format!("`{}`", r.view.command),
                ]
            })
            .collect(),
    }
}

/// The [`HEADLINE`] metrics of every model (`entries`: per model, its entry in each report).
fn headline_table(
    reports: &[Compared<'_>],
    names: &[String],
    entries: &[Vec<Option<&Value>>],
) -> TextTable {
    let mut headline = TextTable { headers: headers("model · metric", reports), rows: Vec::new() };
    for (name, per_report) in names.iter().zip(entries) {
        for (path, words) in HEADLINE {
            let values: Vec<Option<Num>> = per_report
                .iter()
                .map(|e| e.and_then(|m| crate::json::lookup(m, path)).and_then(num))
                .collect();
            headline.rows.push(row(format!("{name} · {words}"), &values));
        }
    }
    headline
}

/// One model's section: the reports without it, its metrics, and its parameters that differ.
fn model_section(
    reports: &[Compared<'_>],
    name: &str,
    per_report: &[Option<&Value>],
    only_changed: bool,
    tally: &mut MetricTally,
) -> String {
    let t = metrics_table(reports, per_report, only_changed, tally);
    let mut md = format!("\n## {name}\n\n");
    let missing: Vec<&str> = reports
        .iter()
        .zip(per_report)
        .filter(|(_, e)| e.is_none())
        .map(|(r, _)| r.label.as_str())
        .collect();
    if !missing.is_empty() {
        md.push_str(&format!("Not in {}.\n\n", missing.join(", ")));
    }
    if t.rows.is_empty() {
        md.push_str("Every metric is identical.\n");
    } else {
        md.push_str(&t.to_markdown());
    }
    md.push_str(&parameters_text(reports, per_report));
    md
}

/// Every metric of one model side by side (only those that differ when `only_changed`); each
/// metric is counted in `tally`, listed or not.
fn metrics_table(
    reports: &[Compared<'_>],
    per_report: &[Option<&Value>],
    only_changed: bool,
    tally: &mut MetricTally,
) -> TextTable {
    let per: Vec<Vec<(String, Num)>> =
        per_report.iter().map(|e| e.map(metrics).unwrap_or_default()).collect();
    let mut paths: Vec<&str> = Vec::new();
    for m in &per {
        for (p, _) in m {
            if !paths.contains(&p.as_str()) {
                paths.push(p);
            }
        }
    }
    let mut t = TextTable { headers: headers("metric", reports), rows: Vec::new() };
    for p in &paths {
        let values: Vec<Option<Num>> =
            per.iter().map(|m| m.iter().find(|(q, _)| q == p).map(|(_, x)| *x)).collect();
        let differs = values.iter().any(|v| *v != values[0]);
        tally.compared += 1;
        tally.changed += usize::from(differs);
        if differs || !only_changed {
            t.rows.push(row(format!("`{p}`"), &values));
        }
    }
    t
}

/// The model's parameters that differ between reports, under a heading; empty when none do.
fn parameters_text(reports: &[Compared<'_>], per_report: &[Option<&Value>]) -> String {
    let params = differing_parameters(per_report);
    if params.is_empty() {
        return String::new();
    }
    let table = TextTable {
        headers: headers("parameter", reports)[..=reports.len()].to_vec(),
        rows: params,
    };
    format!("\nParameters that differ:\n\n{}", table.to_markdown())
}

/// A JSON number as a [`Num`].
pub(crate) fn num(v: &Value) -> Option<Num> {
    let n = v.as_number()?;
    Some(Num { value: n.as_f64()?, count: n.is_u64() || n.is_i64() })
}

/// Rows of the model parameters whose values are not the same in every report that has the model.
fn differing_parameters(per_report: &[Option<&Value>]) -> Vec<Vec<String>> {
    let params: Vec<Option<&serde_json::Map<String, Value>>> = per_report
        .iter()
        .map(|e| e.and_then(|m| m.get("parameters")).and_then(Value::as_object))
        .collect();
    let mut keys: Vec<&String> = Vec::new();
    for p in params.iter().flatten() {
        for k in p.keys() {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    let mut rows = Vec::new();
    for k in keys {
        let values: Vec<Option<&Value>> = params.iter().map(|p| p.and_then(|p| p.get(k))).collect();
        if values.iter().all(|v| *v == values[0]) {
            continue;
        }
        let mut r = vec![format!("`{k}`")];
        r.extend(
            values.iter().map(|v| v.map_or("–".to_string(), |v| v.to_string().replace('|', "/"))),
        );
        rows.push(r);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_as_people_write_them() {
        let f = |value| Num { value, count: false };
        let c = |value| Num { value, count: true };
        assert_eq!(change(f(10.0), f(10.0)), ("=".to_string(), "=".to_string()));
        assert_eq!(change(f(10.0), f(12.5)), ("+2.5".to_string(), "+25.0%".to_string()));
        assert_eq!(change(c(2000.0), c(1000.0)), ("-1,000".to_string(), "-50.0%".to_string()));
        assert_eq!(change(c(0.0), c(3.0)), ("+3".to_string(), "new".to_string()));
        assert_eq!(change(f(0.1), f(0.3)), ("+0.2".to_string(), "+200.0%".to_string()));
        assert_eq!(show_num(c(1234567.0)), "1,234,567");
        assert_eq!(show_num(f(2378.0)), "2378");
        assert_eq!(show_num(f(0.123456789)), "0.123457");
    }

    #[test]
    fn leaves_skip_what_is_not_a_metric_and_name_paths_like_claims() {
        let v: Value = serde_json::json!({
            "name": "m", "parameters": {"x": 1},
            "latency": {"e2e": {"p99_ms": 2.5}},
            "details": {"store": [{"commits": 7}]},
            "timeline": [{"t_s": 0.0}], "histograms": {"e2e": "AAAA"}
        });
        let m: Vec<(String, f64)> = metrics(&v).into_iter().map(|(p, n)| (p, n.value)).collect();
        assert_eq!(
            m,
            vec![
                ("latency.e2e.p99_ms".to_string(), 2.5),
                ("details.store[0].commits".to_string(), 7.0)
            ]
        );
        assert!(rank("latency.e2e.p50_ms") < rank("latency.e2e.max_ms"));
        assert!(rank("latency.e2e.max_ms") < rank("latency.ack.count"));
        assert!(rank("invariants.lost") < rank("details.store[0].commits"));
    }
}
