//! Thresholds on report metrics, in a k6-like grammar: `"p99" = "< 50ms"`,
//! `"ordering_violations" = "== 0"`, `"delivered_per_s" = "> 1M"`.
//!
//! A metric is a dotted path into a model's report.json entry (`latency.ack.p99_ms`,
//! `details.store[0].commits`, `phases[0].e2e.p99_ms`) or one of the short names below. The
//! value's unit follows the metric's: a `_ms` metric takes a duration (`50ms`, `1.5s`) or a plain
//! number of milliseconds, a `_per_s` metric a rate (`1M`, `950k/s`), anything else a number with
//! an optional k/M/G. Whether the path exists is checked against a model's entry by the caller
//! ([`Threshold::metric`] is the full path), before the run.

use pipesim_config::{parse_duration_ns, parse_rate_per_s};
use std::fmt;

/// Short metric names and the paths they stand for.
pub const METRIC_ALIASES: [(&str, &str); 13] = [
    ("p50", "latency.e2e.p50_ms"),
    ("p90", "latency.e2e.p90_ms"),
    ("p95", "latency.e2e.p95_ms"),
    ("p99", "latency.e2e.p99_ms"),
    ("p999", "latency.e2e.p999_ms"),
    ("max", "latency.e2e.max_ms"),
    ("mean", "latency.e2e.mean_ms"),
    ("ordering_violations", "invariants.ordering_violations"),
    ("duplicates", "invariants.duplicates"),
    ("lost", "invariants.lost"),
    ("dropped", "invariants.dropped"),
    ("delivered_per_s", "throughput.delivered_per_s"),
    ("offered_per_s", "throughput.offered_per_s"),
];

/// The full path of a metric name: an alias's path, or the name itself.
pub fn metric_path(name: &str) -> String {
    let name = name.trim();
    METRIC_ALIASES.iter().find(|(a, _)| *a == name).map_or(name.to_string(), |(_, p)| p.to_string())
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Op {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }
}

/// One threshold: metric, operator, bound.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// The model it applies to (`None`: every model).
    pub model: Option<String>,
    /// The metric as written (`p99`).
    pub name: String,
    /// Its full dotted path (`latency.e2e.p99_ms`).
    pub metric: String,
    /// The comparison.
    pub op: Op,
    /// The bound, in the metric's unit.
    pub value: f64,
    /// The condition as written (`< 50ms`).
    pub condition: String,
}

impl Threshold {
    /// Parses `name = "condition"` for `model` (`None`: every model).
    pub fn parse(model: Option<&str>, name: &str, condition: &str) -> Result<Self, String> {
        let metric = metric_path(name);
        if metric.is_empty() {
            return Err("a threshold needs a metric name".to_string());
        }
        let (op, value) = parse_condition(&metric, condition)
            .map_err(|e| format!("\"{name}\" = \"{condition}\": {e}"))?;
        Ok(Self {
            model: model.map(str::to_string),
            name: name.trim().to_string(),
            metric,
            op,
            value,
            condition: condition.trim().to_string(),
        })
    }

    /// Whether `x` meets the threshold.
    pub fn holds(&self, x: f64) -> bool {
        match self.op {
            Op::Lt => x < self.value,
            Op::Le => x <= self.value,
            Op::Gt => x > self.value,
            Op::Ge => x >= self.value,
            Op::Eq => x == self.value,
            Op::Ne => x != self.value,
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.condition)
    }
}

/// The unit a metric path is in, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Ms,
    Seconds,
    PerSecond,
    Plain,
}

fn unit_of(metric: &str) -> Unit {
    if metric.ends_with("_ms") {
        Unit::Ms
    } else if metric.ends_with("_per_s") {
        Unit::PerSecond
    } else if metric.ends_with("_s") {
        Unit::Seconds
    } else {
        Unit::Plain
    }
}

