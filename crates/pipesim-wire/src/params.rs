//! The harness's tables of a wire model: `[model.wire]`, and the tables it shares with the
//! discrete-event designs so that a wire model and its DES counterpart read the same values:
//! `[model.producers]`, `[model.client]` and `[model.network]`.

use pipesim_components::{Affinity, FleetParams, LinkParams, LinkSpec, RetryParams};
use pipesim_config::{ConfigError, Duration, Loader, ParamDoc, Size};
use pipesim_config::{DistSpec, format_size};
use pipesim_engine::{Dist, NS_PER_MS, NS_PER_S};
use serde::{Deserialize, Serialize};

/// The keys of a model table that belong to the harness (the registry takes them out before
/// the design sees the table).
pub const HARNESS_KEYS: [&str; 4] = ["wire", "producers", "client", "network"];

/// Most turmoil ticks in one millisecond-bounded run's tick (a tick is whole milliseconds).
pub const MAX_TICK_MS: u64 = 100;
/// Largest time dilation.
pub const MAX_DILATION: u32 = 1_000;
/// Most hosts that carry producer tasks.
pub const MAX_PRODUCER_HOSTS: u32 = 16;
/// Most hosts of one run, producers' included: turmoil scans every link for every host on
/// every step (hosts³ work per tick), so a step of 64 hosts already costs more than 1 ms.
pub const MAX_HOSTS: usize = 64;
/// Most producer instances (each is one task and one connection per destination).
pub const MAX_INSTANCES: u32 = 4_096;

/// `[model.wire]` as written.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WireParams {
    /// turmoil's step: whole milliseconds, at least 1 ms.
    pub tick: Duration,
    /// Wire nanoseconds per scenario nanosecond (see `clock.rs`).
    pub dilation: u32,
    /// Hosts the producer instances run on, as tasks (instance i on host i mod this).
    pub producer_hosts: u32,
    /// The simulated disk of hosts that have one.
    pub disk: DiskParams,
}

impl Default for WireParams {
    fn default() -> Self {
        Self {
            tick: Duration { ns: NS_PER_MS },
            dilation: 1,
            producer_hosts: 2,
            disk: DiskParams::default(),
        }
    }
}

/// `[model.wire.disk]`: what [`crate::Disk`] costs and how it fails.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiskParams {
    /// Time of one fsync.
    pub fsync: DistSpec,
    /// Torn writes: on a crash, each unsynced write survives as a random whole number of
    /// blocks of this size from its start (`None`: writes are atomic, survive whole or not).
    pub torn_block: Option<Size>,
}

impl Default for DiskParams {
    fn default() -> Self {
        Self {
            fsync: DistSpec::LogNormal {
                p50: Duration { ns: 1_000_000 },
                p99: Duration { ns: 5_000_000 },
            },
            torn_block: None,
        }
    }
}

/// The harness tables as written (the keys of [`HARNESS_KEYS`]).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HarnessConfig {
    #[serde(default)]
    wire: WireParams,
    #[serde(default)]
    producers: FleetParams,
    #[serde(default)]
    client: RetryParams,
    #[serde(default)]
    network: LinkParams,
}

/// The validated harness parameters; echoed in the report beside the design's.
#[derive(Clone, Debug, Serialize)]
pub struct HarnessParams {
    /// `[model.wire]`.
    pub wire: WireParams,
    /// `[model.producers]`.
    pub producers: FleetParams,
    /// `[model.client]`.
    pub client: RetryParams,
    /// `[model.network]`.
    pub network: LinkParams,
    #[serde(skip)]
    pub(crate) link: LinkSpec,
    #[serde(skip)]
    pub(crate) fsync: Dist,
}

impl HarnessConfig {
    /// Checks the tables; error paths are relative to the model table.
    pub(crate) fn validate(
        self,
        loader: &dyn Loader,
        default_affinity: Affinity,
    ) -> Result<HarnessParams, ConfigError> {
        let w = &self.wire;
        let tick = w.tick.ns;
        if tick < NS_PER_MS || !tick.is_multiple_of(NS_PER_MS) || tick > MAX_TICK_MS * NS_PER_MS {
            return Err(ConfigError::new(
                "wire.tick",
                format!(
                    "{} is not a whole number of milliseconds from 1ms to {MAX_TICK_MS}ms: turmoil's tokio timers resolve whole milliseconds (use `wire.dilation` for finer times)",
                    w.tick
                ),
            ));
        }
        if w.dilation == 0 || w.dilation > MAX_DILATION {
            return Err(ConfigError::new(
                "wire.dilation",
                format!("must be from 1 to {MAX_DILATION}, found {}", w.dilation),
            ));
        }
        if w.producer_hosts == 0 || w.producer_hosts > MAX_PRODUCER_HOSTS {
            return Err(ConfigError::new(
                "wire.producer_hosts",
                format!("must be from 1 to {MAX_PRODUCER_HOSTS}, found {}", w.producer_hosts),
            ));
        }
        let fsync =
            w.disk.fsync.resolve(loader).map_err(|m| ConfigError::new("wire.disk.fsync", m))?;
        if let Some(b) = w.disk.torn_block
            && (b.bytes == 0 || b.bytes > 1 << 20)
        {
            return Err(ConfigError::new(
                "wire.disk.torn_block",
                format!("must be from 1B to 1MiB, found {}", format_size(b.bytes)),
            ));
        }
        let producers =
            self.producers.resolve(default_affinity).map_err(|e| e.within("producers"))?;
        if producers.instances > MAX_INSTANCES {
            return Err(ConfigError::new(
                "producers.instances",
                format!(
                    "at most {MAX_INSTANCES} producer instances in a wire model (each is a task and a connection), found {}",
                    producers.instances
                ),
            ));
        }
        let client = self.client.validate().map_err(|e| e.within("client"))?;
        let link = self.network.validate(loader).map_err(|e| e.within("network"))?;
        if self.network.drop > 0.0 {
            return Err(ConfigError::new(
                "network.drop",
                "the wire backend cannot lose one message for good: turmoil's TCP does not retransmit, so the connection would hang forever; use a `packet_loss` fault (lost transmissions are retransmitted after a timeout) or a `partition`",
            ));
        }
        Ok(HarnessParams { wire: self.wire, producers, client, network: self.network, link, fsync })
    }
}

