//! `wire_log`'s tables: the same names and defaults as the DES `event_sourced` kind where the
//! two models share a mechanism (`[model.log]`, `[model.producer]`, `[model.kafka_consumer]`,
//! `[model.projection]`), plus what only a running cluster has (heartbeats, the flush policy,
//! the fetch long poll).

use pipesim_components::kafka::Acks;
use pipesim_components::stream::{ConsumerParams, ProjectionParams as DesProjection};
use pipesim_config::{Bandwidth, ConfigError, DistSpec, Duration, Loader, ParamDoc, Size};
use pipesim_engine::{Dist, NS_PER_MS, NS_PER_S, SimTime};
use serde::{Deserialize, Serialize};

/// Most brokers.
pub(crate) const MAX_BROKERS: u32 = 16;
/// Most partitions (each costs a fetch task per follower, one in the consumer and one producer
/// connection per producer instance).
pub(crate) const MAX_PARTITIONS: u32 = 128;
/// Most replicas of a partition.
pub(crate) const MAX_REPLICATION: u32 = 8;
/// Most handler threads per broker.
pub(crate) const MAX_IO_THREADS: u32 = 64;
/// Most projection workers, and most rows in one statement.
pub(crate) const MAX_WORKERS: u32 = 1_024;
/// Most rows per statement.
pub(crate) const MAX_BATCH: u32 = 10_000;
/// Smallest segment: it must hold a record.
pub(crate) const MIN_SEGMENT_BYTES: u64 = 1_024;

/// `[model.log]` as written.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct LogParams {
    /// Brokers (hosts `broker-0`, `broker-1`, …).
    pub brokers: u32,
    /// Partitions of the topic.
    pub partitions: u32,
    /// Replicas per partition, the leader included.
    pub replication_factor: u32,
    /// With `acks = "all"`, the smallest ISR that takes writes.
    pub min_insync_replicas: u32,
    /// Request-handling threads per broker.
    pub io_threads: u32,
    /// A produce request's handling time besides its bytes.
    pub request: DistSpec,
    /// Bytes per second a handler thread appends.
    pub append_bandwidth: Bandwidth,
    /// A broker without a heartbeat this long is fenced.
    pub session_timeout: Duration,
    /// How often a broker heartbeats to the controller.
    pub heartbeat: Duration,
    /// The time the controller takes to commit and publish a metadata change.
    pub election: Duration,
    /// A follower that has not caught up for this long leaves the ISR.
    pub replica_lag_max: Duration,
    /// How long a fetch waits at the leader for data before it is answered empty.
    pub fetch_max_wait: Duration,
    /// A segment file is rolled once it holds this many bytes.
    pub segment_bytes: Size,
    /// fsync a partition's log after this many appended records (`flush.messages`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flush_messages: Option<u64>,
    /// fsync every partition's log this often (`flush.ms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flush_ms: Option<Duration>,
    /// The DES's replica lag: refused here (replication is a real fetch over the network).
    #[serde(skip_serializing)]
    pub replica_lag: Option<DistSpec>,
}

impl Default for LogParams {
    fn default() -> Self {
        Self {
            brokers: 3,
            partitions: 64,
            replication_factor: 3,
            min_insync_replicas: 2,
            io_threads: 8,
            request: DistSpec::Const { value: Duration { ns: 50_000 } },
            append_bandwidth: Bandwidth { bytes_per_s: 1e9 },
            session_timeout: Duration { ns: 9 * NS_PER_S },
            heartbeat: Duration { ns: 2 * NS_PER_S },
            election: Duration { ns: 200 * NS_PER_MS },
            replica_lag_max: Duration { ns: 30 * NS_PER_S },
            fetch_max_wait: Duration { ns: 500 * NS_PER_MS },
            segment_bytes: Size { bytes: 1 << 30 },
            flush_messages: None,
            flush_ms: None,
            replica_lag: None,
        }
    }
}

/// `[model.producer]`: what the harness producer's Kafka settings are.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ProducerParams {
    /// When the leader answers: after its append (`"1"`) or once the ISR has it (`"all"`).
    pub acks: Acks,
    /// Whether the leader appends a retried request once (producer id and sequence).
    pub idempotence: bool,
}

impl Default for ProducerParams {
    fn default() -> Self {
        Self { acks: Acks::All, idempotence: true }
    }
}

/// `[model.projection]`: the consumer's workers, as the DES projection's.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ProjectionParams {
    /// Workers sharing the partitions (partition p on worker p mod workers).
    pub workers: u32,
    /// Records per statement at most.
    pub batch: u32,
    /// One statement's latency.
    pub upsert: DistSpec,
    /// Extra time per row of a statement.
    pub upsert_per_row: Duration,
    /// After a restart, time until the consumer fetches again.
    pub restart_delay: Duration,
}

