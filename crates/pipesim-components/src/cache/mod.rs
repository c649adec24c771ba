//! A cache service holding, per entity, a ring buffer of its last events, fed by a change
//! stream and read by clients (seed 001's EventCache).
//!
//! **Entries.** The service holds at most `entities` entities, least recently *read* evicted
//! first (an [`Lru`](crate::Lru)). Each entity is a ring buffer of its last `ring` events:
//! appending to a full ring overwrites the oldest, so memory per entity is bounded whatever the
//! entity's rate. An entry records how many events its ring holds and the highest log position
//! it reflects; payloads are not stored.
//!
//! **Updates.** Changes arrive from a partitioned stream; partition `p` is applied by consumer
//! thread `p mod consumers`, one change at a time, `apply` each, so an entity's changes are
//! applied in order. A change to an entity the cache holds is appended to its ring; a change to
//! an entity it does not hold is skipped (the store has it, and the next read of that entity
//! loads it). With `dedup`, a change whose log position the entry already reflects is skipped
//! too; without it, a change delivered twice (a replay after a restart, or one that raced with
//! the load of its entity) is appended twice. An applied change becomes visible to readers
//! `update_lag` later.
//!
//! **Reads.** A request for some entities waits for one of `threads` request threads, takes
//! `read_request` plus `read_entity` per entity, and finds each entity present (a hit) or not
//! (a miss). The caller loads the missing entities from the store (their last `ring` events) and
//! hands them to [`Cache::fill`], which inserts them with the store's snapshot position.
//!
//! **Crashes.** Everything in memory is lost. Without a write-ahead log the service restarts
//! empty at once (cold: every read misses until the entities are loaded again, a stampede on
//! the store); with one (`wal`, RocksDB-style) it first replays the log for `replay` and comes
//! back with every entry it had (warm). Either way its stream consumer resumes from its last
//! committed position (`commit_interval`), so changes applied since are delivered again.
//!
//! The parameters are in `params.rs`, the running service in `service.rs`; this file holds the
//! events, outcomes and counters they exchange with the model.

mod params;
mod service;
#[cfg(test)]
mod tests;

pub use params::{CacheParams, CacheSpec};
pub use service::Cache;

use crate::cdc::Change;
use pipesim_engine::SimTime;

/// What the cache holds for one entity.
#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    /// Events in the ring (at most `ring`).
    len: u32,
    /// Highest log position the ring reflects (by a change applied or by the load's snapshot).
    lsn: u64,
}

/// The cache's own events. Each carries the service's epoch: events scheduled before a crash
/// are recognised as stale.
#[derive(Clone, Copy, Debug)]
pub enum CacheEvent<J, R> {
    /// A consumer thread finished applying a change of a partition: (epoch, partition, change).
    Applied(u32, u32, Change<J>),
    /// A request thread finished a read: (epoch, request).
    Served(u32, R),
    /// The service is back (after the restart and any log replay).
    Ready(u32),
}

/// What applying a change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Apply {
    /// Appended to its entity's ring; `repeat` when the entry already reflected its position
    /// (so the ring now holds it twice).
    Appended {
        /// The change was already in the ring.
        repeat: bool,
    },
    /// Skipped: the entry already reflects it (with `dedup`).
    Deduplicated,
    /// Skipped: the cache does not hold the entity.
    NotHeld,
}

/// What the cache reports to the model.
#[derive(Clone, Copy, Debug)]
pub enum CacheOutcome<J, R> {
    /// A change was applied (or skipped); readers see it `visible_in` ns from now.
    Applied {
        /// Its partition, so the caller can tell the stream it is done.
        partition: u32,
        /// The change.
        change: Change<J>,
        /// What happened to it.
        apply: Apply,
        /// The update lag before readers see it.
        visible_in: SimTime,
    },
    /// A read request was handled: the caller looks its entities up.
    Served(R),
    /// A read request was lost in a crash.
    Failed(R),
    /// The service serves again after a crash.
    Ready,
}

/// Hits and misses of one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lookup {
    /// Entities found.
    pub hits: u32,
    /// Entities missing.
    pub misses: u32,
    /// Rows the store must return to load the missing ones (their last `ring` events each).
    pub rows: u64,
}

/// Counters for the report, over the window set by [`Cache::set_window`] (by default the
/// whole run); the sizes (`max_ring`, `max_events`) and `restarts` cover the whole run.
#[derive(Clone, Copy, Debug, Default)]
pub struct CacheStats {
    /// Entities found by reads.
    pub hits: u64,
    /// Entities missed by reads.
    pub misses: u64,
    /// Entities loaded from the store.
    pub loads: u64,
    /// Rows loaded from the store.
    pub load_rows: u64,
    /// Changes appended to a ring.
    pub appended: u64,
    /// Of those, changes the ring already held (duplicates in the ring).
    pub repeats: u64,
    /// Changes skipped as already reflected.
    pub deduplicated: u64,
    /// Changes skipped because the entity was not held.
    pub not_held: u64,
    /// Events pushed out of a full ring.
    pub overwritten: u64,
    /// Entities evicted.
    pub evictions: u64,
    /// Most events one ring held.
    pub max_ring: u32,
    /// Most events held in all rings at once.
    pub max_events: u64,
    /// Crashes.
    pub restarts: u64,
    /// Apply busy time, thread·ns.
    pub apply_busy_ns: u128,
}

impl CacheStats {
    /// Hits over lookups.
    pub fn hit_ratio(&self) -> f64 {
        let n = self.hits + self.misses;
        if n == 0 { 0.0 } else { self.hits as f64 / n as f64 }
    }
}
