//! `wire_sharded`: a router host hashes each key to one of N shards, held by store hosts each
//! running a Postgres-like store (queue, writers, CPU, a write-ahead log with group commit on
//! the simulated disk); the hash can switch strategy at a time. The wire counterpart of the
//! DES `sharded` kind, with its parameter names (`docs/models/wire_sharded.md`).
//!
//! Producers send to the router over one multiplexed connection per instance. The router
//! forwards each event over its shard's persistent connection to the store that holds the
//! shard (shard i on store i mod `router.instances`) and relays the answer. With one writer per
//! shard and key affinity, per-key order holds, until a strategy switch sends a key's new
//! events to another shard while its old ones are still queued.

mod proto;
mod router;
mod store;
mod wal;

use crate::design::{HostCtx, HostSpec, ProducerSpec, Software, WireDesign};
use pipesim_components::PostgresParams;
use pipesim_config::{Bandwidth, ConfigError, DistSpec, Duration, ParamDoc, Size};
use pipesim_engine::{Dist, NS_PER_MS, NS_PER_S, SimTime};
use pipesim_models::BuildEnv;
use pipesim_models::kinds::sharded::{RouterParams, SwitchParams};
use pipesim_workload::WorkloadSpec;
use proto::Strategy;
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// The port the router listens on for producers.
pub const ROUTER_PORT: u16 = 7100;
/// The port stores listen on for the router.
pub const STORE_PORT: u16 = 7200;
/// Most shards (under either strategy): each is a queue, `writers_per_shard` tasks and one
/// connection from the router.
pub const MAX_SHARDS: u32 = 4_096;
/// Most store hosts (turmoil's per-step cost grows with hosts; see `MAX_HOSTS`).
pub const MAX_STORES: u32 = 32;
/// Most writers of one shard.
pub const MAX_WRITERS_PER_SHARD: u32 = 64;
/// Most writer tasks of a run (shards × writers per shard).
pub const MAX_WRITERS: u32 = 65_536;
/// Most events in one transaction.
pub const MAX_BATCH: u32 = 10_000;
/// Most CPU cores of one store.
pub const MAX_CORES: u32 = 1_024;

/// `[model.forward]` as written: how the router keeps its shard connections (the DES's
/// router is free and never loses one, so it has no such table).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForwardParams {
    /// A shard connection whose oldest forward has waited this long is closed and its events
    /// failed back to their producers.
    pub timeout: Duration,
    /// A connection attempt to a shard unanswered this long counts as refused.
    pub connect_timeout: Duration,
    /// Wait before reconnecting to a shard after a failure; doubles after each.
    pub backoff: Duration,
    /// Longest wait between two connection attempts.
    pub backoff_max: Duration,
}

impl Default for ForwardParams {
    fn default() -> Self {
        Self {
            timeout: Duration { ns: 5 * NS_PER_S },
            connect_timeout: Duration { ns: 100 * NS_PER_MS },
            backoff: Duration { ns: 100 * NS_PER_MS },
            backoff_max: Duration { ns: NS_PER_S },
        }
    }
}

/// `[model.store]` as written: the part of the DES's Postgres component this store models.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreParams {
    /// CPU cores executing transactions, shared by the shards of a store.
    pub cores: u32,
    /// CPU time of one row insert.
    pub insert: DistSpec,
    /// WAL bytes per row on top of the payload.
    pub wal_row_bytes: Size,
    /// Write bandwidth of the WAL disk.
    pub wal_bandwidth: Bandwidth,
}

impl Default for StoreParams {
    fn default() -> Self {
        // The DES's defaults, so that the two kinds agree when neither table says otherwise.
        let pg = PostgresParams::default();
        Self {
            cores: pg.cores,
            insert: pg.insert,
            wal_row_bytes: pg.wal_row_bytes,
            wal_bandwidth: pg.wal_bandwidth,
        }
    }
}

/// The model table (the harness's tables taken out).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardedConfig {
    #[serde(default)]
    router: RouterParams,
    #[serde(default)]
    forward: ForwardParams,
    #[serde(default)]
    switch: Option<SwitchParams>,
    #[serde(default)]
    store: StoreParams,
}

