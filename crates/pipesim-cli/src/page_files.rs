//! What a run writes beside report.json: `.hgrm` histogram files, the charts and index.html.
//!
//! Everything goes into a [`StagedDir`], a fresh folder swapped in for the target once complete,
//! so nothing of an earlier run is left to remove and a failure leaves the earlier run whole.

use crate::exit;
use pipesim_report::charts::{ChartFormat, ChartSet, run_charts};
use pipesim_report::{ReportView, StagedDir, hgrm_text, index_html};
use pipesim_scenario::Scenario;

/// Writes `histograms/*.hgrm` and (unless `format` is `None`) `charts/*.svg|png` and
/// `index.html` into `out`, from the run's report.json text and report.md. Errors are in words
/// with the exit code they call for: 1 for a chart that cannot be drawn (a bug), 2 for a file
/// that cannot be written.
pub(crate) fn write_pages(
    out: &StagedDir,
    s: &Scenario,
    report_json: &str,
    report_md: &str,
    format: Option<ChartFormat>,
) -> Result<(), (u8, String)> {
    let bug = |e: String| (exit::INTERNAL, e);
    let view =
        ReportView::parse(report_json).map_err(|e| bug(format!("the report just written {e}")))?;
    let io = |e: String| (exit::INVALID_INPUT, e);
    write_histograms(out, &view).map_err(|(bad, e)| if bad { bug(e) } else { io(e) })?;
    let Some(format) = format else {
        return Ok(());
    };
    let charts = run_charts(&view, format).map_err(|e| bug(e.to_string()))?;
    write_charts(out, &charts).map_err(io)?;
    let path = s.path.to_string_lossy();
    let page = index_html(&view, report_md, &charts, Some((&path, &s.text)));
    out.write("index.html", page.as_bytes()).map_err(|e| io(format!("cannot write {e}")))
}

/// Writes every chart of `charts` to `charts/` in `out`.
pub(crate) fn write_charts(out: &StagedDir, charts: &ChartSet) -> Result<(), String> {
    for c in &charts.charts {
        let name = format!("charts/{}.{}", c.stem, c.format.extension());
        out.write(&name, &c.bytes).map_err(|e| format!("cannot write {e}"))?;
    }
    Ok(())
}

/// Writes one `.hgrm` file per non-empty histogram of each model (`MODEL.METRIC.hgrm`; model
/// names are file-name safe and short by validation). The error says whether it is a bug
/// (`true`: a histogram that does not decode) or an I/O failure.
fn write_histograms(out: &StagedDir, view: &ReportView) -> Result<(), (bool, String)> {
    for m in &view.models {
        for (metric, h) in m.decoded_histograms().map_err(|e| (true, e.to_string()))? {
            let Some(text) = hgrm_text(&h) else { continue };
            let name = format!("histograms/{}.{metric}.hgrm", m.name);
            out.write(&name, text.as_bytes()).map_err(|e| (false, format!("cannot write {e}")))?;
        }
    }
    Ok(())
}
