//! `cached`: a writer puts events in Postgres; a CDC connector streams the commits through a
//! topic into a cache service of per-entity ring buffers; readers poll the cache, and its
//! misses go to the store (seed 001's EventWriter → Debezium → Kafka → EventCache).
//!
//! **Write path.** Producers send each event to the writer service. The writer keeps one
//! connection per table shard (`entity mod connections`) and runs one INSERT at a time on each,
//! in arrival order, so an entity's events commit in order; a failed INSERT is retried at the
//! head of its connection after `retry_backoff`. The producer is acknowledged when the commit
//! returns (Postgres's CPU, index latch and WAL group commit, from the store component).
//!
//! **Change stream.** Every commit is captured in commit order with a log position; one decoder
//! (`[model.cdc]`) publishes the changes, in that order, to a topic of `partitions` partitions
//! (`[model.topic]`), an entity's changes all in one partition.
//!
//! **Read view.** The cache service (`[model.cache]`) applies each partition in order and keeps
//! the last `ring` events of each entity it holds; a change to an entity it does not hold is
//! skipped. An event becomes *visible* when the cache has processed its change (applied it, or
//! skipped it because the entity is not held, whose reads then go to the store, which has it):
//! that ends its end-to-end latency. Readers poll the cache; entities it does not hold are loaded
//! from the store through a connection pool (their last `ring` events), which is what makes a
//! cold cache a stampede on the store. Read latency and per-key staleness are reported.
//!
//! **Faults.** `store`: the Postgres crash (failed INSERTs are retried by the writer) also breaks
//! the replication connection, so the connector resumes from its last flushed position when the
//! server is back. `log`: the connector crashes and does the same: every change it published
//! since its last offset flush is published again, a duplicate in the rings unless the cache
//! deduplicates by log position (`cache.dedup`). `cache`: the service loses its memory; without
//! a write-ahead log it restarts empty (cold), with one it replays the log first (warm); its
//! consumer resumes from its last committed position. `network`: the client network (producers
//! and readers to the services) stops carrying packets; TCP retransmits each lost segment on its
//! exponential timer (200 ms, then doubling), so messages arrive at the first retransmission
//! after the outage.

