//! `pipesim run`: run scenarios, write reports, print the summary and the perf line.

use crate::args::RunArgs;
use crate::cmd_validate::load_all;
use crate::exit;
use crate::output::{err_line, error, out};
use crate::page_files::write_pages;
use crate::runner::{ModelPerf, command_line, render, report_failure, run_scenario_streaming};
use crate::timeline_csv::TimelineCsv;
use pipesim_models::Registry;
use pipesim_report::charts::ChartFormat;
use pipesim_report::{thousands, write_atomic};
use pipesim_scenario::Scenario;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// An I/O error in words, without "(os error N)".
fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_lowercase()
}

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
        if d.exists() && !d.is_dir() {
            return Err(format!("--out: {} is a file, not a folder", d.display()));
        }
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

pub(crate) fn run(args: RunArgs, registry: &Registry) -> u8 {
    let Some(scenarios) = load_all(&args.common, registry) else {
        return exit::INVALID_INPUT;
    };
    let dirs = match out_dirs(&args, &scenarios) {
        Ok(d) => d,
        Err(e) => {
            error(e);
            return exit::INVALID_INPUT;
        }
    };
    // Create every output folder before the first run, so an unwritable one fails fast.
    for d in &dirs {
        if let Err(e) = std::fs::create_dir_all(d) {
            error(format!("--out: cannot create {}: {}", d.display(), io_reason(&e)));
            return exit::INVALID_INPUT;
        }
    }
    for (s, dir) in scenarios.iter().zip(&dirs) {
        for w in &s.warnings {
            err_line(&format!("warning: {}: {w}", s.path.display()));
        }
        let command = command_line(s, &args.common.set, args.common.models.as_deref());
        let csv = if args.timeline_csv {
            let names: Vec<String> = s.models.iter().map(|m| m.name.clone()).collect();
            match TimelineCsv::create(dir, &names) {
                Ok(c) => Some(c),
                Err(e) => {
                    error(e);
                    return exit::INVALID_INPUT;
                }
            }
        } else {
            None
        };
        let sinks = csv.as_ref().map(TimelineCsv::sinks).unwrap_or_default();
        let streamed =
            run_scenario_streaming(s, args.jobs, crate::progress::wanted(args.quiet), &sinks);
        let run = match streamed {
            Ok(run) => run,
            Err(e) => return report_failure(s, &e, &command),
        };
        // A trace checked at load time but unreadable during the run (changed or removed
        // meanwhile): the results are incomplete, so nothing is written.
        if let Some(e) = s.workload.trace.as_ref().and_then(|t| t.failure()) {
            if let Some(c) = &csv {
                c.abandon();
            }
            error(format!("{}: workload.arrivals.file: {e}", s.path.display()));
            return exit::INVALID_INPUT;
        }
        if let Some(Err(e)) = csv.as_ref().map(TimelineCsv::finish) {
            error(e);
            return exit::INVALID_INPUT;
        }
        let rendered = render(s, &run, &command);
        let perf = PerfFile {
            scenario: &s.name,
            models: &run.perf,
            total_events: run.perf.iter().map(|p| p.events).sum(),
            total_wall_s: run.perf.iter().map(|p| p.wall_s).sum(),
        };
        let perf_json = serde_json::to_string_pretty(&perf).unwrap_or_default() + "\n";
        let written = (|| {
            write_atomic(&dir.join("report.json"), rendered.json.as_bytes())?;
            write_atomic(&dir.join("report.md"), rendered.markdown.as_bytes())?;
            write_atomic(&dir.join("perf.json"), perf_json.as_bytes())
        })();
        if let Err(e) = written {
            error(format!("cannot write the report to {}: {}", dir.display(), io_reason(&e)));
            return exit::INVALID_INPUT;
        }
        let pages =
            write_pages(dir, s, &rendered.json, &rendered.markdown, chart_format(&args.charts));
        if let Err((code, e)) = pages {
            error(e);
            return code;
        }
        out(&rendered.table);
        for p in &run.perf {
            err_line(&perf_line(&s.name, p));
        }
        if !args.quiet {
            err_line(&format!(
                "report: {}  (reproduce: {command})",
                dir.join("report.json").display()
            ));
        }
    }
    exit::SUCCESS
}
