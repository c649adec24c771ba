//! The example crate's binary as its user runs it: `my-pipeline run scenario.toml`, checked on
//! what the runs measure (exit codes, the report's models, losses, latencies against the
//! group-commit prediction, DES against wire, determinism, parameter errors).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The scenario's schedule: `commit.interval`, the fsync and the network hop, in ms.
const INTERVAL_MS: f64 = 10.0;
const FSYNC_MS: f64 = 2.0;
const HOP_MS: f64 = 1.0;
/// The wire model resolves time to 50 us (`wire.tick` 1 ms, `wire.dilation` 20); each of its
/// waits (the hop, the sleep to the boundary, the fsync) rounds up to that step.
const WIRE_RESOLUTION_MS: f64 = 0.05;

fn scenario_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenario.toml")
}

fn my_pipeline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_my-pipeline")).args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `scenario` into `dir/out`; returns report.json's text.
fn run(scenario: &Path, dir: &Path) -> String {
    let out = dir.join("out");
    let ran = my_pipeline(&["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(ran.status.code(), Some(0), "{}", stderr(&ran));
    std::fs::read_to_string(out.join("report.json")).unwrap()
}

fn model<'a>(report: &'a Value, name: &str) -> &'a Value {
    let models = report["models"].as_array().unwrap();
    models.iter().find(|m| m["name"] == name).unwrap_or_else(|| panic!("no model {name}"))
}

fn mean_ms(m: &Value, which: &str) -> f64 {
    m["latency"][which]["mean_ms"].as_f64().unwrap()
}

