//! `pipesim sweep` and `pipesim merge`: every point of a `[sweep]` (or one share of them, for
//! running across machines), statistics across seeds, and the highest rate that meets an SLO.

mod max_rate;
mod merge;
mod partition;
mod results;

use crate::args::{MergeArgs, SweepArgs};
use crate::cmd_validate::load_options;
use crate::exit;
use crate::output::{error, out};
use crate::page_files::write_charts;
use crate::runner::{RunError, settings};
use merge::PartFile;
use partition::Partition;
use pipesim_models::{ModelOutcome, Registry};
use pipesim_report::charts::{ChartFormat, ChartSet};
use pipesim_report::{
    FolderKind, ModelRun, RunReport, SWEEP_FOLDER, StagedDir, report_json, write_atomic,
};
use pipesim_scenario::sweep::SweepPoint;
use pipesim_scenario::{LoadOptions, Override, Scenario, load};
use results::{ModelResult, PointResult, SweepMeta, model_results, sweep_files};
use std::path::{Path, PathBuf};

/// FNV-1a, 64 bits: a stable hash (std's hasher may change between Rust versions).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_lowercase()
}

/// The scenario of one point: the file with the point's values set and its seed.
fn point_scenario(path: &Path, base: &LoadOptions, p: &SweepPoint) -> Result<Scenario, String> {
    let mut opts = base.clone();
    for o in p.overrides() {
        opts.overrides.push(
            Override::parse(&o).map_err(|e| format!("point {} ({}): {e}", p.index, p.label()))?,
        );
    }
    opts.seed = Some(p.seed);
    load(path, &opts).map_err(|e| format!("point {} ({}): {e}", p.index, p.label()))
}

/// Runs the models of `scenarios` (one per point) as one flat list of (point, model) tasks on
/// `jobs` threads, so two cores stay busy whatever the number of models per point.
///
/// Tasks are handed out longest first (by expected arrivals: rate × duration), from a shared
/// counter, so the last tasks to finish are short ones and no core idles long at the end (the
/// greedy LPT schedule). Results are stored by task index, so they do not depend on the thread
/// count or on which thread ran what.
pub fn run_points(
    scenarios: &[&Scenario],
    jobs: Option<usize>,
) -> Result<Vec<Vec<ModelOutcome>>, RunError> {
    run_points_reduced(scenarios, jobs, |_, _, o| o)
}

/// [`run_points`], each task's outcome reduced by `reduce(point, model, outcome)` on the
/// worker that ran it, as soon as it finishes: a sweep keeps a few numbers per task, never a
/// timeline or a report, and the reduction (rendering) runs on every core. The first failed
/// task, in task order, is the error.
pub fn run_points_reduced<R: Send>(
    scenarios: &[&Scenario],
    jobs: Option<usize>,
    reduce: impl Fn(usize, usize, ModelOutcome) -> R + Sync,
) -> Result<Vec<Vec<R>>, RunError> {
    let tasks: Vec<(usize, usize)> = scenarios
        .iter()
        .enumerate()
        .flat_map(|(p, s)| (0..s.models.len()).map(move |m| (p, m)))
        .collect();
    let one = |(p, m): (usize, usize)| {
        let s = scenarios[p];
        let outcome = s.models[m]
            .run(&settings(s), &s.workload, &s.faults)
            .map_err(|failure| RunError { model: s.models[m].name.clone(), failure })?;
        Ok(reduce(p, m, outcome))
    };
    let threads =
        jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let mut outcomes: Vec<Option<Result<R, RunError>>> = tasks.iter().map(|_| None).collect();
    if threads == 1 || tasks.len() < 2 {
        for (slot, &t) in outcomes.iter_mut().zip(&tasks) {
            *slot = Some(one(t));
        }
    } else {
        let cost = |&(p, _): &(usize, usize)| {
            let s = scenarios[p];
            s.workload.rate_per_s * (s.duration_ns as f64 / 1e9)
        };
        let mut order: Vec<usize> = (0..tasks.len()).collect();
        // Stable: equal costs keep task order.
        order.sort_by(|&a, &b| cost(&tasks[b]).total_cmp(&cost(&tasks[a])));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let done = std::sync::Mutex::new(&mut outcomes);
        std::thread::scope(|scope| {
            for _ in 0..threads.min(tasks.len()) {
                scope.spawn(|| {
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&i) = order.get(k) else { break };
                        let o = one(tasks[i]);
                        done.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(o);
                    }
                });
            }
        });
    }
    let mut grouped: Vec<Vec<R>> = scenarios.iter().map(|_| Vec::new()).collect();
    for ((p, _), o) in tasks.iter().zip(outcomes) {
        grouped[*p].push(o.expect("every task ran")?);
    }
    Ok(grouped)
}

