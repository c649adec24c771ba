//! The list of model kinds, and type-erased model specs for the runner.
//!
//! Adding a design: write `kinds/<name>.rs` implementing [`Model`] and [`ModelKind`], then add
//! its type to the `kinds!` list below. Nothing else changes.

use crate::detail::DetailTable;
use crate::driver::{RunError, RunSettings, run};
use crate::estimate::{ModelEstimate, estimate};
use crate::fault::{FaultSpec, ResolvedFaults, resolve};

use crate::model::{BuildEnv, ModelKind, RunEnv};
use pipesim_config::{ConfigError, ParamDoc};
use pipesim_engine::RngStreams;
use pipesim_metrics::RunResults;
use pipesim_workload::WorkloadSpec;
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::sync::Arc;

/// What `pipesim models` shows for one kind.
#[derive(Clone, Debug)]
pub struct KindInfo {
    /// The `kind` name.
    pub name: &'static str,
    /// One line.
    pub summary: &'static str,
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
    inner: Arc<dyn ErasedKind>,
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
}

impl ModelSpec {
    /// Runs the model once over the workload and the fault timeline.
    pub fn run(
        &self,
        settings: &RunSettings,
        workload: &WorkloadSpec,
        faults: &[FaultSpec],
    ) -> Result<ModelOutcome, RunError> {
        self.inner.run(settings, workload, faults)
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

    /// The validated parameters, defaults included, as JSON for the report.
    pub fn parameters(&self) -> serde_json::Value {
        self.inner.parameters()
    }

    /// Warnings about the model under this workload.
    pub fn warnings(&self, workload: &WorkloadSpec) -> Vec<String> {
        self.inner.warnings(workload)
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

trait ErasedKind: Send + Sync {
    fn run(
        &self,
        settings: &RunSettings,
        workload: &WorkloadSpec,
        faults: &[FaultSpec],
    ) -> Result<ModelOutcome, RunError>;
    fn resolve_faults(&self, faults: &[FaultSpec]) -> ResolvedFaults;
    fn fault_roles(&self) -> &'static [&'static str];
    fn fault_kinds(&self, role: &str) -> &'static [&'static str];
    fn parameters(&self) -> serde_json::Value;
    fn warnings(&self, workload: &WorkloadSpec) -> Vec<String>;
    fn estimate(
        &self,
        name: &str,
        settings: &RunSettings,
        workload: &WorkloadSpec,
        faults: &[FaultSpec],
    ) -> ModelEstimate;
}

struct Erased<K: ModelKind>(K::Params);

impl<K: ModelKind> ErasedKind for Erased<K> {
    fn run(
        &self,
        settings: &RunSettings,
        workload: &WorkloadSpec,
        faults: &[FaultSpec],
    ) -> Result<ModelOutcome, RunError> {
        let streams = RngStreams::new(settings.seed);
        let resolved = self.resolve_faults(faults);
        let faults = &resolved.delivered;
        let mut model =
            K::build(&self.0, &RunEnv { streams: &streams, workload, settings, faults });
        let results = run(&mut model, settings, workload, &resolved)?;
        let details = model.details(&results);
        Ok(ModelOutcome { results, details, faults: resolved.windows })
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

    fn parameters(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).expect("parameters serialize to JSON")
    }

    fn warnings(&self, workload: &WorkloadSpec) -> Vec<String> {
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
pub enum ParseModelError<E> {
    /// No kind has this name; the known ones are listed by [`kinds`].
    UnknownKind(String),
    /// The table did not deserialize (unknown key, wrong type).
    Deserialize(E),
    /// The values are out of their domain.
    Invalid(ConfigError),
}

fn parse_kind<'de, K: ModelKind, D: Deserializer<'de>>(
    name: &str,
    de: D,
    env: &BuildEnv<'_>,
) -> Result<ModelSpec, ParseModelError<D::Error>> {
    let config = K::Config::deserialize(de).map_err(ParseModelError::Deserialize)?;
    let params = K::validate(config, env).map_err(ParseModelError::Invalid)?;
    Ok(ModelSpec { name: name.to_string(), kind: K::KIND, inner: Arc::new(Erased::<K>(params)) })
}

fn info<K: ModelKind>() -> KindInfo {
    KindInfo { name: K::KIND, summary: K::SUMMARY, params: K::params_doc() }
}

macro_rules! kinds {
    ($($kind:ty),+ $(,)?) => {
        /// Every model kind, in the order `pipesim models` lists them.
        pub fn kinds() -> Vec<KindInfo> {
            vec![$(info::<$kind>()),+]
        }

        /// Builds the model named `name` of kind `kind` from the rest of its table.
        pub fn parse_model<'de, D: Deserializer<'de>>(
            name: &str,
            kind: &str,
            de: D,
            env: &BuildEnv<'_>,
        ) -> Result<ModelSpec, ParseModelError<D::Error>> {
            $(
                if kind == <$kind as ModelKind>::KIND {
                    return parse_kind::<$kind, D>(name, de, env);
                }
            )+
            Err(ParseModelError::UnknownKind(kind.to_string()))
        }
    };
}

kinds!(
    crate::kinds::baseline::Baseline,
    crate::kinds::cached::Cached,
    crate::kinds::event_sourced::EventSourced,
    crate::kinds::sharded::Sharded,
    crate::kinds::lua_ordered::LuaOrdered,
    crate::kinds::stations::Stations,
);
