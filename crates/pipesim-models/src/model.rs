//! The traits a design implements.

use crate::ctx::Ctx;
use crate::detail::DetailTable;
use crate::driver::RunSettings;
use crate::estimate::{MemoryItem, Work};
use crate::fault::{FaultPhase, FaultSpec};
use pipesim_components::{CrashScope, ReaderParams, Readers};
use pipesim_config::{ConfigError, Loader, ParamDoc};
use pipesim_engine::{RngStreams, StreamRng, Zipf};
use pipesim_metrics::RunResults;
use pipesim_workload::{EventMeta, Popularity, WorkloadSpec};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How a design reacts to events. The run loop calls these in simulated-time order.
///
/// # The ordering contract
///
/// A design author can rely on these, and on nothing else (`driver.rs` implements them):
///
/// - **One call at a time.** The run loop calls one method, waits for it to return, then picks
///   the next; a method is never called from inside another (no re-entrancy), so a design can
///   hold `&mut self` state across everything it does in one call.
/// - **Time only moves forward, between calls.** `ctx.now()` is fixed for the whole of a call.
///   Scheduling at `ctx.now()` (a delay of 0) is allowed: the event runs after the current
///   call returns, at the same time. Scheduling in the past is a bug (debug builds assert; a
///   release build runs it now).
/// - **Ties at one nanosecond** are broken by one insertion sequence shared by the three
///   sources: fault boundaries come first (they take their sequence numbers before
///   [`Model::init`], in timeline order, a window's begin before an end at the same time),
///   then arrivals and the design's own events in the order they were put in line. An event
///   takes its place when it is scheduled; the next arrival takes its place when the previous
///   arrival has been handled. So at one instant, events scheduled earlier run earlier.
/// - **Only the run loop advances time or pops the queue.** `Sim::set_now` and `Sim::queue`
///   are the run loop's (and component unit tests'): `clippy.toml` forbids them elsewhere.
/// - **The run ends** when the drain ends, or earlier once nothing is pending but the
///   design's own timers (every created event is visible or dropped, and no arrival is left).
pub trait Model {
    /// The design's own events (a departure, a timer, a message arriving), stored inline in the
    /// event queue: keep it small and `Copy`.
    type Event: Copy;

    /// Before the first arrival: register drop reasons, enable the read path, schedule timers.
    fn init(&mut self, _ctx: &mut Ctx<Self::Event>) {}

    /// `ev` is the next arrival (it has not happened yet): a hint to prefetch the per-key state
    /// its arrival will touch. It must not change the model's state in any way a run can
    /// observe; the default does nothing.
    #[inline]
    fn prefetch(&mut self, _ev: &EventMeta) {}

    /// A producer created `ev` at `ctx.now()`.
    fn on_arrival(&mut self, ctx: &mut Ctx<Self::Event>, ev: EventMeta);

    /// One of the design's own events is due.
    fn on_event(&mut self, ctx: &mut Ctx<Self::Event>, event: Self::Event);

    /// A fault window opens or closes. Only faults aimed at one of the kind's
    /// [`ModelKind::fault_roles`] reach the model (the scenario checks the roles).
    fn on_fault(&mut self, _ctx: &mut Ctx<Self::Event>, _fault: &FaultSpec, _phase: FaultPhase) {}
}

/// What building a model from a scenario may consult.
pub struct BuildEnv<'a> {
    /// Reads files the model's parameters name (empirical distributions).
    pub loader: &'a dyn Loader,
    /// The workload the model will face (for warnings such as utilisation ≥ 1).
    pub workload: &'a WorkloadSpec,
}

/// What a model gets when a run starts.
pub struct RunEnv<'a> {
    /// The run's random streams; name yours after the component (`station/db/service`).
    pub streams: &'a RngStreams,
    /// The workload of the run.
    pub workload: &'a WorkloadSpec,
    /// The run's seed and time settings (warmup, duration, drain).
    pub settings: &'a RunSettings,
    /// The fault timeline (also delivered to [`Model::on_fault`] as it happens): components
    /// whose faults act on messages in flight, such as links, take their windows up front.
    pub faults: &'a [FaultSpec],
}

