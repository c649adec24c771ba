//! The clock and the pending events of one run: what components schedule on.

use crate::queue::EventQueue;
use crate::time::SimTime;

/// Simulated time and the event queue of one run, generic over the model's event type.
///
/// Components (servers, links, logs) take `&mut Sim<E>` and a function that wraps their own
/// event into `E`, so a model composes them without boxing or dynamic dispatch.
pub struct Sim<E> {
    pub(crate) now: SimTime,
    pub(crate) queue: EventQueue<E>,
}

impl<E> Default for Sim<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Sim<E> {
    /// Time 0, nothing pending.
    pub fn new() -> Self {
        Self { now: 0, queue: EventQueue::with_capacity(1024) }
    }

    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Advances the clock to `t` (the run loop does this before each event).
    #[inline]
    pub fn set_now(&mut self, t: SimTime) {
        debug_assert!(t >= self.now, "time goes forward: {t} < {}", self.now);
        self.now = t;
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

    /// The event queue (for the run loop).
    #[inline]
    pub fn queue(&mut self) -> &mut EventQueue<E> {
        &mut self.queue
    }

    /// Events pending in the queue.
    #[inline]
    pub fn pending_events(&self) -> usize {
        self.queue.len()
    }
}
