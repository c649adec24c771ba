//! `lua_ordered`: seed 000's two-tier design. A producer-local LRU, then a Redis Cluster shard
//! running the Lua compare-and-append guard, then Postgres behind, written asynchronously.
//!
//! Each event leaves from some producer instance (by default any instance: app servers behind a
//! load balancer), so two events of one key can race over different connections and reach
//! their Redis shard out of order. The shard runs the guard, one script at a time (a shard is a
//! single thread, each call `redis.script` long):
//!
//! ```lua
//! local last = redis.call('GET', KEYS[1])
//! if not last or tonumber(ARGV[1]) > tonumber(last) then
//!   redis.call('SET', KEYS[1], ARGV[1]); redis.call('LPUSH', KEYS[2], ARGV[2])
//! end
//! ```
//!
//! An event newer than the key's last one is appended (visible to readers of the Redis list);
//! an older one is discarded. Order is kept by dropping: every discarded event is counted as
//! `dropped` with the guard as its reason — never as an ordering violation, never as a
//! duplicate — so the claim "duplicates dropped to zero" is shown with its price.
//!
//! What the guard compares is `guard.value` (guard.rs): the generator's sequence number, an
//! ideal under which the guard cannot be wrong, or the producer's clock, under which it drops
//! valid events from clocks behind and accepts late ones from clocks ahead.
//!
//! The producer's local LRU remembers, per key, the newest sequence number that instance has
//! sent; a retry or a stale event older than that is dropped locally and never costs a script.
//! A write-behind writer per shard flushes the appended events to Postgres every
//! `writeback.interval` as one multi-row transaction, which is why Postgres sees a few thousand
//! transactions per second instead of one per event.

mod guard;

pub use guard::{GuardParams, GuardValue};

use crate::clients::{Clients, Request};
use crate::ctx::Ctx;
use crate::detail::DetailTable;
use crate::fault::{FaultPhase, FaultSpec};
use crate::kinds::lua_ordered::guard::ProducerClocks;
use crate::model::{BuildEnv, Model, ModelKind, RunEnv};
use crate::store_faults::{
    Frozen, StoreStep, on_postgres_fault, postgres_crash_scopes, postgres_fault_kinds,
};
use crate::store_table::{StoreSnapshot, store_table};
use pipesim_components::{
    Affinity, CrashScope, FleetParams, LinkParams, LinkSpec, Lru, Outbox, PgEvent, PgOutcome,
    Postgres, PostgresParams, PostgresSpec, RedisCluster, RedisParams, RedisSpec, RetryParams, Txn,
};
use pipesim_config::{ConfigError, Duration, Loader, ParamDoc, Section};
use pipesim_engine::{NS_PER_MS, RngStreams, SimTime, Window};
use pipesim_metrics::{ReasonId, RunResults};
use pipesim_workload::{EventMeta, WorkloadSpec};
use serde::{Deserialize, Serialize};

/// The producer-local LRU (`[model.lru]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LruParams {
    /// Keys each producer instance remembers.
    pub capacity: u32,
}

impl Default for LruParams {
    fn default() -> Self {
        Self { capacity: 10_000 }
    }
}

impl Section for LruParams {
    type Valid = ();
    type Choice = ();

    fn docs(name: &str, (): ()) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new(
                "capacity",
                "integer >= 1",
                "10000",
                "keys each producer instance remembers (seed 000: 10,000 events)",
            )
            .under(name),
        ]
    }

    fn check(&self, _: &dyn Loader, (): ()) -> Result<(), ConfigError> {
        if self.capacity == 0 {
            return Err(ConfigError::new("capacity", "must be at least 1"));
        }
        use pipesim_config::limits::{ENTRIES, at_most};
        at_most("capacity", u64::from(self.capacity), &ENTRIES)
    }
}

/// The write-behind writer to Postgres (`[model.writeback]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WritebackParams {
    /// How often each shard's writer flushes what it has appended since.
    pub interval: Duration,
    /// Most rows in one transaction.
    pub batch_max: u32,
}

impl Default for WritebackParams {
    fn default() -> Self {
        Self { interval: Duration { ns: 10 * NS_PER_MS }, batch_max: 10_000 }
    }
}

