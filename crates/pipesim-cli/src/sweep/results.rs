//! What a sweep keeps of each point, the statistics across seeds, and the files it writes:
//! sweep.json, sweep.md and the p99-versus-parameter chart. Everything here is a function of
//! the point results alone, so a whole sweep and its merged parts write the same bytes.

use pipesim_config::parse_rate_per_s;
use pipesim_metrics::LatencyHistogram;
use pipesim_report::charts::{ChartFormat, SweepChart, SweepPointXY, sweep_chart};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The metrics a sweep keeps per model and point, as (name, path in the report entry).
pub(crate) const METRICS: [(&str, &str); 9] = [
    ("e2e_p50_ms", "latency.e2e.p50_ms"),
    ("e2e_p99_ms", "latency.e2e.p99_ms"),
    ("e2e_p999_ms", "latency.e2e.p999_ms"),
    ("ack_p99_ms", "latency.ack.p99_ms"),
    ("delivered_per_s", "throughput.delivered_per_s"),
    ("ordering_violations", "invariants.ordering_violations"),
    ("duplicates", "invariants.duplicates"),
    ("lost", "invariants.lost"),
    ("dropped", "invariants.dropped"),
];

/// One model's results at one point.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct ModelResult {
    pub name: String,
    pub metrics: BTreeMap<String, f64>,
    /// End-to-end histogram (HdrHistogram V2, base64): merged, never averaged, across seeds.
    pub e2e_histogram: String,
}

/// One point's results.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct PointResult {
    pub index: usize,
    pub combination: usize,
    pub values: Vec<(String, String)>,
    pub seed: u64,
    pub models: Vec<ModelResult>,
}

/// What identifies a sweep: every part of it carries this, and merge checks it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct SweepMeta {
    pub scenario: String,
    pub pipesim_version: String,
    /// FNV-1a of the scenario text, the version and every point's label.
    pub fingerprint: String,
    pub parameters: Vec<String>,
    pub seeds: Vec<u64>,
    pub total_points: usize,
}

/// The model entries of a rendered report.json, reduced to what a sweep keeps.
pub(crate) fn model_results(report_json: &str) -> Vec<ModelResult> {
    let report: Value = serde_json::from_str(report_json).expect("a rendered report parses");
    let models = report["models"].as_array().cloned().unwrap_or_default();
    models
        .iter()
        .map(|m| {
            let metrics = METRICS
                .iter()
                .map(|(name, path)| {
                    let v = path.split('.').fold(m, |node, k| &node[k]);
                    (name.to_string(), v.as_f64().unwrap_or(0.0))
                })
                .collect();
            ModelResult {
                name: m["name"].as_str().unwrap_or("").to_string(),
                metrics,
                e2e_histogram: m["histograms"]["e2e"].as_str().unwrap_or("").to_string(),
            }
        })
        .collect()
}

