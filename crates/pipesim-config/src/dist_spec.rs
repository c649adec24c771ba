//! A distribution as a scenario writes it.

use crate::hgrm::parse_hgrm;
use crate::suggest::suggest;
use crate::units::{Duration, parse_duration_ns};
use pipesim_engine::{Dist, NS_PER_MS, NS_PER_S, NS_PER_US};
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

/// Reads files a scenario refers to (empirical distributions), relative to the scenario file.
pub trait Loader {
    /// The text of the file at `path`, or a message saying why it cannot be read.
    fn read_text(&self, path: &str) -> Result<String, String>;
}

/// A distribution of durations as written in a scenario:
/// `"120us"` (a constant), `{ dist = "exp", mean = "1ms" }`, `{ dist = "const", value = "120us" }`,
/// `{ dist = "uniform", min = "1ms", max = "3ms" }`, `{ dist = "lognormal", p50 = "2ms", p99 = "20ms" }`,
/// `{ dist = "pareto", scale = "1ms", shape = 1.5 }` (or `mean` instead of `scale`, with shape > 1),
/// `{ dist = "empirical", file = "measured.hgrm", unit = "ms" }`.
#[derive(Clone, Debug, PartialEq)]
pub enum DistSpec {
    /// Always the same value.
    Const {
        /// The value.
        value: Duration,
    },
    /// Exponential.
    Exp {
        /// The mean.
        mean: Duration,
    },
    /// Uniform between two bounds.
    Uniform {
        /// Lower bound.
        min: Duration,
        /// Upper bound.
        max: Duration,
    },
    /// Lognormal fitted to a median and a 99th percentile.
    LogNormal {
        /// The median.
        p50: Duration,
        /// The 99th percentile, above the median.
        p99: Duration,
    },
    /// Pareto type I.
    Pareto {
        /// The minimum value.
        scale: Duration,
        /// The tail index α > 0.
        shape: f64,
    },
    /// An HdrHistogram percentile file.
    Empirical {
        /// Path relative to the scenario file.
        file: String,
        /// The unit of the file's values: ns, us, ms (wrk2's) or s.
        unit: String,
    },
}

/// The `dist` names, in the order error messages list them.
pub const DIST_KINDS: [&str; 6] = ["const", "exp", "uniform", "lognormal", "pareto", "empirical"];

impl DistSpec {
    /// The engine distribution, reading any file through `loader`.
    pub fn resolve(&self, loader: &dyn Loader) -> Result<Dist, String> {
        Ok(match self {
            Self::Const { value } => Dist::Const { ns: value.ns },
            Self::Exp { mean } => Dist::Exp { mean_ns: mean.ns as f64 },
            Self::Uniform { min, max } => {
                Dist::Uniform { min_ns: min.ns as f64, max_ns: max.ns as f64 }
            }
            Self::LogNormal { p50, p99 } => {
                Dist::lognormal_from_p50_p99(p50.ns as f64, p99.ns as f64)
            }
            Self::Pareto { scale, shape } => {
                Dist::Pareto { scale_ns: scale.ns as f64, shape: *shape }
            }
            Self::Empirical { file, unit } => {
                let text = loader.read_text(file)?;
                let unit_ns = unit_ns(unit).ok_or_else(|| format!("unknown unit \"{unit}\""))?;
                let table = parse_hgrm(&text, unit_ns).map_err(|e| format!("{file}: {e}"))?;
                Dist::Empirical(Arc::new(table))
            }
        })
    }
}

fn unit_ns(unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" => 1.0,
        "us" => NS_PER_US as f64,
        "ms" => NS_PER_MS as f64,
        "s" => NS_PER_S as f64,
        _ => return None,
    })
}

impl fmt::Display for DistSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Const { value } => write!(f, "{value}"),
            Self::Exp { mean } => write!(f, "exp(mean {mean})"),
            Self::Uniform { min, max } => write!(f, "uniform({min}..{max})"),
            Self::LogNormal { p50, p99 } => write!(f, "lognormal(p50 {p50}, p99 {p99})"),
            Self::Pareto { scale, shape } => write!(f, "pareto(scale {scale}, shape {shape})"),
            Self::Empirical { file, unit } => write!(f, "empirical({file}, {unit})"),
        }
    }
}

impl Serialize for DistSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self {
            Self::Const { value } => {
                m.serialize_entry("dist", "const")?;
                m.serialize_entry("value", value)?;
            }
            Self::Exp { mean } => {
                m.serialize_entry("dist", "exp")?;
                m.serialize_entry("mean", mean)?;
            }
            Self::Uniform { min, max } => {
                m.serialize_entry("dist", "uniform")?;
                m.serialize_entry("min", min)?;
                m.serialize_entry("max", max)?;
            }
            Self::LogNormal { p50, p99 } => {
                m.serialize_entry("dist", "lognormal")?;
                m.serialize_entry("p50", p50)?;
                m.serialize_entry("p99", p99)?;
            }
            Self::Pareto { scale, shape } => {
                m.serialize_entry("dist", "pareto")?;
                m.serialize_entry("scale", scale)?;
                m.serialize_entry("shape", shape)?;
            }
            Self::Empirical { file, unit } => {
                m.serialize_entry("dist", "empirical")?;
                m.serialize_entry("file", file)?;
                m.serialize_entry("unit", unit)?;
            }
        }
        m.end()
    }
}

