//! The projection's state and its life: its events, fetching, offset commits (and checkpoint
//! storms), pauses, crashes and restarts from the committed offsets, and the rewind after a
//! log truncation. The workers' statements, retries and dead letters are in `statements.rs`.

use super::fetch::{Feed, maybe_fetch, take_fetch};
use super::rewind::rewind_feeds;
use super::statements::{Stmt, Worker, is_poison};
use super::{ConsumerParams, ProjectionSpec};
use crate::kafka::{KafkaLog, Record};
use pipesim_engine::{Dist, Sim, SimTime, StreamRng, Window};
use std::collections::BTreeMap;

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
    /// ∫ busy workers dt over the window set by [`LogConsumer::set_window`](super::LogConsumer::set_window), worker·ns.
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
    pub(super) spec: ProjectionSpec,
    pub(super) consumer: ConsumerParams,
    pub(super) fetch_delay: Dist,
    pub(super) rng: StreamRng,
    pub(super) feeds: Vec<Feed>,
    pub(super) committed: Vec<u64>,
    pub(super) workers: Vec<Worker>,
    pub(super) part_worker: Vec<u32>,
    pub(super) poison_below: u64,
    pub(super) salt: u64,
    pub(super) park_seq: u64,
    pub(super) down: bool,
    pub(super) store_down: bool,
    pub(super) epoch: u32,
    pub(super) window: Window,
    /// The offset commit timer chain in force, and the period a checkpoint storm imposes.
    pub(super) commit_gen: u32,
    pub(super) storm_ns: Option<SimTime>,
    /// Frozen since `paused_at` (a pause fault).
    pub(super) paused: bool,
    pub(super) paused_at: SimTime,
    /// A restart delay, or an offset commit, that came due while paused.
    pub(super) restart_held: bool,
    pub(super) commit_held: bool,
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
            window: Window::ALWAYS,
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
    pub(crate) fn set_window(&mut self, window: Window) {
        self.window = window;
    }

    /// Number of workers.
    pub fn workers(&self) -> u32 {
        self.workers.len() as u32
    }

    /// Starts the offset commit timer.
    pub(crate) fn start<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(ProjectionEvent) -> E) {
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
    pub(crate) fn data_available<R: Record, E>(
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
                self.on_fetched(sim, log, partition, epoch, wrap);
            }
            ProjectionEvent::Statement { worker, epoch } => {
                // Paused: the answer waits in the socket; `resume` takes it.
                if epoch != self.epoch || self.paused {
                    return;
                }
                self.statement_done(sim, log, worker, wrap, visible, dead);
            }
            ProjectionEvent::Backoff { worker, epoch } => {
                self.on_backoff_over(sim, log, worker, epoch, wrap);
            }
            ProjectionEvent::Parked { worker } => self.try_start(sim, log, worker, wrap),
            ProjectionEvent::AutoCommit { chain } => self.on_auto_commit(sim, log, chain, wrap),
            ProjectionEvent::Restarted { epoch } => self.on_restarted(sim, log, epoch, wrap),
        }
    }

    /// A fetch of `partition` returned: its records go to the partition's worker, and the next
    /// fetch goes out if there is room.
    fn on_fetched<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        partition: u32,
        epoch: u32,
        wrap: impl Fn(ProjectionEvent) -> E + Copy,
    ) {
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

    /// A worker's backoff after a failed statement is over: it runs the statement again.
    fn on_backoff_over<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        worker: u32,
        epoch: u32,
        wrap: impl Fn(ProjectionEvent) -> E + Copy,
    ) {
        if epoch != self.epoch || self.down || self.paused {
            return;
        }
        let w = &mut self.workers[worker as usize];
        w.waiting = false;
        let stmt = w.stmt;
        self.run(sim, log, worker, stmt, wrap);
    }

    /// The offset-commit timer of chain `chain`: it re-arms and commits what the workers have
    /// handled (a paused process commits when it runs again).
    fn on_auto_commit<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        chain: u32,
        wrap: impl Fn(ProjectionEvent) -> E,
    ) {
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

    /// The restart delay is over: every partition is read again from its committed offset
    /// (what was handled since is handled again), and the workers start.
    fn on_restarted<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        epoch: u32,
        wrap: impl Fn(ProjectionEvent) -> E + Copy,
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
        self.stats.replayed += rewind_feeds(&mut self.feeds, &self.committed, log);
        for p in 0..self.feeds.len() as u32 {
            self.data_available(sim, log, p, wrap);
        }
        for w in 0..self.workers.len() as u32 {
            self.try_start(sim, log, w, wrap);
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
    pub(crate) fn checkpoint_storm<E>(
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
    pub(crate) fn pause(&mut self, now: SimTime) {
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
    pub(crate) fn resume<R: Record, E>(
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

    /// The log of `partition` was cut back to `to` records below this consumer's position (a
    /// leader that lost what it had not fsynced leads again): as a Kafka consumer that detects
    /// the truncation by leader epoch (KIP-320), it goes back to `to`. Records it had fetched
    /// beyond are dropped unapplied, a statement under way keeps only its rows below `to`, and
    /// the committed offset goes back too. Nothing changes when it had not passed `to`.
    pub(crate) fn rewind(&mut self, partition: u32, to: u64) {
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
    pub(crate) fn crash(&mut self) {
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
    pub(crate) fn restart<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(ProjectionEvent) -> E) {
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
