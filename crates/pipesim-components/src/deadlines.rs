//! Client-side request timeouts without one event per request.

use pipesim_engine::{Sim, SimTime};
use std::collections::BTreeMap;

/// Requests waiting for an answer, each with a deadline. Only the earliest deadline has an
/// event in the queue, so a million requests in flight cost a million map entries, not a
/// million heap entries; an answered request is disarmed by removing its entry.
#[derive(Clone, Debug)]
pub struct Deadlines<K, V> {
    armed: BTreeMap<(SimTime, K), V>,
    /// The time the one scheduled check fires, if any.
    next_check: Option<SimTime>,
}

impl<K: Ord + Copy, V> Default for Deadlines<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Ord + Copy, V> Deadlines<K, V> {
    /// Nothing armed.
    pub fn new() -> Self {
        Self { armed: BTreeMap::new(), next_check: None }
    }

    /// Arms a timeout for `key` at `deadline`, keeping `value` with it; `check` is the event
    /// that calls [`Deadlines::expire`].
    #[inline]
    pub fn arm<E>(&mut self, sim: &mut Sim<E>, deadline: SimTime, key: K, value: V, check: E) {
        self.armed.insert((deadline, key), value);
        if self.next_check.is_none_or(|t| deadline < t) {
            self.next_check = Some(deadline);
            sim.schedule_at(deadline, check);
        }
    }

    /// Disarms `key`'s timeout at `deadline`, returning its value if it was still armed
    /// (`None`: it already expired).
    #[inline]
    pub fn disarm(&mut self, deadline: SimTime, key: K) -> Option<V> {
        self.armed.remove(&(deadline, key))
    }