/// One value inside a distribution table.
#[derive(Deserialize)]
#[serde(untagged)]
enum Field {
    Str(String),
    Int(i64),
    Float(f64),
    Other(de::IgnoredAny),
}

/// The keys of a distribution table, taken one by one so leftovers can be reported.
struct Fields {
    kind: &'static str,
    entries: Vec<(String, Field)>,
}

impl Fields {
    fn take(&mut self, key: &str) -> Option<Field> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(i).1)
    }

    fn duration(&mut self, key: &str) -> Result<Duration, String> {
        match self.take(key) {
            None => Err(format!("a `{}` distribution needs `{key}`", self.kind)),
            Some(Field::Str(s)) => {
                parse_duration_ns(&s).map(|ns| Duration { ns }).map_err(|e| format!("`{key}`: {e}"))
            }
            Some(_) => {
                Err(format!("`{key}` must be a duration written with its unit, such as \"2ms\""))
            }
        }
    }

    fn number(&mut self, key: &str) -> Result<f64, String> {
        match self.take(key) {
            None => Err(format!("a `{}` distribution needs `{key}`", self.kind)),
            Some(Field::Int(i)) => Ok(i as f64),
            Some(Field::Float(x)) if x.is_finite() => Ok(x),
            Some(Field::Float(x)) => Err(format!("`{key}` must be a finite number, found {x}")),
            Some(_) => Err(format!("`{key}` must be a number")),
        }
    }

    fn string(&mut self, key: &str) -> Result<Option<String>, String> {
        match self.take(key) {
            None => Ok(None),
            Some(Field::Str(s)) => Ok(Some(s)),
            Some(_) => Err(format!("`{key}` must be a string")),
        }
    }

    fn finish(self, allowed: &[&str]) -> Result<(), String> {
        if let Some((key, _)) = self.entries.first() {
            let mut msg = format!("unknown key `{key}` for a `{}` distribution", self.kind);
            if let Some(s) = suggest(key, allowed.iter().copied()) {
                msg.push_str(&format!(" (did you mean `{s}`?)"));
            }
            msg.push_str(&format!("; it takes: dist, {}", allowed.join(", ")));
            return Err(msg);
        }
        Ok(())
    }
}

fn positive(d: Duration, key: &str) -> Result<Duration, String> {
    if d.ns == 0 { Err(format!("`{key}` must be greater than zero")) } else { Ok(d) }
}

fn from_fields(mut f: Fields) -> Result<DistSpec, String> {
    let spec = match f.kind {
        "const" => {
            let value = f.duration("value")?;
            f.finish(&["value"])?;
            DistSpec::Const { value }
        }
        "exp" => {
            let mean = positive(f.duration("mean")?, "mean")?;
            f.finish(&["mean"])?;
            DistSpec::Exp { mean }
        }
        "uniform" => {
            let (min, max) = (f.duration("min")?, f.duration("max")?);
            f.finish(&["min", "max"])?;
            if min.ns > max.ns {
                return Err(format!("`min` ({min}) is above `max` ({max})"));
            }
            DistSpec::Uniform { min, max }
        }
        "lognormal" => {
            let p50 = positive(f.duration("p50")?, "p50")?;
            let p99 = f.duration("p99")?;
            f.finish(&["p50", "p99"])?;
            if p99.ns <= p50.ns {
                return Err(format!("`p99` ({p99}) must be above `p50` ({p50})"));
            }
            DistSpec::LogNormal { p50, p99 }
        }
        "pareto" => {
            let shape = f.number("shape")?;
            if shape <= 0.0 {
                return Err(format!("`shape` must be greater than zero, found {shape}"));
            }
            let has = |f: &Fields, key: &str| f.entries.iter().any(|(k, _)| k == key);
            let scale = match (has(&f, "scale"), has(&f, "mean")) {
                (true, false) => positive(f.duration("scale")?, "scale")?,
                (false, true) => {
                    let mean = positive(f.duration("mean")?, "mean")?;
                    if shape <= 1.0 {
                        return Err(format!(
                            "a pareto with shape {shape} has no finite mean: give `scale` (its minimum) instead"
                        ));
                    }
                    // mean = shape × scale / (shape − 1)
                    Duration { ns: (mean.ns as f64 * (shape - 1.0) / shape).round() as u64 }
                }
                (true, true) => return Err("give `scale` or `mean`, not both".to_string()),
                (false, false) => {
                    return Err(
                        "a `pareto` distribution needs `scale` (its minimum) or `mean`".to_string()
                    );
                }
            };
            f.finish(&["scale", "mean", "shape"])?;
            DistSpec::Pareto { scale, shape }
        }
        "empirical" => {
            let file = f.string("file")?.ok_or("an `empirical` distribution needs `file`")?;
            let unit = f.string("unit")?.unwrap_or_else(|| "ms".to_string());
            f.finish(&["file", "unit"])?;
            if unit_ns(&unit).is_none() {
                return Err(format!("`unit` must be one of ns, us, ms, s; found \"{unit}\""));
            }
            if file.trim().is_empty() {
                return Err("`file` is empty".to_string());
            }
            DistSpec::Empirical { file, unit }
        }
        _ => unreachable!("kinds are checked before"),
    };
    Ok(spec)
}

