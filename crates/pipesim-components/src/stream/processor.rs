//! The stream processor's state and its life: its events, the subtasks and their records,
//! crashes and restarts from the last completed checkpoint, and pauses. The checkpoints
//! themselves (barriers, alignment, snapshot, the sink's commit) are in `checkpoint.rs`.

use super::fetch::{Feed, maybe_fetch, take_fetch};
use super::rewind::rewind_feeds;
use super::{ConsumerParams, Sink, StreamSpec};
use crate::kafka::{KafkaLog, Record};
use pipesim_engine::{Dist, Sim, SimTime, StreamRng, Window};

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
pub(super) struct Subtask {
    pub(super) parts: Vec<u32>,
    pub(super) rr: usize,
    pub(super) busy: bool,
    /// Passed the barrier and waits for the others.
    pub(super) aligned: bool,
    pub(super) chunk: (u32, u64, u64),
    /// When the chunk in hand is done.
    pub(super) chunk_end: SimTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
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
    /// [`LogConsumer::set_window`](super::LogConsumer::set_window), subtask·ns.
    pub blocked_area: f64,
    /// Pauses (the process frozen), and their total time, ns.
    pub pauses: u64,
    /// Total time paused, ns.
    pub paused_ns: u64,
}

/// A running stream processor.
pub struct StreamProcessor {
    pub(super) spec: StreamSpec,
    pub(super) consumer: ConsumerParams,
    pub(super) fetch_delay: Dist,
    pub(super) rng: StreamRng,
    pub(super) feeds: Vec<Feed>,
    pub(super) subtasks: Vec<Subtask>,
    pub(super) part_subtask: Vec<u32>,
    /// Offsets of the last completed checkpoint (where a restart resumes).
    pub(super) last_ckpt: Vec<u64>,
    /// Exactly-once: output visible up to these offsets.
    pub(super) committed_out: Vec<u64>,
    /// What the last commit made visible and the caller has not read yet: (partition, from,
    /// to) offset ranges, kept in the log until [`StreamProcessor::release_committed`].
    pub(super) committed_ranges: Vec<(u32, u64, u64)>,
    pub(super) barrier: Vec<u64>,
    pub(super) phase: Phase,
    pub(super) ckpt_id: u32,
    pub(super) aligned: u32,
    pub(super) started_at: SimTime,
    pub(super) trigger_pending: bool,
    pub(super) down: bool,
    pub(super) epoch: u32,
    pub(super) blocked_since: Vec<SimTime>,
    pub(super) window: Window,
    /// The checkpoint timer chain in force, and the interval a checkpoint storm imposes.
    pub(super) trigger_gen: u32,
    pub(super) storm_ns: Option<SimTime>,
    /// Frozen since `paused_at` (a pause fault): nothing progresses until [`Self::resume`].
    pub(super) paused: bool,
    pub(super) paused_at: SimTime,
    /// A restart delay that ended while paused.
    pub(super) restart_held: bool,
    /// When the snapshot being written and the sink commit under way are done.
    pub(super) snapshot_due: SimTime,
    pub(super) commit_due: SimTime,
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
            committed_ranges: Vec::new(),
            barrier: vec![0; np],
            phase: Phase::Idle,
            ckpt_id: 0,
            aligned: 0,
            started_at: 0,
            trigger_pending: false,
            down: false,
            epoch: 0,
            blocked_since: vec![0; n as usize],
            window: Window::ALWAYS,
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
    pub(crate) fn set_window(&mut self, window: Window) {
        self.window = window;
    }

    /// Number of subtasks.
    pub fn subtasks(&self) -> u32 {
        self.subtasks.len() as u32
    }

