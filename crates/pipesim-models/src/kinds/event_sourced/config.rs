//! `event_sourced`'s parameters: the model table as written (`EventSourcedConfig`), its
//! validation into the parameters echoed in the report (`EventSourcedParams`) with their
//! resolved forms, and the documentation of the tables of its own (`[model.view]`,
//! `[model.cache]`, `[model.reads]`) and of the whole kind.

use crate::model::BuildEnv;
use pipesim_components::kafka::{KafkaLogParams, KafkaLogSpec, KafkaProducerParams};
use pipesim_components::schema::{SchemaMode, SchemaParams};
use pipesim_components::stream::{
    ConsumerParams, ProjectionParams, ProjectionSpec, StreamParams, StreamSpec,
};
use pipesim_components::{Affinity, FleetParams, LinkParams, LinkSpec, ReaderKeys};
use pipesim_config::{ConfigError, DistSpec, Duration, Loader, ParamDoc, Rate, Section};
use pipesim_engine::{Dist, NS_PER_MS};
use serde::{Deserialize, Serialize};

/// Which consumer builds the view.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConsumerKind {
    /// A Flink-like stream processor (checkpoints, exactly-once or at-least-once output).
    #[default]
    Processor,
    /// A projection worker UPSERTing into a database (retry budget, dead-letter queue).
    Projection,
}

/// The view's store as readers see it (`[model.view]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ViewParams {
    /// Reads the store serves in parallel.
    pub servers: u32,
    /// Time to serve one read.
    pub read: DistSpec,
}

impl Default for ViewParams {
    fn default() -> Self {
        Self {
            servers: 16,
            read: DistSpec::LogNormal {
                p50: Duration { ns: 500_000 },
                p99: Duration { ns: 4 * NS_PER_MS },
            },
        }
    }
}

/// The cache in front of the view (`[model.cache]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ViewCacheParams {
    /// Whether readers go through a cache.
    pub enabled: bool,
    /// Keys it holds (least recently used evicted).
    pub capacity: u32,
    /// Time to answer a hit.
    pub hit: DistSpec,
    /// Time from a view update to the eviction of the key's entry.
    pub invalidation_lag: DistSpec,
    /// Whether a restarted cache is filled with the most popular keys before it serves.
    pub prewarm: bool,
}

impl Default for ViewCacheParams {
    fn default() -> Self {
        Self {
            enabled: false,
            capacity: 100_000,
            hit: DistSpec::LogNormal {
                p50: Duration { ns: 150_000 },
                p99: Duration { ns: 800_000 },
            },
            invalidation_lag: DistSpec::Const { value: Duration { ns: NS_PER_MS } },
            prewarm: false,
        }
    }
}

/// The readers (`[model.reads]`).
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ReadParams {
    /// Reads per second, each for one key (absent: no readers).
    pub rate: Option<Rate>,
    /// Which keys readers ask for.
    pub keys: ReadKeys,
    /// With `keys = "popular"`, a Zipf exponent of their own instead of the workload's.
    pub exponent: Option<f64>,
}

/// Which keys readers ask for (as [`ReaderKeys`]).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReadKeys {
    /// By popularity (the workload's, or Zipf with `exponent`).
    #[default]
    Popular,
    /// Uniformly over the key space.
    Uniform,
}

impl From<ReadKeys> for ReaderKeys {
    fn from(k: ReadKeys) -> Self {
        match k {
            ReadKeys::Popular => ReaderKeys::Popular,
            ReadKeys::Uniform => ReaderKeys::Uniform,
        }
    }
}

pipesim_config::sections! {
    /// The model table as written.
    #[derive(Default)]
    pub struct EventSourcedConfig {
        consumer: ConsumerKind => ConsumerKind::docs,
        producers: FleetParams [Affinity::Key],
        producer: KafkaProducerParams,
        network: LinkParams,
        log: KafkaLogParams,
        kafka_consumer: ConsumerParams,
        processor: StreamParams,
        projection: ProjectionParams,
        view: ViewParams => ViewParams::docs,
        cache: ViewCacheParams => ViewCacheParams::docs,
        reads: ReadParams,
        schema: SchemaMode => schema_docs,
        schemas: SchemaParams,
    }
}

/// Validated parameters (echoed in the report) and their resolved forms.
#[derive(Clone, Serialize)]
pub struct EventSourcedParams {
    pub(super) consumer: ConsumerKind,
    pub(super) producers: FleetParams,
    pub(super) producer: KafkaProducerParams,
    pub(super) network: LinkParams,
    pub(super) log: KafkaLogParams,
    pub(super) kafka_consumer: ConsumerParams,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) processor: Option<StreamParams>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) projection: Option<ProjectionParams>,
    pub(super) view: ViewParams,
    pub(super) cache: ViewCacheParams,
    pub(super) reads: ReadParams,
    /// Echoed only when not the default, so reports that predate it keep their bytes.
    #[serde(skip_serializing_if = "SchemaMode::is_schema_less")]
    pub(super) schema: SchemaMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) schemas: Option<SchemaParams>,
    #[serde(skip)]
    pub(super) resolved: Resolved,
}