/// What a sweep keeps of one model's run at one point: its report.json entry's metrics and
/// end-to-end histogram (report.json rendered for that model alone: no Markdown, no table).
pub(crate) fn model_result(s: &Scenario, model: usize, outcome: &ModelOutcome) -> ModelResult {
    let json = one_model_json(s, model, outcome, "sweep point");
    model_results(&json).pop().expect("a report of one model has one entry")
}

/// report.json of `s` with only model `model` in it (its entry is the same as in the whole
/// report: an entry depends on its own model alone).
pub(crate) fn one_model_json(
    s: &Scenario,
    model: usize,
    outcome: &ModelOutcome,
    command: &str,
) -> String {
    let report = RunReport {
        scenario: s,
        command: command.to_string(),
        models: vec![ModelRun { spec: &s.models[model], outcome }],
    };
    report_json(&report)
}

/// A point's results from its models' results.
fn point_result(p: &SweepPoint, models: Vec<ModelResult>) -> PointResult {
    PointResult {
        index: p.index,
        combination: p.combination,
        values: p.values.clone(),
        seed: p.seed,
        models,
    }
}

fn format_of(flag: &str) -> ChartFormat {
    if flag == "png" { ChartFormat::Png } else { ChartFormat::Svg }
}

/// Writes sweep.json, sweep.md and charts/ into `dir` (swapped in whole), and prints the
/// Markdown unless `quiet`.
fn write_sweep(
    dir: StagedDir,
    meta: &SweepMeta,
    points: &[PointResult],
    format: ChartFormat,
    quiet: bool,
) -> Result<(), (u8, String)> {
    let files = sweep_files(meta, points, format).map_err(|e| (exit::INTERNAL, e))?;
    let io = |e: String| (exit::INVALID_INPUT, e);
    for (name, text) in [("sweep.json", &files.json), ("sweep.md", &files.markdown)] {
        dir.write(name, text.as_bytes()).map_err(|e| io(format!("cannot write {e}")))?;
    }
    write_charts(&dir, &ChartSet { charts: vec![files.chart] }).map_err(io)?;
    dir.commit().map_err(|e| io(format!("cannot replace {e}")))?;
    if !quiet {
        out(&files.markdown);
    }
    Ok(())
}

/// The staged output folder `dir` of `kind`, checked before anything runs.
pub(super) fn stage(dir: &Path, kind: &FolderKind) -> Result<StagedDir, (u8, String)> {
    StagedDir::new(dir, kind).map_err(|e| (exit::INVALID_INPUT, format!("--out: {e}")))
}

pub(crate) fn run(args: SweepArgs, registry: &Registry) -> u8 {
    match sweep(&args, registry) {
        Ok(()) => exit::SUCCESS,
        Err((code, e)) => {
            error(e);
            code
        }
    }
}

/// A point whose run failed: the sweep has no result for it.
fn failed(e: RunError) -> (u8, String) {
    (exit::SERVICE_FAILED, format!("a sweep point failed: {e}"))
}

/// Loads the scenario and runs its grid of points, or, with `--find-max-rate`, its search.
fn sweep(args: &SweepArgs, registry: &Registry) -> Result<(), (u8, String)> {
    let bad = |e: String| (exit::INVALID_INPUT, e);
    let partition = args
        .partition
        .as_deref()
        .map(Partition::parse)
        .transpose()
        .map_err(|e| bad(format!("--partition: {e}")))?;
    let common = crate::args::CommonArgs {
        scenarios: vec![args.scenario.clone()],
        seed: None,
        set: Vec::new(),
        models: args.models.clone(),
        max_memory: None,
    };
    let base = load_options(&common, registry).map_err(bad)?;
    let s = load(&args.scenario, &base).map_err(|e| bad(e.to_string()))?;
    if args.find_max_rate {
        return max_rate::find(args, &s, &base);
    }
    if args.slo.is_some() {
        return Err(bad("--slo goes with --find-max-rate".to_string()));
    }
    if s.sweep.is_empty() {
        return Err(bad(format!(
            "{}: nothing to sweep: add a [sweep] table with parameters (\"workload.rate\" = [\"100k/s\", \"200k/s\"]) or seeds = N (N ≥ 2)",
            args.scenario.display()
        )));
    }
    grid(args, &s, &base, partition)
}