impl WritebackParams {
    /// The documentation of `[model.writeback]`, under `prefix`. `validate` checks the table,
    /// its limit before the Redis tables and the rest after them.
    fn docs(prefix: &str) -> Vec<ParamDoc> {
        [
            ParamDoc::new(
                "interval",
                "duration",
                "\"10ms\"",
                "how often each shard's writer flushes its appended events to Postgres",
            ),
            ParamDoc::new(
                "batch_max",
                "integer >= 1",
                "10000",
                "most rows in one write-behind transaction",
            ),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

pipesim_config::sections! {
    /// The model table as written.
    pub struct LuaConfig {
        producers: FleetParams [Affinity::Random],
        network: LinkParams,
        lru: LruParams,
        redis: RedisParams,
        guard: GuardParams,
        writeback: WritebackParams => WritebackParams::docs,
        store: PostgresParams,
        client: RetryParams,
    }
}

/// Validated parameters.
#[derive(Clone, Serialize)]
pub struct LuaParams {
    producers: FleetParams,
    network: LinkParams,
    lru: LruParams,
    redis: RedisParams,
    guard: GuardParams,
    writeback: WritebackParams,
    store: PostgresParams,
    client: RetryParams,
    #[serde(skip)]
    link: LinkSpec,
    #[serde(skip)]
    redis_spec: RedisSpec,
    #[serde(skip)]
    pg: PostgresSpec,
}

/// The model's events.
#[derive(Clone, Copy, Debug)]
pub enum Ev {
    /// An event reached its Redis shard.
    AtRedis(Request),
    /// A shard finished a script.
    Redis(u16, Request),
    /// A write's answer reached its producer.
    Answer(Request, bool),
    /// The earliest producer timeout is due.
    TimeoutCheck,
    /// A retry's backoff is over.
    Retry(Request),
    /// The write-behind writers' timer.
    Writeback,
    /// Postgres's own events; the job is the shard whose batch it is.
    Store(PgEvent<u32>),
}

/// One shard's write-behind state.
#[derive(Clone, Copy, Debug, Default)]
struct Writer {
    /// Rows and bytes appended since the last flush started.
    rows: u32,
    bytes: u64,
    /// A transaction of this shard is running.
    busy: bool,
    /// Rows in the running transaction.
    in_flight_rows: u32,
}

/// The running design.
pub struct LuaOrdered {
    params: LuaParams,
    clients: Clients,
    lrus: Vec<Lru>,
    redis: RedisCluster<Request>,
    /// Per key, the guard's value ([`ProducerClocks::stamp`]) of the last event it appended
    /// (0: none).
    last_appended: Vec<u64>,
    clocks: ProducerClocks,
    writers: Vec<Writer>,
    store: Postgres<u32>,
    out: Outbox<PgOutcome<u32>>,
    guard_drop: ReasonId,
    lru_drop: ReasonId,
    stats: LuaStats,
    measure: Window,
    streams: RngStreams,
    frozen: Frozen<Ev>,
}

#[derive(Clone, Copy, Debug, Default)]
struct LuaStats {
    scripts: u64,
    appended: u64,
    guard_drops: u64,
    lru_drops: u64,
    writeback_rows: u64,
    writeback_failed_rows: u64,
}

impl LuaOrdered {
    /// Sends an attempt, unless this producer already sent a newer event of the key.
    fn send(&mut self, ctx: &mut Ctx<Ev>, req: Request) {
        let lru = &mut self.lrus[req.instance as usize];
        let next = req.ev.seq + 1;
        match lru.get_or_insert(req.ev.key, next) {
            Some(sent) if sent > next => {
                self.stats.lru_drops += 1;
                ctx.rec.dropped(&req.ev, ctx.now(), self.lru_drop);
                return;
            }
            Some(sent) if sent < next => lru.set(req.ev.key, next),
            _ => {}
        }
        self.clients.send(ctx, req, Ev::AtRedis, Ev::TimeoutCheck);
    }

    /// Flushes each idle shard writer's appended rows as one transaction.
    fn writeback(&mut self, ctx: &mut Ctx<Ev>) {
        let batch_max = self.params.writeback.batch_max;
        for shard in 0..self.writers.len() {
            let w = &mut self.writers[shard];
            if w.busy || w.rows == 0 {
                continue;
            }
            let rows = w.rows.min(batch_max);
            let bytes = w.bytes * u64::from(rows) / u64::from(w.rows);
            w.rows -= rows;
            w.bytes -= bytes;
            w.busy = true;
            w.in_flight_rows = rows;
            // The table behind is partitioned like the slots: each shard's writer has its own
            // index page, so writers do not serialise on one latch.
            let txn = Txn { job: shard as u32, rows, bytes, write: true, page: shard as u32 };
            if !self.store.submit(&mut ctx.sim, txn, Ev::Store) {
                self.writer_done(shard as u32, false, ctx.now());
            }
        }
    }

    fn writer_done(&mut self, shard: u32, committed: bool, now: SimTime) {
        let measured = self.measure.contains(now);
        let w = &mut self.writers[shard as usize];
        w.busy = false;
        if committed {
            self.stats.writeback_rows += u64::from(measured) * u64::from(w.in_flight_rows);
        } else {
            // Put the rows back: they are retried at the next flush.
            self.stats.writeback_failed_rows += u64::from(measured) * u64::from(w.in_flight_rows);
            w.rows += w.in_flight_rows;
        }
        w.in_flight_rows = 0;
    }

    fn outcomes(&mut self, now: SimTime) {
        while let Some(outcome) = self.out.take_next() {
            match outcome {
                PgOutcome::Committed(shard) => self.writer_done(shard, true, now),
                PgOutcome::Failed(shard) => self.writer_done(shard, false, now),
                PgOutcome::RolledBack(_)
                | PgOutcome::Recovered(_)
                | PgOutcome::Durable(_)
                | PgOutcome::Read(_) => {}
            }
        }
    }
}

impl Model for LuaOrdered {
    type Event = Ev;

    fn init(&mut self, ctx: &mut Ctx<Ev>) {
        self.clients.init(ctx);
        self.guard_drop = ctx.rec.register_reason(if self.clocks.by_clock() {
            "Lua guard: the key's last append has the same or a later client clock stamp"
        } else {
            "Lua guard: the key already has a newer event appended"
        });
        self.lru_drop = ctx
            .rec
            .register_reason("producer LRU: this instance already sent a newer event of the key");
        self.store.start(&mut ctx.sim, Ev::Store);
        ctx.schedule_in(self.params.writeback.interval.ns, Ev::Writeback);
    }

    #[inline]
    fn prefetch(&mut self, ev: &EventMeta) {
        // The arrival looks the key up in its producer's LRU; its script, later, reads the
        // guard's last append.
        let instance = self.clients.next_instance(ev.key);
        self.lrus[instance as usize].prefetch(ev.key);
        pipesim_engine::prefetch(&self.last_appended, ev.key as usize);
    }

    #[inline]
    fn on_arrival(&mut self, ctx: &mut Ctx<Ev>, ev: EventMeta) {
        let req = self.clients.first(ev, ctx.now());
        self.send(ctx, req);
    }

    #[inline]
    fn on_event(&mut self, ctx: &mut Ctx<Ev>, event: Ev) {
        if self.frozen.on() && matches!(event, Ev::Store(_)) {
            // Postgres is paused: its work completes afterwards; Redis goes on.
            self.frozen.hold(event);
            return;
        }
        match event {
            Ev::AtRedis(req) => {
                self.stats.scripts += 1;
                self.redis.script(&mut ctx.sim, req.ev.key, req, Ev::Redis);
            }
            Ev::Redis(shard, req) => {
                self.redis.complete(&mut ctx.sim, shard, Ev::Redis);
                let value = self.clocks.stamp(&req);
                let last = &mut self.last_appended[req.ev.key as usize];
                if value > *last {
                    *last = value;
                    self.stats.appended += 1;
                    ctx.rec.visible(&req.ev, ctx.now());
                    let w = &mut self.writers[shard as usize];
                    w.rows += 1;
                    w.bytes += u64::from(req.ev.size_bytes);
                } else {
                    self.stats.guard_drops += 1;
                    ctx.rec.dropped(&req.ev, ctx.now(), self.guard_drop);
                }
                // The script returned normally either way: the producer is answered.
                self.clients.answer(ctx, req, true, Ev::Answer);
            }
            Ev::Answer(req, ok) => {
                self.clients.on_answer(ctx, req, ok, Ev::Retry);
            }
            Ev::TimeoutCheck => self.clients.on_timeout_check(ctx, Ev::TimeoutCheck, Ev::Retry),
            Ev::Retry(req) => self.send(ctx, req),
            Ev::Writeback => {
                self.writeback(ctx);
                ctx.schedule_in(self.params.writeback.interval.ns, Ev::Writeback);
            }
            Ev::Store(e) => {
                self.store.handle(&mut ctx.sim, e, Ev::Store, self.out.sink());
                self.outcomes(ctx.now());
            }
        }
    }

    fn on_fault(&mut self, ctx: &mut Ctx<Ev>, fault: &FaultSpec, phase: FaultPhase) {
        if fault.role == "producer" {
            match phase {
                FaultPhase::Begin => self.clocks.skew_begins(fault),
                FaultPhase::End => self.clocks.skew_ends(fault),
            }
            return;
        }
        if fault.role != "store" {
            return; // network faults act on the clients' links, which took them at build
        }
        // Postgres is behind Redis: readers do not notice; the write-behind rows wait.
        let step =
            on_postgres_fault(&mut self.store, &mut self.frozen, fault, phase, &self.streams);
        match step {
            StoreStep::Crash(restart_ns, scope) => {
                self.store.crash(&mut ctx.sim, restart_ns, scope, Ev::Store, self.out.sink());
                self.outcomes(ctx.now());
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

impl ModelKind for LuaOrdered {
    const KIND: &'static str = "lua_ordered";
    const SUMMARY: &'static str = "producer-local LRU, then a Redis Cluster shard running a Lua compare-and-append guard, then Postgres written behind";
    type Config = LuaConfig;
    type Params = LuaParams;

    fn params_doc() -> Vec<ParamDoc> {
        LuaConfig::section_docs()
    }

    fn fault_roles() -> &'static [&'static str] {
        &["store", "network", "producer"]
    }

    fn fault_kinds(role: &str) -> &'static [&'static str] {
        match role {
            // The producers' clocks: what they stamp for the guard (guard.rs).
            "producer" => &["clock_skew"],
            _ => postgres_fault_kinds(role),
        }
    }

    fn crash_scopes(role: &str) -> &'static [CrashScope] {
        postgres_crash_scopes(role)
    }

    fn validate(c: LuaConfig, env: &BuildEnv<'_>) -> Result<LuaParams, ConfigError> {
        let producers = c.producers(env.loader)?;
        let link = c.network(env.loader)?;
        c.lru(env.loader)?;
        use pipesim_config::limits::{BATCH, at_most};
        at_most("writeback.batch_max", u64::from(c.writeback.batch_max), &BATCH)?;
        let redis_spec = c.redis(env.loader)?;
        c.guard(env.loader)?;
        if c.writeback.interval.ns == 0 {
            return Err(ConfigError::new("writeback.interval", "must be greater than zero"));
        }
        if c.writeback.batch_max == 0 {
            return Err(ConfigError::new("writeback.batch_max", "must be at least 1"));
        }
        let pg = c.store(env.loader)?;
        let client = c.client(env.loader)?;
        Ok(LuaParams {
            producers,
            network: c.network,
            lru: c.lru,
            redis: c.redis,
            guard: c.guard,
            writeback: c.writeback,
            store: c.store,
            client,
            link,
            redis_spec,
            pg,
        })
    }

    fn build(p: &LuaParams, env: &RunEnv<'_>) -> Self {
        let s = env.streams;
        Self {
            params: p.clone(),
            streams: *s,
            frozen: Frozen::default(),
            clients: Clients::new(&p.producers, &p.client, &p.link, s, env.faults),
            lrus: (0..p.producers.instances).map(|_| Lru::new(p.lru.capacity as usize)).collect(),
            redis: {
                let mut redis = RedisCluster::new(&p.redis_spec, s.stream("redis"));
                redis.set_window(env.settings.measured());
                redis
            },
            last_appended: vec![0; env.workload.keys.count as usize],
            clocks: ProducerClocks::new(&p.guard, p.producers.instances),
            writers: vec![Writer::default(); p.redis.shards as usize],
            store: {
                let pg = &p.pg;
                let mut store =
                    Postgres::new(pg, p.redis.shards, s.stream("store"), s.stream("store/wal"));
                store.set_window(env.settings.measured());
                store
            },
            out: Outbox::default(),
            guard_drop: ReasonId::UNSET,
            lru_drop: ReasonId::UNSET,
            stats: LuaStats::default(),
            measure: env.settings.measured(),
        }
    }

    fn memory(p: &LuaParams, workload: &WorkloadSpec) -> Vec<crate::MemoryItem> {
        use crate::estimate::{lru_item, per_key_item};
        vec![
            lru_item("lru.capacity", p.lru.capacity, p.producers.instances, workload),
            per_key_item("the guard's last append", 8, workload),
        ]
    }

    fn work(_p: &LuaParams, _workload: &WorkloadSpec) -> crate::Work {
        crate::Work {
            events_per_arrival: 4.1,
            ns_per_event: 250.0,
            in_flight_s: 0.05,
            bytes_in_flight: 300.0,
            fixed_s: 0.0,
        }
    }

    fn warnings(p: &LuaParams, workload: &WorkloadSpec) -> Vec<String> {
        let spec = &p.redis_spec;
        let per_shard = workload.peak_rate_per_s() / f64::from(p.redis.shards);
        let capacity = 1e9 / spec.script_mean_ns();
        let rho = per_shard / capacity;
        if rho >= 1.0 {
            vec![format!(
                "redis: {:.0} scripts/s per shard at the peak rate against a capacity of {:.0}/s (one script every {:.0} us): utilisation {:.3} >= 1, even before hot keys",
                per_shard,
                capacity,
                spec.script_mean_ns() / 1e3,
                rho
            )]
        } else {
            Vec::new()
        }
    }

    fn details(&self, _results: &RunResults) -> Vec<DetailTable> {
        let end = self.measure.to_ns;
        let measured_ns = self.measure.len_ns().max(1) as f64;
        let seconds = measured_ns / 1e9;
        let shards = self.redis.stats(end);
        let busy: Vec<f64> = shards.iter().map(|s| s.busy_area / measured_ns).collect();
        let mean_util = busy.iter().sum::<f64>() / busy.len().max(1) as f64;
        let max_util = busy.iter().copied().fold(0.0, f64::max);
        let max_queue = shards.iter().map(|s| s.max_queue).max().unwrap_or(0);
        let pg = self.store.stats(end);
        let snapshot = StoreSnapshot {
            stats: pg,
            cores: self.params.store.cores,
            retries: self.clients.stats.retries,
            timeouts: self.clients.stats.timeouts,
            leaks: 0,
        };
        let lru_hits: u64 = self.lrus.iter().map(|l| l.hits).sum();
        let lru_lookups: u64 = self.lrus.iter().map(|l| l.hits + l.misses).sum();
        vec![
            DetailTable::named("redis").with_row(|r| {
                r.int("shards", u64::from(self.params.redis.shards))
                    .int("scripts", self.stats.scripts)
                    .int("appended", self.stats.appended)
                    .int("guard_drops", self.stats.guard_drops)
                    .int("lru_drops", self.stats.lru_drops)
                    .fixed(
                        "lru_hit_ratio",
                        if lru_lookups == 0 { 0.0 } else { lru_hits as f64 / lru_lookups as f64 },
                        6,
                    )
                    .fixed("mean_shard_utilisation", mean_util, 6)
                    .fixed("max_shard_utilisation", max_util, 6)
                    .int("max_shard_queue", max_queue);
            }),
            DetailTable::named("writeback").with_row(|r| {
                r.int("rows_written", self.stats.writeback_rows)
                    .fixed("rows_per_s", self.stats.writeback_rows as f64 / seconds, 3)
                    .fixed("transactions_per_s", pg.commits as f64 / seconds, 3)
                    .int("failed_rows", self.stats.writeback_failed_rows)
                    .int(
                        "rows_waiting_at_end",
                        self.writers.iter().map(|w| u64::from(w.rows + w.in_flight_rows)).sum(),
                    );
            }),
            store_table(&snapshot, self.measure),
        ]
    }
}
