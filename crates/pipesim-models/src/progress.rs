//! How far a run has got, for a progress display in another thread.
//!
//! The driver publishes simulated time and the event count every [`PUBLISH_EVERY`] events with
//! relaxed atomic stores: one counter test per event, nothing that could change a result, and
//! nothing the simulation ever reads back.

use pipesim_engine::SimTime;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Events between two publications (a power of two: the test is a mask).
pub const PUBLISH_EVERY: u64 = 1 << 16;

/// A run's progress, written by the run's thread, read by anyone.
#[derive(Debug, Default)]
pub struct RunProgress {
    now_ns: AtomicU64,
    events: AtomicU64,
    done: AtomicBool,
}

impl RunProgress {
    /// A run that has not started.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the run has reached `now_ns` after `events` events.
    #[inline]
    pub fn publish(&self, now_ns: SimTime, events: u64) {
        self.now_ns.store(now_ns, Ordering::Relaxed);
        self.events.store(events, Ordering::Relaxed);
    }

    /// Records that the run is over.
    pub fn finish(&self, now_ns: SimTime, events: u64) {
        self.publish(now_ns, events);
        self.done.store(true, Ordering::Release);
    }

    /// Simulated time reached.
    pub fn now_ns(&self) -> SimTime {
        self.now_ns.load(Ordering::Relaxed)
    }

    /// Events processed.
    pub fn events(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }

    /// Whether the run is over.
    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }
}
