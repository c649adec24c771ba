//! A Kafka-like partitioned log, and the Kafka producer that writes to it.
//!
//! **The log** ([`KafkaLog`]). A topic of `partitions` partitions, each replicated on
//! `replication_factor` of the `brokers` (replica `j` of partition `p` on broker `(p + j) mod
//! brokers`, the first one leading, so leaders are spread round-robin). Each broker has one
//! request-handling station (`io_threads` servers); a produce request costs `request` plus its
//! bytes at `append_bandwidth` on the leader, which then appends it (to the page cache: no
//! fsync, Kafka's default). A broker handles one request of a producer instance's connection at
//! a time, in arrival order (Kafka reads a connection's next request only once the current one
//! is processed), so a connection's batches are appended in the order they were sent; the
//! connection is free again once the leader has appended, not when the answer goes out (Kafka
//! keeps it muted until then). Each follower copies the batch after a `replica_lag` (its fetch
//! returns as soon as data arrives, plus the round trip); followers fetch in order, so a
//! follower's copy of a batch is never before its copy of the previous one. The high watermark
//! (HW) is the offset every in-sync replica (ISR) has; consumers see records below it only.
//! `acks`: `0` the producer does not wait; `1` the leader answers after its append; `all` the
//! leader answers when the HW passes the batch, and refuses it (`NOT_ENOUGH_REPLICAS`) while the
//! ISR is smaller than `min_insync_replicas`.
//!
//! With an idempotent producer every batch carries a sequence number per partition; the leader
//! appends only the next expected one, answers an older one as a duplicate without appending it,
//! and refuses a later one (`OUT_OF_ORDER_SEQUENCE`) so that the producer retries it after the
//! missing batch: neither retries nor reordering in flight can duplicate or reorder records.
//!
//! **Broker crashes.** A crashed broker's requests fail (the clients see their connections
//! drop). Partitions it led have no leader until the crash is detected (`session_timeout`, or at
//! once with `controlled_shutdown`, as in a rolling restart) and a new leader is elected
//! (`election`): the first live in-sync follower. The new leader keeps only what it had copied:
//! records above that are truncated, so with `acks = 1` an acknowledged record can be lost. A
//! crashed follower stays in the ISR until its crash is detected, and meanwhile the HW cannot pass
//! what it had not copied (`acks = all` producers and consumers stall). A broker that comes back
//! rejoins the ISR of its partitions at once (catching up is not modelled) and leads nothing until
//! a leader fails again (no preferred-leader rebalance).
//!
//! **Machine crashes** (`crash_loses_unflushed`, off by default). The log has no fsync unless
//! `flush_messages` or `flush_ms` says so, and a process crash keeps the page cache. With the
//! option a crash is a machine crash: the partitions' leader remembers what it had fsynced,
//! and when the crashed leader leads again because no other in-sync replica could (it was the
//! last, or it is back before the election), its log is cut back to that; a consumer beyond
//! the cut goes back to it (`Projection::rewind`), and nobody reads a partition while it has
//! no leader (by default a consumer reads a leaderless partition regardless). Only the
//! leader's fsyncs are tracked: a
//! follower that crashes rejoins as before (its catching up is not modelled), so this matters
//! where a partition's last in-sync replica crashes: replication factor 1, or every replica.
//!
//! **Compaction.** With `compaction`, a cleaner runs every `cleaner_interval` over the closed
//! segments (`segment_bytes` each; the active segment and anything above the HW are never
//! cleaned) and keeps only the latest record of each key. A record removed this way that the
//! consumer had not fetched yet is gone for it: the log reports it ([`LogOutcome::Compacted`]).
//! Records the consumer has fetched are never touched (a replay after a consumer crash sees them).
//!
//! **The producer** ([`KafkaProducer`]). Per producer instance and partition, records gather in
//! a batch that is sent when it reaches `batch_size` bytes or `linger` after its first record, and
//! only while fewer than `max_in_flight` requests are unanswered (otherwise it keeps filling: the
//! batching that load brings). A request unanswered after `request_timeout`, or answered with a
//! retriable error, is retried after a backoff (`backoff` doubling up to `backoff_max`) while
//! `retries` and `delivery_timeout` (counted from the batch's first record) allow; then its
//! records are dropped. Without idempotence a retry after a lost acknowledgement appends the
//! records a second time, and a retried batch can land after a later one. Records beyond
//! `buffer_memory` bytes waiting per instance are refused (Kafka's `send()` would block up to
//! `max.block.ms` and then throw).

use crate::deadlines::Deadlines;
use crate::int_map::IntMap;
use crate::link::lognormal_us;
use crate::lsm::{BrokerStore, StallFn, StoreParams, StoreStats, WriteResult};
use crate::server::{FifoServer, ServerStats};
use pipesim_config::{Bandwidth, ConfigError, DistSpec, Duration, Loader, ParamDoc, Size};
use pipesim_engine::{Dist, NS_PER_MS, NS_PER_S, Sim, SimTime, StreamRng};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::VecDeque;
use std::fmt;

/// The most replicas a partition may have (the follower copy times of a pending batch live in a
/// fixed array).
pub const MAX_REPLICATION: u32 = 8;
const NONE: u32 = u32::MAX;
/// "No sequence number": the producer is not idempotent.
pub const NO_SEQ: u32 = u32::MAX;
const NEVER: SimTime = SimTime::MAX;
const NO_LEADER: u8 = u8::MAX;

/// What the log and the producer need of a record.
pub trait Record: Copy {
    /// The record's key (compaction keeps the latest record per key).
    fn key(&self) -> u32;
    /// Its size in bytes (batching, segments, bandwidth).
    fn bytes(&self) -> u32;
    /// A stable identity (the projection picks poison events by it).
    fn id(&self) -> u64;
    /// Marks the record as removed by compaction; it keeps its offset.
    fn mark_compacted(&mut self);
    /// Whether compaction removed it.
    fn is_compacted(&self) -> bool;
}

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

// ---------------------------------------------------------------------------------------------
// Parameters

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
    /// [`KafkaLog::crash`]). Off by default (a process crash: the page cache survives), and
    /// echoed in reports only when set, as are the two flush settings below.
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
    params: KafkaLogParams,
    request: Dist,
    replica_lag: Dist,
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
            ParamDoc::new("delivery_timeout", "duration", "\"2m\"", "records not acknowledged this long after send are dropped (Kafka delivery.timeout.ms 120000)"),
            ParamDoc::new("buffer_memory", "size", "\"32MiB\"", "unacknowledged bytes an instance holds; beyond it records are refused (Kafka buffer.memory 32 MiB; send() would block max.block.ms and fail)"),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// The hash that maps a key to its partition (the murmur3 finalizer: Kafka uses murmur2 of the
/// key bytes; any well-mixed hash spreads keys the same way).
#[inline]
pub fn partition_of(key: u32, partitions: u32) -> u32 {
    let mut h = key ^ 0x9747_b28c;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    ((u64::from(h) * u64::from(partitions)) >> 32) as u32
}

// ---------------------------------------------------------------------------------------------
// Messages between the producer and the log

/// One produce request: a batch of one producer instance for one partition, one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProduceReq {
    /// Producer instance (its producer id).
    pub producer: u32,
    /// Target partition.
    pub partition: u32,
    /// The batch's slot in the producer.
    pub slot: u32,
    /// The slot's generation, so a request that outlives its batch is recognised.
    pub generation: u32,
    /// Which attempt (unique per send).
    pub attempt: u32,
    /// Idempotent sequence number of the batch in its partition, or [`NO_SEQ`].
    pub seq: u32,
    /// Bytes of the batch.
    pub bytes: u32,
}

/// The leader's answer to a produce request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProduceResult {
    /// Appended (and, with acks=all, committed).
    Ok,
    /// An idempotent retry of a batch already appended: nothing appended, success.
    Duplicate,
    /// The partition has no leader, or the broker is not its leader any more.
    NotLeader,
    /// acks=all and the ISR is below `min_insync_replicas`.
    NotEnoughReplicas,
    /// An idempotent batch arrived before an earlier one of the same producer.
    OutOfOrder,
    /// The broker went down with the request (the connection broke).
    Disconnected,
}

impl ProduceResult {
    /// Whether the producer counts the batch as written.
    pub fn is_success(self) -> bool {
        matches!(self, ProduceResult::Ok | ProduceResult::Duplicate)
    }
}

// ---------------------------------------------------------------------------------------------
// The log

