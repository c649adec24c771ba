//! The running store: CPU, index latches, WAL group commit, the standby and crashes.

use super::{
    IndexKind, PgEvent, PgOutcome, PgStats, PostgresParams, PostgresSpec, SyncCommit, Txn,
};
use crate::crash_scope::CrashScope;
use crate::group_commit::GroupCommit;
use crate::server::FifoServer;
use pipesim_engine::{Sim, SimTime, StreamRng, Window};
use std::collections::VecDeque;

/// A running store.
pub struct Postgres<J> {
    spec: PostgresSpec,
    rng: StreamRng,
    cpu: FifoServer<Txn<J>>,
    /// One latch per hot index page (tables or shards on this server).
    latches: Vec<FifoServer<Txn<J>>>,
    gin_pending_bytes: Vec<u64>,
    wal: GroupCommit<J>,
    flushed: Vec<J>,
    /// Batches flushed locally and waiting for the standby, oldest first.
    at_standby: VecDeque<Vec<J>>,
    spare: Vec<Vec<J>>,
    last_standby_answer: SimTime,
    epoch: u32,
    down: bool,
    /// Flushed commits whose clients were never answered, to reappear at restart.
    recovering: Vec<J>,
    stats: PgStats,
    window: Window,
}

impl<J: Copy> Postgres<J> {
    /// A store with `pages` independent hot index pages (1 for a single table; one per shard
    /// when several shards share the server), with its own random streams.
    pub fn new(spec: &PostgresSpec, pages: u32, rng: StreamRng, wal_rng: StreamRng) -> Self {
        let p = &spec.params;
        let pages = pages.max(1) as usize;
        Self {
            spec: spec.clone(),
            rng,
            cpu: FifoServer::new(p.cores, None),
            latches: (0..pages).map(|_| FifoServer::new(1, None)).collect(),
            gin_pending_bytes: vec![0; pages],
            wal: GroupCommit::new(spec.fsync.clone(), p.wal_bandwidth.bytes_per_s, wal_rng),
            flushed: Vec::new(),
            at_standby: VecDeque::new(),
            spare: Vec::new(),
            last_standby_answer: 0,
            epoch: 0,
            down: false,
            recovering: Vec::new(),
            stats: PgStats::default(),
            window: Window::ALWAYS,
        }
    }

    /// Counts and integrates statistics only within `[from, to)`: the run's measured interval.
    pub fn set_window(&mut self, window: Window) {
        self.window = window;
        self.cpu.set_window(window);
        for latch in &mut self.latches {
            latch.set_window(window);
        }
        self.wal.set_window(window);
    }

    /// Sets (or ends, with `None`) a disk stall of the WAL device: flushes that start in its
    /// window are slowed or held, and every commit waiting for them waits longer.
    pub fn set_disk_stall(&mut self, stall: Option<crate::DiskStall>) {
        self.wal.set_stall(stall);
    }

    #[inline]
    fn counting(&self, now: SimTime) -> u64 {
        self.window.count(now)
    }