/// Student's t quantile for a two-sided 95 % interval with `df` degrees of freedom.
fn t95(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        31..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

/// Mean and 95 % half-width (`None` with one sample).
pub(crate) fn mean_ci(xs: &[f64]) -> (f64, Option<f64>) {
    let n = xs.len();
    let mean = xs.iter().sum::<f64>() / n.max(1) as f64;
    if n < 2 {
        return (mean, None);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, Some(t95(n - 1) * (var / n as f64).sqrt()))
}

fn round6(x: f64) -> f64 {
    if x.is_finite() { (x * 1e6).round() / 1e6 } else { 0.0 }
}

/// One (combination, model) row of the summary.
#[derive(Serialize)]
struct SummaryRow {
    combination: usize,
    values: Vec<(String, String)>,
    model: String,
    seeds: usize,
    /// name → {mean, ci95 (half-width, null with one seed)}.
    metrics: BTreeMap<String, MeanCi>,
    /// Percentiles of every seed's events together (histograms merged).
    pooled_e2e_p50_ms: f64,
    pooled_e2e_p99_ms: f64,
    pooled_e2e_p999_ms: f64,
}

#[derive(Serialize)]
struct MeanCi {
    mean: f64,
    ci95: Option<f64>,
}

fn summary(points: &[PointResult]) -> Vec<SummaryRow> {
    let mut rows = Vec::new();
    let combos = points.iter().map(|p| p.combination).max().map_or(0, |c| c + 1);
    for c in 0..combos {
        let pts: Vec<&PointResult> = points.iter().filter(|p| p.combination == c).collect();
        let Some(first) = pts.first() else { continue };
        for (mi, m) in first.models.iter().enumerate() {
            let per: Vec<&ModelResult> = pts.iter().filter_map(|p| p.models.get(mi)).collect();
            let metrics = METRICS
                .iter()
                .map(|(name, _)| {
                    let xs: Vec<f64> =
                        per.iter().map(|r| r.metrics.get(*name).copied().unwrap_or(0.0)).collect();
                    let (mean, ci) = mean_ci(&xs);
                    (name.to_string(), MeanCi { mean: round6(mean), ci95: ci.map(round6) })
                })
                .collect();
            let mut pooled = LatencyHistogram::new();
            for r in &per {
                if let Ok(h) = LatencyHistogram::from_v2_base64(&r.e2e_histogram) {
                    pooled.merge(&h);
                }
            }
            let q = |p: f64| round6(pooled.quantile_ns(p) as f64 / 1e6);
            rows.push(SummaryRow {
                combination: c,
                values: first.values.clone(),
                model: m.name.clone(),
                seeds: per.len(),
                metrics,
                pooled_e2e_p50_ms: q(0.5),
                pooled_e2e_p99_ms: q(0.99),
                pooled_e2e_p999_ms: q(0.999),
            });
        }
    }
    rows
}

#[derive(Serialize)]
struct SweepJson<'a> {
    schema_version: u32,
    #[serde(flatten)]
    meta: &'a SweepMeta,
    summary: &'a [SummaryRow],
    points: &'a [PointResult],
}

/// The sweep's files: sweep.json, sweep.md, and the chart.
pub(crate) struct SweepFiles {
    pub json: String,
    pub markdown: String,
    pub chart: pipesim_report::charts::Chart,
}

