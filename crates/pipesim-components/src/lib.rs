//! The parts pipeline designs are built from.
//!
//! Each component is a plain struct with documented parameters (a `…Params` struct that a
//! scenario table deserializes into, with defaults and their sources, validated into a `…Spec`,
//! and a [`pipesim_config::Section`] so that a design declares it by name once)
//! and methods that take the run's [`pipesim_engine::Sim`] and a function wrapping the
//! component's own events into the model's event type. Components never call the recorder:
//! they return outcomes, and the model decides what an outcome means for an event
//! (acknowledged, visible, dropped), so the same store serves every design.

pub mod cache;
pub mod cdc;
mod client;
mod crash_scope;
mod deadlines;
mod fleet;
mod group_commit;
mod int_map;
pub mod kafka;
mod link;
mod lru;
pub mod lsm;
mod outbox;
mod pool;
pub mod postgres;
mod readers;
mod redis;
pub mod schema;
mod sections;
mod server;
pub mod stream;
mod tcp_outage;

pub use client::RetryParams;
pub use crash_scope::CrashScope;
pub use deadlines::{Deadlines, Ticket, TicketDeadlines};
pub use fleet::{Affinity, FleetParams};
pub use group_commit::{DiskEffect, DiskStall, GroupCommit, GroupCommitStats, WAL_PAGE_BYTES};
pub use int_map::IntMap;
pub use link::{Link, LinkFault, LinkFaultEffect, LinkParams, LinkSpec, check_probability};
pub use lru::{LRU_BYTES_PER_ENTRY, Lru, che_hit_ratio};
pub use outbox::Outbox;
pub use pool::{Pool, PoolParams};
pub use postgres::{
    IndexKind, PgEvent, PgOutcome, PgStats, Postgres, PostgresParams, PostgresSpec, SyncCommit, Txn,
};
pub use readers::{Poll, ReaderKeys, ReaderParams, Readers};
pub use redis::{RedisCluster, RedisParams, RedisSpec, crc16, slot_of};
pub use server::{FifoServer, ServerStats};
pub use tcp_outage::TcpConn;
