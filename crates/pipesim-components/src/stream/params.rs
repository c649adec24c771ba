//! The consumers' scenario tables and their validation: the Kafka consumer's fetching
//! (`[model.consumer]`), the stream processor (`[model.processor]`) and the projection
//! (`[model.projection]`), each with its defaults, sources and parameter documentation.

use crate::link::check_probability;
use pipesim_config::{ConfigError, DistSpec, Duration, Loader, ParamDoc};
use pipesim_engine::{Dist, NS_PER_MS, NS_PER_S, SimTime};
use serde::{Deserialize, Serialize};

/// The Kafka consumer's knobs as a scenario writes them (`[model.consumer]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsumerParams {
    /// Records one fetch returns at most, and the most fetched records waiting per partition.
    pub max_poll_records: u32,
    /// How often a projection commits its offsets (`auto.commit.interval.ms`); the stream
    /// processor commits them with its checkpoints.
    pub auto_commit: Duration,
}

impl Default for ConsumerParams {
    fn default() -> Self {
        Self { max_poll_records: 500, auto_commit: Duration { ns: 5 * NS_PER_S } }
    }
}

impl ConsumerParams {
    /// Checks the parameters; error paths are relative to the consumer's table.
    pub fn validate(&self) -> Result<ConsumerParams, ConfigError> {
        if self.max_poll_records == 0 {
            return Err(ConfigError::new("max_poll_records", "must be at least 1"));
        }
        pipesim_config::limits::at_most(
            "max_poll_records",
            u64::from(self.max_poll_records),
            &pipesim_config::limits::BATCH,
        )?;
        if self.auto_commit.ns == 0 {
            return Err(ConfigError::new("auto_commit", "must be greater than zero"));
        }
        Ok(self.clone())
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("max_poll_records", "integer >= 1", "500", "records per fetch, and fetched records a partition may hold unprocessed (Kafka max.poll.records 500)"),
            ParamDoc::new("auto_commit", "duration", "\"5s\"", "projection offset commit period: a crash replays up to this much (Kafka auto.commit.interval.ms 5000)"),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// When processed output becomes visible.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Sink {
    /// At the commit of the next completed checkpoint (two-phase commit).
    ExactlyOnce,
    /// As soon as a record is processed; a replay emits it again.
    AtLeastOnce,
}

/// The stream processor as a scenario writes it (`[model.processor]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StreamParams {
    /// Subtasks; absent: one per partition.
    pub parallelism: Option<u32>,
    /// Processing time of one record.
    pub record_cost: DistSpec,
    /// Time between checkpoint triggers.
    pub checkpoint_interval: Duration,
    /// Time to write a checkpoint's snapshot once the barriers are aligned.
    pub snapshot: DistSpec,
    /// Output semantics.
    pub sink: Sink,
    /// Time to commit the sink's transaction once the checkpoint completes.
    pub commit: DistSpec,
    /// Time from the process being back to processing (restart strategy delay, state restore).
    pub restart_delay: Duration,
}

impl Default for StreamParams {
    fn default() -> Self {
        Self {
            parallelism: None,
            record_cost: DistSpec::Const { value: Duration { ns: 2_000 } },
            checkpoint_interval: Duration { ns: 30 * NS_PER_S },
            snapshot: DistSpec::Const { value: Duration { ns: 500 * NS_PER_MS } },
            sink: Sink::ExactlyOnce,
            commit: crate::link::lognormal_us(2_000, 10_000),
            restart_delay: Duration { ns: NS_PER_S },
        }
    }
}

/// Validated processor parameters.
#[derive(Clone, Debug)]
pub struct StreamSpec {
    pub(super) params: StreamParams,
    pub(super) record_cost: Dist,
    pub(super) snapshot: Dist,
    pub(super) commit: Dist,
}

impl StreamSpec {
    /// The parameters as written.
    pub fn params(&self) -> &StreamParams {
        &self.params
    }
    /// Mean cost of a record, ns.
    pub fn mean_record_ns(&self) -> f64 {
        self.record_cost.mean_ns()
    }
}

