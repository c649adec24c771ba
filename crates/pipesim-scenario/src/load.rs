//! From text to a validated [`Scenario`].

use crate::error::{ErrorOrigin, ScenarioError};
use crate::fault_table::{build_fault, check_models};
use crate::fault_trace::read_fault_trace;
use crate::location::locate;
use crate::overrides::{Override, apply, near_alias};
use crate::path::{FieldPath, Segment};
use crate::random_faults::draw;
use crate::raw::{
    ClaimValue, OnErrorName, PopularityName, ProcessName, RawFault, RawScenario, RawWorkload,
};
use crate::source::{MAX_DATA_FILE_BYTES, read_scenario};
use pipesim_config::{ConfigError, Loader, explain_serde_message, limits, suggest};
use pipesim_engine::{SimTime, format_duration_ns};
use pipesim_models::{
    BuildEnv, FaultSpec, ModelSpec, ModelTables, ParseModelError, Registry, RunSettings,
};
use pipesim_workload::input::{read_capped, strip_bom};
use pipesim_workload::{
    Keys, OnError, Phase, Popularity, Process, TRACE_COLUMNS, TraceFormat, TraceSpec, WorkloadSpec,
    scan,
};
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// What the command line adds to a scenario file.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `--set PATH=VALUE` flags, applied in order.
    pub overrides: Vec<Override>,
    /// `--seed N`, replacing the file's seed.
    pub seed: Option<u64>,
    /// `--models a,b`: run only these models (by name).
    pub models: Option<Vec<String>>,
    /// The kinds a `[[model]]` may name (by default the built-in ones).
    pub registry: Registry,
}

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The scenario's name: the default report folder.
    pub name: String,
    /// What it is about.
    pub description: String,
    /// Root seed.
    pub seed: u64,
    /// Arrivals stop at this time.
    pub duration_ns: SimTime,
    /// Events created before this are not in the statistics.
    pub warmup_ns: SimTime,
    /// Time allowed after the last arrival before an acknowledged event counts as lost.
    pub drain_ns: SimTime,
    /// Timeline window.
    pub window_ns: SimTime,
    /// The arrivals every model faces.
    pub workload: WorkloadSpec,
    /// The designs, in file order (filtered by `--models`).
    pub models: Vec<ModelSpec>,
    /// The fault timeline every model faces, by start time; faults that start together keep
    /// the order `[[fault]]` tables, fault trace, random draws.
    pub faults: Vec<FaultSpec>,
    /// Each fault of `faults` as a JSON object with the keys of a `[[fault]]` table (one line
    /// of a fault trace that replays it).
    pub fault_tables: Vec<String>,
    /// The kinds `[faults.random]` drew for this seed's mix, if it is there.
    pub random_fault_mix: Option<Vec<&'static str>>,
    /// Figures the scenario's source claims, to show beside the simulated ones.
    pub claims: Vec<Claim>,
    /// The `[gate]` table: thresholds and baseline tolerances.
    pub gate: crate::gate::Gate,
    /// The `[sweep]` table: parameters and seeds for `pipesim sweep`.
    pub sweep: crate::sweep::SweepSpec,
    /// Things worth knowing before the run (utilisation ≥ 1 and the like).
    pub warnings: Vec<String>,
    /// The file it came from.
    pub path: PathBuf,
    /// The file's text, as read.
    pub text: String,
}

/// Reads, overrides and validates the scenario at `path`.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Scenario, ScenarioError> {
    let text = read_scenario(path)?;
    load_str(&text, path, opts)
}

/// Like [`load`], from text already read; `path` names it in messages and anchors relative
/// file names (empirical distributions).
pub fn load_str(text: &str, path: &Path, opts: &LoadOptions) -> Result<Scenario, ScenarioError> {
    Loading { text, path, opts }.run()
}

/// A figure a scenario's source states, to show beside the simulated value.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// The model it is about.
    pub model: String,
    /// A dotted path into the model's report.json entry (`latency.e2e.p99_ms`,
    /// `throughput.delivered_per_s`, `details.store[0].commits_per_s`).
    pub metric: String,
    /// The claimed value, in the metric's unit.
    pub value: f64,
    /// Where the figure comes from.
    pub source: String,
}

/// The top-level keys of a model's report entry that a claim can point into.
const CLAIM_ROOTS: [&str; 6] =
    ["latency", "throughput", "invariants", "mean_in_system", "simulation", "details"];

