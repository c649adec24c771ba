//! A Postgres-like store: CPU, a hot index latch, WAL group commit, commit modes, a standby.
//!
//! A write transaction goes through three stages:
//!
//! 1. **CPU**: parsing, planning and the heap insert, `insert` per row, on `cores` parallel
//!    servers (reads cost `read` per row on the same cores).
//! 2. **Index latch**: every insert into an index whose hot leaf (or GIN pending list) is one
//!    page serialises on that page's lock, `index_hold` per row, one at a time. With `gin`, the
//!    pending list fills up (`gin_pending_list` bytes of `gin_entry` entries) and the unlucky
//!    inserter that overflows it merges the whole list while holding the lock
//!    (`gin_cleanup_per_entry` each): a latency spike for everyone queued behind it.
//! 3. **Commit**: the transaction's WAL (`wal_row_bytes` per row plus the payload) goes to a
//!    group-commit log; one flush at a time takes `fsync` plus bytes / `wal_bandwidth`.
//!    `synchronous_commit` decides when the client is answered and the rows become visible:
//!    - `off`: at once; a background writer flushes every `wal_writer_delay` or once
//!      `wal_writer_flush_after` bytes wait, and a crash rolls back what it had not flushed
//!      (acknowledged and already seen by readers);
//!    - `local`: after the local flush;
//!    - `remote_write`, `on`, `remote_apply`: after the local flush and, with a `standby`, a round
//!      trip to it (`standby_rtt`), plus its own flush for `on` and its replay (`standby_apply`)
//!      for `remote_apply`. Without a standby they behave as `local`, as Postgres does.
//!
//! A crash fails every transaction in progress (the client sees an error and may retry), rolls
//! back unflushed asynchronous commits, and keeps flushed ones: those waiting for the standby
//! become visible when the server comes back, although their clients were never answered, so a
//! client retry writes them twice.

use crate::group_commit::{GroupCommit, GroupCommitStats};
use crate::link::lognormal_us;
use crate::server::FifoServer;
use pipesim_config::{
    Bandwidth, ConfigError, DistSpec, Duration, Loader, ParamDoc, Size, format_bandwidth,
};
use pipesim_engine::{Dist, NS_PER_MS, NS_PER_S, Sim, SimTime, StreamRng, Window};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// When a commit is acknowledged (Postgres's `synchronous_commit`).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SyncCommit {
    /// Acknowledge before the WAL flush.
    Off,
    /// After the local flush.
    Local,
    /// After the standby has the WAL in memory.
    RemoteWrite,
    /// After the standby has flushed it (Postgres's default).
    On,
    /// After the standby has replayed it, so it is visible there too.
    RemoteApply,
}

/// Which index the hot path inserts into.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum IndexKind {
    /// No secondary index: no latch.
    None,
    /// A B-tree whose rightmost leaf every insert hits (a monotonic or hot key).
    Btree,
    /// A GIN index with a pending list cleaned in the foreground.
    Gin,
}

/// The store as a scenario writes it (`[model.store]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresParams {
    /// Parallel CPU cores executing statements.
    pub cores: u32,
    /// CPU time of one row insert (parse, plan, heap insert).
    pub insert: DistSpec,
    /// CPU time of reading one row (fetch and decode).
    pub read: DistSpec,
    /// The index every insert updates.
    pub index: IndexKind,
    /// Time an insert holds the hot index page's lock, per row.
    pub index_hold: DistSpec,
    /// GIN pending list size (`gin_pending_list_limit`, 4 MB by default in Postgres).
    pub gin_pending_list: Size,
    /// Bytes one row adds to the GIN pending list.
    pub gin_entry: Size,
    /// Time to merge one pending-list entry into the index during cleanup.
    pub gin_cleanup_per_entry: Duration,
    /// WAL bytes per row on top of the payload (tuple header, index records, commit record).
    pub wal_row_bytes: Size,
    /// Duration of one WAL fsync.
    pub fsync: DistSpec,
    /// Sequential write bandwidth of the WAL disk.
    pub wal_bandwidth: Bandwidth,
    /// When commits are acknowledged.
    pub synchronous_commit: SyncCommit,
    /// Whether a synchronous standby exists.
    pub standby: bool,
    /// Round trip to the standby.
    pub standby_rtt: DistSpec,
    /// Standby's replay of a flushed batch (for `remote_apply`).
    pub standby_apply: DistSpec,
    /// Background WAL writer period (asynchronous commit).
    pub wal_writer_delay: Duration,
    /// The background writer also flushes once this much WAL has accumulated.
    pub wal_writer_flush_after: Size,
}

