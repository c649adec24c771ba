//! A small open-addressing map from `u32` keys, deterministic by construction.

/// A map from `u32` to `V` with linear probing and a fixed hash, for per-key state that must not
/// cost memory proportional to the whole key space (a 10,000-entry LRU over 20 M keys).
///
/// Unlike `std::collections::HashMap` it has no random state: the same operations give the same
/// layout everywhere. It is never iterated in simulation code. The key `u32::MAX` is reserved
/// to mark empty slots, which keeps a slot at 8 bytes for a `u32` value.
#[derive(Clone, Debug)]
pub struct IntMap<V> {
    slots: Vec<(u32, V)>,
    len: usize,
    mask: usize,
}

const EMPTY: u32 = u32::MAX;

impl<V: Copy + Default> IntMap<V> {
    /// A map sized for about `capacity` entries before it grows.
    pub fn with_capacity(capacity: usize) -> Self {
        let n = (capacity.max(4) * 2).next_power_of_two();
        Self { slots: vec![(EMPTY, V::default()); n], len: 0, mask: n - 1 }
    }

    #[inline]
    fn home(&self, key: u32) -> usize {
        // Fibonacci hashing: multiply by 2^64/φ and keep the high bits.
        ((u64::from(key).wrapping_mul(0x9e37_79b9_7f4a_7c15)) >> 32) as usize & self.mask
    }

    /// The slot holding `key`, or the empty slot where it would go.
    #[inline]
    fn find(&self, key: u32) -> usize {
        let mut i = self.home(key);
        loop {
            let k = self.slots[i].0;
            if k == key || k == EMPTY {
                return i;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// A hint: `key` is about to be looked up (warms its home slot).
    #[inline]
    pub fn prefetch(&self, key: u32) {
        pipesim_engine::prefetch(&self.slots, self.home(key));
    }

    /// The value for `key`.
    #[inline]
    pub fn get(&self, key: u32) -> Option<V> {
        let (k, v) = self.slots[self.find(key)];
        (k == key).then_some(v)
    }

    /// Sets `key` to `value`, returning the previous value.
    #[inline]
    pub fn insert(&mut self, key: u32, value: V) -> Option<V> {
        debug_assert!(key != EMPTY, "u32::MAX is reserved");
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let i = self.find(key);
        let slot = &mut self.slots[i];
        if slot.0 == key {
            return Some(std::mem::replace(&mut slot.1, value));
        }
        *slot = (key, value);
        self.len += 1;
        None
    }

    /// Removes `key`, returning its value. Backward-shift deletion keeps probe chains intact
    /// without tombstones.
    pub fn remove(&mut self, key: u32) -> Option<V> {
        let i = self.find(key);
        if self.slots[i].0 != key {
            return None;
        }
        let value = self.slots[i].1;
        self.slots[i].0 = EMPTY;
        self.len -= 1;
        let mut hole = i;
        let mut j = (i + 1) & self.mask;
        while self.slots[j].0 != EMPTY {
            let home = self.home(self.slots[j].0);
            // Move j into the hole if its home is not cyclically in (hole, j].
            let in_between =
                if hole <= j { hole < home && home <= j } else { hole < home || home <= j };
            if !in_between {
                self.slots[hole] = self.slots[j];
                self.slots[j].0 = EMPTY;
                hole = j;
            }
            j = (j + 1) & self.mask;
        }
        Some(value)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        let n = old.len() * 2;
        self.slots = vec![(EMPTY, V::default()); n];
        self.mask = n - 1;
        self.len = 0;
        for (k, v) in old {
            if k != EMPTY {
                self.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn behaves_like_a_map() {
        let mut m = IntMap::with_capacity(4);
        let mut reference = BTreeMap::new();
        let mut x = 7u64;
        for _ in 0..200_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let key = ((x >> 33) % 5_000) as u32;
            match (x >> 20) % 3 {
                0 | 1 => assert_eq!(m.insert(key, x), reference.insert(key, x)),
                _ => assert_eq!(m.remove(key), reference.remove(&key)),
            }
        }
        assert_eq!(m.len(), reference.len());
        for key in 0..5_000 {
            assert_eq!(m.get(key), reference.get(&key).copied(), "{key}");
        }
    }
}
