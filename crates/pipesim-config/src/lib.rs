//! Configuration vocabulary shared by the scenario parser and the models.
//!
//! - [`Duration`], [`Rate`] and [`Size`]: quantities written with their units (`"1.5ms"`,
//!   `"950k/s"`, `"4KiB"`), parsed exactly and printed back the same way.
//! - [`DistSpec`]: a distribution as a scenario writes it, resolved into an engine
//!   [`pipesim_engine::Dist`] once files (empirical `.hgrm` tables) are read.
//! - [`ParamDoc`]: what `pipesim models` prints for each parameter.
//! - [`ConfigError`]: a message and the dotted path of the field it is about; the scenario
//!   crate turns the path into a file, line and column.
//! - [`suggest`]: "did you mean" for near misses.
//! - [`Section`] and [`sections!`]: a design's model table declared section by section, its
//!   documentation and its checks generated from the one declaration.
//!
//! This crate does no I/O: files are read through the [`Loader`] the caller passes in.

mod dist_spec;
mod error;
mod hgrm;
pub mod limits;
mod params;
mod section;
mod suggest;
mod units;

pub use dist_spec::{DIST_KINDS, DistSpec, Loader};
pub use error::ConfigError;
pub use hgrm::{HgrmError, parse_hgrm};
pub use params::ParamDoc;
pub use section::Section;
pub use suggest::{explain_serde_message, suggest};
pub use units::{
    Bandwidth, Duration, Rate, Size, UnitError, format_bandwidth, format_rate, format_size,
    parse_bandwidth, parse_duration_ns, parse_rate_per_s, parse_size_bytes,
};
