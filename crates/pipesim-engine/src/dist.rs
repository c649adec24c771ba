//! Distributions of durations in nanoseconds.

use crate::empirical::EmpiricalTable;
use crate::normal::inverse_normal_cdf;
use crate::rng::StreamRng;
use crate::time::SimTime;
use std::sync::Arc;

/// The largest duration a sample may take: about 11.6 days. Heavy tails (Pareto with a small
/// shape) can otherwise produce values that overflow simulated time.
pub const MAX_SAMPLE_NS: u64 = 1_000_000_000_000_000;

/// A distribution of durations.
///
/// The exponential and the lognormal (the exponential of a normal) sample by a ziggurat (one
/// ChaCha word, a lookup and a multiply 99 % of the time); the others by inversion of one
/// uniform draw. Two models that draw from streams of the
/// same name see the same underlying randomness (common random numbers).
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    /// Always `ns`.
    Const {
        /// The value, in nanoseconds.
        ns: u64,
    },
    /// Exponential with the given mean.
    Exp {
        /// Mean in nanoseconds.
        mean_ns: f64,
    },
    /// Uniform on \[min, max\].
    Uniform {
        /// Lower bound in nanoseconds.
        min_ns: f64,
        /// Upper bound in nanoseconds.
        max_ns: f64,
    },
    /// Lognormal: `exp(mu + sigma * Z)` nanoseconds with Z standard normal.
    LogNormal {
        /// Location: the logarithm of the median in nanoseconds.
        mu: f64,
        /// Scale.
        sigma: f64,
    },
    /// Pareto (type I): `scale / U^(1/shape)`, at least `scale`.
    Pareto {
        /// The minimum value, in nanoseconds.
        scale_ns: f64,
        /// The tail index α; the mean is finite only for α > 1.
        shape: f64,
    },
    /// An empirical CDF, for example read from an HdrHistogram `.hgrm` file.
    Empirical(Arc<EmpiricalTable>),
}

/// z such that Φ(z) = 0.99.
const Z99: f64 = 2.326_347_874_040_841;

impl Dist {
    /// The lognormal distribution with the given median and 99th percentile (`p99 > p50 > 0`).
    pub fn lognormal_from_p50_p99(p50_ns: f64, p99_ns: f64) -> Self {
        let mu = libm::log(p50_ns);
        let sigma = (libm::log(p99_ns) - mu) / Z99;
        Self::LogNormal { mu, sigma }
    }

    /// Draws one duration.
    #[inline]
    pub fn sample(&self, rng: &mut StreamRng) -> SimTime {
        let x = match self {
            Self::Const { ns } => return *ns,
            Self::Exp { mean_ns } => mean_ns * rng.exp1(),
            Self::Uniform { min_ns, max_ns } => min_ns + (max_ns - min_ns) * rng.open01(),
            Self::LogNormal { mu, sigma } => libm::exp(mu + sigma * rng.normal()),
            Self::Pareto { scale_ns, shape } => {
                scale_ns * libm::exp(-libm::log(rng.open01()) / shape)
            }
            Self::Empirical(table) => table.quantile_ns(rng.open01()),
        };
        to_ns(x)
    }

    /// The mean in nanoseconds (infinite for a Pareto tail with shape ≤ 1).
    pub fn mean_ns(&self) -> f64 {
        match self {
            Self::Const { ns } => *ns as f64,
            Self::Exp { mean_ns } => *mean_ns,
            Self::Uniform { min_ns, max_ns } => (min_ns + max_ns) / 2.0,
            Self::LogNormal { mu, sigma } => libm::exp(mu + sigma * sigma / 2.0),
            Self::Pareto { scale_ns, shape } => {
                if *shape > 1.0 {
                    shape * scale_ns / (shape - 1.0)
                } else {
                    f64::INFINITY
                }
            }
            Self::Empirical(table) => table.mean_ns(),
        }
    }

    /// The `p`-quantile in nanoseconds, for `p` in (0, 1).
    pub fn quantile_ns(&self, p: f64) -> f64 {
        match self {
            Self::Const { ns } => *ns as f64,
            Self::Exp { mean_ns } => -mean_ns * libm::log(1.0 - p),
            Self::Uniform { min_ns, max_ns } => min_ns + (max_ns - min_ns) * p,
            Self::LogNormal { mu, sigma } => libm::exp(mu + sigma * inverse_normal_cdf(p)),
            Self::Pareto { scale_ns, shape } => scale_ns * libm::pow(1.0 - p, -1.0 / shape),
            Self::Empirical(table) => table.quantile_ns(p),
        }
    }
}

/// Rounds a sample to whole nanoseconds, clamped to `[0, MAX_SAMPLE_NS]`.
#[inline]
fn to_ns(x: f64) -> u64 {
    if x >= MAX_SAMPLE_NS as f64 {
        MAX_SAMPLE_NS
    } else if x > 0.0 {
        crate::time::u64_of(x + 0.5)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RngStreams;

    fn sample_mean(d: &Dist, n: u32) -> f64 {
        let mut rng = RngStreams::new(11).stream("dist");
        (0..n).map(|_| d.sample(&mut rng) as f64).sum::<f64>() / f64::from(n)
    }

    #[test]
    fn sample_means_match() {
        let n = 200_000;
        let cases = [
            Dist::Exp { mean_ns: 1_000_000.0 },
            Dist::Uniform { min_ns: 1_000.0, max_ns: 3_000.0 },
            Dist::lognormal_from_p50_p99(2e6, 20e6),
            Dist::Pareto { scale_ns: 1_000.0, shape: 3.0 },
        ];
        for d in cases {
            let want = d.mean_ns();
            let got = sample_mean(&d, n);
            // Loose: these distributions' CVs are at most about 2, so the standard error of the
            // mean is under 0.5 % at n = 200k; 3 % is many standard errors.
            assert!((got - want).abs() / want < 0.03, "{d:?}: sample mean {got}, mean {want}");
        }
    }

    #[test]
    fn lognormal_hits_its_percentiles() {
        let d = Dist::lognormal_from_p50_p99(2e6, 20e6);
        assert!((d.quantile_ns(0.5) - 2e6).abs() < 1.0);
        assert!((d.quantile_ns(0.99) - 20e6).abs() < 10.0);
        let mut rng = RngStreams::new(5).stream("ln");
        let mut v: Vec<u64> = (0..100_000).map(|_| d.sample(&mut rng)).collect();
        v.sort_unstable();
        let p99 = v[98_999] as f64;
        assert!((p99 / 20e6 - 1.0).abs() < 0.06, "p99 {p99}");
    }

    #[test]
    fn const_is_exact_and_heavy_tails_are_clamped() {
        let mut rng = RngStreams::new(5).stream("c");
        assert_eq!(Dist::Const { ns: 120_000 }.sample(&mut rng), 120_000);
        let d = Dist::Pareto { scale_ns: 1e9, shape: 0.05 };
        for _ in 0..1000 {
            assert!(d.sample(&mut rng) <= MAX_SAMPLE_NS);
        }
    }
}
