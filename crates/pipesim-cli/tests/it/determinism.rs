//! Determinism: the same scenario and seed give the same report.json, byte for byte, whatever
//! the thread count, the order of runs, or the machine (the committed reports under `reports/`
//! were produced on another machine, and CI regenerates them on a fresh one).
//!
//! To re-bless committed reports after an intended change: `PIPESIM_BLESS=1 cargo test --profile ci
//! -p pipesim-cli --test it determinism`.

use crate::support::*;
use pipesim_cli::runner::{command_line, render, run_scenario};
use pipesim_scenario::{LoadOptions, Scenario, load};
use std::path::PathBuf;

/// Loads a scenario by its path relative to the workspace root, naming it that way in the
/// report's command (as `cargo run -- run scenarios/NAME.toml` from the root would).
fn scenario(rel: &str, opts: &LoadOptions) -> Scenario {
    let mut s = load(&root().join(rel), opts).unwrap_or_else(|e| panic!("{e}"));
    s.path = PathBuf::from(rel);
    s
}

fn report(s: &Scenario, jobs: usize) -> String {
    let run = run_scenario(s, Some(jobs)).expect("the run reads its inputs");
    render(s, &run, &command_line(s, &[], None)).json
}

#[test]
fn reruns_are_byte_identical() {
    let s = scenario("scenarios/quickstart.toml", &LoadOptions::default());
    let a = report(&s, 1);
    let b = report(&s, 1);
    assert!(a.len() > 10_000);
    assert_eq!(a, b);
}

#[test]
fn thread_count_does_not_change_the_report() {
    let s = scenario("scenarios/quickstart.toml", &LoadOptions::default());
    assert!(s.models.len() >= 2, "the point is to run models on parallel threads");
    assert_eq!(report(&s, 1), report(&s, 2));
    assert_eq!(report(&s, 1), report(&s, 8));
}

#[test]
fn a_models_result_does_not_depend_on_the_other_models() {
    let all = scenario("scenarios/quickstart.toml", &LoadOptions::default());
    let all_json: serde_json::Value = serde_json::from_str(&report(&all, 2)).unwrap();
    for (i, m) in all.models.iter().enumerate() {
        let only = scenario(
            "scenarios/quickstart.toml",
            &LoadOptions { models: Some(vec![m.name.clone()]), ..Default::default() },
        );
        let one: serde_json::Value = serde_json::from_str(&report(&only, 1)).unwrap();
        assert_eq!(one["models"][0], all_json["models"][i], "model {} alone", m.name);
    }
}

#[test]
fn another_seed_gives_another_report() {
    let a = scenario("scenarios/quickstart.toml", &LoadOptions::default());
    let b = scenario(
        "scenarios/quickstart.toml",
        &LoadOptions { seed: Some(a.seed + 1), ..Default::default() },
    );
    let (ja, jb): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&report(&a, 1)).unwrap(),
        serde_json::from_str(&report(&b, 1)).unwrap(),
    );
    assert_ne!(ja["models"][0]["histograms"], jb["models"][0]["histograms"]);
    assert_ne!(ja["seed"], jb["seed"]);
}

#[test]
fn the_binary_writes_the_same_bytes_twice_and_with_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &str, jobs: &str| {
        ok(&pipesim_at_root(
            &["run", "scenarios/quickstart.toml", "--quiet", "--jobs", jobs, "--out"],
            &[&dir.path().join(out)],
        ));
        (
            std::fs::read(dir.path().join(out).join("report.json")).unwrap(),
            std::fs::read(dir.path().join(out).join("report.md")).unwrap(),
        )
    };
    let first = run("a", "1");
    assert_eq!(first, run("b", "1"));
    assert_eq!(first, run("c", "2"));
    // The binary and the library render the same bytes.
    let s = scenario("scenarios/quickstart.toml", &LoadOptions::default());
    assert_eq!(String::from_utf8(first.0).unwrap(), report(&s, 2));
}

/// Every committed report under `reports/` is regenerated here and must match byte for byte:
/// the committed bytes were produced on another machine, so this checks that results do not
/// depend on the machine. A deliberate change re-blesses them with `PIPESIM_BLESS=1`.
#[test]
fn committed_reports_match_a_fresh_run() {
    let bless = std::env::var("PIPESIM_BLESS").is_ok_and(|v| v == "1");
    let mut checked = 0;
    for rel in committed_scenarios() {
        let s = scenario(&rel, &LoadOptions::default());
        let path = root().join("reports").join(&s.name).join("report.json");
        let fresh = report(&s, 2);
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &fresh).unwrap();
            let md = render(
                &s,
                &run_scenario(&s, Some(2)).expect("the run reads its inputs"),
                &command_line(&s, &[], None),
            )
            .markdown;
            std::fs::write(path.with_file_name("report.md"), md).unwrap();
        }
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; bless with PIPESIM_BLESS=1", path.display()));
        assert!(
            committed == fresh,
            "{} differs from a fresh run of {rel}; if intended, re-bless with PIPESIM_BLESS=1",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 1);
}

/// The scenarios whose reports are committed: the quickstart and the validation set.
fn committed_scenarios() -> Vec<String> {
    let mut out = vec!["scenarios/quickstart.toml".to_string()];
    let dir = root().join("scenarios/validation");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".toml"))
                .map(|n| format!("scenarios/validation/{n}"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    out.extend(files);
    out
}
