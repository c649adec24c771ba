//! Quantities written with their units: durations, rates and sizes.
//!
//! Durations and sizes are parsed exactly (decimal digits, integer arithmetic, overflow
//! checked); rates are `f64` events per second parsed with Rust's correctly rounded parser, so
//! the same text gives the same bits on every machine.

use pipesim_engine::{NS_PER_MS, NS_PER_S, NS_PER_US, format_duration_ns};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Why a quantity did not parse; the message names the accepted units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitError(pub String);

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnitError {}

const DURATION_UNITS: &str = "ns, us, ms, s, m, h";
const RATE_UNITS: &str = "/s, /ms, /us, /m, /h, with an optional k, M or G: \"950k/s\"";
const SIZE_UNITS: &str = "B, KB, MB, GB, KiB, MiB, GiB";

/// A decimal number split into its digits, so that scaling by a unit stays exact.
struct Decimal<'a> {
    int: &'a str,
    frac: &'a str,
}

/// Splits `text` into a non-negative decimal number and the unit after it.
fn split_number<'a>(
    text: &'a str,
    what: &str,
    units: &str,
) -> Result<(Decimal<'a>, &'a str), UnitError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(UnitError(format!(
            "expected a {what} such as {}, found an empty string",
            example(what)
        )));
    }
    if t.starts_with('-') {
        return Err(UnitError(format!("a {what} cannot be negative: \"{text}\"")));
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let end = t.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).unwrap_or(t.len());
    let (number, unit) = (&t[..end], t[end..].trim());
    if number.is_empty() || number.starts_with('.') && number.len() == 1 {
        return Err(UnitError(format!(
            "expected a {what} such as {}, found \"{text}\" (units: {units})",
            example(what)
        )));
    }
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if frac.contains('.') || int.is_empty() && frac.is_empty() {
        return Err(UnitError(format!("\"{text}\" is not a number followed by a unit")));
    }
    if unit.is_empty() {
        return Err(UnitError(format!(
            "\"{text}\" has no unit: write one of {units}, for example {}",
            example(what)
        )));
    }
    Ok((Decimal { int, frac }, unit))
}

fn example(what: &str) -> &'static str {
    match what {
        "duration" => "\"250ms\"",
        "rate" => "\"300k/s\"",
        "bandwidth" => "\"250MB/s\"",
        _ => "\"512B\"",
    }
}

/// `decimal × unit`, exactly, rounded to the nearest whole unit of the result; `None` on overflow.
fn scale(d: &Decimal<'_>, unit: u64) -> Option<u64> {
    let int: String = d.int.chars().filter(|&c| c != '_').collect();
    let frac: String = d.frac.chars().filter(|&c| c != '_').collect();
    let whole = if int.is_empty() { 0 } else { int.parse::<u64>().ok()? };
    let mut total = whole.checked_mul(unit)?;
    // Fraction: digits / 10^len × unit, computed in u128 and rounded half up.
    let digits = frac.trim_end_matches('0');
    if !digits.is_empty() {
        if digits.len() > 30 {
            return None;
        }
        let num = digits.parse::<u128>().ok()?;
        let den = 10u128.checked_pow(digits.len() as u32)?;
        let part = (num * u128::from(unit) + den / 2) / den;
        total = total.checked_add(u64::try_from(part).ok()?)?;
    }
    Some(total)
}

/// Parses a duration such as `"120us"`, `"1.5ms"`, `"30s"`, `"5m"`, `"2h"` into nanoseconds.
pub fn parse_duration_ns(text: &str) -> Result<u64, UnitError> {
    let (number, unit) = split_number(text, "duration", DURATION_UNITS)?;
    let unit_ns = match unit {
        "ns" => 1,
        "us" | "µs" => NS_PER_US,
        "ms" => NS_PER_MS,
        "s" => NS_PER_S,
        "m" | "min" => 60 * NS_PER_S,
        "h" => 3_600 * NS_PER_S,
        other => {
            return Err(UnitError(format!(
                "unknown duration unit \"{other}\" in \"{text}\" (use {DURATION_UNITS})"
            )));
        }
    };
    scale(&number, unit_ns)
        .ok_or_else(|| UnitError(format!("the duration \"{text}\" is too large")))
}

