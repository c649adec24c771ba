//! `sharded`: a router hashes each event's key to one of N Postgres shards; the strategy can be
//! swapped at a chosen time.
//!
//! Producers send events to a router service. The router hashes the key to a shard and queues
//! the event there; each shard has its own writers (one by default), each taking up to
//! `batch_max` queued events as one multi-row transaction. Shards are tables spread over
//! `instances` Postgres servers: each shard has its own index (its own hot page, so the index
//! latch no longer serialises everything), while the shards on one server share its CPU and its
//! WAL. With one writer per shard and every event of a key on one shard, per-key order holds.
//!
//! A strategy switch (`[model.switch]`) changes the hash at a point in time, as seed 000's
//! hot-swappable sharding service did. Events of a key already queued on the old shard and
//! events of the same key sent to the new shard commit independently: whichever shard is less
//! loaded shows its events first, and per-key order breaks.

use crate::clients::{Clients, Request};
use crate::ctx::Ctx;
use crate::detail::DetailTable;
use crate::fault::{FaultKind, FaultPhase, FaultSpec, RoleNodes};
use crate::model::{BuildEnv, Model, ModelKind, RunEnv};
use crate::store_faults::{Frozen, postgres_crash_scopes, postgres_fault_kinds, wal_stall};
use crate::store_table::{StoreSnapshot, store_table};
use pipesim_components::{
    Affinity, CrashScope, FleetParams, LinkParams, LinkSpec, Outbox, PgEvent, PgOutcome, PgStats,
    Postgres, PostgresParams, PostgresSpec, RetryParams, Txn,
};
use pipesim_config::{ConfigError, Duration, Loader, ParamDoc, Section};
use pipesim_engine::{RngStreams, SimTime, Window};
use pipesim_metrics::RunResults;
use pipesim_workload::{EventMeta, WorkloadSpec};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How the router maps keys to shards.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RouterParams {
    /// Shards (tables) the keys are hashed over.
    pub shards: u32,
    /// Postgres servers the shards live on (shard i on server i mod instances).
    pub instances: u32,
    /// Writer connections per shard; more than one lets a shard commit a key's events out of
    /// order.
    pub writers_per_shard: u32,
    /// Most events a writer puts in one transaction.
    pub batch_max: u32,
    /// Seed of the key hash (the "strategy").
    pub hash_seed: u64,
}

impl Default for RouterParams {
    fn default() -> Self {
        Self { shards: 1024, instances: 1, writers_per_shard: 1, batch_max: 100, hash_seed: 0 }
    }
}

/// A change of sharding strategy at a point in time.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchParams {
    /// When the router starts using the new strategy.
    pub at: Duration,
    /// Shards under the new strategy (default: the same number).
    #[serde(default)]
    pub shards: Option<u32>,
    /// Hash seed of the new strategy (default: the old seed + 1, a different hash).
    #[serde(default)]
    pub hash_seed: Option<u64>,
}

impl Section for RouterParams {
    type Valid = ();
    type Choice = ();

    fn docs(name: &str, (): ()) -> Vec<ParamDoc> {
        [
            ParamDoc::new("shards", "integer >= 1", "1024", "shards (tables) keys are hashed over (seed 000: 1024)"),
            ParamDoc::new("instances", "integer >= 1", "1", "Postgres servers the shards live on; shards on one server share its CPU and WAL"),
            ParamDoc::new(
                "writers_per_shard",
                "integer >= 1",
                "1",
                "writer connections per shard; above 1 a shard may commit a key's events out of order",
            ),
            ParamDoc::new("batch_max", "integer >= 1", "100", "most queued events a writer puts in one transaction"),
            ParamDoc::new("hash_seed", "integer", "0", "seed of the key hash: the sharding strategy"),
        ]
        .into_iter()
        .map(|d| d.under(name))
        .collect()
    }

