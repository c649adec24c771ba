//! The timeline window's latency histogram: HdrHistogram's buckets at 2 significant digits,
//! recorded inline.
//!
//! Every visible event is recorded into its window's histogram, and a window reports only its
//! median, 99th percentile and maximum when it closes. `hdrhistogram::Histogram::record` is a
//! general call (any precision, any unit, resize checks, min tracking): about 55 instructions,
//! 5 % of an M/M/1 customer. This type keeps the same bucket layout for the one configuration
//! the timeline uses (lowest discernible value 1 ns, 2 significant digits, growing to any
//! `u64`) and answers the same three questions with the same values, bit for bit (a test checks
//! it against `hdrhistogram` on millions of samples), in about a dozen instructions a record.
//!
//! Layout: 256 sub-buckets of 1 ns for values below 256, then buckets `b = 1, 2, …` of 128
//! sub-buckets of 2^b ns each covering [128 · 2^b, 256 · 2^b). Counts grow a bucket at a time,
//! so a window whose latencies stay under 1 s holds 24 KiB, as before.

use pipesim_engine::SimTime;

/// Sub-buckets in a half bucket (2^7): 2 significant digits need 200 distinct values.
const HALF_MAGNITUDE: u32 = 7;
const HALF: u64 = 1 << HALF_MAGNITUDE;
/// `64 − (sub-bucket count magnitude 8)`: the bucket of a value from its leading zeros.
const LEADING_ZERO_BASE: u32 = 56;

/// The bucket holding `value`: 0 below 256, then one more per doubling.
#[inline(always)]
fn bucket_of(value: u64) -> u32 {
    LEADING_ZERO_BASE - (value | (2 * HALF - 1)).leading_zeros()
}

/// The counts index of `value` (HdrHistogram's `index_for`).
#[inline(always)]
fn index_of(value: u64) -> usize {
    let bucket = bucket_of(value);
    let sub = value >> bucket;
    (u64::from(bucket) * HALF + sub) as usize
}

/// The lowest value of counts index `index` (HdrHistogram's `value_for`).
#[inline]
fn value_of(index: usize) -> u64 {
    let index = index as u64;
    let bucket = (index >> HALF_MAGNITUDE).saturating_sub(1);
    let sub = index - bucket * HALF;
    sub << bucket
}

/// The largest value that shares `value`'s sub-bucket: what HdrHistogram reports for it.
#[inline]
pub(crate) fn highest_equivalent(value: u64) -> u64 {
    if value == u64::MAX {
        return u64::MAX;
    }
    let bucket = bucket_of(value);
    let lowest = (value >> bucket) << bucket;
    lowest.saturating_add(1 << bucket) - 1
}

/// Latencies of one timeline window, in nanoseconds.
#[derive(Clone, Debug, Default)]
pub(crate) struct WindowHistogram {
    counts: Vec<u64>,
    total: u64,
    max_ns: u64,
    /// One past the highest index with a count (what `clear` must zero).
    used: usize,
}

impl WindowHistogram {
    /// Records one latency.
    #[inline(always)]
    pub(crate) fn record(&mut self, ns: SimTime) {
        let i = index_of(ns);
        if i >= self.counts.len() {
            self.grow(i);
        }
        self.counts[i] += 1;
        self.total += 1;
        self.max_ns = self.max_ns.max(ns);
        self.used = self.used.max(i + 1);
    }

    /// Makes room for index `i`, a whole bucket at a time.
    #[cold]
    fn grow(&mut self, i: usize) {
        let bucket_end = ((i as u64 >> HALF_MAGNITUDE) + 1) * HALF;
        self.counts.resize(bucket_end as usize, 0);
    }

    /// The value at quantile `q` in (0, 1], as HdrHistogram's `value_at_quantile` gives it
    /// (the highest value equivalent to the first sub-bucket whose running count reaches
    /// `⌈q · count⌉`, at least 1); 0 when empty.
    pub(crate) fn quantile_ns(&self, q: f64) -> u64 {
        debug_assert!(q > 0.0 && q <= 1.0);
        if self.total == 0 {
            return 0;
        }
        let target = ((q * self.total as f64).ceil() as u64).max(1);
        let mut running = 0u64;
        for (i, &c) in self.counts[..self.used].iter().enumerate() {
            running += c;
            if running >= target {
                return highest_equivalent(value_of(i));
            }
        }
        unreachable!("the counts add up to the total")
    }

    /// The largest latency to histogram resolution (0 when empty).
    pub(crate) fn max_ns(&self) -> u64 {
        if self.total == 0 { 0 } else { highest_equivalent(self.max_ns) }
    }

    /// Forgets every sample, keeping the allocation.
    pub(crate) fn clear(&mut self) {
        self.counts[..self.used].fill(0);
        self.total = 0;
        self.max_ns = 0;
        self.used = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::LatencyHistogram;

    /// Samples spread over every magnitude, with runs of equal values and bucket edges.
    fn samples(seed: u64, n: usize) -> Vec<u64> {
        let mut z = seed;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            z = z.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let shift = (z >> 58) as u32; // 0..63
            let v = match z % 5 {
                0 => (z >> 20) >> shift,
                1 => 1u64 << (shift % 62),
                2 => (1u64 << (shift % 62)) - 1,
                3 => (z >> 40) % 300,
                _ => (z >> 11) >> (shift / 2 + 20),
            };
            out.push(v);
        }
        out
    }

    #[test]
    fn answers_what_hdrhistogram_answers() {
        for (seed, n) in [(1, 1), (2, 7), (3, 100), (4, 10_000), (5, 300_000)] {
            let mut ours = WindowHistogram::default();
            let mut hdr = LatencyHistogram::with_sigfig(2);
            for v in samples(seed, n) {
                ours.record(v);
                hdr.record(v);
                assert_eq!(highest_equivalent(v), hdr.inner().highest_equivalent(v), "{v}");
            }
            for q in [1e-9, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0] {
                assert_eq!(ours.quantile_ns(q), hdr.quantile_ns(q), "seed {seed}, q {q}");
            }
            assert_eq!(ours.max_ns(), hdr.max_ns(), "seed {seed}");
            ours.clear();
            assert_eq!((ours.quantile_ns(0.5), ours.max_ns()), (0, 0));
            ours.record(42);
            assert_eq!(ours.quantile_ns(0.99), 42);
        }
    }

    #[test]
    fn extreme_values() {
        let mut ours = WindowHistogram::default();
        let mut hdr = LatencyHistogram::with_sigfig(2);
        for v in [0, 1, 255, 256, 257, u64::MAX / 2, u64::MAX - 1, u64::MAX] {
            ours.record(v);
            hdr.record(v);
            assert_eq!(highest_equivalent(v), hdr.inner().highest_equivalent(v), "{v}");
        }
        for q in [0.1, 0.5, 0.99, 1.0] {
            assert_eq!(ours.quantile_ns(q), hdr.quantile_ns(q), "q {q}");
        }
        assert_eq!(ours.max_ns(), hdr.max_ns());
    }
}
