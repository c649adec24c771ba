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
use pipesim_report::charts::{Chart, ChartSet, SweepChart, sweep_chart};
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

/// `--find-max-rate`: the search for every model, then max-rate.md and its chart.
pub(super) fn find(args: &SweepArgs, s: &Scenario, base: &LoadOptions) -> Result<(), Failure> {
    let bad = |e: String| (exit::INVALID_INPUT, e);
    let search = Search::new(args, s, base)?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(format!("{}-max-rate", s.name)));
    let staged = super::stage(&dir, &MAX_RATE_FOLDER)?;
    let mut states = search.probe_ends()?;
    search.bisect(&mut states)?;
    let md = search.markdown(&s.name, &states);
    let chart = search.chart(&states)?;
    staged.write("max-rate.md", md.as_bytes()).map_err(|e| bad(format!("cannot write {e}")))?;
    write_charts(&staged, &ChartSet { charts: vec![chart] }).map_err(bad)?;
    staged.commit().map_err(|e| bad(format!("cannot replace {e}")))?;
    if !args.quiet {
        out(&md);
    }
    Ok(())
}

/// One search: the flags, the SLO, the seeds and models, and the range of rates it starts from.
struct Search<'a> {
    args: &'a SweepArgs,
    base: &'a LoadOptions,
    slo: Threshold,
    seeds: Vec<u64>,
    models: Vec<String>,
    /// `--min-rate`: the lowest rate searched, which must meet the SLO.
    min_rate_per_s: f64,
    /// `--max-rate`: the highest rate searched, which must fail it.
    max_rate_per_s: f64,
}

/// Where one model's search stands.
struct ModelSearch {
    /// The highest rate known to meet the SLO.
    lo_per_s: f64,
    /// The lowest rate known to fail it.
    hi_per_s: f64,
    /// Every rate probed, in order.
    probes: Vec<Probe>,
    /// Why there is nothing to search: the SLO fails at `--min-rate` or holds at `--max-rate`.
    verdict: Option<String>,
}

impl<'a> Search<'a> {
    /// The search the flags ask for, every flag checked.
    fn new(args: &'a SweepArgs, s: &Scenario, base: &'a LoadOptions) -> Result<Self, Failure> {
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
        Ok(Self {
            args,
            base,
            slo,
            seeds: s.sweep.seeds.clone(),
            models: s.models.iter().map(|m| m.name.clone()).collect(),
            min_rate_per_s: lo0,
            max_rate_per_s: hi0,
        })
    }

    /// Probes every model at both ends of the range: each model's search, with a verdict
    /// where the SLO already fails at the lowest rate or still holds at the highest.
    fn probe_ends(&self) -> Result<Vec<ModelSearch>, Failure> {
        let (lo0, hi0) = (self.min_rate_per_s, self.max_rate_per_s);
        let ends: Vec<(String, f64)> =
            self.models.iter().flat_map(|m| [(m.clone(), lo0), (m.clone(), hi0)]).collect();
        let mut first = probe(self.args, self.base, &self.seeds, &self.slo, &ends)?.into_iter();
        let mut states = Vec::with_capacity(self.models.len());
        for _ in &self.models {
            let (lo, hi) =
                (first.next().expect("two per model"), first.next().expect("two per model"));
            let verdict = if !lo.holds {
                Some(format!(
                    "fails even at --min-rate {} ({} = {})",
                    format_rate(lo0),
                    self.slo.name,
                    show(lo.value)
                ))
            } else if hi.holds {
                Some(format!(
                    "holds even at --max-rate {} ({} = {}): raise --max-rate",
                    format_rate(hi0),
                    self.slo.name,
                    show(hi.value)
                ))
            } else {
                None
            };
            states.push(ModelSearch {
                lo_per_s: lo0,
                hi_per_s: hi0,
                probes: vec![lo, hi],
                verdict,
            });
        }
        Ok(states)
    }

