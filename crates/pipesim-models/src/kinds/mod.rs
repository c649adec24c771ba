//! One file per design.

pub mod baseline;
pub mod stations;
