//! `baseline`: every event is one INSERT into a single Postgres table through a connection
//! pool; readers poll the same table.
//!
//! Producers (application instances) send each event over their own connection to the
//! database. A request takes a pool connection (or waits for one), runs on the store (CPU, the
//! hot index page's latch, WAL group commit under the configured `synchronous_commit`), and is
//! visible to readers when it commits; the client is acknowledged when the answer gets back.
//! A failed or unanswered request is retried with backoff; the INSERT is not idempotent, so a
//! retry of a request that did commit writes the event twice. Polling readers query the table
//! through the same pool, so heavy reads starve writes of connections, and a reader that leaves
//! its transaction open pins a connection.

use crate::clients::{Clients, Request};
use crate::ctx::Ctx;
use crate::detail::DetailTable;
use crate::fault::{FaultPhase, FaultSpec};
use crate::model::{BuildEnv, Model, ModelKind, RunEnv};
use crate::store_faults::{
    Frozen, StoreStep, on_postgres_fault, postgres_crash_scopes, postgres_fault_kinds,
};
use crate::store_table::{StoreSnapshot, store_table};
use pipesim_components::{
    Affinity, CrashScope, FleetParams, Link, LinkParams, LinkSpec, Outbox, PgEvent, PgOutcome,
    Pool, PoolParams, Postgres, PostgresParams, PostgresSpec, ReaderParams, Readers, RetryParams,
    Txn,
};
use pipesim_config::{ConfigError, ParamDoc};
use pipesim_engine::{RngStreams, SimTime, StreamRng, Window};
use pipesim_metrics::RunResults;
use pipesim_workload::{EventMeta, WorkloadSpec};
use serde::Serialize;

pipesim_config::sections! {
    /// The model table as written.
    #[derive(Default)]
    pub struct BaselineConfig {
        producers: FleetParams [Affinity::Key],
        network: LinkParams,
        pool: PoolParams,
        store: PostgresParams,
        client: RetryParams,
        readers: ReaderParams,
    }
}

/// Validated parameters (echoed in the report) and their resolved forms.
#[derive(Clone, Serialize)]
pub struct BaselineParams {
    producers: FleetParams,
    network: LinkParams,
    pool: PoolParams,
    store: PostgresParams,
    client: RetryParams,
    readers: ReaderParams,
    #[serde(skip)]
    link: LinkSpec,
    #[serde(skip)]
    pg: PostgresSpec,
}

/// A request as it travels: an event to write, or a reader's poll.
#[derive(Clone, Copy, Debug)]
pub enum Job {
    /// An event to INSERT.
    Write(Request),
    /// A reader's poll.
    Read {
        /// Which reader.
        reader: u32,
        /// When the poll was due.
        issued_ns: SimTime,
    },
}

/// The model's events.
#[derive(Clone, Copy, Debug)]
pub enum Ev {
    /// A request reached the database.
    AtDb(Job),
    /// The store's own events.
    Store(PgEvent<Job>),
    /// A write's answer reached its producer: `ok` or an error.
    Answer(Request, bool),
    /// A poll's answer reached its reader.
    ReadAnswer(Job, bool),
    /// The earliest producer timeout is due.
    TimeoutCheck,
    /// A retry's backoff is over.
    Retry(Request),
    /// A reader's poll is due.
    Poll(u32),
    /// A leaked connection is reclaimed by the idle-in-transaction timeout.
    Reclaim,
}

/// The running design.
pub struct Baseline {
    params: BaselineParams,
    clients: Clients,
    reader_up: Link,
    reader_down: Link,
    pool: Pool<Job>,
    store: Postgres<Job>,
    readers: Readers,
    reader_rng: StreamRng,
    rng: StreamRng,
    out: Outbox<PgOutcome<Job>>,
    stats: BaselineStats,
    measure: Window,
    streams: RngStreams,
    frozen: Frozen<Ev>,
}

#[derive(Clone, Copy, Debug, Default)]
struct BaselineStats {
    failed_reads: u64,
    leaks: u64,
}

fn wrap_store(e: PgEvent<Job>) -> Ev {
    Ev::Store(e)
}

fn at_db(req: Request) -> Ev {
    Ev::AtDb(Job::Write(req))
}

impl Baseline {
    /// Answers the client of `job` over its connection.
    fn answer(&mut self, ctx: &mut Ctx<Ev>, job: Job, ok: bool) {
        match job {
            Job::Write(req) => self.clients.answer(ctx, req, ok, Ev::Answer),
            Job::Read { .. } => {
                self.reader_down.send(&mut ctx.sim, Ev::ReadAnswer(job, ok));
            }
        }
    }

