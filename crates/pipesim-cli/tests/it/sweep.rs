//! `pipesim sweep` and `pipesim merge`: M/M/1 against theory across a rate sweep, intervals that
//! shrink with seeds, results independent of threads and of how the points were shared out,
//! the highest rate meeting an SLO, and every bad input the issue names.

use crate::support::*;
use std::path::{Path, PathBuf};

/// M/M/1, mean service 1 ms, with the given `[sweep]` lines.
fn scenario(dir: &Path, duration: &str, sweep: &str) -> PathBuf {
    let p = dir.join("s.toml");
    std::fs::write(
        &p,
        format!(
            "name = \"s\"\nseed = 1\nduration = \"{duration}\"\nwarmup = \"5s\"\n[workload]\narrivals = {{ process = \"poisson\", rate = \"500/s\" }}\nkeys = {{ count = 1000 }}\n[[model]]\nname = \"mm1\"\nkind = \"stations\"\n[[model.station]]\nname = \"server\"\nservers = 1\nservice = {{ dist = \"exp\", mean = \"1ms\" }}\n{sweep}\n"
        ),
    )
    .unwrap();
    p
}

fn sweep_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap()
}

#[test]
fn an_mm1_rate_sweep_follows_theory() {
    let tmp = tempfile::tempdir().unwrap();
    let s = scenario(
        tmp.path(),
        "200s",
        "[sweep]\n\"workload.rate\" = [\"300/s\", \"600/s\", \"800/s\"]\nseeds = 4\n",
    );
    let out = tmp.path().join("out");
    let md = ok(&pipesim_at_root(&["sweep", "--out"], &[&out, &s]));
    assert!(md.contains("| 600/s | mm1 |"), "{md}");
    let j = sweep_json(&out);
    let rows = j["summary"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let mut last = 0.0;
    for (row, lambda) in rows.iter().zip([300.0, 600.0, 800.0]) {
        // Sojourn time of M/M/1 is exponential with rate μ − λ: p99 = ln(100) / (μ − λ).
        let theory_ms = 100f64.ln() / (1000.0 - lambda) * 1000.0;
        let pooled = row["pooled_e2e_p99_ms"].as_f64().unwrap();
        assert!(
            (pooled / theory_ms - 1.0).abs() < 0.08,
            "λ {lambda}: pooled p99 {pooled} vs theory {theory_ms}"
        );
        let mean = row["metrics"]["e2e_p99_ms"]["mean"].as_f64().unwrap();
        assert!(mean > last, "p99 rises with the rate");
        last = mean;
        assert_eq!(row["seeds"], 4);
    }
    assert!(
        std::fs::read_to_string(out.join("charts/p99_vs_load.svg"))
            .unwrap()
            .contains("workload.rate")
    );
}

#[test]
fn intervals_shrink_with_more_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let half_width = |seeds: u32| {
        let dir = tmp.path().join(format!("seeds{seeds}"));
        std::fs::create_dir_all(&dir).unwrap();
        let s = scenario(
            &dir,
            "30s",
            &format!("[sweep]\n\"workload.rate\" = [\"700/s\"]\nseeds = {seeds}\n"),
        );
        ok(&pipesim_at_root(&["sweep", "--out"], &[&dir.join("out"), &s]));
        sweep_json(&dir.join("out"))["summary"][0]["metrics"]["e2e_p99_ms"]["ci95"]
            .as_f64()
            .unwrap()
    };
    let (few, many) = (half_width(3), half_width(24));
    assert!(many < few / 2.0, "95 % half-width with 3 seeds {few}, with 24 seeds {many}");
}

#[test]
fn threads_and_partitions_do_not_change_a_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let s = scenario(
        tmp.path(),
        "20s",
        "[sweep]\n\"workload.rate\" = [\"300/s\", \"600/s\"]\n\"model[mm1].station[server].servers\" = [1, 2]\nseeds = 3\n",
    );
    let whole = tmp.path().join("whole");
    ok(&pipesim_at_root(&["sweep", "--jobs", "1", "--out"], &[&whole, &s]));
    let read = |d: &Path| {
        ["sweep.json", "sweep.md", "charts/p99_vs_load.svg"]
            .map(|f| std::fs::read(d.join(f)).unwrap())
    };
    let two = tmp.path().join("two");
    ok(&pipesim_at_root(&["sweep", "--jobs", "2", "--out"], &[&two, &s]));
    assert!(read(&whole) == read(&two), "--jobs 1 and 2 differ");
    for scheme in ["slice:{}/3", "hash:{}/2"] {
        let n: usize = scheme.split('/').nth(1).unwrap().parse().unwrap();
        let parts_dir = tmp.path().join(format!("parts-{n}"));
        let mut parts = Vec::new();
        for m in 1..=n {
            let p = scheme.replace("{}", &m.to_string());
            let text =
                ok(&pipesim_at_root(&["sweep", "--partition", &p, "--out"], &[&parts_dir, &s]));
            assert!(text.contains(&format!("part {p}")), "{text}");
            let kind = p.split(':').next().unwrap();
            parts.push(parts_dir.join(format!("sweep-part-{kind}-{m}-of-{n}.json")));
        }
        let merged = tmp.path().join(format!("merged-{n}"));
        let mut args: Vec<&Path> = parts.iter().map(PathBuf::as_path).collect();
        args.push(Path::new("--out"));
        args.push(&merged);
        ok(&pipesim_at_root(&["merge"], &args));
        assert!(read(&whole) == read(&merged), "merged {scheme} parts differ from the whole sweep");
    }
    let j = sweep_json(&whole);
    assert_eq!(j["total_points"], 12);
    assert_eq!(j["summary"].as_array().unwrap().len(), 4);
}

