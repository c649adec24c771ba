//! A least-recently-used cache of keys, and Che's approximation of its hit ratio.

use crate::int_map::IntMap;

const NIL: u32 = u32::MAX;

/// Entries an LRU has room for before it first grows.
const INITIAL_ENTRIES: usize = 4_096;

/// Bytes an LRU takes per key it holds: a 24-byte node and, at the index's load of at most
/// one half, up to four 8-byte slots right after it doubles (for the run estimate).
pub const LRU_BYTES_PER_ENTRY: u64 = 24 + 4 * 8;

#[derive(Clone, Copy, Debug)]
struct Node {
    key: u32,
    value: u64,
    prev: u32,
    next: u32,
}

/// An LRU cache of `capacity` keys, each with a `u64` value. O(1) lookups, inserts and
/// evictions; memory proportional to the capacity, not to the key space.
#[derive(Clone, Debug)]
pub struct Lru {
    capacity: usize,
    index: IntMap<u32>,
    nodes: Vec<Node>,
    /// Most recently used.
    head: u32,
    /// Least recently used.
    tail: u32,
    /// Lookups that found their key.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
}

impl Lru {
    /// An empty cache of `capacity` ≥ 1 keys.
    pub fn new(capacity: usize) -> Self {
        assert!(capacity >= 1, "an LRU needs room for a key");
        Self {
            capacity,
            // Both grow with the keys actually held, so a large capacity costs memory only once
            // it fills (a 3 M-entry LRU seeing a few thousand keys stays small).
            index: IntMap::with_capacity(capacity.min(INITIAL_ENTRIES)),
            nodes: Vec::with_capacity(capacity.min(INITIAL_ENTRIES)),
            head: NIL,
            tail: NIL,
            hits: 0,
            misses: 0,
        }
    }

    fn unlink(&mut self, i: u32) {
        let Node { prev, next, .. } = self.nodes[i as usize];
        if prev == NIL {
            self.head = next
        } else {
            self.nodes[prev as usize].next = next
        }
        if next == NIL { self.tail = prev } else { self.nodes[next as usize].prev = prev }
    }

