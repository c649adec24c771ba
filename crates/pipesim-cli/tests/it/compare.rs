//! `pipesim compare`: every metric side by side with its change, the overlay charts and page,
//! and bad input.

use crate::support::*;
use std::path::{Path, PathBuf};

fn run_quickstart(out: &Path, sets: &[&str]) {
    let mut args = vec!["run", "scenarios/quickstart.toml", "--quiet", "--charts", "none"];
    for s in sets {
        args.extend(["--set", s]);
    }
    args.push("--out");
    let o = pipesim_at_root(&args, &[out]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The Markdown row whose first cell is `first`.
fn row<'a>(md: &'a str, first: &str) -> Vec<&'a str> {
    let line = md
        .lines()
        .find(|l| l.starts_with(&format!("| {first} |")))
        .unwrap_or_else(|| panic!("no row {first} in\n{md}"));
    line.trim_matches('|').split(" | ").map(str::trim).collect()
}

#[test]
fn a_change_shows_with_its_difference_and_relative_change() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_quickstart(&a, &[]);
    run_quickstart(&b, &["workload.rate=1100/s"]);
    let o = pipesim_at_root(
        &["compare", "--out"],
        &[&tmp.path().join("cmp"), &a, &b.join("report.json")],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = String::from_utf8(o.stdout).unwrap();

    // The p99 row of pool-8: both values as the reports hold them, the difference, the change.
    let (ja, jb) = (json(&a.join("report.json")), json(&b.join("report.json")));
    let pa = ja["models"][0]["latency"]["e2e"]["p99_ms"].as_f64().unwrap();
    let pb = jb["models"][0]["latency"]["e2e"]["p99_ms"].as_f64().unwrap();
    assert_ne!(pa, pb);
    let r = row(&md, "`latency.e2e.p99_ms`");
    assert_eq!(r[1].parse::<f64>().unwrap(), pa);
    assert_eq!(r[2].parse::<f64>().unwrap(), pb);
    let diff: f64 = r[3].trim_start_matches('+').parse().unwrap();
    assert!((diff - (pb - pa)).abs() < 1e-6, "{r:?}");
    let rel: f64 = r[4].trim_end_matches('%').trim_start_matches('+').parse().unwrap();
    assert!((rel - (pb - pa) / pa * 100.0).abs() < 0.051, "{r:?}");

    // Headline rows for each model, and a count of what changed.
    assert!(md.contains("| pool-8 · e2e p99 ms |") && md.contains("| pool-12 · lost |"));
    assert!(md.contains("metrics differ from A."));
    // Unchanged metrics read "=".
    assert_eq!(row(&md, "pool-8 · lost")[3], "=");

    // --out: the same Markdown, a page and the overlay charts labelled A and B.
    let cmp = tmp.path().join("cmp");
    assert_eq!(std::fs::read_to_string(cmp.join("compare.md")).unwrap(), md);
    let page = std::fs::read_to_string(cmp.join("index.html")).unwrap();
    assert!(page.contains("<table>") && !page.contains("<script"));
    let mut charts: Vec<String> = std::fs::read_dir(cmp.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    charts.sort();
    assert_eq!(
        charts,
        [
            "findings.svg",
            "p99_over_time.svg",
            "percentiles.svg",
            "spectrum_ack.svg",
            "spectrum_e2e.svg",
            "throughput.svg"
        ]
    );
    let spectrum = std::fs::read_to_string(cmp.join("charts/spectrum_e2e.svg")).unwrap();
    for label in ["A: pool-8", "B: pool-8", "A: pool-12", "B: pool-12"] {
        assert!(spectrum.contains(label), "{label} in the overlay's legend");
    }
    assert_eq!(page.matches("<svg ").count(), charts.len());
}

#[test]
fn identical_reports_differ_nowhere_and_only_changed_lists_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    run_quickstart(&tmp.path().join("a"), &[]);
    let a = tmp.path().join("a");
    let o =
        pipesim_at_root(&["compare", "--only-changed"], &[&a, &root().join("reports/quickstart")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(md.contains("\n0 of "), "{md}");
    assert_eq!(md.matches("Every metric is identical.").count(), 2);
}

#[test]
fn several_scenarios_side_by_side() {
    let o = pipesim_at_root(
        &[
            "compare",
            "reports/000_async_commit/report.json",
            "reports/quickstart",
            "reports/partition",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(md.contains("| C |") && md.contains("C − A") && md.contains("C vs A"));
    // A model only one report has shows "–" for the others, and says where it is missing.
    let r = row(&md, "pool-8 · e2e p99 ms");
    assert_eq!((r[1], r[3]), ("–", "–"));
    assert!(md.contains("Not in A, C."));
}

#[test]
fn bad_input_is_named_with_exit_code_2() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let good = root().join("reports/quickstart/report.json");
    let mut newer = json(&good);
    newer["schema_version"] = 99.into();
    let mut partial = json(&good);
    partial["models"][0].as_object_mut().unwrap().remove("latency");
    let cases: Vec<(PathBuf, &str)> = vec![
        (tmp.path().join("missing.json"), "cannot read"),
        (write("text.json", "hello"), "is not JSON"),
        (write("other.json", "{\"a\": 1}"), "no schema_version"),
        (write("newer.json", &newer.to_string()), "schema_version 99"),
        (write("partial.json", &partial.to_string()), "models[0]"),
        (tmp.path().to_path_buf(), "cannot read"),
    ];
    for (path, words) in cases {
        let o = pipesim_at_root(&["compare"], &[&good, &path]);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert_rejected(&path.display().to_string(), &o, &[words, &name]);
    }
    // One report is not a comparison.
    let o = pipesim_at_root(&["compare"], &[&good]);
    assert_rejected("one report", &o, &[]);
    // --out that is a file.
    let file = write("a-file", "x");
    let o = pipesim_at_root(&["compare", "--out"], &[&file, &good, &good]);
    assert_rejected("--out is a file", &o, &["is a file"]);
}
