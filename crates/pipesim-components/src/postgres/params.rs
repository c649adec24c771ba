//! The store's parameters as a scenario writes them (commit modes, index kinds), their
//! validation and their docs.

use crate::link::lognormal_us;
use pipesim_config::{Bandwidth, ConfigError, DistSpec, Duration, Loader, ParamDoc, Size};
use pipesim_engine::{Dist, NS_PER_MS};
use serde::{Deserialize, Serialize};

/// When a commit is acknowledged (Postgres's `synchronous_commit`).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SyncCommit {
    /// Acknowledge before the WAL flush.
    Off,
    /// After the local flush.
    Local,
    /// After the standby has the WAL in memory.
    RemoteWrite,
    /// After the standby has flushed it (Postgres's default).
    On,
    /// After the standby has replayed it, so it is visible there too.
    RemoteApply,
}

/// Which index the hot path inserts into.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum IndexKind {
    /// No secondary index: no latch.
    None,
    /// A B-tree whose rightmost leaf every insert hits (a monotonic or hot key).
    Btree,
    /// A GIN index with a pending list cleaned in the foreground.
    Gin,
}

/// The store as a scenario writes it (`[model.store]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresParams {
    /// Parallel CPU cores executing statements.
    pub cores: u32,
    /// CPU time of one row insert (parse, plan, heap insert).
    pub insert: DistSpec,
    /// CPU time of reading one row (fetch and decode).
    pub read: DistSpec,
    /// The index every insert updates.
    pub index: IndexKind,
    /// Time an insert holds the hot index page's lock, per row.
    pub index_hold: DistSpec,
    /// GIN pending list size (`gin_pending_list_limit`, 4 MB by default in Postgres).
    pub gin_pending_list: Size,
    /// Bytes one row adds to the GIN pending list.
    pub gin_entry: Size,
    /// Time to merge one pending-list entry into the index during cleanup.
    pub gin_cleanup_per_entry: Duration,
    /// WAL bytes per row on top of the payload (tuple header, index records, commit record).
    pub wal_row_bytes: Size,
    /// Duration of one WAL fsync.
    pub fsync: DistSpec,
    /// Sequential write bandwidth of the WAL disk.
    pub wal_bandwidth: Bandwidth,
    /// When commits are acknowledged.
    pub synchronous_commit: SyncCommit,
    /// Whether a synchronous standby exists.
    pub standby: bool,
    /// Round trip to the standby.
    pub standby_rtt: DistSpec,
    /// Standby's replay of a flushed batch (for `remote_apply`).
    pub standby_apply: DistSpec,
    /// Background WAL writer period (asynchronous commit).
    pub wal_writer_delay: Duration,
    /// The background writer also flushes once this much WAL has accumulated.
    pub wal_writer_flush_after: Size,
}

impl Default for PostgresParams {
    fn default() -> Self {
        Self {
            cores: 16,
            insert: DistSpec::Const { value: Duration { ns: 20_000 } },
            read: DistSpec::Const { value: Duration { ns: 10_000 } },
            index: IndexKind::Btree,
            index_hold: DistSpec::Const { value: Duration { ns: 1_000 } },
            gin_pending_list: Size { bytes: 4 << 20 },
            gin_entry: Size { bytes: 64 },
            gin_cleanup_per_entry: Duration { ns: 1_000 },
            wal_row_bytes: Size { bytes: 300 },
            fsync: lognormal_us(1_000, 4_000),
            wal_bandwidth: Bandwidth { bytes_per_s: 250e6 },
            synchronous_commit: SyncCommit::On,
            standby: false,
            standby_rtt: lognormal_us(1_000, 2_000),
            standby_apply: DistSpec::Const { value: Duration { ns: 100_000 } },
            wal_writer_delay: Duration { ns: 200 * NS_PER_MS },
            wal_writer_flush_after: Size { bytes: 1 << 20 },
        }
    }
}

/// Validated store parameters.
#[derive(Clone, Debug)]
pub struct PostgresSpec {
    pub(super) params: PostgresParams,
    pub(super) insert: Dist,
    pub(super) read: Dist,
    pub(super) index_hold: Dist,
    pub(super) fsync: Dist,
    pub(super) standby_rtt: Dist,
    pub(super) standby_apply: Dist,
}

