//! Consumers of a [`KafkaLog`]: a Flink-like stream processor and a projection worker.
//!
//! Both fetch the same way ([`ConsumerParams`]): a partition's fetch returns as soon as its high
//! watermark passes the consumer's position (Kafka's long poll), after one network delay, with at
//! most `max_poll_records`; the consumer does not fetch again while that many fetched records
//! wait (a slow consumer's position stays near what it processed, which is what lets
//! compaction overtake it).
//!
//! **[`StreamProcessor`]** (Flink-like). One subtask per partition (or `parallelism` subtasks,
//! partition `p` on subtask `p mod parallelism`), each a single server costing `record_cost` per
//! record, taking up to `max_poll_records` records at a time. Every `checkpoint_interval` the
//! sources inject a barrier behind the records they have fetched; a subtask that has processed
//! everything before its barrier stops (aligned checkpoint: the keyed exchange downstream blocks
//! the inputs whose barrier arrived) until every subtask has reached its barrier; then the
//! snapshot is written asynchronously (`snapshot`) while processing resumes, and the checkpoint
//! completes. With an `exactly_once` sink (two-phase commit, as Flink's transactional Kafka
//! sink) the output of records between two barriers becomes visible only when the later
//! checkpoint's transaction commits (`commit`, which needs every log partition to have a leader);
//! with `at_least_once` output is visible as soon as a record is processed. A crash stops
//! everything; `restart_delay` after the process is back it resumes from the last completed
//! checkpoint's offsets, so at-least-once output since then is emitted again (duplicates), and
//! exactly-once output, never committed, is redone once. A pause freezes it (what it was
//! computing finishes as much later, what others did meanwhile is taken at the end); a
//! checkpoint storm triggers checkpoints at another interval for a while.
//!
//! **[`Projection`]** (a consumer that UPSERTs into a view). `workers` workers share the
//! partitions (`p mod workers`); a worker runs one statement at a time for up to `batch` records
//! of one partition, taking `upsert` plus `upsert_per_row` per row; rows are visible when it
//! returns. A statement fails with probability `fail` (or always while the store is down); a
//! poison record (a fraction `poison` of records, chosen by identity so a replay meets the same
//! ones) fails every time, alone in its statement. A failed statement is retried after a backoff
//! (`backoff` doubling up to `backoff_max`) up to `retries` times, then its records go to a
//! dead-letter queue: either blocking (`retry = "blocking"`, a synchronous loop: the worker
//! waits, order is kept, its partitions stall) or deferred (`retry = "deferred"`, a retry topic:
//! the worker goes on, so a retried record can land after a later one of its key). Offsets are
//! committed every `auto_commit`; after a crash a worker resumes from the committed offsets, so
//! what it applied since is applied again (duplicates downstream). A pause freezes the workers
//! (a statement under way finishes in the database meanwhile); a checkpoint storm commits the
//! offsets at another interval for a while.

use crate::kafka::{KafkaLog, Record};
use crate::link::check_probability;
use pipesim_config::{ConfigError, DistSpec, Duration, Loader, ParamDoc};
use pipesim_engine::{Dist, NS_PER_MS, NS_PER_S, Sim, SimTime, StreamRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------------
// Fetching

/// The Kafka consumer's knobs as a scenario writes them (`[model.consumer]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsumerParams {
    /// Records one fetch returns at most, and the most fetched records waiting per partition.
    pub max_poll_records: u32,
    /// How often a projection commits its offsets (`auto.commit.interval.ms`); the stream
    /// processor commits them with its checkpoints.
    pub auto_commit: Duration,
}

impl Default for ConsumerParams {
    fn default() -> Self {
        Self { max_poll_records: 500, auto_commit: Duration { ns: 5 * NS_PER_S } }
    }
}

impl ConsumerParams {
    /// Checks the parameters; error paths are relative to the consumer's table.
    pub fn validate(&self) -> Result<ConsumerParams, ConfigError> {
        if self.max_poll_records == 0 {
            return Err(ConfigError::new("max_poll_records", "must be at least 1"));
        }
        pipesim_config::limits::at_most(
            "max_poll_records",
            u64::from(self.max_poll_records),
            &pipesim_config::limits::BATCH,
        )?;
        if self.auto_commit.ns == 0 {
            return Err(ConfigError::new("auto_commit", "must be greater than zero"));
        }
        Ok(self.clone())
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("max_poll_records", "integer >= 1", "500", "records per fetch, and fetched records a partition may hold unprocessed (Kafka max.poll.records 500)"),
            ParamDoc::new("auto_commit", "duration", "\"5s\"", "projection offset commit period: a crash replays up to this much (Kafka auto.commit.interval.ms 5000)"),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// Per-partition fetch state shared by both consumers.
#[derive(Clone, Copy, Debug, Default)]
struct Feed {
    /// Offset after the last record fetched.
    fetched: u64,
    /// Offset after the last record processed.
    processed: u64,
    fetching: bool,
}

/// Issues a fetch of `p` if there is data, no fetch running, and room for more.
#[allow(clippy::too_many_arguments)]
#[inline]
fn maybe_fetch<R: Record, E>(
    feed: &mut Feed,
    p: u32,
    log: &KafkaLog<R>,
    max: u32,
    delay: &Dist,
    rng: &mut StreamRng,
    sim: &mut Sim<E>,
    event: E,
) {
    if feed.fetching || feed.fetched >= log.hw(p) || feed.fetched - feed.processed >= u64::from(max)
    {
        return;
    }
    feed.fetching = true;
    sim.schedule_in(delay.sample(rng), event);
}

/// A fetch of `p` returned: takes what the HW allows.
#[inline]
fn take_fetch<R: Record>(feed: &mut Feed, p: u32, log: &mut KafkaLog<R>, max: u32) -> u64 {
    feed.fetching = false;
    let room = u64::from(max).saturating_sub(feed.fetched - feed.processed);
    let n = log.hw(p).saturating_sub(feed.fetched).min(room);
    feed.fetched += n;
    log.set_read_pos(p, feed.fetched);
    n
}

/// How much of `[from, to)` lies inside `window`, ns (time integrals cover the measured
/// interval only).
#[inline]
fn overlap(from: SimTime, to: SimTime, window: (SimTime, SimTime)) -> SimTime {
    to.min(window.1).saturating_sub(from.max(window.0))
}

/// The sum of `n` draws of `d` (one multiplication for a constant).
#[inline]
fn total_cost(d: &Dist, n: u64, rng: &mut StreamRng) -> SimTime {
    if let Dist::Const { ns } = d {
        return ns.saturating_mul(n);
    }
    let mut t: SimTime = 0;
    for _ in 0..n {
        t = t.saturating_add(d.sample(rng));
    }
    t
}

// ---------------------------------------------------------------------------------------------
// Stream processor

/// When processed output becomes visible.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Sink {
    /// At the commit of the next completed checkpoint (two-phase commit).
    ExactlyOnce,
    /// As soon as a record is processed; a replay emits it again.
    AtLeastOnce,
}

/// The stream processor as a scenario writes it (`[model.processor]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StreamParams {
    /// Subtasks; absent: one per partition.
    pub parallelism: Option<u32>,
    /// Processing time of one record.
    pub record_cost: DistSpec,
    /// Time between checkpoint triggers.
    pub checkpoint_interval: Duration,
    /// Time to write a checkpoint's snapshot once the barriers are aligned.
    pub snapshot: DistSpec,
    /// Output semantics.
    pub sink: Sink,
    /// Time to commit the sink's transaction once the checkpoint completes.
    pub commit: DistSpec,
    /// Time from the process being back to processing (restart strategy delay, state restore).
    pub restart_delay: Duration,
}

