//! Scenario time and the wire world's time.
//!
//! turmoil's clock moves in whole ticks and tokio's paused timer rounds every deadline up to a
//! whole millisecond. To resolve finer scenario times, the wire world can run **dilated**:
//! `dilation` wire nanoseconds per scenario nanosecond. Every duration a service sleeps, every
//! link delay and every fault boundary is multiplied by the dilation on the way in, and every
//! time the probe records is divided by it on the way out, so a report is always in scenario
//! time and the rounding step shrinks to `tick / dilation`. The cost grows with it (more ticks).

use pipesim_engine::SimTime;
use std::time::Duration;

/// Converts between scenario nanoseconds and the dilated wire world. Cheap to copy; every host
/// gets one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    dilation: u64,
    tick_ns: u64,
}

impl Clock {
    /// A clock with `dilation` wire ns per scenario ns and a turmoil tick of `tick_ns` (wire).
    pub(crate) fn new(dilation: u64, tick_ns: u64) -> Self {
        Self { dilation: dilation.max(1), tick_ns }
    }

    /// Now, in scenario nanoseconds. Must be called from inside a host's software.
    pub fn now_ns(&self) -> SimTime {
        let wire = turmoil::sim_elapsed().map_or(0, |d| d.as_nanos() as u64);
        wire / self.dilation
    }

    /// The wire duration of `scenario_ns`.
    pub fn wire(&self, scenario_ns: SimTime) -> Duration {
        Duration::from_nanos(scenario_ns.saturating_mul(self.dilation))
    }

    /// Sleeps `scenario_ns` of scenario time (rounded up to the wire world's millisecond).
    pub async fn sleep(&self, scenario_ns: SimTime) {
        if scenario_ns > 0 {
            tokio::time::sleep(self.wire(scenario_ns)).await;
        }
    }

    /// Sleeps until scenario time `at_ns` (at once if it has passed).
    pub async fn sleep_until(&self, at_ns: SimTime) {
        let now = self.now_ns();
        if at_ns > now {
            self.sleep(at_ns - now).await;
        }
    }

    /// Does `ns` of work on a worker that does one thing at a time, exactly: the work starts
    /// when the worker is free (`busy_until`) or when the job was ready (`ready_ns`, the time
    /// it was queued), whichever is later, ends `ns` after, and this returns that end, exact
    /// to the nanosecond, once the wire clock has reached it.
    ///
    /// Short CPU-bound steps (a 120 µs script) would each take a whole tick with
    /// [`Clock::sleep`]; here a worker runs as many of them per tick as fit, so its capacity
    /// is exact and so is each end time (report it with [`crate::Probe::visible_at`]); only
    /// what the worker sends on is delayed to the tick.
    pub async fn work(
        &self,
        busy_until: &std::cell::Cell<SimTime>,
        ready_ns: SimTime,
        ns: SimTime,
    ) -> SimTime {
        let start = busy_until.get().max(ready_ns);
        let end = start.saturating_add(ns);
        busy_until.set(end);
        self.sleep_until(end).await;
        end
    }

    /// The tokio instant of scenario time `at_ns`, for `tokio::time::sleep_until` and timeouts.
    pub fn instant_at(&self, at_ns: SimTime) -> tokio::time::Instant {
        let now = self.now_ns();
        let now_instant = tokio::time::Instant::now();
        if at_ns >= now {
            now_instant + self.wire(at_ns - now)
        } else {
            now_instant.checked_sub(self.wire(now - at_ns)).unwrap_or(now_instant)
        }
    }

    /// Wire nanoseconds per scenario nanosecond.
    pub fn dilation(&self) -> u64 {
        self.dilation
    }

    /// The turmoil tick, in scenario nanoseconds (the resolution of every time in a wire run).
    pub fn resolution_ns(&self) -> SimTime {
        self.tick_ns / self.dilation
    }

    /// Scenario ns → wire ns.
    pub(crate) fn to_wire_ns(self, scenario_ns: SimTime) -> u64 {
        scenario_ns.saturating_mul(self.dilation)
    }

    /// Wire ns → scenario ns.
    pub(crate) fn to_scenario_ns(self, wire_ns: u64) -> SimTime {
        wire_ns / self.dilation
    }
}
