//! `wire_lua`: seed 000's Redis + Lua ordering layer as real services. Redis Cluster shards,
//! each a single-threaded master running the compare-and-append guard, with an asynchronous
//! replica and failover on the master's silence.
//!
//! Producers route each event to its key's shard by hash slot (CRC16 of the key, 16,384 slots
//! in contiguous ranges, as `lua_ordered`), one pipelined connection per (instance, shard), to
//! the shard's master; a replica answers MOVED (`Status::Retry`) and the producer tries the
//! shard's other node. The master runs scripts one at a time, `redis.script` each:
//!
//! ```lua
//! local last = redis.call('GET', KEYS[1])
//! if not last or tonumber(ARGV[1]) > tonumber(last) then
//!   redis.call('SET', KEYS[1], ARGV[1]); redis.call('LPUSH', KEYS[2], ARGV[2])
//! end
//! ```
//!
//! An appended event is visible to readers of the master's list at once, and answered; a
//! stale one is dropped ("lua guard") and answered too. Every append is streamed to the
//! replica without waiting for it. When the master crashes, the replica hears nothing for
//! `failover.node_timeout`, waits `failover.election` and promotes itself: the slots were
//! unavailable meanwhile (producers time out and retry), and every append the replica had not
//! received leaves the read view (retracted: acknowledged events lost, and the guard's `last`
//! rolled back, so a later retry of one of them is appended again, a duplicate to earlier
//! readers). The restarted node comes back empty and follows the new master.

mod ledger;
mod node;
mod repl;

use crate::design::{HostCtx, HostSpec, ProducerSpec, Software, WireDesign};
use node::{BUS_PORT, CLIENT_PORT, NodeCfg};
use pipesim_components::{Affinity, RedisParams, RedisSpec, slot_of};
use pipesim_config::{ConfigError, Duration, Loader, ParamDoc, Section};
use pipesim_engine::{NS_PER_MS, NS_PER_S, SimTime};
use pipesim_models::BuildEnv;
use pipesim_workload::EventMeta;
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// Most shards of a wire run (each is one or two hosts).
pub const MAX_SHARDS: u32 = 24;

/// `[model.failover]`: replication and the failure detector.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FailoverParams {
    /// A replica per master (0 or 1).
    pub replicas: u32,
    /// Silence after which a replica considers its master failed (`cluster-node-timeout`).
    pub node_timeout: Duration,
    /// The election after that, before the replica serves.
    pub election: Duration,
    /// How often a master tells its replica it is alive, and nodes gossip their epochs.
    pub heartbeat: Duration,
}

impl Default for FailoverParams {
    fn default() -> Self {
        Self {
            replicas: 1,
            node_timeout: Duration { ns: 15 * NS_PER_S },
            election: Duration { ns: NS_PER_S },
            heartbeat: Duration { ns: 100 * NS_PER_MS },
        }
    }
}

impl Section for FailoverParams {
    type Valid = ();
    type Choice = ();

    fn docs(name: &str, (): ()) -> Vec<ParamDoc> {
        [
            ParamDoc::new("replicas", "0 or 1", "1", "an asynchronous replica per master"),
            ParamDoc::new(
                "node_timeout",
                "duration",
                "15s",
                "silence after which a replica takes over (Redis's cluster-node-timeout default)",
            ),
            ParamDoc::new(
                "election",
                "duration",
                "1s",
                "the vote after the timeout before the replica serves (Redis waits about 500 ms + a random delay + its rank)",
            ),
            ParamDoc::new(
                "heartbeat",
                "duration",
                "100ms",
                "how often a master pings its replica and nodes gossip their epochs",
            ),
        ]
        .into_iter()
        .map(|d| d.under(name))
        .collect()
    }

    /// At most one replica, and a heartbeat well inside the node timeout.
    fn check(&self, _: &dyn Loader, (): ()) -> Result<(), ConfigError> {
        if self.replicas > 1 {
            return Err(ConfigError::new("replicas", "must be 0 or 1"));
        }
        for (name, d) in [("node_timeout", self.node_timeout), ("heartbeat", self.heartbeat)] {
            if d.ns == 0 {
                return Err(ConfigError::new(name, "must be greater than zero"));
            }
        }
        if self.heartbeat.ns >= self.node_timeout.ns {
            return Err(ConfigError::new(
                "heartbeat",
                format!(
                    "{} must be shorter than node_timeout ({})",
                    self.heartbeat, self.node_timeout
                ),
            ));
        }
        Ok(())
    }
}

