//! The kinds a scenario can name, and type-erased model specs for the runner.
//!
//! A [`Registry`] is a list of kinds. [`Registry::builtin`] holds the designs of this crate, run
//! by the discrete-event driver; a user crate adds its own with [`Registry::add_des`] (a
//! [`ModelKind`]) or [`Registry::add`] (any backend that implements [`Runnable`], such as the
//! wire-level backend of `pipesim-wire`), and hands the registry to the command line.
//!
//! Adding a design to this crate: write `kinds/<name>.rs` implementing [`Model`] and
//! [`ModelKind`], then add its type to [`Registry::builtin`]. Nothing else changes.
//!
//! [`Model`]: crate::Model

use crate::detail::DetailTable;
use crate::driver::{RunSettings, run};
use crate::estimate::{ModelEstimate, estimate};
use crate::failure::RunFailure;
use crate::fault::{FaultSpec, ResolvedFaults, resolve};
use crate::model::{BuildEnv, ModelKind, RunEnv};
use pipesim_components::CrashScope;
use pipesim_config::{ConfigError, ParamDoc};
use pipesim_engine::RngStreams;
use pipesim_metrics::RunResults;
use pipesim_workload::WorkloadSpec;
use std::fmt;
use std::sync::Arc;

/// What `pipesim models` shows for one kind.
#[derive(Clone, Debug)]
pub struct KindInfo {
    /// The `kind` name.
    pub name: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Which backend runs it: `des` (the discrete-event driver) or `wire` (real services on a
    /// simulated network).
    pub backend: &'static str,
    /// Its parameters.
    pub params: Vec<ParamDoc>,
}

/// A validated model of a scenario, ready to run any number of times on any thread.
#[derive(Clone)]
pub struct ModelSpec {
    /// The model's name in the scenario.
    pub name: String,
    /// Its kind.
    pub kind: &'static str,
    inner: Arc<dyn Runnable>,
}

/// What one run of one model produced.
pub struct ModelOutcome {
    /// Latency, throughput, invariants, timeline.
    pub results: RunResults,
    /// Design-specific tables.
    pub details: Vec<DetailTable>,
    /// The fault windows as they fell on this model (a rolling restart's end depends on the
    /// model's node count), one per scenario fault in timeline order.
    pub faults: Vec<FaultSpec>,
    /// What the run noticed that the user should know (a service that never reported an
    /// event visible, say); printed on stderr and kept in the model's report entry.
    pub notes: Vec<String>,
}

impl ModelSpec {
    /// A model named `name` of kind `kind`, run by `runner`.
    pub fn new(name: impl Into<String>, kind: &'static str, runner: Arc<dyn Runnable>) -> Self {
        Self { name: name.into(), kind, inner: runner }
    }

    /// Runs the model once over the workload and the fault timeline. A DES model cannot fail;
    /// a backend running code under test fails when that code does.
    pub fn run(
        &self,
        settings: &RunSettings,
        workload: &WorkloadSpec,
        faults: &[FaultSpec],
    ) -> Result<ModelOutcome, RunFailure> {
        let outcome = self.inner.run(settings, workload, faults)?;
        for table in &outcome.details {
            // A row that does not match its columns would print under the wrong headings: a
            // bug in the design, stopped here rather than shown as figures.
            if let Err(e) = table.check() {
                panic!("model {:?} (kind {}): {e}", self.name, self.kind);
            }
        }
        Ok(outcome)
    }

    /// The scenario's fault timeline as it falls on this model.
    pub fn resolve_faults(&self, faults: &[FaultSpec]) -> ResolvedFaults {
        self.inner.resolve_faults(faults)
    }

    /// The fault roles the model has.
    pub fn fault_roles(&self) -> &'static [&'static str] {
        self.inner.fault_roles()
    }

