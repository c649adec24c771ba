//! A [`WireDesign`] as a kind of the registry: parsing, validation, warnings, running.

use crate::design::{HostSpec, WireDesign};
use crate::faults::{HOST_KINDS, HOST_KINDS_WITH_DISK, NETWORK_KINDS, NETWORK_ROLE};
use crate::harness;
use crate::params::{
    COST_PER_MESSAGE_S, CostEstimate, HARNESS_KEYS, HarnessConfig, HarnessParams, MAX_HOSTS,
};
use pipesim_config::ConfigError;
use pipesim_engine::{NS_PER_S, SimTime, format_duration_ns};
use pipesim_models::estimate::estimate;
use pipesim_models::{
    BuildEnv, CrashScope, FaultSpec, KindEntry, KindInfo, MemoryItem, ModelEstimate, ModelOutcome,
    ModelSpec, ModelTables, ParseModelError, Registry, RegistryError, ResolvedFaults, RunFailure,
    RunSettings, Runnable, Work, resolve,
};
use pipesim_workload::WorkloadSpec;
use std::sync::Arc;

/// A duration shorter than this many ticks (scenario time `tick / dilation`) gets a warning:
/// rounding it up to whole ticks biases it by more than 2.5 %.
pub const MIN_TICKS_PER_DURATION: u64 = 20;

/// Memory of one simulated host: its tokio runtime and local task set, turmoil's host state
/// and a few connections' buffers (measured with a run of 64 idle hosts).
const BYTES_PER_HOST: u64 = 256 << 10;

/// Above this predicted wall time per simulated second, a run warns before it starts.
pub const SLOW_RATIO: f64 = 10.0;

/// Adds wire design `W` to `registry`.
pub fn register<W: WireDesign>(registry: &mut Registry) -> Result<(), RegistryError> {
    registry
        .add(W::KIND, KindEntry { info: info::<W>, parse: parse::<W>, harness_keys: &HARNESS_KEYS })
}

fn info<W: WireDesign>() -> KindInfo {
    let mut params = W::params_doc();
    params.extend(HarnessParams::docs(W::DEFAULT_AFFINITY));
    KindInfo { name: W::KIND, summary: W::SUMMARY, backend: "wire", params }
}

/// A validated wire model.
struct WireKind<W: WireDesign> {
    params: Arc<W::Params>,
    harness: HarnessParams,
    hosts: Vec<HostSpec>,
    durations: Vec<(&'static str, SimTime)>,
    messages_per_event: f64,
}

fn parse<W: WireDesign>(
    name: &str,
    tables: ModelTables<'_, '_>,
    env: &BuildEnv<'_>,
) -> Result<ModelSpec, ParseModelError> {
    let config: W::Config = erased_serde::deserialize(tables.design)
        .map_err(|error| ParseModelError::Deserialize { harness: false, error })?;
    let harness: HarnessConfig = erased_serde::deserialize(tables.harness)
        .map_err(|error| ParseModelError::Deserialize { harness: true, error })?;
    let params = W::validate(config, env).map_err(ParseModelError::Invalid)?;
    let harness =
        harness.validate(env.loader, W::DEFAULT_AFFINITY).map_err(ParseModelError::Invalid)?;
    let hosts = W::hosts(&params);
    check_hosts::<W>(&hosts, &harness).map_err(ParseModelError::Invalid)?;
    let producer = W::producer(&params);
    check_destinations(&producer.destinations, &hosts).map_err(ParseModelError::Invalid)?;
    let kind = WireKind::<W> {
        durations: W::durations(&params),
        params: Arc::new(params),
        harness,
        hosts,
        messages_per_event: producer.messages_per_event,
    };
    Ok(ModelSpec::new(name, W::KIND, Arc::new(kind)))
}

fn check_hosts<W: WireDesign>(hosts: &[HostSpec], h: &HarnessParams) -> Result<(), ConfigError> {
    let total = hosts.len() + h.wire.producer_hosts as usize;
    if total > MAX_HOSTS {
        return Err(ConfigError::new(
            "",
            format!(
                "{total} hosts ({} services, {} producers' hosts): a wire run takes at most {MAX_HOSTS} (each turmoil step scans every link for every host, which grows as hosts³); lower the design's node counts or wire.producer_hosts",
                hosts.len(),
                h.wire.producer_hosts
            ),
        ));
    }
    for (i, host) in hosts.iter().enumerate() {
        let bug = |what: String| {
            ConfigError::new("", format!("wire design {} is broken: {what}", W::KIND))
        };
        let valid = !host.name.is_empty()
            && host.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !host.name.starts_with("producer-");
        if !valid {
            return Err(bug(format!(
                "host name {:?} is not made of [A-Za-z0-9-] or is reserved (producer-N)",
                host.name
            )));
        }
        if hosts[..i].iter().any(|o| o.name == host.name) {
            return Err(bug(format!("two hosts are named {:?}", host.name)));
        }
        if !W::fault_roles().contains(&host.role) || host.role == NETWORK_ROLE {
            return Err(bug(format!(
                "host {} has role {:?}, which is not in its fault_roles() or is the reserved `network`",
                host.name, host.role
            )));
        }
    }
    Ok(())
}

fn check_destinations(dests: &[Vec<String>], hosts: &[HostSpec]) -> Result<(), ConfigError> {
    if dests.is_empty() || dests.iter().any(Vec::is_empty) {
        return Err(ConfigError::new("", "the design gives producers no address to send to"));
    }
    for addr in dests.iter().flatten() {
        let host = addr.split(':').next().unwrap_or_default();
        if !hosts.iter().any(|h| h.name == host) {
            return Err(ConfigError::new(
                "",
                format!("producers would send to {addr}, but the design has no host {host}"),
            ));
        }
    }
    Ok(())
}

impl<W: WireDesign> WireKind<W> {
    fn nodes(&self, role: &str) -> u32 {
        if role == NETWORK_ROLE {
            return self.harness.wire.producer_hosts;
        }
        self.hosts.iter().filter(|h| h.role == role).count() as u32
    }