/// Parses a rate such as `"900/s"`, `"950k/s"`, `"1.2M/s"` into events per second.
pub fn parse_rate_per_s(text: &str) -> Result<f64, UnitError> {
    let (number, unit) = split_number(text, "rate", RATE_UNITS)?;
    let (prefix, per) = match unit.split_once('/') {
        Some((p, per)) => (p.trim(), per.trim()),
        None => {
            return Err(UnitError(format!(
                "a rate needs a time unit after '/': \"{text}\" (use {RATE_UNITS})"
            )));
        }
    };
    let multiplier = match prefix {
        "" => 1.0,
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        other => {
            return Err(UnitError(format!(
                "unknown rate prefix \"{other}\" in \"{text}\" (use k, M or G)"
            )));
        }
    };
    let per_s = match per {
        "s" => 1.0,
        "ms" => 1e3,
        "us" | "µs" => 1e6,
        "m" | "min" => 1.0 / 60.0,
        "h" => 1.0 / 3_600.0,
        other => {
            return Err(UnitError(format!(
                "unknown time unit \"/{other}\" in \"{text}\" (use {RATE_UNITS})"
            )));
        }
    };
    let digits: String =
        format!("{}.{}", number.int, if number.frac.is_empty() { "0" } else { number.frac })
            .chars()
            .filter(|&c| c != '_')
            .collect();
    let value: f64 = digits
        .parse()
        .map_err(|_| UnitError(format!("\"{text}\" is not a number followed by a unit")))?;
    let rate = value * multiplier * per_s;
    if !rate.is_finite() {
        return Err(UnitError(format!("the rate \"{text}\" is too large")));
    }
    if rate <= 0.0 {
        return Err(UnitError(format!("a rate must be positive, found \"{text}\"")));
    }
    // Every rate of a scenario (arrivals, reads, polls) is bounded here, once, rather than by
    // each table that takes one: faster than one event per simulated nanosecond is never real.
    if rate > crate::limits::MAX_RATE_PER_S {
        return Err(UnitError(format!(
            "the rate \"{text}\" is faster than 1G/s (one event per simulated nanosecond, the clock's resolution)"
        )));
    }
    Ok(rate)
}

/// Parses a size such as `"512B"`, `"4KiB"`, `"1.5MB"` into bytes.
pub fn parse_size_bytes(text: &str) -> Result<u64, UnitError> {
    let (number, unit) = split_number(text, "size", SIZE_UNITS)?;
    let unit_bytes = match unit {
        "B" => 1,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => {
            return Err(UnitError(format!(
                "unknown size unit \"{other}\" in \"{text}\" (use {SIZE_UNITS})"
            )));
        }
    };
    scale(&number, unit_bytes).ok_or_else(|| UnitError(format!("the size \"{text}\" is too large")))
}

/// Parses a bandwidth such as `"250MB/s"` or `"1GiB/s"` into bytes per second.
pub fn parse_bandwidth(text: &str) -> Result<f64, UnitError> {
    let trimmed = text.trim();
    let Some(size) = trimmed.strip_suffix("/s") else {
        return Err(UnitError(format!(
            "a bandwidth is a size per second, such as \"250MB/s\"; found \"{text}\""
        )));
    };
    let bytes = parse_size_bytes(size)?;
    if bytes == 0 {
        return Err(UnitError(format!("a bandwidth must be positive, found \"{text}\"")));
    }
    Ok(bytes as f64)
}

/// Formats a bandwidth: `250e6` → `"250MB/s"`.
pub fn format_bandwidth(bytes_per_s: f64) -> String {
    let b = bytes_per_s.round() as u64;
    for (name, unit) in [("GB", 1_000_000_000u64), ("MB", 1_000_000), ("KB", 1_000)] {
        if b >= unit && b.is_multiple_of(unit) {
            return format!("{}{name}/s", b / unit);
        }
    }
    format!("{}/s", format_size(b))
}

/// Formats a rate the way a scenario writes it: `300000.0` → `"300k/s"`, `1.2e6` → `"1.2M/s"`.
pub fn format_rate(per_s: f64) -> String {
    let (value, prefix) = if per_s >= 1e9 {
        (per_s / 1e9, "G")
    } else if per_s >= 1e6 {
        (per_s / 1e6, "M")
    } else if per_s >= 1e3 {
        (per_s / 1e3, "k")
    } else {
        (per_s, "")
    };
    format!("{}{prefix}/s", trim_float(value))
}

/// Formats a size: exact binary units when they fit (`4096` → `"4KiB"`), else bytes.
pub fn format_size(bytes: u64) -> String {
    for (name, unit) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= unit && bytes.is_multiple_of(unit) {
            return format!("{}{name}", bytes / unit);
        }
    }
    format!("{bytes}B")
}