    /// The fault kinds the model can apply to `role`.
    pub fn fault_kinds(&self, role: &str) -> &'static [&'static str] {
        self.inner.fault_kinds(role)
    }

    /// The crash scopes the model takes on `role`, its default first.
    pub fn crash_scopes(&self, role: &str) -> &'static [CrashScope] {
        self.inner.crash_scopes(role)
    }

    /// The validated parameters, defaults included, as JSON for the report.
    pub fn parameters(&self) -> serde_json::Value {
        self.inner.parameters()
    }

    /// Warnings about the model under this workload, before the run.
    pub fn warnings(&self, workload: &WorkloadSpec, settings: &RunSettings) -> Vec<String> {
        self.inner.warnings(workload, settings)
    }

    /// What a run of the model over the workload and the fault timeline will cost.
    pub fn estimate(
        &self,
        settings: &RunSettings,
        workload: &WorkloadSpec,
        faults: &[FaultSpec],
    ) -> ModelEstimate {
        self.inner.estimate(&self.name, settings, workload, faults)
    }
}

impl fmt::Debug for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelSpec").field("name", &self.name).field("kind", &self.kind).finish()
    }
}

/// A validated model as the runner sees it, whatever runs it. [`ModelKind`]s get one from
/// [`Registry::add_des`]; another backend implements it for its own kinds.
pub trait Runnable: Send + Sync {
    /// One run over the workload and the scenario's fault timeline.
    fn run(
        &self,
        settings: &RunSettings,
        workload: &WorkloadSpec,
        faults: &[FaultSpec],
    ) -> Result<ModelOutcome, RunFailure>;
    /// The timeline as it falls on this model (see [`resolve`]).
    fn resolve_faults(&self, faults: &[FaultSpec]) -> ResolvedFaults;
    /// The roles faults may target.
    fn fault_roles(&self) -> &'static [&'static str];
    /// The fault kinds `role` takes.
    fn fault_kinds(&self, role: &str) -> &'static [&'static str];
    /// The crash scopes `role` takes, its default first.
    fn crash_scopes(&self, role: &str) -> &'static [CrashScope];
    /// The validated parameters as JSON.
    fn parameters(&self) -> serde_json::Value;
    /// Things worth telling the user before the run.
    fn warnings(&self, workload: &WorkloadSpec, settings: &RunSettings) -> Vec<String>;
    /// What a run will cost (events, memory, wall time), before it starts.
    fn estimate(
        &self,
        name: &str,
        settings: &RunSettings,
        workload: &WorkloadSpec,
        faults: &[FaultSpec],
    ) -> ModelEstimate;
}

struct Des<K: ModelKind>(K::Params);

impl<K: ModelKind> Runnable for Des<K> {
    fn run(
        &self,
        settings: &RunSettings,
        workload: &WorkloadSpec,
        faults: &[FaultSpec],
    ) -> Result<ModelOutcome, RunFailure> {
        let streams = RngStreams::new(settings.seed);
        let resolved = self.resolve_faults(faults);
        let faults = &resolved.delivered;
        let mut model =
            K::build(&self.0, &RunEnv { streams: &streams, workload, settings, faults });
        let results = run(&mut model, settings, workload, &resolved)?;
        let details = model.details(&results);
        Ok(ModelOutcome { results, details, faults: resolved.windows, notes: Vec::new() })
    }

    fn resolve_faults(&self, faults: &[FaultSpec]) -> ResolvedFaults {
        resolve(faults, |role| K::role_nodes(&self.0, role))
    }

