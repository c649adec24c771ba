//! One file per design.

pub mod stations;
