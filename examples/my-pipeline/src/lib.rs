//! A pipesim user's crate: two designs of its own, registered beside the built-in ones and
//! run through the pipesim command line (`src/main.rs`).
//!
//! - [`wire::WireGroupCommit`] (`wire_my_group_commit`): an ingest server that appends events
//!   to a log file on its simulated disk and fsyncs it in batches (group commit), written as
//!   a real tokio service on turmoil's network;
//! - [`des::GroupCommit`] (`my_group_commit`): its discrete-event twin, for the same scenario.
//!
//! [`commit`] holds what they share: the parameters and the schedule.

pub mod commit;
pub mod des;
pub mod wire;

use pipesim_models::{Registry, RegistryError};

/// Adds this crate's kinds to `registry`.
pub fn register(registry: &mut Registry) -> Result<(), RegistryError> {
    registry.add_des::<des::GroupCommit>()?;
    pipesim_wire::register::<wire::WireGroupCommit>(registry)
}