    /// Runs `job` on the connection it just got. While the server is down every attempt fails
    /// at once and the connection passes straight to the next waiter (a loop, not recursion:
    /// thousands may be waiting).
    fn run_on_connection(&mut self, ctx: &mut Ctx<Ev>, job: Job) {
        let mut job = job;
        loop {
            let txn = match job {
                Job::Write(req) => {
                    Txn { job, rows: 1, bytes: u64::from(req.ev.size_bytes), write: true, page: 0 }
                }
                Job::Read { .. } => {
                    Txn { job, rows: self.readers.rows_per_poll(), bytes: 0, write: false, page: 0 }
                }
            };
            if self.store.submit(&mut ctx.sim, txn, wrap_store) {
                return;
            }
            self.answer(ctx, job, false);
            match self.pool.release(ctx.now()) {
                Some(next) => job = next,
                None => return,
            }
        }
    }

    /// Returns a connection to the pool; the next waiting request runs on it.
    fn release(&mut self, ctx: &mut Ctx<Ev>) {
        if let Some(next) = self.pool.release(ctx.now()) {
            self.run_on_connection(ctx, next);
        }
    }

    fn outcomes(&mut self, ctx: &mut Ctx<Ev>) {
        while let Some(outcome) = self.out.take_next() {
            match outcome {
                PgOutcome::Committed(job) => {
                    if let Job::Write(req) = job {
                        ctx.rec.visible(&req.ev, ctx.now());
                    }
                    self.release(ctx);
                    self.answer(ctx, job, true);
                }
                PgOutcome::Read(job) => {
                    if self.params.pool.leak > 0.0 && self.rng.chance(self.params.pool.leak) {
                        // The client never commits: its connection stays idle in a transaction.
                        self.pool.leak_one();
                        self.stats.leaks += 1;
                        if self.params.pool.leak_timeout.ns > 0 {
                            ctx.schedule_in(self.params.pool.leak_timeout.ns, Ev::Reclaim);
                        }
                    } else {
                        self.release(ctx);
                    }
                    self.answer(ctx, job, true);
                }
                PgOutcome::Failed(job) => {
                    self.release(ctx);
                    self.answer(ctx, job, false);
                }
                PgOutcome::RolledBack(Job::Write(req)) => ctx.rec.retracted(&req.ev, ctx.now()),
                PgOutcome::Recovered(Job::Write(req)) => ctx.rec.visible(&req.ev, ctx.now()),
                PgOutcome::RolledBack(Job::Read { .. })
                | PgOutcome::Recovered(Job::Read { .. })
                | PgOutcome::Durable(_) => {}
            }
        }
    }
}

impl Model for Baseline {
    type Event = Ev;

    fn init(&mut self, ctx: &mut Ctx<Ev>) {
        self.clients.init(ctx);
        if self.readers.active() {
            ctx.rec.enable_read_path();
            self.readers.start(&mut ctx.sim, &mut self.reader_rng, Ev::Poll);
        }
        self.store.start(&mut ctx.sim, wrap_store);
    }

    #[inline]
    fn on_arrival(&mut self, ctx: &mut Ctx<Ev>, ev: EventMeta) {
        let req = self.clients.first(ev, ctx.now());
        self.clients.send(ctx, req, at_db, Ev::TimeoutCheck);
    }

    fn on_event(&mut self, ctx: &mut Ctx<Ev>, event: Ev) {
        if self.frozen.on() && matches!(event, Ev::Store(_)) {
            // The server process is paused: its CPU, latch and WAL work completes afterwards.
            self.frozen.hold(event);
            return;
        }
        match event {
            Ev::AtDb(job) => {
                if let Some(job) = self.pool.acquire(job, ctx.now()) {
                    self.run_on_connection(ctx, job);
                }
            }
            Ev::Store(e) => {
                self.store.handle(&mut ctx.sim, e, wrap_store, self.out.sink());
                self.outcomes(ctx);
            }
            Ev::Answer(req, ok) => {
                self.clients.on_answer(ctx, req, ok, Ev::Retry);
            }
            Ev::ReadAnswer(job, ok) => match job {
                Job::Read { reader, issued_ns } if ok => {
                    let (now, latency) = (ctx.now(), ctx.now() - issued_ns);
                    ctx.rec.read_many(self.readers.keys(reader).iter().copied(), latency, now);
                }
                _ => self.stats.failed_reads += 1,
            },
            Ev::TimeoutCheck => self.clients.on_timeout_check(ctx, Ev::TimeoutCheck, Ev::Retry),
            Ev::Retry(req) => self.clients.send(ctx, req, at_db, Ev::TimeoutCheck),
            Ev::Poll(reader) => {
                let poll = self.readers.poll(&mut ctx.sim, reader, Ev::Poll);
                let job = Job::Read { reader: poll.reader, issued_ns: poll.issued_ns };
                // A lost poll is simply never answered; the reader polls again on schedule.
                self.reader_up.send(&mut ctx.sim, Ev::AtDb(job));
            }
            Ev::Reclaim => {
                if let Some(job) = self.pool.unleak(ctx.now()) {
                    self.run_on_connection(ctx, job);
                }
            }
        }
    }