/// A claimed value in the metric's unit: durations become milliseconds for `_ms` metrics and
/// seconds for `_s` metrics, rates events per second, percentages fractions.
fn claim_value(value: &ClaimValue, metric: &str) -> Result<f64, String> {
    let x = match value {
        ClaimValue::Int(i) => *i as f64,
        ClaimValue::Float(f) => *f,
        ClaimValue::Text(t) => {
            let t = t.trim();
            if let Some(p) = t.strip_suffix('%') {
                p.trim()
                    .parse::<f64>()
                    .map(|p| p / 100.0)
                    .map_err(|_| format!("\"{t}\" is not a percentage"))?
            } else if let Ok(ns) = pipesim_config::parse_duration_ns(t) {
                if metric.ends_with("_ms") {
                    ns as f64 / 1e6
                } else if metric.ends_with("_s") {
                    ns as f64 / 1e9
                } else {
                    return Err(format!(
                        "\"{t}\" is a duration, but `{metric}` is not a time in ms or s"
                    ));
                }
            } else if let Ok(rate) = pipesim_config::parse_rate_per_s(t) {
                rate
            } else {
                t.parse::<f64>().map_err(|_| {
                    format!("\"{t}\" is not a number, a duration (\"42ms\"), a rate (\"1.2M/s\") or a percentage (\"0.002%\")")
                })?
            }
        }
    };
    if !x.is_finite() {
        return Err(format!("must be a finite number, found {x}"));
    }
    Ok(x)
}

/// The fault timeline as [`Loading::faults`] builds it.
#[derive(Default)]
struct FaultTimeline {
    faults: Vec<FaultSpec>,
    tables: Vec<String>,
    random_mix: Option<Vec<&'static str>>,
    trace_skipped: Vec<String>,
    trace_skipped_count: u64,
    trace_shown: String,
}

struct Loading<'a> {
    text: &'a str,
    path: &'a Path,
    opts: &'a LoadOptions,
}

/// Reads files relative to the scenario's folder.
struct FileLoader {
    base: PathBuf,
}

impl Loader for FileLoader {
    fn read_text(&self, file: &str) -> Result<String, String> {
        let full = self.base.join(file);
        let bytes = read_capped(&full, MAX_DATA_FILE_BYTES, "a data file")
            .map_err(|e| format!("cannot read {}: {e}", full.display()))?;
        let bytes = strip_bom(&bytes);
        String::from_utf8(bytes.to_vec())
            .map_err(|_| format!("{} is not UTF-8 text", full.display()))
    }
}

impl<'a> Loading<'a> {
    fn run(&self) -> Result<Scenario, ScenarioError> {
        let mut tree = DeTable::parse(self.text).map_err(|e| self.syntax_error(&e))?.into_inner();
        for (i, ov) in self.opts.overrides.iter().enumerate() {
            let span = self.override_span(i);
            apply(&mut tree, ov, span).map_err(|message| ScenarioError {
                file: self.path.to_path_buf(),
                origin: ErrorOrigin::Override(ov.raw.clone()),
                path: None,
                message,
            })?;
        }
        let lookup = tree.clone();
        let whole = Spanned::new(0..self.text.len(), DeValue::Table(tree));
        let raw: RawScenario = serde_path_to_error::deserialize(ValueDeserializer::from(whole))
            .map_err(|e| self.serde_error(&lookup, &FieldPath::default(), e))?;

        let seed = self.opts.seed.unwrap_or(raw.seed);
        let at = |p: &str, msg: String| {
            self.error_at(&lookup, &FieldPath::parse(p).unwrap_or_default(), msg)
        };
        check_name(&raw.name).map_err(|m| at("name", m))?;
        if raw.duration.ns == 0 {
            return Err(at("duration", "must be greater than zero".to_string()));
        }
        if raw.warmup.ns >= raw.duration.ns {
            return Err(at(
                "warmup",
                format!(
                    "warmup ({}) must be shorter than the duration ({})",
                    raw.warmup, raw.duration
                ),
            ));
        }
        let window_ns = timeline_window(&raw).map_err(|m| at("window", m))?;
        if raw.description.chars().count() > limits::MAX_DESCRIPTION_CHARS {
            return Err(at(
                "description",
                format!("is longer than {} characters", limits::MAX_DESCRIPTION_CHARS),
            ));
        }
        let run_ns = raw.duration.ns.saturating_add(raw.drain.ns);
        if run_ns > limits::MAX_RUN_NS {
            return Err(at(
                "duration",
                format!(
                    "duration + drain ({}) is longer than the 100 years a run may last (a documented limit: see \"Limits\" in docs/scenario.md)",
                    format_duration_ns(run_ns)
                ),
            ));
        }
        let loader =
            FileLoader { base: self.path.parent().map(Path::to_path_buf).unwrap_or_default() };
        let workload = self.workload(&raw.workload, raw.duration.ns, &loader, &lookup)?;
        let arrivals = workload.expected_arrivals();
        if arrivals > limits::ARRIVALS.max as f64 {
            let field = if workload.trace.is_some() {
                "workload.arrivals.file"
            } else {
                "workload.arrivals"
            };
            return Err(at(
                field,
                format!(
                    "about {:.3e} arrivals over the duration, more than the {} pipesim runs (about ten hours at its fastest; a documented limit: see \"Limits\" in docs/scenario.md)",
                    arrivals,
                    limits::grouped(limits::ARRIVALS.max)
                ),
            ));
        }
        if raw.claim.len() as u64 > limits::TABLE_ENTRIES.max {
            return Err(at(
                "claim",
                format!("{} claims: at most {}", raw.claim.len(), limits::TABLE_ENTRIES.max),
            ));
        }
        let mut models = self.models(&lookup, &loader, &workload)?;
        let all_names: Vec<String> = models.iter().map(|m| m.name.clone()).collect();
        let gate = crate::gate::gate(&raw.gate, &all_names).map_err(|(at, msg)| {
            self.error_at(&lookup, &FieldPath(at.into_iter().map(Segment::Key).collect()), msg)
        })?;
        let sweep = crate::sweep::sweep(&raw.sweep, seed).map_err(|(key, msg)| {
            let path = FieldPath(vec![Segment::Key("sweep".to_string()), Segment::Key(key)]);
            self.error_at(&lookup, &path, msg)
        })?;
        if let Some(only) = &self.opts.models {
            models = select(models, only).map_err(|message| ScenarioError {
                file: self.path.to_path_buf(),
                origin: ErrorOrigin::Models,
                path: None,
                message,
            })?;
        }
        let timeline = self.faults(&raw, seed, &models, &loader, &lookup)?;
        let claims = self.claims(&raw, &models, &lookup)?;
        let mut warnings: Vec<String> = workload.trace.iter().filter_map(trace_warning).collect();
        if timeline.trace_skipped_count > 0 {
            let n = timeline.trace_skipped_count;
            let more = if n > timeline.trace_skipped.len() as u64 { "; …" } else { "" };
            warnings.push(format!(
                "fault trace {}: skipped {n} line{} that did not parse (on_error = \"skip\"): {}{more}",
                timeline.trace_shown,
                if n == 1 { "" } else { "s" },
                timeline.trace_skipped.join("; ")
            ));
        }
        let settings = RunSettings {
            seed,
            duration_ns: raw.duration.ns,
            warmup_ns: raw.warmup.ns,
            drain_ns: raw.drain.ns,
            window_ns,
            progress: None,
            log_visibility: false,
            timeline_sink: None,
        };
        warnings.extend(models.iter().flat_map(|m| {
            let notes = m.warnings(&workload, &settings);
            notes.into_iter().map(move |w| format!("model {}: {w}", m.name))
        }));
        Ok(Scenario {
            name: raw.name,
            description: raw.description,
            seed,
            duration_ns: raw.duration.ns,
            warmup_ns: raw.warmup.ns,
            drain_ns: raw.drain.ns,
            window_ns,
            workload,
            models,
            faults: timeline.faults,
            fault_tables: timeline.tables,
            random_fault_mix: timeline.random_mix,
            claims,
            gate,
            sweep,
            warnings,
            path: self.path.to_path_buf(),
            text: self.text.to_string(),
        })
    }