impl PostgresParams {
    /// Checks the parameters; error paths are relative to the store's table.
    pub fn validate(&self, loader: &dyn Loader) -> Result<PostgresSpec, ConfigError> {
        let dist = |d: &DistSpec, f: &str| d.resolve(loader).map_err(|m| ConfigError::new(f, m));
        if self.cores == 0 {
            return Err(ConfigError::new("cores", "must be at least 1"));
        }
        pipesim_config::limits::at_most(
            "cores",
            u64::from(self.cores),
            &pipesim_config::limits::WORKERS,
        )?;
        if self.index == IndexKind::Gin && self.gin_entry.bytes == 0 {
            return Err(ConfigError::new("gin_entry", "must be greater than zero"));
        }
        if self.wal_writer_delay.ns == 0 && self.synchronous_commit == SyncCommit::Off {
            return Err(ConfigError::new(
                "wal_writer_delay",
                "must be greater than zero with synchronous_commit = \"off\"",
            ));
        }
        Ok(PostgresSpec {
            params: self.clone(),
            insert: dist(&self.insert, "insert")?,
            read: dist(&self.read, "read")?,
            index_hold: dist(&self.index_hold, "index_hold")?,
            fsync: dist(&self.fsync, "fsync")?,
            standby_rtt: dist(&self.standby_rtt, "standby_rtt")?,
            standby_apply: dist(&self.standby_apply, "standby_apply")?,
        })
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("cores", "integer >= 1", "16", "CPU cores executing statements in parallel"),
            ParamDoc::new("insert", "distribution", "\"20us\"", "CPU time of one row insert: parse, plan, heap insert"),
            ParamDoc::new("read", "distribution", "\"10us\"", "CPU time of reading and decoding one row"),
            ParamDoc::new(
                "index",
                "\"none\", \"btree\" or \"gin\"",
                "\"btree\"",
                "the index every insert updates: its hot page's lock serialises inserts",
            ),
            ParamDoc::new("index_hold", "distribution", "\"1us\"", "time an insert holds the hot index page's lock, per row"),
            ParamDoc::new("gin_pending_list", "size", "\"4MiB\"", "GIN pending list size (Postgres gin_pending_list_limit, 4 MB)"),
            ParamDoc::new("gin_entry", "size", "\"64B\"", "bytes a row adds to the GIN pending list"),
            ParamDoc::new(
                "gin_cleanup_per_entry",
                "duration",
                "\"1us\"",
                "time to merge one pending entry; the inserter that fills the list merges all of it holding the lock",
            ),
            ParamDoc::new("wal_row_bytes", "size", "\"300B\"", "WAL bytes per row besides the payload: tuple header, index records, commit"),
            ParamDoc::new(
                "fsync",
                "distribution",
                "{ dist = \"lognormal\", p50 = \"1ms\", p99 = \"4ms\" }",
                "one WAL fsync; cloud block storage (gp3) is single-digit ms, NVMe with power-loss protection tens of us",
            ),
            ParamDoc::new("wal_bandwidth", "bandwidth", "\"250MB/s\"", "WAL disk write bandwidth (gp3 up to 1000 MB/s provisioned, 125 MB/s base)"),
            ParamDoc::new(
                "synchronous_commit",
                "\"off\", \"local\", \"remote_write\", \"on\", \"remote_apply\"",
                "\"on\"",
                "when a commit is acknowledged and visible (Postgres's default is on)",
            ),
            ParamDoc::new("standby", "boolean", "false", "a synchronous standby exists (otherwise on/remote_* act as local)"),
            ParamDoc::new(
                "standby_rtt",
                "distribution",
                "{ dist = \"lognormal\", p50 = \"1ms\", p99 = \"2ms\" }",
                "round trip to the standby, cross-AZ (1-2 ms)",
            ),
            ParamDoc::new("standby_apply", "distribution", "\"100us\"", "standby replay of a batch, for remote_apply"),
            ParamDoc::new("wal_writer_delay", "duration", "\"200ms\"", "background WAL writer period (Postgres default 200 ms)"),
            ParamDoc::new(
                "wal_writer_flush_after",
                "size",
                "\"1MiB\"",
                "the background writer also flushes once this much WAL is waiting (Postgres default 1 MB)",
            ),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}