#[derive(Clone)]
pub(super) struct Resolved {
    pub(super) link: LinkSpec,
    pub(super) fetch_delay: Dist,
    pub(super) log: KafkaLogSpec,
    pub(super) processor: StreamSpec,
    pub(super) projection: ProjectionSpec,
    pub(super) view_read: Dist,
    pub(super) cache_hit: Dist,
    pub(super) invalidation_lag: Dist,
}

/// The documentation of every parameter (`ModelKind::params_doc`).
pub(super) fn params_doc() -> Vec<ParamDoc> {
    EventSourcedConfig::section_docs()
}

/// Checks the model table and resolves its distributions and components' specs. The checks
/// run in the order of the tables (write path, consumer, view and cache, readers, schema), so
/// the first error reported is the one the order meets first.
pub(super) fn validate(
    c: EventSourcedConfig,
    env: &BuildEnv<'_>,
) -> Result<EventSourcedParams, ConfigError> {
    let WritePath { producers, producer, link, fetch_delay, log } = validate_write_path(&c, env)?;
    let consumer = validate_consumer(&c, env)?;
    let ReadSide { view_read, cache_hit, invalidation_lag } = validate_read_side(&c, env)?;
    c.reads(env.loader)?;
    let projection = validate_schema(&c, env, consumer.projection)?;
    let (proc_params, proj_params) = match c.consumer {
        ConsumerKind::Processor => (Some(c.processor.clone()), None),
        ConsumerKind::Projection => (None, Some(c.projection.clone())),
    };
    Ok(EventSourcedParams {
        consumer: c.consumer,
        producers,
        producer,
        network: c.network,
        log: c.log,
        kafka_consumer: consumer.kafka_consumer,
        processor: proc_params,
        projection: proj_params,
        view: c.view,
        cache: c.cache,
        reads: c.reads,
        schema: c.schema,
        schemas: (!c.schema.is_schema_less()).then_some(c.schemas),
        resolved: Resolved {
            link,
            fetch_delay,
            log,
            processor: consumer.processor,
            projection,
            view_read,
            cache_hit,
            invalidation_lag,
        },
    })
}

/// The write path's tables (`producers`, `producer`, `network`, `log`) validated.
struct WritePath {
    producers: FleetParams,
    producer: KafkaProducerParams,
    link: LinkSpec,
    fetch_delay: Dist,
    log: KafkaLogSpec,
}

fn validate_write_path(
    c: &EventSourcedConfig,
    env: &BuildEnv<'_>,
) -> Result<WritePath, ConfigError> {
    let producers = c.producers(env.loader)?;
    let producer = c.producer(env.loader)?;
    let link = c.network(env.loader)?;
    let fetch_delay =
        c.network.delay.resolve(env.loader).map_err(|m| ConfigError::new("network.delay", m))?;
    let log = c.log(env.loader)?;
    if c.log.crash_loses_unflushed && c.consumer != ConsumerKind::Projection {
        return Err(ConfigError::new(
            "log.crash_loses_unflushed",
            "needs consumer = \"projection\" (the stream processor does not rewind after a truncation)",
        ));
    }
    Ok(WritePath { producers, producer, link, fetch_delay, log })
}

/// The consumer's tables (`kafka_consumer`, and both `processor` and `projection`, whichever
/// runs) validated.
struct ConsumerSpecs {
    kafka_consumer: ConsumerParams,
    processor: StreamSpec,
    projection: ProjectionSpec,
}

fn validate_consumer(
    c: &EventSourcedConfig,
    env: &BuildEnv<'_>,
) -> Result<ConsumerSpecs, ConfigError> {
    let kafka_consumer = c.kafka_consumer(env.loader)?;
    let processor = c.processor(env.loader)?;
    let projection = c.projection(env.loader)?;
    Ok(ConsumerSpecs { kafka_consumer, processor, projection })
}

/// The view's store and its cache (`view`, `cache`): their limits checked, their times resolved.
struct ReadSide {
    view_read: Dist,
    cache_hit: Dist,
    invalidation_lag: Dist,
}

fn validate_read_side(c: &EventSourcedConfig, env: &BuildEnv<'_>) -> Result<ReadSide, ConfigError> {
    if c.view.servers == 0 {
        return Err(ConfigError::new("view.servers", "must be at least 1"));
    }
    use pipesim_config::limits::{ENTRIES, WORKERS, at_most};
    at_most("view.servers", u64::from(c.view.servers), &WORKERS)?;
    at_most("cache.capacity", u64::from(c.cache.capacity), &ENTRIES)?;
    let view_read =
        c.view.read.resolve(env.loader).map_err(|m| ConfigError::new("view.read", m))?;
    if c.cache.enabled && c.cache.capacity == 0 {
        return Err(ConfigError::new(
            "cache.capacity",
            "must be at least 1: a cache of zero keys holds nothing",
        ));
    }
    let cache_hit =
        c.cache.hit.resolve(env.loader).map_err(|m| ConfigError::new("cache.hit", m))?;
    let invalidation_lag = c
        .cache
        .invalidation_lag
        .resolve(env.loader)
        .map_err(|m| ConfigError::new("cache.invalidation_lag", m))?;
    Ok(ReadSide { view_read, cache_hit, invalidation_lag })
}

