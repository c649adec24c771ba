//! `cached`'s tables in the report: `store` (commits, WAL flushes, CPU, failures, the writer's
//! retries, leaked pool connections), `cdc` (the connector's decoding, lag and replays), `topic`
//! and `cache` (hits, loads, rings, memory, reads, and commit-to-visible latency), all over the
//! measured interval.

use super::Cached;
use crate::detail::DetailTable;
use pipesim_engine::NS_PER_MS;

impl Cached {
    /// `ModelKind::details`: the tables, in the report's order.
    pub(super) fn detail_tables(&self) -> Vec<DetailTable> {
        let measured_ns = self.measure.len_ns().max(1) as f64;
        vec![
            self.store_table(measured_ns),
            self.cdc_table(measured_ns),
            self.topic_table(),
            self.cache_table(),
        ]
    }

    /// `store`: commits, reads, WAL flushes, CPU, failures, the writer's retries and leaked
    /// pool connections.
    fn store_table(&self, measured_ns: f64) -> DetailTable {
        let pg = self.store.stats(self.measure.to_ns);
        let cores = f64::from(self.params.store.cores);
        DetailTable::named("store").with_row(|r| {
            r.int("commits", pg.commits)
                .int("reads", pg.reads)
                .int("wal_flushes", pg.wal.flushes)
                .fixed("commits_per_flush", pg.wal.mean_batch(), 3)
                .fixed("cpu_utilisation", pg.cpu_busy / (cores * measured_ns), 4)
                .int("failed", pg.failed)
                .int("writer_retries", self.stats.write_retries)
                .int("leaked_connections", self.stats.leaks);
        })
    }

    /// `cdc`: the connector's captures, decoding, lag, replays and restarts.
    fn cdc_table(&self, measured_ns: f64) -> DetailTable {
        let c = self.cdc.stats();
        let mean_decode = self.params.specs.cdc.mean_decode_ns();
        DetailTable::named("cdc").with_row(|r| {
            r.int("captured", c.captured)
                .int("published", c.published)
                .int("replayed", c.replayed)
                .int("restarts", c.restarts)
                .fixed("decode_ms", c.mean_decode_ms(), 6)
                .fixed("mean_ms", c.mean_lag_ms(), 6)
                .fixed("max_ms", c.lag_max_ns as f64 / NS_PER_MS as f64, 6)
                .fixed("utilisation", c.busy_ns as f64 / measured_ns, 4)
                .fixed("capacity_per_s", if mean_decode > 0.0 { 1e9 / mean_decode } else { 0.0 }, 1)
                .int("max_backlog", c.max_backlog);
        })
    }

    /// `topic`: what was published and delivered, redeliveries and rewinds.
    fn topic_table(&self) -> DetailTable {
        let t = self.topic.stats();
        DetailTable::named("topic").with_row(|r| {
            r.int("partitions", u64::from(self.params.topic.partitions))
                .int("published", t.published)
                .int("delivered", t.delivered)
                .int("redelivered", t.delivered.saturating_sub(t.published))
                .int("rewinds", t.rewinds);
        })
    }

    /// `cache`: hits, loads, rings, memory, reads, and commit-to-visible latency.
    fn cache_table(&self) -> DetailTable {
        let k = self.cache.stats();
        let v = self.visibility.summary();
        let ms = |ns: u64| ns as f64 / NS_PER_MS as f64;
        DetailTable::named("cache").with_row(|r| {
            r.int("hits", k.hits)
                .int("misses", k.misses)
                .fixed("hit_ratio", k.hit_ratio(), 6)
                .int("load_queries", self.stats.loads)
                .int("loads", k.loads)
                .int("load_rows", k.load_rows)
                .int("appended", k.appended)
                .int("repeats", k.repeats)
                .int("deduplicated", k.deduplicated)
                .int("not_held", k.not_held)
                .int("overwritten", k.overwritten)
                .int("evictions", k.evictions)
                .int("ring", u64::from(self.params.cache.ring))
                .int("max_ring_events", u64::from(k.max_ring))
                .int("entities_held", self.cache.entities_held() as u64)
                .int("events_held", self.cache.events_held())
                .int("max_events_held", k.max_events)
                .fixed(
                    "max_memory_mb",
                    k.max_events as f64 * f64::from(self.payload_bytes) / 1e6,
                    3,
                )
                .int("restarts", k.restarts)
                .int("reads_ok", self.stats.reads_ok)
                .int("failed_reads", self.stats.failed_reads)
                .fixed("visibility_p50_ms", ms(v.p50_ns), 3)
                .fixed("visibility_p99_ms", ms(v.p99_ns), 3)
                .fixed("visibility_p999_ms", ms(v.p999_ns), 3)
                .fixed("visibility_max_ms", ms(v.max_ns), 3);
        })
    }
}
