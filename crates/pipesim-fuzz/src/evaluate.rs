//! One input through what `pipesim run` does, in-process: load and validate, the run estimate
//! with a small memory limit, a short run of every model, the report, its read-back and its
//! charts. A panic is a crash (the caller catches it); an error that breaks exit-2 semantics (no
//! file named, an empty or runaway message) is a violation.

use pipesim_cli::estimate::estimate;
use pipesim_cli::runner::{render, run_scenario};
use pipesim_report::charts::{ChartFormat, run_charts};
use pipesim_report::{ReportView, hgrm_text};
use pipesim_scenario::{LoadOptions, Scenario, load_str};
use std::path::Path;
use std::sync::LazyLock;

/// What an input did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Validated, ran (shortened if long), reported: exit 0.
    Ran,
    /// Refused by validation: exit 2.
    Rejected,
    /// Validated, refused by the memory estimate: exit 2.
    Refused,
    /// Validated, but even shortened too long to run here (counted as exit 0, not run).
    NotRun,
    /// An error that breaks exit-2 semantics, or a report that does not read back.
    Violation(String),
}

/// Memory a fuzzed run may need.
const MAX_BYTES: u64 = 1 << 30;
/// Arrivals a fuzzed run is cut to (by shortening its duration).
const MAX_ARRIVALS: f64 = 5_000.0;
/// Engine events a fuzzed run may be expected to take.
const MAX_EVENTS: f64 = 500_000.0;
/// Wall seconds a fuzzed run may be expected to take.
const MAX_WALL_S: f64 = 0.5;
/// The longest error message (messages cut long values; a longer one echoes something).
const MAX_MESSAGE_BYTES: usize = 4_096;

/// The kinds `pipesim` itself knows: the built-in DES kinds and, with the `wire` feature, the
/// reference wire designs (so the wire scenarios' mutants run through the wire backend).
static OPTIONS: LazyLock<LoadOptions> = LazyLock::new(|| LoadOptions {
    registry: pipesim_cli::default_registry(),
    ..LoadOptions::default()
});

/// Evaluates `text` as the scenario at `path` (whose folder anchors relative files).
pub(crate) fn evaluate(text: &str, path: &Path) -> Outcome {
    let s = match load_str(text, path, &OPTIONS) {
        Ok(s) => s,
        Err(e) => return error_semantics(&e.to_string(), path),
    };
    let short = shortened(&s);
    let e = estimate(&[&short], 1);
    if e.peak_bytes > MAX_BYTES {
        return Outcome::Refused;
    }
    if e.events > MAX_EVENTS || e.wall_s > MAX_WALL_S {
        return Outcome::NotRun;
    }
    let run = match run_scenario(&short, Some(1)) {
        Ok(run) => run,
        Err(e) => return error_semantics(&format!("{}: {e}", path.display()), path),
    };
    let rendered = render(&short, &run, "pipesim-fuzz");
    let view = match ReportView::parse(&rendered.json) {
        Ok(v) => v,
        Err(e) => return Outcome::Violation(format!("the report does not read back: {e}")),
    };
    for m in &view.models {
        match m.decoded_histograms() {
            Ok(hs) => hs.iter().for_each(|(_, h)| drop(hgrm_text(h))),
            Err(e) => return Outcome::Violation(format!("a histogram does not decode: {e}")),
        }
    }
    if let Err(e) = run_charts(&view, ChartFormat::Svg) {
        return Outcome::Violation(format!("a chart cannot be drawn: {e}"));
    }
    Outcome::Ran
}

/// `s` cut to about [`MAX_ARRIVALS`] arrivals, as `pipesim gate`'s probe cuts a run: a shorter
/// duration (faults after it never start), warmup and drain at most half of it and 2 s.
fn shortened(s: &Scenario) -> Scenario {
    let mut short = s.clone();
    let arrivals = s.workload.expected_arrivals();
    if arrivals > MAX_ARRIVALS && s.workload.trace.is_none() {
        let d = ((s.duration_ns as f64) * MAX_ARRIVALS / arrivals).max(1.0) as u64;
        short.duration_ns = d;
        short.workload.duration_ns = d;
        short.warmup_ns = s.warmup_ns.min(d / 2);
    }
    short.drain_ns = s.drain_ns.min(2_000_000_000);
    short
}

/// Whether an error message keeps exit-2 semantics: it names the file and is short.
fn error_semantics(message: &str, path: &Path) -> Outcome {
    let shown = path.display().to_string();
    if message.trim().is_empty() {
        return Outcome::Violation("an empty error message".to_string());
    }
    if !message.contains(&shown) {
        return Outcome::Violation(format!("an error that does not name the file: {message}"));
    }
    if message.len() > MAX_MESSAGE_BYTES {
        let head: String = message.chars().take(200).collect();
        return Outcome::Violation(format!("an error message of {} bytes: {head}…", message.len()));
    }
    Outcome::Rejected
}