    fn fault_roles(&self) -> &'static [&'static str] {
        K::fault_roles()
    }

    fn fault_kinds(&self, role: &str) -> &'static [&'static str] {
        K::fault_kinds(role)
    }

    fn crash_scopes(&self, role: &str) -> &'static [CrashScope] {
        K::crash_scopes(role)
    }

    fn parameters(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).expect("parameters serialize to JSON")
    }

    fn warnings(&self, workload: &WorkloadSpec, _settings: &RunSettings) -> Vec<String> {
        K::warnings(&self.0, workload)
    }

    fn estimate(
        &self,
        name: &str,
        settings: &RunSettings,
        workload: &WorkloadSpec,
        faults: &[FaultSpec],
    ) -> ModelEstimate {
        let resolved = self.resolve_faults(faults);
        let own = K::memory(&self.0, workload);
        let mut work = K::work(&self.0, workload);
        // A design with a sizing warning (utilisation at or above 1) falls behind: its backlog
        // can grow to every arrival.
        if !K::warnings(&self.0, workload).is_empty() {
            work.in_flight_s = f64::INFINITY;
        }
        estimate(name, work, own, settings, workload, &resolved.delivered)
    }
}

/// Why a model table did not give a model.
#[derive(Debug)]
pub enum ParseModelError {
    /// No kind has this name; the known ones are listed by [`Registry::kinds`].
    UnknownKind(String),
    /// A table did not deserialize (unknown key, wrong type); the caller's deserializer
    /// knows where.
    Deserialize {
        /// Whether it was the backend's table ([`ModelTables::harness`]) rather than the
        /// design's.
        harness: bool,
        /// What serde said.
        error: erased_serde::Error,
    },
    /// The values are out of their domain.
    Invalid(ConfigError),
}

/// The deserializer a model table arrives through: the scenario crate's, with spans and path
/// tracking, behind one object-safe type so that kinds from any crate can share it.
pub type TableDeserializer<'a, 'de> = &'a mut dyn erased_serde::Deserializer<'de>;

/// A `[[model]]` table as a kind receives it, split in two: the keys of the backend that runs
/// the kind ([`KindEntry::harness_keys`], such as the wire backend's `wire` and `network`
/// tables) and the rest, which belongs to the design. `name` and `kind` are removed.
pub struct ModelTables<'a, 'de> {
    /// The design's keys.
    pub design: TableDeserializer<'a, 'de>,
    /// The backend's keys (an empty table for a kind without any).
    pub harness: TableDeserializer<'a, 'de>,
}

/// Builds a model named `name` from its tables.
pub type ParseFn =
    fn(&str, ModelTables<'_, '_>, &BuildEnv<'_>) -> Result<ModelSpec, ParseModelError>;

/// One kind of a [`Registry`].
#[derive(Clone)]
pub struct KindEntry {
    /// What `pipesim models` prints.
    pub info: fn() -> KindInfo,
    /// Validates a model table into a model.
    pub parse: ParseFn,
    /// The top-level keys of a model table that belong to the backend rather than to the
    /// design; they reach [`ParseFn`] as [`ModelTables::harness`]. Empty for DES kinds.
    pub harness_keys: &'static [&'static str],
}

/// Why a kind could not be added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryError {
    /// A kind of this name is already registered (a built-in one, or one added before).
    Duplicate(&'static str),
    /// The name is not a valid kind name (lowercase letters, digits and `_`, starting with a
    /// letter).
    BadName(&'static str),
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Duplicate(k) => write!(f, "a model kind named `{k}` is already registered"),
            Self::BadName(k) => write!(
                f,
                "`{k}` is not a valid kind name: use lowercase letters, digits and `_`, starting with a letter"
            ),
        }
    }
}

impl std::error::Error for RegistryError {}

/// The kinds a scenario can name, in the order `pipesim models` lists them.
#[derive(Clone)]
pub struct Registry {
    kinds: Arc<Vec<(&'static str, KindEntry)>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::builtin()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.kinds.iter().map(|(name, _)| name)).finish()
    }
}

impl Registry {
    /// No kinds at all.
    pub fn empty() -> Self {
        Self { kinds: Arc::new(Vec::new()) }
    }

