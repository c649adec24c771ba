//! `cached`'s parameters: the model table as written (`CachedConfig`), its validation into the
//! parameters echoed in the report (`CachedParams`) with the components' specs, the writer's
//! table (`[model.writer]`), and the documentation of the whole kind.

use crate::model::BuildEnv;
use pipesim_components::cache::{CacheParams, CacheSpec};
use pipesim_components::cdc::{CdcParams, CdcSpec, TopicParams, TopicSpec};
use pipesim_components::{
    Affinity, FleetParams, LinkParams, LinkSpec, PoolParams, PostgresParams, PostgresSpec,
    ReaderParams, SyncCommit,
};
use pipesim_config::{ConfigError, Duration, Loader, ParamDoc, Section};
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

impl Section for WriterParams {
    type Valid = WriterParams;
    type Choice = ();

    fn docs(name: &str, (): ()) -> Vec<ParamDoc> {
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
        .map(|d| d.under(name))
        .collect()
    }

    fn check(&self, _: &dyn Loader, (): ()) -> Result<WriterParams, ConfigError> {
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
}

pipesim_config::sections! {
    /// The model table as written.
    #[derive(Default)]
    pub struct CachedConfig {
        producers: FleetParams [Affinity::Key],
        network: LinkParams,
        writer: WriterParams,
        store: PostgresParams,
        cdc: CdcParams,
        topic: TopicParams,
        cache: CacheParams,
        pool: PoolParams,
        readers: ReaderParams,
    }
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
    CachedConfig::section_docs()
}

/// Checks the model table and resolves the components' specs (`ModelKind::validate`).
pub(super) fn validate(c: CachedConfig, env: &BuildEnv<'_>) -> Result<CachedParams, ConfigError> {
    let producers = c.producers(env.loader)?;
    let link = c.network(env.loader)?;
    if c.network.drop > 0.0 {
        return Err(ConfigError::new(
            "network.drop",
            "must be 0 for the cached kind: its clients do not time out and retry; cut the network with a `network` crash fault instead",
        ));
    }
    let writer = c.writer(env.loader)?;
    let pg = c.store(env.loader)?;
    if c.store.synchronous_commit == SyncCommit::Off {
        return Err(ConfigError::new(
            "store.synchronous_commit",
            "\"off\" is not supported by the cached kind: logical decoding only sends flushed WAL, and this model captures changes at commit; use \"local\" or \"on\"",
        ));
    }
    let cdc = c.cdc(env.loader)?;
    let topic = c.topic(env.loader)?;
    let cache = c.cache(env.loader)?;
    let pool = c.pool(env.loader)?;
    let readers = c.readers(env.loader)?;
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
