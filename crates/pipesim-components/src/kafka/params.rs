//! The scenario tables of the log (`[model.log]`) and of the producer (`[model.producer]`):
//! defaults with their sources, validation (Kafka's own rules included) and documentation.
//! Kept apart from the runtime so that what a scenario may write reads in one place.

use crate::link::lognormal_us;
use crate::lsm::StoreParams;
use pipesim_config::{Bandwidth, ConfigError, DistSpec, Duration, Loader, ParamDoc, Size};
use pipesim_engine::{Dist, NS_PER_MS, NS_PER_S, SimTime};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The most replicas a partition may have (the follower copy times of a pending batch live in a
/// fixed array).
pub const MAX_REPLICATION: u32 = 8;

/// When a producer considers a request done (Kafka's `acks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acks {
    /// Fire and forget: acknowledged when sent.
    Zero,
    /// After the leader's append.
    One,
    /// After every in-sync replica has it (the HW passed it); the default since Kafka 3.0.
    All,
}

impl Serialize for Acks {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Acks::Zero => "0",
            Acks::One => "1",
            Acks::All => "all",
        })
    }
}

impl<'de> Deserialize<'de> for Acks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Acks;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"0\", \"1\" or \"all\" (or the integers 0, 1, -1)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Acks, E> {
                match v {
                    0 => Ok(Acks::Zero),
                    1 => Ok(Acks::One),
                    -1 => Ok(Acks::All),
                    _ => Err(E::custom(format!("acks must be 0, 1 or \"all\", found {v}"))),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Acks, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Acks, E> {
                match v {
                    "0" => Ok(Acks::Zero),
                    "1" => Ok(Acks::One),
                    "all" | "-1" => Ok(Acks::All),
                    _ => Err(E::custom(format!(
                        "acks must be \"0\", \"1\" or \"all\", found \"{v}\""
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The log as a scenario writes it (`[model.log]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaLogParams {
    /// Brokers in the cluster.
    pub brokers: u32,
    /// Partitions of the topic.
    pub partitions: u32,
    /// Replicas of each partition, the leader included.
    pub replication_factor: u32,
    /// With `acks = all`, the smallest ISR that accepts writes.
    pub min_insync_replicas: u32,
    /// Request-handling threads per broker (`num.io.threads`).
    pub io_threads: u32,
    /// Handling time of one produce request on the leader, besides its bytes.
    pub request: DistSpec,
    /// Bytes per second one handler thread appends.
    pub append_bandwidth: Bandwidth,
    /// Time until a follower has a batch the leader appended (fetch and round trip).
    pub replica_lag: DistSpec,
    /// How long a crashed broker goes unnoticed (`broker.session.timeout.ms`).
    pub session_timeout: Duration,
    /// Time to elect a new leader once the old one is known to be gone.
    pub election: Duration,
    /// Whether a `crash` of the log is a controlled shutdown (a rolling restart): detected at once.
    pub controlled_shutdown: bool,
    /// `cleanup.policy = compact`: keep only the latest record per key.
    pub compaction: bool,
    /// Segment size: only closed segments are compacted (`segment.bytes`).
    pub segment_bytes: Size,
    /// How often the cleaner looks for work (`log.cleaner.backoff.ms`).
    pub cleaner_interval: Duration,
    /// A segment is compacted only once its newest record is this old
    /// (`min.compaction.lag.ms`).
    pub min_compaction_lag: Duration,
    /// Bytes of one memtable of a broker's RocksDB-like store (`write_buffer_size`). Echoed in
    /// reports only when set, as are the two below, so reports that predate them keep their
    /// bytes.
    #[serde(skip_serializing_if = "is_default_memtable")]
    pub memtable: Size,
    /// Memtables per broker, the active one included (`max_write_buffer_number`).
    #[serde(skip_serializing_if = "is_default_memtables")]
    pub memtables: u32,
    /// Bytes per second a broker's flush writes.
    #[serde(skip_serializing_if = "is_default_flush_bandwidth")]
    pub flush_bandwidth: Bandwidth,
    /// A crash is a machine crash: the broker loses the records it had not fsynced (see
    /// [`KafkaLog::crash`](super::KafkaLog::crash)). Off by default (a process crash: the page
    /// cache survives), and echoed in reports only when set, as are the two flush settings below.
    #[serde(skip_serializing_if = "is_false")]
    pub crash_loses_unflushed: bool,
    /// With `crash_loses_unflushed`: a partition's leader fsyncs after this many records
    /// (Kafka `flush.messages`; none: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flush_messages: Option<u64>,
    /// With `crash_loses_unflushed`: a partition's leader fsyncs at every multiple of this
    /// period (Kafka `flush.ms`; none: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flush_ms: Option<Duration>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_default_memtable(s: &Size) -> bool {
    s.bytes == StoreParams::default().memtable.bytes
}
fn is_default_memtables(n: &u32) -> bool {
    *n == StoreParams::default().memtables
}
fn is_default_flush_bandwidth(b: &Bandwidth) -> bool {
    b.bytes_per_s == StoreParams::default().flush_bandwidth.bytes_per_s
}

impl Default for KafkaLogParams {
    fn default() -> Self {
        Self {
            brokers: 3,
            partitions: 64,
            replication_factor: 3,
            min_insync_replicas: 2,
            io_threads: 8,
            request: DistSpec::Const { value: Duration { ns: 50_000 } },
            append_bandwidth: Bandwidth { bytes_per_s: 1e9 },
            replica_lag: lognormal_us(1_000, 3_000),
            session_timeout: Duration { ns: 9 * NS_PER_S },
            election: Duration { ns: 200 * NS_PER_MS },
            controlled_shutdown: false,
            compaction: false,
            segment_bytes: Size { bytes: 1 << 30 },
            cleaner_interval: Duration { ns: 15 * NS_PER_S },
            min_compaction_lag: Duration { ns: 0 },
            memtable: StoreParams::default().memtable,
            memtables: StoreParams::default().memtables,
            flush_bandwidth: StoreParams::default().flush_bandwidth,
            crash_loses_unflushed: false,
            flush_messages: None,
            flush_ms: None,
        }
    }
}

/// A validated log description.
#[derive(Clone, Debug)]
pub struct KafkaLogSpec {
    pub(super) params: KafkaLogParams,
    pub(super) request: Dist,
    pub(super) replica_lag: Dist,
}

impl KafkaLogSpec {
    /// The parameters as written.
    pub fn params(&self) -> &KafkaLogParams {
        &self.params
    }
    /// The brokers' store parameters.
    pub fn store(&self) -> StoreParams {
        StoreParams {
            memtable: self.params.memtable,
            memtables: self.params.memtables,
            flush_bandwidth: self.params.flush_bandwidth,
        }
    }
    /// Mean service time of a request of `bytes` on a handler thread, ns.
    pub fn mean_request_ns(&self, bytes: f64) -> f64 {
        self.request.mean_ns() + bytes * 1e9 / self.params.append_bandwidth.bytes_per_s
    }
}

impl KafkaLogParams {
    /// The machine-crash option and its flush policy (`crash_loses_unflushed`, `flush_*`).
    fn validate_flush(&self) -> Result<(), ConfigError> {
        if (self.flush_messages.is_some() || self.flush_ms.is_some()) && !self.crash_loses_unflushed
        {
            return Err(ConfigError::new(
                "flush_messages",
                "a flush policy only matters with crash_loses_unflushed = true (a process crash keeps the page cache)",
            ));
        }
        if self.flush_messages == Some(0) {
            return Err(ConfigError::new("flush_messages", "must be at least 1"));
        }
        if let Some(n) = self.flush_messages {
            pipesim_config::limits::at_most("flush_messages", n, &pipesim_config::limits::BATCH)?;
        }
        if self.flush_ms.is_some_and(|d| d.ns == 0) {
            return Err(ConfigError::new("flush_ms", "must be greater than zero"));
        }
        Ok(())
    }

    /// Checks the parameters; error paths are relative to the log's table.
    pub fn validate(&self, loader: &dyn Loader) -> Result<KafkaLogSpec, ConfigError> {
        let dist = |d: &DistSpec, f: &str| d.resolve(loader).map_err(|m| ConfigError::new(f, m));
        if self.brokers == 0 {
            return Err(ConfigError::new("brokers", "must be at least 1"));
        }
        if self.partitions == 0 {
            return Err(ConfigError::new(
                "partitions",
                "must be at least 1: a topic of zero partitions holds nothing",
            ));
        }
        if self.replication_factor == 0 {
            return Err(ConfigError::new("replication_factor", "must be at least 1"));
        }
        if self.replication_factor > self.brokers {
            return Err(ConfigError::new(
                "replication_factor",
                format!(
                    "{} is more than the {} brokers: each replica needs its own broker",
                    self.replication_factor, self.brokers
                ),
            ));
        }
        if self.replication_factor > MAX_REPLICATION {
            return Err(ConfigError::new(
                "replication_factor",
                format!("at most {MAX_REPLICATION} replicas are modelled"),
            ));
        }
        if self.min_insync_replicas == 0 {
            return Err(ConfigError::new("min_insync_replicas", "must be at least 1"));
        }
        if self.min_insync_replicas > self.replication_factor {
            return Err(ConfigError::new(
                "min_insync_replicas",
                format!(
                    "{} is above the replication factor ({}): no write with acks = \"all\" could ever succeed",
                    self.min_insync_replicas, self.replication_factor
                ),
            ));
        }
        if self.io_threads == 0 {
            return Err(ConfigError::new("io_threads", "must be at least 1"));
        }
        use pipesim_config::limits::{BROKERS, PARTITIONS, WORKERS, at_most};
        at_most("brokers", u64::from(self.brokers), &BROKERS)?;
        at_most("partitions", u64::from(self.partitions), &PARTITIONS)?;
        at_most("io_threads", u64::from(self.io_threads), &WORKERS)?;
        if self.compaction && self.segment_bytes.bytes == 0 {
            return Err(ConfigError::new("segment_bytes", "must be greater than zero"));
        }
        if self.compaction && self.cleaner_interval.ns == 0 {
            return Err(ConfigError::new(
                "cleaner_interval",
                "must be greater than zero with compaction",
            ));
        }
        self.validate_flush()?;
        StoreParams {
            memtable: self.memtable,
            memtables: self.memtables,
            flush_bandwidth: self.flush_bandwidth,
        }
        .validate()?;
        Ok(KafkaLogSpec {
            params: self.clone(),
            request: dist(&self.request, "request")?,
            replica_lag: dist(&self.replica_lag, "replica_lag")?,
        })
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("brokers", "integer >= 1", "3", "brokers in the cluster (three is the smallest cluster that keeps replication factor 3)"),
            ParamDoc::new("partitions", "integer >= 1", "64", "partitions of the topic; key -> partition by a hash, as murmur2(key) mod partitions (seed 001's topic has 64; Kafka's num.partitions default is 1)"),
            ParamDoc::new("replication_factor", "integer 1..brokers", "3", "replicas per partition, leader included (the usual production setting)"),
            ParamDoc::new("min_insync_replicas", "integer 1..replication_factor", "2", "smallest ISR that accepts acks=all writes (Kafka's default is 1; 2 is the recommended setting with replication factor 3)"),
            ParamDoc::new("io_threads", "integer >= 1", "8", "request-handling threads per broker (Kafka num.io.threads default 8)"),
            ParamDoc::new("request", "distribution", "\"50us\"", "leader's handling time of one produce request besides its bytes (assumed: sub-millisecond local time)"),
            ParamDoc::new("append_bandwidth", "bandwidth", "\"1GB/s\"", "bytes per second a handler thread appends to the page cache (no fsync: Kafka's default)"),
            ParamDoc::new("replica_lag", "distribution", "{ dist = \"lognormal\", p50 = \"1ms\", p99 = \"3ms\" }", "until a follower has a batch: its fetch returns as soon as data arrives, plus a cross-AZ round trip (1-2 ms)"),
            ParamDoc::new("session_timeout", "duration", "\"9s\"", "a crashed broker is noticed after this (Kafka broker.session.timeout.ms 9000)"),
            ParamDoc::new("election", "duration", "\"200ms\"", "leader election once a leader is known to be gone (assumed: KRaft elections take milliseconds to hundreds of ms)"),
            ParamDoc::new("controlled_shutdown", "boolean", "false", "a log crash is a controlled shutdown (rolling restart): leadership moves at once instead of after session_timeout"),
            ParamDoc::new("compaction", "boolean", "false", "cleanup.policy=compact: keep the latest record per key; unread overwritten records are dropped (Kafka's default policy is delete)"),
            ParamDoc::new("segment_bytes", "size", "\"1GiB\"", "segment size; the active segment is never compacted (Kafka segment.bytes default 1 GiB)"),
            ParamDoc::new("cleaner_interval", "duration", "\"15s\"", "how often the cleaner runs (Kafka log.cleaner.backoff.ms 15000)"),
            ParamDoc::new("min_compaction_lag", "duration", "\"0s\"", "a closed segment is compacted only once its newest record is this old (Kafka min.compaction.lag.ms 0)"),
            ParamDoc::new("crash_loses_unflushed", "boolean", "false", "a log crash is a machine crash: a broker that comes back to lead a partition it was the last in-sync replica of keeps only what it had fsynced (the wire backend's crash; default: a process crash, the page cache survives)"),
            ParamDoc::new("flush_messages", "integer 1-1000000", "none", "with crash_loses_unflushed: the leader fsyncs after this many records (Kafka flush.messages; default never)"),
            ParamDoc::new("flush_ms", "duration", "none", "with crash_loses_unflushed: the leader fsyncs at every multiple of this period (Kafka flush.ms; default never)"),
            ParamDoc::new("memtable", "size", "\"64MiB\"", "a broker's RocksDB-like store: bytes of one memtable; appends and follower copies land in it (RocksDB write_buffer_size 64 MB)"),
            ParamDoc::new("memtables", "integer >= 2", "2", "memtables per broker, the active one included; with all full, appends stop until a flush frees one (RocksDB max_write_buffer_number 2)"),
            ParamDoc::new("flush_bandwidth", "bandwidth", "\"1GB/s\"", "bytes per second the broker's background thread writes a memtable out (assumed: a sequential SST write to NVMe)"),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// The producer as a scenario writes it (`[model.producer]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaProducerParams {
    /// Bytes at which a batch is sent (`batch.size`).
    pub batch_size: Size,
    /// How long a batch waits for more records after its first (`linger.ms`).
    pub linger: Duration,
    /// Unanswered requests per instance and partition (`max.in.flight.requests.per.connection`).
    pub max_in_flight: u32,
    /// When a request counts as done.
    pub acks: Acks,
    /// Sequence numbers per batch, so the leader drops duplicates and keeps order.
    pub idempotence: bool,
    /// Retries of a failed request (bounded by `delivery_timeout` too).
    pub retries: u32,
    /// Wait before the first retry, doubling after each.
    pub backoff: Duration,
    /// Longest wait between retries.
    pub backoff_max: Duration,
    /// A request unanswered this long has failed (`request.timeout.ms`).
    pub request_timeout: Duration,
    /// A record not acknowledged this long after it was sent is dropped (`delivery.timeout.ms`).
    pub delivery_timeout: Duration,
    /// Bytes of records an instance holds unacknowledged before it refuses more.
    pub buffer_memory: Size,
}

impl Default for KafkaProducerParams {
    fn default() -> Self {
        Self {
            batch_size: Size { bytes: 16_384 },
            linger: Duration { ns: 5 * NS_PER_MS },
            max_in_flight: 5,
            acks: Acks::All,
            idempotence: true,
            retries: i32::MAX as u32,
            backoff: Duration { ns: 100 * NS_PER_MS },
            backoff_max: Duration { ns: NS_PER_S },
            request_timeout: Duration { ns: 30 * NS_PER_S },
            delivery_timeout: Duration { ns: 120 * NS_PER_S },
            buffer_memory: Size { bytes: 32 << 20 },
        }
    }
}

impl KafkaProducerParams {
    /// Checks the parameters (Kafka's own rules included); error paths are relative to the
    /// producer's table.
    pub fn validate(&self) -> Result<KafkaProducerParams, ConfigError> {
        if self.max_in_flight == 0 {
            return Err(ConfigError::new("max_in_flight", "must be at least 1"));
        }
        use pipesim_config::limits::{BATCH, RETRIES, at_most};
        at_most("max_in_flight", u64::from(self.max_in_flight), &BATCH)?;
        at_most("retries", u64::from(self.retries), &RETRIES)?;
        if self.request_timeout.ns == 0 {
            return Err(ConfigError::new("request_timeout", "must be greater than zero"));
        }
        if self.backoff_max.ns < self.backoff.ns {
            return Err(ConfigError::new(
                "backoff_max",
                format!("{} is below backoff ({})", self.backoff_max, self.backoff),
            ));
        }
        if self.delivery_timeout.ns < self.linger.ns.saturating_add(self.request_timeout.ns) {
            return Err(ConfigError::new(
                "delivery_timeout",
                format!(
                    "{} is below linger + request_timeout ({} + {}), which Kafka rejects",
                    self.delivery_timeout, self.linger, self.request_timeout
                ),
            ));
        }
        if self.buffer_memory.bytes == 0 {
            return Err(ConfigError::new("buffer_memory", "must be greater than zero"));
        }
        if self.idempotence {
            if self.acks != Acks::All {
                return Err(ConfigError::new(
                    "acks",
                    "idempotence requires acks = \"all\" (set idempotence = false to use 0 or 1)",
                ));
            }
            if self.max_in_flight > 5 {
                return Err(ConfigError::new(
                    "max_in_flight",
                    format!(
                        "{} with idempotence: Kafka keeps order for at most 5 requests in flight",
                        self.max_in_flight
                    ),
                ));
            }
            if self.retries == 0 {
                return Err(ConfigError::new(
                    "retries",
                    "must be at least 1 with idempotence (Kafka requires retries > 0)",
                ));
            }
        }
        Ok(self.clone())
    }

    /// The wait before retry number `attempt` (1 for the first retry).
    pub fn backoff_ns(&self, attempt: u32) -> SimTime {
        let doublings = attempt.saturating_sub(1).min(40);
        self.backoff.ns.saturating_mul(1u64 << doublings).min(self.backoff_max.ns)
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("batch_size", "size", "\"16KiB\"", "a batch is sent once it holds this many bytes (Kafka batch.size 16384)"),
            ParamDoc::new("linger", "duration", "\"5ms\"", "a batch is sent this long after its first record at the latest (Kafka linger.ms: 5 since 4.0, 0 before)"),
            ParamDoc::new("max_in_flight", "integer >= 1", "5", "unanswered requests per producer instance and partition (Kafka max.in.flight.requests.per.connection 5; at most 5 with idempotence)"),
            ParamDoc::new("acks", "\"0\", \"1\" or \"all\"", "\"all\"", "when the producer is answered: never, after the leader's append, after every in-sync replica (Kafka's default since 3.0)"),
            ParamDoc::new("idempotence", "boolean", "true", "sequence numbers let the leader drop duplicate batches and keep order (Kafka enable.idempotence default true since 3.0; needs acks=all)"),
            ParamDoc::new("retries", "integer", "2147483647", "retries of a failed request, also bounded by delivery_timeout (Kafka retries default MAX_INT)"),
            ParamDoc::new("backoff", "duration", "\"100ms\"", "wait before the first retry, doubling after each (Kafka retry.backoff.ms 100)"),
            ParamDoc::new("backoff_max", "duration", "\"1s\"", "longest wait between retries (Kafka retry.backoff.max.ms 1000)"),
            ParamDoc::new("request_timeout", "duration", "\"30s\"", "a request unanswered this long has failed and is retried (Kafka request.timeout.ms 30000)"),
            ParamDoc::new("delivery_timeout", "duration", "\"120s\"", "records not acknowledged this long after send are dropped (Kafka delivery.timeout.ms 120000)"),
            ParamDoc::new("buffer_memory", "size", "\"32MiB\"", "unacknowledged bytes an instance holds; beyond it records are refused (Kafka buffer.memory 32 MiB; send() would block max.block.ms and fail)"),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}