pipesim_config::sections! {
    /// The design's part of the model table.
    pub struct LuaConfig {
        redis: RedisParams,
        failover: FailoverParams,
    }
}

/// Validated parameters.
#[derive(Clone, Debug, Serialize)]
pub struct LuaParams {
    redis: RedisParams,
    failover: FailoverParams,
    #[serde(skip)]
    spec: RedisSpec,
}

/// Why `redis.command` cannot be set here: the model (`lua_ordered`) charges plain commands apart,
/// but the wire cluster's commands run inside the script, so `redis.script` is their whole time.
const COMMAND_REFUSED: &str = "refused if changed: the wire cluster's GET/SET/LPUSH run inside the script, whose whole time is `redis.script`";

/// The design.
pub struct WireLua;

fn node_name(shard: u32, replica: bool) -> String {
    format!("redis-{shard}-{}", if replica { "b" } else { "a" })
}

fn route(ev: &EventMeta, shards: usize) -> usize {
    (usize::from(slot_of(ev.key)) * shards) / 16_384
}

impl WireDesign for WireLua {
    const KIND: &'static str = "wire_lua";
    const SUMMARY: &'static str = "seed 000's Redis Cluster with the Lua compare-and-append guard as real services: single-threaded masters, asynchronous replicas, failover on a master's silence (the wire counterpart of lua_ordered's Redis layer)";
    const DEFAULT_AFFINITY: Affinity = Affinity::Random;
    type Config = LuaConfig;
    type Params = LuaParams;

    fn params_doc() -> Vec<ParamDoc> {
        LuaConfig::section_docs()
            .into_iter()
            .map(|p| {
                if p.name != "redis.command" {
                    return p;
                }
                ParamDoc::new("redis.command", "the default only", "\"1us\"", COMMAND_REFUSED)
            })
            .collect()
    }

    fn validate(config: LuaConfig, env: &BuildEnv<'_>) -> Result<LuaParams, ConfigError> {
        let spec = config.redis(env.loader)?;
        if config.redis.shards > MAX_SHARDS {
            return Err(ConfigError::new(
                "redis.shards",
                format!(
                    "a wire run takes at most {MAX_SHARDS} shards (each one or two hosts), found {}",
                    config.redis.shards
                ),
            ));
        }
        if config.redis.command != RedisParams::default().command {
            return Err(ConfigError::new("redis.command", COMMAND_REFUSED));
        }
        config.failover(env.loader)?;
        Ok(LuaParams { redis: config.redis, failover: config.failover, spec })
    }

    fn hosts(params: &LuaParams) -> Vec<HostSpec> {
        let replica = params.failover.replicas == 1;
        (0..params.redis.shards)
            .flat_map(|s| {
                let a = HostSpec::new(node_name(s, false), "cache");
                let b = replica.then(|| HostSpec::new(node_name(s, true), "replica"));
                std::iter::once(a).chain(b)
            })
            .collect()
    }

    fn software(params: &LuaParams, ctx: HostCtx) -> Software {
        let f = &params.failover;
        let replicas = f.replicas == 1;
        // Shard i's first master is the i-th `cache` host, its replica the i-th `replica` host.
        let (shard, second) = (ctx.index_in_role as u32, ctx.host.role == "replica");
        let cfg = NodeCfg {
            script: params.spec.script().clone(),
            heartbeat_ns: f.heartbeat.ns,
            node_timeout_ns: f.node_timeout.ns,
            election_ns: f.election.ns,
            peer: replicas.then(|| format!("{}:{BUS_PORT}", node_name(shard, !second))),
            first_master: !second,
            shard: shard as usize,
        };
        Box::pin(node::run(Rc::new(cfg), ctx))
    }

    fn producer(params: &LuaParams) -> ProducerSpec {
        let replica = params.failover.replicas == 1;
        let destinations = (0..params.redis.shards)
            .map(|s| {
                let mut d = vec![format!("{}:{CLIENT_PORT}", node_name(s, false))];
                if replica {
                    d.push(format!("{}:{CLIENT_PORT}", node_name(s, true)));
                }
                d
            })
            .collect();
        // Request, answer, and the replica's copy.
        ProducerSpec { destinations, route: Some(route), messages_per_event: 3.0 }
    }

    fn fault_roles() -> &'static [&'static str] {
        &["cache", "replica", "network"]
    }

    fn durations(params: &LuaParams) -> Vec<(&'static str, SimTime)> {
        let script = params.spec.script_mean_ns();
        vec![("redis.script (mean)", script as SimTime)]
    }
}
