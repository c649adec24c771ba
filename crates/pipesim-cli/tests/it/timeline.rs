//! The timeline's bounds through the real binary: the automatic window, the limit on an
//! explicit one, report rows that merge windows past 2,000, `--timeline-csv` with every window,
//! and charts that stay small whatever the number of rows.

use crate::support::*;
use serde_json::Value;

/// An M/M/1 queue at `rate` for `duration`, with `extra` top-level lines.
fn scenario(duration: &str, rate: &str, extra: &str) -> String {
    format!(
        r#"name = "t"
duration = "{duration}"
drain = "1s"
{extra}
[workload]
arrivals = {{ process = "poisson", rate = "{rate}" }}
keys = {{ count = 100 }}
[[model]]
name = "m"
kind = "stations"
[[model.station]]
name = "s"
service = {{ dist = "exp", mean = "1ms" }}
"#
    )
}

/// Runs the scenario text in a fresh folder with `args`; returns the folder and report.json.
fn run(text: &str, args: &[&str]) -> (tempfile::TempDir, Value) {
    let tmp = scratch(text);
    let mut argv = vec!["run", "s.toml", "--out", "out", "--quiet"];
    argv.extend_from_slice(args);
    ok(&pipesim(tmp.path(), &argv));
    let report = read_json(&tmp.path().join("out/report.json"));
    (tmp, report)
}

fn rows(report: &Value) -> &Vec<Value> {
    report["models"][0]["timeline"].as_array().unwrap()
}

fn sum(rows: &[Value], field: &str) -> u64 {
    rows.iter().map(|r| r[field].as_u64().unwrap()).sum()
}

#[test]
fn without_a_window_a_long_run_gets_at_most_2000_rows() {
    // 5,000 s + 1 s of drain: 1 s would give 5,001 rows, 2 s 2,501, so 5 s windows.
    let (_tmp, report) = run(&scenario("5000s", "20/s", ""), &["--charts", "none"]);
    assert_eq!(report["window_s"].as_f64(), Some(5.0));
    let rows = rows(&report);
    assert_eq!(rows.len(), 1_001);
    assert_eq!(
        sum(rows, "offered"),
        report["models"][0]["simulation"]["events"].as_u64().unwrap() / 2
    );
    // A short run keeps the one-second window.
    let (_tmp, short) = run(&scenario("30s", "20/s", ""), &["--charts", "none"]);
    assert_eq!(short["window_s"].as_f64(), Some(1.0));
}

#[test]
fn an_explicit_window_past_the_limit_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.toml"), scenario("2000s", "1k/s", "window = \"1ms\""))
        .unwrap();
    for cmd in ["run", "validate"] {
        let out = pipesim(
            tmp.path(),
            &[cmd, "s.toml", "--out", "out"][..if cmd == "run" { 4 } else { 2 }],
        );
        assert_rejected(
            cmd,
            &out,
            &[
                "s.toml:4:10: window: 1ms gives 2001000 timeline windows over duration + drain, more than the 1000000 a run may have; use a window of at least 2.001ms",
            ],
        );
        assert!(!tmp.path().join("out").exists(), "{cmd} wrote its output folder");
    }
}

#[test]
fn report_rows_merge_windows_and_the_csv_has_every_window() {
    // 10 ms windows over 30 s + 1 s drain: 3,100 windows, so report rows of 2 windows (20 ms).
    let text = scenario("30s", "500/s", "window = \"10ms\"");
    let (tmp, report) = run(&text, &["--timeline-csv", "--charts", "none"]);
    assert!((report["window_s"].as_f64().unwrap() - 0.02).abs() < 1e-12, "{}", report["window_s"]);
    let rows = rows(&report);
    assert!(rows.len() <= 2_000 && rows.len() >= 1_500, "{}", rows.len());
    let csv = std::fs::read_to_string(tmp.path().join("out/timeline/m.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("start_ns,window_ns,offered,delivered,dropped,backlog,p50_ns,p99_ns,max_ns,late")
    );
    let windows: Vec<Vec<u64>> =
        lines.map(|l| l.split(',').map(|x| x.parse().unwrap()).collect()).collect();
    assert!(
        windows.len() >= 2 * rows.len() - 1 && windows.len() <= 2 * rows.len(),
        "{}",
        windows.len()
    );
    for (i, w) in windows.iter().enumerate() {
        assert_eq!((w[0], w[1]), (i as u64 * 10_000_000, 10_000_000), "window {i}");
        assert!(w[6] <= w[7] && w[7] <= w[8], "window {i}: p50 <= p99 <= max");
    }
    let total = |col: usize| windows.iter().map(|w| w[col]).sum::<u64>();
    assert_eq!(total(2), sum(rows, "offered"));
    assert_eq!(total(3), sum(rows, "delivered"));
    assert_eq!(total(9), 0, "no late samples");
    // Each report row's max is the largest of its two windows' (same histogram resolution).
    for (r, pair) in rows.iter().zip(windows.chunks(2)) {
        let max_ns = pair.iter().map(|w| w[8]).max().unwrap();
        let ms = (max_ns as f64 / 1e6 * 1e3).round() / 1e3;
        assert!((r["max_ms"].as_f64().unwrap() - ms).abs() < 1e-3, "{r} against {pair:?}");
    }
    // The CSV adds nothing to report.json: the same run without it writes the same bytes.
    let (_tmp2, again) = run(&text, &["--charts", "none"]);
    assert_eq!(again["models"], report["models"]);
}

#[test]
fn charts_stay_small_however_many_rows() {
    // 1,991 rows on a plot about 850 pixels wide: the throughput and latency lines keep at most
    // two points per pixel column (their envelope; the unit tests check that spikes survive).
    let text = scenario("1990s", "50/s", "window = \"1s\"");
    let (tmp, report) = run(&text, &[]);
    assert_eq!(rows(&report).len(), 1_991);
    for chart in ["throughput.svg", "latency_0_m.svg", "p99_over_time.svg"] {
        let svg = std::fs::read_to_string(tmp.path().join("out/charts").join(chart)).unwrap();
        let points: usize = svg
            .split("<polyline")
            .skip(1)
            .map(|p| p.split("points=\"").nth(1).unwrap().split('"').next().unwrap())
            .map(|pts| pts.split_whitespace().count())
            .max()
            .unwrap();
        assert!(points <= 2 * 960, "{chart}: a line of {points} points");
        assert!(points > 500, "{chart}: only {points} points drawn");
    }
    let page = std::fs::metadata(tmp.path().join("out/index.html")).unwrap().len();
    let json = std::fs::metadata(tmp.path().join("out/report.json")).unwrap().len();
    assert!(page < 2_000_000 && json < 1_000_000, "index.html {page} B, report.json {json} B");
}
