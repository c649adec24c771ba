//! `event_sourced`'s tables in the report: `producer`, `log`, `brokers`, the consumer's
//! (`processor` or `projection`), `storage` and `schema` when they apply (in `schema.rs`), and
//! `reads` with the view cache's counters and Che's estimate of its hit ratio.

use super::read::ViewCache;
use super::{Consumer, EventSourced};
use crate::detail::{Cell, DetailTable};
use pipesim_components::che_hit_ratio;
use pipesim_components::stream::zipf_probabilities;
use pipesim_engine::NS_PER_MS;
use pipesim_metrics::RunResults;

impl EventSourced {
    /// `ModelKind::details`: the tables, in the report's order.
    pub(super) fn detail_tables(&self, results: &RunResults) -> Vec<DetailTable> {
        let mut tables = Vec::new();
        self.producer_and_log_tables(results, &mut tables);
        // Time integrals cover the measured interval (the components' windows).
        let seconds = self.measure.len_ns().max(1) as f64;
        self.brokers_table(seconds, &mut tables);
        self.consumer_table(seconds, &mut tables);
        if self.schema.report {
            self.storage_details(&mut tables);
        }
        self.reads_table(&mut tables);
        tables
    }

    fn producer_and_log_tables(&self, results: &RunResults, tables: &mut Vec<DetailTable>) {
        let ps = self.producer.stats;
        tables.push(DetailTable::named("producer").with_row(|r| {
            r.int("batches", ps.batches)
                .fixed("records_per_batch", ratio(ps.records, ps.batches), 3)
                .int("requests", ps.requests)
                .int("retries", ps.retries)
                .int("timeouts", ps.timeouts)
                .int("errors", ps.errors)
                .int("requests_lost", self.stats.lost_requests)
                .int("answers_lost", self.stats.lost_answers);
        }));
        let ls = self.log.stats;
        let duplicates = results.invariants.duplicates;
        tables.push(DetailTable::named("log").with_row(|r| {
            r.int("records_appended", ls.records)
                .int("batches_appended", ls.batches)
                .int("deduplicated_batches", ls.deduplicated)
                .int("out_of_order", ls.out_of_order)
                .int("not_enough_replicas", ls.not_enough_replicas)
                .int("not_leader", ls.not_leader)
                .int("disconnected", ls.disconnected)
                .int("truncated", ls.truncated)
                .int("cleaned", ls.cleaned)
                .int("compacted", ls.compacted)
                .int("elections", ls.elections)
                .int("peak_appended_per_s", ls.peak_window_records)
                .fixed(
                    "duplicate_fraction",
                    ratio(duplicates, self.stats.visible.saturating_sub(duplicates)),
                    9,
                );
        }));
    }

    fn brokers_table(&self, seconds: f64, tables: &mut Vec<DetailTable>) {
        let leaders = self.log.leaders_per_broker();
        let stations = self.log.station_stats(self.measure.to_ns);
        tables.push(DetailTable {
            name: "brokers",
            columns: vec!["broker", "requests", "utilisation", "max_queue", "leaders_at_end"],
            rows: stations
                .iter()
                .enumerate()
                .map(|(b, st)| {
                    vec![
                        Cell::Int(b as u64),
                        Cell::Int(st.started),
                        Cell::Fixed(st.busy_area / seconds / f64::from(self.p.log.io_threads), 4),
                        Cell::Int(st.max_queue),
                        Cell::Int(leaders[b]),
                    ]
                })
                .collect(),
        });
    }

    fn consumer_table(&self, seconds: f64, tables: &mut Vec<DetailTable>) {
        match &self.consumer {
            Consumer::Processor(c) => {
                let s = c.stats;
                let cycles = s.checkpoints.max(1) as f64;
                tables.push(DetailTable::named("processor").with_row(|r| {
                    r.int("subtasks", u64::from(c.subtasks()))
                        .int("processed", s.processed)
                        .int("checkpoints", s.checkpoints)
                        .int("aborted", s.aborted)
                        .fixed(
                            "mean_alignment_ms",
                            s.align_sum_ns as f64 / cycles / NS_PER_MS as f64,
                            3,
                        )
                        .fixed("max_alignment_ms", s.align_max_ns as f64 / NS_PER_MS as f64, 3)
                        .fixed(
                            "mean_checkpoint_ms",
                            s.cycle_sum_ns as f64 / cycles / NS_PER_MS as f64,
                            3,
                        )
                        .fixed("max_checkpoint_ms", s.cycle_max_ns as f64 / NS_PER_MS as f64, 3)
                        .fixed(
                            "blocked_fraction",
                            s.blocked_area / seconds / f64::from(c.subtasks()),
                            6,
                        )
                        .int("restarts", s.restarts)
                        .int("replayed", s.replayed);
                }));
            }
            Consumer::Projection(c) => {
                let s = c.stats;
                tables.push(DetailTable::named("projection").with_row(|r| {
                    r.int("workers", u64::from(c.workers()))
                        .int("statements", s.statements)
                        .fixed("rows_per_statement", ratio(s.rows, s.statements), 3)
                        .int("failures", s.failures)
                        .int("dead_lettered", s.dead_lettered)
                        .fixed(
                            "utilisation",
                            s.busy_ns as f64 / seconds / f64::from(c.workers()),
                            4,
                        )
                        .int("restarts", s.restarts)
                        .int("replayed", s.replayed);
                }));
            }
        }
    }

    fn reads_table(&self, tables: &mut Vec<DetailTable>) {
        if let Some(rp) = &self.reads {
            let mut columns = vec!["reads", "failed"];
            let mut row = vec![Cell::Int(rp.reads), Cell::Int(rp.failed)];
            if let Some(c) = &rp.cache {
                columns.extend(["hits", "misses", "hit_ratio", "stale_hits", "invalidations"]);
                row.extend([
                    Cell::Int(c.hits),
                    Cell::Int(c.misses),
                    Cell::Fixed(ratio(c.hits, c.hits + c.misses), 6),
                    Cell::Int(c.stale_hits),
                    Cell::Int(c.invalidations),
                ]);
                if let Some(che) = self.che(c) {
                    columns.push("che_hit_ratio");
                    row.push(Cell::Fixed(che, 6));
                }
            }
            tables.push(DetailTable { name: "reads", columns, rows: vec![row] });
        }
    }

    /// Che's approximation of the cache's hit ratio without invalidations, for the key
    /// popularity readers use (key spaces up to 1 M keys; beyond that it takes seconds).
    fn che(&self, c: &ViewCache) -> Option<f64> {
        let rp = self.reads.as_ref()?;
        if rp.key_count > 1_000_000 {
            return None;
        }
        let n = rp.key_count as usize;
        let probs: Vec<f64> = match rp.exponent {
            Some(s) => zipf_probabilities(rp.key_count, s),
            None => vec![1.0 / n as f64; n],
        };
        Some(che_hit_ratio(&probs, c.capacity_hint as usize))
    }
}

pub(super) fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}