    fn cost_warning(&self, workload: &WorkloadSpec, settings: &RunSettings) -> Option<String> {
        let simulated_ns = settings.duration_ns.saturating_add(settings.drain_ns);
        let events = workload.rate_per_s * settings.duration_ns as f64 / NS_PER_S as f64;
        let hosts = self.hosts.len() + self.harness.wire.producer_hosts as usize;
        let cost =
            CostEstimate::new(&self.harness, simulated_ns, hosts, events, self.messages_per_event);
        let ratio = cost.ratio(simulated_ns);
        (ratio > SLOW_RATIO).then(|| {
            format!(
                "this wire run is predicted to take about {:.0} s of CPU ({ratio:.0}× its simulated time: {:.0} steps of {hosts} hosts, {:.0} messages); raise wire.tick, lower wire.dilation or the duration",
                cost.wall_s, cost.steps, cost.messages
            )
        })
    }

    fn rounding_warnings(&self) -> Vec<String> {
        let res = self.harness.resolution_ns().max(1);
        let mut all = self.durations.clone();
        all.push(("network.delay (mean)", self.harness.link().delay().mean_ns() as SimTime));
        all.into_iter()
            .filter(|(_, ns)| *ns > 0 && *ns < MIN_TICKS_PER_DURATION * res)
            .map(|(name, ns)| {
                let bias = res as f64 / 2.0;
                format!(
                    "{name} is {} but wire time resolves {} (tick {} / dilation {}): rounding up to whole ticks adds about {} to it on average (+{:.0} %); raise wire.dilation to at least {}",
                    format_duration_ns(ns),
                    format_duration_ns(res),
                    format_duration_ns(self.harness.tick_ns()),
                    self.harness.wire.dilation,
                    format_duration_ns(bias as SimTime),
                    100.0 * bias / ns as f64,
                    (MIN_TICKS_PER_DURATION * self.harness.tick_ns()).div_ceil(ns),
                )
            })
            .collect()
    }
}

impl<W: WireDesign> Runnable for WireKind<W> {
    fn run(
        &self,
        settings: &RunSettings,
        workload: &WorkloadSpec,
        faults: &[FaultSpec],
    ) -> Result<ModelOutcome, RunFailure> {
        let resolved = self.resolve_faults(faults);
        let (results, left) =
            harness::run::<W>(&self.params, &self.harness, settings, workload, &resolved)?;
        Ok(harness::outcome(results, left, resolved, &self.harness))
    }

    fn resolve_faults(&self, faults: &[FaultSpec]) -> ResolvedFaults {
        resolve(faults, |role| self.nodes(role))
    }

    fn fault_roles(&self) -> &'static [&'static str] {
        W::fault_roles()
    }

    fn crash_scopes(&self, role: &str) -> &'static [CrashScope] {
        // Turmoil drops a crashed host's unsynced writes: to a disk, every crash is a machine
        // crash. Without a disk the two scopes lose the same (the process's memory).
        if self.hosts.iter().any(|h| h.role == role && h.disk) {
            &[CrashScope::Machine]
        } else {
            &CrashScope::NAMED
        }
    }

    fn fault_kinds(&self, role: &str) -> &'static [&'static str] {
        if role == NETWORK_ROLE {
            &NETWORK_KINDS
        } else if self.hosts.iter().any(|h| h.role == role && h.disk) {
            &HOST_KINDS_WITH_DISK
        } else {
            &HOST_KINDS
        }
    }

    fn parameters(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(&*self.params).expect("parameters serialize to JSON");
        let h = serde_json::to_value(&self.harness).expect("parameters serialize to JSON");
        if let (Some(obj), serde_json::Value::Object(harness)) = (v.as_object_mut(), h) {
            obj.extend(harness);
        }
        v
    }

    fn warnings(&self, workload: &WorkloadSpec, settings: &RunSettings) -> Vec<String> {
        let mut out = W::warnings(&self.params, workload);
        out.extend(self.rounding_warnings());
        out.extend(self.cost_warning(workload, settings));
        out
    }

    fn estimate(
        &self,
        name: &str,
        settings: &RunSettings,
        workload: &WorkloadSpec,
        faults: &[FaultSpec],
    ) -> ModelEstimate {
        // The cost model (docs/wire.md): per host per step, plus per message.
        let simulated_ns = settings.duration_ns.saturating_add(settings.drain_ns);
        let hosts = self.hosts.len() + self.harness.wire.producer_hosts as usize;
        let cost = CostEstimate::new(&self.harness, simulated_ns, hosts, 0.0, 0.0);
        let m = self.messages_per_event;
        let work = Work {
            events_per_arrival: m + 1.0,
            ns_per_event: COST_PER_MESSAGE_S * 1e9 * m / (m + 1.0),
            fixed_s: cost.wall_s,
            ..Work::DEFAULT
        };
        let own = vec![MemoryItem::model(
            "wire.producer_hosts",
            format!("{hosts} simulated hosts (a tokio runtime, sockets and buffers each)"),
            hosts as u64 * BYTES_PER_HOST,
        )];
        let resolved = self.resolve_faults(faults);
        estimate(name, work, own, settings, workload, &resolved.delivered)
    }
}