use crate::ctx::Ctx;
use crate::detail::{Cell, DetailTable};
use crate::fault::{FaultKind, FaultPhase, FaultSpec};
use crate::model::{BuildEnv, Model, ModelKind, RunEnv};
use pipesim_components::cache::{Apply, Cache, CacheEvent, CacheOutcome, CacheParams, CacheSpec};
use pipesim_components::cdc::{
    Cdc, CdcEvent, CdcParams, CdcSpec, Published, Topic, TopicEvent, TopicParams, TopicSpec,
};
use pipesim_components::{
    FleetParams, Link, LinkParams, LinkSpec, PgEvent, PgOutcome, Pool, PoolParams, Postgres,
    PostgresParams, PostgresSpec, ReaderParams, Readers, SyncCommit, TcpConn, Txn,
};
use pipesim_config::{ConfigError, Duration, ParamDoc};
use pipesim_engine::{NS_PER_MS, SimTime, StreamRng, Zipf};
use pipesim_metrics::{LatencyHistogram, RunResults};
use pipesim_workload::{EventMeta, Popularity, WorkloadSpec};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The writer service as a scenario writes it (`[model.writer]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WriterParams {
    /// Connections to the store, one per table shard: an event goes to `entity mod connections`.
    pub connections: u32,
    /// Wait before retrying an INSERT that failed.
    pub retry_backoff: Duration,
}

impl Default for WriterParams {
    fn default() -> Self {
        Self { connections: 32, retry_backoff: Duration { ns: 100 * NS_PER_MS } }
    }
}

impl WriterParams {
    fn validate(&self) -> Result<WriterParams, ConfigError> {
        if self.connections == 0 {
            return Err(ConfigError::new(
                "connections",
                "must be at least 1: the writer needs a connection to the store",
            ));
        }
        pipesim_config::limits::at_most(
            "connections",
            u64::from(self.connections),
            &pipesim_config::limits::WORKERS,
        )?;
        if self.retry_backoff.ns == 0 {
            return Err(ConfigError::new(
                "retry_backoff",
                "must be greater than zero: a writer retrying at once against a down store never lets time pass",
            ));
        }
        Ok(self.clone())
    }

    fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new(
                "connections",
                "integer >= 1",
                "32",
                "writer connections, one per table shard: an event goes to entity mod connections (seed 001: entity_id % 32)",
            ),
            ParamDoc::new("retry_backoff", "duration", "\"100ms\"", "wait before a failed INSERT is retried, at the head of its connection"),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// The model table as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CachedConfig {
    #[serde(default)]
    producers: FleetParams,
    #[serde(default)]
    network: LinkParams,
    #[serde(default)]
    writer: WriterParams,
    #[serde(default)]
    store: PostgresParams,
    #[serde(default)]
    cdc: CdcParams,
    #[serde(default)]
    topic: TopicParams,
    #[serde(default)]
    cache: CacheParams,
    #[serde(default)]
    pool: PoolParams,
    #[serde(default)]
    readers: ReaderParams,
}

/// Validated parameters (echoed in the report) and their resolved forms.
#[derive(Clone, Serialize)]
pub struct CachedParams {
    producers: FleetParams,
    network: LinkParams,
    writer: WriterParams,
    store: PostgresParams,
    cdc: CdcParams,
    topic: TopicParams,
    cache: CacheParams,
    pool: PoolParams,
    readers: ReaderParams,
    #[serde(skip)]
    specs: Option<Specs>,
}

#[derive(Clone)]
struct Specs {
    link: LinkSpec,
    pg: PostgresSpec,
    cdc: CdcSpec,
    topic: TopicSpec,
    cache: CacheSpec,
}

/// An event on its way to the writer.
#[derive(Clone, Copy, Debug)]
pub struct Write {
    /// The event.
    pub ev: EventMeta,
    /// The producer instance that sent it (its connection back).
    pub instance: u32,
}

/// A reader's poll.
#[derive(Clone, Copy, Debug)]
pub struct Read {
    /// Which reader.
    pub reader: u32,
    /// When the poll was due.
    pub issued_ns: SimTime,
}

/// Work for the store.
#[derive(Clone, Copy, Debug)]
pub enum StoreJob {
    /// An INSERT from the writer.
    Write(Write),
    /// The cache loading the entities a read missed.
    Load {
        /// The read that missed.
        read: Read,
        /// Rows to return.
        rows: u32,
        /// The cache process that asked (a crash makes the answer useless).
        epoch: u32,
    },
}

/// The model's events.
#[derive(Clone, Copy, Debug)]
pub enum Ev {
    /// An event reached the writer.
    AtWriter(Write),
    /// The store's own events.
    Store(PgEvent<StoreJob>),
    /// The writer's answer reached the producer.
    Acked(EventMeta),
    /// A writer connection's retry backoff is over.
    RetryShard(u32),
    /// The connector's own events.
    Cdc(CdcEvent),
    /// The topic's deliveries.
    Topic(TopicEvent),
    /// The cache service's own events.
    Cache(CacheEvent<EventMeta, Read>),
    /// An applied change becomes visible after the update lag: (event, commit time, first
    /// processing, visibilities to record).
    Shown(EventMeta, SimTime, bool, u8),
    /// A reader's poll is due.
    Poll(u32),
    /// A poll reached the cache service.
    AtCache(Read),
    /// The answer to a poll reached its reader: `ok` or an error.
    Answer(Read, bool),
    /// The cache's stream consumer commits its position.
    ConsumerCommit,
    /// A leaked pool connection is reclaimed (idle-in-transaction timeout).
    Reclaim,
}

fn wrap_store(e: PgEvent<StoreJob>) -> Ev {
    Ev::Store(e)
}
fn wrap_cache(e: CacheEvent<EventMeta, Read>) -> Ev {
    Ev::Cache(e)
}

/// A writer connection: its queue (the head is in the store or waiting to be retried).
#[derive(Default)]
struct Shard {
    queue: VecDeque<Write>,
    busy: bool,
}

#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    write_retries: u64,
    reads_ok: u64,
    failed_reads: u64,
    loads: u64,
    leaks: u64,
}

/// The running design.
pub struct Cached {
    params: CachedParams,
    fleet: FleetParams,
    up: Vec<TcpConn>,
    down: Vec<TcpConn>,
    reader_up: TcpConn,
    reader_down: TcpConn,
    shards: Vec<Shard>,
    store: Postgres<StoreJob>,
    cdc: Cdc<EventMeta>,
    topic: Topic<EventMeta>,
    cache: Cache<EventMeta, Read>,
    cache_epoch: u32,
    pool: Pool<StoreJob>,
    readers: Readers,
    /// Each reader's distinct entities: `distinct[offsets[r]..offsets[r + 1]]`.
    distinct: Vec<u32>,
    offsets: Vec<usize>,
    reader_rng: StreamRng,
    producer_rng: StreamRng,
    pool_rng: StreamRng,
    /// Events committed per entity (how many rows a load returns).
    committed: Vec<u32>,
    /// Per partition, the highest log position the cache has processed: a change at or below it
    /// was processed before (it is a replay), so it is not a first visibility.
    processed: Vec<u64>,
    pg_out: Vec<PgOutcome<StoreJob>>,
    cdc_out: Vec<Published<EventMeta>>,
    cache_out: Vec<CacheOutcome<EventMeta, Read>>,
    /// The network outage in progress, if any.
    outage: Option<(SimTime, SimTime)>,
    /// Commit to visible, for events created in the measured interval.
    visibility: LatencyHistogram,
    stats: Stats,
    measure: (SimTime, SimTime),
    payload_bytes: u32,
}

impl Cached {
    /// 1 inside the measured interval, 0 outside: the details tables cover the measured
    /// interval, as the report's other statistics do.
    #[inline]
    fn counting(&self, now: SimTime) -> u64 {
        u64::from(now >= self.measure.0 && now < self.measure.1)
    }

    /// Runs (or retries) the INSERT at the head of writer connection `shard`.
    fn submit_head(&mut self, ctx: &mut Ctx<Ev>, shard: u32) {
        let s = &mut self.shards[shard as usize];
        let Some(&w) = s.queue.front() else {
            s.busy = false;
            return;
        };
        s.busy = true;
        let txn = Txn {
            job: StoreJob::Write(w),
            rows: 1,
            bytes: u64::from(w.ev.size_bytes),
            write: true,
            page: shard,
        };
        if !self.store.submit(&mut ctx.sim, txn, wrap_store) {
            self.stats.write_retries += self.counting(ctx.now());
            ctx.schedule_in(self.params.writer.retry_backoff.ns, Ev::RetryShard(shard));
        }
    }

    fn shard_of(&self, key: u32) -> u32 {
        key % self.params.writer.connections
    }

    /// A commit: the change enters the stream, and the entity has one more row to load.
    fn captured(&mut self, ctx: &mut Ctx<Ev>, ev: EventMeta) {
        self.committed[ev.key as usize] += 1;
        self.cdc.capture(&mut ctx.sim, ev, ev.key, Ev::Cdc);
    }

    fn answer(&mut self, ctx: &mut Ctx<Ev>, read: Read, ok: bool) {
        self.reader_down.send(&mut ctx.sim, self.outage, Ev::Answer(read, ok));
    }

    /// Runs a load on the pool connection it just got; while the store is down each one fails
    /// at once and the connection passes to the next waiter.
    fn run_load(&mut self, ctx: &mut Ctx<Ev>, job: StoreJob) {
        let mut job = job;
        loop {
            let StoreJob::Load { read, rows, .. } = job else {
                unreachable!("only loads use the pool")
            };
            let txn = Txn { job, rows, bytes: 0, write: false, page: 0 };
            if self.store.submit(&mut ctx.sim, txn, wrap_store) {
                return;
            }
            self.stats.failed_reads += self.counting(ctx.now());
            self.answer(ctx, read, false);
            match self.pool.release(ctx.now()) {
                Some(next) => job = next,
                None => return,
            }
        }
    }

    fn release_pool(&mut self, ctx: &mut Ctx<Ev>) {
        if let Some(next) = self.pool.release(ctx.now()) {
            self.run_load(ctx, next);
        }
    }

    fn store_outcomes(&mut self, ctx: &mut Ctx<Ev>) {
        let mut out = std::mem::take(&mut self.pg_out);
        for outcome in out.drain(..) {
            match outcome {
                PgOutcome::Committed(StoreJob::Write(w)) => {
                    let shard = self.shard_of(w.ev.key);
                    let head = self.shards[shard as usize].queue.pop_front();
                    debug_assert_eq!(head.map(|h| h.ev.id), Some(w.ev.id), "commits in order");
                    self.captured(ctx, w.ev);
                    self.down[w.instance as usize].send(&mut ctx.sim, self.outage, Ev::Acked(w.ev));
                    self.submit_head(ctx, shard);
                }
                PgOutcome::Failed(StoreJob::Write(w)) => {
                    // The writer retries the head of the connection after its backoff.
                    self.stats.write_retries += self.counting(ctx.now());
                    let shard = self.shard_of(w.ev.key);
                    ctx.schedule_in(self.params.writer.retry_backoff.ns, Ev::RetryShard(shard));
                }
                // Durable although its client saw an error: the writer's retry commits it again.
                PgOutcome::Recovered(StoreJob::Write(w)) => self.captured(ctx, w.ev),
                PgOutcome::Read(StoreJob::Load { read, epoch, .. }) => {
                    if self.params.pool.leak > 0.0 && self.pool_rng.chance(self.params.pool.leak) {
                        self.pool.leak_one();
                        self.stats.leaks += self.counting(ctx.now());
                        if self.params.pool.leak_timeout.ns > 0 {
                            ctx.schedule_in(self.params.pool.leak_timeout.ns, Ev::Reclaim);
                        }
                    } else {
                        self.release_pool(ctx);
                    }
                    if epoch == self.cache_epoch && !self.cache.is_down() {
                        // The loaded rings reflect every commit so far (the query's snapshot is
                        // taken as it returns, so the rows and the position agree).
                        let snapshot = self.cdc.last_lsn();
                        let (lo, hi) = (
                            self.offsets[read.reader as usize],
                            self.offsets[read.reader as usize + 1],
                        );
                        let (now, committed) = (ctx.now(), &self.committed);
                        self.cache
                            .fill(now, &self.distinct[lo..hi], snapshot, |k| committed[k as usize]);
                        self.answer(ctx, read, true);
                    } else {
                        // The cache process that asked is gone; its client saw the connection break.
                        self.stats.failed_reads += self.counting(ctx.now());
                        self.answer(ctx, read, false);
                    }
                }
                PgOutcome::Failed(StoreJob::Load { read, .. }) => {
                    self.release_pool(ctx);
                    self.stats.failed_reads += self.counting(ctx.now());
                    self.answer(ctx, read, false);
                }
                // Asynchronous commit is rejected for this kind; nothing else applies to loads.
                _ => {}
            }
        }
        self.pg_out = out;
    }

    fn cdc_published(&mut self, ctx: &mut Ctx<Ev>) {
        let mut out = std::mem::take(&mut self.cdc_out);
        for p in out.drain(..) {
            self.topic.publish(&mut ctx.sim, p.change, Ev::Topic);
        }
        self.cdc_out = out;
    }

    fn cache_outcomes(&mut self, ctx: &mut Ctx<Ev>) {
        let mut out = std::mem::take(&mut self.cache_out);
        for outcome in out.drain(..) {
            match outcome {
                CacheOutcome::Applied { partition, change, apply, visible_in } => {
                    self.topic.done(partition);
                    let seen = &mut self.processed[partition as usize];
                    let first = change.lsn > *seen;
                    *seen = (*seen).max(change.lsn);
                    let times = match apply {
                        // Already in the ring and processed for the first time: readers could
                        // see it from the load, and now see it twice.
                        Apply::Appended { repeat: true } if first => 2,
                        Apply::Appended { .. } => 1,
                        Apply::Deduplicated | Apply::NotHeld => u8::from(first),
                    };
                    if times == 0 {
                        continue;
                    }
                    if visible_in == 0 {
                        self.show(ctx, change.job, change.committed_ns, first, times);
                    } else {
                        ctx.schedule_in(
                            visible_in,
                            Ev::Shown(change.job, change.committed_ns, first, times),
                        );
                    }
                }
                CacheOutcome::Served(read) => {
                    let (lo, hi) = (
                        self.offsets[read.reader as usize],
                        self.offsets[read.reader as usize + 1],
                    );
                    let (now, committed) = (ctx.now(), &self.committed);
                    let l =
                        self.cache.lookup(now, &self.distinct[lo..hi], |k| committed[k as usize]);
                    if l.misses == 0 {
                        self.answer(ctx, read, true);
                    } else {
                        self.stats.loads += self.counting(ctx.now());
                        let rows = u32::try_from(l.rows).unwrap_or(u32::MAX);
                        let job = StoreJob::Load { read, rows, epoch: self.cache_epoch };
                        if let Some(job) = self.pool.acquire(job, ctx.now()) {
                            self.run_load(ctx, job);
                        }
                    }
                }
                CacheOutcome::Failed(read) => {
                    self.stats.failed_reads += self.counting(ctx.now());
                    self.answer(ctx, read, false);
                }
                CacheOutcome::Ready => self.topic.resume(&mut ctx.sim, Ev::Topic),
            }
        }
        self.cache_out = out;
    }

    /// `ev` is visible in the read view now (`times` visibilities: more than one, or one that
    /// is not the first, are duplicates readers see).
    fn show(
        &mut self,
        ctx: &mut Ctx<Ev>,
        ev: EventMeta,
        committed_ns: SimTime,
        first: bool,
        times: u8,
    ) {
        let now = ctx.now();
        if first && ev.created_ns >= self.measure.0 && ev.created_ns < self.measure.1 {
            self.visibility.record(now - committed_ns);
        }
        for _ in 0..times {
            ctx.rec.visible(&ev, now);
        }
    }
}

impl Model for Cached {
    type Event = Ev;

    fn init(&mut self, ctx: &mut Ctx<Ev>) {
        if self.readers.active() {
            ctx.rec.enable_read_path();
            self.readers.start(&mut ctx.sim, &mut self.reader_rng, Ev::Poll);
        }
        self.store.start(&mut ctx.sim, wrap_store);
        self.cdc.start(&mut ctx.sim, Ev::Cdc);
        ctx.schedule_in(self.params.cache.commit_interval.ns, Ev::ConsumerCommit);
    }

    #[inline]
    fn on_arrival(&mut self, ctx: &mut Ctx<Ev>, ev: EventMeta) {
        let instance = self.fleet.instance_of(ev.key, &mut self.producer_rng);
        self.up[instance as usize].send(
            &mut ctx.sim,
            self.outage,
            Ev::AtWriter(Write { ev, instance }),
        );
    }

    fn on_event(&mut self, ctx: &mut Ctx<Ev>, event: Ev) {
        match event {
            Ev::AtWriter(w) => {
                let shard = self.shard_of(w.ev.key);
                let s = &mut self.shards[shard as usize];
                s.queue.push_back(w);
                if !s.busy {
                    self.submit_head(ctx, shard);
                }
            }
            Ev::Store(e) => {
                let mut out = std::mem::take(&mut self.pg_out);
                self.store.handle(&mut ctx.sim, e, wrap_store, &mut out);
                self.pg_out = out;
                self.store_outcomes(ctx);
            }
            Ev::Acked(ev) => ctx.rec.acked(&ev, ctx.now()),
            Ev::RetryShard(shard) => self.submit_head(ctx, shard),
            Ev::Cdc(e) => {
                let mut out = std::mem::take(&mut self.cdc_out);
                self.cdc.handle(&mut ctx.sim, e, Ev::Cdc, &mut out);
                self.cdc_out = out;
                self.cdc_published(ctx);
            }
            Ev::Topic(e) => {
                if let Some((p, change)) = self.topic.handle(&mut ctx.sim, e, Ev::Topic) {
                    // The topic is paused while the cache is down, so the cache takes it.
                    let taken = self.cache.consume(&mut ctx.sim, p, change, wrap_cache);
                    debug_assert!(taken, "delivered to a cache that is down");
                }
            }
            Ev::Cache(e) => {
                let mut out = std::mem::take(&mut self.cache_out);
                self.cache.handle(&mut ctx.sim, e, wrap_cache, &mut out);
                self.cache_out = out;
                self.cache_outcomes(ctx);
            }
            Ev::Shown(ev, committed_ns, first, times) => {
                self.show(ctx, ev, committed_ns, first, times)
            }
            Ev::Poll(reader) => {
                let poll = self.readers.poll(&mut ctx.sim, reader, Ev::Poll);
                let read = Read { reader: poll.reader, issued_ns: poll.issued_ns };
                self.reader_up.send(&mut ctx.sim, self.outage, Ev::AtCache(read));
            }
            Ev::AtCache(read) => {
                // The request names every entity the reader asked for, repeats included.
                let n = self.readers.keys(read.reader).len() as u32;
                if !self.cache.request(&mut ctx.sim, read, n, wrap_cache) {
                    self.stats.failed_reads += self.counting(ctx.now());
                    self.answer(ctx, read, false);
                }
            }
            Ev::Answer(read, ok) => {
                if ok {
                    self.stats.reads_ok += self.counting(ctx.now());
                    let latency = ctx.now() - read.issued_ns;
                    let now = ctx.now();
                    ctx.rec.read_many(self.readers.keys(read.reader).iter().copied(), latency, now);
                }
            }
            Ev::ConsumerCommit => {
                if !self.cache.is_down() {
                    self.topic.commit();
                }
                ctx.schedule_in(self.params.cache.commit_interval.ns, Ev::ConsumerCommit);
            }
            Ev::Reclaim => {
                if let Some(job) = self.pool.unleak(ctx.now()) {
                    self.run_load(ctx, job);
                }
            }
        }
    }

    fn on_fault(&mut self, ctx: &mut Ctx<Ev>, fault: &FaultSpec, phase: FaultPhase) {
        use FaultPhase::{Begin, End};
        match (&fault.kind, fault.role.as_str(), phase) {
            (&FaultKind::Crash { restart_ns }, "store", Begin) => {
                let mut out = std::mem::take(&mut self.pg_out);
                self.store.crash(&mut ctx.sim, restart_ns, wrap_store, &mut out);
                self.pg_out = out;
                self.store_outcomes(ctx);
                // The replication connection breaks with the server; the connector resumes from
                // its last flushed position once the server is back.
                self.cdc.crash(&mut ctx.sim, restart_ns, Ev::Cdc);
            }
            (&FaultKind::Crash { restart_ns }, "log", Begin) => {
                self.cdc.crash(&mut ctx.sim, restart_ns, Ev::Cdc);
            }
            (&FaultKind::Crash { restart_ns }, "cache", Begin) => {
                let mut out = std::mem::take(&mut self.cache_out);
                self.cache.crash(&mut ctx.sim, restart_ns, wrap_cache, &mut out);
                self.cache_out = out;
                self.cache_epoch = self.cache_epoch.wrapping_add(1);
                self.topic.rewind();
                self.cache_outcomes(ctx);
            }
            (FaultKind::Crash { .. }, "network", Begin) => {
                self.outage = Some((fault.start_ns, fault.end_ns));
            }
            (FaultKind::Crash { .. }, "network", End) => self.outage = None,
            _ => {}
        }
    }
}

impl ModelKind for Cached {
    const KIND: &'static str = "cached";
    const SUMMARY: &'static str = "a writer INSERTs into Postgres; CDC streams the commits through a topic into a cache of per-entity ring buffers; readers poll the cache, misses go to the store";
    type Config = CachedConfig;
    type Params = CachedParams;

    fn params_doc() -> Vec<ParamDoc> {
        let mut docs = FleetParams::docs("producers");
        docs.extend(LinkParams::docs("network"));
        docs.extend(WriterParams::docs("writer"));
        docs.extend(PostgresParams::docs("store"));
        docs.extend(CdcParams::docs("cdc"));
        docs.extend(TopicParams::docs("topic"));
        docs.extend(CacheParams::docs("cache"));
        docs.extend(PoolParams::docs("pool"));
        docs.extend(ReaderParams::docs("readers"));
        docs
    }

    fn fault_roles() -> &'static [&'static str] {
        &["network", "store", "log", "cache"]
    }

    fn validate(c: CachedConfig, env: &BuildEnv<'_>) -> Result<CachedParams, ConfigError> {
        let producers = c.producers.validate().map_err(|e| e.within("producers"))?;
        let link = c.network.validate(env.loader).map_err(|e| e.within("network"))?;
        if c.network.drop > 0.0 {
            return Err(ConfigError::new(
                "network.drop",
                "must be 0 for the cached kind: its clients do not time out and retry; cut the network with a `network` crash fault instead",
            ));
        }
        let writer = c.writer.validate().map_err(|e| e.within("writer"))?;
        let pg = c.store.validate(env.loader).map_err(|e| e.within("store"))?;
        if c.store.synchronous_commit == SyncCommit::Off {
            return Err(ConfigError::new(
                "store.synchronous_commit",
                "\"off\" is not supported by the cached kind: logical decoding only sends flushed WAL, and this model captures changes at commit; use \"local\" or \"on\"",
            ));
        }
        let cdc = c.cdc.validate(env.loader).map_err(|e| e.within("cdc"))?;
        let topic = c.topic.validate(env.loader).map_err(|e| e.within("topic"))?;
        let cache = c.cache.validate(env.loader).map_err(|e| e.within("cache"))?;
        let pool = c.pool.validate().map_err(|e| e.within("pool"))?;
        let readers = c.readers.validate().map_err(|e| e.within("readers"))?;
        Ok(CachedParams {
            producers,
            network: c.network,
            writer,
            store: c.store,
            cdc: c.cdc,
            topic: c.topic,
            cache: c.cache,
            pool,
            readers,
            specs: Some(Specs { link, pg, cdc, topic, cache }),
        })
    }

    fn build(p: &CachedParams, env: &RunEnv<'_>) -> Self {
        let specs = p.specs.as_ref().expect("validated");
        let s = env.streams;
        let conns = |dir: &str| -> Vec<TcpConn> {
            (0..p.producers.instances)
                .map(|i| {
                    TcpConn::new(Link::new(&specs.link, s.stream(&format!("network/{dir}/{i}"))))
                })
                .collect()
        };
        let zipf = match env.workload.keys.popularity {
            Popularity::Zipf { exponent } => {
                Some(Zipf::new(u64::from(env.workload.keys.count), exponent))
            }
            Popularity::Uniform => None,
        };
        let mut reader_rng = s.stream("readers");
        let readers =
            Readers::new(&p.readers, env.workload.keys.count, zipf.as_ref(), &mut reader_rng);
        let mut distinct = Vec::new();
        let mut offsets = vec![0];
        for r in 0..p.readers.count {
            let start = distinct.len();
            distinct.extend_from_slice(readers.keys(r));
            distinct[start..].sort_unstable();
            let mut unique = start;
            for i in start..distinct.len() {
                if i == start || distinct[i] != distinct[unique - 1] {
                    distinct[unique] = distinct[i];
                    unique += 1;
                }
            }
            distinct.truncate(unique);
            offsets.push(distinct.len());
        }
        // Component statistics cover the measured interval, like the report's.
        let (from, to) = (env.settings.warmup_ns, env.settings.duration_ns);
        let mut store = Postgres::new(
            &specs.pg,
            p.writer.connections,
            s.stream("store"),
            s.stream("store/wal"),
        );
        store.set_window(from, to);
        let mut cdc = Cdc::new(&specs.cdc, s.stream("cdc"));
        cdc.set_window(from, to);
        let mut cache = Cache::new(&specs.cache, s.stream("cache"));
        cache.set_window(from, to);
        let mut topic = Topic::new(&specs.topic, s.stream("topic"));
        topic.set_window(from, to);
        Self {
            params: p.clone(),
            fleet: p.producers.clone(),
            up: conns("up"),
            down: conns("down"),
            reader_up: TcpConn::new(Link::new(&specs.link, s.stream("network/readers/up"))),
            reader_down: TcpConn::new(Link::new(&specs.link, s.stream("network/readers/down"))),
            shards: (0..p.writer.connections).map(|_| Shard::default()).collect(),
            store,
            cdc,
            topic,
            cache,
            cache_epoch: 0,
            pool: Pool::new(p.pool.size),
            readers,
            distinct,
            offsets,
            reader_rng,
            producer_rng: s.stream("producers"),
            pool_rng: s.stream("pool"),
            committed: vec![0; env.workload.keys.count as usize],
            processed: vec![0; p.topic.partitions as usize],
            pg_out: Vec::new(),
            cdc_out: Vec::new(),
            cache_out: Vec::new(),
            outage: None,
            visibility: LatencyHistogram::new(),
            stats: Stats::default(),
            measure: (env.settings.warmup_ns, env.settings.duration_ns),
            payload_bytes: env.workload.payload_bytes,
        }
    }

    fn memory(p: &CachedParams, workload: &WorkloadSpec) -> Vec<crate::MemoryItem> {
        use crate::estimate::{MemoryItem, distinct_keys, lru_item, per_key_item};
        let entities = u64::from(p.cache.entities).min(distinct_keys(workload));
        vec![
            lru_item("cache.entities", p.cache.entities, 1, workload),
            MemoryItem::model(
                "cache.entities",
                format!(
                    "ring state of up to {} entities",
                    pipesim_config::limits::grouped(entities)
                ),
                entities * 4 * 24,
            ),
            per_key_item("the writer's commit positions", 8, workload),
        ]
    }

    fn work(_p: &CachedParams, _workload: &WorkloadSpec) -> crate::Work {
        crate::Work {
            events_per_arrival: 8.5,
            ns_per_event: 400.0,
            in_flight_s: 0.2,
            bytes_in_flight: 300.0,
            fixed_s: 0.0,
        }
    }

    fn warnings(p: &CachedParams, workload: &WorkloadSpec) -> Vec<String> {
        let mut out = Vec::new();
        let Some(specs) = p.specs.as_ref() else { return out };
        let rate = workload.peak_rate_per_s();
        let rho = rate * specs.cdc.mean_decode_ns() / 1e9;
        if rho >= 1.0 {
            out.push(format!(
                "the CDC decoder is saturated: {rate:.0} changes/s at a mean decode of {:.3} ms is a utilisation of {rho:.2} (it tops out at {:.0}/s); the cache falls further behind for as long as the load lasts",
                specs.cdc.mean_decode_ns() / 1e6,
                1e9 / specs.cdc.mean_decode_ns().max(1.0)
            ));
        }
        let threads = p.cache.consumers.min(p.topic.partitions);
        let rho = rate * specs.cache.mean_apply_ns() / 1e9 / f64::from(threads);
        if rho >= 1.0 {
            out.push(format!(
                "the cache's {threads} consumer thread(s) are saturated: utilisation {rho:.2} at {rate:.0} changes/s"
            ));
        }
        if p.pool.leak > 0.0 && p.pool.leak_timeout.ns == 0 && p.readers.count > 0 {
            out.push(
                "pool.leak > 0 with no leak_timeout: leaked connections are never reclaimed, so the pool drains".to_string(),
            );
        }
        out
    }

    fn details(&self, _results: &RunResults) -> Vec<DetailTable> {
        let (from, to) = self.measure;
        let measured = to.saturating_sub(from).max(1) as f64;
        let pg = self.store.stats(to);
        let cores = f64::from(self.params.store.cores);
        let store = DetailTable {
            name: "store",
            columns: vec![
                "commits",
                "reads",
                "wal_flushes",
                "commits_per_flush",
                "cpu_utilisation",
                "failed",
                "writer_retries",
                "leaked_connections",
            ],
            rows: vec![vec![
                Cell::Int(pg.commits),
                Cell::Int(pg.reads),
                Cell::Int(pg.wal.flushes),
                Cell::Fixed(pg.wal.mean_batch(), 3),
                Cell::Fixed(pg.cpu_busy / (cores * measured), 4),
                Cell::Int(pg.failed),
                Cell::Int(self.stats.write_retries),
                Cell::Int(self.stats.leaks),
            ]],
        };
        let c = self.cdc.stats();
        let mean_decode = self.params.specs.as_ref().map_or(0.0, |s| s.cdc.mean_decode_ns());
        let cdc = DetailTable {
            name: "cdc",
            columns: vec![
                "captured",
                "published",
                "replayed",
                "restarts",
                "decode_ms",
                "mean_ms",
                "max_ms",
                "utilisation",
                "capacity_per_s",
                "max_backlog",
            ],
            rows: vec![vec![
                Cell::Int(c.captured),
                Cell::Int(c.published),
                Cell::Int(c.replayed),
                Cell::Int(c.restarts),
                Cell::Fixed(c.mean_decode_ms(), 6),
                Cell::Fixed(c.mean_lag_ms(), 6),
                Cell::Fixed(c.lag_max_ns as f64 / NS_PER_MS as f64, 6),
                Cell::Fixed(c.busy_ns as f64 / measured, 4),
                Cell::Fixed(if mean_decode > 0.0 { 1e9 / mean_decode } else { 0.0 }, 1),
                Cell::Int(c.max_backlog),
            ]],
        };
        let t = self.topic.stats();
        let topic = DetailTable {
            name: "topic",
            columns: vec!["partitions", "published", "delivered", "redelivered", "rewinds"],
            rows: vec![vec![
                Cell::Int(u64::from(self.params.topic.partitions)),
                Cell::Int(t.published),
                Cell::Int(t.delivered),
                Cell::Int(t.delivered.saturating_sub(t.published)),
                Cell::Int(t.rewinds),
            ]],
        };
        let k = self.cache.stats();
        let v = self.visibility.summary();
        let ms = |ns: u64| Cell::Fixed(ns as f64 / NS_PER_MS as f64, 3);
        let cache = DetailTable {
            name: "cache",
            columns: vec![
                "hits",
                "misses",
                "hit_ratio",
                "load_queries",
                "loads",
                "load_rows",
                "appended",
                "repeats",
                "deduplicated",
                "not_held",
                "overwritten",
                "evictions",
                "ring",
                "max_ring_events",
                "entities_held",
                "events_held",
                "max_events_held",
                "max_memory_mb",
                "restarts",
                "reads_ok",
                "failed_reads",
                "visibility_p50_ms",
                "visibility_p99_ms",
                "visibility_p999_ms",
                "visibility_max_ms",
            ],
            rows: vec![vec![
                Cell::Int(k.hits),
                Cell::Int(k.misses),
                Cell::Fixed(k.hit_ratio(), 6),
                Cell::Int(self.stats.loads),
                Cell::Int(k.loads),
                Cell::Int(k.load_rows),
                Cell::Int(k.appended),
                Cell::Int(k.repeats),
                Cell::Int(k.deduplicated),
                Cell::Int(k.not_held),
                Cell::Int(k.overwritten),
                Cell::Int(k.evictions),
                Cell::Int(u64::from(self.params.cache.ring)),
                Cell::Int(u64::from(k.max_ring)),
                Cell::Int(self.cache.entities_held() as u64),
                Cell::Int(self.cache.events_held()),
                Cell::Int(k.max_events),
                Cell::Fixed(k.max_events as f64 * f64::from(self.payload_bytes) / 1e6, 3),
                Cell::Int(k.restarts),
                Cell::Int(self.stats.reads_ok),
                Cell::Int(self.stats.failed_reads),
                ms(v.p50_ns),
                ms(v.p99_ns),
                ms(v.p999_ns),
                ms(v.max_ns),
            ]],
        };
        vec![store, cdc, topic, cache]
    }
}