    fn workload(
        &self,
        w: &RawWorkload,
        duration_ns: SimTime,
        loader: &FileLoader,
        lookup: &DeTable<'_>,
    ) -> Result<WorkloadSpec, ScenarioError> {
        let at = |p: &str, msg: String| {
            self.error_at(lookup, &FieldPath::parse(p).unwrap_or_default(), msg)
        };
        if w.keys.count == 0 {
            return Err(at("workload.keys.count", "must be at least 1".to_string()));
        }
        limits::at_most("", u64::from(w.keys.count), &limits::KEYS)
            .map_err(|e| at("workload.keys.count", e.message))?;
        limits::at_most("", w.phase.len() as u64, &limits::PHASES)
            .map_err(|e| at("workload.phase", e.message))?;
        let fast = |r: Option<f64>| r.is_some_and(|r| r > limits::MAX_RATE_PER_S);
        if fast(w.arrivals.rate.map(|r| r.per_s)) {
            return Err(at("workload.arrivals.rate", too_fast()));
        }
        if let Some(i) = w.phase.iter().position(|p| fast(Some(p.rate.per_s))) {
            return Err(at(&format!("workload.phase[{i}].rate"), too_fast()));
        }
        let popularity = match (w.keys.popularity, w.keys.exponent) {
            (PopularityName::Uniform, Some(_)) => {
                return Err(at(
                    "workload.keys.exponent",
                    "`exponent` applies only to popularity = \"zipf\"".to_string(),
                ));
            }
            (PopularityName::Uniform, None) => Popularity::Uniform,
            (PopularityName::Zipf, exponent) => {
                let exponent = exponent.unwrap_or(1.0);
                if !(exponent.is_finite() && exponent > 0.0) {
                    return Err(at(
                        "workload.keys.exponent",
                        format!("must be a finite number greater than zero, found {exponent}"),
                    ));
                }
                Popularity::Zipf { exponent }
            }
        };
        let payload_bytes = u32::try_from(w.payload.bytes).map_err(|_| {
            at("workload.payload", format!("{} is too large (at most 4 GiB)", w.payload))
        })?;
        let a = &w.arrivals;
        let process = match a.process {
            ProcessName::Poisson | ProcessName::Constant | ProcessName::Trace
                if a.on.is_some() || a.off.is_some() =>
            {
                let key = if a.on.is_some() { "on" } else { "off" };
                return Err(at(
                    &format!("workload.arrivals.{key}"),
                    "`on` and `off` apply only to process = \"bursty\"".to_string(),
                ));
            }
            ProcessName::Poisson => Process::Poisson,
            ProcessName::Constant => Process::Constant,
            ProcessName::Bursty => {
                let (Some(on), Some(off)) = (&a.on, &a.off) else {
                    return Err(at(
                        "workload.arrivals",
                        "a bursty process needs `on` and `off` durations (or distributions)"
                            .to_string(),
                    ));
                };
                let on = on.resolve(loader).map_err(|m| at("workload.arrivals.on", m))?;
                let off = off.resolve(loader).map_err(|m| at("workload.arrivals.off", m))?;
                if on.mean_ns() <= 0.0 {
                    return Err(at(
                        "workload.arrivals.on",
                        "on periods must be longer than zero".to_string(),
                    ));
                }
                Process::Bursty { on, off }
            }
            ProcessName::Trace => Process::Poisson, // not used: the trace gives the times
        };
        if a.process != ProcessName::Trace {
            if a.file.is_some() || a.on_error.is_some() {
                let key = if a.file.is_some() { "file" } else { "on_error" };
                return Err(at(
                    &format!("workload.arrivals.{key}"),
                    "`file` and `on_error` apply only to process = \"trace\"".to_string(),
                ));
            }
            if a.rate.is_none() {
                return Err(at(
                    "workload.arrivals",
                    format!(
                        "process = \"{}\" needs a `rate`, such as rate = \"300k/s\"",
                        process_name(a.process)
                    ),
                ));
            }
        }
        let keys = Keys { count: w.keys.count, popularity };
        if a.process == ProcessName::Trace {
            return self.trace_workload(w, keys, payload_bytes, duration_ns, loader, lookup);
        }
        let mut phases = Vec::with_capacity(w.phase.len());
        let mut ramp_end: SimTime = 0;
        for (i, p) in w.phase.iter().enumerate() {
            let here = |f: &str| format!("workload.phase[{i}].{f}");
            if p.at.ns >= duration_ns {
                return Err(at(
                    &here("at"),
                    format!(
                        "{} is not before the end of arrivals ({})",
                        p.at,
                        format_duration_ns(duration_ns)
                    ),
                ));
            }
            if i > 0 && p.at.ns < ramp_end {
                return Err(at(
                    &here("at"),
                    format!(
                        "{} starts before the previous phase's change is over ({}); list phases in time order",
                        p.at,
                        format_duration_ns(ramp_end)
                    ),
                ));
            }
            ramp_end = p.at.ns.saturating_add(p.ramp.ns);
            phases.push(Phase { at_ns: p.at.ns, rate_per_s: p.rate.per_s, ramp_ns: p.ramp.ns });
        }
        Ok(WorkloadSpec {
            process,
            rate_per_s: a.rate.map_or(0.0, |r| r.per_s),
            phases,
            keys,
            payload_bytes,
            duration_ns,
            trace: None,
        })
    }

