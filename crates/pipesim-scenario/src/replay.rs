//! The scenario that replays a scenario's exported arrivals (`pipesim trace export`).

use crate::error::{ErrorOrigin, ScenarioError};
use crate::load::{LoadOptions, Scenario};
use crate::overrides::apply;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::{Spanned, Table, Value};

/// The text of a scenario equal to `scenario` (its file as read, with `opts`' `--set` flags and
/// seed applied) except that its arrivals replay the trace `trace_file` (a path relative to the
/// folder the new scenario will be written to) and its name gets `-trace` appended. Rate phases
/// and the arrival process's parameters go; keys, payload, models, faults and claims stay, and
/// every file an empirical distribution names becomes an absolute path, so the new scenario can
/// live in another folder. Comments and key order are not kept (keys come out sorted).
pub fn replay_scenario(
    scenario: &Scenario,
    opts: &LoadOptions,
    trace_file: &str,
    faults_file: &str,
) -> Result<String, ScenarioError> {
    let fail = |message: String| ScenarioError {
        file: scenario.path.clone(),
        origin: ErrorOrigin::File(None),
        path: None,
        message,
    };
    let text = scenario.text.as_str();
    let mut tree = DeTable::parse(text)
        .map_err(|e| fail(format!("TOML syntax error: {}", e.message())))?
        .into_inner();
    for (i, ov) in opts.overrides.iter().enumerate() {
        let start = text.len() + 1 + i;
        apply(&mut tree, ov, start..start).map_err(|m| ScenarioError {
            file: scenario.path.clone(),
            origin: ErrorOrigin::Override(ov.raw.clone()),
            path: None,
            message: m,
        })?;
    }
    let whole = Spanned::new(0..text.len(), DeValue::Table(tree));
    let mut root = Table::deserialize(ValueDeserializer::from(whole))
        .map_err(|e| fail(format!("cannot re-read the scenario: {}", e.message())))?;

    let seed = i64::try_from(scenario.seed).map_err(|_| {
        fail(format!(
            "seed {} is too large to write in a TOML file (at most {})",
            scenario.seed,
            i64::MAX
        ))
    })?;
    root.insert("seed".into(), Value::Integer(seed));
    root.insert("name".into(), Value::String(format!("{}-trace", scenario.name)));
    let workload = match root.get_mut("workload") {
        Some(Value::Table(w)) => w,
        _ => return Err(fail("has no [workload] table".to_string())),
    };
    workload.remove("phase");
    workload.remove("rate");
    let mut arrivals = Table::new();
    arrivals.insert("process".into(), Value::String("trace".into()));
    arrivals.insert("file".into(), Value::String(trace_file.into()));
    workload.insert("arrivals".into(), Value::Table(arrivals));

    // The whole fault timeline (written, traced and drawn at random) is in the fault trace.
    root.remove("fault");
    let mut faults = Table::new();
    faults.insert("trace".into(), Value::String(faults_file.into()));
    root.insert("faults".into(), Value::Table(faults));

    let base = scenario.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut root = Value::Table(root);
    absolute_files(&mut root, &base);
    let Value::Table(root) = root else { unreachable!("a table stays a table") };
    toml::to_string(&root).map_err(|e| fail(format!("cannot write the replay scenario: {e}")))
}

/// The scenario's fault timeline as a JSON-lines fault trace (`[faults] trace`), one fault
/// per line in timeline order, with empirical distributions' files made absolute.
pub fn fault_trace_lines(scenario: &Scenario) -> String {
    let base = scenario.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut out = String::new();
    for line in &scenario.fault_tables {
        let mut v: Value = match serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|j| Value::try_from(j).ok())
        {
            Some(v) => v,
            None => continue,
        };
        absolute_files(&mut v, &base);
        out.push_str(&serde_json::to_string(&v).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// Makes the `file` of every empirical distribution under `v` absolute.
fn absolute_files(v: &mut Value, base: &Path) {
    match v {
        Value::Table(t) => {
            if t.get("dist").and_then(Value::as_str) == Some("empirical")
                && let Some(Value::String(file)) = t.get_mut("file")
            {
                let joined: PathBuf = base.join(&*file);
                let abs = std::path::absolute(&joined).unwrap_or(joined);
                *file = abs.to_string_lossy().into_owned();
            }
            for (_, child) in t.iter_mut() {
                absolute_files(child, base);
            }
        }
        Value::Array(items) => {
            for child in items {
                absolute_files(child, base);
            }
        }
        _ => {}
    }
}