    /// Every count at least 1 and within pipesim's limits.
    fn check(&self, _: &dyn Loader, (): ()) -> Result<(), ConfigError> {
        for (field, value) in [
            ("shards", self.shards),
            ("instances", self.instances),
            ("writers_per_shard", self.writers_per_shard),
            ("batch_max", self.batch_max),
        ] {
            if value == 0 {
                return Err(ConfigError::new(field, "must be at least 1"));
            }
        }
        use pipesim_config::limits::{BATCH, BROKERS, PARTITIONS, WORKERS, at_most};
        at_most("shards", u64::from(self.shards), &PARTITIONS)?;
        at_most("instances", u64::from(self.instances), &BROKERS)?;
        at_most("writers_per_shard", u64::from(self.writers_per_shard), &WORKERS)?;
        at_most("batch_max", u64::from(self.batch_max), &BATCH)
    }
}

impl SwitchParams {
    /// The documentation of `[model.switch]`, under `prefix`. `validate` checks the table,
    /// against the workload's duration.
    fn docs(prefix: &str) -> Vec<ParamDoc> {
        [
            ParamDoc::new(
                "at",
                "duration",
                "no switch",
                "when the router changes strategy ([model.switch] is optional)",
            ),
            ParamDoc::new(
                "shards",
                "integer >= 1",
                "router.shards",
                "shards under the new strategy",
            ),
            ParamDoc::new(
                "hash_seed",
                "integer",
                "router.hash_seed + 1",
                "hash seed of the new strategy",
            ),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

pipesim_config::sections! {
    /// The model table as written.
    #[derive(Default)]
    pub struct ShardedConfig {
        producers: FleetParams [Affinity::Key],
        network: LinkParams,
        router: RouterParams,
        switch: Option<SwitchParams> => SwitchParams::docs,
        store: PostgresParams,
        client: RetryParams,
    }
}

/// Validated parameters.
#[derive(Clone, Serialize)]
pub struct ShardedParams {
    producers: FleetParams,
    network: LinkParams,
    router: RouterParams,
    switch: Option<SwitchParams>,
    store: PostgresParams,
    client: RetryParams,
    #[serde(skip)]
    link: LinkSpec,
    #[serde(skip)]
    pg: PostgresSpec,
}

/// A transaction a writer runs: a batch in the slab.
#[derive(Clone, Copy, Debug)]
pub struct Batch {
    shard: u32,
    slot: u32,
}

/// The model's events.
#[derive(Clone, Copy, Debug)]
pub enum Ev {
    /// An event reached the router.
    AtRouter(Request),
    /// A Postgres server's own events.
    Store(u32, PgEvent<Batch>),
    /// A write's answer reached its producer.
    Answer(Request, bool),
    /// The earliest producer timeout is due.
    TimeoutCheck,
    /// A retry's backoff is over.
    Retry(Request),
}

struct Shard {
    queue: VecDeque<Request>,
    idle_writers: u32,
    max_queue: u64,
}

/// The running design.
pub struct Sharded {
    params: ShardedParams,
    clients: Clients,
    shards: Vec<Shard>,
    stores: Vec<Postgres<Batch>>,
    /// Requests of each batch in flight, indexed by slot; freed slots are reused.
    batches: Vec<Vec<Request>>,
    free_slots: Vec<u32>,
    out: Outbox<PgOutcome<Batch>>,
    /// The shards whose batches an outcome finished, pumped once the outcomes are handled.
    touched: Vec<u32>,
    switch_at: SimTime,
    /// Under `synchronous_commit = "off"` a committed batch is kept until it is durable.
    async_commit: bool,
    batches_run: u64,
    rows_run: u64,
    measure: Window,
    streams: RngStreams,
    frozen: Frozen<Ev>,
    /// Which servers each store fault hits.
    store_nodes: RoleNodes,
}

/// A 64-bit mix of the key and the strategy's seed (SplitMix64's finaliser).
fn mix(key: u32, seed: u64) -> u64 {
    let mut z = u64::from(key) ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Sharded {
    /// The shard of `key` at `now`, under the strategy in force.
    #[inline]
    fn shard_of(&self, key: u32, now: SimTime) -> u32 {
        let r = &self.params.router;
        let (shards, seed) = match &self.params.switch {
            Some(s) if now >= self.switch_at => {
                (s.shards.unwrap_or(r.shards), s.hash_seed.unwrap_or(r.hash_seed.wrapping_add(1)))
            }
            _ => (r.shards, r.hash_seed),
        };
        (mix(key, seed) % u64::from(shards)) as u32
    }

    /// Starts a transaction on `shard` if it has an idle writer and queued events.
    fn pump(&mut self, ctx: &mut Ctx<Ev>, shard: u32) {
        let instances = self.params.router.instances;
        loop {
            let s = &mut self.shards[shard as usize];
            if s.idle_writers == 0 || s.queue.is_empty() {
                return;
            }
            s.idle_writers -= 1;
            let slot = self.free_slots.pop().unwrap_or_else(|| {
                self.batches.push(Vec::new());
                self.batches.len() as u32 - 1
            });
            let take = (self.params.router.batch_max as usize).min(s.queue.len());
            let batch = &mut self.batches[slot as usize];
            batch.extend(s.queue.drain(..take));
            let bytes = batch.iter().map(|r| u64::from(r.ev.size_bytes)).sum();
            let rows = batch.len() as u32;
            self.batches_run += 1;
            self.rows_run += u64::from(rows);
            let (instance, page) = (shard % instances, shard / instances);
            let txn = Txn { job: Batch { shard, slot }, rows, bytes, write: true, page };
            if !self.stores[instance as usize].submit(&mut ctx.sim, txn, |e| Ev::Store(instance, e))
            {
                // The server is down: the transaction fails at once.
                self.finish(ctx, Batch { shard, slot }, false);
            }
        }
    }

    /// A batch committed (or failed): its events are visible (or not) and their producers
    /// answered; the writer is free again. The batch's events are kept until the commit is
    /// durable (at once, except under asynchronous commit), so a crash can still roll it back.
    fn finish(&mut self, ctx: &mut Ctx<Ev>, batch: Batch, committed: bool) {
        let reqs = std::mem::take(&mut self.batches[batch.slot as usize]);
        for req in &reqs {
            if committed {
                ctx.rec.visible(&req.ev, ctx.now());
            }
            self.clients.answer(ctx, *req, committed, Ev::Answer);
        }
        self.batches[batch.slot as usize] = reqs;
        if !committed || !self.async_commit {
            self.free(batch);
        }
        self.shards[batch.shard as usize].idle_writers += 1;
    }

    /// Forgets a batch's events and reuses its slot.
    fn free(&mut self, batch: Batch) {
        self.batches[batch.slot as usize].clear();
        self.free_slots.push(batch.slot);
    }

    fn outcomes(&mut self, ctx: &mut Ctx<Ev>) {
        while let Some(outcome) = self.out.take_next() {
            match outcome {
                PgOutcome::Committed(b) => {
                    self.finish(ctx, b, true);
                    self.touched.push(b.shard);
                }
                PgOutcome::Failed(b) => {
                    self.finish(ctx, b, false);
                    self.touched.push(b.shard);
                }
                PgOutcome::RolledBack(b) => {
                    for req in &self.batches[b.slot as usize] {
                        ctx.rec.retracted(&req.ev, ctx.now());
                    }
                    self.free(b);
                }
                PgOutcome::Durable(b) => self.free(b),
                PgOutcome::Recovered(b) => {
                    for req in &self.batches[b.slot as usize] {
                        ctx.rec.visible(&req.ev, ctx.now());
                    }
                }
                PgOutcome::Read(_) => {}
            }
        }
        for i in 0..self.touched.len() {
            let shard = self.touched[i];
            self.pump(ctx, shard);
        }
        self.touched.clear();
    }
}

impl Model for Sharded {
    type Event = Ev;

    fn init(&mut self, ctx: &mut Ctx<Ev>) {
        self.clients.init(ctx);
        for (i, store) in self.stores.iter_mut().enumerate() {
            store.start(&mut ctx.sim, |e| Ev::Store(i as u32, e));
        }
    }

    #[inline]
    fn on_arrival(&mut self, ctx: &mut Ctx<Ev>, ev: EventMeta) {
        let req = self.clients.first(ev, ctx.now());
        self.clients.send(ctx, req, Ev::AtRouter, Ev::TimeoutCheck);
    }

    fn on_event(&mut self, ctx: &mut Ctx<Ev>, event: Ev) {
        if self.frozen.on() && matches!(event, Ev::Store(..)) {
            // The database servers are paused: their work completes afterwards.
            self.frozen.hold(event);
            return;
        }
        match event {
            Ev::AtRouter(req) => {
                let shard = self.shard_of(req.ev.key, ctx.now());
                let s = &mut self.shards[shard as usize];
                s.queue.push_back(req);
                s.max_queue = s.max_queue.max(s.queue.len() as u64);
                self.pump(ctx, shard);
            }
            Ev::Store(instance, e) => {
                self.stores[instance as usize].handle(
                    &mut ctx.sim,
                    e,
                    move |e| Ev::Store(instance, e),
                    self.out.sink(),
                );
                self.outcomes(ctx);
            }
            Ev::Answer(req, ok) => {
                self.clients.on_answer(ctx, req, ok, Ev::Retry);
            }
            Ev::TimeoutCheck => self.clients.on_timeout_check(ctx, Ev::TimeoutCheck, Ev::Retry),
            Ev::Retry(req) => self.clients.send(ctx, req, Ev::AtRouter, Ev::TimeoutCheck),
        }
    }

    fn on_fault(&mut self, ctx: &mut Ctx<Ev>, fault: &FaultSpec, phase: FaultPhase) {
        if fault.role != "store" {
            return; // network faults act on the clients' links, which took them at build
        }
        // The servers it hits, by the one rule of `RoleNodes` (a crash naming none takes the
        // next server in turn; a disk stall naming none slows every server's disk).
        let servers = self.stores.len() as u32;
        let targets = match phase {
            FaultPhase::Begin => self.store_nodes.begin(fault, servers),
            FaultPhase::End => self.store_nodes.end(fault, servers),
        };
        match (&fault.kind, phase) {
            (FaultKind::Crash { restart_ns, scope }, FaultPhase::Begin) => {
                for i in targets {
                    self.stores[i as usize].crash(
                        &mut ctx.sim,
                        *restart_ns,
                        scope.unwrap_or_default(),
                        |e| Ev::Store(i, e),
                        self.out.sink(),
                    );
                }
                self.outcomes(ctx);
            }
            (FaultKind::DiskStall { .. }, FaultPhase::Begin) => {
                for i in targets {
                    let stall = wal_stall(fault, &self.streams, &format!("store/{i}"));
                    self.stores[i as usize].set_disk_stall(stall);
                }
            }
            (FaultKind::DiskStall { .. }, FaultPhase::End) => {
                for i in targets {
                    self.stores[i as usize].set_disk_stall(None);
                }
            }
            (FaultKind::Pause, FaultPhase::Begin) => self.frozen.begin(),
            (FaultKind::Pause, FaultPhase::End) => {
                for e in self.frozen.end() {
                    self.on_event(ctx, e);
                }
            }
            _ => {}
        }
    }
}

impl ModelKind for Sharded {
    const KIND: &'static str = "sharded";
    const SUMMARY: &'static str = "a router hashes keys to N Postgres shards, one ordered writer each; the strategy can switch at a time T";
    type Config = ShardedConfig;
    type Params = ShardedParams;

    fn params_doc() -> Vec<ParamDoc> {
        ShardedConfig::section_docs()
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

    /// A rolling restart of the store restarts the Postgres servers one at a time.
    fn role_nodes(p: &ShardedParams, role: &str) -> u32 {
        if role == "store" { p.router.instances } else { 1 }
    }

    fn validate(c: ShardedConfig, env: &BuildEnv<'_>) -> Result<ShardedParams, ConfigError> {
        let producers = c.producers(env.loader)?;
        let link = c.network(env.loader)?;
        c.router(env.loader)?;
        use pipesim_config::limits::{PARTITIONS, at_most};
        if let Some(s) = &c.switch {
            if s.shards == Some(0) {
                return Err(ConfigError::new("switch.shards", "must be at least 1"));
            }
            if let Some(n) = s.shards {
                at_most("switch.shards", u64::from(n), &PARTITIONS)?;
            }
            if s.at.ns >= env.workload.duration_ns {
                return Err(ConfigError::new(
                    "switch.at",
                    format!(
                        "{} is not before the end of arrivals: the switch would never happen",
                        s.at
                    ),
                ));
            }
        }
        let pg = c.store(env.loader)?;
        let client = c.client(env.loader)?;
        Ok(ShardedParams {
            producers,
            network: c.network,
            router: c.router,
            switch: c.switch,
            store: c.store,
            client,
            link,
            pg,
        })
    }

    fn build(p: &ShardedParams, env: &RunEnv<'_>) -> Self {
        let s = env.streams;
        let r = &p.router;
        let max_shards = r.shards.max(p.switch.as_ref().and_then(|w| w.shards).unwrap_or(0));
        let pages = max_shards.div_ceil(r.instances);
        let pg = &p.pg;
        Self {
            params: p.clone(),
            streams: *s,
            frozen: Frozen::default(),
            store_nodes: RoleNodes::default(),
            clients: Clients::new(&p.producers, &p.client, &p.link, s, env.faults),
            shards: (0..max_shards)
                .map(|_| Shard {
                    queue: VecDeque::new(),
                    idle_writers: r.writers_per_shard,
                    max_queue: 0,
                })
                .collect(),
            stores: (0..r.instances)
                .map(|i| {
                    let (rng, wal) =
                        (s.stream(&format!("store/{i}")), s.stream(&format!("store/{i}/wal")));
                    let mut store = Postgres::new(pg, pages, rng, wal);
                    store.set_window(env.settings.measured());
                    store
                })
                .collect(),
            batches: Vec::new(),
            free_slots: Vec::new(),
            out: Outbox::default(),
            touched: Vec::new(),
            switch_at: p.switch.as_ref().map_or(SimTime::MAX, |w| w.at.ns),
            async_commit: p.store.synchronous_commit == pipesim_components::SyncCommit::Off,
            batches_run: 0,
            rows_run: 0,
            measure: env.settings.measured(),
        }
    }

    fn memory(p: &ShardedParams, _workload: &WorkloadSpec) -> Vec<crate::MemoryItem> {
        // A queue per shard and a latch per shard on its server.
        let shards = p.router.shards.max(p.switch.as_ref().and_then(|w| w.shards).unwrap_or(0));
        vec![crate::MemoryItem::model(
            "router.shards",
            format!("{} shards", pipesim_config::limits::grouped(u64::from(shards))),
            u64::from(shards) * 256,
        )]
    }

    fn work(_p: &ShardedParams, _workload: &WorkloadSpec) -> crate::Work {
        crate::Work {
            events_per_arrival: 5.0,
            ns_per_event: 500.0,
            in_flight_s: 0.1,
            bytes_in_flight: 300.0,
            fixed_s: 0.0,
        }
    }

    fn warnings(p: &ShardedParams, _workload: &WorkloadSpec) -> Vec<String> {
        let mut out = Vec::new();
        if p.router.writers_per_shard > 1 {
            out.push(format!(
                "router.writers_per_shard = {}: a shard may commit a key's events out of order",
                p.router.writers_per_shard
            ));
        }
        out
    }

    fn details(&self, _results: &RunResults) -> Vec<DetailTable> {
        let mut stats = PgStats::default();
        for store in &self.stores {
            let s = store.stats(self.measure.to_ns);
            stats.commits += s.commits;
            stats.rows += s.rows;
            stats.reads += s.reads;
            stats.gin_cleanups += s.gin_cleanups;
            stats.failed += s.failed;
            stats.wal.flushes += s.wal.flushes;
            stats.wal.records += s.wal.records;
            stats.wal.bytes += s.wal.bytes;
            stats.latch_waited += s.latch_waited;
            stats.latch_wait_sum_ns += s.latch_wait_sum_ns;
            stats.cpu_busy += s.cpu_busy;
        }
        let snapshot = StoreSnapshot {
            stats,
            cores: self.params.store.cores * self.params.router.instances,
            retries: self.clients.stats.retries,
            timeouts: self.clients.stats.timeouts,
            leaks: 0,
        };
        let max_queue = self.shards.iter().map(|s| s.max_queue).max().unwrap_or(0);
        let rows_per_txn = if self.batches_run == 0 {
            0.0
        } else {
            self.rows_run as f64 / self.batches_run as f64
        };
        vec![
            store_table(&snapshot, self.measure),
            DetailTable::named("router").with_row(|r| {
                r.int("shards", u64::from(self.params.router.shards))
                    .int("instances", u64::from(self.params.router.instances))
                    .int("transactions", self.batches_run)
                    .fixed("rows_per_transaction", rows_per_txn, 3)
                    .int("max_shard_queue", max_queue);
            }),
        ]
    }
}
