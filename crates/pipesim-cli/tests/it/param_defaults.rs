//! Every documented default is the value a report echoes when the parameter is left out.
//!
//! `pipesim models` (and the model pages built from it) show each parameter's default as a
//! kind's `params_doc` states it; report.json echoes the validated parameters. The two are
//! written separately, so they can drift (a Kafka default documented as `"2m"` was echoed as
//! `"120s"`: the same value, written differently, is a drift too, since a reader compares the
//! text). For every kind that loads with defaults only, each scalar default is compared with
//! the echo at the same path.

use pipesim_cli::default_registry;
use pipesim_scenario::{LoadOptions, load_str};
use serde_json::Value;
use std::path::Path;

/// The echo at a dotted parameter path (`producer.delivery_timeout`), if it is there.
fn echo_at<'a>(echo: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(echo, |v, part| v.get(part))
}

/// The documented default (a TOML literal) as JSON, if it is a scalar.
fn doc_default(text: &str) -> Option<Value> {
    let table: toml::Table = toml::from_str(&format!("v = {text}")).ok()?;
    match table.get("v")? {
        toml::Value::String(s) => Some(Value::String(s.clone())),
        toml::Value::Integer(i) => Some(Value::from(*i)),
        toml::Value::Float(f) => Some(Value::from(*f)),
        toml::Value::Boolean(b) => Some(Value::Bool(*b)),
        t @ toml::Value::Table(_) => serde_json::to_value(t).ok(),
        _ => None,
    }
}

/// What a kind cannot go without (its other parameters keep their defaults).
fn required(kind: &str) -> &'static str {
    match kind {
        "stations" => "[[model.station]]\nname = \"s\"\nservice = \"1ms\"\n",
        "wire_fifo" => "server = { service = \"1ms\" }\n",
        _ => "",
    }
}

/// Settings that bring a kind's optional parts into the echo (each is one more run): the
/// event-sourced design's projection instead of its stream processor.
fn variants(kind: &str) -> &'static [&'static str] {
    match kind {
        "event_sourced" => &["", "consumer = \"projection\"\n"],
        _ => &[""],
    }
}

fn same(doc: &Value, echo: &Value) -> bool {
    match (doc, echo) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        // A distribution written as a bare duration is the constant one (the scenario format's
        // shorthand): "20us" is { dist = "const", value = "20us" }.
        (Value::String(d), Value::Object(e)) => {
            e.len() == 2
                && e.get("dist") == Some(&Value::from("const"))
                && e.get("value") == Some(&Value::from(d.as_str()))
        }
        _ => doc == echo,
    }
}

#[test]
fn every_documented_default_is_what_the_report_echoes() {
    let registry = default_registry();
    let (mut kinds_checked, mut compared) = (0, 0);
    let mut drifts = Vec::new();
    for (kind, variant) in
        registry.kinds().iter().flat_map(|k| variants(k.name).iter().map(move |v| (k, *v)))
    {
        let text = format!(
            "name = \"d\"\nduration = \"1s\"\n[workload]\narrivals = {{ process = \"poisson\", rate = \"100/s\" }}\n[[model]]\nname = \"m\"\nkind = \"{}\"\n{}",
            kind.name,
            required(kind.name),
        ) + variant;
        let opts = LoadOptions { registry: default_registry(), ..Default::default() };
        // Kinds with required parameters (a list of stations) do not load bare: skipped.
        let scenario = match load_str(&text, Path::new("defaults.toml"), &opts) {
            Ok(s) => s,
            Err(e) => {
                eprintln!(
                    "{}: skipped ({})",
                    kind.name,
                    e.to_string().lines().next().unwrap_or("")
                );
                continue;
            }
        };
        kinds_checked += 1;
        let echo = scenario.models[0].parameters();
        for p in &kind.params {
            if variant.lines().any(|l| l.starts_with(&format!("{} =", p.name))) {
                continue; // set by the variant, not defaulted
            }
            let Some(default) = p.default.as_deref().and_then(doc_default) else { continue };
            let Some(echoed) = echo_at(&echo, &p.name) else { continue };
            if !echoed.is_array() {
                compared += 1;
                if !same(&default, echoed) {
                    drifts.push(format!(
                        "{}: {} documented {default}, echoed {echoed}",
                        kind.name, p.name
                    ));
                }
            }
        }
    }
    eprintln!("{kinds_checked} kind settings loaded, {compared} defaults compared");
    assert!(kinds_checked >= 11, "only {kinds_checked} kinds loaded with defaults");
    assert!(compared >= 100, "only {compared} defaults compared");
    assert!(
        drifts.is_empty(),
        "documented defaults that differ from the echo:\n{}",
        drifts.join("\n")
    );
}
