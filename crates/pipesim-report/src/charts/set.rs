//! Which charts a run and a comparison get, in the order pages show them.

use super::axes::{bands, timeline_end_s};
use super::bars::{BarKind, Bars};
use super::latency_time::{LatencyOverTime, P99OverTime};
use super::spectrum::Spectrum;
use super::throughput::ThroughputOverTime;
use super::{Chart, ChartError, ChartFormat, file_stem, render};
use crate::view::{ModelView, ReportView};

/// One line or bar group: a model of a report, under the label the legend shows.
#[derive(Clone)]
pub(crate) struct Series<'a> {
    pub label: String,
    pub model: &'a ModelView,
}

/// The charts of a run or a comparison, in page order.
#[derive(Clone, Debug, Default)]
pub struct ChartSet {
    /// The charts.
    pub charts: Vec<Chart>,
}

/// The latency metrics with a spectrum, with the words their titles use.
const SPECTRA: [(&str, &str); 3] =
    [("e2e", "End-to-end"), ("ack", "Acknowledgement"), ("read", "Read")];

fn spectra(
    series: &[Series<'_>],
    format: ChartFormat,
    out: &mut Vec<Chart>,
) -> Result<(), ChartError> {
    for (metric, words) in SPECTRA {
        let mut hists = Vec::new();
        for s in series {
            let decoded = s.model.decoded_histograms().map_err(|e| ChartError(e.to_string()))?;
            if let Some((_, h)) =
                decoded.into_iter().find(|(name, h)| *name == metric && h.count() > 0)
            {
                hists.push((s.label.clone(), h));
            }
        }
        if hists.is_empty() {
            continue;
        }
        out.push(render(
            &Spectrum { metric: words, series: hists },
            format!("spectrum_{metric}"),
            format,
        )?);
    }
    Ok(())
}

/// Every chart that is the same for one report or several: bars, spectra, p99 and throughput
/// over time.
fn overlays(
    series: &[Series<'_>],
    window_s: f64,
    warmup_s: f64,
    format: ChartFormat,
) -> Result<Vec<Chart>, ChartError> {
    let end_s = timeline_end_s(series.iter().map(|s| s.model), window_s);
    let bands = bands(series.iter().map(|s| s.model), warmup_s);
    let mut out = Vec::new();
    out.push(render(
        &Bars { kind: BarKind::Percentiles, series: series.to_vec() },
        "percentiles".into(),
        format,
    )?);
    spectra(series, format, &mut out)?;
    out.push(render(
        &Bars { kind: BarKind::Findings, series: series.to_vec() },
        "findings".into(),
        format,
    )?);
    out.push(render(
        &P99OverTime { series: series.to_vec(), window_s, end_s, bands: bands.clone() },
        "p99_over_time".into(),
        format,
    )?);
    out.push(render(
        &ThroughputOverTime { series: series.to_vec(), window_s, end_s, bands },
        "throughput".into(),
        format,
    )?);
    Ok(out)
}

/// The charts of one run: the overlays, then each model's latency over time.
pub fn run_charts(view: &ReportView, format: ChartFormat) -> Result<ChartSet, ChartError> {
    let series: Vec<Series<'_>> =
        view.models.iter().map(|m| Series { label: m.name.clone(), model: m }).collect();
    let mut charts = overlays(&series, view.window_s, view.warmup_s, format)?;
    let end_s = timeline_end_s(view.models.iter(), view.window_s);
    for (i, s) in series.iter().enumerate() {
        let fig = LatencyOverTime {
            series: s.clone(),
            window_s: view.window_s,
            end_s,
            bands: bands(std::iter::once(s.model), view.warmup_s),
        };
        // The index keeps stems distinct when two names differ only in unsafe characters.
        charts.push(render(&fig, format!("latency_{i}_{}", file_stem(&s.model.name)), format)?);
    }
    Ok(ChartSet { charts })
}

/// The overlay charts of several reports, each model labelled "`label`: model" (or just the
/// model when there is one report). Timelines are drawn on the first report's window.
pub fn compare_charts(
    reports: &[(String, &ReportView)],
    format: ChartFormat,
) -> Result<ChartSet, ChartError> {
    let single = reports.len() == 1;
    let series: Vec<Series<'_>> = reports
        .iter()
        .flat_map(|(label, v)| {
            v.models.iter().map(move |m| Series {
                label: if single { m.name.clone() } else { format!("{label}: {}", m.name) },
                model: m,
            })
        })
        .collect();
    let (window_s, warmup_s) =
        reports.first().map_or((1.0, 0.0), |(_, v)| (v.window_s, v.warmup_s));
    Ok(ChartSet { charts: overlays(&series, window_s, warmup_s, format)? })
}
