//! A set of event ids, as a sliding bitmap with a spill set for stragglers.

use std::collections::{BTreeSet, VecDeque};

/// Words kept in the bitmap before the oldest is spilled: 2^18 words = 16 Mi ids = 2 MiB (an
/// exactly-once checkpoint of 30 s at 1.1M/s spans about 10 M ids; spilled, they would take
/// ten times the space in the ordered set).
const DEFAULT_MAX_WORDS: usize = 1 << 18;

/// A set of `u64` ids inserted in increasing order and removed in any order.
///
/// Ids are event creation indices, so the set is a window of bits from the oldest member to the
/// newest. When an old id lingers (an event lost for good) the window would grow without bound;
/// instead, once it spans `max_words` words, the oldest word's remaining ids move to an ordered
/// spill set. Memory is O(window + stragglers), every operation O(1) amortised except on
/// stragglers (O(log n)).
#[derive(Clone, Debug)]
pub struct IdWindow {
    base: u64,
    words: VecDeque<u64>,
    spill: BTreeSet<u64>,
    len: u64,
    max_words: usize,
}

impl Default for IdWindow {
    fn default() -> Self {
        Self::new()
    }
}

impl IdWindow {
    /// An empty set.
    pub fn new() -> Self {
        Self::with_max_words(DEFAULT_MAX_WORDS)
    }

    /// An empty set whose bitmap spills beyond `max_words` 64-bit words (at least 1).
    pub fn with_max_words(max_words: usize) -> Self {
        Self {
            base: 0,
            words: VecDeque::from([0]),
            spill: BTreeSet::new(),
            len: 0,
            max_words: max_words.max(1),
        }
    }

    /// Adds `id`, which must be greater than every id added before.
    #[inline]
    pub fn insert(&mut self, id: u64) {
        debug_assert!(id >= self.base, "ids are inserted in increasing order");
        let idx = id - self.base;
        let word = (idx / 64) as usize;
        while word >= self.words.len() {
            self.words.push_back(0);
        }
        self.words[word] |= 1 << (idx % 64);
        self.len += 1;
        if self.words.len() > self.max_words {
            self.spill_front();
        }
    }

    fn spill_front(&mut self) {
        let mut bits = self.words.pop_front().unwrap_or(0);
        while bits != 0 {
            let b = bits.trailing_zeros();
            self.spill.insert(self.base + u64::from(b));
            bits &= bits - 1;
        }
        self.base += 64;
        self.trim_front();
    }

    /// Drops empty words at the front, keeping at least one.
    #[inline]
    fn trim_front(&mut self) {
        while self.words.len() > 1 && self.words[0] == 0 {
            self.words.pop_front();
            self.base += 64;
        }
    }

    /// Adds back an `id` that was removed (any id below the next one to be inserted); returns
    /// whether it was absent.
    pub fn reinsert(&mut self, id: u64) -> bool {
        if self.contains(id) {
            return false;
        }
        if id < self.base {
            self.spill.insert(id);
        } else {
            let idx = id - self.base;
            let word = (idx / 64) as usize;
            while word >= self.words.len() {
                self.words.push_back(0);
            }
            self.words[word] |= 1 << (idx % 64);
        }
        self.len += 1;
        true
    }

    /// Removes `id`; returns whether it was present.
    #[inline]
    pub fn remove(&mut self, id: u64) -> bool {
        if id < self.base {
            let was = self.spill.remove(&id);
            self.len -= u64::from(was);
            return was;
        }
        let idx = id - self.base;
        let word = (idx / 64) as usize;
        let Some(w) = self.words.get_mut(word) else {
            return false;
        };
        let mask = 1u64 << (idx % 64);
        if *w & mask == 0 {
            return false;
        }
        *w &= !mask;
        self.len -= 1;
        if word == 0 && *w == 0 {
            self.trim_front();
        }
        true
    }

    /// Whether `id` is present.
    #[inline]
    pub fn contains(&self, id: u64) -> bool {
        if id < self.base {
            return self.spill.contains(&id);
        }
        let idx = id - self.base;
        self.words.get((idx / 64) as usize).is_some_and(|w| w & (1 << (idx % 64)) != 0)
    }

    /// Number of ids present.
    #[inline]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Ids present, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let spilled = self.spill.iter().copied();
        let in_words = self.words.iter().enumerate().flat_map(move |(i, &w)| {
            let base = self.base + 64 * i as u64;
            (0..64).filter(move |b| w & (1 << b) != 0).map(move |b| base + b)
        });
        spilled.chain(in_words)
    }

    /// Bytes used by the bitmap (not counting the spill set).
    pub fn bitmap_bytes(&self) -> usize {
        self.words.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn behaves_like_a_set_with_spills() {
        // Compare with BTreeSet under a deterministic mix of inserts and removes, with a tiny
        // bitmap so spilling happens constantly.
        let mut w = IdWindow::with_max_words(2);
        let mut model = BTreeSet::new();
        let mut next = 0u64;
        let mut x = 12345u64;
        for _ in 0..50_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if x >> 62 != 0 {
                w.insert(next);
                model.insert(next);
                next += 1 + (x >> 60) % 3;
            } else if let Some(&victim) = model.iter().nth(((x >> 20) % 7) as usize) {
                assert!(w.remove(victim));
                model.remove(&victim);
            }
            if x.is_multiple_of(97) {
                assert!(!w.remove(next + 5));
            }
        }
        assert_eq!(w.len(), model.len() as u64);
        assert_eq!(w.iter().collect::<Vec<_>>(), model.iter().copied().collect::<Vec<_>>());
        for id in 0..next {
            assert_eq!(w.contains(id), model.contains(&id), "{id}");
        }
    }

    #[test]
    fn reinserts_old_and_recent_ids() {
        let mut w = IdWindow::with_max_words(2);
        for id in 0..1_000 {
            w.insert(id);
            assert!(w.remove(id));
        }
        assert!(w.reinsert(3), "far below the window: spilled");
        assert!(w.reinsert(990), "inside the window");
        assert!(!w.reinsert(990), "already present");
        assert_eq!(w.iter().collect::<Vec<_>>(), [3, 990]);
        w.insert(1_000);
        assert_eq!(w.len(), 3);
    }

    #[test]
    fn window_slides_when_the_front_drains() {
        let mut w = IdWindow::new();
        for id in 0..1_000_000 {
            w.insert(id);
            if id >= 10 {
                assert!(w.remove(id - 10));
            }
        }
        assert_eq!(w.len(), 10);
        assert!(w.bitmap_bytes() <= 16);
    }

    #[test]
    fn lingering_ids_spill_instead_of_growing_the_bitmap() {
        let mut w = IdWindow::with_max_words(4);
        w.insert(0);
        for id in 1..100_000 {
            w.insert(id);
            assert!(w.remove(id));
        }
        assert_eq!(w.len(), 1);
        assert!(w.contains(0));
        assert!(w.bitmap_bytes() <= 4 * 8);
        assert!(w.remove(0));
        assert!(w.is_empty());
    }
}