impl Default for StreamParams {
    fn default() -> Self {
        Self {
            parallelism: None,
            record_cost: DistSpec::Const { value: Duration { ns: 2_000 } },
            checkpoint_interval: Duration { ns: 30 * NS_PER_S },
            snapshot: DistSpec::Const { value: Duration { ns: 500 * NS_PER_MS } },
            sink: Sink::ExactlyOnce,
            commit: crate::link::lognormal_us(2_000, 10_000),
            restart_delay: Duration { ns: NS_PER_S },
        }
    }
}

/// Validated processor parameters.
#[derive(Clone, Debug)]
pub struct StreamSpec {
    params: StreamParams,
    record_cost: Dist,
    snapshot: Dist,
    commit: Dist,
}

impl StreamSpec {
    /// The parameters as written.
    pub fn params(&self) -> &StreamParams {
        &self.params
    }
    /// Mean cost of a record, ns.
    pub fn mean_record_ns(&self) -> f64 {
        self.record_cost.mean_ns()
    }
}

impl StreamParams {
    /// Checks the parameters; error paths are relative to the processor's table.
    pub fn validate(&self, loader: &dyn Loader) -> Result<StreamSpec, ConfigError> {
        let dist = |d: &DistSpec, f: &str| d.resolve(loader).map_err(|m| ConfigError::new(f, m));
        if self.parallelism == Some(0) {
            return Err(ConfigError::new("parallelism", "must be at least 1"));
        }
        pipesim_config::limits::at_most(
            "parallelism",
            u64::from(self.parallelism.unwrap_or(1)),
            &pipesim_config::limits::PARTITIONS,
        )?;
        if self.checkpoint_interval.ns == 0 {
            return Err(ConfigError::new(
                "checkpoint_interval",
                "must be greater than zero (checkpoints are what exactly-once output waits for)",
            ));
        }
        Ok(StreamSpec {
            params: self.clone(),
            record_cost: dist(&self.record_cost, "record_cost")?,
            snapshot: dist(&self.snapshot, "snapshot")?,
            commit: dist(&self.commit, "commit")?,
        })
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("parallelism", "integer >= 1", "one per partition", "subtasks; partition p runs on subtask p mod parallelism (Flink's Kafka source)"),
            ParamDoc::new("record_cost", "distribution", "\"2us\"", "processing time of one record on its subtask (assumed: a light keyed aggregation)"),
            ParamDoc::new("checkpoint_interval", "duration", "\"30s\"", "time between checkpoint triggers (seed 002: 30 s, later 60 s; Flink has none by default)"),
            ParamDoc::new("snapshot", "distribution", "\"500ms\"", "asynchronous snapshot once barriers are aligned (assumed: state upload; grows with state size)"),
            ParamDoc::new("sink", "\"exactly_once\" or \"at_least_once\"", "\"exactly_once\"", "exactly_once: output visible when the checkpoint's transaction commits (seed 002); at_least_once: at once, replayed after a crash"),
            ParamDoc::new("commit", "distribution", "{ dist = \"lognormal\", p50 = \"2ms\", p99 = \"10ms\" }", "the sink's transaction commit; waits while a log partition has no leader (transaction markers go to every partition)"),
            ParamDoc::new("restart_delay", "duration", "\"1s\"", "after the process is back, until it processes again (Flink's exponential-delay restart starts at 1 s)"),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// The processor's own events.
#[derive(Clone, Copy, Debug)]
pub enum StreamEvent {
    /// A fetch of a partition returned.
    Fetched {
        /// The partition.
        partition: u32,
        /// The processor's epoch when it was issued.
        epoch: u32,
    },
    /// A subtask finished its chunk.
    Chunk {
        /// The subtask.
        subtask: u32,
        /// The processor's epoch when it started.
        epoch: u32,
    },
    /// The checkpoint timer (of timer chain `chain`: a checkpoint storm starts a new one).
    Trigger {
        /// The chain.
        chain: u32,
    },
    /// A checkpoint's snapshot is written.
    Snapshot {
        /// The checkpoint.
        id: u32,
    },
    /// A checkpoint's sink transaction is committed.
    Committed {
        /// The checkpoint.
        id: u32,
    },
    /// The restart delay is over.
    Restarted {
        /// The epoch of the restart.
        epoch: u32,
    },
}

#[derive(Clone, Debug)]
struct Subtask {
    parts: Vec<u32>,
    rr: usize,
    busy: bool,
    /// Passed the barrier and waits for the others.
    aligned: bool,
    chunk: (u32, u64, u64),
    /// When the chunk in hand is done.
    chunk_end: SimTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Aligning,
    Snapshot,
    /// Checkpoint complete; waiting for leaders, then committing (exactly-once).
    WaitLeaders,
    Committing,
}

/// Counters for the report.
#[derive(Clone, Copy, Debug, Default)]
pub struct StreamStats {
    /// Records processed (replays included).
    pub processed: u64,
    /// Checkpoints completed.
    pub checkpoints: u64,
    /// Checkpoints aborted by a crash.
    pub aborted: u64,
    /// Sum and maximum of alignment times (trigger to all barriers), ns.
    pub align_sum_ns: u128,
    /// Longest alignment, ns.
    pub align_max_ns: u64,
    /// Sum and maximum of trigger-to-commit times, ns.
    pub cycle_sum_ns: u128,
    /// Longest trigger-to-commit time, ns.
    pub cycle_max_ns: u64,
    /// Restarts.
    pub restarts: u64,
    /// Records processed again after restarts.
    pub replayed: u64,
    /// ∫ subtasks blocked by alignment dt over the window set by
    /// [`StreamProcessor::set_window`], subtask·ns.
    pub blocked_area: f64,
    /// Pauses (the process frozen), and their total time, ns.
    pub pauses: u64,
    /// Total time paused, ns.
    pub paused_ns: u64,
}

/// A running stream processor.
pub struct StreamProcessor {
    spec: StreamSpec,
    consumer: ConsumerParams,
    fetch_delay: Dist,
    rng: StreamRng,
    feeds: Vec<Feed>,
    subtasks: Vec<Subtask>,
    part_subtask: Vec<u32>,
    /// Offsets of the last completed checkpoint (where a restart resumes).
    last_ckpt: Vec<u64>,
    /// Exactly-once: output visible up to these offsets.
    committed_out: Vec<u64>,
    barrier: Vec<u64>,
    phase: Phase,
    ckpt_id: u32,
    aligned: u32,
    started_at: SimTime,
    trigger_pending: bool,
    down: bool,
    epoch: u32,
    blocked_since: Vec<SimTime>,
    window: (SimTime, SimTime),
    /// The checkpoint timer chain in force, and the interval a checkpoint storm imposes.
    trigger_gen: u32,
    storm_ns: Option<SimTime>,
    /// Frozen since `paused_at` (a pause fault): nothing progresses until [`Self::resume`].
    paused: bool,
    paused_at: SimTime,
    /// A restart delay that ended while paused.
    restart_held: bool,
    /// When the snapshot being written and the sink commit under way are done.
    snapshot_due: SimTime,
    commit_due: SimTime,
    /// Counters.
    pub stats: StreamStats,
}

impl StreamProcessor {
    /// A processor over `partitions`, fetching after `fetch_delay`, with its own stream.
    pub fn new(
        spec: &StreamSpec,
        consumer: &ConsumerParams,
        partitions: u32,
        fetch_delay: Dist,
        rng: StreamRng,
    ) -> Self {
        let n = spec.params.parallelism.unwrap_or(partitions).min(partitions).max(1);
        let mut subtasks: Vec<Subtask> = (0..n)
            .map(|_| Subtask {
                parts: Vec::new(),
                rr: 0,
                busy: false,
                aligned: false,
                chunk: (0, 0, 0),
                chunk_end: 0,
            })
            .collect();
        let part_subtask: Vec<u32> = (0..partitions).map(|p| p % n).collect();
        for p in 0..partitions {
            subtasks[(p % n) as usize].parts.push(p);
        }
        let np = partitions as usize;
        Self {
            spec: spec.clone(),
            consumer: consumer.clone(),
            fetch_delay,
            rng,
            feeds: vec![Feed::default(); np],
            subtasks,
            part_subtask,
            last_ckpt: vec![0; np],
            committed_out: vec![0; np],
            barrier: vec![0; np],
            phase: Phase::Idle,
            ckpt_id: 0,
            aligned: 0,
            started_at: 0,
            trigger_pending: false,
            down: false,
            epoch: 0,
            blocked_since: vec![0; n as usize],
            window: (0, SimTime::MAX),
            trigger_gen: 0,
            storm_ns: None,
            paused: false,
            paused_at: 0,
            restart_held: false,
            snapshot_due: 0,
            commit_due: 0,
            stats: StreamStats::default(),
        }
    }

    /// Restricts the time integral (`blocked_area`) to `[from, to)`; by default it covers the
    /// whole run.
    pub fn set_window(&mut self, from: SimTime, to: SimTime) {
        self.window = (from, to);
    }

    /// Number of subtasks.
    pub fn subtasks(&self) -> u32 {
        self.subtasks.len() as u32
    }

    /// Schedules the first checkpoint.
    pub fn start<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(StreamEvent) -> E) {
        let chain = self.trigger_gen;
        sim.schedule_in(
            self.spec.params.checkpoint_interval.ns,
            wrap(StreamEvent::Trigger { chain }),
        );
    }

    /// The log's HW moved on `partition`.
    pub fn data_available<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        partition: u32,
        wrap: impl Fn(StreamEvent) -> E,
    ) {
        if self.down || self.paused {
            return;
        }
        let epoch = self.epoch;
        maybe_fetch(
            &mut self.feeds[partition as usize],
            partition,
            log,
            self.consumer.max_poll_records,
            &self.fetch_delay,
            &mut self.rng,
            sim,
            wrap(StreamEvent::Fetched { partition, epoch }),
        );
    }

