//! Charts and index.html: what each chart shows, byte-identical reruns, the formats, and a page
//! that needs nothing from outside itself. (A real browser opens the page in tests/browser.rs.)

use crate::support::*;
use std::path::Path;

/// A scenario with two models and a store crash, small enough to run in well under a second.
const SCENARIO: &str = r#"
name = "charts"
description = "Two pools & a crash <for the charts test>"
seed = 5
duration = "20s"
warmup = "2s"
drain = "10s"

[workload]
arrivals = { process = "poisson", rate = "2k/s" }
keys = { count = 1000 }

[[model]]
name = "sync.commit"
kind = "baseline"

[model.client]
retries = 10

[[model]]
name = "async-commit"
kind = "baseline"
[model.client]
retries = 10
[model.store]
synchronous_commit = "off"

[[fault]]
kind = "crash"
target = "store"
at = "8s"
duration = "2s"
"#;

fn run(dir: &Path, extra: &[&str]) -> std::process::Output {
    std::fs::create_dir_all(dir).unwrap();
    let scenario = dir.join("charts.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out = command(&root(), &["run"])
        .arg(&scenario)
        .args(["--quiet", "--out"])
        .arg(dir.join("out"))
        .args(extra)
        .output()
        .unwrap();
    ok(&out);
    out
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}

const STEMS: [&str; 8] = [
    "findings",
    "latency_0_sync_commit",
    "latency_1_async-commit",
    "p99_over_time",
    "percentiles",
    "spectrum_ack",
    "spectrum_e2e",
    "throughput",
];

#[test]
fn every_chart_is_written_and_reruns_are_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    run(&tmp.path().join("a"), &[]);
    run(&tmp.path().join("b"), &["--jobs", "1"]);
    let a = files(&tmp.path().join("a/out/charts"));
    let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    let want: Vec<String> = STEMS.iter().map(|s| format!("{s}.svg")).collect();
    assert_eq!(names, want);
    assert_eq!(a, files(&tmp.path().join("b/out/charts")));
    let page = |d: &str| std::fs::read(tmp.path().join(d).join("out/index.html")).unwrap();
    // The scenario path differs between the two runs' folders; the rest is the same.
    let (pa, pb) = (String::from_utf8(page("a")).unwrap(), String::from_utf8(page("b")).unwrap());
    assert_eq!(pa.replace("/a/charts.toml", "/b/charts.toml"), pb);
}

#[test]
fn charts_say_what_is_better_carry_units_and_mark_faults() {
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path(), &[]);
    let svg = |stem: &str| {
        std::fs::read_to_string(tmp.path().join(format!("out/charts/{stem}.svg"))).unwrap()
    };
    for stem in STEMS {
        let s = svg(stem);
        assert!(s.starts_with("<svg"), "{stem}");
        assert!(s.contains("lower is better"), "{stem}: the title says which way is better");
        assert!(s.contains("font-family=\"sans-serif\""), "{stem}");
    }
    // Units on the axes.
    assert!(svg("spectrum_e2e").contains("99.9%") && svg("spectrum_e2e").contains("99%"));
    assert!(
        svg("spectrum_e2e").contains(" ms\n") || svg("spectrum_e2e").contains(" ms<"),
        "ms ticks"
    );
    assert!(svg("latency_0_sync_commit").contains("simulated time (s)"));
    assert!(svg("throughput").contains("events per second"));
    // The crash window is shaded and labelled on the time charts, and the warmup too.
    for stem in ["latency_0_sync_commit", "p99_over_time", "throughput"] {
        assert!(svg(stem).contains("crash store"), "{stem} labels the fault window");
        assert!(svg(stem).contains("warmup"), "{stem} marks the warmup");
    }
    // Both models are in the overlays' legends.
    for stem in ["spectrum_e2e", "p99_over_time", "percentiles", "findings"] {
        assert!(svg(stem).contains("sync.commit") && svg(stem).contains("async-commit"), "{stem}");
    }
    // The findings chart writes each count: async commit loses acknowledged events in the crash.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("out/report.json")).unwrap())
            .unwrap();
    let lost = report["models"][1]["invariants"]["lost"].as_u64().unwrap();
    assert!(lost > 0, "the scenario should lose events with asynchronous commit");
    assert!(
        svg("findings").contains(&format!("\n{}\n", group_thousands(lost))),
        "lost = {lost} is labelled"
    );
}