    /// A workload that replays a trace: checks what does not apply to one, then reads the
    /// whole trace (up to the duration) once, so that every error in it is reported before
    /// anything runs.
    fn trace_workload(
        &self,
        w: &RawWorkload,
        keys: Keys,
        payload_bytes: u32,
        duration_ns: SimTime,
        loader: &FileLoader,
        lookup: &DeTable<'_>,
    ) -> Result<WorkloadSpec, ScenarioError> {
        let at = |p: &str, msg: String| {
            self.error_at(lookup, &FieldPath::parse(p).unwrap_or_default(), msg)
        };
        let a = &w.arrivals;
        if a.rate.is_some() {
            return Err(at(
                "workload.arrivals.rate",
                "a trace sets its own arrival times: remove `rate` (or use another process)"
                    .to_string(),
            ));
        }
        if !w.phase.is_empty() {
            return Err(at(
                "workload.phase[0]",
                "rate phases do not apply to a trace, which sets its own arrival times: remove the [[workload.phase]] tables".to_string(),
            ));
        }
        let Some(file) = &a.file else {
            return Err(at(
                "workload.arrivals",
                "a trace needs `file`, the trace file relative to the scenario (.csv, .jsonl or .ndjson)".to_string(),
            ));
        };
        let path = loader.base.join(file);
        let Some(format) = TraceFormat::from_path(&path) else {
            return Err(at(
                "workload.arrivals.file",
                format!(
                    "\"{file}\": the format comes from the extension: .csv (with a header line `{}`), .jsonl or .ndjson (JSON lines)",
                    TRACE_COLUMNS.join(",")
                ),
            ));
        };
        let on_error = match a.on_error {
            None | Some(OnErrorName::Stop) => OnError::Stop,
            Some(OnErrorName::Skip) => OnError::Skip,
        };
        let summary = scan(&path, format, on_error, keys.count, payload_bytes, duration_ns)
            .map_err(|e| at("workload.arrivals.file", e.to_string()))?;
        if summary.events == 0 {
            return Err(at(
                "workload.arrivals.file",
                format!(
                    "{}: has no event before the end of arrivals ({})",
                    path.display(),
                    format_duration_ns(duration_ns)
                ),
            ));
        }
        let rate_per_s = summary.events as f64 / (duration_ns as f64 / 1e9);
        Ok(WorkloadSpec {
            process: Process::Poisson,
            rate_per_s,
            phases: Vec::new(),
            keys,
            payload_bytes,
            duration_ns,
            trace: Some(TraceSpec::new(path, format, on_error, summary)),
        })
    }

