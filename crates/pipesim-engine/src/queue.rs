//! The pending-event set: a 4-ary min-heap ordered by (time, insertion sequence).

use crate::time::SimTime;

/// Children per node. A 4-ary heap has half the levels of a binary heap, and a node's four
/// children share one or two cache lines, so deep heaps (64 k pending events) miss the cache
/// far less; shallow heaps lose nothing measurable.
const ARITY: usize = 4;

/// Pending events of type `E`, popped in time order; events due at the same nanosecond pop in
/// the order they were pushed (determinism rule 4).
///
/// The queue is generic over the event type so a model's events are plain enums stored inline:
/// no boxing, no dynamic dispatch, and no allocation per event once the heap has grown to the
/// peak number of pending events. Time and sequence number are packed into one `u128` key
/// (time in the high half), so each comparison is a single integer compare.
pub struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    next_seq: u64,
}

/// A heap slot. The event is an `Option` only so that sifting can move it out of one slot and
/// into another (a "hole") without unsafe code or a `Copy` bound; every slot in the heap holds
/// `Some` between calls. For enums the `None` niche usually makes it free.
struct Entry<E> {
    key: u128,
    event: Option<E>,
}

#[inline]
fn pack(time: SimTime, seq: u64) -> u128 {
    (u128::from(time) << 64) | u128::from(seq)
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self { heap: Vec::new(), next_seq: 0 }
    }

    /// An empty queue with room for `capacity` pending events before it reallocates.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { heap: Vec::with_capacity(capacity), next_seq: 0 }
    }

    /// Schedules `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let seq = self.take_seq();
        let key = pack(time, seq);
        // Sift up with a hole: each parent that must move goes down once, and the new entry is
        // written once where the hole stops.
        let mut i = self.heap.len();
        self.heap.push(Entry { key, event: None });
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if self.heap[parent].key <= key {
                break;
            }
            self.heap[i].key = self.heap[parent].key;
            self.heap[i].event = self.heap[parent].event.take();
            i = parent;
        }
        self.heap[i] = Entry { key, event: Some(event) };
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
        self.heap.first().map(|e| ((e.key >> 64) as u64, e.key as u64))
    }

    /// Removes and returns the earliest pending event with its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let last = self.heap.pop()?;
        if self.heap.is_empty() {
            return Some((
                (last.key >> 64) as u64,
                last.event.expect("every heap slot holds an event"),
            ));
        }
        // The root leaves a hole; the smallest child moves up into it, level by level, until
        // the last entry fits; each entry moves once.
        let top_key = self.heap[0].key;
        let top_event = self.heap[0].event.take();
        let len = self.heap.len();
        let mut i = 0;
        loop {
            let first = ARITY * i + 1;
            if first >= len {
                break;
            }
            let end = (first + ARITY).min(len);
            let mut best = first;
            let mut best_key = self.heap[first].key;
            for c in first + 1..end {
                let k = self.heap[c].key;
                if k < best_key {
                    best = c;
                    best_key = k;
                }
            }
            if best_key >= last.key {
                break;
            }
            self.heap[i].key = best_key;
            self.heap[i].event = self.heap[best].event.take();
            i = best;
        }
        self.heap[i] = last;
        Some(((top_key >> 64) as u64, top_event.expect("every heap slot holds an event")))
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
    fn matches_a_stable_sort_under_random_holds() {
        let mut rng = crate::RngStreams::new(3).stream("queue-test");
        let mut q = EventQueue::new();
        let mut reference: Vec<(u64, u64, u32)> = Vec::new(); // (time, seq, id)
        let mut seq = 0u64;
        let mut id = 0u32;
        let mut popped = Vec::new();
        let mut expected = Vec::new();
        for round in 0..20_000u32 {
            if rng.below(3) > 0 || q.is_empty() {
                let t = rng.below(50);
                q.push(t, id);
                reference.push((t, seq, id));
                seq += 1;
                id += 1;
            } else {
                popped.push(q.pop().unwrap());
                reference.sort();
                let (t, _, e) = reference.remove(0);
                expected.push((t, e));
            }
            assert_eq!(q.len(), reference.len(), "round {round}");
        }
        assert_eq!(popped, expected);
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
        assert_eq!(q.peek_key(), Some((1, 2)), "y was scheduled after the reserved number");
    }
}