    /// The designs this crate ships, run by the discrete-event driver.
    pub fn builtin() -> Self {
        let mut r = Self::empty();
        macro_rules! des {
            ($($kind:ty),+ $(,)?) => {
                $(r.add_des::<$kind>().expect("built-in kinds have distinct, valid names");)+
            };
        }
        des!(
            crate::kinds::baseline::Baseline,
            crate::kinds::cached::Cached,
            crate::kinds::event_sourced::EventSourced,
            crate::kinds::sharded::Sharded,
            crate::kinds::lua_ordered::LuaOrdered,
            crate::kinds::stations::Stations,
        );
        r
    }

    /// Adds a discrete-event design.
    pub fn add_des<K: ModelKind>(&mut self) -> Result<(), RegistryError> {
        self.add(
            K::KIND,
            KindEntry { info: des_info::<K>, parse: parse_des::<K>, harness_keys: &[] },
        )
    }

    /// Adds a kind run by any backend.
    pub fn add(&mut self, name: &'static str, entry: KindEntry) -> Result<(), RegistryError> {
        let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(RegistryError::BadName(name));
        }
        if self.kinds.iter().any(|(k, _)| *k == name) {
            return Err(RegistryError::Duplicate(name));
        }
        Arc::make_mut(&mut self.kinds).push((name, entry));
        Ok(())
    }

    /// Every kind, in registration order.
    pub fn kinds(&self) -> Vec<KindInfo> {
        self.kinds.iter().map(|(_, e)| (e.info)()).collect()
    }

    /// The names of every kind, in registration order.
    pub fn names(&self) -> Vec<&'static str> {
        self.kinds.iter().map(|(name, _)| *name).collect()
    }

    /// The backend's keys of `kind` (see [`KindEntry::harness_keys`]); `None` for an unknown
    /// kind.
    pub fn harness_keys(&self, kind: &str) -> Option<&'static [&'static str]> {
        self.kinds.iter().find(|(k, _)| *k == kind).map(|(_, e)| e.harness_keys)
    }

    /// Builds the model named `name` of kind `kind` from the rest of its table.
    pub fn parse_model(
        &self,
        name: &str,
        kind: &str,
        tables: ModelTables<'_, '_>,
        env: &BuildEnv<'_>,
    ) -> Result<ModelSpec, ParseModelError> {
        match self.kinds.iter().find(|(k, _)| *k == kind) {
            Some((_, entry)) => (entry.parse)(name, tables, env),
            None => Err(ParseModelError::UnknownKind(kind.to_string())),
        }
    }
}

fn parse_des<K: ModelKind>(
    name: &str,
    tables: ModelTables<'_, '_>,
    env: &BuildEnv<'_>,
) -> Result<ModelSpec, ParseModelError> {
    let config: K::Config = erased_serde::deserialize(tables.design)
        .map_err(|error| ParseModelError::Deserialize { harness: false, error })?;
    let params = K::validate(config, env).map_err(ParseModelError::Invalid)?;
    Ok(ModelSpec::new(name, K::KIND, Arc::new(Des::<K>(params))))
}

fn des_info<K: ModelKind>() -> KindInfo {
    KindInfo { name: K::KIND, summary: K::SUMMARY, backend: "des", params: K::params_doc() }
}

/// Every built-in kind, in the order `pipesim models` lists them.
pub fn kinds() -> Vec<KindInfo> {
    Registry::builtin().kinds()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_checked() {
        let mut r = Registry::builtin();
        let stations = crate::kinds::stations::Stations::KIND;
        assert_eq!(
            r.add_des::<crate::kinds::stations::Stations>(),
            Err(RegistryError::Duplicate(stations))
        );
        let entry = r.kinds.iter().find(|(k, _)| *k == stations).unwrap().1.clone();
        assert_eq!(r.add("Bad-Name", entry.clone()), Err(RegistryError::BadName("Bad-Name")));
        assert_eq!(r.add("9lives", entry.clone()), Err(RegistryError::BadName("9lives")));
        assert_eq!(r.add("my_stations", entry), Ok(()));
        assert_eq!(r.names().last(), Some(&"my_stations"));
        assert_eq!(Registry::builtin().names().len() + 1, r.names().len());
    }
}
