//! `wire_log`: a small Kafka-like replicated log with a projection, as real services.
//!
//! Hosts: `broker-0` … `broker-{B-1}` (role `log`, each with a disk), `controller` (role
//! `controller`, with a disk) and `consumer` (role `processor`, with a disk for its offsets).
//!
//! - The **controller** ([`controller`]) keeps the cluster's metadata (each partition's leader,
//!   leader epoch and ISR) on its disk, takes the brokers' heartbeats, fences a broker whose
//!   heartbeats stop for `log.session_timeout` (or that registers a new incarnation after a
//!   restart), elects a new leader from the ISR, and publishes every change to the brokers and
//!   the consumer `log.election` after it decides it (its metadata log's commit).
//! - A **broker** ([`broker`]) leads or follows each partition it holds. As leader it appends
//!   produce requests (idempotently, by producer id and sequence number, when the producer is
//!   idempotent), answers `acks = "1"` after its append and `acks = "all"` once the high
//!   watermark (the smallest log end offset among the ISR) passes the record, serves fetches
//!   below its log end (followers) or its HW (the consumer) with a long poll, and asks the
//!   controller to shrink or grow the ISR. As follower it truncates its log to where its last
//!   leader epoch ends in the leader's log, then fetches. Logs are segment files on the
//!   simulated disk, fsynced by `log.flush_messages` / `log.flush_ms` (default: never, the page
//!   cache), so a crash loses what was not flushed.
//! - The **consumer** ([`consumer`]) fetches each partition's committed records from its
//!   leader, detects truncation after a leader change by epoch (Kafka's KIP-320), and applies
//!   them to the projection with `projection.workers` workers: an event is **visible** when the
//!   statement holding it returns. It commits its offsets to its disk every
//!   `kafka_consumer.auto_commit`; after a crash it applies again what it had applied since.
//!
//! The harness's producers send each event to its partition's replicas in preference order
//! (a non-leader answers `Retry`, which moves the producer on). docs/models/wire_log.md says
//! what is modelled, what is left out and how it compares with the DES `event_sourced` kind.

mod broker;
mod consumer;
mod controller;
mod links;
mod params;
mod proto;
mod storage;

use crate::{HostCtx, HostSpec, ProducerSpec, Software, WireDesign};
use params::{ConsumerKind, LogParams, ProducerParams, ProjectionParams, Resolved};
use pipesim_components::kafka::{Acks, partition_of};
use pipesim_components::stream::ConsumerParams;
use pipesim_config::{ConfigError, ParamDoc};
use pipesim_engine::{Dist, SimTime};
use pipesim_models::BuildEnv;
use pipesim_workload::{EventMeta, WorkloadSpec};
use serde::{Deserialize, Serialize};

/// The brokers' port.
pub const BROKER_PORT: u16 = 9092;
/// The controller's port.
pub const CONTROLLER_PORT: u16 = 9093;

/// The model table (the harness's tables taken out).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    #[serde(default)]
    consumer: ConsumerKind,
    #[serde(default)]
    log: LogParams,
    #[serde(default)]
    producer: ProducerParams,
    #[serde(default)]
    kafka_consumer: ConsumerParams,
    #[serde(default)]
    projection: ProjectionParams,
}

/// Validated parameters, echoed in the report.
#[derive(Clone, Debug, Serialize)]
pub struct WireLogParams {
    consumer: ConsumerKind,
    log: LogParams,
    producer: ProducerParams,
    kafka_consumer: ConsumerParams,
    projection: ProjectionParams,
    #[serde(skip)]
    resolved: Resolved,
}

impl WireLogParams {
    fn resolved(&self) -> &Resolved {
        &self.resolved
    }

    fn acks_all(&self) -> bool {
        self.producer.acks == Acks::All
    }
}

fn broker_name(b: u32) -> String {
    format!("broker-{b}")
}

fn broker_addr(b: u32) -> String {
    format!("broker-{b}:{BROKER_PORT}")
}

fn controller_addr() -> String {
    format!("controller:{CONTROLLER_PORT}")
}

fn route(ev: &EventMeta, partitions: usize) -> usize {
    partition_of(ev.key, partitions as u32) as usize
}

/// The design.
pub struct WireLog;

