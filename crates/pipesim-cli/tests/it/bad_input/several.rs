//! Bad input across several scenarios, and an output folder that is a file.

use super::*;

/// `a.toml` (valid, model `m`) and `b.toml` (valid, model `other`) in a fresh folder.
fn two_scenarios() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.toml"), BASE).unwrap();
    let b = base_with("name = \"t\"", "name = \"u\"").replace("name = \"m\"", "name = \"other\"");
    std::fs::write(tmp.path().join("b.toml"), b).unwrap();
    tmp
}

#[test]
fn flag_errors_name_the_scenario_they_do_not_fit() {
    let tmp = two_scenarios();
    let before = snapshot(tmp.path());
    let out = pipesim(tmp.path(), &["validate", "a.toml", "b.toml", "--models", "m"]);
    assert_rejected_errors(
        "--models m over a and b",
        &out,
        1,
        &["error: b.toml: --models: no model named \"m\"; models: other"],
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("a.toml"));
    let argv = ["validate", "a.toml", "b.toml", "--set", "model[0].station[0].servers=0"];
    let out = pipesim(tmp.path(), &argv);
    assert_rejected_errors(
        "--set servers=0 over a and b",
        &out,
        2,
        &[
            "error: a.toml: --set model[0].station[0].servers=0:",
            "error: b.toml: --set model[0].station[0].servers=0:",
        ],
    );
    assert_eq!(snapshot(tmp.path()), before);
}

#[test]
fn a_bad_scenario_stops_the_good_ones_from_running() {
    let tmp = two_scenarios();
    std::fs::write(tmp.path().join("b.toml"), base_with("servers = 1", "servers = 0")).unwrap();
    std::fs::create_dir(tmp.path().join("out")).unwrap();
    std::fs::write(tmp.path().join("out/report.json"), SENTINEL).unwrap();
    let before = snapshot(tmp.path());
    let out = pipesim(tmp.path(), &["run", "a.toml", "b.toml", "--out", "out"]);
    assert_rejected_errors(
        "run a (good) and b (bad)",
        &out,
        1,
        &["error: b.toml:10:11: model[0].station[0].servers: must be at least 1"],
    );
    assert_eq!(snapshot(tmp.path()), before, "nothing may be written, not even for a.toml");
}

#[test]
fn output_folder_that_is_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.toml"), BASE).unwrap();
    std::fs::write(tmp.path().join("out"), SENTINEL).unwrap();
    let before = snapshot(tmp.path());
    let out = pipesim(tmp.path(), &["run", "s.toml", "--out", "out", "--quiet"]);
    assert_rejected_errors(
        "--out is a file",
        &out,
        1,
        &["error: --out: out: is a file, not a folder"],
    );
    assert_eq!(snapshot(tmp.path()), before);
}
