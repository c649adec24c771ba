//! The running model: its events, state and reactions.

use crate::commit::CommitParams;
use pipesim_engine::{Dist, SimTime, StreamRng};
use pipesim_models::clients::{Clients, Request};
use pipesim_models::{Cell, Ctx, DetailTable, FaultKind, FaultPhase, FaultSpec, Model};
use pipesim_workload::EventMeta;
use std::collections::BTreeSet;

/// The model's events.
#[derive(Clone, Copy, Debug)]
pub enum Ev {
    /// A request reached the server.
    AtServer(Request),
    /// A scheduled boundary of the server's incarnation `u32`.
    Boundary(u32),
    /// The fsync of incarnation `u32` completed.
    FsyncDone(u32),
    /// An answer reached its producer: `ok`, or refused.
    Answer(Request, bool),
    /// The earliest producer timeout is due.
    TimeoutCheck,
    /// A retry's backoff is over.
    Retry(Request),
}

/// The running design.
pub struct GroupCommit {
    commit: CommitParams,
    fsync: Dist,
    rng: StreamRng,
    clients: Clients,
    /// Survives crashes: the log file's contents, by (key, seq).
    durable: BTreeSet<(u32, u64)>,
    /// In the batch being built or in the fsync in progress.
    unsynced: BTreeSet<(u32, u64)>,
    /// (request, whether it appends the event) since the current batch began.
    pending: Vec<(Request, bool)>,
    /// The batch whose fsync is running.
    flushing: Option<Vec<(Request, bool)>>,
    next_boundary_ns: SimTime,
    /// Bumped by every crash: events of an earlier incarnation are stale.
    incarnation: u32,
    up: bool,
    stats: Stats,
}

#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    fsyncs: u64,
    batched_requests: u64,
    retries_of_durable_events: u64,
    refused: u64,
}

impl GroupCommit {
    /// A server that has just started, with an empty log.
    pub(super) fn new(commit: CommitParams, fsync: Dist, rng: StreamRng, clients: Clients) -> Self {
        Self {
            next_boundary_ns: commit.next_boundary_ns(0),
            commit,
            fsync,
            rng,
            clients,
            durable: BTreeSet::new(),
            unsynced: BTreeSet::new(),
            pending: Vec::new(),
            flushing: None,
            incarnation: 0,
            up: true,
            stats: Stats::default(),
        }
    }

    /// The `group_commit` table: what the log did over the whole run (the wire twin reports
    /// the same counters in `wire_counters`).
    pub(super) fn details_table(&self) -> DetailTable {
        let s = &self.stats;
        let mean_batch = s.batched_requests as f64 / s.fsyncs.max(1) as f64;
        DetailTable {
            name: "group_commit",
            columns: vec![
                "fsyncs",
                "batched_requests",
                "mean_requests_per_fsync",
                "retries_of_durable_events",
                "refused_while_down",
                "events_in_log",
            ],
            rows: vec![vec![
                Cell::Int(s.fsyncs),
                Cell::Int(s.batched_requests),
                Cell::Fixed(mean_batch, 3),
                Cell::Int(s.retries_of_durable_events),
                Cell::Int(s.refused),
                Cell::Int(self.durable.len() as u64),
            ]],
        }
    }

    fn at_server(&mut self, ctx: &mut Ctx<Ev>, req: Request) {
        if !self.up {
            self.stats.refused += 1;
            self.clients.answer(ctx, req, false, Ev::Answer);
            return;
        }
        let id = (req.ev.key, req.ev.seq);
        if self.durable.contains(&id) {
            self.stats.retries_of_durable_events += 1;
            self.clients.answer(ctx, req, true, Ev::Answer);
            return;
        }
        let appends = self.unsynced.insert(id);
        self.pending.push((req, appends));
        self.maybe_commit(ctx);
    }

