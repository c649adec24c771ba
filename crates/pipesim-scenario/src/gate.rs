//! The `[gate]` table: thresholds a run must meet, and how far each metric may drift from the
//! committed baseline before `pipesim gate` calls it a regression.
//!
//! ```toml
//! [gate]
//! "p99" = "< 50ms"                       # every model
//! "ordering_violations" = "== 0"
//! [gate.model.lua-two-tier]              # one model, by name
//! "delivered_per_s" = ["> 1M", "< 2M"]
//! [gate.tolerance]                       # default: exact equality (runs are deterministic)
//! "latency.e2e.p99_ms" = "5%"            # relative
//! "simulation.events" = "1000"           # absolute, in the metric's unit
//! ```

use crate::threshold::{Threshold, metric_path};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The raw `[gate]` table: a condition, a list of conditions, or a sub-table, under each key.
#[derive(Deserialize, Clone, Debug)]
#[serde(untagged)]
pub(crate) enum RawGateItem {
    One(String),
    Many(Vec<String>),
    Table(BTreeMap<String, RawGateItem>),
}

/// How far a metric may move from its baseline value.
#[derive(Clone, Debug, PartialEq)]
pub enum Tolerance {
    /// At most this fraction of the baseline value (`"5%"` = 0.05).
    Relative(f64),
    /// At most this much, in the metric's unit.
    Absolute(f64),
}

impl Tolerance {
    /// Whether `fresh` is within the tolerance of `baseline`.
    pub fn allows(&self, baseline: f64, fresh: f64) -> bool {
        let d = (fresh - baseline).abs();
        match self {
            Tolerance::Relative(f) => d <= f * baseline.abs(),
            Tolerance::Absolute(a) => d <= *a,
        }
    }
}

/// A metric's tolerance (metric = the full dotted path).
#[derive(Clone, Debug, PartialEq)]
pub struct MetricTolerance {
    /// The metric path (`latency.e2e.p99_ms`); a `*` segment matches anything
    /// (`details.*` is not a path: use `details` to cover every detail).
    pub metric: String,
    /// What it may do.
    pub tolerance: Tolerance,
    /// As written.
    pub text: String,
}

impl MetricTolerance {
    /// Whether this tolerance covers `path`: the same path, or a prefix of it that ends at a
    /// segment boundary (`details.store` covers `details.store[0].commits`).
    pub fn covers(&self, path: &str) -> bool {
        path == self.metric
            || (path.starts_with(&self.metric)
                && matches!(path.as_bytes().get(self.metric.len()), Some(b'.') | Some(b'[')))
    }
}

/// The validated `[gate]` table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gate {
    /// Every threshold: those for every model first, then per model (models and metrics in
    /// name order, as TOML tables do not keep theirs).
    pub thresholds: Vec<Threshold>,
    /// Allowed drift from the baseline, per metric (none: exact).
    pub tolerances: Vec<MetricTolerance>,
}

impl Gate {
    /// The tolerance for `path`, the most specific (longest) one that covers it.
    pub fn tolerance_for(&self, path: &str) -> Option<&MetricTolerance> {
        self.tolerances.iter().filter(|t| t.covers(path)).max_by_key(|t| t.metric.len())
    }
}

/// Roots a metric path may start with: the top-level fields of a model's report entry.
pub const METRIC_ROOTS: [&str; 6] =
    ["latency", "throughput", "invariants", "mean_in_system", "simulation", "details"];

/// Where a problem is, as a path of keys under `[gate]`, and what it is.
pub(crate) type GateError = (Vec<String>, String);

fn check_root(metric: &str) -> Result<(), String> {
    let root = metric.split(['.', '[']).next().unwrap_or("");
    let roots_ok = METRIC_ROOTS.contains(&root) || root == "phases";
    if !roots_ok || metric.ends_with('.') || metric.contains("..") {
        return Err(format!(
            "`{metric}` is not a report metric: use a short name ({}) or a path into a model's report.json entry starting with {} or phases",
            crate::threshold::METRIC_ALIASES.iter().map(|(a, _)| *a).collect::<Vec<_>>().join(", "),
            METRIC_ROOTS.join(", ")
        ));
    }
    Ok(())
}

fn conditions(item: &RawGateItem) -> Result<Vec<&str>, String> {
    match item {
        RawGateItem::One(c) => Ok(vec![c.as_str()]),
        RawGateItem::Many(cs) if cs.is_empty() => Err("an empty list of conditions".to_string()),
        RawGateItem::Many(cs) => Ok(cs.iter().map(String::as_str).collect()),
        RawGateItem::Table(_) => Err(
            "expected a condition such as \"< 50ms\" or a list of them (tables go under [gate.model.NAME] or [gate.tolerance])"
                .to_string(),
        ),
    }
}

fn thresholds_of(
    model: Option<&str>,
    table: &BTreeMap<String, RawGateItem>,
    at: &[String],
    out: &mut Vec<Threshold>,
) -> Result<(), GateError> {
    for (name, item) in table {
        let here = |msg: String| {
            let mut p = at.to_vec();
            p.push(name.clone());
            (p, msg)
        };
        let metric = metric_path(name);
        check_root(&metric).map_err(here)?;
        for c in conditions(item).map_err(here)? {
            out.push(Threshold::parse(model, name, c).map_err(here)?);
        }
    }
    Ok(())
}