impl Default for PostgresParams {
    fn default() -> Self {
        Self {
            cores: 16,
            insert: DistSpec::Const { value: Duration { ns: 20_000 } },
            read: DistSpec::Const { value: Duration { ns: 10_000 } },
            index: IndexKind::Btree,
            index_hold: DistSpec::Const { value: Duration { ns: 1_000 } },
            gin_pending_list: Size { bytes: 4 << 20 },
            gin_entry: Size { bytes: 64 },
            gin_cleanup_per_entry: Duration { ns: 1_000 },
            wal_row_bytes: Size { bytes: 300 },
            fsync: lognormal_us(1_000, 4_000),
            wal_bandwidth: Bandwidth { bytes_per_s: 250e6 },
            synchronous_commit: SyncCommit::On,
            standby: false,
            standby_rtt: lognormal_us(1_000, 2_000),
            standby_apply: DistSpec::Const { value: Duration { ns: 100_000 } },
            wal_writer_delay: Duration { ns: 200 * NS_PER_MS },
            wal_writer_flush_after: Size { bytes: 1 << 20 },
        }
    }
}

/// Validated store parameters.
#[derive(Clone, Debug)]
pub struct PostgresSpec {
    params: PostgresParams,
    insert: Dist,
    read: Dist,
    index_hold: Dist,
    fsync: Dist,
    standby_rtt: Dist,
    standby_apply: Dist,
}

