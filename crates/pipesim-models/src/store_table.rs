//! The `store` details table of a design with Postgres servers (`baseline`, `sharded`,
//! `lua_ordered`): what the database did over the measured interval, from the store's own
//! counters, so each design reports its store the same way and none imports another's.

use pipesim_components::PgStats;
use pipesim_engine::{NS_PER_MS, Window};

use crate::detail::DetailTable;

/// What the store table shows.
pub(crate) struct StoreSnapshot {
    pub(crate) stats: PgStats,
    /// CPU cores across the servers, for utilisation.
    pub(crate) cores: u32,
    pub(crate) retries: u64,
    pub(crate) timeouts: u64,
    pub(crate) leaks: u64,
}

/// The `store` details table: what the database did over the measured interval.
pub(crate) fn store_table(s: &StoreSnapshot, measure: Window) -> DetailTable {
    let seconds = measure.seconds();
    let w = &s.stats.wal;
    let mean_latch_wait_ms = if s.stats.latch_waited == 0 {
        0.0
    } else {
        s.stats.latch_wait_sum_ns as f64 / s.stats.latch_waited as f64 / NS_PER_MS as f64
    };
    DetailTable::named("store").with_row(|r| {
        r.int("commits", s.stats.commits)
            .fixed("commits_per_s", s.stats.commits as f64 / seconds, 3)
            .fixed(
                "cpu_utilisation",
                s.stats.cpu_busy / (seconds * 1e9 * f64::from(s.cores.max(1))),
                6,
            )
            .int("rows", s.stats.rows)
            .int("reads", s.stats.reads)
            .int("wal_flushes", w.flushes)
            .fixed("commits_per_flush", w.mean_batch(), 3)
            .fixed("wal_mb_per_s", w.bytes as f64 / seconds / 1e6, 3)
            .int("latch_waits", s.stats.latch_waited)
            .fixed("mean_latch_wait_ms", mean_latch_wait_ms, 6)
            .int("gin_cleanups", s.stats.gin_cleanups)
            .int("failed", s.stats.failed)
            .int("client_retries", s.retries)
            .int("client_timeouts", s.timeouts)
            .int("leaked_connections", s.leaks);
    })
}
