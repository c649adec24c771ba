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
//!
//! The files: `config.rs` (the parameters, their validation and documentation), `write.rs` (the
//! writer's connections and the store's outcomes), `stream.rs` (the connector, the topic and what
//! the cache makes visible), `read.rs` (the readers, the cache's answers and its loads through
//! the pool), `faults.rs` (faults by role), `details.rs` (the report's tables) and `estimate.rs`
//! (memory, work and warnings before a run). The client network's connections are
//! `pipesim_components::TcpConn`. This file holds the model's state and events, and its `Model`
//! and `ModelKind` implementations.

mod config;
mod details;
mod estimate;
mod faults;
mod read;
mod stream;
mod write;

pub use config::{CachedConfig, CachedParams, WriterParams};

use crate::ctx::Ctx;
use crate::detail::DetailTable;
use crate::fault::{FaultPhase, FaultSpec};
use crate::model::{BuildEnv, Model, ModelKind, RunEnv};
use pipesim_components::cache::{Cache, CacheEvent, CacheOutcome};
use pipesim_components::cdc::{Cdc, CdcEvent, Published, Topic, TopicEvent};
use pipesim_components::{
    FleetParams, Link, Outbox, PgEvent, PgOutcome, Pool, Postgres, Readers, TcpConn,
};
use pipesim_config::{ConfigError, ParamDoc};
use pipesim_engine::{SimTime, StreamRng, Window};
use pipesim_metrics::{LatencyHistogram, RunResults};
use pipesim_workload::{EventMeta, WorkloadSpec};
use read::distinct_entities;
use write::Shard;

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
    pg_out: Outbox<PgOutcome<StoreJob>>,
    cdc_out: Outbox<Published<EventMeta>>,
    cache_out: Outbox<CacheOutcome<EventMeta, Read>>,
    /// The network outage in progress, if any.
    outage: Option<(SimTime, SimTime)>,
    /// Commit to visible, for events created in the measured interval.
    visibility: LatencyHistogram,
    stats: Stats,
    measure: Window,
    payload_bytes: u32,
}

impl Cached {
    /// 1 inside the measured interval, 0 outside: the details tables cover the measured
    /// interval, as the report's other statistics do.
    #[inline]
    fn counting(&self, now: SimTime) -> u64 {
        self.measure.count(now)
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
            Ev::AtWriter(w) => self.at_writer(ctx, w),
            Ev::Store(e) => {
                self.store.handle(&mut ctx.sim, e, wrap_store, self.pg_out.sink());
                self.store_outcomes(ctx);
            }
            Ev::Acked(ev) => ctx.rec.acked(&ev, ctx.now()),
            Ev::RetryShard(shard) => self.submit_head(ctx, shard),
            Ev::Cdc(e) => {
                self.cdc.handle(&mut ctx.sim, e, Ev::Cdc, self.cdc_out.sink());
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
                self.cache.handle(&mut ctx.sim, e, wrap_cache, self.cache_out.sink());
                self.cache_outcomes(ctx);
            }
            Ev::Shown(ev, committed_ns, first, times) => {
                self.show(ctx, ev, committed_ns, first, times)
            }
            Ev::Poll(reader) => self.poll_due(ctx, reader),
            Ev::AtCache(read) => self.at_cache(ctx, read),
            Ev::Answer(read, ok) => self.answered(ctx, read, ok),
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
        self.fault(ctx, fault, phase);
    }
}

impl ModelKind for Cached {
    const KIND: &'static str = "cached";
    const SUMMARY: &'static str = "a writer INSERTs into Postgres; CDC streams the commits through a topic into a cache of per-entity ring buffers; readers poll the cache, misses go to the store";
    type Config = CachedConfig;
    type Params = CachedParams;

    fn params_doc() -> Vec<ParamDoc> {
        config::params_doc()
    }

    fn fault_roles() -> &'static [&'static str] {
        &["network", "store", "log", "cache"]
    }

    fn crash_scopes(role: &str) -> &'static [pipesim_components::CrashScope] {
        crate::store_faults::postgres_crash_scopes(role)
    }

    fn validate(c: CachedConfig, env: &BuildEnv<'_>) -> Result<CachedParams, ConfigError> {
        config::validate(c, env)
    }

    fn build(p: &CachedParams, env: &RunEnv<'_>) -> Self {
        let specs = &p.specs;
        let s = env.streams;
        let conns = |dir: &str| -> Vec<TcpConn> {
            (0..p.producers.instances)
                .map(|i| {
                    TcpConn::new(Link::new(&specs.link, s.stream(&format!("network/{dir}/{i}"))))
                })
                .collect()
        };
        let (readers, reader_rng) = env.readers(&p.readers);
        let (distinct, offsets) = distinct_entities(&readers, p.readers.count);
        // Component statistics cover the measured interval, like the report's.
        let window = env.settings.measured();
        let mut store = Postgres::new(
            &specs.pg,
            p.writer.connections,
            s.stream("store"),
            s.stream("store/wal"),
        );
        store.set_window(window);
        let mut cdc = Cdc::new(&specs.cdc, s.stream("cdc"));
        cdc.set_window(window);
        let mut cache = Cache::new(&specs.cache, s.stream("cache"));
        cache.set_window(window);
        let mut topic = Topic::new(&specs.topic, s.stream("topic"));
        topic.set_window(window);
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
            pg_out: Outbox::default(),
            cdc_out: Outbox::default(),
            cache_out: Outbox::default(),
            outage: None,
            visibility: LatencyHistogram::new(),
            stats: Stats::default(),
            measure: env.settings.measured(),
            payload_bytes: env.workload.payload_bytes,
        }
    }

    fn memory(p: &CachedParams, workload: &WorkloadSpec) -> Vec<crate::MemoryItem> {
        estimate::memory(p, workload)
    }

    fn work(p: &CachedParams, workload: &WorkloadSpec) -> crate::Work {
        estimate::work(p, workload)
    }

    fn warnings(p: &CachedParams, workload: &WorkloadSpec) -> Vec<String> {
        estimate::warnings(p, workload)
    }

    fn details(&self, _results: &RunResults) -> Vec<DetailTable> {
        self.detail_tables()
    }
}
