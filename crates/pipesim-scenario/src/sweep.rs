//! The `[sweep]` table: parameters to vary (the cartesian product of their values) and seed
//! replicas, for `pipesim sweep`.
//!
//! ```toml
//! [sweep]
//! "workload.rate" = ["100k/s", "200k/s", "400k/s"]   # any path `--set` takes
//! "model[pg].store.cores" = [8, 16]
//! seeds = 5                                            # seed, seed+1, …; or a list [1, 7, 9]
//! ```
//!
//! A point is one combination of values and one seed; it is the scenario with those values set
//! exactly as `--set PATH=VALUE` sets them, so a point is validated like any `--set`.

use pipesim_config::limits::{SWEEP_POINTS, SWEEP_SEEDS};
use serde::Deserialize;
use std::collections::BTreeMap;

/// One raw `[sweep]` entry: a list of values, or (for `seeds`) a count or a list of seeds.
#[derive(Deserialize, Clone, Debug)]
#[serde(untagged)]
pub(crate) enum RawSweepItem {
    Count(i64),
    Values(Vec<toml::Value>),
    Other(toml::Value),
}

/// The validated `[sweep]` table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepSpec {
    /// Each swept path with its values as `--set` value text, in path name order (TOML tables do
    /// not keep their order); the last varies fastest.
    pub params: Vec<(String, Vec<String>)>,
    /// The seeds of each parameter combination.
    pub seeds: Vec<u64>,
}

/// One point of a sweep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepPoint {
    /// Its position in the sweep's point order.
    pub index: usize,
    /// (path, value text) for each parameter.
    pub values: Vec<(String, String)>,
    /// Its seed.
    pub seed: u64,
    /// The index of its parameter combination (points differing only by seed share it).
    pub combination: usize,
}

impl SweepPoint {
    /// `PATH=VALUE` overrides that make this point.
    pub fn overrides(&self) -> Vec<String> {
        self.values.iter().map(|(p, v)| format!("{p}={v}")).collect()
    }

    /// A stable text of the point (parameters and seed), for hashing and messages.
    pub fn label(&self) -> String {
        let mut parts: Vec<String> = self.values.iter().map(|(p, v)| format!("{p}={v}")).collect();
        parts.push(format!("seed={}", self.seed));
        parts.join(" ")
    }
}

impl SweepSpec {
    /// Whether the scenario has a sweep at all.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty() && self.seeds.len() <= 1
    }

    /// The number of parameter combinations.
    pub fn combinations(&self) -> usize {
        self.params.iter().map(|(_, v)| v.len()).product()
    }

    /// Every point: combinations in order (last parameter fastest), each with every seed.
    pub fn points(&self) -> Vec<SweepPoint> {
        let mut out = Vec::new();
        for c in 0..self.combinations() {
            let mut rest = c;
            let mut values = vec![(String::new(), String::new()); self.params.len()];
            for (i, (path, vals)) in self.params.iter().enumerate().rev() {
                values[i] = (path.clone(), vals[rest % vals.len()].clone());
                rest /= vals.len();
            }
            for &seed in &self.seeds {
                out.push(SweepPoint {
                    index: out.len(),
                    values: values.clone(),
                    seed,
                    combination: c,
                });
            }
        }
        out
    }
}

/// A sweep value as `--set` value text: strings as written (they parse as units), numbers and
/// booleans as TOML.
fn value_text(v: &toml::Value) -> Result<String, String> {
    match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        other => Ok(other.to_string()),
    }
}

/// Validates the raw table (`scenario_seed`: the seed seeds = N counts from). Errors are
/// (key under `[sweep]`, message).
pub(crate) fn sweep(
    raw: &BTreeMap<String, RawSweepItem>,
    scenario_seed: u64,
) -> Result<SweepSpec, (String, String)> {
    let mut spec = SweepSpec { params: Vec::new(), seeds: vec![scenario_seed] };
    for (key, item) in raw {
        let named = |m: String| (key.clone(), m);
        if key == "seeds" {
            spec.seeds = sweep_seeds(item, scenario_seed).map_err(named)?;
        } else {
            spec.params.push((key.clone(), sweep_values(item).map_err(named)?));
        }
    }
    check_point_count(&spec)?;
    Ok(spec)
}

/// The `seeds` entry: a count N (the scenario's seed and the N - 1 after it) or a list.
fn sweep_seeds(item: &RawSweepItem, scenario_seed: u64) -> Result<Vec<u64>, String> {
    match item {
        RawSweepItem::Count(n) if *n > 0 && *n as u64 > SWEEP_SEEDS.max => {
            Err(format!("{n} seeds: at most {}", SWEEP_SEEDS.max))
        }
        RawSweepItem::Count(n) if *n >= 1 => {
            Ok((0..*n as u64).map(|i| scenario_seed.wrapping_add(i)).collect())
        }
        RawSweepItem::Count(_) => Err("seeds must be at least 1".to_string()),
        RawSweepItem::Values(list) if list.is_empty() => Err("an empty list of seeds".to_string()),
        RawSweepItem::Values(list) if list.len() as u64 > SWEEP_SEEDS.max => {
            Err(format!("{} seeds: at most {}", list.len(), SWEEP_SEEDS.max))
        }
        RawSweepItem::Values(list) => seed_list(list),
        RawSweepItem::Other(v) => Err(format!("expected a count or a list of seeds, found {v}")),
    }
}