/// Runs every point of the `[sweep]` of `s` (or `partition`'s share of them) and writes the
/// sweep's folder (or the part's file).
fn grid(
    args: &SweepArgs,
    s: &Scenario,
    base: &LoadOptions,
    partition: Option<Partition>,
) -> Result<(), (u8, String)> {
    let bad = |e: String| (exit::INVALID_INPUT, e);
    // Every point is checked before anything runs.
    let points = s.sweep.points();
    let mut scenarios = Vec::with_capacity(points.len());
    for p in &points {
        scenarios.push(point_scenario(&args.scenario, base, p).map_err(bad)?);
    }
    let meta = sweep_meta(s, &points);
    let chosen: Vec<usize> = (0..points.len())
        .filter(|&i| partition.as_ref().is_none_or(|part| part.takes(i, &points[i].label())))
        .collect();
    let selected: Vec<&Scenario> = chosen.iter().map(|&i| &scenarios[i]).collect();
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(format!("{}-sweep", s.name)));
    let staged = stage_output(&dir, partition.is_some())?;
    crate::estimate::check_run(&selected, args.jobs, args.max_memory.as_deref())
        .map_err(|e| bad(format!("{}: {e}", args.scenario.display())))?;
    let reduced =
        run_points_reduced(&selected, args.jobs, |p, m, o| model_result(selected[p], m, &o))
            .map_err(failed)?;
    let results: Vec<PointResult> =
        chosen.iter().zip(reduced).map(|(&i, models)| point_result(&points[i], models)).collect();
    match (partition, staged) {
        (Some(part), _) => {
            let models = s.models.iter().map(|m| m.name.clone()).collect();
            let labels = points.iter().map(SweepPoint::label).collect();
            let file = PartFile::new(meta, &part, models, labels, results);
            write_part(&file, &part, &dir, args.quiet)
        }
        (None, Some(dir)) => write_sweep(dir, &meta, &results, format_of(&args.charts), args.quiet),
        (None, None) => unreachable!("a whole sweep stages its folder"),
    }
}

/// What identifies the sweep of `s` over `points`, its fingerprint included.
fn sweep_meta(s: &Scenario, points: &[SweepPoint]) -> SweepMeta {
    let mut key = format!("{}\n{}\n", s.text, env!("CARGO_PKG_VERSION"));
    for m in &s.models {
        key.push_str(&m.name);
        key.push('\n');
    }
    for p in points {
        key.push_str(&p.label());
        key.push('\n');
    }
    SweepMeta {
        scenario: s.name.clone(),
        pipesim_version: env!("CARGO_PKG_VERSION").to_string(),
        fingerprint: format!("{:016x}", fnv1a(key.as_bytes())),
        parameters: s.sweep.params.iter().map(|(p, _)| p.clone()).collect(),
        seeds: s.sweep.seeds.clone(),
        total_points: points.len(),
    }
}

/// The output, checked before the run: a whole sweep's folder, staged to be swapped in whole;
/// a part's folder (`None`), which other parts may share, must not be a file.
fn stage_output(dir: &Path, partitioned: bool) -> Result<Option<StagedDir>, (u8, String)> {
    if !partitioned {
        return stage(dir, &SWEEP_FOLDER).map(Some);
    }
    if dir.exists() && !dir.is_dir() {
        return Err((
            exit::INVALID_INPUT,
            format!("--out: {}: is a file, not a folder", dir.display()),
        ));
    }
    Ok(None)
}

/// Writes a part's file into `dir` (created if missing) and says so unless `quiet`.
fn write_part(
    file: &PartFile,
    part: &Partition,
    dir: &Path,
    quiet: bool,
) -> Result<(), (u8, String)> {
    let bad = |e: String| (exit::INVALID_INPUT, e);
    let mut text =
        serde_json::to_string_pretty(file).map_err(|e| (exit::INTERNAL, e.to_string()))?;
    text.push('\n');
    std::fs::create_dir_all(dir)
        .map_err(|e| bad(format!("cannot create {}: {}", dir.display(), reason(&e))))?;
    let path = dir.join(format!("sweep-part-{}.json", part.file_tag()));
    write_atomic(&path, text.as_bytes())
        .map_err(|e| bad(format!("cannot write {}: {}", path.display(), reason(&e))))?;
    if !quiet {
        out(&format!(
            "part {} of sweep {}: {} of {} points → {}\n",
            part,
            file.meta.scenario,
            file.points.len(),
            file.meta.total_points,
            path.display()
        ));
    }
    Ok(())
}

pub(crate) fn merge(args: MergeArgs) -> u8 {
    let merged = merge::gather(&args.parts).map_err(|e| (exit::INVALID_INPUT, e)).and_then(
        |(meta, results)| {
            let dir = stage(&args.out, &SWEEP_FOLDER)?;
            write_sweep(dir, &meta, &results, format_of(&args.charts), args.quiet)
        },
    );
    match merged {
        Ok(()) => exit::SUCCESS,
        Err((code, e)) => {
            error(e);
            code
        }
    }
}
