//! The fault timeline: `[[fault]]` tables, a fault trace and random draws, each fault built
//! and checked against every model, then ordered by start time.

use super::{FileLoader, Loading};
use crate::error::ScenarioError;
use crate::fault_table::{build_fault, check_models};
use crate::fault_trace::read_fault_trace;
use crate::random_faults::draw;
use crate::raw::{OnErrorName, RawFault, RawScenario};
use pipesim_config::limits;
use pipesim_models::{FaultSpec, ModelSpec};
use toml::de::DeTable;

/// The fault timeline as [`Loading::faults`] builds it.
#[derive(Default)]
pub(super) struct FaultTimeline {
    pub(super) faults: Vec<FaultSpec>,
    pub(super) tables: Vec<String>,
    pub(super) random_mix: Option<Vec<&'static str>>,
    trace_skipped: Vec<String>,
    trace_skipped_count: u64,
    trace_shown: String,
}

impl FaultTimeline {
    /// The lines of a fault trace read with `on_error = "skip"` that did not parse, as a
    /// warning.
    pub(super) fn skipped_warning(&self) -> Option<String> {
        if self.trace_skipped_count == 0 {
            return None;
        }
        let n = self.trace_skipped_count;
        let more = if n > self.trace_skipped.len() as u64 { "; …" } else { "" };
        Some(format!(
            "fault trace {}: skipped {n} line{} that did not parse (on_error = \"skip\"): {}{more}",
            self.trace_shown,
            if n == 1 { "" } else { "s" },
            self.trace_skipped.join("; ")
        ))
    }
}

impl Loading<'_> {
    /// The fault timeline: the `[[fault]]` tables, then a fault trace's, then random ones.
    /// Also returns each fault as a JSON line (for `pipesim trace export`) and the random mix.
    pub(super) fn faults(
        &self,
        raw: &RawScenario,
        seed: u64,
        models: &[ModelSpec],
        loader: &FileLoader,
        lookup: &DeTable<'_>,
    ) -> Result<FaultTimeline, ScenarioError> {
        let at = |field: &str, msg: String| self.field_error(lookup, field, msg);
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
}