fn group_thousands(n: u64) -> String {
    let d = n.to_string();
    let mut out = String::new();
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn the_page_is_self_contained() {
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path(), &[]);
    let page = std::fs::read_to_string(tmp.path().join("out/index.html")).unwrap();
    // Every chart is inline.
    assert_eq!(page.matches("<figure id=\"chart-").count(), STEMS.len());
    assert_eq!(page.matches("<svg ").count(), STEMS.len());
    // Nothing to fetch: no script, stylesheet link, external image, import or remote URL (the
    // only URL is SVG's namespace name, which is never fetched).
    for bad in ["<script", "<link rel=\"stylesheet\"", "<img", "@import", "url(", "src="] {
        assert!(!page.contains(bad), "index.html contains {bad}");
    }
    let urls = page.matches("http://").count() + page.matches("https://").count();
    assert_eq!(urls, page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count());
    // The seed, the command, the tables and the scenario text (escaped).
    assert!(page.contains("Seed <b>5</b>"));
    assert!(page.contains("pipesim run "));
    assert!(page.contains("<table>"));
    assert!(page.contains("Two pools &amp; a crash &lt;for the charts test&gt;"));
    assert!(page.contains("synchronous_commit = &quot;off&quot;"));
    assert!(page.contains("By phase") || page.contains("by phase"));
}

#[test]
fn png_on_request_and_none_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    run(&tmp.path().join("png"), &["--charts", "png"]);
    let pngs = files(&tmp.path().join("png/out/charts"));
    assert_eq!(pngs.len(), STEMS.len());
    for (name, bytes) in &pngs {
        assert!(name.ends_with(".png"));
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{name}");
    }
    let page = std::fs::read_to_string(tmp.path().join("png/out/index.html")).unwrap();
    assert_eq!(page.matches("src=\"data:image/png;base64,").count(), STEMS.len());
    // PNGs are byte-identical across runs too.
    run(&tmp.path().join("png2"), &["--charts", "png"]);
    assert_eq!(pngs, files(&tmp.path().join("png2/out/charts")));

    run(&tmp.path().join("none"), &["--charts", "none"]);
    assert!(!tmp.path().join("none/out/charts").exists());
    assert!(!tmp.path().join("none/out/index.html").exists());
    assert!(tmp.path().join("none/out/report.json").exists());
}

#[test]
fn charts_of_an_earlier_run_do_not_linger() {
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path(), &[]);
    assert!(tmp.path().join("out/charts/latency_1_async-commit.svg").exists());
    run(tmp.path(), &["--models", "sync.commit"]);
    let names: Vec<String> =
        files(&tmp.path().join("out/charts")).into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"latency_0_sync_commit.svg".to_string()));
    assert!(!names.iter().any(|n| n.contains("async")), "{names:?}");
}

#[test]
fn a_bad_chart_format_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = pipesim_at_root(
        &["run", "scenarios/quickstart.toml", "--charts", "jpeg", "--out"],
        &[tmp.path()],
    );
    assert_rejected("--charts jpeg", &out, &["jpeg"]);
}

#[test]
fn every_histogram_is_exported_as_hgrm_and_reads_back() {
    let tmp = tempfile::tempdir().unwrap();
    run(&tmp.path().join("a"), &["--charts", "none"]);
    run(&tmp.path().join("b"), &[]);
    let a = files(&tmp.path().join("a/out/histograms"));
    let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "async-commit.ack.hgrm",
            "async-commit.e2e.hgrm",
            "sync.commit.ack.hgrm",
            "sync.commit.e2e.hgrm"
        ]
    );
    // Byte-identical across runs, whatever the chart format.
    assert_eq!(a, files(&tmp.path().join("b/out/histograms")));
    // HdrHistogram's reader (ours, which reads wrk2 and Java output) gives back the report's
    // percentiles, to the histogram's precision.
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("a/out/report.json")).unwrap(),
    )
    .unwrap();
    for (i, model) in ["sync.commit", "async-commit"].iter().enumerate() {
        let text = String::from_utf8(
            a.iter().find(|(n, _)| *n == format!("{model}.e2e.hgrm")).unwrap().1.clone(),
        )
        .unwrap();
        assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)\n\n"));
        let table = pipesim_config::parse_hgrm(&text, 1e6).unwrap();
        let e2e = &report["models"][i]["latency"]["e2e"];
        for (q, field) in [(0.5, "p50_ms"), (0.99, "p99_ms"), (0.999, "p999_ms")] {
            let want = e2e[field].as_f64().unwrap();
            let got = table.quantile_ns(q) / 1e6;
            assert!((got / want - 1.0).abs() < 0.01, "{model} {field}: {got} vs {want}");
        }
        let count = e2e["count"].as_u64().unwrap();
        assert!(text.contains(&format!("Total count    = {count:>12}]")), "{model}");
    }
}
