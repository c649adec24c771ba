//! Change data capture from Postgres logical decoding (Debezium-like), and the topic it
//! publishes to.
//!
//! **[`Cdc`]**: every commit the store makes is captured, in commit order, with a log position
//! (an LSN). One decoder (Postgres's walsender running the output plugin, then the connector's
//! conversion to records: a single thread per replication slot) handles the changes one at a
//! time, `decode` each, and publishes them in that order. With a `poll_interval`, a decoder that
//! finds no change waiting sleeps that long before looking again, so changes arriving at an idle
//! connector wait for the next wake-up (a poll loop's latency).
//!
//! The connector remembers how far it got only when its offsets are flushed (`offset_flush`,
//! Kafka Connect's `offset.flush.interval.ms`); the replication slot keeps every change from
//! that position on. A crash (of the connector, or of the database, which breaks the replication
//! connection) makes it resume from the last flushed position when it is back: every change it
//! had published since is published again. Downstream sees duplicates unless it deduplicates by
//! log position.
//!
//! **[`Topic`]**: the changes go to a topic of `partitions` partitions, a change to the partition
//! of its entity, each partition a FIFO with a `delivery` delay (publish, then the consumer's
//! fetch). One consumer group reads it and commits its position periodically; a consumer crash
//! rewinds to the last committed position, so what was consumed since is delivered again.
//!
//! Replication, `acks`, leader changes and compaction are not modelled here: the `event_sourced`
//! kind's Kafka log models them. For a change feed whose topic stays healthy, a per-partition
//! FIFO with a delivery delay is what the reader of the feed sees.

mod connector;
#[cfg(test)]
mod tests;
mod topic;

pub use connector::{Cdc, CdcEvent, CdcParams, CdcSpec, CdcStats, Published};
pub use topic::{Topic, TopicEvent, TopicParams, TopicSpec, TopicStats};

use pipesim_engine::SimTime;

/// One committed change as it travels from the store to its consumers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change<J> {
    /// The caller's job (the event).
    pub job: J,
    /// The entity it changes: decides the partition and the cache entry.
    pub key: u32,
    /// Its log position: 1, 2, 3, … in commit order.
    pub lsn: u64,
    /// When it committed.
    pub committed_ns: SimTime,
}
