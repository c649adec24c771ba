//! `cached` before a run, from its parameters alone: the memory its state takes, the work it
//! costs the engine, and the warnings about a connector or a cache that cannot keep up, and a
//! pool that drains.

use super::CachedParams;
use pipesim_workload::WorkloadSpec;

/// What the cache's entities and the writer's per-key positions hold (`ModelKind::memory`).
pub(super) fn memory(p: &CachedParams, workload: &WorkloadSpec) -> Vec<crate::MemoryItem> {
    use crate::estimate::{MemoryItem, distinct_keys, lru_item, per_key_item};
    let entities = u64::from(p.cache.entities).min(distinct_keys(workload));
    vec![
        lru_item("cache.entities", p.cache.entities, 1, workload),
        MemoryItem::model(
            "cache.entities",
            format!("ring state of up to {} entities", pipesim_config::limits::grouped(entities)),
            entities * 4 * 24,
        ),
        per_key_item("the writer's commit positions", 8, workload),
    ]
}

/// Events per arrival and their cost (`ModelKind::work`).
pub(super) fn work(_p: &CachedParams, _workload: &WorkloadSpec) -> crate::Work {
    crate::Work {
        events_per_arrival: 8.5,
        ns_per_event: 400.0,
        in_flight_s: 0.2,
        bytes_in_flight: 300.0,
        fixed_s: 0.0,
    }
}

/// A saturated decoder or cache, a pool that leaks for good (`ModelKind::warnings`).
pub(super) fn warnings(p: &CachedParams, workload: &WorkloadSpec) -> Vec<String> {
    let mut out = Vec::new();
    let specs = &p.specs;
    let rate = workload.peak_rate_per_s();
    let rho = rate * specs.cdc.mean_decode_ns() / 1e9;
    if rho >= 1.0 {
        out.push(format!(
            "the CDC decoder is saturated: {rate:.0} changes/s at a mean decode of {:.3} ms is a utilisation of {rho:.2} (it tops out at {:.0}/s); the cache falls further behind for as long as the load lasts",
            specs.cdc.mean_decode_ns() / 1e6,
            1e9 / specs.cdc.mean_decode_ns().max(1.0)
        ));
    }
    let threads = p.cache.consumers.min(p.topic.partitions);
    let rho = rate * specs.cache.mean_apply_ns() / 1e9 / f64::from(threads);
    if rho >= 1.0 {
        out.push(format!(
            "the cache's {threads} consumer thread(s) are saturated: utilisation {rho:.2} at {rate:.0} changes/s"
        ));
    }
    if p.pool.leak > 0.0 && p.pool.leak_timeout.ns == 0 && p.readers.count > 0 {
        out.push(
            "pool.leak > 0 with no leak_timeout: leaked connections are never reclaimed, so the pool drains".to_string(),
        );
    }
    out
}
