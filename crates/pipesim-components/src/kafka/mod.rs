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
//!
//! **Layout.** `params.rs` holds the scenario tables and their validation;
//! `messages.rs` what the producer, the log and the model exchange; `log.rs` the cluster;
//! `append.rs` the leader's append path; `replication.rs` follower copies and the HW;
//! `failover.rs` crashes, restarts and elections; `compaction.rs` the cleaner; `storage.rs` the
//! brokers' stores and pauses; `producer.rs` the producer's batching and answers; `retry.rs`
//! its timeouts and retries.

mod append;
mod compaction;
mod failover;
mod log;
mod messages;
mod params;
mod producer;
mod replication;
mod retry;
mod storage;
#[cfg(test)]
// Unit tests drive the log as the run loop would: they pop events and advance time.
#[allow(clippy::disallowed_methods)]
pub(crate) mod testkit;

pub use log::{KafkaLog, LogStats};
pub use messages::{LogEvent, LogOutcome, NO_SEQ, ProduceReq, ProduceResult, Record, partition_of};
pub use params::{Acks, KafkaLogParams, KafkaLogSpec, KafkaProducerParams, MAX_REPLICATION};
pub use producer::{KafkaProducer, ProducerDrop, ProducerOut, ProducerStats};
