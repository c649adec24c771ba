//! Standard normal variates by the ziggurat method (Marsaglia and Tsang, 2000), for lognormal
//! sampling.
//!
//! Inversion through AS 241 costs a rational polynomial with a division, plus a logarithm and a
//! square root in the tails, for every draw; the ziggurat returns about 99 % of draws after one
//! 64-bit random word, a table lookup, a multiply and a compare. As for the exponential
//! ([`crate::ziggurat`]), the 256-layer tables are computed once with `libm` from the published
//! constants, so the samples are the same bits on every machine.

use crate::rng::StreamRng;
use crate::time::f64_of;
use std::sync::OnceLock;

/// Right edge of the base layer.
const R: f64 = 3.654_152_885_361_009;
/// Area of each layer (under the unnormalised density `exp(-x²/2)`).
const V: f64 = 4.928_673_233_99e-3;

struct Tables {
    x: [f64; 257],
    f: [f64; 257],
}

fn density(x: f64) -> f64 {
    libm::exp(-0.5 * x * x)
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut x = [0.0; 257];
        x[0] = V / density(R);
        x[1] = R;
        for i in 2..256 {
            x[i] = libm::sqrt(-2.0 * libm::log(V / x[i - 1] + density(x[i - 1])));
        }
        x[256] = 0.0;
        let mut f = [0.0; 257];
        for i in 0..257 {
            f[i] = density(x[i]);
        }
        Tables { x, f }
    })
}

/// A standard normal variate (mean 0, variance 1). The first layer draw is inlined (about 99 %
/// of draws end there); the rest of the method is out of line, with the same draws.
#[inline(always)]
pub(crate) fn normal(rng: &mut StreamRng) -> f64 {
    let t = tables();
    let (i, u, x) = layer_draw(rng, t);
    if x.abs() < t.x[i + 1] {
        return x;
    }
    normal_rejected(rng, t, i, u, x)
}

/// One 64-bit word: its low 8 bits pick the layer; its top 53, as a signed uniform `u` in
/// [-1, 1) independent of them, the point `x` within it.
#[inline(always)]
fn layer_draw(rng: &mut StreamRng, t: &Tables) -> (usize, f64, f64) {
    let bits = rng.next_u64();
    let i = (bits & 0xff) as usize;
    let u = f64_of(bits >> 11) * (1.0 / (1u64 << 52) as f64) - 1.0;
    (i, u, u * t.x[i])
}

/// Layer `i`'s draw fell outside the layer's rectangle core: the tail beyond R, or the wedge
/// test, and further layer draws until one is accepted.
#[cold]
#[inline(never)]
fn normal_rejected(rng: &mut StreamRng, t: &Tables, mut i: usize, mut u: f64, mut x: f64) -> f64 {
    loop {
        if i == 0 {
            // Beyond R: Marsaglia's tail method.
            loop {
                let a = -libm::log(rng.open01()) / R;
                let b = -libm::log(rng.open01());
                if 2.0 * b > a * a {
                    return if u < 0.0 { -(R + a) } else { R + a };
                }
            }
        }
        if t.f[i + 1] + (t.f[i] - t.f[i + 1]) * rng.open01() < density(x) {
            return x;
        }
        (i, u, x) = layer_draw(rng, t);
        if x.abs() < t.x[i + 1] {
            return x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RngStreams;

    #[test]
    fn the_layers_close_at_zero() {
        let t = tables();
        assert!(t.x[255] > 0.0 && t.x[255] < 0.3, "x[255] = {}", t.x[255]);
        assert!(t.x.windows(2).all(|w| w[0] > w[1]), "layer edges decrease");
    }

    #[test]
    fn matches_the_normal_distribution() {
        let mut rng = RngStreams::new(11).stream("zig-normal");
        let n = 2_000_000;
        let mut sum = 0.0;
        let mut sum_sq = 0.0;
        // Tail probabilities P(X > q), including beyond R (3.65), and one on the left.
        let qs = [0.0, 0.5, 1.0, 2.0, 3.0, 3.8, -1.5];
        let mut above = [0u32; 7];
        for _ in 0..n {
            let x = normal(&mut rng);
            assert!(x.is_finite());
            sum += x;
            sum_sq += x * x;
            for (k, q) in qs.iter().enumerate() {
                above[k] += u32::from(x > *q);
            }
        }
        let mean = sum / n as f64;
        let var = sum_sq / n as f64 - mean * mean;
        // Standard error of the mean is 7e-4; of the variance 1e-3.
        assert!(mean.abs() < 3.5e-3, "mean {mean}");
        assert!((var - 1.0).abs() < 5e-3, "variance {var}");
        for (k, q) in qs.iter().enumerate() {
            let p = 0.5 * libm::erfc(q / std::f64::consts::SQRT_2);
            let got = f64::from(above[k]) / n as f64;
            let se = (p * (1.0 - p) / n as f64).sqrt();
            assert!((got - p).abs() < 5.0 * se + 1e-6, "P(X > {q}) = {got}, want {p}");
        }
    }
}