/// A plain number with an optional k/M/G multiplier.
fn plain_number(text: &str) -> Option<f64> {
    let (body, mult) = match text.chars().last()? {
        'k' | 'K' => (&text[..text.len() - 1], 1e3),
        'M' => (&text[..text.len() - 1], 1e6),
        'G' => (&text[..text.len() - 1], 1e9),
        _ => (text, 1.0),
    };
    let x: f64 = body.trim().replace('_', "").parse().ok()?;
    x.is_finite().then_some(x * mult)
}

/// Parses `< 50ms` for `metric` into the operator and the bound in the metric's unit.
pub fn parse_condition(metric: &str, condition: &str) -> Result<(Op, f64), String> {
    let c = condition.trim();
    let ops = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    let Some((sym, op)) = ops.iter().find(|(s, _)| c.starts_with(s)) else {
        return Err(
            "a condition starts with <, <=, >, >=, == or != (for example \"< 50ms\")".to_string()
        );
    };
    let rest = c[sym.len()..].trim();
    if rest.is_empty() {
        return Err(format!("no value after `{sym}`"));
    }
    let value = match unit_of(metric) {
        Unit::Ms | Unit::Seconds => {
            let per = if unit_of(metric) == Unit::Ms { 1e6 } else { 1e9 };
            match plain_number(rest) {
                Some(x) if rest.chars().all(|ch| ch.is_ascii_digit() || ch == '.' || ch == '_') => x,
                _ => parse_duration_ns(rest).map_err(|e| format!("{metric} is a duration: {e}"))? as f64 / per,
            }
        }
        Unit::PerSecond => match plain_number(rest) {
            Some(x) => x,
            None => parse_rate_per_s(rest).map_err(|e| format!("{metric} is a rate: {e}"))?,
        },
        Unit::Plain => plain_number(rest).ok_or_else(|| {
            format!("\"{rest}\" is not a number ({metric} takes a plain number, optionally with k, M or G)")
        })?,
    };
    Ok((*op, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_examples_parse() {
        let t = Threshold::parse(None, "p99", "< 50ms").unwrap();
        assert_eq!((t.metric.as_str(), t.op, t.value), ("latency.e2e.p99_ms", Op::Lt, 50.0));
        assert!(t.holds(49.9) && !t.holds(50.0));
        let t = Threshold::parse(None, "ordering_violations", "== 0").unwrap();
        assert_eq!(
            (t.metric.as_str(), t.op, t.value),
            ("invariants.ordering_violations", Op::Eq, 0.0)
        );
        let t = Threshold::parse(Some("m"), "delivered_per_s", "> 1M").unwrap();
        assert_eq!((t.op, t.value), (Op::Gt, 1e6));
        assert_eq!(Threshold::parse(None, "delivered_per_s", ">= 950k/s").unwrap().value, 950e3);
        assert_eq!(Threshold::parse(None, "latency.ack.p999_ms", "<= 1.5s").unwrap().value, 1500.0);
        assert_eq!(Threshold::parse(None, "p99", "<12").unwrap().value, 12.0);
        assert_eq!(Threshold::parse(None, "p99", "< 250us").unwrap().value, 0.25);
        assert_eq!(Threshold::parse(None, "details.store[0].commits", "> 10k").unwrap().value, 1e4);
    }

    #[test]
    fn bad_conditions_say_why() {
        for (name, cond, words) in [
            ("p99", "50ms", "starts with"),
            ("p99", "<", "no value"),
            ("p99", "< fast", "duration"),
            ("p99", "< 50 parsecs", "duration"),
            ("lost", "== none", "not a number"),
            ("lost", "< 5ms", "not a number"),
            ("delivered_per_s", "> lots", "rate"),
        ] {
            let e = Threshold::parse(None, name, cond).unwrap_err();
            assert!(e.contains(words), "{name} {cond}: {e}");
            assert!(e.contains(cond.trim()), "names the condition: {e}");
        }
    }
}
