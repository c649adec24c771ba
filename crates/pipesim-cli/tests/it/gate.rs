//! `pipesim gate`: thresholds, exact baseline comparison with tolerances, --bless, the CI
//! outputs, and every bad input the issue names (exit 2, before any run).

use crate::support::*;
use std::path::{Path, PathBuf};

/// An M/M/1-like scenario with a `[gate]` table, in `dir`.
fn scenario(dir: &Path, gate: &str) -> PathBuf {
    let p = dir.join("g.toml");
    std::fs::write(
        &p,
        format!(
            r#"
name = "g"
seed = 3
duration = "20s"
warmup = "2s"
[workload]
arrivals = {{ process = "poisson", rate = "800/s" }}
keys = {{ count = 100 }}
[[model]]
name = "one"
kind = "stations"
[[model.station]]
name = "server"
servers = 1
service = {{ dist = "exp", mean = "1ms" }}
{gate}
"#
        ),
    )
    .unwrap();
    p
}

#[test]
fn the_committed_ci_scenarios_pass_against_their_baselines() {
    let o = pipesim_at_root(
        &[
            "gate",
            "scenarios/ci/pool_spike.toml",
            "scenarios/ci/crash_commit.toml",
            "scenarios/ci/partition.toml",
        ],
        &[],
    );
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert_eq!(out.matches("metrics identical").count(), 3, "{out}");
    assert!(out.contains("gate passed: 3 scenarios"));
}

#[test]
fn a_deliberate_regression_fails_with_exit_3_and_names_each_metric() {
    let tmp = tempfile::tempdir().unwrap();
    let (junit, bench) = (tmp.path().join("junit.xml"), tmp.path().join("bench.json"));
    let o = pipesim_at_root(
        &[
            "gate",
            "scenarios/ci/pool_spike.toml",
            "--set",
            "model[pool-12].station[1].servers=10",
            "--junit",
        ],
        &[&junit, Path::new("--benchmark-json"), &bench],
    );
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(3), "{out}{err}");
    // The p99 moved: both values, the change, "exact", REGRESSION.
    let line =
        out.lines().find(|l| l.contains("latency.e2e.p99_ms")).unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("pool-12") && line.contains("exact") && line.contains("REGRESSION"),
        "{line}"
    );
    assert!(out.contains("gate FAILED: ci_pool_spike"));
    // pool-8 did not change: none of its metrics is listed.
    assert!(
        !out.lines().any(|l| l.trim_start().starts_with("pool-8 ") && l.contains("REGRESSION")),
        "{out}"
    );
    // JUnit: failures counted, a failing test case per regressed metric.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let regressions = out.matches("REGRESSION").count();
    assert!(xml.contains(&format!("failures=\"{regressions}\"")), "{xml}");
    assert_eq!(xml.matches("<failure ").count(), regressions);
    assert!(xml.contains("name=\"baseline latency.e2e.p99_ms\">"));
    // Benchmark JSON: customSmallerIsBetter entries with the fresh values.
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bench).unwrap()).unwrap();
    let p99 = b
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "ci_pool_spike/pool-12 latency.e2e.p99_ms")
        .unwrap();
    assert_eq!(p99["unit"], "ms");
    let fresh: f64 = line.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert_eq!(p99["value"].as_f64().unwrap(), fresh);
}

#[test]
fn thresholds_fail_with_exit_3_and_pass_otherwise() {
    let tmp = tempfile::tempdir().unwrap();
    // M/M/1 at ρ = 0.8, mean 1 ms: p99 of the sojourn ≈ ln(100)/(μ−λ) = 23 ms.
    let s = scenario(tmp.path(), "[gate]\n\"p99\" = \"< 10ms\"\n\"lost\" = \"== 0\"\n");
    let base = tmp.path().join("base");
    let o = pipesim_at_root(&["gate", "--bless", "--baseline"], &[&base, &s]);
    let (out, _) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(3), "{out}");
    let p99_line = out.lines().find(|l| l.contains("p99 < 10ms")).unwrap();
    assert!(p99_line.ends_with("FAIL"), "{p99_line}");
    let v: f64 = p99_line.split_whitespace().rev().nth(1).unwrap().parse().unwrap();
    assert!((18.0..30.0).contains(&v), "M/M/1 p99 ≈ 23 ms, got {v}");
    assert!(out.lines().find(|l| l.contains("lost == 0")).unwrap().ends_with("pass"));
    // Blessing still wrote the baseline, and the page with it.
    assert!(base.join("g/report.json").exists() && base.join("g/index.html").exists());

    let s = scenario(tmp.path(), "[gate]\n\"p99\" = \"< 40ms\"\n");
    let o = pipesim_at_root(&["gate", "--baseline"], &[&base, &s]);
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
}