impl<'de> Deserialize<'de> for DistSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DistSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"120us\" or a table such as { dist = \"exp\", mean = \"1ms\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DistSpec, E> {
                parse_duration_ns(v)
                    .map(|ns| DistSpec::Const { value: Duration { ns } })
                    .map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DistSpec, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value::<Field>()?;
                    entries.push((key, value));
                }
                let Some(i) = entries.iter().position(|(k, _)| k == "dist") else {
                    return Err(de::Error::custom(format!(
                        "a distribution table needs `dist`, one of: {}",
                        DIST_KINDS.join(", ")
                    )));
                };
                let kind = match entries.remove(i).1 {
                    Field::Str(s) => s,
                    _ => return Err(de::Error::custom("`dist` must be a string")),
                };
                let Some(kind) = DIST_KINDS.iter().copied().find(|k| *k == kind) else {
                    let mut msg = format!("unknown distribution `{kind}`");
                    if let Some(s) = suggest(&kind, DIST_KINDS) {
                        msg.push_str(&format!(" (did you mean `{s}`?)"));
                    }
                    msg.push_str(&format!("; known distributions: {}", DIST_KINDS.join(", ")));
                    return Err(de::Error::custom(msg));
                };
                from_fields(Fields { kind, entries }).map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct T {
        d: DistSpec,
    }

    fn parse(text: &str) -> Result<DistSpec, String> {
        toml::from_str::<T>(&format!("d = {text}"))
            .map(|t| t.d)
            .map_err(|e| e.message().to_string())
    }

    #[test]
    fn accepts_every_kind() {
        let ms = |n: u64| Duration { ns: n * NS_PER_MS };
        let cases = [
            ("\"2ms\"", DistSpec::Const { value: ms(2) }),
            ("{ dist = \"const\", value = \"2ms\" }", DistSpec::Const { value: ms(2) }),
            ("{ dist = \"exp\", mean = \"1ms\" }", DistSpec::Exp { mean: ms(1) }),
            (
                "{ dist = \"uniform\", min = \"1ms\", max = \"3ms\" }",
                DistSpec::Uniform { min: ms(1), max: ms(3) },
            ),
            (
                "{ dist = \"lognormal\", p50 = \"2ms\", p99 = \"20ms\" }",
                DistSpec::LogNormal { p50: ms(2), p99: ms(20) },
            ),
            (
                "{ dist = \"pareto\", scale = \"1ms\", shape = 2 }",
                DistSpec::Pareto { scale: ms(1), shape: 2.0 },
            ),
            (
                "{ dist = \"pareto\", mean = \"2ms\", shape = 2.0 }",
                DistSpec::Pareto { scale: ms(1), shape: 2.0 },
            ),
            (
                "{ dist = \"empirical\", file = \"a.hgrm\" }",
                DistSpec::Empirical { file: "a.hgrm".into(), unit: "ms".into() },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn explains_mistakes() {
        let cases = [
            (
                "{ dist = \"expo\", mean = \"1ms\" }",
                "unknown distribution `expo` (did you mean `exp`?)",
            ),
            ("{ dist = \"exp\", meen = \"1ms\" }", "a `exp` distribution needs `mean`"),
            (
                "{ dist = \"exp\", mean = \"1ms\", meen = 1 }",
                "unknown key `meen` for a `exp` distribution (did you mean `mean`?)",
            ),
            ("{ dist = \"exp\", mean = \"0s\" }", "`mean` must be greater than zero"),
            ("{ dist = \"exp\", mean = 5 }", "`mean` must be a duration"),
            (
                "{ dist = \"uniform\", min = \"3ms\", max = \"1ms\" }",
                "`min` (3ms) is above `max` (1ms)",
            ),
            ("{ dist = \"lognormal\", p50 = \"3ms\", p99 = \"1ms\" }", "must be above `p50`"),
            (
                "{ dist = \"pareto\", scale = \"1ms\", shape = nan }",
                "`shape` must be a finite number",
            ),
            ("{ dist = \"pareto\", mean = \"1ms\", shape = 0.5 }", "no finite mean"),
            ("{ mean = \"1ms\" }", "needs `dist`"),
            ("\"10 parsecs\"", "unknown duration unit"),
            ("{ dist = \"empirical\", file = \"x\", unit = \"weeks\" }", "`unit` must be one of"),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn serializes_back_to_scenario_syntax() {
        let spec = parse("{ dist = \"lognormal\", p50 = \"2ms\", p99 = \"20ms\" }").unwrap();
        let text = toml::to_string(&T2 { d: spec }).unwrap();
        assert_eq!(text.trim(), "[d]\ndist = \"lognormal\"\np50 = \"2ms\"\np99 = \"20ms\"");
    }

    #[derive(Serialize)]
    struct T2 {
        d: DistSpec,
    }
}
