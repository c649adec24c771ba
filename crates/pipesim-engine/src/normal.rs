//! The inverse of the standard normal CDF (Wichura's algorithm AS 241, PPND16).
//!
//! Used to sample the lognormal distribution by inversion and to turn a (p50, p99) pair into
//! lognormal parameters. Relative accuracy is about 1e-16 over (0, 1).
//!
//! Each region of (0, 1) is a ratio of two degree-7 polynomials. The coefficient tables below are
//! the published AS 241 ones, digit for digit, listed from the highest power down to the constant
//! term: that is the order Horner's rule consumes them in, so [`horner`] performs exactly the
//! multiply-adds (same operands, same order) the unrolled expression did and results stay
//! bit-identical.
#![allow(clippy::excessive_precision)] // the published AS 241 coefficients, digit for digit

/// |p - 0.5| up to this is the central region.
const SPLIT1: f64 = 0.425;
/// sqrt(-ln(tail p)) up to this is the near tail, beyond it the far tail.
const SPLIT2: f64 = 5.0;
/// 0.425², the central region's variable is `CONST1 - q²`.
const CONST1: f64 = 0.180625;
/// The near tail's variable is shifted by this.
const CONST2: f64 = 1.6;

/// Central region numerator (AS 241's a7..a0).
const CENTRAL_NUM: [f64; 8] = [
    2_509.080_928_730_122_7,
    33_430.575_583_588_128,
    67_265.770_927_008_700,
    45_921.953_931_549_871,
    13_731.693_765_509_461,
    1_971.590_950_306_551_3,
    133.141_667_891_784_38,
    3.387_132_872_796_366_5,
];
/// Central region denominator (AS 241's b7..b1, then 1).
const CENTRAL_DEN: [f64; 8] = [
    5_226.495_278_852_545_4,
    28_729.085_735_721_943,
    39_307.895_800_092_710,
    21_213.794_301_586_595,
    5_394.196_021_424_751_1,
    687.187_007_492_057_91,
    42.313_330_701_600_911,
    1.0,
];
/// Near tail numerator (AS 241's c7..c0).
const NEAR_TAIL_NUM: [f64; 8] = [
    7.745_450_142_783_414_1e-4,
    2.272_384_498_926_918_4e-2,
    2.417_807_251_774_506_1e-1,
    1.270_458_252_452_368_4,
    3.647_848_324_763_204_5,
    5.769_497_221_460_691_4,
    4.630_337_846_156_545_3,
    1.423_437_110_749_683_5,
];
/// Near tail denominator (AS 241's d7..d1, then 1).
const NEAR_TAIL_DEN: [f64; 8] = [
    1.050_750_071_644_416_9e-9,
    5.475_938_084_995_344_9e-4,
    1.519_866_656_361_645_7e-2,
    1.481_039_764_274_800_7e-1,
    6.897_673_349_851_000_0e-1,
    1.676_384_830_183_803_8,
    2.053_191_626_637_758_8,
    1.0,
];
/// Far tail numerator (AS 241's e7..e0).
const FAR_TAIL_NUM: [f64; 8] = [
    2.010_334_399_292_288_1e-7,
    2.711_555_568_743_487_6e-5,
    1.242_660_947_388_078_4e-3,
    2.653_218_952_657_612_4e-2,
    2.965_605_718_285_048_7e-1,
    1.784_826_539_917_291_3,
    5.463_784_911_164_114_4,
    6.657_904_643_501_103_3,
];
/// Far tail denominator (AS 241's f7..f1, then 1).
const FAR_TAIL_DEN: [f64; 8] = [
    2.044_263_103_389_939_7e-15,
    1.421_511_758_316_446_0e-7,
    1.846_318_317_510_054_7e-5,
    7.868_691_311_456_132_6e-4,
    1.487_536_129_085_061_5e-2,
    1.369_298_809_227_358_0e-1,
    5.998_322_065_558_879_4e-1,
    1.0,
];

/// The `p`-quantile of the standard normal distribution, for `p` in (0, 1).
///
/// Returns negative infinity at 0 and positive infinity at 1.
pub fn inverse_normal_cdf(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= SPLIT1 {
        return central(q);
    }
    let tail_p = if q < 0.0 { p } else { 1.0 - p };
    let value = tail(libm::sqrt(-libm::log(tail_p)));
    if q < 0.0 { -value } else { value }
}

/// The quantile for `q = p - 0.5` with |q| ≤ [`SPLIT1`].
fn central(q: f64) -> f64 {
    let r = CONST1 - q * q;
    q * horner(&CENTRAL_NUM, r) / horner(&CENTRAL_DEN, r)
}

/// The (positive) quantile magnitude in either tail, given `r = sqrt(-ln(tail p))`.
fn tail(r: f64) -> f64 {
    if r <= SPLIT2 {
        let r = r - CONST2;
        horner(&NEAR_TAIL_NUM, r) / horner(&NEAR_TAIL_DEN, r)
    } else {
        let r = r - SPLIT2;
        horner(&FAR_TAIL_NUM, r) / horner(&FAR_TAIL_DEN, r)
    }
}

/// Evaluates the polynomial with `coefficients` (highest power first) at `r` by Horner's rule:
/// `((c0 * r + c1) * r + c2) ...`, the exact operation order of the published algorithm.
fn horner(coefficients: &[f64; 8], r: f64) -> f64 {
    let (first, rest) = coefficients.split_first().expect("eight coefficients");
    rest.iter().fold(*first, |acc, &c| acc * r + c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_quantiles() {
        let cases = [
            (0.5, 0.0),
            (0.975, 1.959_963_984_540_054),
            (0.99, 2.326_347_874_040_841),
            (0.999, 3.090_232_306_167_813_5),
            (0.01, -2.326_347_874_040_841),
            (1e-10, -6.361_340_902_404_056),
        ];
        for (p, z) in cases {
            let got = inverse_normal_cdf(p);
            assert!((got - z).abs() < 1e-12, "p={p}: got {got}, want {z}");
        }
    }
}
