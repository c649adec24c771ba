//! The inverse of the standard normal CDF (Wichura's algorithm AS 241, PPND16).
//!
//! Used to sample the lognormal distribution by inversion and to turn a (p50, p99) pair into
//! lognormal parameters. Relative accuracy is about 1e-16 over (0, 1).

/// The `p`-quantile of the standard normal distribution, for `p` in (0, 1).
///
/// Returns negative infinity at 0 and positive infinity at 1.
#[allow(clippy::excessive_precision)] // the published AS 241 coefficients, digit for digit
#[expect(clippy::too_many_lines, reason = "over the 70-line budget (clippy.toml); to be split")]
pub fn inverse_normal_cdf(p: f64) -> f64 {
    const SPLIT1: f64 = 0.425;
    const SPLIT2: f64 = 5.0;
    const CONST1: f64 = 0.180625;
    const CONST2: f64 = 1.6;

    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= SPLIT1 {
        let r = CONST1 - q * q;
        return q
            * (((((((2_509.080_928_730_122_7 * r + 33_430.575_583_588_128) * r
                + 67_265.770_927_008_700)
                * r
                + 45_921.953_931_549_871)
                * r
                + 13_731.693_765_509_461)
                * r
                + 1_971.590_950_306_551_3)
                * r
                + 133.141_667_891_784_38)
                * r
                + 3.387_132_872_796_366_5)
            / (((((((5_226.495_278_852_545_4 * r + 28_729.085_735_721_943) * r
                + 39_307.895_800_092_710)
                * r
                + 21_213.794_301_586_595)
                * r
                + 5_394.196_021_424_751_1)
                * r
                + 687.187_007_492_057_91)
                * r
                + 42.313_330_701_600_911)
                * r
                + 1.0);
    }
    let mut r = if q < 0.0 { p } else { 1.0 - p };
    r = libm::sqrt(-libm::log(r));
    let value = if r <= SPLIT2 {
        r -= CONST2;
        (((((((7.745_450_142_783_414_1e-4 * r + 2.272_384_498_926_918_4e-2) * r
            + 2.417_807_251_774_506_1e-1)
            * r
            + 1.270_458_252_452_368_4)
            * r
            + 3.647_848_324_763_204_5)
            * r
            + 5.769_497_221_460_691_4)
            * r
            + 4.630_337_846_156_545_3)
            * r
            + 1.423_437_110_749_683_5)
            / (((((((1.050_750_071_644_416_9e-9 * r + 5.475_938_084_995_344_9e-4) * r
                + 1.519_866_656_361_645_7e-2)
                * r
                + 1.481_039_764_274_800_7e-1)
                * r
                + 6.897_673_349_851_000_0e-1)
                * r
                + 1.676_384_830_183_803_8)
                * r
                + 2.053_191_626_637_758_8)
                * r
                + 1.0)
    } else {
        r -= SPLIT2;
        (((((((2.010_334_399_292_288_1e-7 * r + 2.711_555_568_743_487_6e-5) * r
            + 1.242_660_947_388_078_4e-3)
            * r
            + 2.653_218_952_657_612_4e-2)
            * r
            + 2.965_605_718_285_048_7e-1)
            * r
            + 1.784_826_539_917_291_3)
            * r
            + 5.463_784_911_164_114_4)
            * r
            + 6.657_904_643_501_103_3)
            / (((((((2.044_263_103_389_939_7e-15 * r + 1.421_511_758_316_446_0e-7) * r
                + 1.846_318_317_510_054_7e-5)
                * r
                + 7.868_691_311_456_132_6e-4)
                * r
                + 1.487_536_129_085_061_5e-2)
                * r
                + 1.369_298_809_227_358_0e-1)
                * r
                + 5.998_322_065_558_879_4e-1)
                * r
                + 1.0)
    };
    if q < 0.0 { -value } else { value }
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
