//! `pipesim sweep --find-max-rate --slo "p99 < 50ms"`: for each model, the highest
//! `workload.rate` at which the SLO holds, by bisection on a log scale.
//!
//! Each model is searched on its own (designs differ by orders of magnitude). At each probed
//! rate the SLO's metric is the mean over the sweep's seeds (`[sweep] seeds`, default the
//! scenario's seed). The search starts from `--min-rate` (default a tenth of the scenario's
//! rate), which must meet the SLO, and `--max-rate` (default ten times it), which must not, and
//! stops when they are within `--precision` (default 1 %) of each other. Every step is a
//! deterministic run, so the answer is the same on every machine.

use super::{format_of, one_model_json, run_points_reduced};
use crate::args::SweepArgs;
use crate::exit;
use crate::output::out;
use crate::page_files::write_charts;
use pipesim_config::{format_rate, parse_rate_per_s};
use pipesim_models::ModelOutcome;
use pipesim_report::charts::{ChartSet, SweepChart, sweep_chart};
use pipesim_report::{MAX_RATE_FOLDER, lookup};
use pipesim_scenario::threshold::Threshold;
use pipesim_scenario::{LoadOptions, Override, Scenario, load};
use serde_json::Value;
use std::path::PathBuf;

type Failure = (u8, String);

/// The finest `--precision` (a millionth): finer would take more steps than any rate measured
/// in simulated nanoseconds can tell apart.
const MIN_PRECISION: f64 = 1e-6;
/// Bisection steps at most.
const MAX_STEPS: usize = 64;

/// Splits `p99 < 50ms` into the metric and the condition.
fn parse_slo(text: &str) -> Result<Threshold, String> {
    let at = text.find(['<', '>', '=', '!']).ok_or_else(|| {
        format!("--slo \"{text}\": write a metric and a condition, such as \"p99 < 50ms\" or \"latency.ack.p999_ms <= 1s\"")
    })?;
    let (name, cond) = text.split_at(at);
    if name.trim().is_empty() {
        return Err(format!("--slo \"{text}\": no metric before the condition"));
    }
    Threshold::parse(None, name.trim(), cond).map_err(|e| format!("--slo: {e}"))
}

/// One probed rate.
struct Probe {
    rate: f64,
    value: f64,
    /// Per-seed values (for the interval).
    values: Vec<f64>,
    holds: bool,
}

/// Evaluates `model` at each rate of `rates` (all seeds), in parallel.
fn probe(
    args: &SweepArgs,
    base: &LoadOptions,
    seeds: &[u64],
    slo: &Threshold,
    jobs: &[(String, f64)],
) -> Result<Vec<Probe>, Failure> {
    let bad = |e: String| (exit::INVALID_INPUT, e);
    let mut scenarios: Vec<Scenario> = Vec::new();
    for (model, rate) in jobs {
        for &seed in seeds {
            let mut opts = base.clone();
            opts.overrides
                .push(Override::parse(&format!("workload.rate={rate:.3}/s")).map_err(&bad)?);
            opts.models = Some(vec![model.clone()]);
            opts.seed = Some(seed);
            scenarios.push(load(&args.scenario, &opts).map_err(|e| bad(e.to_string()))?);
        }
    }
    let refs: Vec<&Scenario> = scenarios.iter().collect();
    crate::estimate::check_run(&refs, args.jobs, args.max_memory.as_deref())
        .map_err(|e| bad(format!("{}: {e}", args.scenario.display())))?;
    // Each probe is reduced to its SLO metric on the worker that ran it.
    let metric = |p: usize, _: usize, o: ModelOutcome| {
        let json = one_model_json(refs[p], 0, &o, "max-rate probe");
        let report: Value = serde_json::from_str(&json).expect("a rendered report parses");
        lookup(&report["models"][0], &slo.metric).and_then(Value::as_f64)
    };
    let outcomes = run_points_reduced(&refs, args.jobs, metric).map_err(super::failed)?;
    let mut values = Vec::new();
    for (s, o) in scenarios.iter().zip(outcomes) {
        let v = o.into_iter().next().flatten().ok_or_else(|| {
            bad(format!(
                "--slo: `{}` is not a metric of model \"{}\"",
                slo.metric, s.models[0].name
            ))
        })?;
        values.push(v);
    }
    Ok(values
        .chunks(seeds.len())
        .zip(jobs)
        .map(|(vs, (_, rate))| {
            let mean = vs.iter().sum::<f64>() / vs.len() as f64;
            Probe { rate: *rate, value: mean, values: vs.to_vec(), holds: slo.holds(mean) }
        })
        .collect())
}