    /// Starts the next fsync if a boundary has come or the batch is full, one at a time.
    fn maybe_commit(&mut self, ctx: &mut Ctx<Ev>) {
        let now = ctx.now();
        let full = self.pending.len() >= self.commit.max_batch as usize;
        if !self.up || self.flushing.is_some() || (now < self.next_boundary_ns && !full) {
            return;
        }
        if now >= self.next_boundary_ns {
            self.next_boundary_ns = self.commit.next_boundary_ns(now);
            ctx.schedule_at(self.next_boundary_ns, Ev::Boundary(self.incarnation));
        }
        let batch = std::mem::take(&mut self.pending);
        if batch.is_empty() {
            return;
        }
        self.stats.batched_requests += batch.len() as u64;
        if batch.iter().any(|&(_, appends)| appends) {
            self.stats.fsyncs += 1;
            let ns = self.fsync.sample(&mut self.rng);
            ctx.schedule_in(ns, Ev::FsyncDone(self.incarnation));
            self.flushing = Some(batch);
        } else {
            // Only retries of events an earlier batch holds, now durable: nothing to write.
            self.finish(ctx, batch);
        }
    }

    /// The batch is durable: visible, then answered.
    fn finish(&mut self, ctx: &mut Ctx<Ev>, batch: Vec<(Request, bool)>) {
        for (req, appends) in batch {
            if appends {
                let id = (req.ev.key, req.ev.seq);
                self.unsynced.remove(&id);
                self.durable.insert(id);
                ctx.rec.visible(&req.ev, ctx.now());
            }
            self.clients.answer(ctx, req, true, Ev::Answer);
        }
    }

    fn crash(&mut self) {
        self.up = false;
        self.incarnation += 1;
        self.pending.clear();
        self.flushing = None;
        self.unsynced.clear();
    }

    fn restart(&mut self, ctx: &mut Ctx<Ev>) {
        self.up = true;
        self.next_boundary_ns = self.commit.next_boundary_ns(ctx.now());
        ctx.schedule_at(self.next_boundary_ns, Ev::Boundary(self.incarnation));
    }
}

impl Model for GroupCommit {
    type Event = Ev;

    fn init(&mut self, ctx: &mut Ctx<Ev>) {
        self.clients.init(ctx);
        ctx.schedule_at(self.next_boundary_ns, Ev::Boundary(self.incarnation));
    }

    fn on_arrival(&mut self, ctx: &mut Ctx<Ev>, ev: EventMeta) {
        let req = self.clients.first(ev, ctx.now());
        self.clients.send(ctx, req, Ev::AtServer, Ev::TimeoutCheck);
    }

    fn on_event(&mut self, ctx: &mut Ctx<Ev>, event: Ev) {
        match event {
            Ev::AtServer(req) => self.at_server(ctx, req),
            Ev::Boundary(i) if i == self.incarnation => self.maybe_commit(ctx),
            Ev::FsyncDone(i) if i == self.incarnation => {
                let batch = self.flushing.take().expect("an fsync of this incarnation runs");
                self.finish(ctx, batch);
                self.maybe_commit(ctx);
            }
            Ev::Boundary(_) | Ev::FsyncDone(_) => {}
            Ev::Answer(req, ok) => {
                self.clients.on_answer(ctx, req, ok, Ev::Retry);
            }
            Ev::TimeoutCheck => self.clients.on_timeout_check(ctx, Ev::TimeoutCheck, Ev::Retry),
            Ev::Retry(req) => self.clients.send(ctx, req, Ev::AtServer, Ev::TimeoutCheck),
        }
    }

    fn on_fault(&mut self, ctx: &mut Ctx<Ev>, fault: &FaultSpec, phase: FaultPhase) {
        // Network faults act on the clients' links, which took them at build.
        if fault.role != crate::wire::ROLE || !matches!(fault.kind, FaultKind::Crash { .. }) {
            return;
        }
        match phase {
            FaultPhase::Begin => self.crash(),
            FaultPhase::End => self.restart(ctx),
        }
    }
}