    /// Starts the background writer (needed for `synchronous_commit = "off"`).
    pub fn start<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(PgEvent<J>) -> E) {
        if self.spec.params.synchronous_commit == SyncCommit::Off {
            sim.schedule_in(
                self.spec.params.wal_writer_delay.ns,
                wrap(PgEvent::WalWriter(self.epoch)),
            );
        }
    }

    /// The commit mode in effect (`on`/`remote_*` without a standby act as `local`).
    fn mode(&self) -> SyncCommit {
        match self.spec.params.synchronous_commit {
            SyncCommit::RemoteWrite | SyncCommit::On | SyncCommit::RemoteApply
                if !self.spec.params.standby =>
            {
                SyncCommit::Local
            }
            m => m,
        }
    }

    /// Starts a transaction. Returns `false` if the server is down (the client gets an error).
    #[inline]
    pub fn submit<E>(
        &mut self,
        sim: &mut Sim<E>,
        txn: Txn<J>,
        wrap: impl Fn(PgEvent<J>) -> E,
    ) -> bool {
        if self.down {
            self.stats.failed += self.counting(sim.now());
            return false;
        }
        let per_row = if txn.write { &self.spec.insert } else { &self.spec.read };
        let mut cost: SimTime = 0;
        for _ in 0..txn.rows.max(1) {
            cost = cost.saturating_add(per_row.sample(&mut self.rng));
        }
        let epoch = self.epoch;
        self.cpu.offer(sim, txn, cost, |t| wrap(PgEvent::Cpu(epoch, t)));
        true
    }

    /// Handles one of the store's events; outcomes are appended to `out`.
    pub fn handle<E>(
        &mut self,
        sim: &mut Sim<E>,
        event: PgEvent<J>,
        wrap: impl Fn(PgEvent<J>) -> E + Copy,
        out: &mut Vec<PgOutcome<J>>,
    ) {
        match event {
            PgEvent::Cpu(epoch, txn) | PgEvent::Index(epoch, txn) if epoch != self.epoch => {
                // In service when the server crashed: the client's connection broke.
                out.push(PgOutcome::Failed(txn.job));
            }
            PgEvent::Cpu(_, txn) => self.on_cpu_done(sim, txn, wrap, out),
            PgEvent::Index(_, txn) => self.on_latch_released(sim, txn, wrap, out),
            PgEvent::Flushed(wal_epoch) => self.on_flushed(sim, wal_epoch, wrap, out),
            PgEvent::Standby(epoch) => self.on_standby_answer(sim, epoch, out),
            PgEvent::WalWriter(epoch) => self.on_wal_writer(sim, epoch, wrap),
            PgEvent::Restart(epoch) => self.on_restart(sim, epoch, wrap, out),
        }
    }

    /// A statement of this epoch finished on a core: a read is done, a write goes on to the
    /// index latch (or straight to commit without an index).
    fn on_cpu_done<E>(
        &mut self,
        sim: &mut Sim<E>,
        txn: Txn<J>,
        wrap: impl Fn(PgEvent<J>) -> E + Copy,
        out: &mut Vec<PgOutcome<J>>,
    ) {
        let epoch = self.epoch;
        self.cpu.complete(sim, |t| wrap(PgEvent::Cpu(epoch, t)));
        if !txn.write {
            self.stats.reads += self.counting(sim.now());
            out.push(PgOutcome::Read(txn.job));
        } else if self.spec.params.index == IndexKind::None {
            self.commit(sim, txn, wrap, out);
        } else {
            let hold = self.latch_hold(&txn);
            let page = txn.page as usize % self.latches.len();
            self.latches[page].offer(sim, txn, hold, |t| wrap(PgEvent::Index(epoch, t)));
        }
    }

    /// An insert of this epoch released its hot index page's latch: it goes on to commit.
    fn on_latch_released<E>(
        &mut self,
        sim: &mut Sim<E>,
        txn: Txn<J>,
        wrap: impl Fn(PgEvent<J>) -> E + Copy,
        out: &mut Vec<PgOutcome<J>>,
    ) {
        let epoch = self.epoch;
        let page = txn.page as usize % self.latches.len();
        self.latches[page].complete(sim, |t| wrap(PgEvent::Index(epoch, t)));
        self.commit(sim, txn, wrap, out);
    }

    /// A WAL flush finished: what that means for the flushed commits depends on the commit mode
    /// (durable, committed, or sent on to the standby).
    fn on_flushed<E>(
        &mut self,
        sim: &mut Sim<E>,
        wal_epoch: u32,
        wrap: impl Fn(PgEvent<J>) -> E + Copy,
        out: &mut Vec<PgOutcome<J>>,
    ) {
        let mut flushed = std::mem::take(&mut self.flushed);
        // Group commit chains flushes; asynchronous commit waits for the writer.
        let chain = self.mode() != SyncCommit::Off;
        if !self.wal.flush_done(sim, wal_epoch, &mut flushed, chain, |e| wrap(PgEvent::Flushed(e)))
        {
            self.flushed = flushed;
            return;
        }
        match self.mode() {
            // Already answered; now durable.
            SyncCommit::Off => out.extend(flushed.drain(..).map(PgOutcome::Durable)),
            SyncCommit::Local => {
                for job in flushed.drain(..) {
                    self.stats.commits += self.counting(sim.now());
                    out.push(PgOutcome::Committed(job));
                }
            }
            mode => self.send_to_standby(sim, mode, &mut flushed, wrap),
        }
        self.flushed = flushed;
    }

    /// Sends a locally flushed batch to the standby (emptying `flushed`) and schedules its
    /// answer: a round trip, plus its flush for `on` and its replay too for `remote_apply`.
    fn send_to_standby<E>(
        &mut self,
        sim: &mut Sim<E>,
        mode: SyncCommit,
        flushed: &mut Vec<J>,
        wrap: impl Fn(PgEvent<J>) -> E,
    ) {
        let mut delay = self.spec.standby_rtt.sample(&mut self.rng);
        if mode == SyncCommit::On {
            delay = delay.saturating_add(self.spec.fsync.sample(&mut self.rng));
        } else if mode == SyncCommit::RemoteApply {
            delay = delay
                .saturating_add(self.spec.fsync.sample(&mut self.rng))
                .saturating_add(self.spec.standby_apply.sample(&mut self.rng));
        }
        // The standby answers batches in the order it received them.
        let at = (sim.now() + delay).max(self.last_standby_answer);
        self.last_standby_answer = at;
        let mut batch = self.spare.pop().unwrap_or_default();
        batch.append(flushed);
        self.at_standby.push_back(batch);
        sim.schedule_at(at, wrap(PgEvent::Standby(self.epoch)));
    }

    /// The standby answered for its oldest batch: those commits are acknowledged.
    fn on_standby_answer<E>(&mut self, sim: &Sim<E>, epoch: u32, out: &mut Vec<PgOutcome<J>>) {
        if epoch != self.epoch {
            return;
        }
        if let Some(mut batch) = self.at_standby.pop_front() {
            for job in batch.drain(..) {
                self.stats.commits += self.counting(sim.now());
                out.push(PgOutcome::Committed(job));
            }
            self.spare.push(batch);
        }
    }

    /// The background WAL writer's timer: flush what is waiting, and come back a period later.
    fn on_wal_writer<E>(&mut self, sim: &mut Sim<E>, epoch: u32, wrap: impl Fn(PgEvent<J>) -> E) {
        if epoch != self.epoch {
            return;
        }
        self.wal.start_flush(sim, |e| wrap(PgEvent::Flushed(e)));
        sim.schedule_in(self.spec.params.wal_writer_delay.ns, wrap(PgEvent::WalWriter(epoch)));
    }

    /// The server is back after a crash: the flushed commits nobody was answered for reappear.
    fn on_restart<E>(
        &mut self,
        sim: &mut Sim<E>,
        epoch: u32,
        wrap: impl Fn(PgEvent<J>) -> E,
        out: &mut Vec<PgOutcome<J>>,
    ) {
        if epoch != self.epoch {
            return;
        }
        self.down = false;
        for job in self.recovering.drain(..) {
            out.push(PgOutcome::Recovered(job));
        }
        self.start(sim, wrap);
    }

    fn latch_hold(&mut self, txn: &Txn<J>) -> SimTime {
        let mut hold: SimTime = 0;
        for _ in 0..txn.rows.max(1) {
            hold = hold.saturating_add(self.spec.index_hold.sample(&mut self.rng));
        }
        if self.spec.params.index == IndexKind::Gin {
            let p = &self.spec.params;
            let pending = &mut self.gin_pending_bytes[txn.page as usize % self.latches.len()];
            *pending += u64::from(txn.rows.max(1)) * p.gin_entry.bytes;
            if *pending >= p.gin_pending_list.bytes {
                // This inserter merges the whole pending list into the index, holding the lock.
                let entries = *pending / p.gin_entry.bytes;
                hold = hold.saturating_add(entries * p.gin_cleanup_per_entry.ns);
                *pending = 0;
                self.stats.gin_cleanups += 1; // whole run: rare events worth seeing all of
            }
        }
        hold
    }

    fn commit<E>(
        &mut self,
        sim: &mut Sim<E>,
        txn: Txn<J>,
        wrap: impl Fn(PgEvent<J>) -> E,
        out: &mut Vec<PgOutcome<J>>,
    ) {
        let bytes = txn.bytes + u64::from(txn.rows.max(1)) * self.spec.params.wal_row_bytes.bytes;
        self.stats.rows += self.counting(sim.now()) * u64::from(txn.rows.max(1));
        if self.mode() == SyncCommit::Off {
            // Answered and visible now; the background writer makes it durable later.
            self.stats.commits += self.counting(sim.now());
            out.push(PgOutcome::Committed(txn.job));
            self.wal.append_quiet(txn.job, bytes);
            if self.wal.buffered_bytes() >= self.spec.params.wal_writer_flush_after.bytes {
                self.wal.start_flush(sim, |e| wrap(PgEvent::Flushed(e)));
            }
        } else {
            self.wal.append(sim, txn.job, bytes, |e| wrap(PgEvent::Flushed(e)));
        }
    }

    /// The server crashes now and restarts after `restart_ns`; `scope` says what survives
    /// (see [`CrashScope`]). Outcomes of the crash (failed transactions, rolled-back commits)
    /// go to `out`.
    pub fn crash<E>(
        &mut self,
        sim: &mut Sim<E>,
        restart_ns: SimTime,
        scope: CrashScope,
        wrap: impl Fn(PgEvent<J>) -> E,
        out: &mut Vec<PgOutcome<J>>,
    ) {
        let mut txns = Vec::new();
        let now = sim.now();
        self.cpu.reset(now, &mut txns);
        for latch in &mut self.latches {
            latch.reset(now, &mut txns);
        }
        for t in txns {
            out.push(PgOutcome::Failed(t.job));
        }
        self.crash_wal(scope, out);
        // Flushed but unanswered: durable, so back at restart; the client saw a broken connection.
        for mut batch in self.at_standby.drain(..) {
            for job in batch.drain(..) {
                out.push(PgOutcome::Failed(job));
                self.recovering.push(job);
            }
            self.spare.push(batch);
        }
        self.stats.failed +=
            out.iter().filter(|o| matches!(o, PgOutcome::Failed(_))).count() as u64;
        self.epoch = self.epoch.wrapping_add(1);
        self.down = true;
        self.gin_pending_bytes.iter_mut().for_each(|p| *p = 0);
        sim.schedule_in(restart_ns, wrap(PgEvent::Restart(self.epoch)));
    }

    /// The WAL in a crash. Lost records were acknowledged (rolled back) under asynchronous
    /// commit and failed otherwise. Under a process crash the records the kernel already had
    /// survive: acknowledged ones are durable; unacknowledged ones failed at the client but
    /// are committed at restart, as a flushed commit waiting for the standby is.
    fn crash_wal(&mut self, scope: CrashScope, out: &mut Vec<PgOutcome<J>>) {
        let (mut kept, mut lost) = (Vec::new(), Vec::new());
        let acknowledged = self.mode() == SyncCommit::Off;
        match scope {
            CrashScope::Machine => self.wal.crash(&mut lost),
            CrashScope::Process => self.wal.crash_process(&mut kept, &mut lost, acknowledged),
        }
        for job in lost {
            out.push(if acknowledged {
                PgOutcome::RolledBack(job)
            } else {
                PgOutcome::Failed(job)
            });
        }
        for job in kept {
            if acknowledged {
                out.push(PgOutcome::Durable(job));
            } else {
                out.push(PgOutcome::Failed(job));
                self.recovering.push(job);
            }
        }
    }

    /// Whether the server is down.
    pub fn is_down(&self) -> bool {
        self.down
    }

    /// Counters and integrals up to `now`.
    pub fn stats(&self, now: SimTime) -> PgStats {
        let cpu = self.cpu.stats(now);
        let mut stats = PgStats { wal: self.wal.stats, cpu_busy: cpu.busy_area, ..self.stats };
        for latch in &self.latches {
            let l = latch.stats(now);
            stats.latch_busy += l.busy_area;
            stats.latch_waited += l.waited;
            stats.latch_wait_sum_ns += l.wait_sum_ns;
        }
        stats
    }

    /// The parameters, for reports.
    pub fn params(&self) -> &PostgresParams {
        &self.spec.params
    }
}