    fn push_front(&mut self, i: u32) {
        self.nodes[i as usize].prev = NIL;
        self.nodes[i as usize].next = self.head;
        if self.head != NIL {
            self.nodes[self.head as usize].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    /// A hint: `key` is about to be looked up. Warms its index slot and, for the eviction a
    /// miss would cause, the victim's index slot and its neighbour in the recency list (the
    /// victim's own node was warmed when it became the tail).
    #[inline]
    pub fn prefetch(&self, key: u32) {
        self.index.prefetch(key);
        if self.nodes.len() == self.capacity && self.tail != NIL {
            let victim = self.nodes[self.tail as usize];
            self.index.prefetch(victim.key);
            pipesim_engine::prefetch(&self.nodes, victim.prev as usize);
        }
    }

    /// Looks `key` up, counting a hit or a miss; a hit makes it the most recently used.
    #[inline]
    pub fn get(&mut self, key: u32) -> Option<u64> {
        match self.index.get(key) {
            Some(i) => {
                self.hits += 1;
                self.unlink(i);
                self.push_front(i);
                Some(self.nodes[i as usize].value)
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    /// The value of `key` without counting or reordering.
    pub fn peek(&self, key: u32) -> Option<u64> {
        self.index.get(key).map(|i| self.nodes[i as usize].value)
    }

    /// Looks `key` up (a hit or a miss, as [`Lru::get`]); on a miss inserts it with `value`.
    /// One probe of the index either way. Returns the value found, or `None` if inserted.
    #[inline]
    pub fn get_or_insert(&mut self, key: u32, value: u64) -> Option<u64> {
        if let Some(i) = self.index.get(key) {
            self.hits += 1;
            self.unlink(i);
            self.push_front(i);
            return Some(self.nodes[i as usize].value);
        }
        self.misses += 1;
        self.insert_absent(key, value);
        None
    }

    /// Sets the value of `key`, present or not, as the most recently used.
    pub fn set(&mut self, key: u32, value: u64) {
        self.put(key, value);
    }

    /// Inserts a key known to be absent, evicting the least recently used if full.
    fn insert_absent(&mut self, key: u32, value: u64) -> Option<u32> {
        if self.nodes.len() < self.capacity {
            let i = self.nodes.len() as u32;
            self.nodes.push(Node { key, value, prev: NIL, next: NIL });
            self.index.insert(key, i);
            self.push_front(i);
            return None;
        }
        let victim = self.tail;
        let old = self.nodes[victim as usize].key;
        self.unlink(victim);
        self.index.remove(old);
        self.nodes[victim as usize] = Node { key, value, prev: NIL, next: NIL };
        self.index.insert(key, victim);
        self.push_front(victim);
        // The next eviction's victim: warm its node for the prefetch hint.
        pipesim_engine::prefetch(&self.nodes, self.tail as usize);
        Some(old)
    }

    /// Sets `key` to `value` as the most recently used; returns the key evicted to make room.
    #[inline]
    pub fn put(&mut self, key: u32, value: u64) -> Option<u32> {
        if let Some(i) = self.index.get(key) {
            self.nodes[i as usize].value = value;
            self.unlink(i);
            self.push_front(i);
            return None;
        }
        self.insert_absent(key, value)
    }

    /// Removes every key (a restart of the process holding it).
    pub fn clear(&mut self) {
        self.index = IntMap::with_capacity(self.capacity.min(INITIAL_ENTRIES));
        self.nodes.clear();
        self.head = NIL;
        self.tail = NIL;
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Hits over lookups (0 before the first lookup).
    pub fn hit_ratio(&self) -> f64 {
        let n = self.hits + self.misses;
        if n == 0 { 0.0 } else { self.hits as f64 / n as f64 }
    }
}

/// Che's approximation of the hit ratio of an LRU cache of `capacity` items under independent
/// requests with popularities `probabilities` (summing to 1): find the characteristic time t_C
/// with Σ (1 − e^(−q_n t_C)) = C, then the hit ratio is Σ q_n (1 − e^(−q_n t_C)).
pub fn che_hit_ratio(probabilities: &[f64], capacity: usize) -> f64 {
    if capacity >= probabilities.len() {
        return 1.0;
    }
    let occupancy = |t: f64| probabilities.iter().map(|q| 1.0 - libm::exp(-q * t)).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1.0);
    while occupancy(hi) < capacity as f64 {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        let (was_lo, was_hi) = (lo, hi);
        if occupancy(mid) < capacity as f64 {
            lo = mid
        } else {
            hi = mid
        }
        // A step that moves neither end is a fixed point: every later step would repeat it,
        // so stopping gives the same bits (and saves a pass over every key per step).
        if lo == was_lo && hi == was_hi {
            break;
        }
    }
    let t = 0.5 * (lo + hi);
    probabilities.iter().map(|q| q * (1.0 - libm::exp(-q * t))).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let mut c = Lru::new(2);
        c.put(1, 10);
        c.put(2, 20);
        assert_eq!(c.get(1), Some(10)); // 1 is now the most recent
        assert_eq!(c.put(3, 30), Some(2));
        assert_eq!(c.get(2), None);
        assert_eq!(c.get(3), Some(30));
        assert_eq!(c.put(1, 11), None, "updating a present key evicts nothing");
        assert_eq!(c.put(4, 40), Some(3));
        assert_eq!((c.hits, c.misses), (2, 1));
    }

    #[test]
    fn che_is_exact_at_the_extremes() {
        let uniform = vec![0.01; 100];
        assert_eq!(che_hit_ratio(&uniform, 100), 1.0);
        // Uniform popularity: every key is equally likely to be cached, so the hit ratio is C/N.
        assert!((che_hit_ratio(&uniform, 25) - 0.25).abs() < 1e-9);
    }
}
