//! Latency counts in HdrHistogram's bucket layout, recorded inline: the timeline window's
//! histogram (2 significant digits) and the run's histograms while the run records (3).
//!
//! Every visible event is recorded into its window's histogram and into a run histogram.
//! `hdrhistogram::Histogram::record` is a general call (any precision, any unit, resize
//! checks, minimum tracking): about 55 instructions, 5 % of an M/M/1 customer each. These
//! counts keep HdrHistogram's layout for the configurations pipesim uses (lowest discernible
//! value 1 ns, growing to any `u64`) in about a dozen instructions a record. A window answers
//! its three questions (median, 99th percentile, maximum) itself, with the values
//! `hdrhistogram` gives; run counts become a `LatencyHistogram` when the run ends, the one
//! recording each sample would have built. Tests check both against `hdrhistogram`.
//!
//! Layout at 2 digits: 256 sub-buckets of 1 ns below 256, then buckets `b = 1, 2, …` of 128
//! sub-buckets of 2^b ns covering [128 · 2^b, 256 · 2^b); at 3 digits the same with 2,048 and
//! 1,024. Counts grow a bucket at a time: a window whose latencies stay under 1 s holds 24 KiB,
//! a run histogram 172 KiB, as before.

use crate::histogram::LatencyHistogram;
use pipesim_engine::SimTime;

/// Counts in HdrHistogram's layout for lowest discernible value 1 and `2^HALF_MAG` sub-buckets
/// in a half bucket: 7 for 2 significant digits (200 distinct values need 256 sub-buckets), 10
/// for 3 (2,000 need 2,048).
#[derive(Clone, Debug, Default)]
pub(crate) struct BucketCounts<const HALF_MAG: u32> {
    counts: Vec<u64>,
    total: u64,
    max_ns: u64,
    /// One past the highest index with a count (what `clear` must zero).
    used: usize,
}

/// The timeline window's histogram: 2 significant digits.
pub(crate) type WindowHistogram = BucketCounts<7>;
/// The run's latency histograms while the run records: 3 significant digits, handed over as
/// [`LatencyHistogram`]s at the end ([`BucketCounts::to_latency_histogram`]).
pub(crate) type RunCounts = BucketCounts<10>;

/// The largest value that shares `value`'s 2-digit sub-bucket: what HdrHistogram reports for it.
#[inline]
pub(crate) fn highest_equivalent(value: u64) -> u64 {
    WindowHistogram::highest_equivalent(value)
}

impl<const HALF_MAG: u32> BucketCounts<HALF_MAG> {
    const HALF: u64 = 1 << HALF_MAG;
    /// HdrHistogram's `leading_zero_count_base`: 64 − (sub-bucket count magnitude).
    const LEADING_ZERO_BASE: u32 = 63 - HALF_MAG;

    /// The bucket holding `value`: 0 below two half buckets, then one more per doubling.
    #[inline(always)]
    fn bucket_of(value: u64) -> u32 {
        Self::LEADING_ZERO_BASE - (value | (2 * Self::HALF - 1)).leading_zeros()
    }

    /// The counts index of `value` (HdrHistogram's `index_for`).
    #[inline(always)]
    fn index_of(value: u64) -> usize {
        let bucket = Self::bucket_of(value);
        (u64::from(bucket) * Self::HALF + (value >> bucket)) as usize
    }

    /// The lowest value of counts index `index` (HdrHistogram's `value_for`).
    #[inline]
    fn value_of(index: usize) -> u64 {
        let index = index as u64;
        let bucket = (index >> HALF_MAG).saturating_sub(1);
        (index - bucket * Self::HALF) << bucket
    }

    /// The largest value that shares `value`'s sub-bucket.
    #[inline]
    fn highest_equivalent(value: u64) -> u64 {
        if value == u64::MAX {
            return u64::MAX;
        }
        let bucket = Self::bucket_of(value);
        let lowest = (value >> bucket) << bucket;
        lowest.saturating_add(1 << bucket) - 1
    }

    /// Records one latency.
    #[inline(always)]
    pub(crate) fn record(&mut self, ns: SimTime) {
        let i = Self::index_of(ns);
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
        let bucket_end = ((i as u64 >> HALF_MAG) + 1) * Self::HALF;
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
                return Self::highest_equivalent(Self::value_of(i));
            }
        }
        unreachable!("the counts add up to the total")
    }

    /// The largest latency to histogram resolution (0 when empty).
    pub(crate) fn max_ns(&self) -> u64 {
        if self.total == 0 { 0 } else { Self::highest_equivalent(self.max_ns) }
    }

    /// Forgets every sample, keeping the allocation.
    pub(crate) fn clear(&mut self) {
        self.counts[..self.used].fill(0);
        self.total = 0;
        self.max_ns = 0;
        self.used = 0;
    }
}

impl RunCounts {
    /// The same samples as an HdrHistogram of 3 significant digits: each sub-bucket's count
    /// recorded at its lowest value. HdrHistogram answers everything (quantiles, minimum,
    /// maximum, mean, its serialised form) at sub-bucket resolution, so this is the histogram
    /// that recording each sample would have built (tested).
    pub(crate) fn to_latency_histogram(&self) -> LatencyHistogram {
        let mut h = LatencyHistogram::new();
        for (i, &c) in self.counts[..self.used].iter().enumerate() {
            if c > 0 {
                h.record_n(Self::value_of(i), c);
            }
        }
        h
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
    fn run_counts_hand_over_the_histogram_hdrhistogram_would_have_built() {
        for (seed, n) in [(11, 1), (12, 9), (13, 1_000), (14, 200_000)] {
            // Two histograms merged at the end, as the recorder merges its shared record into
            // e2e and ack: the merge sets the range from the other's maximum.
            let (mut ours, mut ours_other) = (RunCounts::default(), RunCounts::default());
            let (mut hdr, mut hdr_other) = (LatencyHistogram::new(), LatencyHistogram::new());
            for (k, v) in samples(seed, n).into_iter().enumerate() {
                let v = v.min(1 << 50); // beyond what an auto-resizing 3-digit histogram takes
                if k % 3 == 0 {
                    ours_other.record(v);
                    hdr_other.record(v);
                } else {
                    ours.record(v);
                    hdr.record(v);
                }
            }
            let mut h = ours.to_latency_histogram();
            assert_eq!(h.to_v2_base64(), hdr.to_v2_base64(), "seed {seed}");
            assert_eq!(ours.quantile_ns(0.99), hdr.quantile_ns(0.99), "seed {seed}");
            h.merge(&ours_other.to_latency_histogram());
            hdr.merge(&hdr_other);
            assert_eq!(h.summary(), hdr.summary(), "seed {seed}");
            assert_eq!(h.to_v2_base64(), hdr.to_v2_base64(), "seed {seed}");
            assert_eq!(h.inner().min(), hdr.inner().min(), "seed {seed}");
        }
        let empty = RunCounts::default().to_latency_histogram();
        assert_eq!(empty.to_v2_base64(), LatencyHistogram::new().to_v2_base64());
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
