//! The workload: keys, payload, the arrival process and its phases, or a trace replayed
//! whole (read once at load time so every error in it is reported before anything runs).

use super::{FileLoader, Loading};
use crate::error::ScenarioError;
use crate::raw::{OnErrorName, PopularityName, ProcessName, RawArrivals, RawWorkload};
use pipesim_config::limits;
use pipesim_engine::{SimTime, format_duration_ns};
use pipesim_workload::{
    Keys, OnError, Phase, Popularity, Process, TRACE_COLUMNS, TraceFormat, TraceSpec, WorkloadSpec,
    scan,
};
use toml::de::DeTable;

impl Loading<'_> {
    pub(super) fn workload(
        &self,
        w: &RawWorkload,
        duration_ns: SimTime,
        loader: &FileLoader,
        lookup: &DeTable<'_>,
    ) -> Result<WorkloadSpec, ScenarioError> {
        self.check_workload_limits(w, lookup)?;
        let popularity = self.popularity(w, lookup)?;
        let payload_bytes = u32::try_from(w.payload.bytes).map_err(|_| {
            self.field_error(
                lookup,
                "workload.payload",
                format!("{} is too large (at most 4 GiB)", w.payload),
            )
        })?;
        let a = &w.arrivals;
        let process = self.process(a, loader, lookup)?;
        if a.process != ProcessName::Trace {
            self.check_rate_fields(a, lookup)?;
        }
        let keys = Keys { count: w.keys.count, popularity };
        if a.process == ProcessName::Trace {
            return self.trace_workload(w, keys, payload_bytes, duration_ns, loader, lookup);
        }
        let phases = self.phases(w, duration_ns, lookup)?;
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

    /// The key count, the number of phases and every rate, against their limits.
    fn check_workload_limits(
        &self,
        w: &RawWorkload,
        lookup: &DeTable<'_>,
    ) -> Result<(), ScenarioError> {
        let at = |p: &str, msg: String| self.field_error(lookup, p, msg);
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
        Ok(())
    }

    /// `keys.popularity` and its `exponent`.
    fn popularity(
        &self,
        w: &RawWorkload,
        lookup: &DeTable<'_>,
    ) -> Result<Popularity, ScenarioError> {
        let at = |p: &str, msg: String| self.field_error(lookup, p, msg);
        Ok(match (w.keys.popularity, w.keys.exponent) {
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
        })
    }

    /// The arrival process, with a bursty one's `on` and `off` periods.
    fn process(
        &self,
        a: &RawArrivals,
        loader: &FileLoader,
        lookup: &DeTable<'_>,
    ) -> Result<Process, ScenarioError> {
        let at = |p: &str, msg: String| self.field_error(lookup, p, msg);
        Ok(match a.process {
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
        })
    }

    /// A process other than a trace: no trace fields, and a `rate`.
    fn check_rate_fields(
        &self,
        a: &RawArrivals,
        lookup: &DeTable<'_>,
    ) -> Result<(), ScenarioError> {
        let at = |p: &str, msg: String| self.field_error(lookup, p, msg);
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
        Ok(())
    }

    /// The rate phases, in time order, each before the end of arrivals.
    fn phases(
        &self,
        w: &RawWorkload,
        duration_ns: SimTime,
        lookup: &DeTable<'_>,
    ) -> Result<Vec<Phase>, ScenarioError> {
        let at = |p: &str, msg: String| self.field_error(lookup, p, msg);
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
        Ok(phases)
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
        let at = |p: &str, msg: String| self.field_error(lookup, p, msg);
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
}

/// The skipped lines of a trace read with `on_error = "skip"`, as a warning (it goes to
/// stderr and into report.json's `warnings`).
pub(super) fn trace_warning(t: &TraceSpec) -> Option<String> {
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