    /// Handles one of the processor's events; records whose output became visible are appended
    /// to `visible`.
    pub fn handle<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        event: StreamEvent,
        wrap: impl Fn(StreamEvent) -> E + Copy,
        visible: &mut Vec<R>,
    ) {
        match event {
            StreamEvent::Fetched { partition, epoch } => {
                // Paused: the answer waits in the socket; `resume` takes it.
                if epoch != self.epoch || self.down || self.paused {
                    return;
                }
                let max = self.consumer.max_poll_records;
                take_fetch(&mut self.feeds[partition as usize], partition, log, max);
                let s = self.part_subtask[partition as usize];
                self.try_start(sim, log, s, wrap);
                self.data_available(sim, log, partition, wrap);
            }
            StreamEvent::Chunk { subtask, epoch } => {
                // Paused: the chunk stays in hand; `resume` finishes it later.
                if epoch != self.epoch || self.paused {
                    return;
                }
                let st = &mut self.subtasks[subtask as usize];
                st.busy = false;
                let (p, from, to) = st.chunk;
                self.feeds[p as usize].processed = to;
                self.stats.processed += to - from;
                if self.spec.params.sink == Sink::AtLeastOnce {
                    for off in from..to {
                        let r = log.record(p, off);
                        if !r.is_compacted() {
                            visible.push(*r);
                        }
                    }
                }
                self.try_start(sim, log, subtask, wrap);
                self.data_available(sim, log, p, wrap);
            }
            StreamEvent::Trigger { chain } => {
                if chain != self.trigger_gen {
                    return; // a chain a checkpoint storm replaced
                }
                let every = self.storm_ns.unwrap_or(self.spec.params.checkpoint_interval.ns);
                sim.schedule_in(every, wrap(StreamEvent::Trigger { chain }));
                if self.down {
                    return;
                }
                // Paused: the coordinator's trigger waits for the frozen sources.
                if self.phase != Phase::Idle || self.paused {
                    self.trigger_pending = true;
                    return;
                }
                self.trigger(sim, log, wrap);
            }
            StreamEvent::Snapshot { id } => {
                // A pause moved the snapshot's end (an earlier event is stale).
                if id != self.ckpt_id
                    || self.phase != Phase::Snapshot
                    || self.paused
                    || sim.now() < self.snapshot_due
                {
                    return;
                }
                // The checkpoint is complete: a restart resumes from its offsets.
                self.last_ckpt.copy_from_slice(&self.barrier);
                self.stats.checkpoints += 1;
                match self.spec.params.sink {
                    Sink::AtLeastOnce => self.finish_cycle(sim, log, wrap),
                    Sink::ExactlyOnce => {
                        self.phase = Phase::WaitLeaders;
                        self.leaders_changed(sim, log, wrap);
                    }
                }
            }
            StreamEvent::Committed { id } => {
                if id != self.ckpt_id
                    || self.phase != Phase::Committing
                    || self.paused
                    || sim.now() < self.commit_due
                {
                    return;
                }
                for p in 0..self.barrier.len() {
                    let from = self.committed_out[p];
                    let to = self.barrier[p];
                    for off in from..to {
                        let r = log.record(p as u32, off);
                        if !r.is_compacted() {
                            visible.push(*r);
                        }
                    }
                    self.committed_out[p] = to.max(from);
                }
                self.finish_cycle(sim, log, wrap);
            }
            StreamEvent::Restarted { epoch } => {
                if epoch != self.epoch {
                    return;
                }
                if self.paused {
                    self.restart_held = true;
                    return;
                }
                self.down = false;
                self.stats.restarts += 1;
                for p in 0..self.feeds.len() {
                    let f = &mut self.feeds[p];
                    self.stats.replayed += f.processed.saturating_sub(self.last_ckpt[p]);
                    *f = Feed {
                        fetched: self.last_ckpt[p],
                        processed: self.last_ckpt[p],
                        fetching: false,
                    };
                    log.set_read_pos(p as u32, self.last_ckpt[p]);
                }
                for p in 0..self.feeds.len() as u32 {
                    self.data_available(sim, log, p, wrap);
                }
            }
        }
    }

    /// Every partition may have a leader again: an exactly-once commit waiting for them goes on.
    pub fn leaders_changed<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        wrap: impl Fn(StreamEvent) -> E,
    ) {
        if self.phase == Phase::WaitLeaders && !self.paused && log.all_led() {
            self.phase = Phase::Committing;
            let t = self.spec.commit.sample(&mut self.rng);
            self.commit_due = sim.now() + t;
            sim.schedule_in(t, wrap(StreamEvent::Committed { id: self.ckpt_id }));
        }
    }

    fn finish_cycle<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        let cycle = sim.now() - self.started_at;
        self.stats.cycle_sum_ns += u128::from(cycle);
        self.stats.cycle_max_ns = self.stats.cycle_max_ns.max(cycle);
        for p in 0..self.barrier.len() {
            let keep = match self.spec.params.sink {
                Sink::AtLeastOnce => self.last_ckpt[p],
                Sink::ExactlyOnce => self.last_ckpt[p].min(self.committed_out[p]),
            };
            log.release(p as u32, keep);
        }
        self.phase = Phase::Idle;
        if self.trigger_pending && !self.down {
            self.trigger_pending = false;
            self.trigger(sim, log, wrap);
        }
    }

    fn trigger<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        self.ckpt_id = self.ckpt_id.wrapping_add(1);
        self.phase = Phase::Aligning;
        self.started_at = sim.now();
        self.aligned = 0;
        for (b, f) in self.barrier.iter_mut().zip(&self.feeds) {
            *b = f.fetched;
        }
        for s in 0..self.subtasks.len() as u32 {
            self.subtasks[s as usize].aligned = false;
            self.try_start(sim, log, s, wrap);
        }
    }

    /// Starts the subtask's next chunk if it can, or marks it aligned if it reached its barrier.
    fn try_start<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        s: u32,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        if self.down || self.paused {
            return;
        }
        let aligning = self.phase == Phase::Aligning;
        let st = &mut self.subtasks[s as usize];
        if st.busy || st.aligned {
            return;
        }
        let n = st.parts.len();
        for i in 0..n {
            let p = st.parts[(st.rr + i) % n];
            let f = &self.feeds[p as usize];
            let limit = if aligning { f.fetched.min(self.barrier[p as usize]) } else { f.fetched };
            if f.processed < limit {
                let take = (limit - f.processed).min(u64::from(self.consumer.max_poll_records));
                let cost = total_cost(&self.spec.record_cost, take, &mut self.rng);
                st.busy = true;
                st.rr = (st.rr + i + 1) % n;
                st.chunk = (p, f.processed, f.processed + take);
                st.chunk_end = sim.now() + cost;
                let epoch = self.epoch;
                sim.schedule_in(cost, wrap(StreamEvent::Chunk { subtask: s, epoch }));
                return;
            }
        }
        if aligning
            && st
                .parts
                .iter()
                .all(|&p| self.feeds[p as usize].processed >= self.barrier[p as usize])
        {
            st.aligned = true;
            self.blocked_since[s as usize] = sim.now();
            self.aligned += 1;
            if self.aligned == self.subtasks.len() as u32 {
                self.aligned_all(sim, log, wrap);
            }
        }
    }

    fn aligned_all<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        let now = sim.now();
        let align = now - self.started_at;
        self.stats.align_sum_ns += u128::from(align);
        self.stats.align_max_ns = self.stats.align_max_ns.max(align);
        self.phase = Phase::Snapshot;
        let t = self.spec.snapshot.sample(&mut self.rng);
        self.snapshot_due = now + t;
        sim.schedule_in(t, wrap(StreamEvent::Snapshot { id: self.ckpt_id }));
        for s in 0..self.subtasks.len() {
            self.stats.blocked_area += overlap(self.blocked_since[s], now, self.window) as f64;
            self.subtasks[s].aligned = false;
        }
        for s in 0..self.subtasks.len() as u32 {
            self.try_start(sim, log, s, wrap);
        }
    }

    /// The process crashes now: work in progress and an unfinished checkpoint are lost.
    pub fn crash(&mut self, now: SimTime) {
        if self.down {
            return;
        }
        self.down = true;
        self.epoch = self.epoch.wrapping_add(1);
        if matches!(self.phase, Phase::Aligning | Phase::Snapshot) {
            if self.phase == Phase::Aligning {
                for s in 0..self.subtasks.len() {
                    if self.subtasks[s].aligned {
                        self.stats.blocked_area +=
                            overlap(self.blocked_since[s], now, self.window) as f64;
                    }
                }
            }
            self.phase = Phase::Idle;
            self.stats.aborted += 1;
            self.ckpt_id = self.ckpt_id.wrapping_add(1);
        }
        self.trigger_pending = false;
        for st in &mut self.subtasks {
            st.busy = false;
            st.aligned = false;
        }
    }

    /// The process is back; it processes again after `restart_delay`.
    pub fn restart<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(StreamEvent) -> E) {
        if !self.down {
            return;
        }
        let epoch = self.epoch;
        sim.schedule_in(self.spec.params.restart_delay.ns, wrap(StreamEvent::Restarted { epoch }));
    }

    /// A checkpoint storm starts (`Some(interval)`: checkpoints are triggered every `interval`
    /// from now on, the first one `interval` from now) or ends (`None`: back to the configured
    /// interval, on its original schedule, multiples of it from the start). A trigger while a
    /// checkpoint is still under way waits for it, as before.
    pub fn checkpoint_storm<E>(
        &mut self,
        sim: &mut Sim<E>,
        interval: Option<SimTime>,
        wrap: impl Fn(StreamEvent) -> E,
    ) {
        self.trigger_gen = self.trigger_gen.wrapping_add(1);
        self.storm_ns = interval.map(|i| i.max(1));
        let now = sim.now();
        let at = match self.storm_ns {
            Some(i) => now.saturating_add(i),
            None => {
                let every = self.spec.params.checkpoint_interval.ns;
                now.div_ceil(every).saturating_mul(every)
            }
        };
        sim.schedule_at(at, wrap(StreamEvent::Trigger { chain: self.trigger_gen }));
    }

    /// The process freezes now (a stop-the-world pause): nothing it does progresses until
    /// [`Self::resume`], and nothing is lost.
    pub fn pause(&mut self, now: SimTime) {
        if self.paused {
            return;
        }
        self.paused = true;
        self.paused_at = now;
        self.stats.pauses += 1;
    }

    /// The process runs again. What it was computing (a chunk of records, the snapshot upload)
    /// finishes as much later as the pause lasted; what others did meanwhile is taken now: fetch
    /// answers waiting in the socket, a sink commit the brokers finished, a checkpoint the
    /// coordinator triggered (its barrier goes in now), a restart delay that ran out.
    pub fn resume<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        if !self.paused {
            return;
        }
        self.paused = false;
        let now = sim.now();
        let d = now - self.paused_at;
        self.stats.paused_ns += d;
        if self.down {
            if std::mem::take(&mut self.restart_held) {
                sim.schedule_in(0, wrap(StreamEvent::Restarted { epoch: self.epoch }));
            }
            return;
        }
        // Events of before the pause are void; what was in hand is rescheduled.
        self.epoch = self.epoch.wrapping_add(1);
        let epoch = self.epoch;
        for s in 0..self.subtasks.len() {
            let st = &mut self.subtasks[s];
            if st.busy {
                st.chunk_end = st.chunk_end.saturating_add(d).max(now);
                sim.schedule_at(
                    st.chunk_end,
                    wrap(StreamEvent::Chunk { subtask: s as u32, epoch }),
                );
            }
        }
        match self.phase {
            Phase::Snapshot => {
                self.snapshot_due = self.snapshot_due.saturating_add(d).max(now);
                sim.schedule_at(
                    self.snapshot_due,
                    wrap(StreamEvent::Snapshot { id: self.ckpt_id }),
                );
            }
            Phase::Committing => {
                // The brokers wrote the markers meanwhile: the answer is taken at once.
                self.commit_due = self.commit_due.max(now);
                sim.schedule_at(self.commit_due, wrap(StreamEvent::Committed { id: self.ckpt_id }));
            }
            Phase::WaitLeaders => self.leaders_changed(sim, log, wrap),
            Phase::Idle | Phase::Aligning => {}
        }
        for p in 0..self.feeds.len() as u32 {
            if self.feeds[p as usize].fetching {
                sim.schedule_in(0, wrap(StreamEvent::Fetched { partition: p, epoch }));
            } else {
                self.data_available(sim, log, p, wrap);
            }
        }
        if self.trigger_pending && self.phase == Phase::Idle {
            self.trigger_pending = false;
            self.trigger(sim, log, wrap);
        } else {
            for s in 0..self.subtasks.len() as u32 {
                self.try_start(sim, log, s, wrap);
            }
        }
    }

    /// Whether the process is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Records fetched and not yet processed, over all partitions (for reports).
    pub fn backlog(&self) -> u64 {
        self.feeds.iter().map(|f| f.fetched - f.processed).sum()
    }
}