/// The scenario without its crash, and with `replace` applied, written into `dir`.
fn variant(dir: &Path, replace: (&str, &str)) -> PathBuf {
    let text = std::fs::read_to_string(scenario_path()).unwrap();
    let start = text.find("[[fault]]").unwrap();
    let end = text[start..].find("[[model]]").unwrap() + start;
    let text = format!("{}{}", &text[..start], &text[end..]).replace(replace.0, replace.1);
    let path = dir.join("variant.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn models_lists_the_new_kinds_with_their_parameters() {
    let out = my_pipeline(&["models"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for name in ["my_group_commit", "wire_my_group_commit", "commit.max_batch", "disk.fsync"] {
        assert!(text.contains(name), "`models` lists {name}: {text}");
    }
    assert!(text.contains("wire_fifo"), "the built-in kinds are still there");
}

#[test]
fn the_crash_loses_no_acknowledged_event_and_the_run_is_deterministic() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let text = run(&scenario_path(), a.path());
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["models"].as_array().unwrap().len(), 2);
    for name in ["des", "wire"] {
        let m = model(&report, name);
        let inv = &m["invariants"];
        let offered = m["throughput"]["offered"].as_u64().unwrap();
        let visible = m["latency"]["e2e"]["count"].as_u64();
        assert!(offered > 6_000, "{name}: {offered} offered");
        // The mechanism's point: an answer waits for the fsync, so the crash loses nothing
        // anyone was told about; recovery's dedup keeps retried durable events single.
        assert_eq!(inv["lost"], 0, "{name} lost acknowledged events: {inv}");
        assert_eq!(inv["duplicates"], 0, "{name}: {inv}");
        assert_eq!(inv["dropped"], 0, "{name}: {inv}");
        assert_eq!(visible, Some(offered), "{name}: every event made visible");
        assert_eq!(inv["in_flight_at_end"], 0, "{name}: every event settled: {inv}");
        // The crash shows: events created during the 500 ms outage wait for the restart.
        let max_ms = m["latency"]["e2e"]["max_ms"].as_f64().unwrap();
        assert!(max_ms > 400.0, "{name}: max {max_ms} ms");
    }
    // The partition's retries of events already in the log were answered without a second
    // append (the duplicates above are 0), in both backends.
    let des = &model(&report, "des")["details"]["group_commit"][0];
    assert!(des["retries_of_durable_events"].as_u64().unwrap() > 50, "{des}");
    let counter = |name: &str| {
        let rows = model(&report, "wire")["details"]["wire_counters"].as_array().unwrap();
        let row = rows.iter().find(|r| r["counter"] == name);
        row.map_or(0, |r| r["value"].as_u64().unwrap())
    };
    assert!(counter("retries_of_durable_events") > 50, "the wire server deduplicated");
    // The restart read back the log: about the 4 s of events before the crash.
    let recovered = counter("recovered_events");
    assert!((3_800..4_300).contains(&recovered), "{recovered} events read back");

    let again = run(&scenario_path(), b.path());
    assert!(text == again, "two runs give the same report.json, byte for byte");
}

#[test]
fn without_faults_the_mean_is_the_group_commit_wait_in_both_backends() {
    let tmp = tempfile::tempdir().unwrap();
    let report: Value =
        serde_json::from_str(&run(&variant(tmp.path(), ("", "")), tmp.path())).unwrap();
    // The hop, half an interval to the next boundary (arrivals are Poisson, so uniform over
    // the interval), then the fsync.
    let predicted_ms = HOP_MS + INTERVAL_MS / 2.0 + FSYNC_MS;
    let des = model(&report, "des");
    let wire = model(&report, "wire");
    let (des_ms, wire_ms) = (mean_ms(des, "e2e"), mean_ms(wire, "e2e"));
    // DES: the sampling error of the mean over 7,000 events is ~0.03 ms.
    assert!((des_ms - predicted_ms).abs() < 0.2, "des mean {des_ms} ms vs {predicted_ms} ms");
    // Wire: up to one resolution step of rounding on each of the three waits.
    let bias_ms = 3.0 * WIRE_RESOLUTION_MS;
    assert!(
        wire_ms >= predicted_ms - 0.2 && wire_ms <= predicted_ms + bias_ms + 0.2,
        "wire mean {wire_ms} ms vs {predicted_ms} ms (+ up to {bias_ms} ms of rounding)"
    );
    assert!((wire_ms - des_ms).abs() / des_ms < 0.06, "wire {wire_ms} ms vs des {des_ms} ms");
    // The acknowledgement travels one hop more.
    let ack_extra_ms = mean_ms(wire, "ack") - wire_ms;
    assert!((ack_extra_ms - HOP_MS).abs() < 0.3, "ack − e2e = {ack_extra_ms} ms");
    // The p99 is bounded by the schedule: a whole interval, the fsync and the hop.
    for m in [des, wire] {
        let p99 = m["latency"]["e2e"]["p99_ms"].as_f64().unwrap();
        assert!(p99 <= HOP_MS + INTERVAL_MS + FSYNC_MS + bias_ms + 0.2, "p99 {p99} ms");
    }
}

#[test]
fn a_batch_of_zero_is_refused_with_exit_2_naming_the_parameter() {
    let tmp = tempfile::tempdir().unwrap();
    for kind in ["my_group_commit", "wire_my_group_commit"] {
        let path = variant(tmp.path(), ("max_batch = 256", "max_batch = 0"));
        let text = std::fs::read_to_string(&path).unwrap();
        // Only this kind's model, so the message is about it.
        let other =
            if kind == "my_group_commit" { "wire_my_group_commit" } else { "my_group_commit" };
        let keep: Vec<&str> =
            text.split("[[model]]").filter(|m| !m.contains(&format!("\"{other}\""))).collect();
        std::fs::write(&path, keep.join("[[model]]")).unwrap();
        let out = tmp.path().join("out");
        let ran = my_pipeline(&["run", path.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        let e = stderr(&ran);
        assert_eq!(ran.status.code(), Some(2), "{kind}: {e}");
        assert!(e.contains("commit.max_batch"), "{kind} names the parameter: {e}");
        assert!(e.contains("must be from 1 to 100000 events"), "{kind} says the bound: {e}");
        assert!(!out.exists(), "nothing written");
    }
}
