//! Events acknowledged and not (or no longer) visible, by key and sequence number.

use pipesim_engine::SimTime;
use std::collections::BTreeMap;

/// When an acknowledged event was acknowledged and when it was created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Acked {
    /// Acknowledgement time (staleness, lost examples).
    pub(crate) acked_ns: SimTime,
    /// Creation time (which phase a lost event belongs to).
    pub(crate) created_ns: SimTime,
}

/// The set of acknowledged events a reader cannot see yet, ordered by (key, seq) so a read
/// finds the oldest event its key is missing.
///
/// An exactly-once sink holds a whole checkpoint's output here (seed 002: 7.5 M events for 30
/// s), so the entry is kept small: key and sequence number packed in one `u64` while the
/// sequence number fits 32 bits, which it does unless one key receives 4 G events; larger ones
/// go to a second map. Every sequence number in `low` is below every one in `high`, so a key's
/// oldest entry is in `low` when it has one there.
#[derive(Clone, Debug, Default)]
pub(crate) struct AckedPending {
    low: BTreeMap<u64, Acked>,
    high: BTreeMap<(u32, u64), Acked>,
}

#[inline]
fn packed(key: u32, seq: u64) -> Option<u64> {
    u32::try_from(seq).ok().map(|s| (u64::from(key) << 32) | u64::from(s))
}

impl AckedPending {
    /// Whether nothing is pending (the common case for models acknowledging at visibility).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.low.is_empty() && self.high.is_empty()
    }

    /// How many events are pending.
    pub(crate) fn len(&self) -> usize {
        self.low.len() + self.high.len()
    }

    /// Adds the event of `key` and `seq` unless it is already there (a second acknowledgement
    /// keeps the first one's time).
    #[inline]
    pub(crate) fn insert_if_absent(&mut self, key: u32, seq: u64, acked: Acked) {
        match packed(key, seq) {
            Some(k) => {
                self.low.entry(k).or_insert(acked);
            }
            None => {
                self.high.entry((key, seq)).or_insert(acked);
            }
        }
    }

    /// Removes the event of `key` and `seq` if it is there.
    #[inline]
    pub(crate) fn remove(&mut self, key: u32, seq: u64) {
        match packed(key, seq) {
            Some(k) => self.low.remove(&k),
            None => self.high.remove(&(key, seq)),
        };
    }

    /// The acknowledgement time of `key`'s pending event with the lowest sequence number.
    pub(crate) fn oldest_acked_ns(&self, key: u32) -> Option<SimTime> {
        let base = u64::from(key) << 32;
        self.low
            .range(base..=base | u64::from(u32::MAX))
            .next()
            .map(|(_, a)| a.acked_ns)
            .or_else(|| self.high.range((key, 0)..=(key, u64::MAX)).next().map(|(_, a)| a.acked_ns))
    }

    /// Every pending event as (key, seq, times), in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, u64, Acked)> + '_ {
        let low = self.low.iter().map(|(&k, &a)| ((k >> 32) as u32, k & u64::from(u32::MAX), a));
        let high = self.high.iter().map(|(&(key, seq), &a)| (key, seq, a));
        low.chain(high)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: SimTime) -> Acked {
        Acked { acked_ns: t, created_ns: t / 2 }
    }

    #[test]
    fn oldest_is_the_lowest_sequence_number_of_the_key_across_both_maps() {
        let mut p = AckedPending::default();
        let big = u64::from(u32::MAX) + 7;
        p.insert_if_absent(3, big, at(10));
        assert_eq!(p.oldest_acked_ns(3), Some(10));
        p.insert_if_absent(3, 5, at(20));
        p.insert_if_absent(4, 1, at(30));
        p.insert_if_absent(2, 9, at(40));
        assert_eq!(p.oldest_acked_ns(3), Some(20), "seq 5 is older than seq 2^32 + 6");
        p.insert_if_absent(3, 5, at(99));
        assert_eq!(p.oldest_acked_ns(3), Some(20), "a second acknowledgement keeps the first");
        assert_eq!(p.len(), 4);
        let mut all: Vec<(u32, u64)> = p.iter().map(|(k, s, _)| (k, s)).collect();
        all.sort_unstable();
        assert_eq!(all, vec![(2, 9), (3, 5), (3, big), (4, 1)]);
        p.remove(3, 5);
        assert_eq!(p.oldest_acked_ns(3), Some(10));
        p.remove(3, big);
        assert_eq!(p.oldest_acked_ns(3), None);
        assert_eq!(p.oldest_acked_ns(4), Some(30));
        assert_eq!(p.oldest_acked_ns(5), None);
        p.remove(4, 1);
        p.remove(2, 9);
        assert!(p.is_empty());
    }

    #[test]
    fn keys_at_the_top_of_the_range_do_not_reach_other_keys() {
        let mut p = AckedPending::default();
        p.insert_if_absent(u32::MAX, u64::from(u32::MAX), at(1));
        p.insert_if_absent(u32::MAX - 1, u64::from(u32::MAX), at(2));
        assert_eq!(p.oldest_acked_ns(u32::MAX), Some(1));
        assert_eq!(p.oldest_acked_ns(u32::MAX - 1), Some(2));
        assert_eq!(p.oldest_acked_ns(0), None);
    }
}