impl HarnessParams {
    /// The tick in wire nanoseconds.
    pub fn tick_ns(&self) -> u64 {
        self.wire.tick.ns
    }

    /// The tick in scenario time: the resolution of every time a wire run records.
    pub fn resolution_ns(&self) -> u64 {
        self.wire.tick.ns / u64::from(self.wire.dilation)
    }

    pub(crate) fn link(&self) -> &LinkSpec {
        &self.link
    }

    pub(crate) fn fsync(&self) -> &Dist {
        &self.fsync
    }

    /// Every harness parameter, for `pipesim models`; `default_affinity` is the design's.
    pub fn docs(default_affinity: Affinity) -> Vec<ParamDoc> {
        let mut d = vec![
            ParamDoc::new(
                "wire.tick",
                "duration (whole ms)",
                "1ms",
                "turmoil's step; every time is resolved to tick / dilation",
            ),
            ParamDoc::new(
                "wire.dilation",
                "integer 1-1000",
                "1",
                "wire ns per scenario ns: services sleep, links wait and faults fall this much later, and recorded times are divided back",
            ),
            ParamDoc::new(
                "wire.producer_hosts",
                "integer 1-16",
                "2",
                "hosts that run the producer instances as tasks (a host per instance would cost a host per tick each)",
            ),
            ParamDoc::new(
                "wire.disk.fsync",
                "distribution",
                "{ dist = \"lognormal\", p50 = \"1ms\", p99 = \"5ms\" }",
                "time of one fsync on a host's simulated disk (cloud SSD single-digit ms; NVMe with power-loss protection tens of µs)",
            ),
            ParamDoc::new(
                "wire.disk.torn_block",
                "size",
                "none (atomic writes)",
                "on a crash, an unsynced write survives as a random number of whole blocks of this size",
            ),
        ];
        d.extend(FleetParams::docs_with("producers", default_affinity));
        d.extend(RetryParams::docs("client"));
        d.extend(LinkParams::docs("network").into_iter().map(|p| {
            if p.name != "network.drop" {
                return p;
            }
            ParamDoc::new(
                "network.drop",
                "0 only",
                "0",
                "refused above 0: turmoil's TCP does not retransmit, so a message lost for good would hang its connection; use a `packet_loss` fault",
            )
        }));
        d
    }
}

/// The predicted cost of a run, from the measured cost model (docs/wire.md).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostEstimate {
    /// turmoil steps.
    pub steps: f64,
    /// Messages over the network.
    pub messages: f64,
    /// Wall seconds on one core.
    pub wall_s: f64,
}

/// CPU per host per step, seconds (measured: `benches/wire.rs`, `wire_cost/idle_hosts`: 3.1 µs
/// with 2 to 5 hosts; it grows with host pairs, 4.9 µs with 17, as turmoil scans every link).
pub const COST_PER_HOST_STEP_S: f64 = 3.1e-6;
/// CPU per message, seconds (measured: `benches/wire.rs`, `wire_cost/messages`: 2.9 µs, of which
/// about 0.1 µs is the steps' own cost).
pub const COST_PER_MESSAGE_S: f64 = 2.8e-6;

impl CostEstimate {
    /// The cost of simulating `simulated_ns` with `hosts` hosts and `events` events of
    /// `messages_per_event` messages each.
    pub fn new(
        h: &HarnessParams,
        simulated_ns: u64,
        hosts: usize,
        events: f64,
        messages_per_event: f64,
    ) -> Self {
        let steps = simulated_ns as f64 * f64::from(h.wire.dilation) / h.tick_ns() as f64;
        let messages = events * messages_per_event;
        let wall_s = steps * hosts as f64 * COST_PER_HOST_STEP_S + messages * COST_PER_MESSAGE_S;
        Self { steps, messages, wall_s }
    }

    /// Wall seconds per simulated second.
    pub fn ratio(&self, simulated_ns: u64) -> f64 {
        self.wall_s / (simulated_ns as f64 / NS_PER_S as f64).max(1e-9)
    }
}
