//! `pipesim run`: run scenarios, write reports, print the summary and the perf line.

use crate::args::RunArgs;
use crate::cmd_validate::load_all;
use crate::exit;
use crate::output::{err_line, error, out};
use crate::page_files::write_pages;
use crate::runner::{
    ModelPerf, Rendered, command_line, render, report_failure, run_scenario_streaming,
};
use crate::timeline_csv::TimelineCsv;
use pipesim_models::Registry;
use pipesim_report::charts::ChartFormat;
use pipesim_report::{REPORT_FOLDER, StagedDir, thousands};
use pipesim_scenario::Scenario;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Serialize)]
struct PerfFile<'a> {
    scenario: &'a str,
    models: &'a [ModelPerf],
    total_events: u64,
    total_wall_s: f64,
}

/// Where each scenario's reports go.
fn out_dirs(args: &RunArgs, scenarios: &[Scenario]) -> Result<Vec<PathBuf>, String> {
    let dirs: Vec<PathBuf> = match (&args.out, scenarios.len()) {
        (Some(dir), 1) => vec![dir.clone()],
        (Some(dir), _) => scenarios.iter().map(|s| dir.join(&s.name)).collect(),
        (None, _) => scenarios.iter().map(|s| Path::new("reports").join(&s.name)).collect(),
    };
    for (i, d) in dirs.iter().enumerate() {
        if let Some(j) = dirs[..i].iter().position(|e| e == d) {
            return Err(format!(
                "{} and {} would both write to {}: give them different names",
                scenarios[j].path.display(),
                scenarios[i].path.display(),
                d.display()
            ));
        }
    }
    Ok(dirs)
}

fn perf_line(scenario: &str, p: &ModelPerf) -> String {
    format!(
        "perf: {scenario}/{}: {} events in {:.3} s wall = {:.2} M events/s; {:.3} s simulated, real-time factor {:.2}",
        p.model,
        thousands(p.events),
        p.wall_s,
        p.events_per_s / 1e6,
        p.simulated_s,
        p.real_time_factor
    )
}

/// The chart format `--charts` names (`None`: no charts and no page).
fn chart_format(flag: &str) -> Option<ChartFormat> {
    match flag {
        "png" => Some(ChartFormat::Png),
        "none" => None,
        _ => Some(ChartFormat::Svg),
    }
}

/// Prints `message` as an error and returns `code`: for a failure reported where it happens.
fn reported(code: u8, message: impl std::fmt::Display) -> u8 {
    error(message);
    code
}

/// Prints each of `warnings` about scenario `s` on stderr.
pub(crate) fn print_warnings(s: &Scenario, warnings: &[String]) {
    for w in warnings {
        err_line(&format!("warning: {}: {w}", s.path.display()));
    }
}

/// `pipesim run`: every scenario checked and its folder staged, then each run in turn; the exit code.
pub(crate) fn run(args: RunArgs, registry: &Registry) -> u8 {
    let Some(scenarios) = load_all(&args.common, registry) else {
        return exit::INVALID_INPUT;
    };
    // Each scenario's models run together: each must fit on its own, before anything runs.
    for s in &scenarios {
        if let Err(e) =
            crate::estimate::check_run(&[s], args.jobs, args.common.max_memory.as_deref())
        {
            return reported(exit::INVALID_INPUT, format!("{}: {e}", s.path.display()));
        }
    }
    let dirs = match out_dirs(&args, &scenarios) {
        Ok(d) => d,
        Err(e) => return reported(exit::INVALID_INPUT, e),
    };
    let staged = match stage_all(&dirs) {
        Ok(staged) => staged,
        Err(code) => return code,
    };
    for ((s, dir), stage) in scenarios.iter().zip(&dirs).zip(staged) {
        if let Err(code) = run_one(&args, registry, s, dir, stage) {
            return code;
        }
    }
    exit::SUCCESS
}

/// Stages every output folder before the first run, so a folder pipesim may not replace, or
/// cannot write beside, fails before anything runs. Each is swapped in whole once complete.
fn stage_all(dirs: &[PathBuf]) -> Result<Vec<StagedDir>, u8> {
    let mut staged = Vec::with_capacity(dirs.len());
    for d in dirs {
        match StagedDir::new(d, &REPORT_FOLDER) {
            Ok(stage) => staged.push(stage),
            Err(e) => return Err(reported(exit::INVALID_INPUT, format!("--out: {e}"))),
        }
    }
    Ok(staged)
}

/// Runs scenario `s` into `stage`, swaps it in at `dir`, and prints the summary table, the
/// perf lines and where the report is. The error is the exit code of a failure already printed.
fn run_one(
    args: &RunArgs,
    registry: &Registry,
    s: &Scenario,
    dir: &Path,
    stage: StagedDir,
) -> Result<(), u8> {
    print_warnings(s, &s.warnings);
    let command = command_line(s, &args.common.set, args.common.models.as_deref());
    let csv = if args.timeline_csv {
        let names: Vec<String> = s.models.iter().map(|m| m.name.clone()).collect();
        let created = TimelineCsv::create(stage.path(), stage.shown(), &names);
        Some(created.map_err(|e| reported(exit::INVALID_INPUT, e))?)
    } else {
        None
    };
    let sinks = csv.as_ref().map(TimelineCsv::sinks).unwrap_or_default();
    let streamed =
        run_scenario_streaming(s, args.jobs, crate::progress::wanted(args.quiet), &sinks);
    // The results are incomplete: nothing is written (the staging folder, CSV files
    // included, is removed when `stage` drops).
    let run = streamed.map_err(|e| report_failure(s, &e, &command))?;
    print_warnings(s, &run.warnings);
    if args.check_determinism
        && let Err(e) = crate::determinism::check(s, &run, args.jobs, registry)
    {
        return Err(reported(e.code, e.message));
    }
    if let Some(Err(e)) = csv.as_ref().map(TimelineCsv::finish) {
        return Err(reported(exit::INVALID_INPUT, e));
    }
    let rendered = render(s, &run, &command);
    write_report(stage, s, &rendered, &run.perf, chart_format(&args.charts))
        .map_err(|(code, e)| reported(code, e))?;
    out(&rendered.table);
    for p in &run.perf {
        err_line(&perf_line(&s.name, p));
    }
    if !args.quiet {
        err_line(&format!("report: {}  (reproduce: {command})", dir.join("report.json").display()));
    }
    Ok(())
}

/// Writes report.json, report.md, perf.json and the pages (`charts`: their format) into
/// `stage`, then swaps it in.
fn write_report(
    stage: StagedDir,
    s: &Scenario,
    rendered: &Rendered,
    perf: &[ModelPerf],
    charts: Option<ChartFormat>,
) -> Result<(), (u8, String)> {
    let perf_file = PerfFile {
        scenario: &s.name,
        models: perf,
        total_events: perf.iter().map(|p| p.events).sum(),
        total_wall_s: perf.iter().map(|p| p.wall_s).sum(),
    };
    let perf_json = serde_json::to_string_pretty(&perf_file).unwrap_or_default() + "\n";
    [
        ("report.json", rendered.json.as_bytes()),
        ("report.md", rendered.markdown.as_bytes()),
        ("perf.json", perf_json.as_bytes()),
    ]
    .into_iter()
    .try_for_each(|(name, bytes)| stage.write(name, bytes))
    .map_err(|e| (exit::INVALID_INPUT, format!("cannot write {e}")))
    .and_then(|()| write_pages(&stage, s, &rendered.json, &rendered.markdown, charts))
    .and_then(|()| stage.commit().map_err(|e| (exit::INVALID_INPUT, format!("cannot replace {e}"))))
}
