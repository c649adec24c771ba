//! The wire-level backend: real async Rust services on turmoil's simulated network and disk,
//! driven by the same scenario, arrivals, fault timeline and checkers as the discrete-event
//! designs, producing the same `RunResults` (so report.json, charts, `compare`, `gate` and
//! `sweep` work unchanged).
//!
//! # Guarantees
//!
//! - **Determinism.** A wire run is a pure function of the scenario and the seed when the
//!   services follow the rules below: turmoil gets a seed derived from the run's seed and a
//!   fixed epoch ([`EPOCH_UNIX_S`]); hosts are stepped in registration order; every message's
//!   delay and every fault effect is drawn from pipesim's own ChaCha streams; directory
//!   listings are sorted ([`Disk::list`]); the probe's records are ordered by (time, call order).
//! - **Same inputs as the DES.** The arrivals (keys, per-key sequence numbers, creation times)
//!   come from the same generator and streams; producer instances are chosen from the same
//!   `producers` stream; services can draw from the same component streams
//!   ([`HostCtx::rng`]).
//! - **Latency from the intended time.** Producers are open-loop: an event is sent at its
//!   creation time and its latency counts from then, however long its connection was down.
//!
//! # Time
//!
//! turmoil advances in whole ticks (`wire.tick`, whole milliseconds) and tokio's paused timer
//! rounds every deadline up to a millisecond; everything happens at step boundaries. A
//! duration of `d` therefore becomes `⌈d⌉` in ticks: about +½ tick on average. With
//! `wire.dilation = D` the wire world runs D times slower than the scenario and every recorded
//! time is divided back, so the rounding step is `tick / D` (see [`Clock`]). A message is
//! delivered at the first step boundary after its send time plus its delay, at least one tick
//! after it was sent.
//!
//! # Rules for a service's code
//!
//! 1. Use `tokio::select!` with `biased;` (tokio picks branches at random otherwise, from a
//!    seed the simulation does not control), or build with `--cfg tokio_unstable`.
//! 2. No `HashMap`/`HashSet` iteration (use `BTreeMap`, `IndexMap` or vectors), no real
//!    threads (`std::thread`, `spawn_blocking`), no wall clock (`std::time::Instant`,
//!    `SystemTime::now` outside turmoil's shims), no OS randomness: draw from
//!    [`HostCtx::rng`].
//! 3. Network through `turmoil::net`, files through [`Disk`] (or `turmoil::fs::shim`), sleeps
//!    through [`Clock`] (so dilation applies), tasks through [`spawn`] (so a panic names its
//!    host).
//! 4. Report what a reader would see: [`Probe::visible`] when an event enters the read view,
//!    [`Probe::retracted`] when it leaves it, [`Probe::dropped`] for a deliberate discard.
//!
//! `pipesim run --check-determinism` runs every model twice and compares the reports.
//!
//! # Adding a design
//!
//! Implement [`WireDesign`] (hosts and roles, each host's software, where producers send) and
//! register it with [`register`] on a registry handed to `pipesim_cli::main_with_registry`.
//! `designs/` holds the reference designs; `docs/wire.md` at the repository root is the user's
//! guide.

mod clock;
mod design;
pub mod designs;
mod disk;
mod faults;
mod frame;
mod harness;
mod kind;
mod network;
mod panic;
mod params;
mod probe;
mod producer;
mod tables;

pub use clock::Clock;
pub use design::{HostCtx, HostSpec, ProducerSpec, Software, WireDesign};
pub use disk::{Disk, DiskStats};
pub use faults::{HOST_KINDS, HOST_KINDS_WITH_DISK, NETWORK_KINDS, NETWORK_ROLE};
pub use frame::{
    Cursor, EVENT_BYTES, MAX_FRAME_BYTES, Request, Response, Status, decode_event, encode_event,
    frame_into, read_frame, write_frame,
};
pub use harness::EPOCH_UNIX_S;
pub use kind::{MIN_TICKS_PER_DURATION, SLOW_RATIO, register};
pub use network::{MAX_RETRANSMISSIONS, MAX_RTO_NS};
pub use panic::spawn;
pub use params::{
    COST_PER_HOST_STEP_S, COST_PER_MESSAGE_S, CostEstimate, DiskParams, HARNESS_KEYS,
    HarnessParams, MAX_DILATION, MAX_HOSTS, MAX_INSTANCES, MAX_PRODUCER_HOSTS, MAX_TICK_MS,
    WireParams,
};
pub use probe::{MAX_DROP_REASONS, Probe};
pub use producer::ProducerStats;

/// Adds the reference wire designs of [`designs`] to `registry`.
pub fn register_reference_designs(
    registry: &mut pipesim_models::Registry,
) -> Result<(), pipesim_models::RegistryError> {
    register::<designs::fifo::WireFifo>(registry)?;
    register::<designs::log::WireLog>(registry)?;
    register::<designs::lua::WireLua>(registry)?;
    register::<designs::sharded::WireSharded>(registry)?;
    Ok(())
}
