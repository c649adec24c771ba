//! Where faults come from besides `[[fault]]` tables: random faults drawn from the seed
//! (`[faults.random]`) and fault traces (`[faults] trace`), through the real binary.

use crate::support::*;
use serde_json::Value;
use std::process::Output;

/// Two designs sharing the roles `store` and `network`.
const BASE: &str = r#"name = "f"
duration = "6s"
warmup = "1s"
drain = "5s"
[workload]
arrivals = { process = "poisson", rate = "2k/s" }
keys = { count = 200 }
[[model]]
name = "pg"
kind = "baseline"
[[model]]
name = "lua"
kind = "lua_ordered"
"#;

const RANDOM: &str =
    "[faults.random]\ncount = 5\nat = [\"1s\", \"5s\"]\nduration = [\"200ms\", \"800ms\"]\n";

/// Runs `text` with `seed`; returns the report and stdout.
fn run(text: &str, seed: &str) -> (Value, String) {
    let tmp = scratch(text);
    let o = pipesim(tmp.path(), &["run", "s.toml", "--out", "out", "--seed", seed, "--jobs", "1"]);
    let stdout = ok(&o);
    (read_json(&tmp.path().join("out/report.json")), stdout)
}

#[test]
fn one_seed_draws_the_same_faults_twice_and_another_seed_others() {
    let text = format!("{BASE}{RANDOM}");
    let (a, out_a) = run(&text, "7");
    let (b, _) = run(&text, "7");
    let (c, _) = run(&text, "8");
    let faults = |r: &Value| r["models"][0]["faults"].clone();
    assert_eq!(faults(&a).as_array().unwrap().len(), 5);
    assert_eq!(faults(&a), faults(&b));
    assert_eq!(a["random_fault_mix"], b["random_fault_mix"]);
    assert_ne!(faults(&a), faults(&c), "seed 8 drew the same timeline as seed 7");
    // Every model faces the same timeline (a rolling restart's end may differ per model).
    for (f0, f1) in
        faults(&a).as_array().unwrap().iter().zip(a["models"][1]["faults"].as_array().unwrap())
    {
        assert_eq!(f0["kind"], f1["kind"]);
        assert_eq!(f0["start_s"], f1["start_s"]);
    }
    // Drawn within the bounds, and in start-time order.
    let starts: Vec<f64> =
        faults(&a).as_array().unwrap().iter().map(|f| f["start_s"].as_f64().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
    assert!(starts.iter().all(|&s| (1.0..5.0).contains(&s)), "{starts:?}");
    // The mix and the timeline are printed with the seed.
    let mix: Vec<&str> =
        a["random_fault_mix"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    assert!(
        out_a.contains(&format!("fault timeline (seed 7, random mix: {})", mix.join(", "))),
        "{out_a}"
    );
    for f in faults(&a).as_array().unwrap() {
        assert!(mix.contains(&f["kind"].as_str().unwrap()), "{f} is not in the mix {mix:?}");
    }
}

#[test]
fn the_mix_itself_varies_with_the_seed() {
    // Swarm testing: across seeds, the set of kinds differs (not every kind every time).
    let text = format!("{BASE}{RANDOM}");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.toml"), &text).unwrap();
    let mut mixes = std::collections::BTreeSet::new();
    for seed in 1..=12 {
        let o = pipesim(tmp.path(), &["validate", "s.toml", "--seed", &seed.to_string()]);
        ok(&o);
        let o = pipesim(
            tmp.path(),
            &["run", "s.toml", "--out", "o", "--seed", &seed.to_string(), "--models", "pg"],
        );
        ok(&o);
        let r = read_json(&tmp.path().join("o/report.json"));
        mixes.insert(r["random_fault_mix"].to_string());
    }
    assert!(mixes.len() >= 4, "only {} distinct mixes in 12 seeds: {mixes:?}", mixes.len());
}

#[test]
fn bad_random_bounds_are_refused() {
    let cases = [
        ("[faults.random]\ncount = 0\n", "faults.random.count: must be between 1 and 1000"),
        (
            "[faults.random]\nkinds = [\"crsh\"]\n",
            "unknown fault kind `crsh` (did you mean `crash`?)",
        ),
        (
            "[faults.random]\ntargets = [\"log\"]\n",
            "`log` is not a role of every model; the roles they share: store, network",
        ),
        ("[faults.random]\nat = [\"4s\", \"2s\"]\n", "faults.random.at: the start range must be"),
        ("[faults.random]\nat = [\"1s\", \"9s\"]\n", "within the arrivals (0s to 6s)"),
        (
            "[faults.random]\nduration = [\"2s\", \"1s\"]\n",
            "faults.random.duration: the window range",
        ),
        (
            "[faults.random]\nkinds = [\"schema_flood\"]\n",
            "faults.random.kinds: no kind among schema_flood can hit a target",
        ),
        ("[faults.random]\ncont = 3\n", "cont"),
    ];
    for (table, want) in cases {
        let tmp = scratch(&format!("{BASE}{table}"));
        assert_rejected_in(table, tmp.path(), &["run", "s.toml", "--out", "out"], &[want]);
    }
}

/// `BASE` with a fault trace `name` holding `content`; returns the run's output and folder.
fn with_trace(name: &str, content: &[u8], extra: &str) -> (Output, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join(name), content).unwrap();
    let text = format!("{BASE}[faults]\ntrace = \"{name}\"\n{extra}");
    std::fs::write(tmp.path().join("s.toml"), text).unwrap();
    let o = pipesim(tmp.path(), &["run", "s.toml", "--out", "out", "--seed", "3"]);
    (o, tmp)
}

#[test]
fn fault_traces_in_csv_and_json_lines_equal_the_same_fault_tables() {
    let tables = "[[fault]]\nkind = \"crash\"\ntarget = \"store\"\nat = \"1500ms\"\nduration = \"300ms\"\n[[fault]]\nkind = \"latency_spike\"\ntarget = \"network\"\nat = \"2s\"\nduration = \"1s\"\nextra = \"20ms\"\n[[fault]]\nkind = \"partition\"\ntarget = \"network\"\nat = \"3s\"\nduration = \"500ms\"\ndirection = \"responses\"\n";
    let (from_tables, _) = run(&format!("{BASE}{tables}"), "3");
    let csv = "# a comment\nkind,target,at,duration,extra,direction\ncrash,store,1500ms,300ms,,\nlatency_spike,network,2s,1s,20ms,\n\npartition,network,3s,500ms,,responses\n";
    let jsonl = concat!(
        r#"{"kind":"crash","target":"store","at":"1500ms","duration":"300ms"}"#,
        "\n",
        r#"{"kind":"latency_spike","target":"network","at":"2s","duration":"1s","extra":{"dist":"const","value":"20ms"}}"#,
        "\n",
        r#"{"kind":"partition","target":"network","at":"3s","duration":"500ms","direction":"responses"}"#,
        "\n"
    );
    for (name, content) in [("f.csv", csv), ("f.jsonl", jsonl)] {
        let (o, tmp) = with_trace(name, content.as_bytes(), "");
        ok(&o);
        let r = read_json(&tmp.path().join("out/report.json"));
        assert_eq!(
            r["models"], from_tables["models"],
            "{name} differs from the same [[fault]] tables"
        );
    }
}

#[test]
fn bad_fault_traces_name_the_file_and_line() {
    let good = r#"{"kind":"crash","target":"store","at":"1s","duration":"300ms"}"#;
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "f.jsonl",
            format!("{good}\n{{\"kind\":\"crash\",\"target\":\"store\",\"at\":\"1s\"\n"),
            "f.jsonl:2: EOF while parsing",
        ),
        (
            "f.jsonl",
            format!(
                "{good}\n{{\"kind\":\"crash\",\"target\":\"store\",\"at\":\"0.5s\",\"duration\":\"1s\"}}\n"
            ),
            "f.jsonl:2: times out of order: 500ms comes after a fault at 1s",
        ),
        (
            "f.jsonl",
            format!("{good}\n{{\"kind\":\"crash\",\"tar"),
            "f.jsonl:2: the file ends in the middle of a line",
        ),
        (
            "f.jsonl",
            format!(
                "{good}\n{{\"kind\":\"crash\",\"target\":\"log\",\"at\":\"2s\",\"duration\":\"1s\"}}\n"
            ),
            "f.jsonl:2: target: model \"pg\" (baseline) has no role `log`",
        ),
        (
            "f.jsonl",
            "{\"kind\":\"crash\",\"target\":\"store\",\"at\":\"9s\",\"duration\":\"1s\"}\n"
                .to_string(),
            "f.jsonl:1: at: 9s is past the end of the arrivals (6s)",
        ),
        (
            "f.csv",
            "kind,target,at,durration\ncrash,store,1s,1s\n".to_string(),
            "f.csv:1: unknown column `durration` in the header (did you mean `duration`?)",
        ),
        (
            "f.csv",
            "kind,target,at,duration\ncrash,store,1s\n".to_string(),
            "f.csv:2: 3 cells where the header has 4 columns",
        ),
        ("f.txt", good.to_string(), "the format comes from the extension"),
    ];
    for (name, content, want) in cases {
        let (o, tmp) = with_trace(name, content.as_bytes(), "");
        assert_rejected(want, &o, &[want, "faults.trace"]);
        assert!(!tmp.path().join("out").exists());
    }
    // A trace that cannot be read at all.
    let tmp = scratch(&format!("{BASE}[faults]\ntrace = \"none.jsonl\"\n"));
    let o = pipesim(tmp.path(), &["validate", "s.toml"]);
    assert_rejected("no trace", &o, &["none.jsonl: cannot read: no such file"]);
}

#[test]
fn skip_mode_counts_the_lines_it_skipped() {
    let content = "kind,target,at,duration\ncrash,store,1s,300ms\ncrash,store,oops,1s\ncrash,store,2s,300ms\n";
    let (o, tmp) = with_trace("f.csv", content.as_bytes(), "on_error = \"skip\"\n");
    ok(&o);
    let r = read_json(&tmp.path().join("out/report.json"));
    assert_eq!(r["models"][0]["faults"].as_array().unwrap().len(), 2);
    let warnings = r["warnings"].to_string();
    assert!(warnings.contains("fault trace") && warnings.contains("skipped 1 line"), "{warnings}");
    assert!(warnings.contains("line 3"), "{warnings}");
    // Without skip, the same line stops the run and says how to skip it.
    let (o, _) = with_trace("f.csv", content.as_bytes(), "");
    assert_rejected("without skip", &o, &["f.csv:3:", "on_error = \"skip\""]);
}
