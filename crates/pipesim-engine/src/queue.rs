//! The pending-event set: a binary min-heap ordered by (time, insertion sequence).

use crate::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Pending events of type `E`, popped in time order; events due at the same nanosecond pop in
/// the order they were pushed (determinism rule 4).
///
/// The queue is generic over the event type so a model's events are plain enums stored inline:
/// no boxing, no dynamic dispatch, and no allocation per event once the heap has grown to the
/// peak number of pending events.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    /// Reversed, so that std's max-heap pops the earliest (time, seq) first.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }

    /// An empty queue with room for `capacity` pending events before it reallocates.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            heap: BinaryHeap::with_capacity(capacity),
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let seq = self.take_seq();
        self.heap.push(Entry { time, seq, event });
    }

    /// Claims the next insertion sequence number without pushing anything.
    ///
    /// A source that keeps its next event outside the heap (the arrival stream) takes a number
    /// when it schedules that event, and compares `(time, seq)` with [`EventQueue::peek_key`] to
    /// decide which goes first; the tie-break rule then holds across both.
    #[inline]
    pub fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// The (time, sequence) of the next event to pop, if any.
    #[inline]
    pub fn peek_key(&self) -> Option<(SimTime, u64)> {
        self.heap.peek().map(|e| (e.time, e.seq))
    }

    /// Removes and returns the earliest pending event with its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|e| (e.time, e.event))
    }

    /// The number of pending events.
    #[inline]
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is pending.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_insertion_order() {
        let mut q = EventQueue::new();
        q.push(5, 'a');
        q.push(3, 'b');
        q.push(5, 'c');
        q.push(3, 'd');
        q.push(4, 'e');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ['b', 'd', 'e', 'a', 'c']);
    }

    #[test]
    fn ties_hold_for_many_equal_times() {
        let mut q = EventQueue::new();
        for i in 0..10_000u32 {
            q.push(7, i);
        }
        for i in 0..10_000u32 {
            assert_eq!(q.pop(), Some((7, i)));
        }
        assert!(q.is_empty());
    }

    #[test]
    fn take_seq_interleaves_with_pushes() {
        let mut q = EventQueue::new();
        q.push(1, 'x');
        let reserved = q.take_seq();
        q.push(1, 'y');
        assert_eq!(q.peek_key(), Some((1, 0)));
        assert_eq!(reserved, 1);
        q.pop();
        assert_eq!(
            q.peek_key(),
            Some((1, 2)),
            "y was scheduled after the reserved number"
        );
    }
}