impl Default for ProjectionParams {
    fn default() -> Self {
        let des = DesProjection::default();
        Self {
            workers: des.workers,
            batch: des.batch,
            upsert: des.upsert,
            upsert_per_row: des.upsert_per_row,
            restart_delay: des.restart_delay,
        }
    }
}

/// Which consumer builds the view: only the projection (the DES also has a stream processor).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ConsumerKind {
    /// A projection worker applying records to a view.
    #[default]
    Projection,
}

/// Distributions resolved at validation.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub(crate) request: Dist,
    pub(crate) upsert: Dist,
}

fn check(ok: bool, path: &str, message: impl FnOnce() -> String) -> Result<(), ConfigError> {
    if ok { Ok(()) } else { Err(ConfigError::new(path, message())) }
}

fn in_range(v: u32, lo: u32, hi: u32, path: &str) -> Result<(), ConfigError> {
    check((lo..=hi).contains(&v), path, || format!("must be from {lo} to {hi}, found {v}"))
}

impl LogParams {
    /// Checks the log table; error paths are relative to it.
    pub(crate) fn validate(&self, loader: &dyn Loader) -> Result<Dist, ConfigError> {
        check(self.replica_lag.is_none(), "replica_lag", || {
            "the wire log replicates by real fetches over [model.network]: a follower's lag is its fetch round trip, not a parameter".to_string()
        })?;
        in_range(self.brokers, 1, MAX_BROKERS, "brokers")?;
        in_range(self.partitions, 1, MAX_PARTITIONS, "partitions")?;
        in_range(
            self.replication_factor,
            1,
            self.brokers.min(MAX_REPLICATION),
            "replication_factor",
        )?;
        in_range(self.min_insync_replicas, 1, self.replication_factor, "min_insync_replicas")?;
        in_range(self.io_threads, 1, MAX_IO_THREADS, "io_threads")?;
        check(self.append_bandwidth.bytes_per_s > 0.0, "append_bandwidth", || {
            "must be greater than zero".to_string()
        })?;
        check(
            self.heartbeat.ns > 0 && self.heartbeat.ns < self.session_timeout.ns,
            "heartbeat",
            || format!("must be above 0 and below session_timeout ({})", self.session_timeout),
        )?;
        for (d, path) in
            [(self.replica_lag_max, "replica_lag_max"), (self.fetch_max_wait, "fetch_max_wait")]
        {
            check(d.ns > 0, path, || "must be greater than zero".to_string())?;
        }
        check(self.segment_bytes.bytes >= MIN_SEGMENT_BYTES, "segment_bytes", || {
            format!("must be at least {MIN_SEGMENT_BYTES}B")
        })?;
        check(self.flush_messages != Some(0), "flush_messages", || {
            "must be at least 1".to_string()
        })?;
        if let Some(n) = self.flush_messages {
            pipesim_config::limits::at_most("flush_messages", n, &pipesim_config::limits::BATCH)?;
        }
        check(self.flush_ms.is_none_or(|d| d.ns > 0), "flush_ms", || {
            "must be greater than zero".to_string()
        })?;
        self.request.resolve(loader).map_err(|m| ConfigError::new("request", m))
    }

    /// The handling time of a request of `bytes`, besides the drawn part.
    pub(crate) fn bytes_ns(&self, bytes: u32) -> SimTime {
        (f64::from(bytes) * 1e9 / self.append_bandwidth.bytes_per_s) as SimTime
    }

    /// The brokers holding partition `p`, in preference order (the first leads at the start),
    /// as the DES places them: replica j on broker (p + j) mod brokers.
    pub(crate) fn replicas(&self, p: u32) -> Vec<u32> {
        (0..self.replication_factor).map(|j| (p + j) % self.brokers).collect()
    }