    fn claims(
        &self,
        raw: &RawScenario,
        models: &[ModelSpec],
        lookup: &DeTable<'_>,
    ) -> Result<Vec<Claim>, ScenarioError> {
        let mut out = Vec::new();
        for (i, c) in raw.claim.iter().enumerate() {
            let at = |field: &str, msg: String| {
                self.error_at(
                    lookup,
                    &FieldPath::parse(&format!("claim[{i}].{field}")).unwrap_or_default(),
                    msg,
                )
            };
            let root = c.metric.split(['.', '[']).next().unwrap_or("");
            if !CLAIM_ROOTS.contains(&root) || c.metric.ends_with('.') || c.metric.contains("..") {
                return Err(at(
                    "metric",
                    format!(
                        "`{}` is not a report metric: write a path into the model's report.json entry starting with one of {}",
                        c.metric,
                        CLAIM_ROOTS.join(", ")
                    ),
                ));
            }
            let value = claim_value(&c.value, &c.metric).map_err(|m| at("value", m))?;
            if !models.iter().any(|m| m.name == c.model) {
                if self.opts.models.as_ref().is_some_and(|only| !only.contains(&c.model)) {
                    continue; // the claim's model was left out with --models
                }
                let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
                let mut msg = format!("no model named \"{}\"", c.model);
                if let Some(s) = suggest(&c.model, names.iter().copied()) {
                    msg.push_str(&format!(" (did you mean \"{s}\"?)"));
                }
                msg.push_str(&format!("; models: {}", names.join(", ")));
                return Err(at("model", msg));
            }
            out.push(Claim {
                model: c.model.clone(),
                metric: c.metric.clone(),
                value,
                source: c.source.clone(),
            });
        }
        Ok(out)
    }

    /// The fault timeline: the `[[fault]]` tables, then a fault trace's, then random ones.
    /// Also returns each fault as a JSON line (for `pipesim trace export`) and the random mix.
    fn faults(
        &self,
        raw: &RawScenario,
        seed: u64,
        models: &[ModelSpec],
        loader: &FileLoader,
        lookup: &DeTable<'_>,
    ) -> Result<FaultTimeline, ScenarioError> {
        let at = |field: &str, msg: String| {
            self.error_at(lookup, &FieldPath::parse(field).unwrap_or_default(), msg)
        };
        let mut out = FaultTimeline::default();
        let mut add = |f: &RawFault, spec: FaultSpec| {
            out.tables.push(serde_json::to_string(f).unwrap_or_default());
            out.faults.push(spec);
        };
        for (i, f) in raw.fault.iter().enumerate() {
            let at = |field: &str, msg: String| at(&format!("fault[{i}].{field}"), msg);
            let spec = build_fault(f, raw.duration.ns, loader).map_err(|(k, m)| at(k, m))?;
            check_models(&spec, models).map_err(|(k, m)| at(k, m))?;
            add(f, spec);
        }
        if let Some(file) = &raw.faults.trace {
            let path = loader.base.join(file);
            let skip = raw.faults.on_error == Some(OnErrorName::Skip);
            let trace = read_fault_trace(&path, skip).map_err(|m| at("faults.trace", m))?;
            for t in &trace.faults {
                let fail = |(k, m): (&str, String)| {
                    at("faults.trace", format!("{}:{}: {k}: {m}", path.display(), t.line))
                };
                let spec = build_fault(&t.fault, raw.duration.ns, loader).map_err(fail)?;
                check_models(&spec, models).map_err(fail)?;
                add(&t.fault, spec);
            }
            out.trace_skipped =
                trace.skipped.iter().map(|(l, m)| format!("line {l}: {m}")).collect();
            out.trace_skipped_count = trace.skipped_count;
            out.trace_shown = path.display().to_string();
        } else if raw.faults.on_error.is_some() {
            return Err(at(
                "faults.on_error",
                "`on_error` applies to a fault trace: set `trace` too".to_string(),
            ));
        }
        if let Some(r) = &raw.faults.random {
            let drawn = draw(r, seed, models, raw.warmup.ns, raw.duration.ns)
                .map_err(|(k, m)| at(&format!("faults.random.{k}"), m))?;
            for (n, f) in drawn.faults.iter().enumerate() {
                let fail = |(k, m): (&str, String)| {
                    at("faults.random", format!("drawn fault {} ({}), {k}: {m}", n + 1, f.kind))
                };
                let spec = build_fault(f, raw.duration.ns, loader).map_err(fail)?;
                check_models(&spec, models).map_err(fail)?;
                add(f, spec);
            }
            out.random_mix = Some(drawn.mix);
        }
        if let Err(e) = limits::at_most("", out.faults.len() as u64, &limits::FAULTS) {
            let field = if raw.faults.trace.is_some() { "faults.trace" } else { "fault" };
            return Err(at(field, format!("the fault timeline: {}", e.message)));
        }
        // One timeline in start-time order (stable: ties keep the order above), so a fault
        // trace written from it is sorted and replays with the same numbering.
        let mut order: Vec<usize> = (0..out.faults.len()).collect();
        order.sort_by_key(|&i| out.faults[i].start_ns);
        out.faults = order.iter().map(|&i| out.faults[i].clone()).collect();
        out.tables = order.iter().map(|&i| out.tables[i].clone()).collect();
        Ok(out)
    }

