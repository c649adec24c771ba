//! The trait a wire design implements: its hosts, their software, where producers send.

use crate::clock::Clock;
use crate::disk::Disk;
use crate::probe::Probe;
use pipesim_components::Affinity;
use pipesim_config::{ConfigError, ParamDoc};
use pipesim_engine::{RngStreams, SimTime, StreamRng};
use pipesim_models::BuildEnv;
use pipesim_workload::{EventMeta, WorkloadSpec};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// What a host runs: a future that serves until the host is crashed. Returning (with `Ok` or
/// an error) ends the run with the host named as the culprit, as a panic does.
pub type Software = Pin<Box<dyn Future<Output = turmoil::Result>>>;

/// One host of a design.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSpec {
    /// Its name on the simulated network (`redis-0`): services connect to `name:port`.
    pub name: String,
    /// The fault role it belongs to (`store`, `log`); one of [`WireDesign::fault_roles`].
    pub role: &'static str,
    /// Whether it has a [`Disk`] (and so takes `disk_stall`).
    pub disk: bool,
}

impl HostSpec {
    /// A host named `name` in `role`, without a disk.
    pub fn new(name: impl Into<String>, role: &'static str) -> Self {
        Self { name: name.into(), role, disk: false }
    }

    /// The same host with a disk.
    pub fn with_disk(mut self) -> Self {
        self.disk = true;
        self
    }
}

/// Where the harness's producers send events.
#[derive(Clone, Debug)]
pub struct ProducerSpec {
    /// Each destination is a list of addresses (`"redis-0-a:6379"`) tried in turn: a producer
    /// connects to the first, and moves to the next when a connection is refused, breaks, or
    /// answers [`crate::Status::Retry`] (a failover, a replica).
    pub destinations: Vec<Vec<String>>,
    /// The destination of an event (an index into `destinations`): a cluster client's slot
    /// routing, a partitioner. `None`: every event goes to destination 0.
    pub route: Option<fn(&EventMeta, usize) -> usize>,
    /// Messages one event costs on the network, for the cost estimate (request and answer: 2;
    /// a replica's copy: 3; ...).
    pub messages_per_event: f64,
}

impl ProducerSpec {
    /// One destination, one address.
    pub fn to(addr: impl Into<String>) -> Self {
        Self { destinations: vec![vec![addr.into()]], route: None, messages_per_event: 2.0 }
    }

    /// The destination of `ev`.
    pub(crate) fn destination_of(&self, ev: &EventMeta) -> usize {
        match self.route {
            Some(f) => f(ev, self.destinations.len()).min(self.destinations.len() - 1),
            None => 0,
        }
    }
}

/// What a host's software gets each time it starts (at the run's start and after each
/// restart).
#[derive(Clone)]
pub struct HostCtx {
    /// This host.
    pub host: HostSpec,
    /// Its index among the hosts of its role, in [`WireDesign::hosts`] order.
    pub index_in_role: usize,
    /// Where it reports visibility, drops and reads.
    pub probe: Probe,
    /// Scenario time and dilated sleeps.
    pub clock: Clock,
    /// Its disk, if [`HostSpec::disk`].
    pub disk: Option<Disk>,
    /// How many times this host has started before (0 at the first start).
    pub restarts: u32,
    pub(crate) rngs: Rngs,
    pub(crate) streams: RngStreams,
    pub(crate) counters: Counters,
    pub(crate) oracles: Oracles,
}

/// Run-scoped instrumentation shared by hosts, by name (see [`HostCtx::oracle`]).
pub(crate) type Oracles = Rc<RefCell<BTreeMap<String, Rc<dyn std::any::Any>>>>;

/// A host's random streams by name, kept across its restarts.
pub(crate) type Rngs = Rc<RefCell<BTreeMap<String, Rc<RefCell<StreamRng>>>>>;