// ---------------------------------------------------------------------------------------------
// Projection worker

/// How a projection retries a failed statement.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RetryMode {
    /// The worker waits out the backoff and retries before anything else (order kept).
    Blocking,
    /// The records go to a retry topic and the worker goes on (order may break).
    Deferred,
}

/// The projection as a scenario writes it (`[model.projection]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectionParams {
    /// Workers sharing the partitions.
    pub workers: u32,
    /// Records per UPSERT statement at most.
    pub batch: u32,
    /// Latency of one UPSERT statement.
    pub upsert: DistSpec,
    /// Extra time per row of a statement.
    pub upsert_per_row: Duration,
    /// Probability that a statement fails for a transient reason.
    pub fail: f64,
    /// Fraction of records that can never be applied (malformed).
    pub poison: f64,
    /// Retries of a failed statement before its records go to the dead-letter queue.
    pub retries: u32,
    /// Wait before the first retry, doubling after each.
    pub backoff: Duration,
    /// Longest wait between retries.
    pub backoff_max: Duration,
    /// Whether a retry blocks the worker.
    pub retry: RetryMode,
    /// After a crash, time until the worker consumes again.
    pub restart_delay: Duration,
}

impl Default for ProjectionParams {
    fn default() -> Self {
        Self {
            workers: 1,
            batch: 1,
            upsert: crate::link::lognormal_us(800, 2_500),
            upsert_per_row: Duration { ns: 0 },
            fail: 0.0,
            poison: 0.0,
            retries: 5,
            backoff: Duration { ns: 100 * NS_PER_MS },
            backoff_max: Duration { ns: 10 * NS_PER_S },
            retry: RetryMode::Blocking,
            restart_delay: Duration { ns: 0 },
        }
    }
}