/// Shortest round-trip text of a float, without a trailing ".0".
fn trim_float(x: f64) -> String {
    let s = format!("{x}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

macro_rules! quantity {
    ($name:ident, $field:ident: $ty:ty, $parse:ident, $format:expr, $what:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
        pub struct $name {
            #[allow(missing_docs)]
            pub $field: $ty,
        }

        impl std::str::FromStr for $name {
            type Err = UnitError;
            fn from_str(text: &str) -> Result<Self, UnitError> {
                $parse(text).map(|$field| Self { $field })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&($format)(self.$field))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "a {} written with its unit, such as {}", $what, example($what))
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        v.parse().map_err(|e: UnitError| E::custom(e))
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$name, E> {
                        Err(E::custom(format!(
                            "{v} has no unit: write the {} as a string with its unit, such as {}",
                            $what,
                            example($what)
                        )))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$name, E> {
                        self.visit_i64(v as i64)
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$name, E> {
                        Err(E::custom(format!(
                            "{v} has no unit: write the {} as a string with its unit, such as {}",
                            $what,
                            example($what)
                        )))
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

quantity!(Duration, ns: u64, parse_duration_ns, format_duration_ns, "duration", "A span of simulated time in nanoseconds, written `\"1.5ms\"`.");
quantity!(Rate, per_s: f64, parse_rate_per_s, format_rate, "rate", "Events per second, written `\"950k/s\"`; always positive and finite.");
quantity!(Size, bytes: u64, parse_size_bytes, format_size, "size", "A size in bytes, written `\"4KiB\"`.");
quantity!(
    Bandwidth,
    bytes_per_s: f64,
    parse_bandwidth,
    format_bandwidth,
    "bandwidth",
    "Bytes per second, written `\"250MB/s\"`; always positive."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = [
            ("120us", 120_000),
            ("1.5ms", 1_500_000),
            ("30s", 30 * NS_PER_S),
            ("5m", 300 * NS_PER_S),
            ("2h", 7_200 * NS_PER_S),
            ("0s", 0),
            ("250 ns", 250),
            ("1_000ms", NS_PER_S),
            ("0.000000001s", 1),
            ("12µs", 12_000),
        ];
        for (text, ns) in ok {
            assert_eq!(parse_duration_ns(text), Ok(ns), "{text}");
        }
        let bad = [
            ("10 parsecs", "unknown duration unit \"parsecs\""),
            ("-5s", "cannot be negative"),
            ("5", "has no unit"),
            ("", "empty"),
            ("ms", "expected a duration"),
            ("1.2.3s", "not a number"),
            ("99999999999999999999s", "too large"),
            ("NaNs", "expected a duration"),
        ];
        for (text, want) in bad {
            let err = parse_duration_ns(text).unwrap_err().0;
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn rates() {
        let ok = [
            ("900/s", 900.0),
            ("950k/s", 950_000.0),
            ("1.2M/s", 1_200_000.0),
            ("3/ms", 3_000.0),
            ("60/m", 1.0),
        ];
        for (text, r) in ok {
            assert_eq!(parse_rate_per_s(text), Ok(r), "{text}");
        }
        let bad = [
            ("0/s", "must be positive"),
            ("-3/s", "cannot be negative"),
            ("5k", "needs a time unit"),
            ("5x/s", "unknown rate prefix"),
            ("5/fortnight", "unknown time unit"),
            ("nan/s", "expected a rate"),
            ("inf/s", "expected a rate"),
            ("2G/s", "faster than 1G/s"),
            ("29223372036854775807k/s", "faster than 1G/s"),
        ];
        for (text, want) in bad {
            let err = parse_rate_per_s(text).unwrap_err().0;
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size_bytes("512B"), Ok(512));
        assert_eq!(parse_size_bytes("4KiB"), Ok(4096));
        assert_eq!(parse_size_bytes("1.5KB"), Ok(1500));
        assert!(parse_size_bytes("4 furlongs").unwrap_err().0.contains("unknown size unit"));
    }

    #[test]
    fn bandwidths() {
        assert_eq!(parse_bandwidth("250MB/s"), Ok(250e6));
        assert_eq!(parse_bandwidth("1GiB/s"), Ok(1_073_741_824.0));
        assert!(parse_bandwidth("250MB").unwrap_err().0.contains("size per second"));
        assert!(parse_bandwidth("0B/s").unwrap_err().0.contains("positive"));
        assert_eq!(format_bandwidth(250e6), "250MB/s");
        assert_eq!(format_bandwidth(1_073_741_824.0), "1GiB/s");
    }

    #[test]
    fn round_trips_through_text() {
        for text in ["120us", "1.5ms", "30s", "2h"] {
            let d: Duration = text.parse().unwrap();
            assert_eq!(d.to_string(), text);
        }
        for text in ["300k/s", "1.2M/s", "900/s"] {
            let r: Rate = text.parse().unwrap();
            assert_eq!(r.to_string(), text);
        }
        assert_eq!("4KiB".parse::<Size>().unwrap().to_string(), "4KiB");
    }

    #[test]
    fn deserializes_from_toml_strings_only() {
        #[derive(Deserialize)]
        struct T {
            d: Duration,
        }
        let t: T = toml::from_str("d = \"2ms\"").unwrap();
        assert_eq!(t.d.ns, 2 * NS_PER_MS);
        let err = toml::from_str::<T>("d = 5").err().unwrap().to_string();
        assert!(err.contains("has no unit"), "{err}");
    }
}
