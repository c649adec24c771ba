//! `wire_my_group_commit`: one ingest server that appends events to a log file on its disk and
//! fsyncs it in batches (group commit), as a real tokio service on turmoil's network and disk.
//!
//! The server answers a write, and reports it visible, only once the fsync covering it has
//! completed, so a crash can only lose events that nobody was told about: the producers time
//! out or see the connection break and send them again. On restart the server reads its log
//! back and remembers which (key, seq) it holds, so a retry of an event that was durable but
//! whose answer the crash swallowed is acknowledged without being written twice.
//!
//! The fsync time is the harness's `wire.disk.fsync`; the schedule is [`crate::commit`].

mod service;

use crate::commit::CommitParams;
use pipesim_config::{ConfigError, ParamDoc};
use pipesim_engine::SimTime;
use pipesim_models::BuildEnv;
use pipesim_wire::{HostCtx, HostSpec, ProducerSpec, Software, WireDesign};
use serde::{Deserialize, Serialize};

/// The port the ingest server listens on.
pub const PORT: u16 = 7300;
/// The fault role of the ingest server (its `crash`, `pause` and `disk_stall`).
pub const ROLE: &str = "ingest";

/// The model table, the harness's tables taken out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireGroupCommitConfig {
    #[serde(default)]
    commit: CommitParams,
}

/// Validated parameters, echoed in the report.
#[derive(Clone, Debug, Serialize)]
pub struct WireGroupCommitParams {
    commit: CommitParams,
}

/// The design.
pub struct WireGroupCommit;

impl WireDesign for WireGroupCommit {
    const KIND: &'static str = "wire_my_group_commit";
    const SUMMARY: &'static str = "one ingest server appending to a log file, fsynced every commit.interval or at commit.max_batch; acknowledged after the fsync; recovers from the file (example user design)";
    type Config = WireGroupCommitConfig;
    type Params = WireGroupCommitParams;

    fn params_doc() -> Vec<ParamDoc> {
        CommitParams::docs()
    }

    fn validate(
        config: WireGroupCommitConfig,
        _env: &BuildEnv<'_>,
    ) -> Result<WireGroupCommitParams, ConfigError> {
        Ok(WireGroupCommitParams { commit: config.commit.validate()? })
    }

    fn hosts(_params: &WireGroupCommitParams) -> Vec<HostSpec> {
        vec![HostSpec::new("ingest", ROLE).with_disk()]
    }

    fn software(params: &WireGroupCommitParams, ctx: HostCtx) -> Software {
        Box::pin(service::serve(ctx, params.commit.clone()))
    }

    fn producer(_params: &WireGroupCommitParams) -> ProducerSpec {
        ProducerSpec::to(format!("ingest:{PORT}"))
    }

    fn fault_roles() -> &'static [&'static str] {
        &[ROLE, "network"]
    }

    fn durations(params: &WireGroupCommitParams) -> Vec<(&'static str, SimTime)> {
        // The rounding warning: an interval of few ticks is biased by the tick.
        vec![("commit.interval", params.commit.interval_ns())]
    }
}