impl RunEnv<'_> {
    /// A design's polling readers over the workload's keys (popular keys by the workload's Zipf
    /// law when it has one), drawn from the `readers` stream, and that stream, which then
    /// times their polls.
    pub fn readers(&self, params: &ReaderParams) -> (Readers, StreamRng) {
        let keys = &self.workload.keys;
        let zipf = match keys.popularity {
            Popularity::Zipf { exponent } => Some(Zipf::new(u64::from(keys.count), exponent)),
            Popularity::Uniform => None,
        };
        let mut rng = self.streams.stream("readers");
        let readers = Readers::new(params, keys.count, zipf.as_ref(), &mut rng);
        (readers, rng)
    }
}

/// A design: its name, its parameters and how to build it. One file per kind.
pub trait ModelKind: Model + Sized + 'static {
    /// The `kind = "..."` name in scenario files.
    const KIND: &'static str;
    /// One line on what the design is, for `pipesim models`.
    const SUMMARY: &'static str;

    /// The model table as written (deserialized with unknown keys rejected).
    type Config: DeserializeOwned;
    /// The validated parameters, defaults filled in; echoed into the report.
    type Params: Clone + Send + Sync + Serialize + 'static;

    /// Every parameter with its type, unit, default and meaning.
    fn params_doc() -> Vec<ParamDoc>;

    /// Checks a configuration and fills in defaults. Errors name the field by its path within
    /// the model table.
    fn validate(config: Self::Config, env: &BuildEnv<'_>) -> Result<Self::Params, ConfigError>;

    /// A fresh model for one run (cannot fail: the parameters are validated).
    fn build(params: &Self::Params, env: &RunEnv<'_>) -> Self;

    /// The fault roles this design has (`network`, `producer`, `store`, `log`, `cache`,
    /// `processor`, …): a fault aimed at another role is an error naming these.
    fn fault_roles() -> &'static [&'static str] {
        &[]
    }

    /// The fault kinds the design can apply to `role` (one of [`ModelKind::fault_roles`]): a
    /// fault of another kind there is an error naming these. By default, only crashes.
    fn fault_kinds(_role: &str) -> &'static [&'static str] {
        &["crash"]
    }

    /// The crash scopes the design models on `role`: a crash whose `scope` is given and not
    /// among them is an error naming these. The first is what a crash without a `scope`
    /// does. By default, process crashes only.
    fn crash_scopes(_role: &str) -> &'static [CrashScope] {
        &[CrashScope::Process]
    }

    /// How many nodes the design's `role` has (brokers of a log, shards of a store), for the
    /// crashes a rolling restart of that role becomes. By default one.
    fn role_nodes(_params: &Self::Params, _role: &str) -> u32 {
        1
    }

    /// Things worth telling the user before the run, such as a utilisation at or above 1.
    fn warnings(_params: &Self::Params, _workload: &WorkloadSpec) -> Vec<String> {
        Vec::new()
    }

    /// The memory the design's own state takes under `workload`, one item per parameter that
    /// sets it (what every run costs, the keys, the timeline and the faults, is counted by
    /// the run estimate itself). By default nothing.
    fn memory(_params: &Self::Params, _workload: &WorkloadSpec) -> Vec<MemoryItem> {
        Vec::new()
    }

    /// The work of a run per arrival (engine events, wall time per event, time in flight),
    /// for the run estimate.
    fn work(_params: &Self::Params, _workload: &WorkloadSpec) -> Work {
        Work::DEFAULT
    }

    /// Design-specific tables for the report (per-station statistics, say).
    fn details(&self, _results: &RunResults) -> Vec<DetailTable> {
        Vec::new()
    }
}
