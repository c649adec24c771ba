//! What a model sees of the engine while it runs.

use pipesim_engine::{EventQueue, SimTime};
use pipesim_metrics::Recorder;

/// The simulation context handed to every model call: the clock, the event queue and the
/// recorder.
pub struct Ctx<E> {
    pub(crate) now: SimTime,
    pub(crate) queue: EventQueue<E>,
    /// Where the model reports acknowledgements, visibility, drops and reads.
    pub rec: Recorder,
}

impl<E> Ctx<E> {
    pub(crate) fn new(rec: Recorder) -> Self {
        Self {
            now: 0,
            queue: EventQueue::with_capacity(1024),
            rec,
        }
    }

    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at absolute time `at` (not in the past).
    #[inline]
    pub fn schedule_at(&mut self, at: SimTime, event: E) {
        debug_assert!(at >= self.now, "scheduled in the past: {at} < {}", self.now);
        self.queue.push(at.max(self.now), event);
    }

    /// Schedules `event` after `delay_ns`.
    #[inline]
    pub fn schedule_in(&mut self, delay_ns: SimTime, event: E) {
        self.queue.push(self.now.saturating_add(delay_ns), event);
    }

    /// Events pending in the queue (the model's own; the next arrival is kept apart).
    pub fn pending_events(&self) -> usize {
        self.queue.len()
    }
}
