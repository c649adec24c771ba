//! The reference wire designs, written as a user would write a real service: TCP, framed
//! messages, tokio tasks, state on the simulated disk where it would be on disk. They use only
//! this crate's public API.

pub mod fifo;
pub mod log;
pub mod lua;
pub mod sharded;