/// The log's own events, to be wrapped in the model's event type.
#[derive(Clone, Copy, Debug)]
pub enum LogEvent {
    /// A handler thread of `broker` finished `req` (valid if the broker's epoch still matches).
    Served {
        /// The broker.
        broker: u16,
        /// Its epoch when the request started.
        epoch: u32,
        /// The request.
        req: ProduceReq,
    },
    /// The oldest uncommitted batch of a partition may be committed (the HW moves).
    Commit(u32),
    /// A leader election of a partition ends (valid if the partition's epoch still matches).
    Elected {
        /// The partition.
        partition: u32,
        /// Its leader epoch when the election started.
        epoch: u32,
    },
    /// A crashed broker is noticed: it leaves the ISR of the partitions it follows.
    Detected {
        /// The broker.
        broker: u16,
        /// Its epoch when it crashed.
        epoch: u32,
    },
    /// The cleaner's timer.
    Clean,
    /// A job of a broker's store thread (a flush or a compaction) ends.
    StoreJob {
        /// The broker.
        broker: u16,
        /// The store's job generation.
        generation: u32,
    },
}

/// What the log tells the model.
#[derive(Clone, Copy, Debug)]
pub enum LogOutcome<R> {
    /// Answer this request (over the network; with acks=0 the producer only frees the batch).
    Respond(ProduceReq, ProduceResult),
    /// The HW of this partition moved: consumers may fetch.
    Available(u32),
    /// Compaction removed this record before the consumer read it.
    Compacted(R),
    /// This partition has a leader again.
    Led(u32),
}

/// An appended batch above the HW.
#[derive(Clone, Copy, Debug)]
struct Pending {
    /// Offset after the batch's last record.
    end: u64,
    /// When each replica position has the batch ([`NEVER`]: not while it is down).
    copied: [SimTime; MAX_REPLICATION as usize],
    /// When the HW can pass it.
    commit_at: SimTime,
    req: ProduceReq,
    /// Whether the producer waits for the commit (acks=all).
    respond: bool,
    result: ProduceResult,
}

struct Partition<R> {
    replicas: [u16; MAX_REPLICATION as usize],
    rf: u8,
    leader: u8,
    isr: u8,
    epoch: u32,
    /// When each replica position last copied a batch (its fetches are in order).
    last_copy: [SimTime; MAX_REPLICATION as usize],
    crashed_at: SimTime,
    /// The replica position whose crash started the election in progress.
    failed_leader: u8,
    offline: bool,
    base: u64,
    records: VecDeque<R>,
    leo: u64,
    hw: u64,
    pending: VecDeque<Pending>,
    commit_scheduled: SimTime,
    /// Next expected idempotent sequence per producer.
    expected: Vec<u32>,
    segment_fill: u64,
    /// Closed segments not yet cleanable: (end offset, when closed).
    closed: VecDeque<(u64, SimTime)>,
    /// With `crash_loses_unflushed`: the log end at the leader's last fsync, the next
    /// `flush_ms` boundary, and what its crashed leader had fsynced.
    flushed: u64,
    next_flush_ns: SimTime,
    crash_flushed: Option<u64>,
    cleanable_end: u64,
    cleaned_end: u64,
    read_pos: u64,
}

impl<R> Partition<R> {
    /// With `flush_ms`: the periodic fsyncs up to `now` (one at each multiple of the period;
    /// none has appended since the last, so the log end then is the log end now).
    fn flush_until(&mut self, now: SimTime, every: Option<Duration>) {
        if let Some(d) = every
            && now >= self.next_flush_ns
        {
            self.flushed = self.leo;
            self.next_flush_ns = (now / d.ns + 1).saturating_mul(d.ns);
        }
    }

    /// The crashed leader leads again after a machine crash: its log is cut back to what it
    /// had fsynced (batch boundaries, since fsyncs follow appends). Returns the records cut.
    fn lose_unflushed(&mut self) -> u64 {
        let Some(to) = self.crash_flushed.take() else { return 0 };
        if to >= self.leo {
            return 0;
        }
        while self.pending.back().is_some_and(|b| b.end > to) {
            let b = self.pending.pop_back().expect("exists");
            if b.req.seq != NO_SEQ {
                let e = &mut self.expected[b.req.producer as usize];
                *e = (*e).min(b.req.seq);
            }
        }
        let cut = self.leo - to;
        if to <= self.base {
            self.records.clear();
            self.base = to;
        } else {
            self.records.truncate((to - self.base) as usize);
        }
        self.leo = to;
        self.hw = self.hw.min(to);
        self.flushed = to;
        self.closed.retain(|&(end, _)| end <= to);
        self.cleanable_end = self.cleanable_end.min(to);
        self.cleaned_end = self.cleaned_end.min(to);
        self.read_pos = self.read_pos.min(to);
        cut
    }
}

/// Counters for the report.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogStats {
    /// Produce requests that reached a broker.
    pub requests: u64,
    /// Batches appended.
    pub batches: u64,
    /// Records appended.
    pub records: u64,
    /// Idempotent retries recognised as duplicates (not appended).
    pub deduplicated: u64,
    /// Batches refused as out of sequence.
    pub out_of_order: u64,
    /// Requests refused for want of in-sync replicas.
    pub not_enough_replicas: u64,
    /// Requests that found no leader.
    pub not_leader: u64,
    /// Requests failed by broker crashes.
    pub disconnected: u64,
    /// Records truncated by a leader change.
    pub truncated: u64,
    /// Records in sections the cleaner went over.
    pub cleaned: u64,
    /// Records compaction removed (all unread: the cleaner leaves fetched records alone).
    pub compacted: u64,
    /// Leader elections.
    pub elections: u64,
    /// Batches committed.
    pub commits: u64,
    /// Records appended in the busiest whole second (`[k s, (k+1) s)`).
    pub peak_window_records: u64,
    window: u64,
    window_records: u64,
}

/// A running cluster of brokers holding one topic.
pub struct KafkaLog<R> {
    spec: KafkaLogSpec,
    acks: Acks,
    rng: StreamRng,
    stations: Vec<FifoServer<ProduceReq>>,
    alive: Vec<bool>,
    broker_epoch: Vec<u32>,
    parts: Vec<Partition<R>>,
    ns_per_byte: f64,
    scratch: Vec<ProduceReq>,
    producers: usize,
    /// Per connection (broker × producer instance): whether one of its requests is in the
    /// broker's handler station. A broker reads a connection's next request only once the
    /// previous one is handled, so a connection's requests are appended in the order sent.
    conn_busy: Vec<bool>,
    /// Requests that arrived while their connection's previous one was being handled, with
    /// their service times.
    conn_wait: Vec<VecDeque<(ProduceReq, SimTime)>>,
    /// Per broker: its RocksDB-like store (memtables and their flush thread).
    stores: Vec<BrokerStore>,
    /// Whether appends go through the stores (see [`KafkaLog::enable_store`]).
    store_on: bool,
    /// Per broker: requests whose append waits (writes stopped, or the broker paused), with
    /// the broker epoch they were served in. Their handler threads stay busy meanwhile.
    held: Vec<VecDeque<(u32, ProduceReq)>>,
    /// Per broker: frozen by a pause (no request served, nothing appended or copied).
    frozen: Vec<bool>,
    /// Counters.
    pub stats: LogStats,
}

impl<R: Record> KafkaLog<R> {
    /// Bytes a cluster of `brokers` brokers and `partitions` partitions takes before it holds
    /// records, for `producers` producer instances (for the run estimate): each partition and
    /// its per-producer sequence, each broker's connection from each producer.
    pub fn state_bytes(brokers: u32, partitions: u32, producers: u32) -> u64 {
        let partition = std::mem::size_of::<Partition<R>>() as u64 + 8 * u64::from(producers);
        let connection = 1 + std::mem::size_of::<VecDeque<u32>>() as u64;
        u64::from(partitions) * partition + u64::from(brokers) * u64::from(producers) * connection
    }

    /// A cluster for `producers` producer instances writing with `acks`, with its own stream.
    pub fn new(spec: &KafkaLogSpec, acks: Acks, producers: u32, rng: StreamRng) -> Self {
        let p = &spec.params;
        let parts = (0..p.partitions)
            .map(|i| {
                let mut replicas = [0u16; MAX_REPLICATION as usize];
                for (j, r) in replicas.iter_mut().enumerate().take(p.replication_factor as usize) {
                    *r = ((i as usize + j) % p.brokers as usize) as u16;
                }
                Partition {
                    replicas,
                    rf: p.replication_factor as u8,
                    leader: 0,
                    isr: ((1u16 << p.replication_factor) - 1) as u8,
                    epoch: 0,
                    last_copy: [0; MAX_REPLICATION as usize],
                    crashed_at: 0,
                    failed_leader: NO_LEADER,
                    offline: false,
                    base: 0,
                    records: VecDeque::new(),
                    leo: 0,
                    hw: 0,
                    pending: VecDeque::new(),
                    commit_scheduled: NEVER,
                    expected: vec![0; producers as usize],
                    segment_fill: 0,
                    flushed: 0,
                    next_flush_ns: p.flush_ms.map_or(NEVER, |d| d.ns),
                    crash_flushed: None,
                    closed: VecDeque::new(),
                    cleanable_end: 0,
                    cleaned_end: 0,
                    read_pos: 0,
                }
            })
            .collect();
        Self {
            spec: spec.clone(),
            acks,
            rng,
            stations: (0..p.brokers).map(|_| FifoServer::new(p.io_threads, None)).collect(),
            alive: vec![true; p.brokers as usize],
            broker_epoch: vec![0; p.brokers as usize],
            parts,
            ns_per_byte: 1e9 / p.append_bandwidth.bytes_per_s,
            scratch: Vec::new(),
            producers: producers as usize,
            conn_busy: vec![false; p.brokers as usize * producers as usize],
            conn_wait: vec![VecDeque::new(); p.brokers as usize * producers as usize],
            stores: (0..p.brokers).map(|_| BrokerStore::new(&spec.store())).collect(),
            store_on: false,
            held: vec![VecDeque::new(); p.brokers as usize],
            frozen: vec![false; p.brokers as usize],
            stats: LogStats::default(),
        }
    }