/// Validated parameters.
#[derive(Clone, Debug, Serialize)]
pub struct ShardedParams {
    router: RouterParams,
    forward: ForwardParams,
    switch: Option<SwitchParams>,
    store: StoreParams,
    #[serde(skip)]
    insert: Dist,
}

/// What the router's tasks need.
pub(crate) struct RouterSpec {
    before: Strategy,
    after: Strategy,
    switch_at_ns: SimTime,
    max_shards: u32,
    instances: u32,
    timeout_ns: SimTime,
    connect_timeout_ns: SimTime,
    backoff_ns: SimTime,
    backoff_max_ns: SimTime,
}

impl RouterSpec {
    /// The strategy in force at `now_ns`.
    fn strategy_at(&self, now_ns: SimTime) -> Strategy {
        if now_ns >= self.switch_at_ns { self.after } else { self.before }
    }

    /// The wait before connection attempt number `failures` + 1.
    fn backoff_ns(&self, failures: u32) -> SimTime {
        let doublings = failures.saturating_sub(1).min(40);
        self.backoff_ns.saturating_mul(1 << doublings).min(self.backoff_max_ns)
    }
}

/// What a store's tasks need.
pub(crate) struct StoreSpec {
    max_shards: u32,
    instances: u32,
    writers_per_shard: u32,
    batch_max: u32,
    cores: u32,
    insert: Dist,
    wal_row_bytes: u64,
    wal_bandwidth_bytes_per_s: f64,
}

impl ShardedParams {
    fn strategies(&self) -> (Strategy, Strategy) {
        let r = &self.router;
        let before = Strategy { shards: r.shards, hash_seed: r.hash_seed };
        let after = match &self.switch {
            Some(s) => Strategy {
                shards: s.shards.unwrap_or(r.shards),
                hash_seed: s.hash_seed.unwrap_or(r.hash_seed.wrapping_add(1)),
            },
            None => before,
        };
        (before, after)
    }

    /// Shards under either strategy: the shards that exist.
    fn max_shards(&self) -> u32 {
        let (before, after) = self.strategies();
        before.shards.max(after.shards)
    }

    fn router_spec(&self) -> RouterSpec {
        let (before, after) = self.strategies();
        let f = &self.forward;
        RouterSpec {
            before,
            after,
            switch_at_ns: self.switch.as_ref().map_or(SimTime::MAX, |s| s.at.ns),
            max_shards: self.max_shards(),
            instances: self.router.instances,
            timeout_ns: f.timeout.ns,
            connect_timeout_ns: f.connect_timeout.ns,
            backoff_ns: f.backoff.ns,
            backoff_max_ns: f.backoff_max.ns,
        }
    }

    fn store_spec(&self) -> StoreSpec {
        StoreSpec {
            max_shards: self.max_shards(),
            instances: self.router.instances,
            writers_per_shard: self.router.writers_per_shard,
            batch_max: self.router.batch_max,
            cores: self.store.cores,
            insert: self.insert.clone(),
            wal_row_bytes: self.store.wal_row_bytes.bytes,
            wal_bandwidth_bytes_per_s: self.store.wal_bandwidth.bytes_per_s,
        }
    }
}

/// The design.
pub struct WireSharded;

fn at_most(field: &str, value: u32, low: u32, high: u32) -> Result<(), ConfigError> {
    if value < low || value > high {
        return Err(ConfigError::new(
            field,
            format!("must be from {low} to {high}, found {value}"),
        ));
    }
    Ok(())
}

fn validate_forward(f: &ForwardParams) -> Result<(), ConfigError> {
    for (field, d) in
        [("forward.timeout", f.timeout), ("forward.connect_timeout", f.connect_timeout)]
    {
        if d.ns == 0 {
            return Err(ConfigError::new(field, "must be greater than zero"));
        }
    }
    if f.backoff.ns == 0 || f.backoff_max.ns < f.backoff.ns {
        return Err(ConfigError::new(
            "forward.backoff_max",
            format!("must be at least forward.backoff ({}) and above zero", f.backoff),
        ));
    }
    Ok(())
}