    /// Schedules the first checkpoint.
    pub(crate) fn start<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(StreamEvent) -> E) {
        let chain = self.trigger_gen;
        sim.schedule_in(
            self.spec.params.checkpoint_interval.ns,
            wrap(StreamEvent::Trigger { chain }),
        );
    }

    /// The log's HW moved on `partition`.
    pub(crate) fn data_available<R: Record, E>(
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

    /// Handles one of the processor's events; records whose at-least-once output became visible
    /// are appended to `visible`. An exactly-once commit's output is not copied: read it with
    /// [`StreamProcessor::committed_output`] after this call, then call
    /// [`StreamProcessor::release_committed`].
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
                self.on_fetched(sim, log, partition, epoch, wrap);
            }
            StreamEvent::Chunk { subtask, epoch } => {
                self.on_chunk_done(sim, log, subtask, epoch, wrap, visible);
            }
            StreamEvent::Trigger { chain } => self.on_trigger(sim, log, chain, wrap),
            StreamEvent::Snapshot { id } => self.on_snapshot_written(sim, log, id, wrap),
            StreamEvent::Committed { id } => self.on_sink_committed(sim, log, id, wrap),
            StreamEvent::Restarted { epoch } => self.on_restarted(sim, log, epoch, wrap),
        }
    }

    /// A fetch of `partition` returned: its records go to the partition's subtask, and the
    /// next fetch goes out if there is room.
    fn on_fetched<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        partition: u32,
        epoch: u32,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
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

    /// A subtask finished its chunk: the records are processed (and with an at-least-once sink
    /// their output is visible at once); the subtask takes its next chunk.
    fn on_chunk_done<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        subtask: u32,
        epoch: u32,
        wrap: impl Fn(StreamEvent) -> E + Copy,
        visible: &mut Vec<R>,
    ) {
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

    /// The checkpoint timer of chain `chain`: it re-arms, and a checkpoint starts unless one is
    /// still running (or the process is paused), in which case it starts when it can.
    fn on_trigger<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        chain: u32,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
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

    /// Whether an event of checkpoint `id` is the one awaited in `phase`, due at `due`: not of
    /// an aborted checkpoint, not while paused, and not early (a pause moves the end it waits
    /// for, so the event scheduled before the pause is stale).
    fn awaits(&self, id: u32, phase: Phase, due: SimTime, now: SimTime) -> bool {
        id == self.ckpt_id && self.phase == phase && !self.paused && now >= due
    }

    /// Checkpoint `id`'s snapshot is written: the checkpoint is complete, and the sink's
    /// output is visible now (at least once) or after its transaction commits (exactly once).
    fn on_snapshot_written<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        id: u32,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        // A pause moved the snapshot's end (an earlier event is stale).
        if !self.awaits(id, Phase::Snapshot, self.snapshot_due, sim.now()) {
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

    /// Checkpoint `id`'s sink transaction is committed: its output, up to the checkpoint's
    /// barriers, becomes the committed output the caller reads.
    fn on_sink_committed<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        id: u32,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        if !self.awaits(id, Phase::Committing, self.commit_due, sim.now()) {
            return;
        }
        // The committed output stays in the log, as offset ranges, until the caller has
        // read it (`committed_output`, then `release_committed`): a 30 s checkpoint at
        // 1.1M/s commits millions of records at once, and copying them out would double
        // the backlog's memory.
        self.committed_ranges.clear();
        for p in 0..self.barrier.len() {
            let from = self.committed_out[p];
            let to = self.barrier[p];
            if from < to {
                self.committed_ranges.push((p as u32, from, to));
            }
            self.committed_out[p] = to.max(from);
        }
        self.finish_cycle(sim, log, wrap);
    }

    /// The restart delay is over: every partition is read again from the last completed
    /// checkpoint (what was processed since is processed again).
    fn on_restarted<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        epoch: u32,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        if epoch != self.epoch {
            return;
        }
        if self.paused {
            self.restart_held = true;
            return;
        }
        self.down = false;
        self.stats.restarts += 1;
        self.stats.replayed += rewind_feeds(&mut self.feeds, &self.last_ckpt, log);
        for p in 0..self.feeds.len() as u32 {
            self.data_available(sim, log, p, wrap);
        }
    }

    /// The process crashes now: work in progress and an unfinished checkpoint are lost.
    pub(crate) fn crash(&mut self, now: SimTime) {
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
                            self.window.overlap_ns(self.blocked_since[s], now) as f64;
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
    pub(crate) fn restart<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(StreamEvent) -> E) {
        if !self.down {
            return;
        }
        let epoch = self.epoch;
        sim.schedule_in(self.spec.params.restart_delay.ns, wrap(StreamEvent::Restarted { epoch }));
    }

    /// The process freezes now (a stop-the-world pause): nothing it does progresses until
    /// [`Self::resume`], and nothing is lost.
    pub(crate) fn pause(&mut self, now: SimTime) {
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
    pub(crate) fn resume<R: Record, E>(
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
