//! Simulated time: a `u64` of nanoseconds since the start of the run.

/// A point in simulated time, or a span of it, in nanoseconds.
///
/// 2^64 ns is about 584 years, so overflow is not a practical concern; arithmetic saturates where
/// a sample could be unbounded (a heavy-tailed distribution).
pub type SimTime = u64;

/// `n` as `f64`, the value `n as f64` gives, for `n` below 2^63: every time inside a run (at most
/// 100 years, 3.2e18 ns) and every count is. A signed conversion is one instruction on x86-64;
/// an unsigned one takes several, and the hot paths convert on every event.
#[inline(always)]
pub fn f64_of(n: u64) -> f64 {
    debug_assert!(n < 1 << 63, "{n} is not below 2^63");
    n as i64 as f64
}

/// `x` truncated to an integer, the value `x as u64` gives, for `x` in [0, 2^63) (a time or a
/// count inside a run): one instruction instead of an unsigned conversion's several.
#[inline(always)]
pub fn u64_of(x: f64) -> u64 {
    debug_assert!((0.0..9.223_372_036_854_775e18).contains(&x), "{x} is not in [0, 2^63)");
    x as i64 as u64
}

/// Nanoseconds in a microsecond.
pub const NS_PER_US: u64 = 1_000;
/// Nanoseconds in a millisecond.
pub const NS_PER_MS: u64 = 1_000_000;
/// Nanoseconds in a second.
pub const NS_PER_S: u64 = 1_000_000_000;

/// Formats a span of nanoseconds in the largest unit that writes it exactly, the way scenario
/// files write durations: `1500000` → `"1.5ms"`, `30000000000` → `"30s"`, `0` → `"0s"`.
/// Minutes are written in seconds (`"300s"`), hours only when whole or to the thousandth.
pub fn format_duration_ns(ns: u64) -> String {
    if ns == 0 {
        return "0s".to_string();
    }
    // Minutes are left out on purpose: "1m" reads like a million in a report.
    const UNITS: [(&str, u64); 5] =
        [("h", 3_600 * NS_PER_S), ("s", NS_PER_S), ("ms", NS_PER_MS), ("us", NS_PER_US), ("ns", 1)];
    // Prefer a unit in which the value is a whole number or has at most three decimals.
    for (name, unit) in UNITS {
        if ns >= unit && ((ns % unit) * 1000).is_multiple_of(unit) {
            let whole = ns / unit;
            let frac_thousandths = (ns % unit) * 1000 / unit;
            return if frac_thousandths == 0 {
                format!("{whole}{name}")
            } else {
                let frac = format!("{frac_thousandths:03}");
                format!("{whole}.{}{name}", frac.trim_end_matches('0'))
            };
        }
    }
    format!("{ns}ns")
}

/// Formats a point in simulated time as seconds with microsecond precision: `"5.185321s"`.
pub fn format_time_s(ns: u64) -> String {
    let us = (ns + 500) / NS_PER_US;
    format!("{}.{:06}s", us / 1_000_000, us % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_conversions_give_the_unsigned_values_below_2_63() {
        // Around every power of two (where rounding to 53 bits changes), and a spread between.
        let mut values: Vec<u64> = (0..63)
            .flat_map(|k| {
                let p = 1u64 << k;
                [p - 1, p, p + 1, p + (p >> 1) + 1]
            })
            .collect();
        let mut z = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            z = z.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            values.push(z >> (1 + z % 63));
        }
        for n in values.into_iter().filter(|&n| n < 1 << 63) {
            assert_eq!(f64_of(n).to_bits(), (n as f64).to_bits(), "{n}");
            let x = n as f64 + 0.5;
            if x < 9.223_372_036_854_775e18 {
                assert_eq!(u64_of(x), x as u64, "{x}");
            }
        }
    }

    #[test]
    fn formats_in_the_largest_exact_unit() {
        let cases = [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5us"),
            (120_000, "120us"),
            (1_500_000, "1.5ms"),
            (30 * NS_PER_S, "30s"),
            (5 * 60 * NS_PER_S, "300s"),
            (90 * 60 * NS_PER_S, "1.5h"),
            (1_234_567, "1234.567us"),
            (1_000_001, "1000.001us"),
        ];
        for (ns, want) in cases {
            assert_eq!(format_duration_ns(ns), want, "{ns} ns");
        }
    }
}