fn show(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn mean_pm(m: &MeanCi) -> String {
    match m.ci95 {
        Some(ci) => format!("{} ± {}", show(m.mean), show(ci)),
        None => show(m.mean),
    }
}

/// A parameter value as a number for the chart's x axis: a rate, a duration-less number.
fn numeric(v: &str) -> Option<f64> {
    v.parse::<f64>().ok().or_else(|| parse_rate_per_s(v).ok())
}

/// The outputs of a sweep from its points (in index order).
pub(crate) fn sweep_files(
    meta: &SweepMeta,
    points: &[PointResult],
    format: ChartFormat,
) -> Result<SweepFiles, String> {
    let rows = summary(points);
    let mut json = serde_json::to_string_pretty(&SweepJson {
        schema_version: 1,
        meta,
        summary: &rows,
        points,
    })
    .map_err(|e| e.to_string())?;
    json.push('\n');
    let markdown = sweep_markdown(meta, &rows);
    let chart = p99_chart(meta, &rows, format)?;
    Ok(SweepFiles { json, markdown, chart })
}

/// sweep.md: what was swept, then a row per (combination, model) with the statistics.
fn sweep_markdown(meta: &SweepMeta, rows: &[SummaryRow]) -> String {
    let mut md = format!("# sweep: {}\n\n", meta.scenario);
    let combinations = meta.total_points / meta.seeds.len().max(1);
    md.push_str(&format!(
        "{} points: {} parameter combination{} × {} seed{} ({}). Mean ± 95 % confidence half-width across seeds (Student t); pooled = all seeds' events in one histogram.\n\n",
        meta.total_points,
        combinations,
        if combinations == 1 { "" } else { "s" },
        meta.seeds.len(),
        if meta.seeds.len() == 1 { "" } else { "s" },
        meta.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    ));
    let mut headers: Vec<String> = meta.parameters.iter().map(|p| format!("`{p}`")).collect();
    headers.extend(
        [
            "model",
            "e2e p50 ms",
            "e2e p99 ms",
            "e2e p99.9 ms",
            "pooled p99 ms",
            "delivered/s",
            "order",
            "dup",
            "lost",
            "dropped",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    md.push_str(&format!("| {} |\n", headers.join(" | ")));
    md.push_str(&format!("|{}\n", " ---: |".repeat(headers.len())));
    for r in rows {
        let mut cells: Vec<String> = r.values.iter().map(|(_, v)| v.clone()).collect();
        cells.push(r.model.clone());
        for name in ["e2e_p50_ms", "e2e_p99_ms", "e2e_p999_ms"] {
            cells.push(mean_pm(&r.metrics[name]));
        }
        cells.push(show(r.pooled_e2e_p99_ms));
        for name in ["delivered_per_s", "ordering_violations", "duplicates", "lost", "dropped"] {
            cells.push(mean_pm(&r.metrics[name]));
        }
        md.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    md
}

/// A line per model (and per combination of the other parameters) as (x, mean, low, high).
type ChartSeries = Vec<(String, Vec<SweepPointXY>)>;

/// The chart: p99 against the first parameter with numeric values (the rate, preferably).
fn p99_chart(
    meta: &SweepMeta,
    rows: &[SummaryRow],
    format: ChartFormat,
) -> Result<pipesim_report::charts::Chart, String> {
    let x_param = meta.parameters.iter().position(|p| p.contains("rate")).or_else(|| {
        meta.parameters.iter().position(|p| {
            rows.iter().all(|r| r.values.iter().any(|(q, v)| q == p && numeric(v).is_some()))
        })
    });
    let x_label = match x_param {
        Some(i) if meta.parameters[i].contains("rate") => {
            format!("{} (events/s)", meta.parameters[i])
        }
        Some(i) => meta.parameters[i].clone(),
        None => "parameter combination".to_string(),
    };
    sweep_chart(
        &SweepChart {
            x_label,
            y_label: "end-to-end p99".to_string(),
            series: p99_series(rows, x_param),
        },
        "p99_vs_load",
        format,
    )
    .map_err(|e| e.to_string())
}

/// The chart's lines: each row's p99 (with its interval) at its value of parameter `x_param`
/// (its combination's index without one), a line per model and values of the other parameters.
fn p99_series(rows: &[SummaryRow], x_param: Option<usize>) -> ChartSeries {
    let mut series: ChartSeries = Vec::new();
    for r in rows {
        let (x, others): (f64, Vec<String>) = match x_param {
            Some(i) => (
                numeric(&r.values[i].1).unwrap_or(r.combination as f64),
                r.values
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, (p, v))| format!("{p}={v}"))
                    .collect(),
            ),
            None => (r.combination as f64, Vec::new()),
        };
        let label = if others.is_empty() {
            r.model.clone()
        } else {
            format!("{} ({})", r.model, others.join(", "))
        };
        let m = &r.metrics["e2e_p99_ms"];
        let ci = m.ci95.unwrap_or(0.0);
        let point = (x, m.mean, (m.mean - ci).max(m.mean * 0.01), m.mean + ci);
        match series.iter_mut().find(|(l, _)| *l == label) {
            Some((_, pts)) => pts.push(point),
            None => series.push((label, vec![point])),
        }
    }
    for (_, pts) in &mut series {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    series
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_intervals_follow_student() {
        let (m, ci) = mean_ci(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        // sd 1, n 3: 4.303 / sqrt(3).
        assert!((ci.unwrap() - 4.303 / 3f64.sqrt()).abs() < 1e-9);
        assert_eq!(mean_ci(&[5.0]), (5.0, None));
    }
}