#[test]
fn tolerances_let_an_intended_change_through_and_no_further() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    let s = scenario(tmp.path(), "");
    assert_eq!(
        pipesim_at_root(&["gate", "--bless", "--baseline"], &[&base, &s]).status.code(),
        Some(0)
    );
    // A slightly slower server moves latencies and the station's details by a few percent.
    let slower = ["--set", "model[one].station[server].service.mean=1.02ms"];
    let o = pipesim_at_root(&[&["gate"][..], &slower[..], &["--baseline"]].concat(), &[&base, &s]);
    assert_eq!(o.status.code(), Some(3), "exact by default");
    // Allow 50 % on every metric of the latency, mean_in_system and details groups.
    let tol = "[gate.tolerance]\n\"latency\" = \"50%\"\n\"mean_in_system\" = \"50%\"\n\"details\" = \"50%\"\n\"simulation\" = \"50%\"\n";
    let s = scenario(tmp.path(), tol);
    let o = pipesim_at_root(&[&["gate"][..], &slower[..], &["--baseline"]].concat(), &[&base, &s]);
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("within tolerance"), "{out}");
    // A server twice as slow moves the p99 far beyond 50 %.
    let o = pipesim_at_root(
        &["gate", "--set", "model[one].station[server].service.mean=1.2ms", "--baseline"],
        &[&base, &s],
    );
    let (out, _) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(
        out.lines().any(|l| l.contains("latency.e2e.p99_ms")
            && l.contains("50%")
            && l.contains("REGRESSION")),
        "{out}"
    );
}

#[test]
fn bad_input_is_refused_before_any_run() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    let cases = [
        // A metric the model does not have: stations have no read path.
        ("[gate]\n\"latency.read.p99_ms\" = \"< 5ms\"\n", "is not a metric of model \"one\""),
        (
            "[gate]\n\"details.stations[7].utilisation\" = \"< 0.5\"\n",
            "details.stations[7].utilisation",
        ),
        ("[gate]\n\"p99\" = \"fast\"\n", "starts with <"),
        ("[gate]\n\"p99s\" = \"< 5ms\"\n", "not a report metric"),
        ("[gate.model.two]\n\"p99\" = \"< 5ms\"\n", "no model named \"two\""),
        ("[gate.tolerance]\n\"p99\" = \"a bit\"\n", "not a tolerance"),
    ];
    for (gate, words) in cases {
        let s = scenario(tmp.path(), gate);
        let o = pipesim_at_root(&["gate", "--bless", "--baseline"], &[&base, &s]);
        assert_rejected(gate, &o, &[words]);
        assert!(!base.exists(), "nothing is written for bad input");
    }
    // A baseline folder without the scenario's report.
    let s = scenario(tmp.path(), "[gate]\n\"p99\" = \"< 50ms\"\n");
    std::fs::create_dir_all(&base).unwrap();
    let o = pipesim_at_root(&["gate", "--baseline"], &[&base, &s]);
    assert_rejected("no baseline", &o, &["no baseline report for scenario \"g\"", "--bless"]);
    // A baseline that is not a report.
    std::fs::create_dir_all(base.join("g")).unwrap();
    std::fs::write(base.join("g/report.json"), "{}").unwrap();
    let o = pipesim_at_root(&["gate", "--baseline"], &[&base, &s]);
    assert_rejected("not a report", &o, &["report.json has no schema_version"]);
}
