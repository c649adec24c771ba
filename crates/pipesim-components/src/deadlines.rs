//! Client-side request timeouts without one event per request.

use pipesim_engine::{Sim, SimTime};
use std::collections::BTreeMap;

/// Requests waiting for an answer, each with a deadline. Only the earliest deadline has an
/// event in the queue, so a million requests in flight cost a million map entries, not a
/// million heap entries; an answered request is disarmed by removing its entry.
#[derive(Clone, Debug)]
pub struct Deadlines<K> {
    armed: BTreeMap<(SimTime, K), ()>,
    /// The time the one scheduled check fires, if any.
    next_check: Option<SimTime>,
}

impl<K: Ord + Copy> Default for Deadlines<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Ord + Copy> Deadlines<K> {
    /// Nothing armed.
    pub fn new() -> Self {
        Self { armed: BTreeMap::new(), next_check: None }
    }

    /// Arms a timeout for `key` at `deadline`; `check` is the event that calls
    /// [`Deadlines::expire`].
    #[inline]
    pub fn arm<E>(&mut self, sim: &mut Sim<E>, deadline: SimTime, key: K, check: E) {
        self.armed.insert((deadline, key), ());
        if self.next_check.is_none_or(|t| deadline < t) {
            self.next_check = Some(deadline);
            sim.schedule_at(deadline, check);
        }
    }

    /// Disarms `key`'s timeout at `deadline`; returns whether it was still armed (false: it
    /// already expired).
    #[inline]
    pub fn disarm(&mut self, deadline: SimTime, key: K) -> bool {
        self.armed.remove(&(deadline, key)).is_some()
    }

    /// The check event fired: moves every key whose deadline has passed into `expired` and
    /// schedules the next check. A stale check (superseded by an earlier one) does nothing.
    pub fn expire<E>(&mut self, sim: &mut Sim<E>, check: E, expired: &mut Vec<K>) {
        let now = sim.now();
        if self.next_check != Some(now) {
            return;
        }
        self.next_check = None;
        while let Some((&(deadline, key), _)) = self.armed.first_key_value() {
            if deadline > now {
                self.next_check = Some(deadline);
                sim.schedule_at(deadline, check);
                break;
            }
            self.armed.pop_first();
            expired.push(key);
        }
    }

    /// Requests armed.
    pub fn len(&self) -> usize {
        self.armed.len()
    }

    /// Whether nothing is armed.
    pub fn is_empty(&self) -> bool {
        self.armed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug)]
    struct Check;

    #[test]
    fn expires_only_what_was_not_disarmed() {
        let mut sim: Sim<Check> = Sim::new();
        let mut d = Deadlines::new();
        d.arm(&mut sim, 30, 'a', Check);
        d.arm(&mut sim, 10, 'b', Check); // earlier: a second check is scheduled
        d.arm(&mut sim, 20, 'c', Check);
        assert!(d.disarm(20, 'c'));
        let mut expired = Vec::new();
        while let Some((t, ev)) = sim.queue().pop() {
            sim.set_now(t);
            d.expire(&mut sim, ev, &mut expired);
        }
        assert_eq!(expired, ['b', 'a']);
        assert!(!d.disarm(30, 'a'), "already expired");
        assert!(d.is_empty());
    }
}
