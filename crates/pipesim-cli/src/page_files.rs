//! What a run writes beside report.json: `.hgrm` histogram files, the charts and index.html.

use crate::exit;
use pipesim_report::charts::{ChartFormat, ChartSet, run_charts};
use pipesim_report::{ReportView, hgrm_text, index_html, write_atomic};
use pipesim_scenario::Scenario;
use std::path::Path;

/// Writes `dir/histograms/*.hgrm` and (unless `format` is `None`) `dir/charts/*.svg|png` and
/// `dir/index.html`, from the run's report.json text and
/// report.md. Chart files of an earlier run in `dir/charts/` that this run does not produce are
/// removed, so the folder shows one run. Errors are in words with the exit code they call
/// for: 1 for a chart that cannot be drawn (a bug), 2 for a folder that cannot be written.
pub(crate) fn write_pages(
    dir: &Path,
    s: &Scenario,
    report_json: &str,
    report_md: &str,
    format: Option<ChartFormat>,
) -> Result<(), (u8, String)> {
    let bug = |e: String| (exit::INTERNAL, e);
    let view =
        ReportView::parse(report_json).map_err(|e| bug(format!("the report just written {e}")))?;
    let io = |e: String| (exit::INVALID_INPUT, e);
    write_histograms(&dir.join("histograms"), &view)
        .map_err(|(bad, e)| if bad { bug(e) } else { io(e) })?;
    let Some(format) = format else {
        return Ok(());
    };
    let charts = run_charts(&view, format).map_err(|e| bug(e.to_string()))?;
    write_charts(&dir.join("charts"), &charts).map_err(io)?;
    let path = s.path.to_string_lossy();
    let page = index_html(&view, report_md, &charts, Some((&path, &s.text)));
    write_atomic(&dir.join("index.html"), page.as_bytes())
        .map_err(|e| io(format!("cannot write {}: {e}", dir.join("index.html").display())))
}

/// Writes every chart of `charts` to `folder` and removes other chart files there.
pub(crate) fn write_charts(folder: &Path, charts: &ChartSet) -> Result<(), String> {
    std::fs::create_dir_all(folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    let mut written = Vec::new();
    for c in &charts.charts {
        let name = format!("{}.{}", c.stem, c.format.extension());
        let path = folder.join(&name);
        write_atomic(&path, &c.bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(name);
    }
    let entries =
        std::fs::read_dir(folder).map_err(|e| format!("cannot read {}: {e}", folder.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let is_chart = name.ends_with(".svg") || name.ends_with(".png");
        if is_chart && !written.contains(&name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// Writes one `.hgrm` file per non-empty histogram of each model (`MODEL.METRIC.hgrm`; model
/// names are file-name safe by validation) and removes other `.hgrm` files there. The error
/// says whether it is a bug (`true`: a histogram that does not decode) or an I/O failure.
fn write_histograms(folder: &Path, view: &ReportView) -> Result<(), (bool, String)> {
    let io = |e: String| (false, e);
    std::fs::create_dir_all(folder)
        .map_err(|e| io(format!("cannot create {}: {e}", folder.display())))?;
    let mut written = Vec::new();
    for m in &view.models {
        for (metric, h) in m.decoded_histograms().map_err(|e| (true, e.to_string()))? {
            let Some(text) = hgrm_text(&h) else { continue };
            let name = format!("{}.{metric}.hgrm", m.name);
            let path = folder.join(&name);
            write_atomic(&path, text.as_bytes())
                .map_err(|e| io(format!("cannot write {}: {e}", path.display())))?;
            written.push(name);
        }
    }
    remove_others(folder, &written, &["hgrm"]).map_err(io)
}

/// Removes files of `folder` with one of `extensions` that are not in `keep`.
fn remove_others(folder: &Path, keep: &[String], extensions: &[&str]) -> Result<(), String> {
    let entries =
        std::fs::read_dir(folder).map_err(|e| format!("cannot read {}: {e}", folder.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let ours = extensions.iter().any(|x| name.ends_with(&format!(".{x}")));
        if ours && !keep.contains(&name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}
