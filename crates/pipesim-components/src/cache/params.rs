//! The cache service's parameters as a scenario writes them, their validation and their docs.

use pipesim_config::{ConfigError, DistSpec, Duration, Loader, ParamDoc};
use pipesim_engine::{Dist, NS_PER_S, NS_PER_US};
use serde::{Deserialize, Serialize};

/// The cache service as a scenario writes it (`[model.cache]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheParams {
    /// Events kept per entity (the ring buffer's size).
    pub ring: u32,
    /// Entities held at most; the least recently read is evicted.
    pub entities: u32,
    /// Threads applying the change stream; partition p goes to thread p mod consumers.
    pub consumers: u32,
    /// Time to apply one change (map update, ring append, WAL write).
    pub apply: DistSpec,
    /// Threads serving read requests.
    pub threads: u32,
    /// Time to handle one read request, besides its entities.
    pub read_request: DistSpec,
    /// Time per entity of a read request (lookup, copy and encode its events).
    pub read_entity: Duration,
    /// Delay between applying a change and readers seeing it.
    pub update_lag: DistSpec,
    /// Whether a write-ahead log lets a restart come back warm.
    pub wal: bool,
    /// Time to replay the write-ahead log at a restart.
    pub replay: Duration,
    /// Whether a change the entry already reflects (by log position) is skipped.
    pub dedup: bool,
    /// How often the stream consumer commits its position.
    pub commit_interval: Duration,
}

impl Default for CacheParams {
    fn default() -> Self {
        Self {
            ring: 1_000,
            entities: 10_000,
            consumers: 8,
            apply: DistSpec::Const { value: Duration { ns: 20 * NS_PER_US } },
            threads: 16,
            read_request: crate::link::lognormal_us(200, 1_000),
            read_entity: Duration { ns: 10 * NS_PER_US },
            update_lag: DistSpec::Const { value: Duration { ns: 0 } },
            wal: true,
            replay: Duration { ns: 5 * NS_PER_S },
            dedup: false,
            commit_interval: Duration { ns: 5 * NS_PER_S },
        }
    }
}

/// Validated cache parameters.
#[derive(Clone, Debug)]
pub struct CacheSpec {
    pub(super) params: CacheParams,
    pub(super) apply: Dist,
    pub(super) read_request: Dist,
    pub(super) update_lag: Dist,
}

impl CacheSpec {
    /// The parameters as written.
    pub fn params(&self) -> &CacheParams {
        &self.params
    }

    /// Mean time to apply one change, ns.
    pub fn mean_apply_ns(&self) -> f64 {
        self.apply.mean_ns()
    }
}

impl CacheParams {
    /// Checks the parameters; error paths are relative to the cache's table.
    pub fn validate(&self, loader: &dyn Loader) -> Result<CacheSpec, ConfigError> {
        let dist = |d: &DistSpec, f: &str| d.resolve(loader).map_err(|m| ConfigError::new(f, m));
        let at_least_one = |v: u32, f: &str, what: &str| {
            if v == 0 {
                Err(ConfigError::new(f, format!("must be at least 1: {what}")))
            } else {
                Ok(())
            }
        };
        at_least_one(self.ring, "ring", "a ring buffer of zero events holds nothing to read")?;
        at_least_one(self.entities, "entities", "a cache of zero entities holds nothing")?;
        at_least_one(self.consumers, "consumers", "someone must apply the change stream")?;
        at_least_one(self.threads, "threads", "someone must serve the reads")?;
        use pipesim_config::limits::{ENTRIES, PER_ENTITY, WORKERS, at_most};
        at_most("ring", u64::from(self.ring), &PER_ENTITY)?;
        at_most("entities", u64::from(self.entities), &ENTRIES)?;
        at_most("consumers", u64::from(self.consumers), &WORKERS)?;
        at_most("threads", u64::from(self.threads), &WORKERS)?;
        if self.commit_interval.ns == 0 {
            return Err(ConfigError::new("commit_interval", "must be greater than zero"));
        }
        Ok(CacheSpec {
            params: self.clone(),
            apply: dist(&self.apply, "apply")?,
            read_request: dist(&self.read_request, "read_request")?,
            update_lag: dist(&self.update_lag, "update_lag")?,
        })
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("ring", "integer >= 1", "1000", "events kept per entity, the oldest overwritten (seed 001: the last 1,000 events)"),
            ParamDoc::new(
                "entities",
                "integer >= 1",
                "10000",
                "entities held, least recently read evicted (10,000 full rings of 4 KB events is about 40 GB of RAM)",
            ),
            ParamDoc::new("consumers", "integer >= 1", "8", "threads applying the change stream; partition p goes to thread p mod consumers"),
            ParamDoc::new(
                "apply",
                "distribution",
                "\"20us\"",
                "time to apply one change: map update, ring append, WAL write without fsync (RocksDB writes take µs to tens of µs)",
            ),
            ParamDoc::new("threads", "integer >= 1", "16", "threads serving reads (a Go service runs GOMAXPROCS = cores, 16 here)"),
            ParamDoc::new(
                "read_request",
                "distribution",
                "{ dist = \"lognormal\", p50 = \"200us\", p99 = \"1ms\" }",
                "time to handle one read request besides its entities (gRPC decode, dispatch, encode)",
            ),
            ParamDoc::new("read_entity", "duration", "\"10us\"", "time per entity asked for: lookup, copy and encode of its events"),
            ParamDoc::new(
                "update_lag",
                "distribution",
                "\"0s\"",
                "delay between applying a change and readers seeing it (batched publication, invalidation propagation)",
            ),
            ParamDoc::new("wal", "boolean", "true", "a RocksDB-style write-ahead log lets a restart come back warm (seed 001)"),
            ParamDoc::new("replay", "duration", "\"5s\"", "time to replay the write-ahead log at a restart (seed 001: restarts under 5 s)"),
            ParamDoc::new(
                "dedup",
                "boolean",
                "false",
                "skip a change whose log position the entry already reflects; without it, replayed or raced changes are appended twice",
            ),
            ParamDoc::new(
                "commit_interval",
                "duration",
                "\"5s\"",
                "how often the stream consumer commits its position (Kafka auto.commit.interval.ms 5000); a restart replays since",
            ),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}