/// `schema` and `schemas` checked; returns the projection's spec, with the inference cost
/// added to its per-row time under `schema = "infer"`.
fn validate_schema(
    c: &EventSourcedConfig,
    env: &BuildEnv<'_>,
    projection: ProjectionSpec,
) -> Result<ProjectionSpec, ConfigError> {
    c.schemas(env.loader)?;
    if c.schema == SchemaMode::Infer && c.consumer != ConsumerKind::Projection {
        return Err(ConfigError::new(
            "schema",
            "\"infer\" needs consumer = \"projection\": the inference cost is added to the projection's per-row time",
        ));
    }
    if c.schema != SchemaMode::Infer {
        return Ok(projection);
    }
    // Inference is CPU work per event in the consumer: each row of a statement costs it.
    let mut pp = c.projection.clone();
    pp.upsert_per_row.ns += c.schemas.inference.ns;
    pp.validate(env.loader).map_err(|e| e.within("projection"))
}

impl ConsumerKind {
    /// The documentation of `consumer`; `validate` checks it against the tables it needs.
    fn docs(name: &str) -> Vec<ParamDoc> {
        vec![ParamDoc::new(
            name,
            "\"processor\" or \"projection\"",
            "\"processor\"",
            "what builds the view: a Flink-like stream processor (seed 002) or a projection worker UPSERTing into Postgres (seeds 003, 004)",
        )]
    }
}

/// The documentation of `schema`; `validate_schema` checks it against `consumer`.
fn schema_docs(name: &str) -> Vec<ParamDoc> {
    vec![ParamDoc::new(
        name,
        "\"schema_less\", \"auto_register\", \"infer\" or \"frozen\"",
        "\"schema_less\"",
        "how schema changes (a schema_flood on the log) are handled, seed 004's four designs: compactions on the brokers' flush threads, inference and decode errors in the consumer, rejected events, or nothing",
    )]
}

impl ViewParams {
    /// The documentation of `[model.view]`, under `prefix`; `validate_read_side` checks it
    /// with the cache's.
    fn docs(prefix: &str) -> Vec<ParamDoc> {
        [
            ParamDoc::new(
                "servers",
                "integer >= 1",
                "16",
                "reads the view's store serves at once (a connection pool in front of it)",
            ),
            ParamDoc::new(
                "read",
                "distribution",
                "{ dist = \"lognormal\", p50 = \"500us\", p99 = \"4ms\" }",
                "time the store takes to serve a read that missed the cache (assumed: an indexed point lookup)",
            ),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

impl ViewCacheParams {
    /// The documentation of `[model.cache]`, under `prefix`; `validate_read_side` checks it
    /// with the view's.
    fn docs(prefix: &str) -> Vec<ParamDoc> {
        [
            ParamDoc::new(
                "enabled",
                "boolean",
                "false",
                "readers go through a cache (seed 002's Dragonfly)",
            ),
            ParamDoc::new(
                "capacity",
                "integer >= 1",
                "100000",
                "keys the cache holds, least recently used evicted",
            ),
            ParamDoc::new(
                "hit",
                "distribution",
                "{ dist = \"lognormal\", p50 = \"150us\", p99 = \"800us\" }",
                "time to answer a hit (seed 002: sub-millisecond)",
            ),
            ParamDoc::new(
                "invalidation_lag",
                "distribution",
                "\"1ms\"",
                "from a view update to the eviction of the key's entry (seed 002 invalidates through a Redis stream)",
            ),
            ParamDoc::new(
                "prewarm",
                "boolean",
                "false",
                "a restarted cache is filled with the most popular keys before it serves (seed 002's fix)",
            ),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

impl Section for ReadParams {
    type Valid = ();
    type Choice = ();

    fn docs(name: &str, (): ()) -> Vec<ParamDoc> {
        [
            ParamDoc::new(
                "rate",
                "rate",
                "none",
                "reads per second, one key each, Poisson (absent: no readers)",
            ),
            ParamDoc::new(
                "keys",
                "\"popular\" or \"uniform\"",
                "\"popular\"",
                "which keys readers ask for: by popularity, or uniformly",
            ),
            ParamDoc::new(
                "exponent",
                "number > 0",
                "the workload's",
                "with keys = \"popular\", readers' own Zipf exponent",
            ),
        ]
        .into_iter()
        .map(|d| d.under(name))
        .collect()
    }

    /// An exponent of their own is a positive number, and only for popular keys.
    fn check(&self, _: &dyn Loader, (): ()) -> Result<(), ConfigError> {
        if let Some(x) = self.exponent
            && !(x.is_finite() && x > 0.0)
        {
            return Err(ConfigError::new(
                "exponent",
                format!("must be a finite number greater than zero, found {x}"),
            ));
        }
        if self.exponent.is_some() && self.keys == ReadKeys::Uniform {
            return Err(ConfigError::new("exponent", "only applies to keys = \"popular\""));
        }
        Ok(())
    }
}