impl StreamParams {
    /// Checks the parameters; error paths are relative to the processor's table.
    pub fn validate(&self, loader: &dyn Loader) -> Result<StreamSpec, ConfigError> {
        let dist = |d: &DistSpec, f: &str| d.resolve(loader).map_err(|m| ConfigError::new(f, m));
        if self.parallelism == Some(0) {
            return Err(ConfigError::new("parallelism", "must be at least 1"));
        }
        pipesim_config::limits::at_most(
            "parallelism",
            u64::from(self.parallelism.unwrap_or(1)),
            &pipesim_config::limits::PARTITIONS,
        )?;
        if self.checkpoint_interval.ns == 0 {
            return Err(ConfigError::new(
                "checkpoint_interval",
                "must be greater than zero (checkpoints are what exactly-once output waits for)",
            ));
        }
        Ok(StreamSpec {
            params: self.clone(),
            record_cost: dist(&self.record_cost, "record_cost")?,
            snapshot: dist(&self.snapshot, "snapshot")?,
            commit: dist(&self.commit, "commit")?,
        })
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("parallelism", "integer >= 1", "one per partition", "subtasks; partition p runs on subtask p mod parallelism (Flink's Kafka source)"),
            ParamDoc::new("record_cost", "distribution", "\"2us\"", "processing time of one record on its subtask (assumed: a light keyed aggregation)"),
            ParamDoc::new("checkpoint_interval", "duration", "\"30s\"", "time between checkpoint triggers (seed 002: 30 s, later 60 s; Flink has none by default)"),
            ParamDoc::new("snapshot", "distribution", "\"500ms\"", "asynchronous snapshot once barriers are aligned (assumed: state upload; grows with state size)"),
            ParamDoc::new("sink", "\"exactly_once\" or \"at_least_once\"", "\"exactly_once\"", "exactly_once: output visible when the checkpoint's transaction commits (seed 002); at_least_once: at once, replayed after a crash"),
            ParamDoc::new("commit", "distribution", "{ dist = \"lognormal\", p50 = \"2ms\", p99 = \"10ms\" }", "the sink's transaction commit; waits while a log partition has no leader (transaction markers go to every partition)"),
            ParamDoc::new("restart_delay", "duration", "\"1s\"", "after the process is back, until it processes again (Flink's exponential-delay restart starts at 1 s)"),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// How a projection retries a failed statement.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RetryMode {
    /// The worker waits out the backoff and retries before anything else (order kept).
    Blocking,
    /// The records go to a retry topic and the worker goes on (order may break).
    Deferred,
}

/// The projection as a scenario writes it (`[model.projection]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectionParams {
    /// Workers sharing the partitions.
    pub workers: u32,
    /// Records per UPSERT statement at most.
    pub batch: u32,
    /// Latency of one UPSERT statement.
    pub upsert: DistSpec,
    /// Extra time per row of a statement.
    pub upsert_per_row: Duration,
    /// Probability that a statement fails for a transient reason.
    pub fail: f64,
    /// Fraction of records that can never be applied (malformed).
    pub poison: f64,
    /// Retries of a failed statement before its records go to the dead-letter queue.
    pub retries: u32,
    /// Wait before the first retry, doubling after each.
    pub backoff: Duration,
    /// Longest wait between retries.
    pub backoff_max: Duration,
    /// Whether a retry blocks the worker.
    pub retry: RetryMode,
    /// After a crash, time until the worker consumes again.
    pub restart_delay: Duration,
}

impl Default for ProjectionParams {
    fn default() -> Self {
        Self {
            workers: 1,
            batch: 1,
            upsert: crate::link::lognormal_us(800, 2_500),
            upsert_per_row: Duration { ns: 0 },
            fail: 0.0,
            poison: 0.0,
            retries: 5,
            backoff: Duration { ns: 100 * NS_PER_MS },
            backoff_max: Duration { ns: 10 * NS_PER_S },
            retry: RetryMode::Blocking,
            restart_delay: Duration { ns: 0 },
        }
    }
}