fn validate_router(r: &RouterParams, switch: Option<&SwitchParams>) -> Result<(), ConfigError> {
    at_most("router.shards", r.shards, 1, MAX_SHARDS)?;
    at_most("router.instances", r.instances, 1, MAX_STORES)?;
    at_most("router.writers_per_shard", r.writers_per_shard, 1, MAX_WRITERS_PER_SHARD)?;
    at_most("router.batch_max", r.batch_max, 1, MAX_BATCH)?;
    if let Some(s) = switch
        && let Some(n) = s.shards
    {
        at_most("switch.shards", n, 1, MAX_SHARDS)?;
    }
    let shards = r.shards.max(switch.and_then(|s| s.shards).unwrap_or(0));
    if shards.saturating_mul(r.writers_per_shard) > MAX_WRITERS {
        return Err(ConfigError::new(
            "router.writers_per_shard",
            format!(
                "{shards} shards × {} writers is over the {MAX_WRITERS} writer tasks a run may have",
                r.writers_per_shard
            ),
        ));
    }
    Ok(())
}

impl WireDesign for WireSharded {
    const KIND: &'static str = "wire_sharded";
    const SUMMARY: &'static str = "a router host hashes keys to N shards on store hosts (queue, writers, CPU, WAL with group commit on the simulated disk); the strategy can switch at a time T (the wire counterpart of `sharded`)";
    type Config = ShardedConfig;
    type Params = ShardedParams;

    fn params_doc() -> Vec<ParamDoc> {
        params_doc()
    }

    fn validate(c: ShardedConfig, env: &BuildEnv<'_>) -> Result<ShardedParams, ConfigError> {
        validate_router(&c.router, c.switch.as_ref())?;
        validate_forward(&c.forward)?;
        if let Some(s) = &c.switch
            && s.at.ns >= env.workload.duration_ns
        {
            return Err(ConfigError::new(
                "switch.at",
                format!(
                    "{} is not before the end of arrivals: the switch would never happen",
                    s.at
                ),
            ));
        }
        at_most("store.cores", c.store.cores, 1, MAX_CORES)?;
        let insert =
            c.store.insert.resolve(env.loader).map_err(|m| ConfigError::new("store.insert", m))?;
        Ok(ShardedParams {
            router: c.router,
            forward: c.forward,
            switch: c.switch,
            store: c.store,
            insert,
        })
    }

    fn hosts(p: &ShardedParams) -> Vec<HostSpec> {
        let mut hosts = vec![HostSpec::new("router", "router")];
        hosts.extend(
            (0..p.router.instances)
                .map(|i| HostSpec::new(format!("store-{i}"), "store").with_disk()),
        );
        hosts
    }

    fn software(p: &ShardedParams, ctx: HostCtx) -> Software {
        if ctx.host.role == "router" {
            Box::pin(router::serve(ctx, Rc::new(p.router_spec())))
        } else {
            Box::pin(store::serve(ctx, Rc::new(p.store_spec())))
        }
    }

    fn producer(_p: &ShardedParams) -> ProducerSpec {
        ProducerSpec {
            // Request and answer between producer and router, and again between router and
            // store.
            messages_per_event: 4.0,
            ..ProducerSpec::to(format!("router:{ROUTER_PORT}"))
        }
    }

    fn fault_roles() -> &'static [&'static str] {
        &["store", "router", "network"]
    }

    fn durations(p: &ShardedParams) -> Vec<(&'static str, SimTime)> {
        let insert = p.insert.mean_ns();
        vec![(
            "store.insert × router.batch_max (a full transaction's CPU)",
            (insert * f64::from(p.router.batch_max)) as SimTime,
        )]
    }

    fn warnings(p: &ShardedParams, _workload: &WorkloadSpec) -> Vec<String> {
        let mut out = Vec::new();
        if p.router.writers_per_shard > 1 {
            out.push(format!(
                "router.writers_per_shard = {}: a shard may commit a key's events out of order",
                p.router.writers_per_shard
            ));
        }
        if p.router.instances > p.max_shards() {
            out.push(format!(
                "router.instances = {} is more than the {} shards: some stores hold no shard",
                p.router.instances,
                p.max_shards()
            ));
        }
        out
    }
}