/// A listed set of seeds: whole numbers ≥ 0, each once.
fn seed_list(list: &[toml::Value]) -> Result<Vec<u64>, String> {
    let mut seeds = Vec::new();
    for v in list {
        match v.as_integer() {
            Some(s) if s >= 0 && !seeds.contains(&(s as u64)) => seeds.push(s as u64),
            Some(s) if s >= 0 => return Err(format!("seed {s} is listed twice")),
            _ => return Err(format!("{v} is not a seed (a whole number ≥ 0)")),
        }
    }
    Ok(seeds)
}

/// A swept parameter's entry: a non-empty list of distinct values, as `--set` value text.
fn sweep_values(item: &RawSweepItem) -> Result<Vec<String>, String> {
    let values = match item {
        RawSweepItem::Values(list) if list.is_empty() => {
            return Err("an empty list of values: a sweep needs at least one".to_string());
        }
        RawSweepItem::Values(list) => list.iter().map(value_text).collect::<Result<Vec<_>, _>>()?,
        RawSweepItem::Count(n) => {
            return Err(format!(
                "expected a list of values, found {n} (write [{n}] for one value)"
            ));
        }
        RawSweepItem::Other(v) => return Err(format!("expected a list of values, found {v}")),
    };
    let mut seen: Vec<&String> = Vec::new();
    for v in &values {
        if seen.contains(&v) {
            return Err(format!("the value {v} is listed twice"));
        }
        seen.push(v);
    }
    Ok(values)
}

/// Refuses a sweep of more points than the documented limit, naming the last parameter (or
/// `seeds` when only seeds are swept).
fn check_point_count(spec: &SweepSpec) -> Result<(), (String, String)> {
    let points = spec
        .params
        .iter()
        .fold(spec.seeds.len() as u64, |n, (_, values)| n.saturating_mul(values.len() as u64));
    if points > SWEEP_POINTS.max {
        let key = spec.params.last().map_or("seeds".to_string(), |(k, _)| k.clone());
        return Err((
            key,
            format!(
                "the sweep has {points} points (parameter combinations × seeds), more than the {} pipesim runs (a documented limit: see \"Limits\" in docs/scenario.md)",
                SWEEP_POINTS.max
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SweepSpec, (String, String)> {
        #[derive(Deserialize)]
        struct Doc {
            sweep: BTreeMap<String, RawSweepItem>,
        }
        let doc: Doc = toml::from_str(text).unwrap();
        sweep(&doc.sweep, 10)
    }

    #[test]
    fn points_are_the_product_times_the_seeds() {
        let s = parse(
            "[sweep]\n\"workload.rate\" = [\"1k/s\", \"2k/s\"]\n\"b.x\" = [1, 2, 3]\nseeds = 2\n",
        )
        .unwrap();
        assert_eq!(s.seeds, vec![10, 11]);
        let pts = s.points();
        assert_eq!(pts.len(), 12);
        assert_eq!(pts[0].label(), "b.x=1 workload.rate=1k/s seed=10");
        assert_eq!(pts[1].label(), "b.x=1 workload.rate=1k/s seed=11");
        assert_eq!(pts[2].label(), "b.x=1 workload.rate=2k/s seed=10");
        assert_eq!(pts[11].label(), "b.x=3 workload.rate=2k/s seed=11");
        assert_eq!(pts[11].combination, 5);
        assert_eq!(pts[2].overrides(), ["b.x=1", "workload.rate=2k/s"]);
        assert_eq!(parse("[sweep]\nseeds = [3, 1]\n").unwrap().seeds, vec![3, 1]);
    }

    #[test]
    fn mistakes_are_named() {
        for (text, key, words) in [
            ("[sweep]\n\"a.b\" = []\n", "a.b", "empty list"),
            ("[sweep]\n\"a.b\" = 4\n", "a.b", "expected a list"),
            ("[sweep]\n\"a.b\" = [1, 1]\n", "a.b", "twice"),
            ("[sweep]\nseeds = 0\n", "seeds", "at least 1"),
            ("[sweep]\nseeds = []\n", "seeds", "empty list"),
            ("[sweep]\nseeds = [\"x\"]\n", "seeds", "not a seed"),
        ] {
            let (k, m) = parse(text).unwrap_err();
            assert_eq!(k, key, "{text}");
            assert!(m.contains(words), "{text}: {m}");
        }
        assert!(parse("[sweep]\nseeds = 1\n").unwrap().is_empty());
    }
}