#[test]
fn find_max_rate_lands_where_theory_says() {
    let tmp = tempfile::tempdir().unwrap();
    let s = scenario(tmp.path(), "200s", "[sweep]\nseeds = 2\n");
    let md = ok(&pipesim_at_root(
        &[
            "sweep",
            "--find-max-rate",
            "--slo",
            "p99 < 20ms",
            "--min-rate",
            "100/s",
            "--max-rate",
            "990/s",
            "--out",
        ],
        &[&tmp.path().join("out"), &s],
    ));
    // ln(100) / (1000 − λ) = 20 ms  ⇒  λ = 1000 − 230.3 = 769.7/s.
    let row = md.lines().find(|l| l.starts_with("| mm1 |")).unwrap_or_else(|| panic!("{md}"));
    let found: f64 = row.split('|').nth(2).unwrap().trim().trim_end_matches("/s").parse().unwrap();
    assert!((found / 769.7 - 1.0).abs() < 0.04, "found {found}/s, theory 769.7/s\n{md}");
    assert!(tmp.path().join("out/charts/slo_vs_rate.svg").exists());
    // An SLO already broken at the lowest rate says so.
    let md = ok(&pipesim_at_root(
        &["sweep", "--find-max-rate", "--slo", "p99 < 1ms", "--min-rate", "100/s", "--out"],
        &[&tmp.path().join("out2"), &s],
    ));
    assert!(md.contains("fails even at --min-rate"), "{md}");
}

/// `[sweep]` tables `pipesim sweep` refuses, with the words its error must hold (which also
/// name the case).
const BAD_SWEEP_TABLES: [(&str, &str); 4] = [
    ("[sweep]\n\"workload.ratee\" = [\"300/s\"]\n", "workload.ratee"),
    ("[sweep]\n\"model[mm1].station[server].servers\" = [1, 0]\n", "servers=0"),
    ("[sweep]\n\"workload.rate\" = []\n", "empty list"),
    ("", "nothing to sweep"),
];

/// Flags `pipesim sweep` refuses on a valid sweep (of two seeds), with the words its error must
/// hold.
const BAD_SWEEP_FLAGS: [(&[&str], &str); 6] = [
    (&["--partition", "slice:3/2"], "from 1 to 2"),
    (&["--partition", "slice:0/4"], "from 1 to 4"),
    (&["--partition", "hash:1/0"], "at least 1"),
    (&["--partition", "mod:1/2"], "not a partition kind"),
    (&["--find-max-rate"], "needs --slo"),
    (&["--find-max-rate", "--slo", "p99 fast"], "--slo"),
];

#[test]
fn bad_input_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    for (table, words) in BAD_SWEEP_TABLES {
        let s = scenario(tmp.path(), "10s", table);
        assert_sweep_refused(words, &[], &out, &s);
    }
    let s = scenario(tmp.path(), "10s", "[sweep]\nseeds = 2\n");
    for (flags, words) in BAD_SWEEP_FLAGS {
        assert_sweep_refused(words, flags, &out, &s);
    }
    assert!(!out.exists(), "nothing is written for bad input");
    bad_merges_are_refused(tmp.path());
}

/// `pipesim sweep FLAGS --out OUT SCENARIO` fails with exit code 2 and `words` in its error.
fn assert_sweep_refused(words: &str, flags: &[&str], out: &Path, scenario: &Path) {
    let mut args = vec!["sweep"];
    args.extend_from_slice(flags);
    args.push("--out");
    assert_rejected(words, &pipesim_at_root(&args, &[out, scenario]), &[words]);
}

/// `pipesim merge` refuses parts of different sweeps, missing parts, a part given twice, a part
/// of another pipesim version and files that are not parts, and writes nothing.
fn bad_merges_are_refused(dir: &Path) {
    let a = dir.join("a");
    std::fs::create_dir_all(&a).unwrap();
    let sa = scenario(&a, "10s", "[sweep]\nseeds = 2\n");
    ok(&pipesim_at_root(&["sweep", "--partition", "slice:1/2", "--out"], &[&a, &sa]));
    let b = dir.join("b");
    std::fs::create_dir_all(&b).unwrap();
    let sb = scenario(&b, "11s", "[sweep]\nseeds = 2\n");
    ok(&pipesim_at_root(&["sweep", "--partition", "slice:2/2", "--out"], &[&b, &sb]));
    let (pa, pb) = (a.join("sweep-part-slice-1-of-2.json"), b.join("sweep-part-slice-2-of-2.json"));
    let merged = dir.join("merged");
    let text = std::fs::read_to_string(&pa)
        .unwrap()
        .replace("\"pipesim_version\": \"", "\"pipesim_version\": \"9.");
    let older = dir.join("older.json");
    std::fs::write(&older, text).unwrap();
    let not_a_part = root().join("reports/quickstart/report.json");
    let cases: [(&str, &[&Path]); 5] = [
        ("another sweep", &[&pa, &pb]),
        ("in no part", &[&pa]),
        ("is in both", &[&pa, &pa]),
        ("pipesim 9.", &[&older, &pa]),
        ("not a sweep part", &[&not_a_part]),
    ];
    for (words, parts) in cases {
        let mut paths = vec![merged.as_path()];
        paths.extend_from_slice(parts);
        assert_rejected(words, &pipesim_at_root(&["merge", "--out"], &paths), &[words]);
    }
    assert!(!merged.exists());
}