fn under(prefix: &str, docs: Vec<ParamDoc>) -> impl Iterator<Item = ParamDoc> {
    docs.into_iter().map(move |d| d.under(prefix))
}

/// The documented parameters, one table per section of the design's `[model]` table.
fn params_doc() -> Vec<ParamDoc> {
    under("router", router_params())
        .chain(under("forward", forward_params()))
        .chain(under("switch", switch_params()))
        .chain(under("store", store_params()))
        .collect()
}

/// `[model.router]`: how keys are sharded and written.
fn router_params() -> Vec<ParamDoc> {
    vec![
        ParamDoc::new(
            "shards",
            "integer 1-4096",
            "1024",
            "shards keys are hashed over (seed 000: 1024)",
        ),
        ParamDoc::new(
            "instances",
            "integer 1-32",
            "1",
            "store hosts the shards live on (shard i on store i mod instances); a store's shards share its CPU and its WAL",
        ),
        ParamDoc::new(
            "writers_per_shard",
            "integer 1-64",
            "1",
            "writers per shard; above 1 a shard may commit a key's events out of order",
        ),
        ParamDoc::new(
            "batch_max",
            "integer 1-10000",
            "100",
            "most queued events a writer puts in one transaction",
        ),
        ParamDoc::new(
            "hash_seed",
            "integer",
            "0",
            "seed of the key hash: the sharding strategy (the DES's hash)",
        ),
    ]
}

/// `[model.forward]`: the router's connections to the shards.
fn forward_params() -> Vec<ParamDoc> {
    vec![
        ParamDoc::new(
            "timeout",
            "duration",
            "\"5s\"",
            "a shard connection whose oldest forward waited this long is closed and its events failed back to their producers (a statement timeout; turmoil's TCP never retransmits)",
        ),
        ParamDoc::new(
            "connect_timeout",
            "duration",
            "\"100ms\"",
            "a connection attempt to a shard unanswered this long counts as refused (a held partition; a crashed store refuses at once)",
        ),
        ParamDoc::new(
            "backoff",
            "duration",
            "\"100ms\"",
            "wait before reconnecting to a shard after a failure, doubling; its events fail at once meanwhile",
        ),
        ParamDoc::new(
            "backoff_max",
            "duration",
            "\"1s\"",
            "longest wait between two connection attempts to a shard",
        ),
    ]
}

/// `[model.switch]`: an optional change of sharding strategy during the run.
fn switch_params() -> Vec<ParamDoc> {
    vec![
        ParamDoc::new(
            "at",
            "duration",
            "no switch",
            "when the router changes strategy ([model.switch] is optional)",
        ),
        ParamDoc::new("shards", "integer 1-4096", "router.shards", "shards under the new strategy"),
        ParamDoc::new(
            "hash_seed",
            "integer",
            "router.hash_seed + 1",
            "hash seed of the new strategy",
        ),
    ]
}

/// `[model.store]`: a store host's CPU and WAL.
fn store_params() -> Vec<ParamDoc> {
    vec![
        ParamDoc::new(
            "cores",
            "integer 1-1024",
            "16",
            "CPU cores of a store, shared by its shards' transactions",
        ),
        ParamDoc::new(
            "insert",
            "distribution",
            "\"20us\"",
            "CPU time of one row insert (the DES's store.insert)",
        ),
        ParamDoc::new(
            "wal_row_bytes",
            "size",
            "\"300B\"",
            "WAL bytes per row besides the payload; a flush takes its bytes / wal_bandwidth, then an fsync (wire.disk.fsync)",
        ),
        ParamDoc::new(
            "wal_bandwidth",
            "bandwidth",
            "\"250MB/s\"",
            "write bandwidth of a store's WAL disk",
        ),
    ]
}
