//! `pipesim gate`: run scenarios, check their `[gate]` thresholds, compare every metric with the
//! committed baseline, and exit 3 on a failed threshold or a regression.
//!
//! Everything that can be wrong with the input is checked before the first run: the scenarios,
//! each threshold's metric (on a one-window probe run of every model, so a path into `details`
//! or `phases` is checked against the real report shape), and each baseline report.

use crate::args::GateArgs;
use crate::cmd_run::print_warnings;
use crate::cmd_validate::load_all;
use crate::exit;
use crate::output::{error, out};
use crate::page_files::write_pages;
use crate::runner::{command_line, render, report_failure, run_scenario};
use pipesim_models::Registry;
use pipesim_report::charts::ChartFormat;
use pipesim_report::{
    GateVerdict, REPORT_FOLDER, ReportView, StagedDir, benchmark_json, check_named_file, evaluate,
    gate_text, junit_xml, missing_metrics, write_through,
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
    let text = crate::cmd_compare::read_report_text(&file)?;
    let view = ReportView::parse(&text).map_err(|e| format!("{} {e}", file.display()))?;
    same_scenario(s, &view).map_err(|e| {
        format!(
            "{}: the baseline is of another scenario than {} ({e}): if the change is intended, re-bless it with `pipesim gate {} --baseline {} --bless`",
            file.display(),
            s.path.display(),
            s.path.display(),
            dir.display()
        )
    })?;
    Ok(Some(serde_json::from_str(&text).expect("checked just above")))
}

/// Whether a baseline report was written by the scenario `s` as it is now: the same name, seed,
/// times and models (names and kinds, in order). Parameters may differ: a changed default is
/// what the comparison is for.
fn same_scenario(s: &Scenario, base: &ReportView) -> Result<(), String> {
    let secs = |ns: u64| ns as f64 / 1e9;
    let differs = |what: &str, there: String, here: String| {
        Err(format!("{what} {there} in the baseline, {here} here"))
    };
    if base.scenario != s.name {
        return differs("name", format!("\"{}\"", base.scenario), format!("\"{}\"", s.name));
    }
    if base.seed != s.seed {
        return differs("seed", base.seed.to_string(), s.seed.to_string());
    }
    let times = [
        ("duration", base.duration_s, s.duration_ns),
        ("warmup", base.warmup_s, s.warmup_ns),
        ("window", base.window_s, s.window_ns),
    ];
    for (what, there, here) in times {
        if (there - secs(here)).abs() > 1e-9 * there.abs().max(1.0) {
            return differs(what, format!("{there} s"), format!("{} s", secs(here)));
        }
    }
    let models = |pairs: Vec<(&str, &str)>| {
        pairs.iter().map(|(n, k)| format!("{n} ({k})")).collect::<Vec<_>>().join(", ")
    };
    let there: Vec<(&str, &str)> =
        base.models.iter().map(|m| (m.name.as_str(), m.kind.as_str())).collect();
    let here: Vec<(&str, &str)> = s.models.iter().map(|m| (m.name.as_str(), m.kind)).collect();
    if there != here {
        return differs("models", models(there), models(here));
    }
    Ok(())
}

