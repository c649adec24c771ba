//! A Postgres-like store: CPU, a hot index latch, WAL group commit, commit modes, a standby.
//!
//! A write transaction goes through three stages:
//!
//! 1. **CPU**: parsing, planning and the heap insert, `insert` per row, on `cores` parallel
//!    servers (reads cost `read` per row on the same cores).
//! 2. **Index latch**: every insert into an index whose hot leaf (or GIN pending list) is one
//!    page serialises on that page's lock, `index_hold` per row, one at a time. With `gin`, the
//!    pending list fills up (`gin_pending_list` bytes of `gin_entry` entries) and the unlucky
//!    inserter that overflows it merges the whole list while holding the lock
//!    (`gin_cleanup_per_entry` each): a latency spike for everyone queued behind it.
//! 3. **Commit**: the transaction's WAL (`wal_row_bytes` per row plus the payload) goes to a
//!    group-commit log; one flush at a time takes `fsync` plus bytes / `wal_bandwidth`.
//!    `synchronous_commit` decides when the client is answered and the rows become visible:
//!    - `off`: at once; a background writer flushes every `wal_writer_delay` or once
//!      `wal_writer_flush_after` bytes wait, and a crash rolls back what it had not flushed
//!      (acknowledged and already seen by readers);
//!    - `local`: after the local flush;
//!    - `remote_write`, `on`, `remote_apply`: after the local flush and, with a `standby`, a round
//!      trip to it (`standby_rtt`), plus its own flush for `on` and its replay (`standby_apply`)
//!      for `remote_apply`. Without a standby they behave as `local`, as Postgres does.
//!
//! A crash fails every transaction in progress (the client sees an error and may retry), rolls
//! back unflushed asynchronous commits, and keeps flushed ones: those waiting for the standby
//! become visible when the server comes back, although their clients were never answered, so a
//! client retry writes them twice.
//!
//! The parameters are in `params.rs`, the running store in `store.rs`; this file holds the
//! transactions, events, outcomes and counters they exchange with the model.

mod params;
mod store;

pub use params::{IndexKind, PostgresParams, PostgresSpec, SyncCommit};
pub use store::Postgres;

use crate::group_commit::GroupCommitStats;
use pipesim_config::format_bandwidth;
use pipesim_engine::{NS_PER_S, SimTime};

/// A unit of work for the store: a job of the caller's type and what it costs.
#[derive(Clone, Copy, Debug)]
pub struct Txn<J> {
    /// The caller's job, returned with the outcome.
    pub job: J,
    /// Rows written or read.
    pub rows: u32,
    /// Payload bytes written (WAL).
    pub bytes: u64,
    /// Read or write.
    pub write: bool,
    /// Which hot index page the insert latches (one per table or shard on this server;
    /// `0` when there is one).
    pub page: u32,
}

/// The store's own events, to be wrapped in the model's event type.
#[derive(Clone, Copy, Debug)]
pub enum PgEvent<J> {
    /// A statement finished on a core.
    Cpu(u32, Txn<J>),
    /// An insert released the index latch.
    Index(u32, Txn<J>),
    /// A WAL flush finished.
    Flushed(u32),
    /// The standby answered for the oldest batch sent to it.
    Standby(u32),
    /// The background WAL writer's timer.
    WalWriter(u32),
    /// The server is back after a crash.
    Restart(u32),
}

/// What happened to a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PgOutcome<J> {
    /// Committed: the client is answered and the rows are visible.
    Committed(J),
    /// A read finished.
    Read(J),
    /// The transaction failed (crash, or the server is down): the client sees an error.
    Failed(J),
    /// An acknowledged asynchronous commit was lost in a crash: readers may have seen it.
    RolledBack(J),
    /// A commit whose client was never answered became visible when the server came back.
    Recovered(J),
    /// An asynchronous commit (already `Committed`) reached disk: a crash can no longer lose
    /// it. Only with `synchronous_commit = "off"`; other commits are durable when committed.
    Durable(J),
}

/// Counters for the report.
#[derive(Clone, Copy, Debug, Default)]
pub struct PgStats {
    /// Write transactions committed.
    pub commits: u64,
    /// Rows committed.
    pub rows: u64,
    /// Reads finished.
    pub reads: u64,
    /// GIN pending-list cleanups.
    pub gin_cleanups: u64,
    /// Transactions failed by crashes or downtime.
    pub failed: u64,
    /// WAL statistics.
    pub wal: GroupCommitStats,
    /// Busy core·ns.
    pub cpu_busy: f64,
    /// Index latch busy ns, summed over pages.
    pub latch_busy: f64,
    /// Index latch waits and their sum.
    pub latch_waited: u64,
    /// Sum of latch waits, ns.
    pub latch_wait_sum_ns: u128,
}

/// A human summary of WAL throughput, for details tables.
pub fn wal_rate_text(stats: &GroupCommitStats, seconds: f64) -> String {
    if seconds <= 0.0 {
        return "0/s".to_string();
    }
    format_bandwidth(stats.bytes as f64 / seconds)
}

/// Seconds in `ns` (for rates in details tables).
pub fn seconds(ns: SimTime) -> f64 {
    ns as f64 / NS_PER_S as f64
}