/// Validated projection parameters.
#[derive(Clone, Debug)]
pub struct ProjectionSpec {
    pub(super) params: ProjectionParams,
    pub(super) upsert: Dist,
}

impl ProjectionSpec {
    /// The parameters as written.
    pub fn params(&self) -> &ProjectionParams {
        &self.params
    }
    /// Mean statement time for `rows` rows, ns.
    pub fn mean_statement_ns(&self, rows: f64) -> f64 {
        self.upsert.mean_ns() + rows * self.params.upsert_per_row.ns as f64
    }
}

impl ProjectionParams {
    /// Checks the parameters; error paths are relative to the projection's table.
    pub fn validate(&self, loader: &dyn Loader) -> Result<ProjectionSpec, ConfigError> {
        if self.workers == 0 {
            return Err(ConfigError::new("workers", "must be at least 1"));
        }
        if self.batch == 0 {
            return Err(ConfigError::new("batch", "must be at least 1"));
        }
        use pipesim_config::limits::{BATCH, RETRIES, WORKERS, at_most};
        at_most("workers", u64::from(self.workers), &WORKERS)?;
        at_most("batch", u64::from(self.batch), &BATCH)?;
        at_most("retries", u64::from(self.retries), &RETRIES)?;
        check_probability(self.fail, "fail")?;
        if self.fail >= 1.0 {
            return Err(ConfigError::new(
                "fail",
                "must be below 1: every statement would fail and nothing would ever be applied",
            ));
        }
        check_probability(self.poison, "poison")?;
        if self.backoff_max.ns < self.backoff.ns {
            return Err(ConfigError::new(
                "backoff_max",
                format!("{} is below backoff ({})", self.backoff_max, self.backoff),
            ));
        }
        Ok(ProjectionSpec {
            params: self.clone(),
            upsert: self.upsert.resolve(loader).map_err(|m| ConfigError::new("upsert", m))?,
        })
    }

    /// The wait before retry number `attempt` (1 for the first retry).
    pub fn backoff_ns(&self, attempt: u32) -> SimTime {
        let doublings = attempt.saturating_sub(1).min(40);
        self.backoff.ns.saturating_mul(1u64 << doublings).min(self.backoff_max.ns)
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("workers", "integer >= 1", "1", "workers sharing the partitions, partition p on worker p mod workers (seed 004: a single Go worker)"),
            ParamDoc::new("batch", "integer >= 1", "1", "records per UPSERT statement at most (seed 004: one synchronous UPDATE per event)"),
            ParamDoc::new("upsert", "distribution", "{ dist = \"lognormal\", p50 = \"800us\", p99 = \"2.5ms\" }", "one UPSERT statement's latency; p95 is 1.8 ms as seed 004 measured (its p50 is calibrated)"),
            ParamDoc::new("upsert_per_row", "duration", "\"0s\"", "extra time per row of a multi-row statement"),
            ParamDoc::new("fail", "probability below 1", "0", "chance a statement fails for a transient reason and is retried"),
            ParamDoc::new("poison", "probability", "0", "fraction of records that always fail (malformed payloads); they end in the dead-letter queue (seed 004: 472 in six months)"),
            ParamDoc::new("retries", "integer", "5", "retries before a statement's records are dead-lettered (seed 004's retry budget)"),
            ParamDoc::new("backoff", "duration", "\"100ms\"", "wait before the first retry, doubling after each"),
            ParamDoc::new("backoff_max", "duration", "\"10s\"", "longest wait between retries"),
            ParamDoc::new("retry", "\"blocking\" or \"deferred\"", "\"blocking\"", "blocking: the worker waits (order kept, partitions stall); deferred: a retry topic (the worker goes on, order may break)"),
            ParamDoc::new("restart_delay", "duration", "\"0s\"", "after the process is back, until it consumes again"),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}
