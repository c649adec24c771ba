//! The cluster ([`KafkaLog`]): its state per broker and per partition, reads by the consumer,
//! and the dispatch of the log's own events. The leader's side of a produce request (one
//! request per connection at a time, the idempotent sequence check, the append) is in
//! `append.rs`; what happens after the append is in `replication.rs` (copies, the HW) and
//! `failover.rs` (crashes, elections).

use super::replication::Pending;
use super::{
    Acks, KafkaLogSpec, LogEvent, LogOutcome, MAX_REPLICATION, ProduceReq, Record, partition_of,
};
use crate::lsm::BrokerStore;
use crate::server::{FifoServer, ServerStats};
use pipesim_engine::{Sim, SimTime, StreamRng, Window};
use std::collections::VecDeque;

/// "Never": a time not reached (a copy not made, a commit not scheduled).
pub(super) const NEVER: SimTime = SimTime::MAX;
/// A partition without a leader.
pub(super) const NO_LEADER: u8 = u8::MAX;

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
    pub(super) window: u64,
    pub(super) window_records: u64,
}

pub(super) struct Partition<R> {
    pub(super) replicas: [u16; MAX_REPLICATION as usize],
    pub(super) rf: u8,
    pub(super) leader: u8,
    pub(super) isr: u8,
    pub(super) epoch: u32,
    /// When each replica position last copied a batch (its fetches are in order).
    pub(super) last_copy: [SimTime; MAX_REPLICATION as usize],
    pub(super) crashed_at: SimTime,
    /// The replica position whose crash started the election in progress.
    pub(super) failed_leader: u8,
    pub(super) offline: bool,
    pub(super) base: u64,
    pub(super) records: VecDeque<R>,
    pub(super) leo: u64,
    pub(super) hw: u64,
    pub(super) pending: VecDeque<Pending>,
    pub(super) commit_scheduled: SimTime,
    /// Next expected idempotent sequence per producer.
    pub(super) expected: Vec<u32>,
    pub(super) segment_fill: u64,
    /// Closed segments not yet cleanable: (end offset, when closed).
    pub(super) closed: VecDeque<(u64, SimTime)>,
    /// With `crash_loses_unflushed`: the log end at the leader's last fsync, the next
    /// `flush_ms` boundary, and what its crashed leader had fsynced.
    pub(super) flushed: u64,
    pub(super) next_flush_ns: SimTime,
    pub(super) crash_flushed: Option<u64>,
    pub(super) cleanable_end: u64,
    pub(super) cleaned_end: u64,
    pub(super) read_pos: u64,
}

/// A running cluster of brokers holding one topic.
pub struct KafkaLog<R> {
    pub(super) spec: KafkaLogSpec,
    pub(super) acks: Acks,
    pub(super) rng: StreamRng,
    pub(super) stations: Vec<FifoServer<ProduceReq>>,
    pub(super) alive: Vec<bool>,
    pub(super) broker_epoch: Vec<u32>,
    pub(super) parts: Vec<Partition<R>>,
    pub(super) ns_per_byte: f64,
    pub(super) scratch: Vec<ProduceReq>,
    pub(super) producers: usize,
    /// Per connection (broker × producer instance): whether one of its requests is in the
    /// broker's handler station. A broker reads a connection's next request only once the
    /// previous one is handled, so a connection's requests are appended in the order sent.
    pub(super) conn_busy: Vec<bool>,
    /// Requests that arrived while their connection's previous one was being handled, with
    /// their service times.
    pub(super) conn_wait: Vec<VecDeque<(ProduceReq, SimTime)>>,
    /// Per broker: its RocksDB-like store (memtables and their flush thread).
    pub(super) stores: Vec<BrokerStore>,
    /// Whether appends go through the stores (see [`KafkaLog::enable_store`]).
    pub(super) store_on: bool,
    /// Per broker: requests whose append waits (writes stopped, or the broker paused), with
    /// the broker epoch they were served in. Their handler threads stay busy meanwhile.
    pub(super) held: Vec<VecDeque<(u32, ProduceReq)>>,
    /// Per broker: frozen by a pause (no request served, nothing appended or copied).
    pub(super) frozen: Vec<bool>,
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
    /// [`KafkaLogParams::crash_loses_unflushed`](super::KafkaLogParams::crash_loses_unflushed)).
    #[inline]
    pub fn leo(&self, partition: u32) -> u64 {
        self.parts[partition as usize].leo
    }

    /// The high watermark of `partition`: consumers see offsets below it.
    #[inline]
    /// After a machine crash of its leader, a partition without a leader serves nothing new
    /// (the machine holding it is down); after a process crash the consumer reads it
    /// regardless.
    pub fn hw(&self, partition: u32) -> u64 {
        let p = &self.parts[partition as usize];
        if p.crash_flushed.is_some() && p.leader == NO_LEADER {
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
    pub fn set_window(&mut self, window: Window) {
        for st in &mut self.stations {
            st.set_window(window);
        }
    }

    /// Each broker's request station statistics up to `now`.
    pub fn station_stats(&self, now: SimTime) -> Vec<ServerStats> {
        self.stations.iter().map(|s| s.stats(now)).collect()
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
}
