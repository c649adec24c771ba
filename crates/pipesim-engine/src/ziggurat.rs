//! Exponential variates by the ziggurat method (Marsaglia and Tsang, 2000).
//!
//! About 99 % of draws cost one 64-bit random word, a table lookup, a multiply and a compare; the
//! rest fall back to `libm`'s `exp`/`log`. The 256-layer tables are computed once from the
//! published constants with `libm`, so the samples are the same bits on every machine.

use crate::rng::StreamRng;
use crate::time::f64_of;
use std::sync::OnceLock;

/// Right edge of the base layer.
const R: f64 = 7.697_117_470_131_487;
/// Area of each layer.
const V: f64 = 3.949_659_822_581_557e-3;

struct Tables {
    x: [f64; 257],
    f: [f64; 257],
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut x = [0.0; 257];
        x[0] = V / libm::exp(-R);
        x[1] = R;
        for i in 2..256 {
            x[i] = -libm::log(V / x[i - 1] + libm::exp(-x[i - 1]));
        }
        x[256] = 0.0;
        let mut f = [0.0; 257];
        for i in 0..257 {
            f[i] = libm::exp(-x[i]);
        }
        Tables { x, f }
    })
}

/// A standard exponential variate (mean 1).
/// The first layer draw is inlined at every call site (about 99 % of draws end there); the rest
/// of the method is out of line. The draws are the same either way.
#[inline(always)]
pub(crate) fn exp1(rng: &mut StreamRng) -> f64 {
    let t = tables();
    let (i, x) = layer_draw(rng, t);
    if x < t.x[i + 1] {
        return x;
    }
    exp1_rejected(rng, t, i, x)
}

/// One 64-bit word: its low 8 bits pick the layer, its top 53 the point within it.
#[inline(always)]
fn layer_draw(rng: &mut StreamRng, t: &Tables) -> (usize, f64) {
    let bits = rng.next_u64();
    let i = (bits & 0xff) as usize;
    let u = f64_of(bits >> 11) * (1.0 / (1u64 << 53) as f64);
    (i, u * t.x[i])
}

/// Layer `i`'s draw `x` fell outside the layer's rectangle core: the base layer's tail, or the
/// wedge test, and further layer draws until one is accepted.
#[cold]
#[inline(never)]
fn exp1_rejected(rng: &mut StreamRng, t: &Tables, mut i: usize, mut x: f64) -> f64 {
    loop {
        if i == 0 {
            // The tail beyond R is again exponential, shifted.
            return R - libm::log(rng.open01());
        }
        if t.f[i + 1] + (t.f[i] - t.f[i + 1]) * rng.open01() < libm::exp(-x) {
            return x;
        }
        (i, x) = layer_draw(rng, t);
        if x < t.x[i + 1] {
            return x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RngStreams;

    #[test]
    fn matches_the_exponential_distribution() {
        let mut rng = RngStreams::new(9).stream("zig");
        let n = 1_000_000;
        let mut sum = 0.0;
        let mut sum_sq = 0.0;
        // Tail probabilities P(X > q) at a few points, including beyond R.
        let qs = [0.1, 1.0, 3.0, 7.0, 9.0];
        let mut above = [0u32; 5];
        for _ in 0..n {
            let x = exp1(&mut rng);
            assert!(x >= 0.0 && x.is_finite());
            sum += x;
            sum_sq += x * x;
            for (k, q) in qs.iter().enumerate() {
                above[k] += u32::from(x > *q);
            }
        }
        let mean = sum / n as f64;
        let var = sum_sq / n as f64 - mean * mean;
        // Standard error of the mean is 1e-3; of the variance about 2.2e-3.
        assert!((mean - 1.0).abs() < 5e-3, "mean {mean}");
        assert!((var - 1.0).abs() < 1.2e-2, "variance {var}");
        for (k, q) in qs.iter().enumerate() {
            let p: f64 = libm::exp(-q);
            let got = f64::from(above[k]) / n as f64;
            let se = (p * (1.0 - p) / n as f64).sqrt();
            assert!((got - p).abs() < 5.0 * se + 1e-6, "P(X > {q}) = {got}, want {p}");
        }
    }
}