/// Validated projection parameters.
#[derive(Clone, Debug)]
pub struct ProjectionSpec {
    params: ProjectionParams,
    upsert: Dist,
}

impl ProjectionSpec {
    /// The parameters as written.
    pub fn params(&self) -> &ProjectionParams {
        &self.params
    }
    /// Mean statement time for `rows` rows, ns.
    pub fn mean_statement_ns(&self, rows: f64) -> f64 {
        self.upsert.mean_ns() + rows * self.params.upsert_per_row.ns as f64
    }
}

impl ProjectionParams {
    /// Checks the parameters; error paths are relative to the projection's table.
    pub fn validate(&self, loader: &dyn Loader) -> Result<ProjectionSpec, ConfigError> {
        if self.workers == 0 {
            return Err(ConfigError::new("workers", "must be at least 1"));
        }
        if self.batch == 0 {
            return Err(ConfigError::new("batch", "must be at least 1"));
        }
        use pipesim_config::limits::{BATCH, RETRIES, WORKERS, at_most};
        at_most("workers", u64::from(self.workers), &WORKERS)?;
        at_most("batch", u64::from(self.batch), &BATCH)?;
        at_most("retries", u64::from(self.retries), &RETRIES)?;
        check_probability(self.fail, "fail")?;
        if self.fail >= 1.0 {
            return Err(ConfigError::new(
                "fail",
                "must be below 1: every statement would fail and nothing would ever be applied",
            ));
        }
        check_probability(self.poison, "poison")?;
        if self.backoff_max.ns < self.backoff.ns {
            return Err(ConfigError::new(
                "backoff_max",
                format!("{} is below backoff ({})", self.backoff_max, self.backoff),
            ));
        }
        Ok(ProjectionSpec {
            params: self.clone(),
            upsert: self.upsert.resolve(loader).map_err(|m| ConfigError::new("upsert", m))?,
        })
    }