/// Checks every threshold's metric on a probe run; the errors, one per (threshold, model).
fn check_metrics(s: &Scenario) -> Vec<String> {
    if s.gate.thresholds.is_empty() {
        return Vec::new();
    }
    // A probe whose run fails says nothing about metrics; the real run reports the failure.
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

/// Writes a blessed baseline: the report folder `dir`, replaced whole.
fn bless(dir: &StagedDir, s: &Scenario, json: &str, markdown: &str) -> Result<(), (u8, String)> {
    let io = |e: pipesim_report::OutputError| (exit::INVALID_INPUT, format!("cannot write {e}"));
    dir.write("report.json", json.as_bytes()).map_err(io)?;
    dir.write("report.md", markdown.as_bytes()).map_err(io)?;
    write_pages(dir, s, json, markdown, Some(ChartFormat::Svg))
}

/// `pipesim gate`: every input checked, then each scenario run and judged; the exit code.
pub(crate) fn run(args: GateArgs, registry: &Registry) -> u8 {
    let Some(scenarios) = load_all(&args.common, registry) else {
        return exit::INVALID_INPUT;
    };
    let inputs = match checked_inputs(&args, &scenarios) {
        Ok(inputs) => inputs,
        Err(code) => return code,
    };
    let mut verdicts: Vec<GateVerdict> = Vec::new();
    let mut reports: Vec<(String, Value)> = Vec::new();
    for ((s, base), stage) in scenarios.iter().zip(&inputs.baselines).zip(inputs.staged) {
        match gate_one(&args, s, base.as_ref(), stage) {
            Ok((verdict, report)) => {
                verdicts.push(verdict);
                reports.push((s.name.clone(), report));
            }
            Err(code) => return code,
        }
    }
    if let Err(code) = write_ci_files(&args, &verdicts, &reports) {
        return code;
    }
    print_verdict(&verdicts)
}

/// What the checks before any run give each scenario, in scenario order.
struct GateInputs {
    /// The parsed baseline report (`None` when blessing).
    baselines: Vec<Option<Value>>,
    /// The baseline folder to bless into (`None` when not blessing).
    staged: Vec<Option<StagedDir>>,
}

/// All input problems first, before any run: each scenario's memory estimate, threshold metrics
/// and baseline, the scenario names, the CI output files, and (when blessing) the baseline
/// folders. The error is the exit code, once every problem is printed.
fn checked_inputs(args: &GateArgs, scenarios: &[Scenario]) -> Result<GateInputs, u8> {
    let mut problems = Vec::new();
    let mut baselines = Vec::new();
    for s in scenarios {
        let fits = crate::estimate::check_run(&[s], args.jobs, args.common.max_memory.as_deref());
        if let Err(e) = fits {
            problems.push(format!("{}: {e}", s.path.display()));
            continue;
        }
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
    for (flag, path) in [("--junit", &args.junit), ("--benchmark-json", &args.benchmark_json)] {
        if let Some(Err(e)) = path.as_deref().map(check_named_file) {
            problems.push(format!("{flag}: {e}"));
        }
    }
    // Blessed baselines are report folders, each replaced whole once its run is complete.
    let mut staged = Vec::new();
    if args.bless && problems.is_empty() {
        for s in scenarios {
            match StagedDir::new(&args.baseline.join(&s.name), &REPORT_FOLDER) {
                Ok(d) => staged.push(Some(d)),
                Err(e) => problems.push(format!("--baseline: {e}")),
            }
        }
    }
    if !problems.is_empty() {
        for p in problems {
            error(p);
        }
        return Err(exit::INVALID_INPUT);
    }
    staged.resize_with(scenarios.len(), || None);
    Ok(GateInputs { baselines, staged })
}

/// Runs scenario `s`, prints its verdict against `base` (unless quiet and passed), and blesses
/// `stage` when given. The verdict and the parsed report, or the exit code of a failure already
/// printed.
fn gate_one(
    args: &GateArgs,
    s: &Scenario,
    base: Option<&Value>,
    stage: Option<StagedDir>,
) -> Result<(GateVerdict, Value), u8> {
    print_warnings(s, &s.warnings);
    let command = command_line(s, &args.common.set, args.common.models.as_deref());
    let run = run_scenario(s, args.jobs).map_err(|e| report_failure(s, &e, &command))?;
    print_warnings(s, &run.warnings);
    let rendered = render(s, &run, &command);
    let report: Value = serde_json::from_str(&rendered.json).expect("a rendered report parses");
    let verdict = evaluate(&s.name, &report, base, &s.gate);
    if !args.quiet || !verdict.passed() {
        out(&gate_text(&verdict));
    }
    if let Some(dir) = stage {
        let written = bless(&dir, s, &rendered.json, &rendered.markdown).and_then(|()| {
            dir.commit().map_err(|e| (exit::INVALID_INPUT, format!("cannot replace {e}")))
        });
        if let Err((code, e)) = written {
            error(e);
            return Err(code);
        }
        if !args.quiet {
            out(&format!(
                "  blessed: {}\n",
                args.baseline.join(&s.name).join("report.json").display()
            ));
        }
    }
    Ok((verdict, report))
}

/// Writes the `--junit` and `--benchmark-json` files asked for; the exit code of a failure,
/// already printed.
fn write_ci_files(
    args: &GateArgs,
    verdicts: &[GateVerdict],
    reports: &[(String, Value)],
) -> Result<(), u8> {
    let list: Vec<(&str, &Value)> = reports.iter().map(|(n, r)| (n.as_str(), r)).collect();
    let files = [
        (args.junit.as_ref(), junit_xml(verdicts)),
        (args.benchmark_json.as_ref(), benchmark_json(&list)),
    ];
    for (path, text) in files {
        if let Some(Err(e)) = path.map(|p| write_through(p, text.as_bytes())) {
            error(format!("cannot write {e}"));
            return Err(exit::INVALID_INPUT);
        }
    }
    Ok(())
}

/// Prints the verdict over every scenario and returns its exit code.
fn print_verdict(verdicts: &[GateVerdict]) -> u8 {
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
