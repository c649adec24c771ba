//! One file per design.

pub mod baseline;
pub mod cached;
pub mod event_sourced;
pub mod lua_ordered;
pub mod sharded;
pub mod stations;