    /// The wait before retry number `attempt` (1 for the first retry).
    pub fn backoff_ns(&self, attempt: u32) -> SimTime {
        let doublings = attempt.saturating_sub(1).min(40);
        self.backoff.ns.saturating_mul(1u64 << doublings).min(self.backoff_max.ns)
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("workers", "integer >= 1", "1", "workers sharing the partitions, partition p on worker p mod workers (seed 004: a single Go worker)"),
            ParamDoc::new("batch", "integer >= 1", "1", "records per UPSERT statement at most (seed 004: one synchronous UPDATE per event)"),
            ParamDoc::new("upsert", "distribution", "{ dist = \"lognormal\", p50 = \"0.8ms\", p99 = \"2.5ms\" }", "one UPSERT statement's latency; p95 is 1.8 ms as seed 004 measured (its p50 is calibrated)"),
            ParamDoc::new("upsert_per_row", "duration", "\"0s\"", "extra time per row of a multi-row statement"),
            ParamDoc::new("fail", "probability below 1", "0", "chance a statement fails for a transient reason and is retried"),
            ParamDoc::new("poison", "probability", "0", "fraction of records that always fail (malformed payloads); they end in the dead-letter queue (seed 004: 472 in six months)"),
            ParamDoc::new("retries", "integer", "5", "retries before a statement's records are dead-lettered (seed 004's retry budget)"),
            ParamDoc::new("backoff", "duration", "\"100ms\"", "wait before the first retry, doubling after each"),
            ParamDoc::new("backoff_max", "duration", "\"10s\"", "longest wait between retries"),
            ParamDoc::new("retry", "\"blocking\" or \"deferred\"", "\"blocking\"", "blocking: the worker waits (order kept, partitions stall); deferred: a retry topic (the worker goes on, order may break)"),
            ParamDoc::new("restart_delay", "duration", "\"0s\"", "after the process is back, until it consumes again"),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// The projection's own events.
#[derive(Clone, Copy, Debug)]
pub enum ProjectionEvent {
    /// A fetch of a partition returned.
    Fetched {
        /// The partition.
        partition: u32,
        /// The projection's epoch when it was issued.
        epoch: u32,
    },
    /// A worker's statement returned.
    Statement {
        /// The worker.
        worker: u32,
        /// The epoch when it started.
        epoch: u32,
    },
    /// A blocking worker's backoff is over.
    Backoff {
        /// The worker.
        worker: u32,
        /// The epoch when it started waiting.
        epoch: u32,
    },
    /// A deferred retry is due.
    Parked {
        /// The worker.
        worker: u32,
    },
    /// The offset commit timer (of timer chain `chain`: a checkpoint storm starts a new
    /// one).
    AutoCommit {
        /// The chain.
        chain: u32,
    },
    /// The restart delay is over.
    Restarted {
        /// The epoch of the restart.
        epoch: u32,
    },
}

/// Why the projection dead-lettered a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadLetter {
    /// A poison record: it can never be applied.
    Poison,
    /// Its statement kept failing (transient errors, the store down).
    Failing,
}

#[derive(Clone, Copy, Debug, Default)]
struct Stmt {
    p: u32,
    from: u64,
    to: u64,
    /// Failures so far.
    failures: u32,
    poison: bool,
    /// A deferred retry (its offsets are already counted as processed).
    parked: bool,
    fails_now: bool,
}

#[derive(Clone, Debug)]
struct Worker {
    parts: Vec<u32>,
    rr: usize,
    busy: bool,
    waiting: bool,
    stmt: Stmt,
    /// When the statement running returns, or the blocking backoff ends.
    due: SimTime,
    /// Deferred retries by due time.
    parked: BTreeMap<(SimTime, u64), Stmt>,
}

/// Counters for the report.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProjectionStats {
    /// Statements run (retries included).
    pub statements: u64,
    /// Rows applied.
    pub rows: u64,
    /// Failed statements.
    pub failures: u64,
    /// Records dead-lettered.
    pub dead_lettered: u64,
    /// Records applied again after restarts.
    pub replayed: u64,
    /// Restarts.
    pub restarts: u64,
    /// ∫ busy workers dt over the window set by [`Projection::set_window`], worker·ns.
    pub busy_ns: u128,
    /// Offset commits.
    pub commits: u64,
    /// Pauses (the process frozen).
    pub pauses: u64,
    /// Total time paused, ns.
    pub paused_ns: u64,
}

/// A running projection.
pub struct Projection {
    spec: ProjectionSpec,
    consumer: ConsumerParams,
    fetch_delay: Dist,
    rng: StreamRng,
    feeds: Vec<Feed>,
    committed: Vec<u64>,
    workers: Vec<Worker>,
    part_worker: Vec<u32>,
    poison_below: u64,
    salt: u64,
    park_seq: u64,
    down: bool,
    store_down: bool,
    epoch: u32,
    window: (SimTime, SimTime),
    /// The offset commit timer chain in force, and the period a checkpoint storm imposes.
    commit_gen: u32,
    storm_ns: Option<SimTime>,
    /// Frozen since `paused_at` (a pause fault).
    paused: bool,
    paused_at: SimTime,
    /// A restart delay, or an offset commit, that came due while paused.
    restart_held: bool,
    commit_held: bool,
    /// Counters.
    pub stats: ProjectionStats,
}

impl Projection {
    /// A projection over `partitions`, fetching after `fetch_delay`, with its own stream.
    pub fn new(
        spec: &ProjectionSpec,
        consumer: &ConsumerParams,
        partitions: u32,
        fetch_delay: Dist,
        mut rng: StreamRng,
    ) -> Self {
        let n = spec.params.workers.min(partitions).max(1);
        let mut workers: Vec<Worker> = (0..n)
            .map(|_| Worker {
                parts: Vec::new(),
                rr: 0,
                busy: false,
                waiting: false,
                stmt: Stmt::default(),
                due: 0,
                parked: BTreeMap::new(),
            })
            .collect();
        for p in 0..partitions {
            workers[(p % n) as usize].parts.push(p);
        }
        let poison = spec.params.poison;
        let poison_below =
            if poison >= 1.0 { u64::MAX } else { (poison * 18_446_744_073_709_551_616.0) as u64 };
        let salt = rng.next_u64();
        Self {
            spec: spec.clone(),
            consumer: consumer.clone(),
            fetch_delay,
            rng,
            feeds: vec![Feed::default(); partitions as usize],
            committed: vec![0; partitions as usize],
            workers,
            part_worker: (0..partitions).map(|p| p % n).collect(),
            poison_below,
            salt,
            park_seq: 0,
            down: false,
            store_down: false,
            epoch: 0,
            window: (0, SimTime::MAX),
            commit_gen: 0,
            storm_ns: None,
            paused: false,
            paused_at: 0,
            restart_held: false,
            commit_held: false,
            stats: ProjectionStats::default(),
        }
    }

    /// Restricts the time integral (`busy_ns`) to `[from, to)`; by default it covers the whole
    /// run.
    pub fn set_window(&mut self, from: SimTime, to: SimTime) {
        self.window = (from, to);
    }

    /// Number of workers.
    pub fn workers(&self) -> u32 {
        self.workers.len() as u32
    }

