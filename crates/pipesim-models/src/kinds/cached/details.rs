//! `cached`'s tables in the report: `store` (commits, WAL flushes, CPU, failures, the writer's
//! retries, leaked pool connections), `cdc` (the connector's decoding, lag and replays), `topic`
//! and `cache` (hits, loads, rings, memory, reads, and commit-to-visible latency), all over the
//! measured interval.

use super::Cached;
use crate::detail::{Cell, DetailTable};
use pipesim_engine::NS_PER_MS;

impl Cached {
    /// `ModelKind::details`: the tables, in the report's order.
    pub(super) fn detail_tables(&self) -> Vec<DetailTable> {
        let measured = self.measure.len_ns().max(1) as f64;
        let pg = self.store.stats(self.measure.to_ns);
        let cores = f64::from(self.params.store.cores);
        let store = DetailTable {
            name: "store",
            columns: vec![
                "commits",
                "reads",
                "wal_flushes",
                "commits_per_flush",
                "cpu_utilisation",
                "failed",
                "writer_retries",
                "leaked_connections",
            ],
            rows: vec![vec![
                Cell::Int(pg.commits),
                Cell::Int(pg.reads),
                Cell::Int(pg.wal.flushes),
                Cell::Fixed(pg.wal.mean_batch(), 3),
                Cell::Fixed(pg.cpu_busy / (cores * measured), 4),
                Cell::Int(pg.failed),
                Cell::Int(self.stats.write_retries),
                Cell::Int(self.stats.leaks),
            ]],
        };
        let c = self.cdc.stats();
        let mean_decode = self.params.specs.cdc.mean_decode_ns();
        let cdc = DetailTable {
            name: "cdc",
            columns: vec![
                "captured",
                "published",
                "replayed",
                "restarts",
                "decode_ms",
                "mean_ms",
                "max_ms",
                "utilisation",
                "capacity_per_s",
                "max_backlog",
            ],
            rows: vec![vec![
                Cell::Int(c.captured),
                Cell::Int(c.published),
                Cell::Int(c.replayed),
                Cell::Int(c.restarts),
                Cell::Fixed(c.mean_decode_ms(), 6),
                Cell::Fixed(c.mean_lag_ms(), 6),
                Cell::Fixed(c.lag_max_ns as f64 / NS_PER_MS as f64, 6),
                Cell::Fixed(c.busy_ns as f64 / measured, 4),
                Cell::Fixed(if mean_decode > 0.0 { 1e9 / mean_decode } else { 0.0 }, 1),
                Cell::Int(c.max_backlog),
            ]],
        };
        let t = self.topic.stats();
        let topic = DetailTable {
            name: "topic",
            columns: vec!["partitions", "published", "delivered", "redelivered", "rewinds"],
            rows: vec![vec![
                Cell::Int(u64::from(self.params.topic.partitions)),
                Cell::Int(t.published),
                Cell::Int(t.delivered),
                Cell::Int(t.delivered.saturating_sub(t.published)),
                Cell::Int(t.rewinds),
            ]],
        };
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
