//! The run estimate: before anything runs, the events, peak memory and wall time of a run (or
//! of a sweep's points), a one-line notice for runs that are long or large, and `--max-memory`,
//! which turns the estimate into a refusal (exit 2) naming the parameter to lower.
//!
//! Models run in parallel on `jobs` threads. While a model runs it holds its whole estimate;
//! once finished it keeps its results (timeline and histograms) until the report is written.
//! So the peak is the process's base, plus what every model keeps, plus the running state of
//! the `jobs` largest models at once, plus the report being rendered (report.json as text and
//! parsed back for the charts: about a kilobyte a timeline row). Wall time is the longest of
//! the largest model alone and the total divided by the threads.

use pipesim_config::limits::grouped;
use pipesim_config::{format_size, parse_size_bytes};
use pipesim_models::{MemoryItem, ModelEstimate};
use pipesim_scenario::Scenario;

/// The process before any model: the binary, the allocator, thread stacks, the scenario.
const BASE_BYTES: u64 = 8 << 20;
/// A run expected to take longer than this many wall seconds gets the notice.
const NOTICE_WALL_S: f64 = 60.0;
/// A run expected to use more than this much memory gets the notice.
const NOTICE_BYTES: u64 = 1 << 30;
/// `--max-memory` where the machine's memory cannot be read.
const FALLBACK_MAX_BYTES: u64 = 16 << 30;

/// What a run (every model of a scenario, or every point of a sweep) is expected to cost.
#[derive(Clone, Debug)]
pub struct RunEstimate {
    /// Each model run, with the scenario (or sweep point) it belongs to.
    pub runs: Vec<(String, ModelEstimate)>,
    /// Threads the runs share.
    pub threads: usize,
    /// Expected peak resident memory of the process.
    pub peak_bytes: u64,
    /// Expected wall seconds.
    pub wall_s: f64,
    /// Expected engine events, all runs together.
    pub events: f64,
}

/// The threads `jobs` asks for (default: every core).
pub(crate) fn threads(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
}

/// The estimate of running every model of every scenario in `scenarios` on `threads` threads
/// (one scenario: a run; several: the points of a sweep).
pub fn estimate(scenarios: &[&Scenario], threads: usize) -> RunEstimate {
    let mut runs = Vec::new();
    for s in scenarios {
        let settings = crate::runner::settings(s);
        for m in &s.models {
            runs.push((s.name.clone(), m.estimate(&settings, &s.workload, &s.faults)));
        }
    }
    let kept: u64 = runs.iter().map(|(_, e)| e.kept_bytes).sum();
    let mut running: Vec<u64> =
        runs.iter().map(|(_, e)| e.bytes().saturating_sub(e.kept_bytes)).collect();
    running.sort_unstable_by(|a, b| b.cmp(a));
    let at_once: u64 = running.iter().take(threads).sum();
    // A sweep renders one point's report at a time; a run renders its scenario's.
    let render = if scenarios.len() == 1 {
        runs.iter().map(|(_, e)| e.report_bytes).sum()
    } else {
        runs.iter().map(|(_, e)| e.report_bytes).max().unwrap_or(0)
    };
    let peak_bytes = BASE_BYTES + kept + at_once + render;
    let longest = runs.iter().map(|(_, e)| e.wall_s).fold(0.0, f64::max);
    let total: f64 = runs.iter().map(|(_, e)| e.wall_s).sum();
    RunEstimate {
        threads,
        peak_bytes,
        wall_s: longest.max(total / threads as f64),
        events: runs.iter().map(|(_, e)| e.events).sum(),
        runs,
    }
}

impl RunEstimate {
    /// Whether the run is long or large enough to say so before it starts.
    pub fn worth_a_notice(&self) -> bool {
        self.wall_s > NOTICE_WALL_S || self.peak_bytes > NOTICE_BYTES
    }

    /// The largest memory item of any model, with its model and scenario.
    fn largest(&self) -> Option<(&str, &str, &MemoryItem)> {
        self.runs
            .iter()
            .flat_map(|(s, e)| e.items.iter().map(move |i| (s.as_str(), e.model.as_str(), i)))
            .max_by_key(|(_, _, i)| i.bytes)
    }