    /// Starts the offset commit timer.
    pub fn start<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(ProjectionEvent) -> E) {
        let chain = self.commit_gen;
        sim.schedule_in(self.consumer.auto_commit.ns, wrap(ProjectionEvent::AutoCommit { chain }));
    }

    /// Whether a record is poison (by its identity: a replay meets the same ones).
    #[inline]
    pub fn is_poison(&self, id: u64) -> bool {
        self.poison_below > 0 && is_poison(id, self.salt, self.poison_below)
    }

    /// The view's store goes down or comes back: statements fail meanwhile.
    pub fn set_store_down(&mut self, down: bool) {
        self.store_down = down;
    }

    /// The log's HW moved on `partition`.
    pub fn data_available<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        partition: u32,
        wrap: impl Fn(ProjectionEvent) -> E,
    ) {
        if self.down || self.paused {
            return;
        }
        let epoch = self.epoch;
        maybe_fetch(
            &mut self.feeds[partition as usize],
            partition,
            log,
            self.consumer.max_poll_records,
            &self.fetch_delay,
            &mut self.rng,
            sim,
            wrap(ProjectionEvent::Fetched { partition, epoch }),
        );
    }

    /// Handles one of the projection's events; applied records go to `visible`, dead-lettered
    /// ones to `dead`.
    pub fn handle<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        event: ProjectionEvent,
        wrap: impl Fn(ProjectionEvent) -> E + Copy,
        visible: &mut Vec<R>,
        dead: &mut Vec<(R, DeadLetter)>,
    ) {
        match event {
            ProjectionEvent::Fetched { partition, epoch } => {
                if epoch != self.epoch || self.down || self.paused {
                    return;
                }
                take_fetch(
                    &mut self.feeds[partition as usize],
                    partition,
                    log,
                    self.consumer.max_poll_records,
                );
                let w = self.part_worker[partition as usize];
                self.try_start(sim, log, w, wrap);
                self.data_available(sim, log, partition, wrap);
            }
            ProjectionEvent::Statement { worker, epoch } => {
                // Paused: the answer waits in the socket; `resume` takes it.
                if epoch != self.epoch || self.paused {
                    return;
                }
                self.statement_done(sim, log, worker, wrap, visible, dead);
            }
            ProjectionEvent::Backoff { worker, epoch } => {
                if epoch != self.epoch || self.down || self.paused {
                    return;
                }
                let w = &mut self.workers[worker as usize];
                w.waiting = false;
                let stmt = w.stmt;
                self.run(sim, log, worker, stmt, wrap);
            }
            ProjectionEvent::Parked { worker } => self.try_start(sim, log, worker, wrap),
            ProjectionEvent::AutoCommit { chain } => {
                if chain != self.commit_gen {
                    return; // a chain a checkpoint storm replaced
                }
                let every = self.storm_ns.unwrap_or(self.consumer.auto_commit.ns);
                sim.schedule_in(every, wrap(ProjectionEvent::AutoCommit { chain }));
                if self.down {
                    return;
                }
                if self.paused {
                    self.commit_held = true;
                    return;
                }
                self.commit(log);
            }
            ProjectionEvent::Restarted { epoch } => {
                if epoch != self.epoch {
                    return;
                }
                if self.paused {
                    self.restart_held = true;
                    return;
                }
                self.down = false;
                self.stats.restarts += 1;
                for p in 0..self.feeds.len() {
                    let f = &mut self.feeds[p];
                    self.stats.replayed += f.processed.saturating_sub(self.committed[p]);
                    *f = Feed {
                        fetched: self.committed[p],
                        processed: self.committed[p],
                        fetching: false,
                    };
                    log.set_read_pos(p as u32, self.committed[p]);
                }
                for p in 0..self.feeds.len() as u32 {
                    self.data_available(sim, log, p, wrap);
                }
                for w in 0..self.workers.len() as u32 {
                    self.try_start(sim, log, w, wrap);
                }
            }
        }
    }

    /// Commits the offsets of what the workers have handled.
    fn commit<R: Record>(&mut self, log: &mut KafkaLog<R>) {
        self.stats.commits += 1;
        for p in 0..self.feeds.len() {
            self.committed[p] = self.feeds[p].processed;
        }
        self.release(log);
    }

    /// A checkpoint storm starts (`Some(interval)`: the offsets are committed every `interval`,
    /// the projection's checkpoint, the first one `interval` from now) or ends (`None`: back to
    /// `auto_commit`, on its original schedule).
    pub fn checkpoint_storm<E>(
        &mut self,
        sim: &mut Sim<E>,
        interval: Option<SimTime>,
        wrap: impl Fn(ProjectionEvent) -> E,
    ) {
        self.commit_gen = self.commit_gen.wrapping_add(1);
        self.storm_ns = interval.map(|i| i.max(1));
        let now = sim.now();
        let at = match self.storm_ns {
            Some(i) => now.saturating_add(i),
            None => {
                let every = self.consumer.auto_commit.ns;
                now.div_ceil(every).saturating_mul(every)
            }
        };
        sim.schedule_at(at, wrap(ProjectionEvent::AutoCommit { chain: self.commit_gen }));
    }

    /// The process freezes now: nothing it does progresses until [`Self::resume`], and nothing
    /// is lost.
    pub fn pause(&mut self, now: SimTime) {
        if self.paused {
            return;
        }
        self.paused = true;
        self.paused_at = now;
        self.stats.pauses += 1;
    }

    /// The process runs again. A statement under way ran in the database meanwhile: its answer
    /// is taken when it is due or now, whichever is later; a backoff timer kept running; fetch
    /// answers, an offset commit and a restart that came due are taken now.
    pub fn resume<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        wrap: impl Fn(ProjectionEvent) -> E + Copy,
    ) {
        if !self.paused {
            return;
        }
        self.paused = false;
        let now = sim.now();
        self.stats.paused_ns += now - self.paused_at;
        if self.down {
            if std::mem::take(&mut self.restart_held) {
                sim.schedule_in(0, wrap(ProjectionEvent::Restarted { epoch: self.epoch }));
            }
            self.commit_held = false;
            return;
        }
        if std::mem::take(&mut self.commit_held) {
            self.commit(log);
        }
        self.epoch = self.epoch.wrapping_add(1);
        let epoch = self.epoch;
        for w in 0..self.workers.len() {
            let worker = &mut self.workers[w];
            let at = worker.due.max(now);
            let worker_id = w as u32;
            if worker.busy {
                sim.schedule_at(at, wrap(ProjectionEvent::Statement { worker: worker_id, epoch }));
            } else if worker.waiting {
                sim.schedule_at(at, wrap(ProjectionEvent::Backoff { worker: worker_id, epoch }));
            }
        }
        for p in 0..self.feeds.len() as u32 {
            if self.feeds[p as usize].fetching {
                sim.schedule_in(0, wrap(ProjectionEvent::Fetched { partition: p, epoch }));
            } else {
                self.data_available(sim, log, p, wrap);
            }
        }
        for w in 0..self.workers.len() as u32 {
            self.try_start(sim, log, w, wrap);
        }
    }

    /// Whether the process is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Frees log records no longer needed: below the committed offsets and every parked retry.
    fn release<R: Record>(&mut self, log: &mut KafkaLog<R>) {
        let mut keep = self.committed.clone();
        for w in &self.workers {
            for s in w.parked.values() {
                keep[s.p as usize] = keep[s.p as usize].min(s.from);
            }
            if w.busy || w.waiting {
                keep[w.stmt.p as usize] = keep[w.stmt.p as usize].min(w.stmt.from);
            }
        }
        for (p, k) in keep.into_iter().enumerate() {
            log.release(p as u32, k);
        }
    }

    fn try_start<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        w: u32,
        wrap: impl Fn(ProjectionEvent) -> E + Copy,
    ) {
        if self.down || self.paused {
            return;
        }
        let now = sim.now();
        let worker = &mut self.workers[w as usize];
        if worker.busy || worker.waiting {
            return;
        }
        // A due deferred retry first.
        if let Some((&(due, _), _)) = worker.parked.first_key_value()
            && due <= now
        {
            let (_, stmt) = worker.parked.pop_first().expect("first exists");
            self.run(sim, log, w, stmt, wrap);
            return;
        }
        let n = worker.parts.len();
        for i in 0..n {
            let p = worker.parts[(worker.rr + i) % n];
            let f = &self.feeds[p as usize];
            if f.processed >= f.fetched {
                continue;
            }
            worker.rr = (worker.rr + i + 1) % n;
            let from = f.processed;
            let end = f.fetched.min(from + u64::from(self.spec.params.batch));
            let mut to = from;
            let mut poison = false;
            while to < end {
                let r = log.record(p, to);
                if !r.is_compacted()
                    && self.poison_below > 0
                    && is_poison(r.id(), self.salt, self.poison_below)
                {
                    if to == from {
                        poison = true;
                        to += 1;
                    }
                    break;
                }
                to += 1;
            }
            let stmt = Stmt { p, from, to, failures: 0, poison, parked: false, fails_now: false };
            self.run(sim, log, w, stmt, wrap);
            return;
        }
    }

    /// Starts (or retries) `stmt` on worker `w`.
    fn run<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        _log: &KafkaLog<R>,
        w: u32,
        mut stmt: Stmt,
        wrap: impl Fn(ProjectionEvent) -> E,
    ) {
        let rows = stmt.to - stmt.from;
        let mut cost = self.spec.upsert.sample(&mut self.rng);
        cost = cost.saturating_add(rows.saturating_mul(self.spec.params.upsert_per_row.ns));
        let transient = self.spec.params.fail > 0.0 && self.rng.chance(self.spec.params.fail);
        stmt.fails_now = stmt.poison || self.store_down || transient;
        let now = sim.now();
        let worker = &mut self.workers[w as usize];
        worker.busy = true;
        worker.stmt = stmt;
        worker.due = now.saturating_add(cost);
        self.stats.statements += 1;
        self.stats.busy_ns += u128::from(overlap(now, now.saturating_add(cost), self.window));
        let epoch = self.epoch;
        sim.schedule_in(cost, wrap(ProjectionEvent::Statement { worker: w, epoch }));
    }

    fn statement_done<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        w: u32,
        wrap: impl Fn(ProjectionEvent) -> E + Copy,
        visible: &mut Vec<R>,
        dead: &mut Vec<(R, DeadLetter)>,
    ) {
        let now = sim.now();
        let worker = &mut self.workers[w as usize];
        worker.busy = false;
        let mut stmt = worker.stmt;
        let fails = stmt.fails_now || self.store_down;
        if !fails {
            for off in stmt.from..stmt.to {
                let r = log.record(stmt.p, off);
                if !r.is_compacted() {
                    visible.push(*r);
                    self.stats.rows += 1;
                }
            }
            self.advance(stmt);
        } else {
            self.stats.failures += 1;
            stmt.failures += 1;
            if stmt.failures > self.spec.params.retries {
                let why = if stmt.poison { DeadLetter::Poison } else { DeadLetter::Failing };
                for off in stmt.from..stmt.to {
                    let r = log.record(stmt.p, off);
                    if !r.is_compacted() {
                        dead.push((*r, why));
                        self.stats.dead_lettered += 1;
                    }
                }
                self.advance(stmt);
            } else {
                let wait = self.spec.params.backoff_ns(stmt.failures);
                match self.spec.params.retry {
                    RetryMode::Blocking => {
                        let worker = &mut self.workers[w as usize];
                        worker.waiting = true;
                        worker.stmt = stmt;
                        worker.due = now + wait;
                        let epoch = self.epoch;
                        sim.schedule_in(wait, wrap(ProjectionEvent::Backoff { worker: w, epoch }));
                        return;
                    }
                    RetryMode::Deferred => {
                        self.advance(stmt);
                        stmt.parked = true;
                        self.park_seq += 1;
                        self.workers[w as usize].parked.insert((now + wait, self.park_seq), stmt);
                        sim.schedule_in(wait, wrap(ProjectionEvent::Parked { worker: w }));
                    }
                }
            }
        }
        let p = stmt.p;
        self.try_start(sim, log, w, wrap);
        self.data_available(sim, log, p, wrap);
    }

    /// The statement's records are handled (applied, parked or dead-lettered).
    fn advance(&mut self, stmt: Stmt) {
        if !stmt.parked {
            let f = &mut self.feeds[stmt.p as usize];
            f.processed = f.processed.max(stmt.to);
        }
    }

    /// The log of `partition` was cut back to `to` records below this consumer's position (a
    /// leader that lost what it had not fsynced leads again): as a Kafka consumer that detects
    /// the truncation by leader epoch (KIP-320), it goes back to `to`. Records it had fetched
    /// beyond are dropped unapplied, a statement under way keeps only its rows below `to`, and
    /// the committed offset goes back too. Nothing changes when it had not passed `to`.
    pub fn rewind(&mut self, partition: u32, to: u64) {
        let p = partition as usize;
        let f = &mut self.feeds[p];
        f.fetched = f.fetched.min(to);
        f.processed = f.processed.min(to);
        self.committed[p] = self.committed[p].min(to);
        let clamp = |st: &mut Stmt| {
            if st.p == partition {
                st.from = st.from.min(to);
                st.to = st.to.min(to);
            }
        };
        for w in &mut self.workers {
            clamp(&mut w.stmt);
            w.parked.values_mut().for_each(clamp);
        }
    }

    /// The process crashes now: the statement running and a blocking retry are forgotten; the
    /// retry topic (parked retries) survives.
    pub fn crash(&mut self) {
        if self.down {
            return;
        }
        self.down = true;
        self.epoch = self.epoch.wrapping_add(1);
        for w in &mut self.workers {
            w.busy = false;
            w.waiting = false;
        }
    }

    /// The process is back; it consumes again after `restart_delay`.
    pub fn restart<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(ProjectionEvent) -> E) {
        if !self.down {
            return;
        }
        let epoch = self.epoch;
        sim.schedule_in(
            self.spec.params.restart_delay.ns,
            wrap(ProjectionEvent::Restarted { epoch }),
        );
    }

    /// Records fetched and not yet handled, over all partitions (for reports).
    pub fn backlog(&self) -> u64 {
        self.feeds.iter().map(|f| f.fetched - f.processed).sum()
    }

    /// Deferred retries waiting.
    pub fn parked(&self) -> usize {
        self.workers.iter().map(|w| w.parked.len()).sum()
    }
}

#[inline]
fn is_poison(id: u64, salt: u64, below: u64) -> bool {
    let mut z = id ^ salt;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) < below
}

/// The probabilities of ranks `1..=n` under Zipf popularity with `exponent`, normalised (O(n),
/// with `libm` so the same bits come out everywhere): the oracle a read path's cache hit ratio
/// is compared with ([`crate::che_hit_ratio`]).
pub fn zipf_probabilities(n: u32, exponent: f64) -> Vec<f64> {
    let w: Vec<f64> = (1..=n).map(|k| libm::pow(f64::from(k), -exponent)).collect();
    let total: f64 = w.iter().sum();
    w.into_iter().map(|x| x / total).collect()
}
