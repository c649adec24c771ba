//! Running a scenario's models, in parallel across models, and turning results into reports.

use pipesim_metrics::WindowSink;
use pipesim_models::{ModelOutcome, RunFailure, RunProgress, RunSettings};
use pipesim_report::{ModelRun, RunReport, report_json, report_markdown, summary_table};
use pipesim_scenario::Scenario;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// How fast one model's run went (wall clock: never in report.json).
#[derive(Clone, Debug, Serialize)]
pub struct ModelPerf {
    /// The model.
    pub model: String,
    /// Events the engine processed.
    pub events: u64,
    /// Wall-clock seconds of the run.
    pub wall_s: f64,
    /// Events per wall-clock second.
    pub events_per_s: f64,
    /// Simulated seconds.
    pub simulated_s: f64,
    /// Simulated seconds per wall-clock second.
    pub real_time_factor: f64,
}

/// The results of every model of a scenario, in scenario order, with their speed.
pub struct ScenarioRun {
    /// One outcome per model.
    pub outcomes: Vec<ModelOutcome>,
    /// One perf record per model.
    pub perf: Vec<ModelPerf>,
    /// What the run found worth a warning (a model with no measured event), for stderr and
    /// report.json's `warnings`.
    pub warnings: Vec<String>,
}

impl ScenarioRun {
    /// A run of `outcomes`, with the warnings they call for and no perf records.
    pub fn of(outcomes: Vec<ModelOutcome>, s: &Scenario) -> Self {
        let warnings = run_warnings(s, &outcomes);
        Self { outcomes, perf: Vec::new(), warnings }
    }
}

/// Warnings about results that look like figures but measure nothing: a model none of whose
/// measured events (created in `[warmup, duration)`) became visible reports latency 0.
fn run_warnings(s: &Scenario, outcomes: &[ModelOutcome]) -> Vec<String> {
    let interval = format!(
        "[{}, {})",
        pipesim_engine::format_duration_ns(s.warmup_ns),
        pipesim_engine::format_duration_ns(s.duration_ns)
    );
    s.models
        .iter()
        .zip(outcomes)
        .filter_map(|(m, o)| {
            let t = &o.results.throughput;
            if t.offered == 0 {
                Some(format!(
                    "model {}: no event was created in the measured interval {interval}: its latency and throughput figures are empty (0), not measured; shorten the warmup or lengthen the run",
                    m.name
                ))
            } else if o.results.e2e.count() == 0 {
                Some(format!(
                    "model {}: none of the {} events created in the measured interval {interval} became visible: its end-to-end latency figures are empty (0), not measured",
                    m.name, t.offered
                ))
            } else {
                None
            }
        })
        .chain(s.models.iter().zip(outcomes).flat_map(|(m, o)| {
            o.notes.iter().map(move |n| format!("model {}: {n}", m.name))
        }))
        .collect()
}

/// A model whose run failed (code under test panicked, say): no report can be made.
#[derive(Clone, Debug)]
pub struct RunError {
    /// The model's name.
    pub model: String,
    /// What happened.
    pub failure: RunFailure,
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "model {}: {}", self.model, self.failure)
    }
}

impl std::error::Error for RunError {}

impl RunError {
    /// The exit code the failure calls for: a trace that changed under the run is bad input
    /// (2), code under test that failed is 4, a backend that could not run is internal (1).
    pub fn exit_code(&self) -> u8 {
        match self.failure {
            RunFailure::Trace(_) => crate::exit::INVALID_INPUT,
            RunFailure::Service { .. } => crate::exit::SERVICE_FAILED,
            RunFailure::Backend { .. } => crate::exit::INTERNAL,
        }
    }
}

/// Prints a failed run (what failed, where, when, the seed and the command that reproduces it)
/// and returns its exit code ([`RunError::exit_code`]).
pub(crate) fn report_failure(s: &Scenario, e: &RunError, command: &str) -> u8 {
    crate::output::error(format!("{}: {e}", s.path.display()));
    crate::output::err_line(&format!("  seed {}; reproduce: {command}", s.seed));
    e.exit_code()
}

/// The run settings of a scenario.
pub fn settings(s: &Scenario) -> RunSettings {
    RunSettings {
        seed: s.seed,
        duration_ns: s.duration_ns,
        warmup_ns: s.warmup_ns,
        drain_ns: s.drain_ns,
        window_ns: s.window_ns,
        progress: None,
        log_visibility: false,
        timeline_sink: None,
    }
}

/// Runs every model of `s`, on up to `jobs` threads (default: all cores). Each model runs on
/// one thread over the same arrival trace; results do not depend on the thread count. The
/// first model in scenario order whose run failed is the error.
pub fn run_scenario(s: &Scenario, jobs: Option<usize>) -> Result<ScenarioRun, RunError> {
    run_scenario_with(s, jobs, false)
}

/// [`run_scenario`], drawing progress on stderr when `show_progress` (see `progress.rs`).
pub(crate) fn run_scenario_with(
    s: &Scenario,
    jobs: Option<usize>,
    show_progress: bool,
) -> Result<ScenarioRun, RunError> {
    run_scenario_streaming(s, jobs, show_progress, &[])
}

