//! Fixed rounding for report numbers, so formatting never varies.

use pipesim_engine::{NS_PER_MS, NS_PER_S};

/// Nanoseconds as milliseconds to the microsecond (3 decimals), rounded half up.
pub(crate) fn ms(ns: u64) -> f64 {
    ((ns + 500) / 1000) as f64 / 1000.0
}

/// A float number of nanoseconds as milliseconds to the microsecond.
pub(crate) fn ms_f(ns: f64) -> f64 {
    round_to(ns / NS_PER_MS as f64, 3)
}

/// Nanoseconds as seconds, to the microsecond.
pub(crate) fn secs(ns: u64) -> f64 {
    round_to(ns as f64 / NS_PER_S as f64, 6)
}

/// `x` rounded to `decimals` places (half away from zero); non-finite values become 0.
pub(crate) fn round_to(x: f64, decimals: u8) -> f64 {
    if !x.is_finite() {
        return 0.0;
    }
    let scale = 10f64.powi(i32::from(decimals));
    (x * scale).round() / scale
}

/// A count with thousands separators: 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    pipesim_config::limits::grouped(n)
}

/// A rate in events per second, short: 1234567.0 → "1.23M/s", 950.0 → "950/s".
pub(crate) fn short_rate(per_s: f64) -> String {
    let (v, unit) = if per_s >= 1e9 {
        (per_s / 1e9, "G")
    } else if per_s >= 1e6 {
        (per_s / 1e6, "M")
    } else if per_s >= 1e3 {
        (per_s / 1e3, "k")
    } else {
        return format!("{}/s", round_to(per_s, 1));
    };
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{:.*}{unit}/s", digits, v)
}

/// Milliseconds with 3 decimals, as text.
pub(crate) fn ms_text(ns: u64) -> String {
    format!("{:.3}", ms(ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_fixed() {
        assert_eq!(ms(1_234_567), 1.235);
        assert_eq!(ms(499), 0.0);
        assert_eq!(ms(500), 0.001);
        assert_eq!(round_to(2.0 / 3.0, 6), 0.666667);
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(short_rate(1_234_567.0), "1.23M/s");
        assert_eq!(short_rate(300_000.0), "300k/s");
        assert_eq!(short_rate(950.0), "950/s");
    }
}
