//! What the producer, the log and the model exchange: the [`Record`] trait, a produce request
//! and its answer, the key-to-partition hash, and the log's events and outcomes. Both runtime
//! halves (the log, the producer) speak only these types to each other, through the model.

/// "No sequence number": the producer is not idempotent.
pub const NO_SEQ: u32 = u32::MAX;

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
