//! Scenario files: the only place input is parsed.
//!
//! [`load`] reads a TOML scenario, applies `--set` overrides and `--seed`, checks every field,
//! and returns a [`Scenario`]: plain values in engine units plus one validated
//! [`pipesim_models::ModelSpec`] per design. Every error is a [`ScenarioError`] that names the
//! file, line and column, the field's dotted path, and, when it came from a `--set`, the flag.
//!
//! Nothing here runs a simulation.

mod error;
mod fault_kinds;
mod fault_table;
mod fault_trace;
mod load;
mod location;
mod overrides;
mod path;
mod random_faults;
mod raw;
mod replay;
mod source;

pub use error::{ErrorOrigin, ScenarioError};
pub use load::{Claim, LoadOptions, Scenario, load, load_str};
pub use location::Location;
pub use overrides::Override;
pub use path::{FieldPath, Segment};
pub mod gate;
pub mod sweep;
pub mod threshold;
pub use replay::{fault_trace_lines, replay_scenario};