    fn on_fault(&mut self, ctx: &mut Ctx<Ev>, fault: &FaultSpec, phase: FaultPhase) {
        if fault.role != "store" {
            return; // network faults act on the clients' links, which took them at build
        }
        let step =
            on_postgres_fault(&mut self.store, &mut self.frozen, fault, phase, &self.streams);
        match step {
            StoreStep::Crash(restart_ns, scope) => {
                self.store.crash(&mut ctx.sim, restart_ns, scope, wrap_store, self.out.sink());
                self.outcomes(ctx);
            }
            StoreStep::Replay(held) => {
                for e in held {
                    self.on_event(ctx, e);
                }
            }
            StoreStep::Done => {}
        }
    }
}

impl ModelKind for Baseline {
    const KIND: &'static str = "baseline";
    const SUMMARY: &'static str = "producers INSERT each event into one Postgres table through a connection pool; readers poll the table";
    type Config = BaselineConfig;
    type Params = BaselineParams;

    fn params_doc() -> Vec<ParamDoc> {
        BaselineConfig::section_docs()
    }

    fn fault_roles() -> &'static [&'static str] {
        &["store", "network"]
    }

    fn fault_kinds(role: &str) -> &'static [&'static str] {
        postgres_fault_kinds(role)
    }

    fn crash_scopes(role: &str) -> &'static [CrashScope] {
        postgres_crash_scopes(role)
    }

    fn validate(c: BaselineConfig, env: &BuildEnv<'_>) -> Result<BaselineParams, ConfigError> {
        let producers = c.producers(env.loader)?;
        let link = c.network(env.loader)?;
        let pool = c.pool(env.loader)?;
        let pg = c.store(env.loader)?;
        let client = c.client(env.loader)?;
        let readers = c.readers(env.loader)?;
        Ok(BaselineParams {
            producers,
            network: c.network,
            pool,
            store: c.store,
            client,
            readers,
            link,
            pg,
        })
    }

    fn build(p: &BaselineParams, env: &RunEnv<'_>) -> Self {
        let link = &p.link;
        let s = env.streams;
        let (readers, reader_rng) = env.readers(&p.readers);
        Self {
            params: p.clone(),
            streams: *s,
            frozen: Frozen::default(),
            clients: Clients::new(&p.producers, &p.client, link, s, env.faults),
            reader_up: Link::new(link, s.stream("network/readers/up")),
            reader_down: Link::new(link, s.stream("network/readers/down")),
            pool: Pool::new(p.pool.size),
            store: {
                let pg = &p.pg;
                let mut store = Postgres::new(pg, 1, s.stream("store"), s.stream("store/wal"));
                store.set_window(env.settings.measured());
                store
            },
            readers,
            reader_rng,
            rng: s.stream("pool"),
            out: Outbox::default(),
            stats: BaselineStats::default(),
            measure: env.settings.measured(),
        }
    }

    fn work(_p: &BaselineParams, _workload: &WorkloadSpec) -> crate::Work {
        // Calibrated on the shipped scenarios (docs/scenario.md, "Run estimate"): an INSERT's
        // round trip, commit and answer; a loaded table keeps events half a second.
        crate::Work {
            events_per_arrival: 6.5,
            ns_per_event: 400.0,
            in_flight_s: 0.5,
            bytes_in_flight: 300.0,
            fixed_s: 0.0,
        }
    }

    fn warnings(p: &BaselineParams, _workload: &WorkloadSpec) -> Vec<String> {
        let mut out = Vec::new();
        if p.pool.leak > 0.0 && p.pool.leak_timeout.ns == 0 && p.readers.count > 0 {
            out.push(
                "pool.leak > 0 with no leak_timeout: leaked connections are never reclaimed, so the pool drains"
                    .to_string(),
            );
        }
        out
    }

    fn details(&self, _results: &RunResults) -> Vec<DetailTable> {
        let s = StoreSnapshot {
            stats: self.store.stats(self.measure.to_ns),
            cores: self.params.store.cores,
            retries: self.clients.stats.retries,
            timeouts: self.clients.stats.timeouts,
            leaks: self.stats.leaks,
        };
        vec![store_table(&s, self.measure)]
    }
}
