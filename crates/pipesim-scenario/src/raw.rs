//! The scenario file's shape, as serde reads it. Checks of values come after, in `load`.

use pipesim_config::{DistSpec, Duration, Rate, Size};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

/// The top level of a scenario file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub seed: u64,
    pub duration: Duration,
    #[serde(default)]
    pub warmup: Duration,
    #[serde(default = "default_drain")]
    pub drain: Duration,
    /// None: the automatic rule (`pipesim_metrics::window_rule::auto_window_ns`).
    #[serde(default)]
    pub window: Option<Duration>,
    pub workload: RawWorkload,
    /// Model tables are read one by one afterwards, each by its kind; here they are only
    /// accepted as a key.
    #[serde(default)]
    #[allow(dead_code)]
    pub model: Vec<IgnoredAny>,
    #[serde(default)]
    pub fault: Vec<RawFault>,
    /// Faults from a trace file and drawn at random, after the `[[fault]]` tables.
    #[serde(default)]
    pub faults: RawFaults,
    #[serde(default)]
    pub claim: Vec<RawClaim>,
    /// Thresholds and baseline tolerances (`crate::gate`).
    #[serde(default)]
    pub gate: std::collections::BTreeMap<String, crate::gate::RawGateItem>,
    /// Parameters and seeds for `pipesim sweep` (`crate::sweep`).
    #[serde(default)]
    pub sweep: std::collections::BTreeMap<String, crate::sweep::RawSweepItem>,
}

/// One `[[claim]]` table: a figure a write-up states, to show beside the simulated one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClaim {
    pub model: String,
    pub metric: String,
    pub value: ClaimValue,
    #[serde(default)]
    pub source: String,
}

/// A claimed value: a number, or a quantity with its unit.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum ClaimValue {
    Int(i64),
    Float(f64),
    Text(String),
}

/// The `[faults]` table: more faults than the `[[fault]]` tables list.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFaults {
    /// A fault trace: CSV with a header, or JSON lines, relative to the scenario.
    #[serde(default)]
    pub trace: Option<String>,
    /// What to do with a trace line that does not parse.
    #[serde(default)]
    pub on_error: Option<OnErrorName>,
    /// Faults drawn from the seed.
    #[serde(default)]
    pub random: Option<RawRandomFaults>,
}

/// `[faults.random]`: the bounds random faults are drawn within.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRandomFaults {
    /// How many faults to draw.
    #[serde(default)]
    pub count: Option<u32>,
    /// The kinds to draw from (default: every kind every model takes on some target).
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    /// The targets to draw from (default: every role every model has).
    #[serde(default)]
    pub targets: Option<Vec<String>>,
    /// Earliest and latest start (default: the warmup's end and the arrivals' end).
    #[serde(default)]
    pub at: Option<[Duration; 2]>,
    /// Shortest and longest window, or a rolling restart's per-node downtime (default 1s, 5s).
    #[serde(default)]
    pub duration: Option<[Duration; 2]>,
}

/// One `[[fault]]` table (also a line of a JSON-lines fault trace, and a drawn random fault).
#[derive(Deserialize, Serialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFault {
    pub kind: String,
    pub target: String,
    pub at: Duration,
    /// The window; a rolling_restart's follows from its downtime, gap and node count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Duration>,
    /// partition: "both" (default), "requests" or "responses".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// partition: "drop" (default) or "hold".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight: Option<String>,
    /// latency_spike, disk_stall: the extra delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<DistSpec>,
    /// packet_loss: chance one transmission is lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// packet_loss: the first retransmission timeout (default and minimum 200 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto: Option<Duration>,
    /// disk_stall: each operation this many times slower.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// disk_stall: nothing completes until the window ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<bool>,
    /// rolling_restart: how long each node is down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downtime: Option<Duration>,
    /// rolling_restart: the wait between one node's return and the next one's restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<Duration>,
    /// rolling_restart: how many nodes (default: all of the role's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u32>,
    /// schema_flood: time between schema changes; checkpoint_storm: between checkpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    /// clock_skew: how far ahead the node's clock reads during the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ahead: Option<Duration>,
    /// crash: "process" (default: the page cache survives) or "machine".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

pub(crate) fn default_drain() -> Duration {
    Duration { ns: 30 * pipesim_engine::NS_PER_S }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorkload {
    pub arrivals: RawArrivals,
    #[serde(default)]
    pub keys: RawKeys,
    #[serde(default = "default_payload")]
    pub payload: Size,
    #[serde(default)]
    pub phase: Vec<RawPhase>,
}

fn default_payload() -> Size {
    Size { bytes: 512 }
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ProcessName {
    Poisson,
    Constant,
    Bursty,
    Trace,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawArrivals {
    pub process: ProcessName,
    /// Required except for traces, which set their own times.
    #[serde(default)]
    pub rate: Option<Rate>,
    #[serde(default)]
    pub on: Option<DistSpec>,
    #[serde(default)]
    pub off: Option<DistSpec>,
    /// trace: the file, relative to the scenario.
    #[serde(default)]
    pub file: Option<String>,
    /// trace: what to do with a line that does not parse.
    #[serde(default)]
    pub on_error: Option<OnErrorName>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OnErrorName {
    Stop,
    Skip,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PopularityName {
    #[default]
    Uniform,
    Zipf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawKeys {
    #[serde(default = "default_key_count")]
    pub count: u32,
    #[serde(default)]
    pub popularity: PopularityName,
    #[serde(default)]
    pub exponent: Option<f64>,
}

pub(crate) const DEFAULT_KEY_COUNT: u32 = 1_000_000;

fn default_key_count() -> u32 {
    DEFAULT_KEY_COUNT
}

impl Default for RawKeys {
    fn default() -> Self {
        Self { count: DEFAULT_KEY_COUNT, popularity: PopularityName::Uniform, exponent: None }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPhase {
    pub at: Duration,
    pub rate: Rate,
    #[serde(default)]
    pub ramp: Duration,
}
