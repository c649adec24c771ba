//! Latency histograms: HdrHistogram with 3 significant digits.

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Serializer as _, V2Serializer};

/// A latency histogram in nanoseconds, 3 significant digits (0.1 % value resolution), resizing
/// itself to the largest value recorded.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    h: Histogram<u64>,
}

/// The usual summary of a latency distribution, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LatencySummary {
    /// Number of samples.
    pub count: u64,
    /// Mean (f64 because it is not a recorded value).
    pub mean_ns: f64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 95th percentile.
    pub p95_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest sample (to histogram resolution).
    pub max_ns: u64,
}

/// Why a serialized histogram does not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistogramDecodeError(pub String);

impl std::fmt::Display for HistogramDecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HistogramDecodeError {}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::with_sigfig(3)
    }

    /// An empty histogram of the given precision (1 to 5 significant digits).
    pub fn with_sigfig(sigfig: u8) -> Self {
        let mut h = Histogram::new_with_bounds(1, 2, sigfig).expect("valid hdrhistogram bounds");
        h.auto(true);
        Self { h }
    }

    /// Records one sample.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        // Auto-resize makes `record` grow the range; only a value beyond what any histogram can
        // track fails, and that one is clamped.
        if self.h.record(ns).is_err() {
            self.h.saturating_record(ns);
        }
    }

    /// Records `n` samples of one value.
    pub(crate) fn record_n(&mut self, ns: u64, n: u64) {
        if self.h.record_n(ns, n).is_err() {
            self.h.saturating_record_n(ns, n);
        }
    }

    /// Forgets every sample and keeps the allocation (for histograms that are reused).
    pub fn clear(&mut self) {
        self.h.reset();
    }

    /// The largest sample to histogram resolution (0 when empty): `quantile_ns(1.0)` without
    /// scanning the buckets.
    pub fn max_ns(&self) -> u64 {
        if self.h.is_empty() { 0 } else { self.h.max() }
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.h.len()
    }

    /// The value at quantile `q` in \[0, 1\] (0 when empty).
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.h.is_empty() { 0 } else { self.h.value_at_quantile(q) }
    }

    /// Count, mean and the standard percentiles.
    pub fn summary(&self) -> LatencySummary {
        if self.h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: self.h.len(),
            mean_ns: self.h.mean(),
            p50_ns: self.h.value_at_quantile(0.50),
            p90_ns: self.h.value_at_quantile(0.90),
            p95_ns: self.h.value_at_quantile(0.95),
            p99_ns: self.h.value_at_quantile(0.99),
            p999_ns: self.h.value_at_quantile(0.999),
            max_ns: self.h.max(),
        }
    }

    /// Adds every sample of `other` (exact: histograms merge bucket by bucket).
    pub fn merge(&mut self, other: &LatencyHistogram) {
        self.h.add(&other.h).expect("auto-resizing histograms always merge");
    }

    /// HdrHistogram's V2 serialization (uncompressed), base64-encoded, for exact merging later.
    pub fn to_v2_base64(&self) -> String {
        let mut bytes = Vec::new();
        V2Serializer::new()
            .serialize(&self.h, &mut bytes)
            .expect("serializing to memory cannot fail");
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Decodes [`to_v2_base64`](Self::to_v2_base64)'s text (as report.json stores it).
    pub fn from_v2_base64(text: &str) -> Result<Self, HistogramDecodeError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| HistogramDecodeError(format!("not base64: {e}")))?;
        // The V2 header's payload length (bytes 4..8) is allocated before the payload is read:
        // a corrupt one must not ask for gigabytes. It cannot exceed what is there.
        if let Some(len) = bytes.get(4..8) {
            let claimed = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
            if claimed > bytes.len() {
                return Err(HistogramDecodeError(format!(
                    "not an HdrHistogram V2 histogram: its header claims {claimed} bytes of counts, but {} bytes are there",
                    bytes.len()
                )));
            }
        }
        let mut h: Histogram<u64> =
            hdrhistogram::serialization::Deserializer::new().deserialize(&mut &bytes[..]).map_err(
                |e| HistogramDecodeError(format!("not an HdrHistogram V2 histogram: {e:?}")),
            )?;
        h.auto(true);
        Ok(Self { h })
    }

    /// The underlying HdrHistogram.
    pub fn inner(&self) -> &Histogram<u64> {
        &self.h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_within_resolution() {
        let mut h = LatencyHistogram::new();
        for v in 1..=100_000u64 {
            h.record(v * 1000);
        }
        let s = h.summary();
        assert_eq!(s.count, 100_000);
        let close = |got: u64, want: u64| (got as f64 / want as f64 - 1.0).abs() < 1e-3;
        assert!(close(s.p50_ns, 50_000_000), "{}", s.p50_ns);
        assert!(close(s.p99_ns, 99_000_000), "{}", s.p99_ns);
        assert!(close(s.max_ns, 100_000_000), "{}", s.max_ns);
    }

    #[test]
    fn serialization_is_deterministic_and_decodes() {
        let mut h = LatencyHistogram::new();
        for v in [5, 50, 500, 5_000_000] {
            h.record(v);
        }
        let a = h.to_v2_base64();
        assert_eq!(a, h.clone().to_v2_base64());
        let bytes = base64::engine::general_purpose::STANDARD.decode(&a).unwrap();
        let back: Histogram<u64> =
            hdrhistogram::serialization::Deserializer::new().deserialize(&mut &bytes[..]).unwrap();
        assert_eq!(back.len(), 4);
        let again = LatencyHistogram::from_v2_base64(&a).unwrap();
        assert_eq!(again.summary(), h.summary());
        assert!(LatencyHistogram::from_v2_base64("not base64!").is_err());
        assert!(LatencyHistogram::from_v2_base64("AAAA").is_err());
        assert_eq!(back.max(), h.inner().max());
    }
}