    pub(crate) fn docs() -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("brokers", "integer 1-16", "3", "broker hosts broker-0, broker-1, …; the smallest cluster that holds replication factor 3"),
            ParamDoc::new("partitions", "integer 1-128", "64", "partitions of the topic; key -> partition by the DES's hash (seed 001's topic has 64)"),
            ParamDoc::new("replication_factor", "integer 1..brokers (at most 8)", "3", "replicas per partition, leader included; replica j of partition p on broker (p + j) mod brokers"),
            ParamDoc::new("min_insync_replicas", "integer 1..replication_factor", "2", "with acks = \"all\", the leader refuses writes (NOT_ENOUGH_REPLICAS: the producer retries) while the ISR is smaller (recommended with replication factor 3)"),
            ParamDoc::new("io_threads", "integer 1-64", "8", "request-handling threads per broker (Kafka num.io.threads); a connection's next request is read once its current one is appended"),
            ParamDoc::new("request", "distribution", "\"50us\"", "a produce request's handling time besides its bytes (assumed, as the DES)"),
            ParamDoc::new("append_bandwidth", "bandwidth", "\"1GB/s\"", "bytes per second a handler thread appends to the page cache"),
            ParamDoc::new("session_timeout", "duration", "\"9s\"", "the controller fences a broker whose last heartbeat is this old (Kafka broker.session.timeout.ms 9000)"),
            ParamDoc::new("heartbeat", "duration", "\"2s\"", "how often a broker heartbeats to the controller (Kafka broker.heartbeat.interval.ms 2000)"),
            ParamDoc::new("election", "duration", "\"200ms\"", "time the controller takes to commit and publish a metadata change: an election, an ISR change (as the DES's election)"),
            ParamDoc::new("replica_lag_max", "duration", "\"30s\"", "a follower not caught up for this long leaves the ISR (Kafka replica.lag.time.max.ms 30000)"),
            ParamDoc::new("fetch_max_wait", "duration", "\"500ms\"", "a follower's or the consumer's fetch waits this long at the leader for data (Kafka replica.fetch.wait.max.ms, fetch.max.wait.ms 500)"),
            ParamDoc::new("segment_bytes", "size", "\"1GiB\"", "a segment file is rolled (and flushed) at this size (Kafka segment.bytes)"),
            ParamDoc::new("flush_messages", "integer 1-1000000", "none", "fsync a partition's log (in the append, holding the handler thread) after this many records (Kafka flush.messages; default: never, the page cache)"),
            ParamDoc::new("flush_ms", "duration", "none", "fsync every partition's unflushed log this often (Kafka flush.ms; default: never)"),
        ]
        .into_iter()
        .map(|d| d.under("log"))
        .collect()
    }
}

impl ProducerParams {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        check(self.acks != Acks::Zero, "acks", || {
            "the harness producer waits for every answer: use \"1\" or \"all\"".to_string()
        })?;
        check(!self.idempotence || self.acks == Acks::All, "acks", || {
            "idempotence requires acks = \"all\" (set idempotence = false to use 1), as Kafka does"
                .to_string()
        })
    }

    pub(crate) fn docs() -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("acks", "\"1\" or \"all\"", "\"all\"", "the leader answers after its append, or once every in-sync replica has the record (Kafka's default since 3.0)"),
            ParamDoc::new("idempotence", "boolean", "true", "the leader keeps each producer's last sequence number per partition and answers a retried request without appending it again (Kafka enable.idempotence; needs acks = \"all\")"),
        ]
        .into_iter()
        .map(|d| d.under("producer"))
        .collect()
    }
}

impl ProjectionParams {
    pub(crate) fn validate(&self, loader: &dyn Loader) -> Result<Dist, ConfigError> {
        in_range(self.workers, 1, MAX_WORKERS, "workers")?;
        in_range(self.batch, 1, MAX_BATCH, "batch")?;
        self.upsert.resolve(loader).map_err(|m| ConfigError::new("upsert", m))
    }

    pub(crate) fn docs() -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("workers", "integer 1-1024", "1", "workers sharing the partitions, partition p on worker p mod workers (as the DES projection)"),
            ParamDoc::new("batch", "integer 1-10000", "1", "records of one partition per statement at most"),
            ParamDoc::new("upsert", "distribution", "{ dist = \"lognormal\", p50 = \"800us\", p99 = \"2.5ms\" }", "one statement's latency (the DES projection's default, seed 004's p95 1.8 ms)"),
            ParamDoc::new("upsert_per_row", "duration", "\"0s\"", "extra time per row of a statement"),
            ParamDoc::new("restart_delay", "duration", "\"0s\"", "after the consumer host restarts, until it fetches again"),
        ]
        .into_iter()
        .map(|d| d.under("projection"))
        .collect()
    }
}

/// The consumer's fetch settings (`[model.kafka_consumer]`, the DES's table).
pub(crate) fn consumer_docs() -> Vec<ParamDoc> {
    let mut d = vec![ParamDoc::new(
        "consumer",
        "\"projection\"",
        "\"projection\"",
        "the consumer that builds the view (the DES's stream processor has no wire counterpart)",
    )];
    d.extend(
        ConsumerParams::docs("kafka_consumer")
            .into_iter()
            .map(|p| if p.name.ends_with("auto_commit") { ParamDoc { doc: "how often the consumer commits its offsets (to its own disk, synced: the stand-in for Kafka's group coordinator); a crash replays what it applied since (Kafka auto.commit.interval.ms 5000)", ..p } } else { p }),
    );
    d
}

impl Resolved {
    pub(crate) fn new(request: Dist, upsert: Dist) -> Self {
        Self { request, upsert }
    }
}
