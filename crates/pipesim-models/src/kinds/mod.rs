//! One file per design.

pub mod baseline;
pub mod sharded;
pub mod stations;
