//! `event_sourced` before a run, from its parameters alone: the memory its state takes, the
//! work it costs the engine, and the warnings about a design that cannot keep up.

use super::Rec;
use super::config::{ConsumerKind, EventSourcedParams};
use pipesim_components::kafka::{Acks, KafkaLog, KafkaProducer};
use pipesim_components::stream::StreamParams;
use pipesim_workload::WorkloadSpec;

/// What the producers' accumulators, the log and the cache hold (`ModelKind::memory`).
pub(super) fn memory(p: &EventSourcedParams, workload: &WorkloadSpec) -> Vec<crate::MemoryItem> {
    use crate::estimate::{MemoryItem, lru_item};
    use pipesim_config::limits::grouped;
    let (instances, partitions) = (p.producers.instances, p.log.partitions);
    let mut items = vec![
        MemoryItem::model(
            "producers.instances",
            format!(
                "batch accumulators of {} producer instances × {} partitions",
                grouped(u64::from(instances)),
                grouped(u64::from(partitions))
            ),
            KafkaProducer::<Rec>::state_bytes(instances, partitions),
        ),
        MemoryItem::model(
            "log.partitions",
            format!("{} log partitions", grouped(u64::from(partitions))),
            KafkaLog::<Rec>::state_bytes(p.log.brokers, partitions, instances),
        ),
    ];
    if p.cache.enabled {
        items.push(lru_item("cache.capacity", p.cache.capacity, 1, workload));
    }
    items
}

/// The engine's work per arrival and what is in flight (`ModelKind::work`).
pub(super) fn work(p: &EventSourcedParams, workload: &WorkloadSpec) -> crate::Work {
    // A stream processor's log keeps every record since the last completed checkpoint (a
    // restart replays from there): a checkpoint interval of records, 32 B each plus the deque's
    // slack. Exactly-once output is also invisible until its checkpoint commits, so the recorder
    // holds each of those events as acknowledged and not visible (about 40 B more). Measured on
    // seed 002's peak (7.5 M events held): 637 MB exactly-once, 298 MB at-least-once.
    let exactly_once = |s: &StreamParams| s.sink == pipesim_components::stream::Sink::ExactlyOnce;
    let mut work = match (&p.consumer, &p.processor, &p.projection) {
        (ConsumerKind::Processor, Some(s), _) => crate::Work {
            events_per_arrival: 6.5,
            ns_per_event: 700.0,
            in_flight_s: (s.checkpoint_interval.ns as f64 / 1e9).max(1.0),
            bytes_in_flight: if exactly_once(s) { 85.0 } else { 40.0 },
            fixed_s: 0.0,
        },
        // Multi-row statements apply many events per engine event: as many as arrive for a
        // worker while a statement (about a millisecond) runs, up to the batch.
        (_, _, Some(j)) => crate::Work {
            events_per_arrival: 2.0
                + 5.0
                    / (workload.peak_rate_per_s() * 1e-3 / f64::from(j.workers))
                        .clamp(1.0, f64::from(j.batch)),
            ns_per_event: 700.0,
            in_flight_s: 1.0,
            bytes_in_flight: 220.0,
            fixed_s: 0.0,
        },
        _ => crate::Work {
            events_per_arrival: 6.5,
            ns_per_event: 700.0,
            in_flight_s: 1.0,
            bytes_in_flight: 150.0,
            fixed_s: 0.0,
        },
    };
    // With a cache, the report's Che estimate of its hit ratio passes over every key about
    // sixty times (about a microsecond a key).
    if p.cache.enabled {
        work.fixed_s = f64::from(workload.keys.count) * 1e-6;
    }
    work
}

/// Saturation and configuration hazards (`ModelKind::warnings`).
pub(super) fn warnings(p: &EventSourcedParams, workload: &WorkloadSpec) -> Vec<String> {
    let mut out = Vec::new();
    let r = &p.resolved;
    let peak = workload.peak_rate_per_s();
    let payload = f64::from(workload.payload_bytes);
    let lp = r.log.params();
    // Broker handler threads: bytes alone, spread over the brokers leading partitions.
    let leaders = lp.brokers.min(lp.partitions) as f64;
    let rho =
        peak * payload / lp.append_bandwidth.bytes_per_s / (leaders * f64::from(lp.io_threads));
    if rho >= 1.0 {
        out.push(format!(
            "log: appending {} bytes at {peak:.0}/s needs {rho:.2} of the brokers' handler threads: the log saturates",
            workload.payload_bytes
        ));
    }
    match p.consumer {
        ConsumerKind::Processor => {
            let subtasks =
                r.processor.params().parallelism.unwrap_or(lp.partitions).min(lp.partitions);
            let rho = peak * r.processor.mean_record_ns() / 1e9 / f64::from(subtasks);
            if rho >= 1.0 {
                out.push(format!(
                    "processor: {subtasks} subtasks at {peak:.0}/s are {rho:.2} busy: its lag grows without bound"
                ));
            }
        }
        ConsumerKind::Projection => {
            let pp = r.projection.params();
            let workers = pp.workers.min(lp.partitions);
            let batch = f64::from(pp.batch);
            let capacity =
                f64::from(workers) * batch / (r.projection.mean_statement_ns(batch) / 1e9);
            if peak >= capacity {
                out.push(format!(
                    "projection: {workers} workers applying up to {} rows per statement manage about {capacity:.0}/s, below the peak {peak:.0}/s: its lag grows without bound",
                    pp.batch
                ));
            }
        }
    }
    if lp.min_insync_replicas == lp.replication_factor && p.producer.acks == Acks::All {
        out.push(
            "log: min_insync_replicas equals the replication factor: one broker down stops every acks=all write to its partitions"
                .to_string(),
        );
    }
    if !p.producer.idempotence && p.producer.max_in_flight > 1 && p.producer.acks != Acks::Zero {
        out.push(format!(
            "producer: without idempotence, {} requests in flight let a retried batch land after a later one (reordering) and a retry after a lost answer duplicate records",
            p.producer.max_in_flight
        ));
    }
    out
}
