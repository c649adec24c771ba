//! Designs under test, and the loop that runs them.
//!
//! A design is a [`Model`] (how it reacts to arrivals and to its own events) and a
//! [`ModelKind`] (its name, parameters, validation and report details), written in one file
//! under `kinds/` and listed once in [`Registry::builtin`]. The engine, the workload and the
//! metrics know nothing of any particular design. A [`Registry`] is a value: other crates add
//! their own kinds to it, run by this driver or by another backend ([`Runnable`]).
//!
//! [`run`] drives one model over one arrival trace: it merges the arrival stream with the
//! model's own events in (time, insertion) order, calls the model, and hands every outcome to
//! the [`pipesim_metrics::Recorder`]. It is generic over the model, so a model's events are plain
//! enums in the heap and every call is static.

pub mod clients;
mod ctx;
mod detail;
mod driver;
pub mod estimate;
mod failure;
mod fault;
pub mod kinds;
mod model;
mod progress;
pub mod registry;
pub mod store_faults;
mod store_table;

pub use ctx::Ctx;
pub use detail::{Cell, DetailTable, Row};
pub use driver::{RunSettings, run};
pub use estimate::{MemoryItem, ModelEstimate, Work};
pub use failure::RunFailure;
pub use fault::{
    Direction, DiskStallEffect, FAULT_KINDS, FaultKind, FaultPhase, FaultSpec, NETWORK_FAULT_KINDS,
    ResolvedFaults, RoleNodes, link_faults, resolve,
};
pub use model::{BuildEnv, Model, ModelKind, RunEnv};
pub use pipesim_components::CrashScope;
pub use progress::{PUBLISH_EVERY, RunProgress};
pub use registry::{
    KindEntry, KindInfo, ModelOutcome, ModelSpec, ModelTables, ParseFn, ParseModelError, Registry,
    RegistryError, Runnable, TableDeserializer, kinds,
};