/// Counters services keep for the report: (host, counter) → value.
pub(crate) type Counters = Rc<RefCell<BTreeMap<(String, &'static str), u64>>>;

impl HostCtx {
    /// Adds `n` to this host's counter `name` (reported per host in the `wire_counters`
    /// table: failovers, elections, truncated records, ...). Names are fixed phrases.
    pub fn count(&self, name: &'static str, n: u64) {
        *self.counters.borrow_mut().entry((self.host.name.clone(), name)).or_insert(0) += n;
    }

    /// The random stream `name` (a component path such as `station/server/service`): the
    /// same numbers a DES component of that name draws, and it carries on across this host's
    /// restarts instead of starting over.
    pub fn rng(&self, name: &str) -> Rc<RefCell<StreamRng>> {
        let mut map = self.rngs.borrow_mut();
        Rc::clone(
            map.entry(name.to_string())
                .or_insert_with(|| Rc::new(RefCell::new(self.streams.stream(name)))),
        )
    }

    /// A value shared by every host of the run under `name`, created with `T::default()` on
    /// first use. It is **instrumentation**, not a network: use it only to tell the checkers
    /// what a reader's view holds (which visible events a failover rolled back, say), never to
    /// let one host learn what it could only learn over the network.
    pub fn oracle<T: Default + 'static>(&self, name: &str) -> Rc<RefCell<T>> {
        let mut map = self.oracles.borrow_mut();
        let any = map
            .entry(name.to_string())
            .or_insert_with(|| Rc::new(RefCell::new(T::default())) as Rc<dyn std::any::Any>);
        Rc::clone(any)
            .downcast::<RefCell<T>>()
            .unwrap_or_else(|_| panic!("oracle {name:?} was created with another type"))
    }

    /// The host's disk; an error if the design did not give it one.
    pub fn disk(&self) -> std::io::Result<&Disk> {
        self.disk.as_ref().ok_or_else(|| {
            std::io::Error::other(format!(
                "host {} has no disk (HostSpec::with_disk)",
                self.host.name
            ))
        })
    }

    /// Sleeps `ns` of scenario time.
    pub async fn sleep(&self, ns: SimTime) {
        self.clock.sleep(ns).await;
    }
}

/// A design run as real async services on turmoil's simulated network.
///
/// The harness adds the producers (the workload's arrivals, sent open-loop at their creation
/// times over pipelined connections with the scenario's timeouts and retries), the network
/// (`[model.network]` delays and the network faults), the disk faults, crashes and restarts,
/// and the checkers. A design says what hosts it has, what each runs, and where producers
/// send. The rules its code must follow to stay deterministic are in the crate docs.
pub trait WireDesign: Sized + 'static {
    /// The `kind = "..."` name (conventionally starting with `wire_`).
    const KIND: &'static str;
    /// One line on what it is, for `pipesim models`.
    const SUMMARY: &'static str;
    /// Which producer instance sends an event when the scenario does not say.
    const DEFAULT_AFFINITY: Affinity = Affinity::Key;

    /// The design's part of the model table (the harness's `wire`, `producers`, `client` and
    /// `network` tables are taken out first). Deserialized with unknown keys rejected.
    type Config: DeserializeOwned;
    /// The validated parameters; echoed in the report.
    type Params: Clone + Send + Sync + Serialize + 'static;

    /// Every parameter of the design's part, with type, unit, default and meaning.
    fn params_doc() -> Vec<ParamDoc>;

    /// Checks a configuration and fills in defaults; error paths are relative to the model
    /// table.
    fn validate(config: Self::Config, env: &BuildEnv<'_>) -> Result<Self::Params, ConfigError>;

    /// The service hosts, in the order turmoil steps them (producers' hosts come after).
    fn hosts(params: &Self::Params) -> Vec<HostSpec>;

    /// The software of one host; called at the start and at every restart of that host.
    fn software(params: &Self::Params, ctx: HostCtx) -> Software;

    /// Where producers send.
    fn producer(params: &Self::Params) -> ProducerSpec;

    /// The roles of [`HostSpec::role`], plus `network` (the producers' connections), which
    /// the harness adds: the fault roles a scenario may target.
    fn fault_roles() -> &'static [&'static str];

    /// Durations the design waits for, by name (service times, timers), for the warning when
    /// one is under 20 ticks and rounding biases it.
    fn durations(_params: &Self::Params) -> Vec<(&'static str, SimTime)> {
        Vec::new()
    }

    /// Things worth telling the user before the run.
    fn warnings(_params: &Self::Params, _workload: &WorkloadSpec) -> Vec<String> {
        Vec::new()
    }
}
