//! Claims: figures a scenario's source states, checked and converted to the metric's unit.

use super::Loading;
use crate::error::ScenarioError;
use crate::path::FieldPath;
use crate::raw::{ClaimValue, RawScenario};
use pipesim_config::suggest;
use pipesim_models::ModelSpec;
use toml::de::DeTable;

/// A figure a scenario's source states, to show beside the simulated value.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// The model it is about.
    pub model: String,
    /// A dotted path into the model's report.json entry (`latency.e2e.p99_ms`,
    /// `throughput.delivered_per_s`, `details.store[0].commits_per_s`).
    pub metric: String,
    /// The claimed value, in the metric's unit.
    pub value: f64,
    /// Where the figure comes from.
    pub source: String,
}

/// The top-level keys of a model's report entry that a claim can point into.
const CLAIM_ROOTS: [&str; 6] =
    ["latency", "throughput", "invariants", "mean_in_system", "simulation", "details"];

/// A claimed value in the metric's unit: durations become milliseconds for `_ms` metrics and
/// seconds for `_s` metrics, rates events per second, percentages fractions.
fn claim_value(value: &ClaimValue, metric: &str) -> Result<f64, String> {
    let x = match value {
        ClaimValue::Int(i) => *i as f64,
        ClaimValue::Float(f) => *f,
        ClaimValue::Text(t) => {
            let t = t.trim();
            if let Some(p) = t.strip_suffix('%') {
                p.trim()
                    .parse::<f64>()
                    .map(|p| p / 100.0)
                    .map_err(|_| format!("\"{t}\" is not a percentage"))?
            } else if let Ok(ns) = pipesim_config::parse_duration_ns(t) {
                if metric.ends_with("_ms") {
                    ns as f64 / 1e6
                } else if metric.ends_with("_s") {
                    ns as f64 / 1e9
                } else {
                    return Err(format!(
                        "\"{t}\" is a duration, but `{metric}` is not a time in ms or s"
                    ));
                }
            } else if let Ok(rate) = pipesim_config::parse_rate_per_s(t) {
                rate
            } else {
                t.parse::<f64>().map_err(|_| {
                    format!("\"{t}\" is not a number, a duration (\"42ms\"), a rate (\"1.2M/s\") or a percentage (\"0.002%\")")
                })?
            }
        }
    };
    if !x.is_finite() {
        return Err(format!("must be a finite number, found {x}"));
    }
    Ok(x)
}

impl Loading<'_> {
    pub(super) fn claims(
        &self,
        raw: &RawScenario,
        models: &[ModelSpec],
        lookup: &DeTable<'_>,
    ) -> Result<Vec<Claim>, ScenarioError> {
        let mut out = Vec::new();
        for (i, c) in raw.claim.iter().enumerate() {
            let at = |field: &str, msg: String| {
                self.error_at(
                    lookup,
                    &FieldPath::parse(&format!("claim[{i}].{field}")).unwrap_or_default(),
                    msg,
                )
            };
            let root = c.metric.split(['.', '[']).next().unwrap_or("");
            if !CLAIM_ROOTS.contains(&root) || c.metric.ends_with('.') || c.metric.contains("..") {
                return Err(at(
                    "metric",
                    format!(
                        "`{}` is not a report metric: write a path into the model's report.json entry starting with one of {}",
                        c.metric,
                        CLAIM_ROOTS.join(", ")
                    ),
                ));
            }
            let value = claim_value(&c.value, &c.metric).map_err(|m| at("value", m))?;
            if !models.iter().any(|m| m.name == c.model) {
                if self.opts.models.as_ref().is_some_and(|only| !only.contains(&c.model)) {
                    continue; // the claim's model was left out with --models
                }
                let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
                let mut msg = format!("no model named \"{}\"", c.model);
                if let Some(s) = suggest(&c.model, names.iter().copied()) {
                    msg.push_str(&format!(" (did you mean \"{s}\"?)"));
                }
                msg.push_str(&format!("; models: {}", names.join(", ")));
                return Err(at("model", msg));
            }
            out.push(Claim {
                model: c.model.clone(),
                metric: c.metric.clone(),
                value,
                source: c.source.clone(),
            });
        }
        Ok(out)
    }
}