    /// Halves every open search's range (on a log scale) until it is within `--precision`.
    fn bisect(&self, states: &mut [ModelSearch]) -> Result<(), Failure> {
        // Each step halves the log-ratio: from at most 1e9/s over a tiny --min-rate down to
        // --precision this is under 40 steps; the bound only guards against floating point
        // that stops moving.
        for _ in 0..MAX_STEPS {
            let open: Vec<usize> = (0..states.len())
                .filter(|&i| {
                    states[i].verdict.is_none()
                        && states[i].hi_per_s / states[i].lo_per_s > 1.0 + self.args.precision
                })
                .collect();
            if open.is_empty() {
                break;
            }
            let jobs: Vec<(String, f64)> = open
                .iter()
                .map(|&i| {
                    (self.models[i].clone(), (states[i].lo_per_s * states[i].hi_per_s).sqrt())
                })
                .collect();
            for (&i, p) in
                open.iter().zip(probe(self.args, self.base, &self.seeds, &self.slo, &jobs)?)
            {
                if p.holds {
                    states[i].lo_per_s = p.rate;
                } else {
                    states[i].hi_per_s = p.rate;
                }
                states[i].probes.push(p);
            }
        }
        Ok(())
    }

    /// max-rate.md: how the search ran, each model's result, then each model's steps.
    fn markdown(&self, scenario: &str, states: &[ModelSearch]) -> String {
        let slo = &self.slo;
        let mut md = format!(
            "# highest rate meeting `{} {}`: {}\n\nBisection on `workload.rate` between {} and {} to {} %, the SLO's metric averaged over seed{} {}.\n\n",
            slo.name,
            slo.condition,
            scenario,
            format_rate(self.min_rate_per_s),
            format_rate(self.max_rate_per_s),
            self.args.precision * 100.0,
            if self.seeds.len() == 1 { "" } else { "s" },
            self.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        );
        md.push_str(&format!("| model | highest rate meeting the SLO | {} there | lowest rate failing it | runs |\n| :--- | ---: | ---: | ---: | ---: |\n", slo.name));
        for (m, st) in self.models.iter().zip(states) {
            md.push_str(&self.result_row(m, st));
        }
        for (m, st) in self.models.iter().zip(states) {
            md.push_str(&self.steps_table(m, &st.probes));
        }
        md
    }

    /// A model's row of the results table: the rates either side of where the SLO stops
    /// holding, or the verdict that there is none in the range.
    fn result_row(&self, model: &str, st: &ModelSearch) -> String {
        let runs = st.probes.len() * self.seeds.len();
        match &st.verdict {
            Some(v) => format!("| {model} | {v} | | | {runs} |\n"),
            None => {
                let at = |r: f64| {
                    st.probes
                        .iter()
                        .find(|p| p.rate == r)
                        .map_or("–".to_string(), |p| show(p.value))
                };
                format!(
                    "| {model} | {} | {} | {} | {runs} |\n",
                    rate(st.lo_per_s),
                    at(st.lo_per_s),
                    rate(st.hi_per_s)
                )
            }
        }
    }

    /// A model's section: every probed rate in order, the SLO's metric there and the verdict.
    fn steps_table(&self, model: &str, probes: &[Probe]) -> String {
        let mut md = format!(
            "\n## {model}\n\n| step | rate | {} | SLO |\n| ---: | ---: | ---: | :--- |\n",
            self.slo.name
        );
        for (k, p) in probes.iter().enumerate() {
            md.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                k + 1,
                rate(p.rate),
                show(p.value),
                if p.holds { "holds" } else { "fails" }
            ));
        }
        md
    }

    /// The SLO's metric against the rate, a line per model with the seeds' 95 % interval.
    fn chart(&self, states: &[ModelSearch]) -> Result<Chart, Failure> {
        let series = self
            .models
            .iter()
            .zip(states)
            .map(|(m, st)| {
                let mut pts: Vec<(f64, f64, f64, f64)> = st
                    .probes
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
        sweep_chart(
            &SweepChart {
                x_label: "workload.rate (events/s)".to_string(),
                y_label: self.slo.name.clone(),
                series,
            },
            "slo_vs_rate",
            format_of(&self.args.charts),
        )
        .map_err(|e| (exit::INTERNAL, e.to_string()))
    }
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