    /// The check event fired: moves every key whose deadline has passed into `expired` and
    /// schedules the next check. A stale check (superseded by an earlier one) does nothing.
    pub fn expire<E>(&mut self, sim: &mut Sim<E>, check: E, expired: &mut Vec<V>) {
        let now = sim.now();
        if self.next_check != Some(now) {
            return;
        }
        self.next_check = None;
        while let Some((&(deadline, _), _)) = self.armed.first_key_value() {
            if deadline > now {
                self.next_check = Some(deadline);
                sim.schedule_at(deadline, check);
                break;
            }
            if let Some((_, value)) = self.armed.pop_first() {
                expired.push(value);
            }
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

/// A ticket for a timeout armed in [`TicketDeadlines`]; the caller keeps it to disarm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// Most entries the ring keeps before it moves the oldest live ones to the overflow map.
const RING_CAP: usize = 1 << 16;

/// Timeouts armed mostly in deadline order (a client whose requests all wait the same time), in
/// O(1) per arm and disarm: a ring of slots indexed by ticket, oldest first. Answered requests
/// leave dead slots that fall off the front; a timeout armed out of order (a retry, whose
/// deadline lies beyond later first attempts') and live slots pushed out of a full ring go to an
/// ordered overflow map, so the ring stays bounded even when a request is never answered.
/// Exact: every deadline fires at its time, never late.
///
/// Liveness is kept in its own deque of flags, one byte a slot, apart from the values: a disarm
/// (one per answered request, the common case) touches only the flag, which stays in cache,
/// while the slot's value (tens of bytes, written a round trip earlier) is read again only if
/// the timeout fires.
#[derive(Clone, Debug)]
pub struct TicketDeadlines<V> {
    /// Ticket of `ring[0]`.
    base: u64,
    ring: std::collections::VecDeque<(SimTime, Option<V>)>,
    /// `alive[i]`: `ring[i]` is still armed.
    alive: std::collections::VecDeque<bool>,
    overflow: BTreeMap<(SimTime, Ticket), V>,
    next_ticket: u64,
    next_check: Option<SimTime>,
    live: usize,
}

impl<V> Default for TicketDeadlines<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> TicketDeadlines<V> {
    /// Nothing armed.
    pub fn new() -> Self {
        Self {
            base: 0,
            ring: std::collections::VecDeque::new(),
            alive: std::collections::VecDeque::new(),
            overflow: BTreeMap::new(),
            next_ticket: 0,
            next_check: None,
            live: 0,
        }
    }

    /// Arms a timeout at `deadline` for `value`; `check` is the event that calls
    /// [`TicketDeadlines::expire`]. Returns the ticket to disarm it with.
    #[inline]
    pub fn arm<E>(&mut self, sim: &mut Sim<E>, deadline: SimTime, value: V, check: E) -> Ticket {
        let ticket = Ticket(self.next_ticket);
        self.next_ticket += 1;
        self.live += 1;
        let in_order = self.ring.back().is_none_or(|&(d, _)| deadline >= d);
        if in_order {
            if self.ring.is_empty() {
                self.base = ticket.0;
            }
            if self.base + self.ring.len() as u64 != ticket.0 {
                // Tickets went to the overflow meanwhile: keep the ring's indexing contiguous
                // by padding with dead slots (rare: only after out-of-order arms).
                while self.base + (self.ring.len() as u64) < ticket.0 {
                    self.ring.push_back((deadline, None));
                    self.alive.push_back(false);
                }
            }
            self.ring.push_back((deadline, Some(value)));
            self.alive.push_back(true);
            if self.ring.len() > RING_CAP {
                self.spill();
            }
        } else {
            self.overflow.insert((deadline, ticket), value);
        }
        if self.next_check.is_none_or(|t| deadline < t) {
            self.next_check = Some(deadline);
            sim.schedule_at(deadline, check);
        }
        ticket
    }

    /// Removes the front slot, with its value if it was still armed.
    #[inline]
    fn pop_front(&mut self) -> Option<(SimTime, Option<V>)> {
        let alive = self.alive.pop_front()?;
        let (deadline, value) = self.ring.pop_front()?;
        self.base += 1;
        Some((deadline, if alive { value } else { None }))
    }

    /// Moves the oldest quarter of the ring out: dead slots vanish, live ones go to the
    /// overflow map.
    fn spill(&mut self) {
        for _ in 0..RING_CAP / 4 {
            let ticket = Ticket(self.base);
            let Some((deadline, value)) = self.pop_front() else { break };
            if let Some(v) = value {
                self.overflow.insert((deadline, ticket), v);
            }
        }
        self.trim();
    }

    /// Drops dead slots at the front.
    #[inline]
    fn trim(&mut self) {
        while self.alive.front() == Some(&false) {
            self.pop_front();
        }
    }

    /// Disarms the timeout of `ticket`, armed at `deadline`; returns whether it was still armed
    /// (`false`: it already expired).
    #[inline]
    pub fn disarm(&mut self, ticket: Ticket, deadline: SimTime) -> bool {
        let armed = if ticket.0 >= self.base && ticket.0 < self.base + self.ring.len() as u64 {
            let alive = &mut self.alive[(ticket.0 - self.base) as usize];
            let was = std::mem::replace(alive, false);
            if was {
                self.trim();
            }
            was
        } else {
            self.overflow.remove(&(deadline, ticket)).is_some()
        };
        self.live -= usize::from(armed);
        armed
    }

    /// The check event fired: moves the values of every timeout whose deadline has passed into
    /// `expired` (ring and overflow together, in deadline order within each), and schedules the
    /// next check. A stale check does nothing.
    pub fn expire<E>(&mut self, sim: &mut Sim<E>, check: E, expired: &mut Vec<V>) {
        let now = sim.now();
        if self.next_check != Some(now) {
            return;
        }
        self.next_check = None;
        loop {
            self.trim();
            match self.ring.front() {
                Some(&(deadline, _)) if deadline <= now => {
                    if let Some((_, Some(v))) = self.pop_front() {
                        expired.push(v);
                        self.live -= 1;
                    }
                }
                _ => break,
            }
        }
        while let Some((&(deadline, _), _)) = self.overflow.first_key_value() {
            if deadline > now {
                break;
            }
            if let Some((_, v)) = self.overflow.pop_first() {
                expired.push(v);
                self.live -= 1;
            }
        }
        let ring_next = self.ring.front().map(|&(d, _)| d);
        let overflow_next = self.overflow.first_key_value().map(|(&(d, _), _)| d);
        let next = match (ring_next, overflow_next) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(t) = next {
            self.next_check = Some(t);
            sim.schedule_at(t, check);
        }
    }

    /// Timeouts armed.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether nothing is armed.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
}

#[cfg(test)]
// Unit tests drive the component as the run loop would: they pop events and advance time.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug)]
    struct Check;

    #[test]
    fn tickets_expire_exactly_like_a_sorted_map() {
        // Arms mostly in order with some out-of-order deadlines and many disarms, with a tiny
        // check loop; compares every expiry time with a reference computed by sorting.
        let mut sim: Sim<Check> = Sim::new();
        let mut d = TicketDeadlines::new();
        let mut reference = std::collections::BTreeMap::new();
        let mut tickets = Vec::new();
        let mut x = 99u64;
        let mut now = 0;
        let mut fired = Vec::new();
        for i in 0..300_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            now += (x >> 60) % 3;
            while let Some((t, _)) = sim.queue().peek_key() {
                if t > now {
                    break;
                }
                let (t, ev) = sim.queue().pop().unwrap();
                sim.set_now(t);
                let mut out = Vec::new();
                d.expire(&mut sim, ev, &mut out);
                fired.extend(out.into_iter().map(|v| (t, v)));
            }
            sim.set_now(now);
            let deadline =
                if x.is_multiple_of(17) { now + 500 + (x >> 40) % 300 } else { now + 100 };
            let t = d.arm(&mut sim, deadline, i, Check);
            reference.insert(i, deadline);
            tickets.push((t, deadline, i));
            if !x.is_multiple_of(5) && tickets.len() > 3 {
                let (t, dl, v) = tickets.swap_remove(((x >> 32) % 3) as usize + tickets.len() - 3);
                if d.disarm(t, dl) {
                    reference.remove(&v);
                }
            }
        }
        while let Some((t, ev)) = sim.queue().pop() {
            sim.set_now(t);
            let mut out = Vec::new();
            d.expire(&mut sim, ev, &mut out);
            fired.extend(out.into_iter().map(|v| (t, v)));
        }
        assert!(d.is_empty());
        assert_eq!(fired.len(), reference.len());
        for (t, v) in fired {
            assert_eq!(reference[&v], t, "value {v} expired at {t}");
        }
    }

    #[test]
    fn a_full_ring_spills_live_timeouts_and_keeps_them_exact() {
        let mut sim: Sim<Check> = Sim::new();
        let mut d = TicketDeadlines::new();
        let n = 3 * RING_CAP as u64;
        let mut tickets = Vec::new();
        for i in 0..n {
            sim.set_now(i);
            tickets.push((d.arm(&mut sim, i + 1_000_000, i, Check), i + 1_000_000));
        }
        // Disarm every other one, old (spilled) and recent alike.
        for (t, dl) in tickets.iter().step_by(2) {
            assert!(d.disarm(*t, *dl));
        }
        assert_eq!(d.len(), (n / 2) as usize);
        let mut fired = Vec::new();
        while let Some((t, ev)) = sim.queue().pop() {
            sim.set_now(t);
            let mut out = Vec::new();
            d.expire(&mut sim, ev, &mut out);
            fired.extend(out.into_iter().map(|v| (t, v)));
        }
        assert_eq!(fired.len(), (n / 2) as usize);
        assert!(fired.iter().all(|&(t, v)| v % 2 == 1 && t == v + 1_000_000));
    }

    #[test]
    fn expires_only_what_was_not_disarmed() {
        let mut sim: Sim<Check> = Sim::new();
        let mut d = Deadlines::new();
        d.arm(&mut sim, 30, 'a', 'a', Check);
        d.arm(&mut sim, 10, 'b', 'b', Check); // earlier: a second check is scheduled
        d.arm(&mut sim, 20, 'c', 'c', Check);
        assert_eq!(d.disarm(20, 'c'), Some('c'));
        let mut expired = Vec::new();
        while let Some((t, ev)) = sim.queue().pop() {
            sim.set_now(t);
            d.expire(&mut sim, ev, &mut expired);
        }
        assert_eq!(expired, ['b', 'a']);
        assert_eq!(d.disarm(30, 'a'), None, "already expired");
        assert!(d.is_empty());
    }
}
