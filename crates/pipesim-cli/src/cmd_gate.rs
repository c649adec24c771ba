//! `pipesim gate`: run scenarios, check their `[gate]` thresholds, compare every metric with the
//! committed baseline, and exit 3 on a failed threshold or a regression.
//!
//! Everything that can be wrong with the input is checked before the first run: the scenarios,
//! each threshold's metric (on a one-window probe run of every model, so a path into `details`
//! or `phases` is checked against the real report shape), and each baseline report.

use crate::args::GateArgs;
use crate::cmd_validate::load_all;
use crate::exit;
use crate::output::{err_line, error, out};
use crate::page_files::write_pages;
use crate::runner::{command_line, render, report_failure, run_scenario};
use pipesim_models::Registry;
use pipesim_report::charts::ChartFormat;
use pipesim_report::{
    GateVerdict, ReportView, benchmark_json, evaluate, gate_text, junit_xml, missing_metrics,
    write_atomic,
};
use pipesim_scenario::Scenario;
use serde_json::Value;
use std::path::Path;

/// A one-window run of every model: enough for the report's shape (which metrics exist), not
/// for its numbers.
fn probe(s: &Scenario) -> Result<Value, crate::runner::RunError> {
    let mut short = s.clone();
    short.duration_ns = s.window_ns.min(s.duration_ns);
    short.warmup_ns = 0;
    short.drain_ns = 0;
    let run = run_scenario(&short, Some(1))?;
    let json = render(&short, &run, "probe").json;
    Ok(serde_json::from_str(&json).expect("a rendered report parses"))
}

fn reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_lowercase()
}

/// The baseline report of `s` in `dir`, parsed; `Ok(None)` when blessing and there is none yet.
fn baseline(dir: &Path, s: &Scenario, bless: bool) -> Result<Option<Value>, String> {
    let file = dir.join(&s.name).join("report.json");
    if bless {
        return Ok(None);
    }
    if !file.exists() {
        return Err(format!(
            "{}: no baseline report for scenario \"{}\": expected {} (create it with `pipesim gate {} --baseline {} --bless`)",
            s.path.display(),
            s.name,
            file.display(),
            s.path.display(),
            dir.display()
        ));
    }
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("{}: cannot read: {}", file.display(), reason(&e)))?;
    ReportView::parse(&text).map_err(|e| format!("{} {e}", file.display()))?;
    Ok(Some(serde_json::from_str(&text).expect("checked just above")))
}

/// Checks every threshold's metric on a probe run; the errors, one per (threshold, model).
fn check_metrics(s: &Scenario) -> Vec<String> {
    if s.gate.thresholds.is_empty() {
        return Vec::new();
    }
    // A probe whose service fails says nothing about metrics; the real run reports the failure.
    let Ok(shape) = probe(s) else { return Vec::new() };
    missing_metrics(&shape, &s.gate)
        .into_iter()
        .map(|(t, model)| {
            let scope = t.model.as_ref().map_or("gate".to_string(), |m| format!("gate.model.{m}"));
            format!(
                "{}: {scope}.\"{}\": `{}` is not a metric of model \"{model}\" (see its entry in report.json)",
                s.path.display(),
                t.name,
                t.metric
            )
        })
        .collect()
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    write_atomic(path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {}", path.display(), reason(&e)))
}

pub(crate) fn run(args: GateArgs, registry: &Registry) -> u8 {
    let Some(scenarios) = load_all(&args.common, registry) else {
        return exit::INVALID_INPUT;
    };
    // All input problems first, before any run.
    let mut problems = Vec::new();
    let mut baselines = Vec::new();
    for s in &scenarios {
        problems.extend(check_metrics(s));
        match baseline(&args.baseline, s, args.bless) {
            Ok(b) => baselines.push(b),
            Err(e) => problems.push(e),
        }
    }
    let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
    if let Some(dup) =
        names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)).map(|(_, n)| n)
    {
        problems.push(format!(
            "two scenarios are named \"{dup}\": their baselines would be the same folder"
        ));
    }
    if !problems.is_empty() {
        for p in problems {
            error(p);
        }
        return exit::INVALID_INPUT;
    }

    let mut verdicts: Vec<GateVerdict> = Vec::new();
    let mut reports: Vec<(String, Value)> = Vec::new();
    for (s, base) in scenarios.iter().zip(&baselines) {
        for w in &s.warnings {
            err_line(&format!("warning: {}: {w}", s.path.display()));
        }
        let command = command_line(s, &args.common.set, args.common.models.as_deref());
        let run = match run_scenario(s, args.jobs) {
            Ok(run) => run,
            Err(e) => return report_failure(s, &e, &command),
        };
        let rendered = render(s, &run, &command);
        let report: Value = serde_json::from_str(&rendered.json).expect("a rendered report parses");
        let verdict = evaluate(&s.name, &report, base.as_ref(), &s.gate);
        out(&gate_text(&verdict));
        if args.bless {
            let dir = args.baseline.join(&s.name);
            let written = std::fs::create_dir_all(&dir)
                .map_err(|e| {
                    (
                        exit::INVALID_INPUT,
                        format!("cannot create {}: {}", dir.display(), reason(&e)),
                    )
                })
                .and_then(|()| {
                    write_file(&dir.join("report.json"), &rendered.json)
                        .map_err(|e| (exit::INVALID_INPUT, e))
                })
                .and_then(|()| {
                    write_file(&dir.join("report.md"), &rendered.markdown)
                        .map_err(|e| (exit::INVALID_INPUT, e))
                })
                .and_then(|()| {
                    write_pages(&dir, s, &rendered.json, &rendered.markdown, Some(ChartFormat::Svg))
                });
            if let Err((code, e)) = written {
                error(e);
                return code;
            }
            out(&format!("  blessed: {}\n", dir.join("report.json").display()));
        }
        verdicts.push(verdict);
        reports.push((s.name.clone(), report));
    }
    let list: Vec<(&str, &Value)> = reports.iter().map(|(n, r)| (n.as_str(), r)).collect();
    let files = [
        (args.junit.as_ref(), junit_xml(&verdicts)),
        (args.benchmark_json.as_ref(), benchmark_json(&list)),
    ];
    for (path, text) in files {
        if let Some(Err(e)) = path.map(|p| write_file(p, &text)) {
            error(e);
            return exit::INVALID_INPUT;
        }
    }
    let failed: Vec<&str> =
        verdicts.iter().filter(|v| !v.passed()).map(|v| v.scenario.as_str()).collect();
    if failed.is_empty() {
        out(&format!(
            "gate passed: {} scenario{}\n",
            verdicts.len(),
            if verdicts.len() == 1 { "" } else { "s" }
        ));
        exit::SUCCESS
    } else {
        out(&format!(
            "gate FAILED: {} (a threshold failed or a metric moved beyond its tolerance; if the change is intended, re-run with --bless and commit the baselines)\n",
            failed.join(", ")
        ));
        exit::GATE_FAILED
    }
}