#[expect(clippy::too_many_lines, reason = "over the 70-line budget (clippy.toml); to be split")]
pub(super) fn find(args: &SweepArgs, s: &Scenario, base: &LoadOptions) -> Result<(), Failure> {
    let bad = |e: String| (exit::INVALID_INPUT, e);
    let slo = parse_slo(args.slo.as_deref().ok_or_else(|| {
        bad("--find-max-rate needs --slo, such as --slo \"p99 < 50ms\"".to_string())
    })?)
    .map_err(bad)?;
    let rate_flag = |flag: &str, v: &Option<String>, default: f64| match v {
        Some(t) => parse_rate_per_s(t).map_err(|e| bad(format!("{flag}: {e}"))),
        None => Ok(default),
    };
    let lo0 = rate_flag("--min-rate", &args.min_rate, s.workload.rate_per_s / 10.0)?;
    let hi0 = rate_flag("--max-rate", &args.max_rate, s.workload.rate_per_s * 10.0)?;
    if !(lo0 > 0.0 && hi0 > lo0) {
        return Err(bad(format!(
            "--min-rate ({}) must be above 0 and below --max-rate ({})",
            format_rate(lo0),
            format_rate(hi0)
        )));
    }
    if !(args.precision >= MIN_PRECISION && args.precision < 1.0) {
        return Err(bad(format!(
            "--precision {} must be from {MIN_PRECISION} to below 1 (0.01 = 1 %)",
            args.precision
        )));
    }
    if hi0 > pipesim_config::limits::MAX_RATE_PER_S {
        return Err(bad(format!(
            "--max-rate {} is faster than {} (one event per simulated nanosecond)",
            format_rate(hi0),
            format_rate(pipesim_config::limits::MAX_RATE_PER_S)
        )));
    }
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(format!("{}-max-rate", s.name)));
    let staged = super::stage(&dir, &MAX_RATE_FOLDER)?;
    let seeds = s.sweep.seeds.clone();
    let models: Vec<String> = s.models.iter().map(|m| m.name.clone()).collect();
    // Per model: (lo, hi, probes, verdict).
    let mut state: Vec<(f64, f64, Vec<Probe>, Option<String>)> =
        models.iter().map(|_| (lo0, hi0, Vec::new(), None)).collect();
    let ends: Vec<(String, f64)> =
        models.iter().flat_map(|m| [(m.clone(), lo0), (m.clone(), hi0)]).collect();
    let mut first = probe(args, base, &seeds, &slo, &ends)?.into_iter();
    for st in &mut state {
        let (lo, hi) = (first.next().expect("two per model"), first.next().expect("two per model"));
        if !lo.holds {
            st.3 = Some(format!(
                "fails even at --min-rate {} ({} = {})",
                format_rate(lo0),
                slo.name,
                show(lo.value)
            ));
        } else if hi.holds {
            st.3 = Some(format!(
                "holds even at --max-rate {} ({} = {}): raise --max-rate",
                format_rate(hi0),
                slo.name,
                show(hi.value)
            ));
        }
        st.2.push(lo);
        st.2.push(hi);
    }
    // Each step halves the log-ratio: from at most 1e9/s over a tiny --min-rate down to
    // --precision this is under 40 steps; the bound only guards against floating point that
    // stops moving.
    for _ in 0..MAX_STEPS {
        let open: Vec<usize> = (0..state.len())
            .filter(|&i| state[i].3.is_none() && state[i].1 / state[i].0 > 1.0 + args.precision)
            .collect();
        if open.is_empty() {
            break;
        }
        let jobs: Vec<(String, f64)> =
            open.iter().map(|&i| (models[i].clone(), (state[i].0 * state[i].1).sqrt())).collect();
        for (&i, p) in open.iter().zip(probe(args, base, &seeds, &slo, &jobs)?) {
            if p.holds {
                state[i].0 = p.rate;
            } else {
                state[i].1 = p.rate;
            }
            state[i].2.push(p);
        }
    }

    let mut md = format!(
        "# highest rate meeting `{} {}`: {}\n\nBisection on `workload.rate` between {} and {} to {} %, the SLO's metric averaged over seed{} {}.\n\n",
        slo.name,
        slo.condition,
        s.name,
        format_rate(lo0),
        format_rate(hi0),
        args.precision * 100.0,
        if seeds.len() == 1 { "" } else { "s" },
        seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    );
    md.push_str(&format!("| model | highest rate meeting the SLO | {} there | lowest rate failing it | runs |\n| :--- | ---: | ---: | ---: | ---: |\n", slo.name));
    for (m, (lo, hi, probes, verdict)) in models.iter().zip(&state) {
        let at = |r: f64| {
            probes.iter().find(|p| p.rate == r).map_or("–".to_string(), |p| show(p.value))
        };
        match verdict {
            Some(v) => {
                md.push_str(&format!("| {m} | {v} | | | {} |\n", probes.len() * seeds.len()))
            }
            None => md.push_str(&format!(
                "| {m} | {} | {} | {} | {} |\n",
                rate(*lo),
                at(*lo),
                rate(*hi),
                probes.len() * seeds.len()
            )),
        }
    }
    for (m, (_, _, probes, _)) in models.iter().zip(&state) {
        md.push_str(&format!(
            "\n## {m}\n\n| step | rate | {} | SLO |\n| ---: | ---: | ---: | :--- |\n",
            slo.name
        ));
        for (k, p) in probes.iter().enumerate() {
            md.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                k + 1,
                rate(p.rate),
                show(p.value),
                if p.holds { "holds" } else { "fails" }
            ));
        }
    }

    let series = models
        .iter()
        .zip(&state)
        .map(|(m, (_, _, probes, _))| {
            let mut pts: Vec<(f64, f64, f64, f64)> = probes
                .iter()
                .map(|p| {
                    let (mean, ci) = super::results::mean_ci(&p.values);
                    let ci = ci.unwrap_or(0.0);
                    (p.rate, mean, (mean - ci).max(mean * 0.01), mean + ci)
                })
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            (m.clone(), pts)
        })
        .collect();
    let chart = sweep_chart(
        &SweepChart {
            x_label: "workload.rate (events/s)".to_string(),
            y_label: slo.name.clone(),
            series,
        },
        "slo_vs_rate",
        format_of(&args.charts),
    )
    .map_err(|e| (exit::INTERNAL, e.to_string()))?;
    staged.write("max-rate.md", md.as_bytes()).map_err(|e| bad(format!("cannot write {e}")))?;
    write_charts(&staged, &ChartSet { charts: vec![chart] }).map_err(bad)?;
    staged.commit().map_err(|e| bad(format!("cannot replace {e}")))?;
    if !args.quiet {
        out(&md);
    }
    Ok(())
}

/// A rate to 4 significant digits: "763.1/s", "1.235M/s".
fn rate(r: f64) -> String {
    let digits = (3 - r.abs().max(1e-9).log10().floor() as i32).max(0) as usize;
    let rounded: f64 = format!("{r:.digits$}").parse().unwrap_or(r);
    format_rate(rounded)
}

fn show(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