    /// Starts the cleaner, if compaction is on.
    pub fn start<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(LogEvent) -> E) {
        if self.spec.params.compaction {
            sim.schedule_in(self.spec.params.cleaner_interval.ns, wrap(LogEvent::Clean));
        }
    }

    /// Partitions of the topic.
    pub fn partitions(&self) -> u32 {
        self.parts.len() as u32
    }

    /// The partition of `key`.
    #[inline]
    pub fn partition_of(&self, key: u32) -> u32 {
        partition_of(key, self.parts.len() as u32)
    }

    /// The log end offset of `partition` (below it after a machine crash cut it back: see
    /// [`KafkaLogParams::crash_loses_unflushed`]).
    #[inline]
    pub fn leo(&self, partition: u32) -> u64 {
        self.parts[partition as usize].leo
    }

    /// The high watermark of `partition`: consumers see offsets below it.
    #[inline]
    /// With `crash_loses_unflushed`, a partition without a leader serves nothing new (the
    /// machine holding it is down); by default the consumer reads it regardless.
    pub fn hw(&self, partition: u32) -> u64 {
        let p = &self.parts[partition as usize];
        if self.spec.params.crash_loses_unflushed && p.leader == NO_LEADER {
            return p.hw.min(p.read_pos);
        }
        p.hw
    }

    /// The record at `offset` of `partition` (compacted ones included, marked). The offset must
    /// be at or above what was released and below the log end.
    #[inline]
    pub fn record(&self, partition: u32, offset: u64) -> &R {
        let p = &self.parts[partition as usize];
        &p.records[(offset - p.base) as usize]
    }

    /// The consumer no longer needs records below `upto` of `partition`: they leave memory.
    pub fn release(&mut self, partition: u32, upto: u64) {
        let p = &mut self.parts[partition as usize];
        let upto = upto.min(p.hw);
        while p.base < upto {
            p.records.pop_front();
            p.base += 1;
        }
    }

    /// The consumer's fetch position in `partition`: compaction may remove unread records at or
    /// above it only.
    #[inline]
    pub fn set_read_pos(&mut self, partition: u32, pos: u64) {
        self.parts[partition as usize].read_pos = pos;
    }

    /// Whether every partition has a leader (a transaction can commit).
    pub fn all_led(&self) -> bool {
        self.parts.iter().all(|p| p.leader != NO_LEADER)
    }

    /// Whether `broker` is up.
    pub fn broker_alive(&self, broker: u32) -> bool {
        self.alive[broker as usize]
    }

    /// Brokers in the cluster.
    pub fn brokers(&self) -> u32 {
        self.alive.len() as u32
    }

    /// Partitions each broker leads now.
    pub fn leaders_per_broker(&self) -> Vec<u64> {
        let mut out = vec![0; self.alive.len()];
        for p in &self.parts {
            if p.leader != NO_LEADER {
                out[p.replicas[p.leader as usize] as usize] += 1;
            }
        }
        out
    }

    /// Records held in memory (for reports).
    pub fn records_held(&self) -> u64 {
        self.parts.iter().map(|p| p.records.len() as u64).sum()
    }

    /// Restricts the brokers' station statistics to `[from, to)`; by default they cover the
    /// whole run.
    pub fn set_window(&mut self, from: SimTime, to: SimTime) {
        for st in &mut self.stations {
            st.set_window(from, to);
        }
    }

    /// Each broker's request station statistics up to `now`.
    pub fn station_stats(&self, now: SimTime) -> Vec<ServerStats> {
        self.stations.iter().map(|s| s.stats(now)).collect()
    }

    /// A produce request reached the cluster: it queues at the partition's leader, or is
    /// answered at once with an error.
    pub fn produce<E>(
        &mut self,
        sim: &mut Sim<E>,
        req: ProduceReq,
        wrap: impl Fn(LogEvent) -> E,
        out: &mut Vec<LogOutcome<R>>,
    ) {
        self.stats.requests += 1;
        let part = &self.parts[req.partition as usize];
        if part.leader == NO_LEADER {
            self.stats.not_leader += 1;
            out.push(LogOutcome::Respond(req, ProduceResult::NotLeader));
            return;
        }
        let broker = part.replicas[part.leader as usize];
        if !self.alive[broker as usize] {
            self.stats.disconnected += 1;
            out.push(LogOutcome::Respond(req, ProduceResult::Disconnected));
            return;
        }
        let cost = self
            .spec
            .request
            .sample(&mut self.rng)
            .saturating_add((f64::from(req.bytes) * self.ns_per_byte) as SimTime);
        let c = broker as usize * self.producers + req.producer as usize;
        if self.conn_busy[c] {
            self.conn_wait[c].push_back((req, cost));
            return;
        }
        self.conn_busy[c] = true;
        let epoch = self.broker_epoch[broker as usize];
        self.stations[broker as usize]
            .offer(sim, req, cost, |req| wrap(LogEvent::Served { broker, epoch, req }));
    }

    /// The broker handled a request of `producer`'s connection: it reads the next one.
    fn next_on_connection<E>(
        &mut self,
        sim: &mut Sim<E>,
        broker: u16,
        producer: u32,
        wrap: impl Fn(LogEvent) -> E,
    ) {
        let c = broker as usize * self.producers + producer as usize;
        match self.conn_wait[c].pop_front() {
            Some((req, cost)) => {
                let epoch = self.broker_epoch[broker as usize];
                self.stations[broker as usize]
                    .offer(sim, req, cost, |req| wrap(LogEvent::Served { broker, epoch, req }));
            }
            None => self.conn_busy[c] = false,
        }
    }

    /// A handler thread finished `req` on `broker`: the leader appends `records` (the batch, or
    /// `None` if the producer no longer has it, in which case nothing is appended or answered).
    #[allow(clippy::too_many_arguments)]
    pub fn served<E>(
        &mut self,
        sim: &mut Sim<E>,
        broker: u16,
        epoch: u32,
        req: ProduceReq,
        records: Option<&[R]>,
        wrap: impl Fn(LogEvent) -> E + Copy,
        out: &mut Vec<LogOutcome<R>>,
    ) {
        if epoch != self.broker_epoch[broker as usize] {
            // In service when the broker crashed: the connection broke.
            self.stats.disconnected += 1;
            out.push(LogOutcome::Respond(req, ProduceResult::Disconnected));
            return;
        }
        if self.frozen[broker as usize] {
            // A paused process finishes nothing: the thread holds the request until it thaws.
            self.held[broker as usize].push_back((epoch, req));
            return;
        }
        if self.store_on && records.is_some() && self.would_append(broker, &req) {
            // The append goes into the broker's memtable; with every memtable full it waits,
            // and so does its handler thread (RocksDB's write stall).
            let now = sim.now();
            match self.stores[broker as usize].write(u64::from(req.bytes), now) {
                WriteResult::Done => {}
                WriteResult::Switched => self.kick_store(sim, broker, wrap),
                WriteResult::Stopped => {
                    self.held[broker as usize].push_back((epoch, req));
                    return;
                }
            }
        }
        self.stations[broker as usize]
            .complete(sim, |req| wrap(LogEvent::Served { broker, epoch, req }));
        self.next_on_connection(sim, broker, req.producer, wrap);
        let min_isr = self.spec.params.min_insync_replicas;
        let acks = self.acks;
        let part = &mut self.parts[req.partition as usize];
        if part.leader == NO_LEADER || part.replicas[part.leader as usize] != broker {
            self.stats.not_leader += 1;
            out.push(LogOutcome::Respond(req, ProduceResult::NotLeader));
            return;
        }
        let Some(records) = records else { return };
        if acks == Acks::All && part.isr.count_ones() < min_isr {
            self.stats.not_enough_replicas += 1;
            out.push(LogOutcome::Respond(req, ProduceResult::NotEnoughReplicas));
            return;
        }
        if req.seq != NO_SEQ {
            let expected = part.expected[req.producer as usize];
            if req.seq < expected {
                self.stats.deduplicated += 1;
                if acks == Acks::All {
                    // Answered once everything before it is committed, the original included.
                    self.push_pending(sim, req.partition, req, 0, ProduceResult::Duplicate, wrap);
                } else {
                    out.push(LogOutcome::Respond(req, ProduceResult::Duplicate));
                }
                return;
            }
            if req.seq > expected {
                self.stats.out_of_order += 1;
                out.push(LogOutcome::Respond(req, ProduceResult::OutOfOrder));
                return;
            }
            part.expected[req.producer as usize] = expected + 1;
        }
        part.flush_until(sim.now(), self.spec.params.flush_ms);
        let mut bytes = 0u64;
        for r in records {
            bytes += u64::from(r.bytes());
            part.records.push_back(*r);
        }
        let n = records.len() as u64;
        part.leo += n;
        if let Some(every) = self.spec.params.flush_messages
            && part.leo - part.flushed >= every
        {
            part.flushed = part.leo;
        }
        part.segment_fill += bytes;
        if self.spec.params.compaction && part.segment_fill >= self.spec.params.segment_bytes.bytes
        {
            part.segment_fill = 0;
            part.closed.push_back((part.leo, sim.now()));
        }
        self.stats.batches += 1;
        self.stats.records += n;
        let window = sim.now() / NS_PER_S;
        if window != self.stats.window {
            self.stats.window = window;
            self.stats.window_records = 0;
        }
        self.stats.window_records += n;
        self.stats.peak_window_records =
            self.stats.peak_window_records.max(self.stats.window_records);
        match acks {
            Acks::All => {
                self.push_pending(sim, req.partition, req, n, ProduceResult::Ok, wrap);
            }
            Acks::One | Acks::Zero => {
                out.push(LogOutcome::Respond(req, ProduceResult::Ok));
                self.push_pending_quiet(sim, req.partition, req, n, wrap);
            }
        }
    }

    /// Appends and follower copies go through the brokers' stores from now on. A model turns
    /// this on when the store can matter: something blocks its thread (a compaction, a disk
    /// stall), its sizes are not the defaults, or the load per broker reaches the flush
    /// bandwidth. Otherwise a flush always ends before the next memtable fills (flushing is
    /// faster than filling), writes never stop, and skipping the store's events leaves the
    /// results exactly as they were.
    pub fn enable_store(&mut self) {
        self.store_on = true;
    }

    /// Whether `req`, served by `broker`, would be appended (so it goes through the store).
    #[inline]
    fn would_append(&self, broker: u16, req: &ProduceReq) -> bool {
        let part = &self.parts[req.partition as usize];
        if part.leader == NO_LEADER || part.replicas[part.leader as usize] != broker {
            return false;
        }
        if self.acks == Acks::All && part.isr.count_ones() < self.spec.params.min_insync_replicas {
            return false;
        }
        req.seq == NO_SEQ || req.seq == part.expected[req.producer as usize]
    }

    /// Starts the next job of `broker`'s store thread, if it is idle and has one.
    fn kick_store<E>(&mut self, sim: &mut Sim<E>, broker: u16, wrap: impl Fn(LogEvent) -> E) {
        if let Some((ns, generation)) = self.stores[broker as usize].next_job(sim.now()) {
            sim.schedule_in(ns, wrap(LogEvent::StoreJob { broker, generation }));
        }
    }

    /// `broker` may write again: the appends it held are served again (in order), the copies
    /// it missed as a follower are made, and, if it thawed, its partitions commit again.
    fn resume<E>(&mut self, sim: &mut Sim<E>, broker: u16, wrap: impl Fn(LogEvent) -> E + Copy) {
        let b = broker as usize;
        let now = sim.now();
        if self.frozen[b] {
            return;
        }
        for (epoch, req) in self.held[b].drain(..) {
            sim.schedule_at(now, wrap(LogEvent::Served { broker, epoch, req }));
        }
        if self.stores[b].stopped() || !self.alive[b] {
            return;
        }
        for i in 0..self.parts.len() {
            let part = &mut self.parts[i];
            let Some(j) = (0..part.rf as usize).find(|&j| part.replicas[j] == broker) else {
                continue;
            };
            if part.leader == NO_LEADER {
                continue;
            }
            if j == part.leader as usize {
                // Thawed leader: the HW can move again.
                part.commit_scheduled = NEVER;
                Self::schedule_commit(part, i as u32, sim, &wrap);
                continue;
            }
            if part.last_copy[j] == NEVER {
                continue; // crashed and not back: the restart re-replicates
            }
            let mut changed = false;
            for k in 0..part.pending.len() {
                if part.pending[k].copied[j] == NEVER {
                    let t =
                        (now + self.spec.replica_lag.sample(&mut self.rng)).max(part.last_copy[j]);
                    part.last_copy[j] = t;
                    part.pending[k].copied[j] = t;
                    if self.store_on {
                        let bytes = u64::from(part.pending[k].req.bytes);
                        let _ = self.stores[b].write_anyway(bytes, now);
                    }
                    changed = true;
                }
            }
            if changed {
                self.recompute(i as u32);
                let part = &mut self.parts[i];
                Self::schedule_commit(part, i as u32, sim, &wrap);
            }
        }
        self.kick_store(sim, broker, wrap);
    }

    /// Requests `broker` held when it crashed: their connections broke.
    fn fail_held(&mut self, broker: usize, out: &mut Vec<LogOutcome<R>>) {
        for (_, req) in self.held[broker].drain(..) {
            self.stats.disconnected += 1;
            out.push(LogOutcome::Respond(req, ProduceResult::Disconnected));
        }
    }

    /// A schema change: a compaction of `ns` queued on `broker`'s store thread, ahead of any
    /// flush queued after it (seed 004).
    pub fn compact<E>(
        &mut self,
        sim: &mut Sim<E>,
        broker: u32,
        ns: SimTime,
        wrap: impl Fn(LogEvent) -> E,
    ) {
        self.stores[broker as usize].compact(ns, sim.now());
        self.kick_store(sim, broker as u16, wrap);
    }

    /// A disk stall of `broker` over `[start, end)`: its store thread's jobs started then take
    /// `f(ns, now)`; `None` ends it.
    pub fn set_disk_stall(&mut self, broker: u32, stall: Option<(SimTime, SimTime, StallFn)>) {
        self.stores[broker as usize].set_disk_stall(stall);
    }

    /// `broker`'s process freezes (a pause: GC, VM steal): it finishes no request, appends and
    /// copies nothing, moves no HW, until [`KafkaLog::thaw`].
    pub fn freeze(&mut self, broker: u32, now: SimTime) {
        self.frozen[broker as usize] = true;
        self.stores[broker as usize].set_frozen(true, now);
    }

    /// `broker`'s process runs again: what it held goes on.
    pub fn thaw<E>(&mut self, sim: &mut Sim<E>, broker: u32, wrap: impl Fn(LogEvent) -> E + Copy) {
        let b = broker as usize;
        if !self.frozen[b] {
            return;
        }
        self.frozen[b] = false;
        let _ = self.stores[b].set_frozen(false, sim.now());
        self.resume(sim, broker as u16, wrap);
    }

    /// Per broker: its store's counters, with the stop time up to `now`.
    pub fn store_stats(&self, now: SimTime) -> Vec<StoreStats> {
        self.stores
            .iter()
            .map(|s| StoreStats { stopped_ns: s.stopped_ns(now), ..s.stats })
            .collect()
    }

    fn push_pending_quiet<E>(
        &mut self,
        sim: &mut Sim<E>,
        partition: u32,
        req: ProduceReq,
        n: u64,
        wrap: impl Fn(LogEvent) -> E,
    ) {
        self.push_pending_inner(sim, partition, req, n, false, ProduceResult::Ok, wrap);
    }

    fn push_pending<E>(
        &mut self,
        sim: &mut Sim<E>,
        partition: u32,
        req: ProduceReq,
        n: u64,
        result: ProduceResult,
        wrap: impl Fn(LogEvent) -> E,
    ) {
        self.push_pending_inner(sim, partition, req, n, true, result, wrap);
    }

    #[allow(clippy::too_many_arguments)]
    fn push_pending_inner<E>(
        &mut self,
        sim: &mut Sim<E>,
        partition: u32,
        req: ProduceReq,
        n: u64,
        respond: bool,
        result: ProduceResult,
        wrap: impl Fn(LogEvent) -> E,
    ) {
        let now = sim.now();
        let part = &mut self.parts[partition as usize];
        let mut copied = [NEVER; MAX_REPLICATION as usize];
        let mut commit_at = part.pending.back().map_or(now, |b| b.commit_at).max(now);
        for (j, copied_at) in copied.iter_mut().enumerate().take(part.rf as usize) {
            if j == part.leader as usize {
                *copied_at = now;
                continue;
            }
            let fb = part.replicas[j] as usize;
            if n > 0
                && self.alive[fb]
                && part.last_copy[j] != NEVER
                && (self.frozen[fb] || (self.store_on && self.stores[fb].stopped()))
            {
                // The follower takes no writes now: it copies the batch when it can again.
                *copied_at = NEVER;
            } else if n > 0 && self.alive[fb] && part.last_copy[j] != NEVER {
                let t = (now + self.spec.replica_lag.sample(&mut self.rng)).max(part.last_copy[j]);
                part.last_copy[j] = t;
                *copied_at = t;
                if self.store_on
                    && self.stores[fb].write_anyway(u64::from(req.bytes), now)
                        == WriteResult::Switched
                    && let Some((ns, generation)) = self.stores[fb].next_job(now)
                {
                    sim.schedule_in(ns, wrap(LogEvent::StoreJob { broker: fb as u16, generation }));
                }
            } else if n == 0 {
                // Nothing to copy: a marker is "copied" when the batch before it is.
                *copied_at = part.pending.back().map_or(now, |b| b.copied[j]);
            }
            if part.isr & (1 << j) != 0 {
                commit_at = commit_at.max(*copied_at);
            }
        }
        part.pending.push_back(Pending { end: part.leo, copied, commit_at, req, respond, result });
        Self::schedule_commit(part, partition, sim, &wrap);
    }

    fn schedule_commit<E>(
        part: &mut Partition<R>,
        partition: u32,
        sim: &mut Sim<E>,
        wrap: &impl Fn(LogEvent) -> E,
    ) {
        let Some(front) = part.pending.front() else { return };
        let at = front.commit_at;
        if at == NEVER {
            return;
        }
        // One commit event at a time, at the front's time; a later-scheduled one is kept (it
        // re-schedules when it fires), an earlier need schedules a new one.
        if part.commit_scheduled == NEVER || at < part.commit_scheduled {
            part.commit_scheduled = at;
            sim.schedule_at(at.max(sim.now()), wrap(LogEvent::Commit(partition)));
        }
    }

    /// Recomputes the commit times of a partition's pending batches (the ISR changed).
    fn recompute(&mut self, partition: u32) {
        let part = &mut self.parts[partition as usize];
        if part.leader == NO_LEADER {
            // Nothing commits without a leader; the election recomputes.
            part.pending.iter_mut().for_each(|b| b.commit_at = NEVER);
            return;
        }
        let mut prev = 0;
        for b in part.pending.iter_mut() {
            let mut at = prev;
            for j in 0..part.rf as usize {
                if part.isr & (1 << j) != 0 && j != part.leader as usize {
                    at = at.max(b.copied[j]);
                }
            }
            b.commit_at = at;
            prev = at;
        }
    }

    /// Handles one of the log's events other than [`LogEvent::Served`].
    pub fn handle<E>(
        &mut self,
        sim: &mut Sim<E>,
        event: LogEvent,
        wrap: impl Fn(LogEvent) -> E + Copy,
        out: &mut Vec<LogOutcome<R>>,
    ) {
        match event {
            LogEvent::Served { .. } => unreachable!("served events go to KafkaLog::served"),
            LogEvent::Commit(partition) => {
                let now = sim.now();
                let part = &mut self.parts[partition as usize];
                if part.commit_scheduled == now {
                    part.commit_scheduled = NEVER;
                }
                if part.leader != NO_LEADER
                    && self.frozen[part.replicas[part.leader as usize] as usize]
                {
                    // A paused leader moves no HW; it schedules the commit when it thaws.
                    return;
                }
                let before = part.hw;
                while let Some(b) = part.pending.front() {
                    if b.commit_at > now {
                        break;
                    }
                    let b = part.pending.pop_front().expect("front exists");
                    part.hw = part.hw.max(b.end);
                    if b.respond {
                        out.push(LogOutcome::Respond(b.req, b.result));
                    }
                    self.stats.commits += 1;
                }
                if part.hw > before {
                    out.push(LogOutcome::Available(partition));
                }
                if part.commit_scheduled != NEVER && part.commit_scheduled < now {
                    part.commit_scheduled = NEVER;
                }
                Self::schedule_commit(part, partition, sim, &wrap);
            }
            LogEvent::Elected { partition, epoch } => {
                if self.parts[partition as usize].epoch == epoch {
                    self.elect(sim, partition, wrap, out);
                }
            }
            LogEvent::Detected { broker, epoch } => {
                if self.broker_epoch[broker as usize] != epoch || self.alive[broker as usize] {
                    return;
                }
                for i in 0..self.parts.len() {
                    let part = &mut self.parts[i];
                    let Some(j) = (0..part.rf as usize).find(|&j| part.replicas[j] == broker)
                    else {
                        continue;
                    };
                    if j == part.leader as usize || part.isr & (1 << j) == 0 {
                        continue;
                    }
                    part.isr &= !(1 << j);
                    self.recompute(i as u32);
                    let part = &mut self.parts[i];
                    Self::schedule_commit(part, i as u32, sim, &wrap);
                }
            }
            LogEvent::Clean => {
                self.clean(sim.now(), out);
                sim.schedule_in(self.spec.params.cleaner_interval.ns, wrap(LogEvent::Clean));
            }
            LogEvent::StoreJob { broker, generation } => {
                if self.stores[broker as usize].job_done(generation, sim.now()) {
                    self.resume(sim, broker, wrap);
                }
                self.kick_store(sim, broker, wrap);
            }
        }
    }

    /// Broker `broker` crashes now (a `crash` fault of the log). Requests it held fail.
    pub fn crash<E>(
        &mut self,
        sim: &mut Sim<E>,
        broker: u32,
        wrap: impl Fn(LogEvent) -> E + Copy,
        out: &mut Vec<LogOutcome<R>>,
    ) {
        let b = broker as usize;
        if !self.alive[b] {
            return;
        }
        let now = sim.now();
        self.alive[b] = false;
        self.broker_epoch[b] = self.broker_epoch[b].wrapping_add(1);
        let mut waiting = std::mem::take(&mut self.scratch);
        self.stations[b].reset(now, &mut waiting);
        for c in b * self.producers..(b + 1) * self.producers {
            self.conn_busy[c] = false;
            waiting.extend(self.conn_wait[c].drain(..).map(|(req, _)| req));
        }
        for req in waiting.drain(..) {
            self.stats.disconnected += 1;
            out.push(LogOutcome::Respond(req, ProduceResult::Disconnected));
        }
        self.scratch = waiting;
        self.fail_held(b, out);
        let detect = if self.spec.params.controlled_shutdown {
            0
        } else {
            self.spec.params.session_timeout.ns
        };
        for i in 0..self.parts.len() {
            let part = &mut self.parts[i];
            let Some(j) = (0..part.rf as usize).find(|&j| part.replicas[j] as usize == b) else {
                continue;
            };
            if part.leader as usize == j {
                if self.spec.params.crash_loses_unflushed {
                    part.flush_until(now, self.spec.params.flush_ms);
                    part.crash_flushed = Some(part.flushed);
                }
                // The leader is gone: its followers stop copying, producers waiting for commits
                // see their connections drop, and an election starts once the crash is noticed.
                for pb in part.pending.iter_mut() {
                    if pb.respond {
                        pb.respond = false;
                        self.stats.disconnected += 1;
                        out.push(LogOutcome::Respond(pb.req, ProduceResult::Disconnected));
                    }
                    for k in 0..part.rf as usize {
                        if k != j && pb.copied[k] > now {
                            pb.copied[k] = NEVER;
                        }
                    }
                    pb.commit_at = NEVER;
                }
                for k in 0..part.rf as usize {
                    if k != j && part.last_copy[k] > now {
                        part.last_copy[k] = now;
                    }
                }
                part.leader = NO_LEADER;
                part.failed_leader = j as u8;
                part.crashed_at = now;
                part.epoch = part.epoch.wrapping_add(1);
                part.commit_scheduled = NEVER;
                let at = now + detect + self.spec.params.election.ns;
                sim.schedule_at(
                    at,
                    wrap(LogEvent::Elected { partition: i as u32, epoch: part.epoch }),
                );
            } else {
                for pb in part.pending.iter_mut() {
                    if pb.copied[j] > now {
                        pb.copied[j] = NEVER;
                    }
                }
                part.last_copy[j] = NEVER;
                if detect == 0 && part.isr & (1 << j) != 0 {
                    part.isr &= !(1 << j);
                }
                if part.leader != NO_LEADER {
                    self.recompute(i as u32);
                    let part = &mut self.parts[i];
                    Self::schedule_commit(part, i as u32, sim, &wrap);
                }
            }
        }
        if detect > 0 {
            sim.schedule_in(
                detect,
                wrap(LogEvent::Detected { broker: broker as u16, epoch: self.broker_epoch[b] }),
            );
        }
    }

    /// Broker `broker` is back: it rejoins the ISR of its partitions and leads any partition
    /// that had no live in-sync replica.
    pub fn restart<E>(
        &mut self,
        sim: &mut Sim<E>,
        broker: u32,
        wrap: impl Fn(LogEvent) -> E + Copy,
        out: &mut Vec<LogOutcome<R>>,
    ) {
        let b = broker as usize;
        if self.alive[b] {
            return;
        }
        self.alive[b] = true;
        self.broker_epoch[b] = self.broker_epoch[b].wrapping_add(1);
        let now = sim.now();
        for i in 0..self.parts.len() {
            let part = &mut self.parts[i];
            let Some(j) = (0..part.rf as usize).find(|&j| part.replicas[j] as usize == b) else {
                continue;
            };
            if part.offline && part.isr & (1 << j) != 0 {
                // It was the last in-sync replica: it leads again, with everything it had (or,
                // a machine crash, with what it had fsynced).
                if part.failed_leader as usize == j {
                    self.stats.truncated += part.lose_unflushed();
                }
                part.offline = false;
                part.leader = j as u8;
                part.isr |= 1 << j;
                for pb in part.pending.iter_mut() {
                    pb.copied[j] = now;
                }
                part.epoch = part.epoch.wrapping_add(1);
                self.stats.elections += 1;
                self.recompute(i as u32);
                let part = &mut self.parts[i];
                Self::schedule_commit(part, i as u32, sim, &wrap);
                out.push(LogOutcome::Led(i as u32));
                continue;
            }
            part.isr |= 1 << j;
            part.last_copy[j] = now;
            if part.leader == NO_LEADER {
                continue; // the election in progress will re-replicate
            }
            for k in 0..part.pending.len() {
                if part.pending[k].copied[j] == NEVER {
                    let t =
                        (now + self.spec.replica_lag.sample(&mut self.rng)).max(part.last_copy[j]);
                    part.last_copy[j] = t;
                    part.pending[k].copied[j] = t;
                }
            }
            self.recompute(i as u32);
            let part = &mut self.parts[i];
            Self::schedule_commit(part, i as u32, sim, &wrap);
        }
    }

    /// A partition's election ends: the first live in-sync follower leads, keeping what it had.
    fn elect<E>(
        &mut self,
        sim: &mut Sim<E>,
        partition: u32,
        wrap: impl Fn(LogEvent) -> E + Copy,
        out: &mut Vec<LogOutcome<R>>,
    ) {
        let now = sim.now();
        let alive = &self.alive;
        let part = &mut self.parts[partition as usize];
        let old = Some(part.failed_leader as usize).filter(|&o| o < part.rf as usize);
        // The crashed leader leaves the ISR, unless it is back and nobody else can lead.
        let candidates = |part: &Partition<R>| {
            (0..part.rf as usize).find(|&k| {
                part.isr & (1 << k) != 0 && alive[part.replicas[k] as usize] && Some(k) != old
            })
        };
        let Some(k) =
            candidates(part).or_else(|| old.filter(|&o| alive[part.replicas[o] as usize]))
        else {
            part.offline = true;
            return;
        };
        if let Some(o) = old
            && o != k
        {
            part.isr &= !(1 << o);
        }
        // Truncate what the new leader never copied (a suffix: its copies are in order).
        let keep =
            part.pending.iter().position(|b| b.copied[k] == NEVER || b.copied[k] > part.crashed_at);
        if Some(k) == old {
            // The crashed leader is back before anyone else could lead.
            self.stats.truncated += part.lose_unflushed();
        }
        part.crash_flushed = None;
        if let Some(first) = keep
            && Some(k) != old
        {
            let new_leo = if first == 0 { part.hw } else { part.pending[first - 1].end };
            for b in part.pending.drain(first..) {
                if b.req.seq != NO_SEQ {
                    let e = &mut part.expected[b.req.producer as usize];
                    *e = (*e).min(b.req.seq);
                }
            }
            let cut = part.leo - new_leo;
            for _ in 0..cut {
                part.records.pop_back();
            }
            self.stats.truncated += cut;
            part.leo = new_leo;
        }
        part.leader = k as u8;
        part.epoch = part.epoch.wrapping_add(1);
        part.commit_scheduled = NEVER;
        self.stats.elections += 1;
        // The survivors above the HW are copied again from the new leader.
        for idx in 0..part.pending.len() {
            for g in 0..part.rf as usize {
                let b = &mut part.pending[idx];
                if g == k {
                    b.copied[g] = now;
                } else if b.copied[g] == NEVER || b.copied[g] > part.crashed_at {
                    if alive[part.replicas[g] as usize] {
                        let t = (now + self.spec.replica_lag.sample(&mut self.rng))
                            .max(part.last_copy[g]);
                        part.last_copy[g] = t;
                        part.pending[idx].copied[g] = t;
                    } else {
                        part.pending[idx].copied[g] = NEVER;
                    }
                }
            }
        }
        for g in 0..part.rf as usize {
            if g != k && alive[part.replicas[g] as usize] && part.last_copy[g] == NEVER {
                part.last_copy[g] = now;
            }
        }
        self.recompute(partition);
        let part = &mut self.parts[partition as usize];
        Self::schedule_commit(part, partition, sim, &wrap);
        out.push(LogOutcome::Led(partition));
    }

    /// A producer instance restarted with a new producer id: its sequences start again at 0.
    pub fn reset_producer(&mut self, producer: u32) {
        for p in &mut self.parts {
            p.expected[producer as usize] = 0;
        }
    }

    /// The producer gave up the batch with sequence `seq` (it bumps its epoch and renumbers,
    /// as Kafka's producer does since KIP-360): the leader stops waiting for it.
    pub fn skip_sequence(&mut self, producer: u32, partition: u32, seq: u32) {
        let e = &mut self.parts[partition as usize].expected[producer as usize];
        if *e == seq {
            *e = seq + 1;
        }
    }

    /// One pass of the cleaner over every partition's closed, committed segments.
    fn clean(&mut self, now: SimTime, out: &mut Vec<LogOutcome<R>>) {
        let lag = self.spec.params.min_compaction_lag.ns;
        for part in &mut self.parts {
            while let Some(&(end, closed_at)) = part.closed.front() {
                if closed_at.saturating_add(lag) > now {
                    break;
                }
                part.cleanable_end = end;
                part.closed.pop_front();
            }
            let end = part.cleanable_end.min(part.hw);
            if end <= part.cleaned_end {
                continue;
            }
            let floor = part.base.max(part.read_pos);
            // The offset map of the newly closed section: its latest record per key survives.
            let dirty_from = part.cleaned_end.max(floor);
            let mut seen: IntMap<()> =
                IntMap::with_capacity(end.saturating_sub(dirty_from).min(1 << 20) as usize);
            let mut off = end;
            while off > dirty_from {
                off -= 1;
                let r = &mut part.records[(off - part.base) as usize];
                if r.is_compacted() {
                    continue;
                }
                if seen.insert(r.key(), ()).is_some() {
                    out.push(LogOutcome::Compacted(*r));
                    r.mark_compacted();
                    self.stats.compacted += 1;
                }
            }
            // Older unread records of those keys go too.
            let mut off = floor;
            while off < dirty_from {
                let r = &mut part.records[(off - part.base) as usize];
                if !r.is_compacted() && seen.get(r.key()).is_some() {
                    out.push(LogOutcome::Compacted(*r));
                    r.mark_compacted();
                    self.stats.compacted += 1;
                }
                off += 1;
            }
            self.stats.cleaned += end - part.cleaned_end;
            part.cleaned_end = end;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The producer

/// Why the producer dropped records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProducerDrop {
    /// `delivery_timeout` passed without an acknowledgement.
    DeliveryTimeout,
    /// Every retry failed.
    RetriesExhausted,
    /// `buffer_memory` was full.
    BufferFull,
    /// The instance crashed with the records unsent.
    Crashed,
    /// The instance was down when the record was created.
    Down,
}

impl ProducerDrop {
    /// Every reason, in a fixed order (for registering them).
    pub const ALL: [ProducerDrop; 5] = [
        ProducerDrop::DeliveryTimeout,
        ProducerDrop::RetriesExhausted,
        ProducerDrop::BufferFull,
        ProducerDrop::Crashed,
        ProducerDrop::Down,
    ];

    /// A human description.
    pub fn describe(self) -> &'static str {
        match self {
            ProducerDrop::DeliveryTimeout => "producer: delivery timeout expired",
            ProducerDrop::RetriesExhausted => "producer: retries exhausted",
            ProducerDrop::BufferFull => "producer: buffer memory full",
            ProducerDrop::Crashed => "producer: crashed with the records unsent",
            ProducerDrop::Down => "producer: instance down",
        }
    }

    /// Index in [`ProducerDrop::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What the producer tells the model; the model drains and clears it.
#[derive(Debug)]
pub struct ProducerOut<R> {
    /// Requests to send over the network.
    pub sends: Vec<ProduceReq>,
    /// Records acknowledged now.
    pub acked: Vec<R>,
    /// Records dropped now, with why.
    pub dropped: Vec<(R, ProducerDrop)>,
    /// Idempotent batches given up: (producer, partition, seq) for [`KafkaLog::skip_sequence`].
    pub abandoned: Vec<(u32, u32, u32)>,
}

impl<R> Default for ProducerOut<R> {
    fn default() -> Self {
        Self { sends: Vec::new(), acked: Vec::new(), dropped: Vec::new(), abandoned: Vec::new() }
    }
}

impl<R> ProducerOut<R> {
    /// Whether there is nothing to handle.
    pub fn is_empty(&self) -> bool {
        self.sends.is_empty()
            && self.acked.is_empty()
            && self.dropped.is_empty()
            && self.abandoned.is_empty()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Free,
    Open,
    Queued,
    InFlight,
    Backoff,
    /// Its instance crashed while it was in flight: freed by its answer or its timeout.
    Orphan,
}

#[derive(Debug)]
struct Batch<R> {
    records: Vec<R>,
    bytes: u64,
    acc: u32,
    seq: u32,
    attempt: u32,
    tries: u32,
    created: SimTime,
    /// When the current attempt was sent.
    sent: SimTime,
    generation: u32,
    state: State,
    ready: bool,
    /// Idempotent: this attempt is its partition's in-order retry.
    lane: bool,
}

#[derive(Clone, Debug)]
struct Acc {
    open: u32,
    queued: VecDeque<u32>,
    in_flight: u32,
    next_seq: u32,
    /// Idempotent: failed batches waiting to be retried, in sequence order.
    retry_q: VecDeque<u32>,
    /// Idempotent: a retry timer is armed or a retried batch is in flight (one at a time).
    retry_busy: bool,
}

impl Acc {
    fn new() -> Self {
        Acc {
            open: NONE,
            queued: VecDeque::new(),
            in_flight: 0,
            next_seq: 0,
            retry_q: VecDeque::new(),
            retry_busy: false,
        }
    }
}

/// The retry token of an idempotent partition's retry lane (its accumulator), as opposed to a
/// single batch's `(slot, generation)`.
const LANE: u32 = u32::MAX;

/// Counters for the report.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProducerStats {
    /// Requests sent (retries included).
    pub requests: u64,
    /// Batches created.
    pub batches: u64,
    /// Records in those batches.
    pub records: u64,
    /// Retries.
    pub retries: u64,
    /// Requests that timed out.
    pub timeouts: u64,
    /// Error answers.
    pub errors: u64,
}

/// The producer instances of a design.
pub struct KafkaProducer<R> {
    params: KafkaProducerParams,
    partitions: u32,
    accs: Vec<Acc>,
    batches: Vec<Batch<R>>,
    free: Vec<u32>,
    deadlines: Deadlines<(u32, u32), (u32, u32)>,
    expired: Vec<(u32, u32)>,
    buffered: Vec<u64>,
    down: Vec<bool>,
    next_attempt: u32,
    /// Counters.
    pub stats: ProducerStats,
}

impl<R: Record> KafkaProducer<R> {
    /// Bytes `instances` producers writing to `partitions` partitions take: an accumulator per
    /// instance and partition (for the run estimate).
    pub fn state_bytes(instances: u32, partitions: u32) -> u64 {
        u64::from(instances) * u64::from(partitions) * std::mem::size_of::<Acc>() as u64
    }

    /// `instances` producers writing to `partitions` partitions.
    pub fn new(params: &KafkaProducerParams, instances: u32, partitions: u32) -> Self {
        let n = instances as usize * partitions as usize;
        Self {
            params: params.clone(),
            partitions,
            accs: vec![Acc::new(); n],
            batches: Vec::new(),
            free: Vec::new(),
            deadlines: Deadlines::new(),
            expired: Vec::new(),
            buffered: vec![0; instances as usize],
            down: vec![false; instances as usize],
            next_attempt: 0,
            stats: ProducerStats::default(),
        }
    }

    /// The parameters.
    pub fn params(&self) -> &KafkaProducerParams {
        &self.params
    }

    /// The records of the batch `req` carries, if the producer still has it.
    #[inline]
    pub fn records(&self, req: &ProduceReq) -> Option<&[R]> {
        let b = self.batches.get(req.slot as usize)?;
        (b.generation == req.generation && b.state != State::Free).then_some(b.records.as_slice())
    }

    /// A record created now by `instance` for `partition`. `linger(slot, generation)` is the model's
    /// event for a batch's linger timer.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn send<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        record: R,
        instance: u32,
        partition: u32,
        linger: impl Fn(u32, u32) -> E,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        let i = instance as usize;
        if self.down[i] {
            out.dropped.push((record, ProducerDrop::Down));
            return;
        }
        let bytes = u64::from(record.bytes());
        if self.buffered[i] + bytes > self.params.buffer_memory.bytes {
            out.dropped.push((record, ProducerDrop::BufferFull));
            return;
        }
        self.buffered[i] += bytes;
        let a = (instance * self.partitions + partition) as usize;
        let now = sim.now();
        let mut slot = self.accs[a].open;
        if slot == NONE {
            slot = self.alloc(a as u32, now);
            self.accs[a].open = slot;
            self.stats.batches += 1;
            let b = &mut self.batches[slot as usize];
            if self.params.linger.ns == 0 {
                b.ready = true;
            } else {
                sim.schedule_in(self.params.linger.ns, linger(slot, b.generation));
            }
        }
        let b = &mut self.batches[slot as usize];
        b.records.push(record);
        b.bytes += bytes;
        self.stats.records += 1;
        if b.bytes >= self.params.batch_size.bytes {
            b.state = State::Queued;
            self.accs[a].open = NONE;
            self.accs[a].queued.push_back(slot);
        }
        self.pump(sim, a, timeout_check, out);
    }

    fn alloc(&mut self, acc: u32, now: SimTime) -> u32 {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.batches.push(Batch {
                    records: Vec::new(),
                    bytes: 0,
                    acc,
                    seq: NO_SEQ,
                    attempt: 0,
                    tries: 0,
                    created: now,
                    sent: now,
                    generation: 0,
                    state: State::Free,
                    ready: false,
                    lane: false,
                });
                (self.batches.len() - 1) as u32
            }
        };
        let b = &mut self.batches[slot as usize];
        b.records.clear();
        b.bytes = 0;
        b.acc = acc;
        b.seq = NO_SEQ;
        b.tries = 0;
        b.created = now;
        b.state = State::Open;
        b.ready = false;
        b.lane = false;
        slot
    }

    fn release(&mut self, slot: u32) {
        let b = &mut self.batches[slot as usize];
        let instance = b.acc / self.partitions;
        self.buffered[instance as usize] -= b.bytes;
        b.records.clear();
        b.bytes = 0;
        b.state = State::Free;
        b.generation = b.generation.wrapping_add(1);
        self.free.push(slot);
    }

    /// Sends what the accumulator `a` may send now.
    fn pump<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        a: usize,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        let max = self.params.max_in_flight;
        loop {
            let acc = &mut self.accs[a];
            if self.params.acks != Acks::Zero && acc.in_flight >= max {
                return;
            }
            if acc.retry_busy || !acc.retry_q.is_empty() {
                return; // retried batches go first, one at a time, in sequence order
            }
            let slot = if let Some(s) = acc.queued.pop_front() {
                s
            } else if acc.open != NONE && self.batches[acc.open as usize].ready {
                let s = acc.open;
                acc.open = NONE;
                s
            } else {
                return;
            };
            let now = sim.now();
            let b = &self.batches[slot as usize];
            if now >= b.created.saturating_add(self.params.delivery_timeout.ns) {
                self.give_up(slot, ProducerDrop::DeliveryTimeout, out);
                continue;
            }
            let acc = &mut self.accs[a];
            let b = &mut self.batches[slot as usize];
            if self.params.idempotence {
                b.seq = acc.next_seq;
                acc.next_seq += 1;
            }
            if self.params.acks != Acks::Zero {
                acc.in_flight += 1;
            }
            self.dispatch(sim, slot, timeout_check, out);
        }
    }

    /// Sends the batch in `slot` (a first attempt or a retry).
    fn dispatch<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        slot: u32,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        let attempt = self.next_attempt;
        self.next_attempt = self.next_attempt.wrapping_add(1);
        let now = sim.now();
        let b = &mut self.batches[slot as usize];
        b.attempt = attempt;
        b.sent = now;
        b.state = State::InFlight;
        let req = ProduceReq {
            producer: b.acc / self.partitions,
            partition: b.acc % self.partitions,
            slot,
            generation: b.generation,
            attempt,
            seq: b.seq,
            bytes: b.bytes.min(u64::from(u32::MAX)) as u32,
        };
        self.stats.requests += 1;
        if self.params.acks == Acks::Zero {
            // Fire and forget: done as far as the application knows.
            out.acked.extend_from_slice(&b.records);
        } else {
            let deadline = now + self.params.request_timeout.ns;
            self.deadlines.arm(sim, deadline, (slot, attempt), (slot, attempt), timeout_check);
        }
        out.sends.push(req);
    }

    /// The linger timer of the batch in `slot` fired.
    pub fn linger<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        slot: u32,
        generation: u32,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        let b = &mut self.batches[slot as usize];
        if b.generation != generation || b.state != State::Open {
            return;
        }
        b.ready = true;
        let a = b.acc as usize;
        self.pump(sim, a, timeout_check, out);
    }

    /// The answer to `req` arrived (with acks=0: the request was appended or refused).
    pub fn response<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        req: ProduceReq,
        result: ProduceResult,
        retry: impl Fn(u32, u32) -> E,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        let Some(b) = self.batches.get(req.slot as usize) else { return };
        if b.generation != req.generation || b.state == State::Free {
            return;
        }
        if self.params.acks == Acks::Zero {
            if b.state == State::InFlight && b.attempt == req.attempt {
                self.release(req.slot);
            }
            return;
        }
        if b.attempt != req.attempt {
            return; // an older attempt: the client already gave up on it
        }
        let deadline = b.sent + self.params.request_timeout.ns;
        if self.deadlines.disarm(deadline, (req.slot, req.attempt)).is_none() {
            return; // it timed out already
        }
        if b.state == State::Orphan {
            self.release(req.slot);
            return;
        }
        if result.is_success() {
            let a = b.acc as usize;
            let lane = b.lane;
            out.acked.extend_from_slice(&b.records);
            self.accs[a].in_flight -= 1;
            self.release(req.slot);
            if lane {
                self.next_in_lane(sim, a, timeout_check, out);
            }
            self.pump(sim, a, timeout_check, out);
        } else {
            self.stats.errors += 1;
            self.failed(sim, req.slot, retry, timeout_check, out);
        }
    }

    /// The request `req` was lost on the way (acks=0 frees its batch; the others time out).
    pub fn lost(&mut self, req: ProduceReq) {
        if self.params.acks == Acks::Zero
            && self.batches.get(req.slot as usize).is_some_and(|b| {
                b.generation == req.generation
                    && b.attempt == req.attempt
                    && b.state == State::InFlight
            })
        {
            self.release(req.slot);
        }
    }

    /// The earliest request timeout is due (the model's `timeout_check` event fired).
    pub fn check_timeouts<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        retry: impl Fn(u32, u32) -> E,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        let mut expired = std::mem::take(&mut self.expired);
        self.deadlines.expire(sim, timeout_check, &mut expired);
        for (slot, attempt) in expired.drain(..) {
            let b = &self.batches[slot as usize];
            if b.attempt != attempt {
                continue;
            }
            match b.state {
                State::InFlight => {
                    self.stats.timeouts += 1;
                    self.failed(sim, slot, &retry, timeout_check, out);
                }
                State::Orphan => {
                    let b = &mut self.batches[slot as usize];
                    for r in b.records.drain(..) {
                        out.dropped.push((r, ProducerDrop::Crashed));
                    }
                    self.release(slot);
                }
                _ => {}
            }
        }
        self.expired = expired;
    }

    fn failed<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        slot: u32,
        retry: impl Fn(u32, u32) -> E,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        let now = sim.now();
        let b = &mut self.batches[slot as usize];
        b.tries += 1;
        let lane = std::mem::take(&mut b.lane);
        let wait = self.params.backoff_ns(b.tries);
        let expires = b.created.saturating_add(self.params.delivery_timeout.ns);
        let a = b.acc as usize;
        let why = if b.tries > self.params.retries {
            Some(ProducerDrop::RetriesExhausted)
        } else if now + wait >= expires {
            Some(ProducerDrop::DeliveryTimeout)
        } else {
            None
        };
        if let Some(why) = why {
            self.give_up(slot, why, out);
            if lane {
                self.accs[a].retry_busy = false;
                self.arm_lane(sim, a, &retry);
            }
            self.pump(sim, a, timeout_check, out);
            return;
        }
        self.stats.retries += 1;
        b.state = State::Backoff;
        if !self.params.idempotence {
            // Each batch retries on its own: a retry can land after a later batch.
            sim.schedule_in(wait, retry(slot, b.generation));
            return;
        }
        // Idempotent: back into the partition's retry queue, in sequence order (Kafka's
        // producer re-enqueues a failed batch by sequence and retries one at a time).
        let seq = b.seq;
        let batches = &self.batches;
        let acc = &mut self.accs[a];
        let at = acc.retry_q.iter().position(|&s| batches[s as usize].seq > seq);
        acc.retry_q.insert(at.unwrap_or(acc.retry_q.len()), slot);
        if lane {
            acc.retry_busy = false;
        }
        self.arm_lane(sim, a, &retry);
    }

    /// Arms the retry timer of accumulator `a` if its lane is idle and a retry waits: the
    /// backoff of its first batch.
    fn arm_lane<E>(&mut self, sim: &mut Sim<E>, a: usize, retry: &impl Fn(u32, u32) -> E) {
        let acc = &mut self.accs[a];
        let Some(&head) = acc.retry_q.front() else { return };
        if acc.retry_busy {
            return;
        }
        acc.retry_busy = true;
        let wait = self.params.backoff_ns(self.batches[head as usize].tries);
        sim.schedule_in(wait, retry(a as u32, LANE));
    }

    /// The lane's retry succeeded: the next one goes at once (its backoff has passed while it
    /// waited), or the lane is idle and new batches flow again.
    fn next_in_lane<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        a: usize,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        match self.accs[a].retry_q.pop_front() {
            Some(slot) => {
                self.batches[slot as usize].lane = true;
                self.dispatch(sim, slot, timeout_check, out);
            }
            None => self.accs[a].retry_busy = false,
        }
    }

    fn give_up(&mut self, slot: u32, why: ProducerDrop, out: &mut ProducerOut<R>) {
        let b = &mut self.batches[slot as usize];
        let a = b.acc as usize;
        if matches!(b.state, State::InFlight | State::Backoff) {
            self.accs[a].in_flight -= 1;
        }
        if let Some(i) = self.accs[a].retry_q.iter().position(|&s| s == slot) {
            self.accs[a].retry_q.remove(i);
        }
        if b.seq != NO_SEQ {
            out.abandoned.push((b.acc / self.partitions, b.acc % self.partitions, b.seq));
        }
        for r in b.records.drain(..) {
            out.dropped.push((r, why));
        }
        self.release(slot);
    }

    /// A retry's backoff is over (`token` and `generation` as given to the `retry` event).
    pub fn retry_due<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        token: u32,
        generation: u32,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        if generation == LANE {
            let a = token as usize;
            if self.down[a / self.partitions as usize] || !self.accs[a].retry_busy {
                return;
            }
            match self.accs[a].retry_q.pop_front() {
                Some(slot) => {
                    self.batches[slot as usize].lane = true;
                    self.dispatch(sim, slot, timeout_check, out);
                }
                None => {
                    self.accs[a].retry_busy = false;
                    self.pump(sim, a, timeout_check, out);
                }
            }
            return;
        }
        let b = &self.batches[token as usize];
        if b.generation != generation || b.state != State::Backoff {
            return;
        }
        // The retry held its in-flight place during the backoff.
        self.dispatch(sim, token, timeout_check, out);
    }

    /// Instance `instance` crashes: records not sent are lost; requests in flight still land
    /// if they arrive, but nobody is told.
    pub fn crash(&mut self, instance: u32, out: &mut ProducerOut<R>) {
        if self.down[instance as usize] {
            return;
        }
        self.down[instance as usize] = true;
        for p in 0..self.partitions {
            let a = (instance * self.partitions + p) as usize;
            let mut slots: Vec<u32> = self.accs[a].queued.drain(..).collect();
            if self.accs[a].open != NONE {
                slots.push(self.accs[a].open);
            }
            slots.extend(self.accs[a].retry_q.drain(..));
            self.accs[a] = Acc::new();
            for s in slots {
                let b = &mut self.batches[s as usize];
                for r in b.records.drain(..) {
                    out.dropped.push((r, ProducerDrop::Crashed));
                }
                self.release(s);
            }
        }
        for s in 0..self.batches.len() {
            let b = &mut self.batches[s];
            if b.acc / self.partitions != instance {
                continue;
            }
            match b.state {
                State::Backoff => {
                    for r in b.records.drain(..) {
                        out.dropped.push((r, ProducerDrop::Crashed));
                    }
                    self.release(s as u32);
                }
                State::InFlight => b.state = State::Orphan,
                _ => {}
            }
        }
    }

    /// Instance `instance` is back (with a new producer id).
    pub fn restart(&mut self, instance: u32) {
        self.down[instance as usize] = false;
    }

    /// Whether `instance` is down.
    pub fn is_down(&self, instance: u32) -> bool {
        self.down[instance as usize]
    }
}