fn tolerance(text: &str) -> Result<Tolerance, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "\"{text}\" is not a tolerance: write a percentage (\"5%\") or an amount in the metric's unit (\"0.5\")"
        )
    };
    if let Some(p) = t.strip_suffix('%') {
        let x: f64 = p.trim().parse().map_err(|_| bad())?;
        if !(x.is_finite() && x >= 0.0) {
            return Err(bad());
        }
        return Ok(Tolerance::Relative(x / 100.0));
    }
    let x: f64 = t.parse().map_err(|_| bad())?;
    if !(x.is_finite() && x >= 0.0) {
        return Err(bad());
    }
    Ok(Tolerance::Absolute(x))
}

/// Validates the raw table against the scenario's model names (`all_models`: every model in the
/// file, before `--models` selection, so a gate on a model left out is not an error).
pub(crate) fn gate(
    raw: &BTreeMap<String, RawGateItem>,
    all_models: &[String],
) -> Result<Gate, GateError> {
    let mut out = Gate::default();
    let root = vec!["gate".to_string()];
    let top: BTreeMap<String, RawGateItem> = raw
        .iter()
        .filter(|(k, _)| *k != "model" && *k != "tolerance")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    thresholds_of(None, &top, &root, &mut out.thresholds)?;
    if let Some(models) = raw.get("model") {
        let at = vec!["gate".to_string(), "model".to_string()];
        let RawGateItem::Table(models) = models else {
            return Err((
                at,
                "expected tables: [gate.model.NAME] with the model's thresholds".to_string(),
            ));
        };
        for (name, item) in models {
            let mut here = at.clone();
            here.push(name.clone());
            if !all_models.contains(name) {
                let mut msg = format!("no model named \"{name}\"");
                if let Some(s) =
                    pipesim_config::suggest(name, all_models.iter().map(String::as_str))
                {
                    msg.push_str(&format!(" (did you mean \"{s}\"?)"));
                }
                msg.push_str(&format!("; models: {}", all_models.join(", ")));
                return Err((here, msg));
            }
            let RawGateItem::Table(t) = item else {
                return Err((
                    here,
                    "expected a table of thresholds: [gate.model.NAME] \"p99\" = \"< 50ms\""
                        .to_string(),
                ));
            };
            thresholds_of(Some(name), t, &here, &mut out.thresholds)?;
        }
    }
    if let Some(tol) = raw.get("tolerance") {
        let at = vec!["gate".to_string(), "tolerance".to_string()];
        let RawGateItem::Table(tol) = tol else {
            return Err((
                at,
                "expected a table: [gate.tolerance] \"latency.e2e.p99_ms\" = \"5%\"".to_string(),
            ));
        };
        for (name, item) in tol {
            let mut here = at.clone();
            here.push(name.clone());
            let metric = metric_path(name);
            check_root(&metric).map_err(|m| (here.clone(), m))?;
            let RawGateItem::One(text) = item else {
                return Err((here, "expected a tolerance such as \"5%\" or \"0.5\"".to_string()));
            };
            let tolerance = tolerance(text).map_err(|m| (here.clone(), m))?;
            out.tolerances.push(MetricTolerance { metric, tolerance, text: text.clone() });
        }
    }
    let most = pipesim_config::limits::TABLE_ENTRIES.max;
    if (out.thresholds.len() + out.tolerances.len()) as u64 > most {
        return Err((root, format!("more than {most} thresholds and tolerances")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Gate, GateError> {
        #[derive(Deserialize)]
        struct Doc {
            gate: BTreeMap<String, RawGateItem>,
        }
        let doc: Doc = toml::from_str(text).unwrap();
        gate(&doc.gate, &["a".to_string(), "lua-two-tier".to_string()])
    }

    #[test]
    fn thresholds_for_all_and_per_model_and_tolerances() {
        let g = parse(
            r#"
            [gate]
            "p99" = "< 50ms"
            "ordering_violations" = "== 0"
            [gate.model.lua-two-tier]
            "delivered_per_s" = ["> 1M", "< 2M"]
            [gate.tolerance]
            "latency.e2e.p99_ms" = "5%"
            "details" = "0.5"
            "#,
        )
        .unwrap();
        assert_eq!(g.thresholds.len(), 4);
        assert_eq!(g.thresholds[2].model.as_deref(), Some("lua-two-tier"));
        assert_eq!(g.thresholds[2].value, 1e6);
        assert!(g.tolerance_for("latency.e2e.p99_ms").unwrap().tolerance.allows(100.0, 104.9));
        assert!(!g.tolerance_for("latency.e2e.p99_ms").unwrap().tolerance.allows(100.0, 105.1));
        assert!(g.tolerance_for("latency.e2e.p999_ms").is_none());
        assert!(g.tolerance_for("details.store[0].commits").is_some());
        assert!(g.tolerance_for("detailsx").is_none());
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            ("[gate]\n\"p99\" = \"50ms\"", "gate.p99", "starts with"),
            (
                "[gate]\n\"latencyy.e2e.p99_ms\" = \"< 5\"",
                "gate.latencyy.e2e.p99_ms",
                "not a report metric",
            ),
            ("[gate]\n\"p99\" = []", "gate.p99", "empty list"),
            (
                "[gate.model.lua-two-tear]\n\"p99\" = \"< 5ms\"",
                "gate.model.lua-two-tear",
                "did you mean \"lua-two-tier\"",
            ),
            ("[gate.tolerance]\n\"p99\" = \"lots\"", "gate.tolerance.p99", "not a tolerance"),
            ("[gate.tolerance]\n\"p99\" = \"-5%\"", "gate.tolerance.p99", "not a tolerance"),
        ];
        for (text, path, words) in cases {
            let (at, msg) = parse(text).unwrap_err();
            assert_eq!(at.join("."), path, "{text}");
            assert!(msg.contains(words), "{text}: {msg}");
        }
    }
}
