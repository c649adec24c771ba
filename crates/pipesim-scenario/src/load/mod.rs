//! From text to a validated [`Scenario`]: the orchestration.
//!
//! [`load_str`] parses the TOML, applies the `--set` overrides, deserializes the raw tree and
//! then checks it in a fixed order: the top-level fields (name, duration, warmup, timeline
//! window, description, run length), the workload ([`workload`]), the models ([`models`]), the
//! gate and sweep tables, `--models`, the fault timeline ([`faults`]) and the claims
//! ([`claims`]). The first error found is the one reported; [`diagnostics`] locates it in the
//! file or in a `--set` flag.

mod claims;
mod diagnostics;
mod faults;
mod models;
mod workload;

pub use claims::Claim;

use crate::error::{ErrorOrigin, ScenarioError};
use crate::overrides::{Override, apply};
use crate::path::{FieldPath, Segment};
use crate::raw::RawScenario;
use crate::source::{MAX_DATA_FILE_BYTES, read_scenario};
use models::select;
use pipesim_config::{Loader, limits};
use pipesim_engine::{SimTime, format_duration_ns};
use pipesim_models::{FaultSpec, ModelSpec, Registry, RunSettings};
use pipesim_workload::WorkloadSpec;
use pipesim_workload::input::{read_capped, strip_bom};
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use workload::trace_warning;

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
        let (raw, lookup) = self.parse()?;
        let seed = self.opts.seed.unwrap_or(raw.seed);
        let window_ns = self.check_top_level(&raw, &lookup)?;
        let loader =
            FileLoader { base: self.path.parent().map(Path::to_path_buf).unwrap_or_default() };
        let workload = self.workload(&raw.workload, raw.duration.ns, &loader, &lookup)?;
        self.check_counts(&raw, &workload, &lookup)?;
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
        warnings.extend(timeline.skipped_warning());
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

    /// The text parsed, the `--set` flags applied, and the tree deserialized; also returns the
    /// tree, to locate errors in.
    fn parse(&self) -> Result<(RawScenario, DeTable<'a>), ScenarioError> {
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
        Ok((raw, lookup))
    }

    /// The top-level fields: name, duration, warmup, timeline window, description and run
    /// length. Returns the timeline window.
    fn check_top_level(
        &self,
        raw: &RawScenario,
        lookup: &DeTable<'_>,
    ) -> Result<SimTime, ScenarioError> {
        let at = |p: &str, msg: String| self.field_error(lookup, p, msg);
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
        let window_ns = timeline_window(raw).map_err(|m| at("window", m))?;
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
        Ok(window_ns)
    }

    /// The expected number of arrivals and the number of claims, against their limits.
    fn check_counts(
        &self,
        raw: &RawScenario,
        workload: &WorkloadSpec,
        lookup: &DeTable<'_>,
    ) -> Result<(), ScenarioError> {
        let at = |p: &str, msg: String| self.field_error(lookup, p, msg);
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
        Ok(())
    }
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
