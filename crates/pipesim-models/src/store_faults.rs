//! The store faults the Postgres-based designs (`baseline`, `sharded`, `lua_ordered`) share:
//! which kinds their `store` role takes, a frozen process's held events (`pause`), and a
//! `disk_stall` as the WAL's [`DiskStall`].

use crate::fault::{DiskStallEffect, FaultKind, FaultSpec};
use pipesim_components::{CrashScope, DiskEffect, DiskStall};
use pipesim_engine::RngStreams;

/// What the `store` role of a Postgres-based design takes; `network` takes the network kinds.
pub const STORE_FAULT_KINDS: &[&str] = &["crash", "rolling_restart", "disk_stall", "pause"];

/// The kinds a Postgres-based design's `role` takes.
pub fn postgres_fault_kinds(role: &str) -> &'static [&'static str] {
    if role == "store" { STORE_FAULT_KINDS } else { crate::clients::Clients::fault_kinds(role) }
}

/// The crash scopes a Postgres-based design's `role` takes: both on its `store` (a process
/// crash loses the WAL page being filled, a machine crash what was not fsynced), a process
/// crash elsewhere.
pub fn postgres_crash_scopes(role: &str) -> &'static [CrashScope] {
    if role == "store" { &CrashScope::NAMED } else { &[CrashScope::Process] }
}

/// The WAL stall a `disk_stall` fault puts on a Postgres server, with its own random stream
/// (`<name>/disk_stall/<start>`), or `None` for another kind.
pub fn wal_stall(fault: &FaultSpec, streams: &RngStreams, name: &str) -> Option<DiskStall> {
    let FaultKind::DiskStall { effect } = &fault.kind else { return None };
    let effect = match effect {
        DiskStallEffect::Slow { factor } => DiskEffect::Slow(*factor),
        DiskStallEffect::Extra { extra } => DiskEffect::Extra(extra.clone()),
        DiskStallEffect::Stop => DiskEffect::Stop,
    };
    Some(DiskStall {
        start_ns: fault.start_ns,
        end_ns: fault.end_ns,
        effect,
        rng: streams.stream(&format!("{name}/disk_stall/{}", fault.start_ns)),
    })
}

/// A frozen process (a `pause`): the model holds the process's own events (its CPU, latch and
/// WAL completions, its timers) while any pause is on, and replays them in order when the last
/// one ends. Requests still queue at it, its clients' timers still run, and nothing is lost.
#[derive(Debug)]
pub struct Frozen<E> {
    depth: u32,
    held: Vec<E>,
}

impl<E> Default for Frozen<E> {
    fn default() -> Self {
        Self { depth: 0, held: Vec::new() }
    }
}

impl<E> Frozen<E> {
    /// Whether the process is frozen now.
    #[inline]
    pub fn on(&self) -> bool {
        self.depth > 0
    }

    /// Holds an event of the frozen process until the pause ends.
    pub fn hold(&mut self, e: E) {
        self.held.push(e);
    }

    /// A pause begins (pauses may overlap; the process runs again when the last ends).
    pub fn begin(&mut self) {
        self.depth += 1;
    }

    /// A pause ends: the events to replay now, oldest first (empty while another pause is on).
    pub fn end(&mut self) -> Vec<E> {
        self.depth = self.depth.saturating_sub(1);
        if self.depth == 0 { std::mem::take(&mut self.held) } else { Vec::new() }
    }
}

/// What is left for the model to do after [`on_postgres_fault`].
pub enum StoreStep<E> {
    /// Crash the server (the model owns its outcomes), back after this long, with this scope.
    Crash(pipesim_engine::SimTime, pipesim_components::CrashScope),
    /// A pause ended: handle these held events now, in order.
    Replay(Vec<E>),
    /// Nothing more.
    Done,
}

/// The part of a `store` fault that is the same for every design with one Postgres server:
/// a disk stall set on (or taken off) its WAL, a pause begun or ended.
pub fn on_postgres_fault<J: Copy, E>(
    store: &mut pipesim_components::Postgres<J>,
    frozen: &mut Frozen<E>,
    fault: &FaultSpec,
    phase: crate::fault::FaultPhase,
    streams: &RngStreams,
) -> StoreStep<E> {
    use crate::fault::FaultPhase::{Begin, End};
    match (&fault.kind, phase) {
        (FaultKind::Crash { restart_ns, scope }, Begin) => {
            StoreStep::Crash(*restart_ns, scope.unwrap_or_default())
        }
        (FaultKind::DiskStall { .. }, Begin) => {
            store.set_disk_stall(wal_stall(fault, streams, "store"));
            StoreStep::Done
        }
        (FaultKind::DiskStall { .. }, End) => {
            store.set_disk_stall(None);
            StoreStep::Done
        }
        (FaultKind::Pause, Begin) => {
            frozen.begin();
            StoreStep::Done
        }
        (FaultKind::Pause, End) => StoreStep::Replay(frozen.end()),
        _ => StoreStep::Done,
    }
}