/// [`run_scenario_with`], each model's timeline windows also going to its sink in `sinks`
/// (scenario order; missing or `None`: none).
pub(crate) fn run_scenario_streaming(
    s: &Scenario,
    jobs: Option<usize>,
    show_progress: bool,
    sinks: &[Option<Arc<dyn WindowSink>>],
) -> Result<ScenarioRun, RunError> {
    let base = settings(s);
    let sink = |i: usize| sinks.get(i).cloned().flatten();
    let cells: Vec<Arc<RunProgress>> =
        s.models.iter().map(|_| Arc::new(RunProgress::new())).collect();
    let display = show_progress.then(|| {
        let runs = s.models.iter().map(|m| m.name.clone()).zip(cells.iter().cloned()).collect();
        crate::progress::Display::start(runs, s.duration_ns.saturating_add(s.drain_ns))
    });
    let one = |(i, (m, cell)): (usize, (&pipesim_models::ModelSpec, &Arc<RunProgress>))| {
        let settings = RunSettings {
            progress: show_progress.then(|| Arc::clone(cell)),
            timeline_sink: sink(i),
            ..base.clone()
        };
        // Wall time is measured here, outside the simulation, for the perf line only.
        #[allow(clippy::disallowed_methods)]
        let start = std::time::Instant::now();
        let outcome = m.run(&settings, &s.workload, &s.faults);
        (outcome, start.elapsed())
    };
    let threads =
        jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    type Timed = (Result<ModelOutcome, RunFailure>, Duration);
    let results: Vec<Timed> = if threads == 1 || s.models.len() == 1 {
        s.models.iter().zip(&cells).enumerate().map(one).collect()
    } else {
        use rayon::prelude::*;
        match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => {
                pool.install(|| s.models.par_iter().zip(&cells).enumerate().map(one).collect())
            }
            Err(_) => s.models.iter().zip(&cells).enumerate().map(one).collect(),
        }
    };
    if let Some(d) = display {
        d.stop();
    }
    let mut outcomes = Vec::with_capacity(results.len());
    let mut perf = Vec::with_capacity(results.len());
    for (m, (outcome, wall)) in s.models.iter().zip(results) {
        let outcome = outcome.map_err(|failure| RunError { model: m.name.clone(), failure })?;
        let wall_s = wall.as_secs_f64().max(1e-9);
        let events = outcome.results.events_simulated;
        let simulated_s = outcome.results.end_ns as f64 / 1e9;
        perf.push(ModelPerf {
            model: m.name.clone(),
            events,
            wall_s,
            events_per_s: events as f64 / wall_s,
            simulated_s,
            real_time_factor: simulated_s / wall_s,
        });
        outcomes.push(outcome);
    }
    let warnings = run_warnings(s, &outcomes);
    Ok(ScenarioRun { outcomes, perf, warnings })
}

/// The rendered reports of a run.
pub struct Rendered {
    /// report.json.
    pub json: String,
    /// report.md.
    pub markdown: String,
    /// The stdout summary.
    pub table: String,
}

/// Renders the reports of `run` of `s`, stating `command` as the way to reproduce them.
pub fn render(s: &Scenario, run: &ScenarioRun, command: &str) -> Rendered {
    let with_warnings;
    let s = if run.warnings.is_empty() {
        s
    } else {
        with_warnings =
            Scenario { warnings: [s.warnings.clone(), run.warnings.clone()].concat(), ..s.clone() };
        &with_warnings
    };
    let report = RunReport {
        scenario: s,
        command: command.to_string(),
        models: s
            .models
            .iter()
            .zip(&run.outcomes)
            .map(|(spec, outcome)| ModelRun { spec, outcome })
            .collect(),
    };
    Rendered {
        json: report_json(&report),
        markdown: report_markdown(&report),
        table: summary_table(&report),
    }
}

/// The command that reproduces a run: the scenario path as given, the seed, and any overrides
/// and model selection (never output or thread flags, which do not change results).
pub fn command_line(s: &Scenario, sets: &[String], models: Option<&[String]>) -> String {
    let mut parts =
        vec!["pipesim".to_string(), "run".to_string(), shell_quote(&s.path.to_string_lossy())];
    parts.push(format!("--seed {}", s.seed));
    for set in sets {
        parts.push(format!("--set {}", shell_quote(set)));
    }
    if let Some(models) = models {
        parts.push(format!("--models {}", shell_quote(&models.join(","))));
    }
    parts.join(" ")
}

/// Quotes `s` for a POSIX shell when it holds anything but plain characters.
fn shell_quote(s: &str) -> String {
    let plain =
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c));
    if plain { s.to_string() } else { format!("'{}'", s.replace('\'', "'\\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(shell_quote("scenarios/a.toml"), "scenarios/a.toml");
        assert_eq!(shell_quote("workload.rate=500k/s"), "workload.rate=500k/s");
        assert_eq!(shell_quote("model[0].x=1"), "'model[0].x=1'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