impl WireDesign for WireLog {
    const KIND: &'static str = "wire_log";
    const SUMMARY: &'static str = "a small Kafka-like replicated log as real services: brokers with leaders, followers fetching, a high watermark, acks=1/all, an idempotent producer, segments on the simulated disk with an fsync policy, a controller electing leaders by heartbeats and epochs, and a consumer applying committed records to a projection (the wire counterpart of `event_sourced` with consumer = \"projection\")";
    type Config = LogConfig;
    type Params = WireLogParams;

    fn params_doc() -> Vec<ParamDoc> {
        let mut d = params::consumer_docs();
        d.extend(LogParams::docs());
        d.extend(ProducerParams::docs());
        d.extend(ProjectionParams::docs());
        d
    }

    fn validate(config: LogConfig, env: &BuildEnv<'_>) -> Result<WireLogParams, ConfigError> {
        let request = config.log.validate(env.loader).map_err(|e| e.within("log"))?;
        config.producer.validate().map_err(|e| e.within("producer"))?;
        let kafka_consumer =
            config.kafka_consumer.validate().map_err(|e| e.within("kafka_consumer"))?;
        let upsert = config.projection.validate(env.loader).map_err(|e| e.within("projection"))?;
        Ok(WireLogParams {
            consumer: config.consumer,
            log: config.log,
            producer: config.producer,
            kafka_consumer,
            projection: config.projection,
            resolved: Resolved::new(request, upsert),
        })
    }

    fn hosts(params: &WireLogParams) -> Vec<HostSpec> {
        let mut hosts: Vec<HostSpec> = (0..params.log.brokers)
            .map(|b| HostSpec::new(broker_name(b), "log").with_disk())
            .collect();
        hosts.push(HostSpec::new("controller", "controller").with_disk());
        hosts.push(HostSpec::new("consumer", "processor").with_disk());
        hosts
    }

    fn software(params: &WireLogParams, ctx: HostCtx) -> Software {
        let params = std::rc::Rc::new(params.clone());
        match ctx.host.role {
            "log" => Box::pin(broker::run(params, ctx)),
            "controller" => Box::pin(controller::run(params, ctx)),
            _ => Box::pin(consumer::run(params, ctx)),
        }
    }

    fn producer(params: &WireLogParams) -> ProducerSpec {
        let destinations = (0..params.log.partitions)
            .map(|p| params.log.replicas(p).into_iter().map(broker_addr).collect())
            .collect();
        let rf = f64::from(params.log.replication_factor);
        // The request and its answer, each follower's fetch answer and next fetch, the
        // consumer's fetch answer and next fetch.
        let messages_per_event = 2.0 + 2.0 * (rf - 1.0) + 2.0;
        ProducerSpec { destinations, route: Some(route), messages_per_event }
    }

    fn fault_roles() -> &'static [&'static str] {
        &["log", "controller", "processor", "network"]
    }

    fn durations(params: &WireLogParams) -> Vec<(&'static str, SimTime)> {
        let r = params.resolved();
        vec![
            ("log.request (mean)", r.request.mean_ns() as SimTime),
            ("projection.upsert (mean)", r.upsert.mean_ns() as SimTime),
        ]
    }

    fn warnings(params: &WireLogParams, workload: &WorkloadSpec) -> Vec<String> {
        let p = &params.projection;
        let workers = f64::from(p.workers.min(params.log.partitions));
        let per_row = p.upsert_per_row.ns as f64;
        let statement = params.resolved().upsert.mean_ns() + per_row * f64::from(p.batch);
        let capacity = workers * f64::from(p.batch) * 1e9 / statement.max(1.0);
        let mut out = Vec::new();
        if workload.rate_per_s >= capacity {
            out.push(format!(
                "the projection applies at most about {capacity:.0} records/s ({workers:.0} workers, up to {} rows a statement of {:.2} ms), below the workload's {:.0}/s: the consumer falls behind",
                p.batch,
                statement / 1e6,
                workload.rate_per_s
            ));
        }
        if params.log.flush_messages.is_none() && params.log.flush_ms.is_none() {
            out.push("log: no fsync (Kafka's default): a broker crash in the wire backend is a machine crash and loses every record that broker had not flushed; it recovers what its replicas still have, or nothing if none does".to_string());
        }
        out
    }
}

/// The upsert distribution and the request distribution (shared by the hosts).
fn dists(params: &WireLogParams) -> (&Dist, &Dist) {
    let r = params.resolved();
    (&r.request, &r.upsert)
}