    fn models(
        &self,
        lookup: &DeTable<'_>,
        loader: &FileLoader,
        workload: &WorkloadSpec,
    ) -> Result<Vec<ModelSpec>, ScenarioError> {
        let items: Vec<Spanned<DeValue<'_>>> = match lookup.get("model").map(|v| v.get_ref()) {
            Some(DeValue::Array(items)) => items.iter().cloned().collect(),
            _ => Vec::new(),
        };
        if items.is_empty() {
            return Err(ScenarioError::file(
                self.path.to_path_buf(),
                "has no model: add at least one [[model]] with a `name` and a `kind` (see `pipesim models`)",
            ));
        }
        if let Err(e) = limits::at_most("", items.len() as u64, &limits::MODELS) {
            return Err(self.error_at(
                lookup,
                &FieldPath::parse("model").unwrap_or_default(),
                e.message,
            ));
        }
        let env = BuildEnv { loader, workload };
        let mut out: Vec<ModelSpec> = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let base = FieldPath(vec![Segment::Key("model".into()), Segment::Index(i)]);
            let at = |field: &str, msg: String| {
                self.error_at(lookup, &base.join(&FieldPath(vec![Segment::Key(field.into())])), msg)
            };
            let span = item.span();
            let DeValue::Table(mut table) = item.into_inner() else {
                return Err(self.error_at(lookup, &base, "must be a table".to_string()));
            };
            let name = match table.remove("name").map(Spanned::into_inner) {
                Some(DeValue::String(s)) => s.into_owned(),
                Some(_) => return Err(at("name", "must be a string".to_string())),
                None => return Err(self.error_at(lookup, &base, "needs a `name`".to_string())),
            };
            check_name(&name).map_err(|m| at("name", m))?;
            if let Some(first) = out.iter().position(|m| m.name == name) {
                return Err(at(
                    "name",
                    format!(
                        "two models are named \"{name}\" (model[{first}] and model[{i}]); names must be unique"
                    ),
                ));
            }
            let kind = match table.remove("kind").map(Spanned::into_inner) {
                Some(DeValue::String(s)) => s.into_owned(),
                Some(_) => return Err(at("kind", "must be a string".to_string())),
                None => {
                    return Err(self.error_at(
                        lookup,
                        &base,
                        format!(
                            "model \"{name}\" needs a `kind`, one of: {}",
                            self.kind_names().join(", ")
                        ),
                    ));
                }
            };
            // The backend's keys (the wire backend's `wire`, `network`, ...) go to it apart.
            let mut harness = DeTable::new();
            for key in self.opts.registry.harness_keys(&kind).unwrap_or_default() {
                if let Some((k, v)) = table.remove_entry(*key) {
                    harness.insert(k, v);
                }
            }
            let (mut track, mut harness_track) =
                (serde_path_to_error::Track::new(), serde_path_to_error::Track::new());
            let de = serde_path_to_error::Deserializer::new(
                ValueDeserializer::from(Spanned::new(span.clone(), DeValue::Table(table))),
                &mut track,
            );
            let harness_de = serde_path_to_error::Deserializer::new(
                ValueDeserializer::from(Spanned::new(span, DeValue::Table(harness))),
                &mut harness_track,
            );
            let mut de = <dyn erased_serde::Deserializer>::erase(de);
            let mut harness_de = <dyn erased_serde::Deserializer>::erase(harness_de);
            let tables = ModelTables { design: &mut de, harness: &mut harness_de };
            match self.opts.registry.parse_model(&name, &kind, tables, &env) {
                Ok(spec) => out.push(spec),
                Err(ParseModelError::UnknownKind(k)) => {
                    let names = self.kind_names();
                    let mut msg = format!("unknown model kind `{k}`");
                    if let Some(s) = suggest(&k, names.iter().copied()) {
                        msg.push_str(&format!(" (did you mean `{s}`?)"));
                    }
                    msg.push_str(&format!("; known kinds: {}", names.join(", ")));
                    return Err(at("kind", msg));
                }
                // Parameter errors name the model as well as the field, since `model[1]` alone
                // makes the reader count tables.
                Err(ParseModelError::Deserialize { harness, error: e }) => {
                    drop((de, harness_de));
                    let tracked = if harness { harness_track.path() } else { track.path() };
                    let inner = FieldPath::from_serde(&tracked.to_string());
                    let path = base.join(&inner);
                    // toml appends "in `key`" lines for the enclosing tables; the path says that.
                    let message = e.to_string();
                    let message = message.lines().next().unwrap_or_default();
                    let span = if message.starts_with("unknown field") {
                        key_span_of(lookup, &path)
                    } else {
                        span_of(lookup, &path)
                    };
                    let mut err = self.message_error(lookup, &path, span, message);
                    err.message.push_str(&format!(" (model \"{name}\", kind {kind})"));
                    return Err(err);
                }
                Err(ParseModelError::Invalid(ConfigError { path, message })) => {
                    let inner = FieldPath::parse(&path).unwrap_or_default();
                    let message = format!("{message} (model \"{name}\", kind {kind})");
                    return Err(self.error_at(lookup, &base.join(&inner), message));
                }
            }
        }
        Ok(out)
    }

    /// Where the `i`-th override's values are marked: past the end of the text, one byte each.
    fn override_span(&self, i: usize) -> Range<usize> {
        let start = self.text.len() + 1 + i;
        start..start
    }

    fn origin_of(&self, span: Option<Range<usize>>) -> ErrorOrigin {
        match span {
            Some(s) if s.start > self.text.len() => {
                let i = s.start - self.text.len() - 1;
                ErrorOrigin::Override(
                    self.opts.overrides.get(i).map(|o| o.raw.clone()).unwrap_or_default(),
                )
            }
            Some(s) => ErrorOrigin::File(Some(locate(self.text, s))),
            None => ErrorOrigin::File(None),
        }
    }

    fn kind_names(&self) -> Vec<&'static str> {
        self.opts.registry.names()
    }

    fn syntax_error(&self, e: &toml::de::Error) -> ScenarioError {
        ScenarioError {
            file: self.path.to_path_buf(),
            origin: self.origin_of(e.span()),
            path: None,
            message: format!("TOML syntax error: {}", one_line(e.message())),
        }
    }

    /// An error about the field at `path`, located by looking the path up in the tree.
    fn error_at(&self, lookup: &DeTable<'_>, path: &FieldPath, message: String) -> ScenarioError {
        ScenarioError {
            file: self.path.to_path_buf(),
            origin: self.origin_of(span_of(lookup, path)),
            path: Some(path.to_string()).filter(|p| !p.is_empty()),
            message,
        }
    }

    fn toml_error(
        &self,
        lookup: &DeTable<'_>,
        path: &FieldPath,
        e: &toml::de::Error,
    ) -> ScenarioError {
        self.message_error(lookup, path, e.span(), e.message())
    }

    /// An error serde reported about the field at `path`, located at `span` (or where the path
    /// leads).
    fn message_error(
        &self,
        lookup: &DeTable<'_>,
        path: &FieldPath,
        span: Option<Range<usize>>,
        serde_message: &str,
    ) -> ScenarioError {
        let span = span.or_else(|| span_of(lookup, path));
        let origin = self.origin_of(span.clone());
        let mut message = explain_serde_message(&one_line(serde_message));
        if let Some(hint) = self.hint(path, &origin, span, &message) {
            // After the first clause ("unknown key `x`"), before the list of what is known.
            let at = message.find(';').unwrap_or(message.len());
            message.insert_str(at, &format!(" ({hint})"));
        }
        ScenarioError {
            file: self.path.to_path_buf(),
            origin,
            path: Some(path.to_string()).filter(|p| !p.is_empty()),
            message,
        }
    }

    /// What the user probably meant, where serde's message cannot know it: a shorthand path
    /// (`workload.rate`), or `[[model]]` written as `[model]`.
    fn hint(
        &self,
        path: &FieldPath,
        origin: &ErrorOrigin,
        span: Option<Range<usize>>,
        message: &str,
    ) -> Option<String> {
        if message.starts_with("unknown key `") && !message.contains("did you mean") {
            let (short, full) = near_alias(path)?;
            return Some(match origin {
                ErrorOrigin::Override(_) => {
                    format!("did you mean `{short}`, short for `{full}`?")
                }
                _ => format!("did you mean `{full}`?"),
            });
        }
        if message == "expected an array, found a table" {
            let text = self.text.get(span?)?;
            let header = text.strip_prefix('[').filter(|t| !t.starts_with('['))?;
            let name = header.split(']').next()?.trim();
            return Some(format!(
                "write one [[{name}]] per entry: double brackets make an array of tables"
            ));
        }
        None
    }

    fn serde_error(
        &self,
        lookup: &DeTable<'_>,
        base: &FieldPath,
        e: serde_path_to_error::Error<toml::de::Error>,
    ) -> ScenarioError {
        let path = base.join(&FieldPath::from_serde(&e.path().to_string()));
        self.toml_error(lookup, &path, e.inner())
    }
}

