//! `cached`'s parameters: the model table as written (`CachedConfig`), its validation into the
//! parameters echoed in the report (`CachedParams`) with the components' specs, the writer's
//! table (`[model.writer]`), and the documentation of the whole kind.

use crate::model::BuildEnv;
use pipesim_components::cache::{CacheParams, CacheSpec};
use pipesim_components::cdc::{CdcParams, CdcSpec, TopicParams, TopicSpec};
use pipesim_components::{
    FleetParams, LinkParams, LinkSpec, PoolParams, PostgresParams, PostgresSpec, ReaderParams,
    SyncCommit,
};
use pipesim_config::{ConfigError, Duration, ParamDoc};
use pipesim_engine::NS_PER_MS;
use serde::{Deserialize, Serialize};

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
    pub(super) producers: FleetParams,
    network: LinkParams,
    pub(super) writer: WriterParams,
    pub(super) store: PostgresParams,
    cdc: CdcParams,
    pub(super) topic: TopicParams,
    pub(super) cache: CacheParams,
    pub(super) pool: PoolParams,
    pub(super) readers: ReaderParams,
    /// Resolved by [`validate`], the only place a `CachedParams` is made (it is not
    /// deserialized), so every one has them.
    #[serde(skip)]
    pub(super) specs: Specs,
}

/// The components' specs, resolved from the parameters.
#[derive(Clone)]
pub(super) struct Specs {
    pub(super) link: LinkSpec,
    pub(super) pg: PostgresSpec,
    pub(super) cdc: CdcSpec,
    pub(super) topic: TopicSpec,
    pub(super) cache: CacheSpec,
}

/// Every parameter of the kind, table by table (`ModelKind::params_doc`).
pub(super) fn params_doc() -> Vec<ParamDoc> {
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

/// Checks the model table and resolves the components' specs (`ModelKind::validate`).
pub(super) fn validate(c: CachedConfig, env: &BuildEnv<'_>) -> Result<CachedParams, ConfigError> {
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
        specs: Specs { link, pg, cdc, topic, cache },
    })
}
