//! Raw command-line flags (step one: no I/O, no validation beyond types).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Deterministic simulation of event-pipeline designs: latency, throughput and correctness
/// under the same seeded workload, byte-for-byte reproducible.
#[derive(Parser, Debug)]
#[command(name = "pipesim", version, about, long_about = None, disable_help_subcommand = true)]
#[command(
    after_help = "Exit codes: 0 success, 1 internal failure, 2 invalid input, 3 a gate or threshold failed."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Run scenarios and write report.json and report.md for each.
    Run(RunArgs),
    /// Parse and check scenarios without running them.
    Validate(ValidateArgs),
    /// Run scenarios, check their [gate] thresholds and compare every metric with the committed
    /// baseline; exit 3 on a failed threshold or a regression.
    Gate(GateArgs),
    /// Run every point of a scenario's [sweep] (parameters × seeds) in parallel, or one part of
    /// them (--partition); or find the highest rate that meets an SLO (--find-max-rate).
    Sweep(SweepArgs),
    /// Combine the parts of a partitioned sweep into what the whole sweep writes.
    Merge(MergeArgs),
    /// Compare reports: every metric side by side with the change against the first, as
    /// Markdown on stdout; with --out, also an HTML page and overlay charts.
    Compare(CompareArgs),
    /// List model kinds with their parameters, units and defaults.
    Models,
    /// Workload traces: export a scenario's arrivals and faults as files.
    #[command(subcommand)]
    Trace(TraceCommand),
}

#[derive(Subcommand, Debug)]
pub(crate) enum TraceCommand {
    /// Write a scenario's arrivals (arrivals.csv), fault timeline (faults.csv) and a scenario
    /// that replays them (scenario.toml) to a folder.
    Export(TraceExportArgs),
}

#[derive(Args, Debug)]
pub(crate) struct TraceExportArgs {
    /// The scenario file (TOML).
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// Output folder (created if missing; files in it are replaced whole).
    #[arg(long, value_name = "DIR", required = true)]
    pub out: PathBuf,
    /// Replace the scenario's seed.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = seed_number)]
    pub seed: Option<u64>,
    /// Override a field by its dotted path, as `run` does. Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Print only warnings and errors.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct CommonArgs {
    /// Scenario files (TOML).
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// Replace the scenario's seed.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = seed_number)]
    pub seed: Option<u64>,
    /// Override a field by its dotted path, validated like the file: `--set workload.rate=500k/s`,
    /// `--set model[0].station[0].servers=4`. Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Run only these models (comma-separated names).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub models: Option<Vec<String>>,
    /// Refuse (exit 2) a run whose estimated peak memory is above this size, such as "8GiB"
    /// (default: three quarters of the machine's memory).
    #[arg(long, value_name = "SIZE")]
    pub max_memory: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Output folder (default `reports/<scenario name>/`; with several scenarios, one sub-folder each).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Threads for running models in parallel (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = positive_count)]
    pub jobs: Option<usize>,
    /// Print only warnings, errors, the summary table and the perf line.
    #[arg(long)]
    pub quiet: bool,
    /// Chart files: svg (default; inlined in index.html), png, or none (no charts, no index.html).
    #[arg(long, value_name = "FORMAT", default_value = "svg", value_parser = ["svg", "png", "none"])]
    pub charts: String,
    /// Also write every timeline window of each model to DIR/timeline/MODEL.csv, streamed as
    /// the run goes (report.json holds at most 2,000 rows; this has every window).
    #[arg(long)]
    pub timeline_csv: bool,
}

#[derive(Args, Debug)]
pub(crate) struct GateArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Folder of baseline reports, one sub-folder per scenario name (DIR/NAME/report.json).
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub baseline: PathBuf,
    /// Rewrite the baselines with this run's reports (report.json, report.md, charts, index.html)
    /// instead of comparing with them. Thresholds are still checked.
    #[arg(long)]
    pub bless: bool,
    /// Write JUnit XML: a test case per threshold and per compared metric.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write github-action-benchmark's customSmallerIsBetter JSON (latencies and findings).
    #[arg(long, value_name = "FILE")]
    pub benchmark_json: Option<PathBuf>,
    /// Threads for running models in parallel (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = positive_count)]
    pub jobs: Option<usize>,
    /// Print only warnings, errors, the scenarios that failed and the verdict line.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub(crate) struct SweepArgs {
    /// The scenario file, with a [sweep] table.
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// Output folder (default reports/<name>-sweep/, or reports/<name>-max-rate/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Threads (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = positive_count)]
    pub jobs: Option<usize>,
    /// Run one share of the points: slice:M/N (every Nth point from the Mth) or hash:M/N.
    #[arg(long, value_name = "KIND:M/N")]
    pub partition: Option<String>,
    /// Find, for each model, the highest workload.rate at which --slo holds (bisection).
    #[arg(long)]
    pub find_max_rate: bool,
    /// The service-level objective for --find-max-rate: "p99 < 50ms", "lost == 0", ...
    #[arg(long, value_name = "CONDITION")]
    pub slo: Option<String>,
    /// Lowest rate of the search (default a tenth of the scenario's rate); must meet the SLO.
    #[arg(long, value_name = "RATE")]
    pub min_rate: Option<String>,
    /// Highest rate of the search (default ten times the scenario's rate); must fail it.
    #[arg(long, value_name = "RATE")]
    pub max_rate: Option<String>,
    /// Relative precision of the rate found (0.01 = 1 %).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.01)]
    pub precision: f64,
    /// Run only these models (comma-separated names).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub models: Option<Vec<String>>,
    /// Chart files: svg (default) or png.
    #[arg(long, value_name = "FORMAT", default_value = "svg", value_parser = ["svg", "png"])]
    pub charts: String,
    /// Print only warnings and errors (the files are written as usual).
    #[arg(long)]
    pub quiet: bool,
    /// Refuse (exit 2) a sweep whose estimated peak memory is above this size (default: three
    /// quarters of the machine's memory).
    #[arg(long, value_name = "SIZE")]
    pub max_memory: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct MergeArgs {
    /// Part files written by `pipesim sweep --partition`.
    #[arg(required = true, value_name = "PART")]
    pub parts: Vec<PathBuf>,
    /// Output folder.
    #[arg(long, value_name = "DIR", required = true)]
    pub out: PathBuf,
    /// Chart files: svg (default) or png.
    #[arg(long, value_name = "FORMAT", default_value = "svg", value_parser = ["svg", "png"])]
    pub charts: String,
    /// Print only warnings and errors (the files are written as usual).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub(crate) struct CompareArgs {
    /// report.json files (or folders holding one), the first being the baseline.
    #[arg(required = true, num_args = 2.., value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// Also write index.html, compare.md and the overlay charts to this folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Chart files with --out: svg (default) or png.
    #[arg(long, value_name = "FORMAT", default_value = "svg", value_parser = ["svg", "png"])]
    pub charts: String,
    /// List only the metrics that differ (the headline table is always whole).
    #[arg(long)]
    pub only_changed: bool,
    /// Print only warnings and errors (with --out, the files are written as usual).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ValidateArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Print only warnings and errors.
    #[arg(long)]
    pub quiet: bool,
}

/// A seed: a whole number in u64's range, with a message people can act on.
fn seed_number(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| format!("expected a whole number from 0 to {}, found \"{text}\"", u64::MAX))
}

/// A thread count: a whole number ≥ 1.
fn positive_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("expected a whole number of threads (1 or more), found \"{text}\"")),
    }
}
