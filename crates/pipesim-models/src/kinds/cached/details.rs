//! `cached`'s tables in the report: `store` (commits, WAL flushes, CPU, failures, the writer's
//! retries, leaked pool connections), `cdc` (the connector's decoding, lag and replays), `topic`
//! and `cache` (hits, loads, rings, memory, reads, and commit-to-visible latency), all over the
//! measured interval.

use super::Cached;
use crate::detail::{Cell, DetailTable};
use pipesim_engine::NS_PER_MS;

impl Cached {
    /// `ModelKind::details`: the tables, in the report's order.
    #[expect(clippy::too_many_lines, reason = "over the 70-line budget (clippy.toml); to be split")]
    pub(super) fn detail_tables(&self) -> Vec<DetailTable> {
        let measured = self.measure.len_ns().max(1) as f64;
        let pg = self.store.stats(self.measure.to_ns);
        let cores = f64::from(self.params.store.cores);
        let store = DetailTable::named("store").with_row(|r| {
            r.int("commits", pg.commits)
                .int("reads", pg.reads)
                .int("wal_flushes", pg.wal.flushes)
                .fixed("commits_per_flush", pg.wal.mean_batch(), 3)
                .fixed("cpu_utilisation", pg.cpu_busy / (cores * measured), 4)
                .int("failed", pg.failed)
                .int("writer_retries", self.stats.write_retries)
                .int("leaked_connections", self.stats.leaks);
        });
        let c = self.cdc.stats();
        let mean_decode = self.params.specs.cdc.mean_decode_ns();
        let cdc = DetailTable::named("cdc").with_row(|r| {
            r.int("captured", c.captured)
                .int("published", c.published)
                .int("replayed", c.replayed)
                .int("restarts", c.restarts)
                .fixed("decode_ms", c.mean_decode_ms(), 6)
                .fixed("mean_ms", c.mean_lag_ms(), 6)
                .fixed("max_ms", c.lag_max_ns as f64 / NS_PER_MS as f64, 6)
                .fixed("utilisation", c.busy_ns as f64 / measured, 4)
                .fixed("capacity_per_s", if mean_decode > 0.0 { 1e9 / mean_decode } else { 0.0 }, 1)
                .int("max_backlog", c.max_backlog);
        });
        let t = self.topic.stats();
        let topic = DetailTable::named("topic").with_row(|r| {
            r.int("partitions", u64::from(self.params.topic.partitions))
                .int("published", t.published)
                .int("delivered", t.delivered)
                .int("redelivered", t.delivered.saturating_sub(t.published))
                .int("rewinds", t.rewinds);
        });
        let k = self.cache.stats();
        let v = self.visibility.summary();
        let ms = |ns: u64| Cell::Fixed(ns as f64 / NS_PER_MS as f64, 3);
        let cache = DetailTable {
            name: "cache",
            columns: vec![
                "hits",
                "misses",
                "hit_ratio",
                "load_queries",
                "loads",
                "load_rows",
                "appended",
                "repeats",
                "deduplicated",
                "not_held",
                "overwritten",
                "evictions",
                "ring",
                "max_ring_events",
                "entities_held",
                "events_held",
                "max_events_held",
                "max_memory_mb",
                "restarts",
                "reads_ok",
                "failed_reads",
                "visibility_p50_ms",
                "visibility_p99_ms",
                "visibility_p999_ms",
                "visibility_max_ms",
            ],
            rows: vec![vec![
                Cell::Int(k.hits),
                Cell::Int(k.misses),
                Cell::Fixed(k.hit_ratio(), 6),
                Cell::Int(self.stats.loads),
                Cell::Int(k.loads),
                Cell::Int(k.load_rows),
                Cell::Int(k.appended),
                Cell::Int(k.repeats),
                Cell::Int(k.deduplicated),
                Cell::Int(k.not_held),
                Cell::Int(k.overwritten),
                Cell::Int(k.evictions),
                Cell::Int(u64::from(self.params.cache.ring)),
                Cell::Int(u64::from(k.max_ring)),
                Cell::Int(self.cache.entities_held() as u64),
                Cell::Int(self.cache.events_held()),
                Cell::Int(k.max_events),
                Cell::Fixed(k.max_events as f64 * f64::from(self.payload_bytes) / 1e6, 3),
                Cell::Int(k.restarts),
                Cell::Int(self.stats.reads_ok),
                Cell::Int(self.stats.failed_reads),
                ms(v.p50_ns),
                ms(v.p99_ns),
                ms(v.p999_ns),
                ms(v.max_ns),
            ]],
        };
        vec![store, cdc, topic, cache]
    }
}
