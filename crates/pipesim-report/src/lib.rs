//! Reports of a run: `report.json` (schema version 1), `report.md`, and the summary table.
//!
//! Everything here is a pure function of the scenario, the seed and the simulation results:
//! no wall-clock value, no map iteration order, fixed float formatting (milliseconds to the
//! microsecond). The same inputs give the same bytes on any machine.

mod atomic;
pub mod charts;
mod compare;
mod gate;
mod hgrm;
mod html;
mod json;
mod markdown;
mod named_file;
mod numbers;
mod staged_dir;
mod table;
mod view;

pub use atomic::write_atomic;
pub use compare::{Compared, compare_markdown};
pub use gate::{
    GateVerdict, MetricVerdict, ThresholdVerdict, benchmark_json, evaluate, gate_text, junit_xml,
    missing_metrics,
};
pub use hgrm::hgrm_text;
pub use html::{compare_html, index_html};
pub use json::{ClaimRow, SCHEMA_VERSION, lookup, report_json};
pub use markdown::report_markdown;
pub use named_file::{check_named_file, write_through};
pub use numbers::thousands;
pub use staged_dir::{
    COMPARE_FOLDER, FolderKind, MAX_RATE_FOLDER, OutputError, REPORT_FOLDER, SWEEP_FOLDER,
    StagedDir, TRACE_FOLDER,
};
pub use table::summary_table;
pub use view::{
    ClaimView, FaultView, HistogramsView, InvariantsView, LatenciesView, LatencyView, ModelView,
    ReportView, ThroughputView, ViewError, WindowView,
};

use pipesim_models::{ModelOutcome, ModelSpec};
use pipesim_scenario::Scenario;

/// One model's results within a report.
pub struct ModelRun<'a> {
    /// The model as the scenario defined it.
    pub spec: &'a ModelSpec,
    /// What its run produced.
    pub outcome: &'a ModelOutcome,
}

/// Everything a report shows.
pub struct RunReport<'a> {
    /// The scenario, as run (seed and overrides applied).
    pub scenario: &'a Scenario,
    /// The command that reproduces this report.
    pub command: String,
    /// One entry per model, in scenario order.
    pub models: Vec<ModelRun<'a>>,
}
