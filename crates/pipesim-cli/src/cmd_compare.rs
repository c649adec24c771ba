//! `pipesim compare`: reports side by side.

use crate::args::CompareArgs;
use crate::exit;
use crate::output::{error, out};
use crate::page_files::write_charts;
use pipesim_report::charts::{ChartFormat, compare_charts};
use pipesim_report::{
    COMPARE_FOLDER, Compared, ReportView, StagedDir, compare_html, compare_markdown,
};
use pipesim_workload::input::read_capped;
use std::path::{Path, PathBuf};

/// Reports (and sweep part files) larger than this are refused: a report.json of the longest
/// timeline the limits allow (100,000 windows) is about 13 MB per model.
pub(crate) const MAX_REPORT_BYTES: u64 = 512 * 1024 * 1024;

/// The text of a report.json or sweep part file (a regular file of at most 512 MiB).
pub(crate) fn read_report_text(file: &Path) -> Result<String, String> {
    let shown = file.display();
    let bytes = read_capped(file, MAX_REPORT_BYTES, "a report")
        .map_err(|e| format!("{shown}: cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{shown}: is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// The report at `path` (a report.json, or a folder holding one).
fn read_report(path: &Path) -> Result<(PathBuf, ReportView), String> {
    let file = if path.is_dir() { path.join("report.json") } else { path.to_path_buf() };
    let text = read_report_text(&file)?;
    let view = ReportView::parse(&text).map_err(|e| format!("{} {e}", file.display()))?;
    Ok((file, view))
}

/// "A", "B", … "Z", "AA", …
fn label(i: usize) -> String {
    let mut n = i;
    let mut s = String::new();
    loop {
        s.insert(0, char::from(b'A' + (n % 26) as u8));
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    s
}

pub(crate) fn run(args: CompareArgs) -> u8 {
    let mut loaded = Vec::with_capacity(args.reports.len());
    for p in &args.reports {
        match read_report(p) {
            Ok(r) => loaded.push(r),
            Err(e) => {
                error(e);
                return exit::INVALID_INPUT;
            }
        }
    }
    let compared: Vec<Compared<'_>> = loaded
        .iter()
        .enumerate()
        .map(|(i, (path, view))| Compared {
            label: label(i),
            path: path.display().to_string(),
            view,
        })
        .collect();
    let md = compare_markdown(&compared, args.only_changed);
    let written = args.out.as_ref().map(|dir| write_outputs(dir, &compared, &md, &args.charts));
    if let Some(Err((code, e))) = written {
        error(e);
        return code;
    }
    if !args.quiet {
        out(&md);
    }
    exit::SUCCESS
}

/// compare.md, the overlay charts and index.html in `dir`.
fn write_outputs(
    dir: &Path,
    compared: &[Compared<'_>],
    md: &str,
    charts: &str,
) -> Result<(), (u8, String)> {
    let io = |e: String| (exit::INVALID_INPUT, e);
    let out = StagedDir::new(dir, &COMPARE_FOLDER).map_err(|e| io(format!("--out: {e}")))?;
    let format = if charts == "png" { ChartFormat::Png } else { ChartFormat::Svg };
    let labelled: Vec<(String, &ReportView)> =
        compared.iter().map(|c| (c.label.clone(), c.view)).collect();
    let set = compare_charts(&labelled, format).map_err(|e| (exit::INTERNAL, e.to_string()))?;
    write_charts(&out, &set).map_err(io)?;
    let title = {
        let mut names: Vec<&str> = compared.iter().map(|c| c.view.scenario.as_str()).collect();
        names.dedup();
        format!("pipesim compare: {}", names.join(" vs "))
    };
    let write = |name: &str, bytes: &[u8]| {
        out.write(name, bytes).map_err(|e| io(format!("cannot write {e}")))
    };
    write("compare.md", md.as_bytes())?;
    write("index.html", compare_html(&title, md, &set).as_bytes())?;
    out.commit().map_err(|e| io(format!("cannot replace {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_run_past_z() {
        assert_eq!(label(0), "A");
        assert_eq!(label(25), "Z");
        assert_eq!(label(26), "AA");
        assert_eq!(label(27), "AB");
    }
}