impl PostgresParams {
    /// Checks the parameters; error paths are relative to the store's table.
    pub fn validate(&self, loader: &dyn Loader) -> Result<PostgresSpec, ConfigError> {
        let dist = |d: &DistSpec, f: &str| d.resolve(loader).map_err(|m| ConfigError::new(f, m));
        if self.cores == 0 {
            return Err(ConfigError::new("cores", "must be at least 1"));
        }
        pipesim_config::limits::at_most(
            "cores",
            u64::from(self.cores),
            &pipesim_config::limits::WORKERS,
        )?;
        if self.index == IndexKind::Gin && self.gin_entry.bytes == 0 {
            return Err(ConfigError::new("gin_entry", "must be greater than zero"));
        }
        if self.wal_writer_delay.ns == 0 && self.synchronous_commit == SyncCommit::Off {
            return Err(ConfigError::new(
                "wal_writer_delay",
                "must be greater than zero with synchronous_commit = \"off\"",
            ));
        }
        Ok(PostgresSpec {
            params: self.clone(),
            insert: dist(&self.insert, "insert")?,
            read: dist(&self.read, "read")?,
            index_hold: dist(&self.index_hold, "index_hold")?,
            fsync: dist(&self.fsync, "fsync")?,
            standby_rtt: dist(&self.standby_rtt, "standby_rtt")?,
            standby_apply: dist(&self.standby_apply, "standby_apply")?,
        })
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("cores", "integer >= 1", "16", "CPU cores executing statements in parallel"),
            ParamDoc::new("insert", "distribution", "\"20us\"", "CPU time of one row insert: parse, plan, heap insert"),
            ParamDoc::new("read", "distribution", "\"10us\"", "CPU time of reading and decoding one row"),
            ParamDoc::new(
                "index",
                "\"none\", \"btree\" or \"gin\"",
                "\"btree\"",
                "the index every insert updates: its hot page's lock serialises inserts",
            ),
            ParamDoc::new("index_hold", "distribution", "\"1us\"", "time an insert holds the hot index page's lock, per row"),
            ParamDoc::new("gin_pending_list", "size", "\"4MiB\"", "GIN pending list size (Postgres gin_pending_list_limit, 4 MB)"),
            ParamDoc::new("gin_entry", "size", "\"64B\"", "bytes a row adds to the GIN pending list"),
            ParamDoc::new(
                "gin_cleanup_per_entry",
                "duration",
                "\"1us\"",
                "time to merge one pending entry; the inserter that fills the list merges all of it holding the lock",
            ),
            ParamDoc::new("wal_row_bytes", "size", "\"300B\"", "WAL bytes per row besides the payload: tuple header, index records, commit"),
            ParamDoc::new(
                "fsync",
                "distribution",
                "{ dist = \"lognormal\", p50 = \"1ms\", p99 = \"4ms\" }",
                "one WAL fsync; cloud block storage (gp3) is single-digit ms, NVMe with power-loss protection tens of us",
            ),
            ParamDoc::new("wal_bandwidth", "bandwidth", "\"250MB/s\"", "WAL disk write bandwidth (gp3 up to 1000 MB/s provisioned, 125 MB/s base)"),
            ParamDoc::new(
                "synchronous_commit",
                "\"off\", \"local\", \"remote_write\", \"on\", \"remote_apply\"",
                "\"on\"",
                "when a commit is acknowledged and visible (Postgres's default is on)",
            ),
            ParamDoc::new("standby", "boolean", "false", "a synchronous standby exists (otherwise on/remote_* act as local)"),
            ParamDoc::new(
                "standby_rtt",
                "distribution",
                "{ dist = \"lognormal\", p50 = \"1ms\", p99 = \"2ms\" }",
                "round trip to the standby, cross-AZ (1-2 ms)",
            ),
            ParamDoc::new("standby_apply", "distribution", "\"100us\"", "standby replay of a batch, for remote_apply"),
            ParamDoc::new("wal_writer_delay", "duration", "\"200ms\"", "background WAL writer period (Postgres default 200 ms)"),
            ParamDoc::new(
                "wal_writer_flush_after",
                "size",
                "\"1MiB\"",
                "the background writer also flushes once this much WAL is waiting (Postgres default 1 MB)",
            ),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// A unit of work for the store: a job of the caller's type and what it costs.
#[derive(Clone, Copy, Debug)]
pub struct Txn<J> {
    /// The caller's job, returned with the outcome.
    pub job: J,
    /// Rows written or read.
    pub rows: u32,
    /// Payload bytes written (WAL).
    pub bytes: u64,
    /// Read or write.
    pub write: bool,
    /// Which hot index page the insert latches (one per table or shard on this server;
    /// `0` when there is one).
    pub page: u32,
}

/// The store's own events, to be wrapped in the model's event type.
#[derive(Clone, Copy, Debug)]
pub enum PgEvent<J> {
    /// A statement finished on a core.
    Cpu(u32, Txn<J>),
    /// An insert released the index latch.
    Index(u32, Txn<J>),
    /// A WAL flush finished.
    Flushed(u32),
    /// The standby answered for the oldest batch sent to it.
    Standby(u32),
    /// The background WAL writer's timer.
    WalWriter(u32),
    /// The server is back after a crash.
    Restart(u32),
}

/// What happened to a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PgOutcome<J> {
    /// Committed: the client is answered and the rows are visible.
    Committed(J),
    /// A read finished.
    Read(J),
    /// The transaction failed (crash, or the server is down): the client sees an error.
    Failed(J),
    /// An acknowledged asynchronous commit was lost in a crash: readers may have seen it.
    RolledBack(J),
    /// A commit whose client was never answered became visible when the server came back.
    Recovered(J),
    /// An asynchronous commit (already `Committed`) reached disk: a crash can no longer lose
    /// it. Only with `synchronous_commit = "off"`; other commits are durable when committed.
    Durable(J),
}

/// Counters for the report.
#[derive(Clone, Copy, Debug, Default)]
pub struct PgStats {
    /// Write transactions committed.
    pub commits: u64,
    /// Rows committed.
    pub rows: u64,
    /// Reads finished.
    pub reads: u64,
    /// GIN pending-list cleanups.
    pub gin_cleanups: u64,
    /// Transactions failed by crashes or downtime.
    pub failed: u64,
    /// WAL statistics.
    pub wal: GroupCommitStats,
    /// Busy core·ns.
    pub cpu_busy: f64,
    /// Index latch busy ns, summed over pages.
    pub latch_busy: f64,
    /// Index latch waits and their sum.
    pub latch_waited: u64,
    /// Sum of latch waits, ns.
    pub latch_wait_sum_ns: u128,
}

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
    #[expect(clippy::too_many_lines, reason = "over the 70-line budget (clippy.toml); to be split")]
    pub fn handle<E>(
        &mut self,
        sim: &mut Sim<E>,
        event: PgEvent<J>,
        wrap: impl Fn(PgEvent<J>) -> E + Copy,
        out: &mut Vec<PgOutcome<J>>,
    ) {
        match event {
            PgEvent::Cpu(epoch, txn) => {
                if epoch != self.epoch {
                    // In service when the server crashed: the client's connection broke.
                    out.push(PgOutcome::Failed(txn.job));
                    return;
                }
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
            PgEvent::Index(epoch, txn) => {
                if epoch != self.epoch {
                    out.push(PgOutcome::Failed(txn.job));
                    return;
                }
                let page = txn.page as usize % self.latches.len();
                self.latches[page].complete(sim, |t| wrap(PgEvent::Index(epoch, t)));
                self.commit(sim, txn, wrap, out);
            }
            PgEvent::Flushed(wal_epoch) => {
                let epoch = self.epoch;
                let mut flushed = std::mem::take(&mut self.flushed);
                // Group commit chains flushes; asynchronous commit waits for the writer.
                let chain = self.mode() != SyncCommit::Off;
                if !self
                    .wal
                    .flush_done(sim, wal_epoch, &mut flushed, chain, |e| wrap(PgEvent::Flushed(e)))
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
                    mode => {
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
                        batch.append(&mut flushed);
                        self.at_standby.push_back(batch);
                        sim.schedule_at(at, wrap(PgEvent::Standby(epoch)));
                    }
                }
                self.flushed = flushed;
            }
            PgEvent::Standby(epoch) => {
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
            PgEvent::WalWriter(epoch) => {
                if epoch != self.epoch {
                    return;
                }
                self.wal.start_flush(sim, |e| wrap(PgEvent::Flushed(e)));
                sim.schedule_in(
                    self.spec.params.wal_writer_delay.ns,
                    wrap(PgEvent::WalWriter(epoch)),
                );
            }
            PgEvent::Restart(epoch) => {
                if epoch != self.epoch {
                    return;
                }
                self.down = false;
                for job in self.recovering.drain(..) {
                    out.push(PgOutcome::Recovered(job));
                }
                self.start(sim, wrap);
            }
        }
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

    /// The server crashes now and restarts after `restart_ns`. Outcomes of the crash (failed
    /// transactions, rolled-back commits) go to `out`.
    pub fn crash<E>(
        &mut self,
        sim: &mut Sim<E>,
        restart_ns: SimTime,
        wrap: impl Fn(PgEvent<J>) -> E,
        out: &mut Vec<PgOutcome<J>>,
    ) {
        let mut lost = Vec::new();
        let mut txns = Vec::new();
        let now = sim.now();
        self.cpu.reset(now, &mut txns);
        for latch in &mut self.latches {
            latch.reset(now, &mut txns);
        }
        for t in txns {
            out.push(PgOutcome::Failed(t.job));
        }
        self.wal.crash(&mut lost);
        let rolled_back = self.mode() == SyncCommit::Off;
        for job in lost {
            out.push(if rolled_back { PgOutcome::RolledBack(job) } else { PgOutcome::Failed(job) });
        }
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

/// A human summary of WAL throughput, for details tables.
pub fn wal_rate_text(stats: &GroupCommitStats, seconds: f64) -> String {
    if seconds <= 0.0 {
        return "0/s".to_string();
    }
    format_bandwidth(stats.bytes as f64 / seconds)
}

/// Seconds in `ns` (for rates in details tables).
pub fn seconds(ns: SimTime) -> f64 {
    ns as f64 / NS_PER_S as f64
}