/// The span of the value at `path`, or of the deepest part of the path that exists.
fn span_of(root: &DeTable<'_>, path: &FieldPath) -> Option<Range<usize>> {
    let mut best: Option<Range<usize>> = None;
    let mut node: Option<&Spanned<DeValue<'_>>> = None;
    for seg in &path.0 {
        let next = match (node.map(|n| n.get_ref()), seg) {
            (None, Segment::Key(k)) => root.get(k.as_str()),
            (Some(DeValue::Table(t)), Segment::Key(k)) => t.get(k.as_str()),
            (Some(DeValue::Array(a)), Segment::Index(i)) => a.get(*i),
            _ => None,
        };
        match next {
            Some(n) => {
                best = Some(n.span());
                node = Some(n);
            }
            None => break,
        }
    }
    best
}

fn one_line(message: &str) -> String {
    message.trim().lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

/// The span of the key at the end of `path` (an unknown key is reported at the key, not at its
/// value), or of what the path leads to.
fn key_span_of(root: &DeTable<'_>, path: &FieldPath) -> Option<Range<usize>> {
    let (Some(Segment::Key(last)), Some(parent)) = (path.0.last(), path.0.split_last()) else {
        return span_of(root, path);
    };
    let parent = FieldPath(parent.1.to_vec());
    let table = if parent.0.is_empty() {
        Some(root)
    } else {
        let mut node: Option<&Spanned<DeValue<'_>>> = None;
        for seg in &parent.0 {
            node = match (node.map(|n| n.get_ref()), seg) {
                (None, Segment::Key(k)) => root.get(k.as_str()),
                (Some(DeValue::Table(t)), Segment::Key(k)) => t.get(k.as_str()),
                (Some(DeValue::Array(a)), Segment::Index(i)) => a.get(*i),
                _ => None,
            };
            node?;
        }
        match node.map(|n| n.get_ref()) {
            Some(DeValue::Table(t)) => Some(t),
            _ => None,
        }
    };
    table
        .and_then(|t| t.get_key_value(last.as_str()))
        .map(|(k, _)| k.span())
        .or_else(|| span_of(root, path))
}

/// The skipped lines of a trace read with `on_error = "skip"`, as a warning (it goes to
/// stderr and into report.json's `warnings`).
fn trace_warning(t: &TraceSpec) -> Option<String> {
    let s = &t.summary;
    if s.skipped == 0 {
        return None;
    }
    let examples: Vec<String> =
        s.skipped_examples.iter().map(|(line, why)| format!("line {line}: {why}")).collect();
    let more = if s.skipped > examples.len() as u64 { "; …" } else { "" };
    Some(format!(
        "workload trace {}: skipped {} line{} that did not parse (on_error = \"skip\"): {}{more}",
        t.shown(),
        s.skipped,
        if s.skipped == 1 { "" } else { "s" },
        examples.join("; ")
    ))
}

fn process_name(p: ProcessName) -> &'static str {
    match p {
        ProcessName::Poisson => "poisson",
        ProcessName::Constant => "constant",
        ProcessName::Bursty => "bursty",
        ProcessName::Trace => "trace",
    }
}

