//! Progress: the driver publishes it without changing results, the CLI draws it only on a
//! terminal, and never into a pipe or a file.

use crate::support::*;
use pipesim_cli::runner::{command_line, render, run_scenario, settings};
use pipesim_models::RunProgress;
use pipesim_scenario::{LoadOptions, load};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

#[test]
fn the_driver_publishes_progress_to_the_end_and_results_do_not_change() {
    let mut s = load(&root().join("scenarios/quickstart.toml"), &LoadOptions::default()).unwrap();
    s.path = PathBuf::from("scenarios/quickstart.toml");
    let m = &s.models[0];
    let cell = Arc::new(RunProgress::new());
    let with = pipesim_models::RunSettings { progress: Some(Arc::clone(&cell)), ..settings(&s) };
    let watched = m.run(&with, &s.workload, &s.faults).expect("runs");
    assert!(cell.is_done());
    assert_eq!(cell.events(), watched.results.events_simulated);
    assert!(cell.now_ns() >= s.duration_ns, "reached {} of {}", cell.now_ns(), s.duration_ns);
    let unwatched = m.run(&settings(&s), &s.workload, &s.faults).expect("runs");
    assert_eq!(unwatched.results.events_simulated, watched.results.events_simulated);
    assert_eq!(unwatched.results.e2e.to_v2_base64(), watched.results.e2e.to_v2_base64());
    // And the whole report is the committed one.
    let json = render(
        &s,
        &run_scenario(&s, Some(1)).expect("the run reads its inputs"),
        &command_line(&s, &[], None),
    )
    .json;
    assert_eq!(
        json,
        std::fs::read_to_string(root().join("reports/quickstart/report.json")).unwrap()
    );
}

/// A run of about two seconds (longer than the one second before progress shows).
fn long_run(extra: &[&str]) -> Vec<String> {
    let mut args =
        vec!["run", "scenarios/faults/partition.toml", "--charts", "none", "--jobs", "1"];
    args.extend(extra);
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn nothing_is_drawn_into_a_pipe() {
    let tmp = tempfile::tempdir().unwrap();
    let out = command(&root(), &[]).args(long_run(&["--out"])).arg(tmp.path()).output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("ETA") && !err.contains('\u{1b}'), "{err}");
    assert!(err.contains("perf: "), "the perf line is still there: {err}");
}

/// On a terminal (a pseudo-terminal made by util-linux's `script`), bars with simulated time,
/// events per second and an ETA are drawn, then cleared before the summary table.
#[test]
fn a_terminal_gets_bars_with_simulated_time_rate_and_eta() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` is not installed, so no pseudo-terminal");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = format!("{BIN} {}", long_run(&[]).join(" "));
    cmd.push_str(&format!(" --out {}", tmp.path().join("out").display()));
    let typescript = tmp.path().join("typescript");
    let status = Command::new("script")
        .current_dir(root())
        .args(["-qec", &cmd])
        .arg(&typescript)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let seen = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    assert!(seen.contains(" s simulated · "), "{seen}");
    assert!(seen.contains(" M events/s · ETA "), "{seen}");
    assert!(seen.contains("lua-two-tier"), "a bar per model: {seen}");
    // ... and quiet means quiet.
    let quiet = format!("{cmd} --quiet");
    Command::new("script")
        .current_dir(root())
        .args(["-qec", &quiet])
        .arg(&typescript)
        .output()
        .unwrap();
    let seen = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    assert!(!seen.contains("ETA"), "{seen}");
}
