//! `my_group_commit`: the discrete-event twin of `wire_my_group_commit`. The same schedule
//! ([`crate::commit`]), the same acknowledgement rule (after the fsync covering the event),
//! the same deduplication by (key, seq), with the fsync drawn from `disk.fsync` instead of the
//! wire harness's `wire.disk.fsync`.
//!
//! A crash of `ingest` loses the batch being built and the fsync in progress (their requests
//! are never answered: the producers time out and retry) and refuses requests until the
//! restart (the producers back off and retry, as on a refused connection); what was fsynced
//! survives, so a retry of it is answered without a second append.

mod model;

pub use model::{Ev, GroupCommit};

use crate::commit::{self, CommitParams};
use crate::wire::ROLE;
use pipesim_components::{Affinity, FleetParams, LinkParams, LinkSpec, RetryParams};
use pipesim_config::{ConfigError, DistSpec, Duration, ParamDoc};
use pipesim_engine::Dist;
use pipesim_metrics::RunResults;
use pipesim_models::clients::Clients;
use pipesim_models::{BuildEnv, DetailTable, ModelKind, RunEnv};
use pipesim_workload::WorkloadSpec;
use serde::{Deserialize, Serialize};

/// The model table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupCommitConfig {
    #[serde(default)]
    commit: CommitParams,
    #[serde(default)]
    disk: DiskConfig,
    #[serde(default)]
    producers: FleetParams,
    #[serde(default)]
    network: LinkParams,
    #[serde(default)]
    client: RetryParams,
}

/// `[model.disk]`: the same default as the wire harness's `wire.disk`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DiskConfig {
    fsync: DistSpec,
}

impl Default for DiskConfig {
    fn default() -> Self {
        let (p50, p99) = (Duration { ns: 1_000_000 }, Duration { ns: 5_000_000 });
        Self { fsync: DistSpec::LogNormal { p50, p99 } }
    }
}

/// Validated parameters (echoed in the report) and their resolved forms.
#[derive(Clone, Serialize)]
pub struct GroupCommitParams {
    commit: CommitParams,
    disk: DiskConfig,
    producers: FleetParams,
    network: LinkParams,
    client: RetryParams,
    #[serde(skip)]
    resolved: Option<(Dist, LinkSpec)>,
}

impl ModelKind for GroupCommit {
    const KIND: &'static str = "my_group_commit";
    const SUMMARY: &'static str = "the DES twin of wire_my_group_commit: a log fsynced every commit.interval or at commit.max_batch, acknowledged after the fsync (example user design)";
    type Config = GroupCommitConfig;
    type Params = GroupCommitParams;

    fn params_doc() -> Vec<ParamDoc> {
        let mut docs = CommitParams::docs();
        docs.push(ParamDoc::new(
            "disk.fsync",
            "distribution",
            "{ dist = \"lognormal\", p50 = \"1ms\", p99 = \"5ms\" }",
            "time of one fsync of the log (the wire twin's `wire.disk.fsync`, with the same default)",
        ));
        docs.extend(FleetParams::docs_with("producers", Affinity::Key));
        docs.extend(LinkParams::docs("network"));
        docs.extend(RetryParams::docs("client"));
        docs
    }

    fn validate(
        c: GroupCommitConfig,
        env: &BuildEnv<'_>,
    ) -> Result<GroupCommitParams, ConfigError> {
        let commit = c.commit.validate()?;
        let fsync =
            c.disk.fsync.resolve(env.loader).map_err(|m| ConfigError::new("disk.fsync", m))?;
        let producers = c.producers.resolve(Affinity::Key).map_err(|e| e.within("producers"))?;
        let link = c.network.validate(env.loader).map_err(|e| e.within("network"))?;
        let client = c.client.validate().map_err(|e| e.within("client"))?;
        Ok(GroupCommitParams {
            commit,
            disk: c.disk,
            producers,
            network: c.network,
            client,
            resolved: Some((fsync, link)),
        })
    }

    fn build(p: &GroupCommitParams, env: &RunEnv<'_>) -> Self {
        let (fsync, link) = p.resolved.clone().expect("validated");
        let s = env.streams;
        Self::new(
            p.commit.clone(),
            fsync,
            s.stream("ingest/disk/fsync"),
            Clients::new(&p.producers, &p.client, &link, s, env.faults),
        )
    }

    fn fault_roles() -> &'static [&'static str] {
        &[ROLE, Clients::ROLE]
    }

    fn fault_kinds(role: &str) -> &'static [&'static str] {
        Clients::fault_kinds(role)
    }

    fn warnings(p: &GroupCommitParams, _workload: &WorkloadSpec) -> Vec<String> {
        let mean_fsync_ns = p.resolved.as_ref().map_or(0.0, |(d, _)| d.mean_ns());
        commit::warnings(&p.commit, mean_fsync_ns)
    }

    fn details(&self, _results: &RunResults) -> Vec<DetailTable> {
        vec![self.details_table()]
    }
}