    /// One line: events, memory, time, and the largest part.
    pub fn line(&self) -> String {
        let runs = self.runs.len();
        let mut line = format!(
            "estimate: {runs} model run{}, {} events, peak memory about {}, about {} on {} thread{}",
            if runs == 1 { "" } else { "s" },
            count_words(self.events),
            size_words(self.peak_bytes),
            time_words(self.wall_s),
            self.threads,
            if self.threads == 1 { "" } else { "s" }
        );
        if let Some((_, model, item)) = self.largest() {
            line.push_str(&format!(
                " (largest part: model {model}, {}: {})",
                item.what,
                size_words(item.bytes)
            ));
        }
        line
    }

    /// One line per model run: its events, memory and time on one core.
    pub fn model_lines(&self) -> Vec<String> {
        self.runs
            .iter()
            .map(|(_, e)| {
                let mut line = format!(
                    "model {}: {} events, about {} while it runs, {} after, {} on one core",
                    e.model,
                    count_words(e.events),
                    size_words(e.bytes()),
                    size_words(e.kept_bytes),
                    time_words(e.wall_s)
                );
                if let Some(i) = e.items.first() {
                    line.push_str(&format!(" (largest: {}, {})", i.what, size_words(i.bytes)));
                }
                line
            })
            .collect()
    }

    /// `Err` with the message of a refusal when the peak is above `max_bytes`.
    pub fn check(&self, max_bytes: u64) -> Result<(), String> {
        if self.peak_bytes <= max_bytes {
            return Ok(());
        }
        let mut msg = format!(
            "the run would need about {} of memory, more than --max-memory {} allows",
            size_words(self.peak_bytes),
            size_words(max_bytes)
        );
        if let Some((_, model, item)) = self.largest() {
            let param = if item.in_model {
                format!("model[{model}].{}", item.param)
            } else {
                item.param.clone()
            };
            msg.push_str(&format!(
                ": the largest part is model {model}'s {} ({}); lower `{param}`",
                item.what,
                size_words(item.bytes)
            ));
        }
        msg.push_str(", run fewer models at once (--jobs), or raise --max-memory");
        Err(msg)
    }
}

/// The `--max-memory` in force: the flag's, or three quarters of the machine's memory.
pub(crate) fn max_memory(flag: Option<&str>) -> Result<u64, String> {
    match flag {
        Some(text) => parse_size_bytes(text).map_err(|e| format!("--max-memory: {e}")),
        None => Ok(machine_memory().map_or(FALLBACK_MAX_BYTES, |b| b / 4 * 3)),
    }
}

/// Physical memory (MemTotal of /proc/meminfo), where it can be read.
fn machine_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Checks `scenarios` (a run's, or a sweep's points) against `--max-memory` and prints the
/// estimate if it is worth it; the error is the refusal's message.
pub(crate) fn check_run(
    scenarios: &[&Scenario],
    jobs: Option<usize>,
    flag: Option<&str>,
) -> Result<RunEstimate, String> {
    let max = max_memory(flag)?;
    let e = estimate(scenarios, threads(jobs));
    e.check(max)?;
    if e.worth_a_notice() {
        crate::output::err_line(&e.line());
    }
    Ok(e)
}

/// "3.4 GiB", "120 MiB", "512 KiB"; exact sizes as the scenario writes them ("4GiB").
fn size_words(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        n if n >= 1 << 30 && !n.is_multiple_of(1 << 30) => {
            format!("{:.1} GiB", b / (1u64 << 30) as f64)
        }
        n if (1 << 20..1 << 30).contains(&n) => format!("{:.0} MiB", b / (1u64 << 20) as f64),
        n if (1 << 10..1 << 20).contains(&n) => format!("{:.0} KiB", b / 1024.0),
        n => format_size(n),
    }
}

/// "1.2 G", "35 M", "12,000".
fn count_words(n: f64) -> String {
    match n {
        n if n >= 1e9 => format!("{:.1} G", n / 1e9),
        n if n >= 1e6 => format!("{:.1} M", n / 1e6),
        n => grouped(n.max(0.0) as u64),
    }
}

/// "40 s", "6 min", "3.5 h".
fn time_words(s: f64) -> String {
    match s {
        s if s >= 7200.0 => format!("{:.1} h", s / 3600.0),
        s if s >= 120.0 => format!("{:.0} min", s / 60.0),
        s if s >= 1.0 => format!("{s:.0} s"),
        _ => "under a second".to_string(),
    }
}