/// A rate above the limit, in words.
fn too_fast() -> String {
    format!(
        "is faster than {} (one event per simulated nanosecond, the clock's resolution; a documented limit: see \"Limits\" in docs/scenario.md)",
        pipesim_config::format_rate(limits::MAX_RATE_PER_S)
    )
}

/// Names become folder names and appear in paths: keep them simple and short.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_string());
    }
    if name.chars().count() > limits::MAX_NAME_CHARS {
        return Err(format!(
            "is {} characters long: names become file names, so at most {}",
            name.chars().count(),
            limits::MAX_NAME_CHARS
        ));
    }
    if name.starts_with('.')
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(format!(
            "\"{name}\" is not a valid name: use letters, digits, `_`, `-` and `.`"
        ));
    }
    Ok(())
}

fn select(models: Vec<ModelSpec>, only: &[String]) -> Result<Vec<ModelSpec>, String> {
    let names: Vec<String> = models.iter().map(|m| m.name.clone()).collect();
    for want in only {
        if !names.contains(want) {
            let mut msg = format!("no model named \"{want}\"");
            if let Some(s) = suggest(want, names.iter().map(String::as_str)) {
                msg.push_str(&format!(" (did you mean \"{s}\"?)"));
            }
            msg.push_str(&format!("; models: {}", names.join(", ")));
            return Err(msg);
        }
    }
    Ok(models.into_iter().filter(|m| only.contains(&m.name)).collect())
}

/// The timeline window: the scenario's, checked against the row limit, or the automatic rule's
/// (see `pipesim_metrics::window_rule`).
fn timeline_window(raw: &RawScenario) -> Result<SimTime, String> {
    use pipesim_metrics::window_rule::{MAX_WINDOWS, auto_window_ns, windows_in};
    let span_ns = raw.duration.ns.saturating_add(raw.drain.ns);
    let Some(window) = raw.window else { return Ok(auto_window_ns(span_ns)) };
    if window.ns == 0 {
        return Err("must be greater than zero".to_string());
    }
    let windows = windows_in(span_ns, window.ns);
    if windows > MAX_WINDOWS {
        let least = pipesim_config::Duration { ns: span_ns.div_ceil(MAX_WINDOWS) };
        return Err(format!(
            "{window} gives {windows} timeline windows over duration + drain, more than the \
             {MAX_WINDOWS} a run may have; use a window of at least {least}, or leave `window` \
             out for about 2,000 rows"
        ));
    }
    Ok(window.ns)
}
