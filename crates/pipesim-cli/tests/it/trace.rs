//! Workload traces through the real binary: `pipesim trace export` writes a scenario's arrivals
//! and faults and a scenario that replays them to identical per-model results; trace files in
//! CSV and JSON lines drive a run; every bad trace gives exit code 2 with the file and line, and
//! no report.

use crate::support::*;
use serde_json::Value;
use std::path::Path;

/// The `models` array of a report.
fn models(path: &Path) -> Value {
    read_json(path)["models"].clone()
}

/// Two designs (two model kinds) with a crash of their store, Zipf keys, a rate spike.
const DESIGNS: &str = r#"name = "designs"
seed = 3
duration = "4s"
warmup = "1s"
drain = "10s"
[workload]
arrivals = { process = "poisson", rate = "3k/s" }
keys = { count = 500, popularity = "zipf", exponent = 0.9 }
payload = "256B"
[[workload.phase]]
at = "2s"
rate = "6k/s"
ramp = "500ms"
[[model]]
name = "pg"
kind = "baseline"
[[model]]
name = "shards"
kind = "sharded"
[[fault]]
kind = "crash"
target = "store"
at = "1500ms"
duration = "700ms"
[faults.random]
count = 2
at = ["1s", "3s"]
duration = ["100ms", "400ms"]
"#;

#[test]
fn exported_trace_replays_to_identical_results() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("s.toml"), DESIGNS).unwrap();
    assert_exit_0(
        "run",
        &pipesim(dir, &["run", "s.toml", "--out", "orig", "--seed", "11", "--quiet"]),
    );
    assert_exit_0(
        "export",
        &pipesim(dir, &["trace", "export", "s.toml", "--out", "exp", "--seed", "11"]),
    );

    let arrivals = std::fs::read_to_string(dir.join("exp/arrivals.csv")).unwrap();
    let mut lines = arrivals.lines();
    assert_eq!(lines.next(), Some("time,key,type,size"));
    let events = lines.count() as u64;
    let orig = models(&dir.join("orig/report.json"));
    // Every event was created by the arrival stream the export wrote (the run's offered count
    // covers the measured interval only, so compare against the full created count instead).
    assert!(events > 10_000, "{events} events");
    // The written crash and the two faults the seed drew, by start time.
    let faults = std::fs::read_to_string(dir.join("exp/faults.jsonl")).unwrap();
    let lines: Vec<&str> = faults.lines().collect();
    assert_eq!(lines.len(), 3, "{faults}");
    let written = r#"{"at":"1.5s","duration":"700ms","kind":"crash","target":"store"}"#;
    assert!(lines.contains(&written), "{faults}");
    assert!(orig[0]["faults"].as_array().unwrap().len() == 3);
    let scenario = std::fs::read_to_string(dir.join("exp/scenario.toml")).unwrap();
    assert!(scenario.contains("process = \"trace\""), "{scenario}");
    assert!(scenario.contains("seed = 11"), "{scenario}");
    assert!(!scenario.contains("phase"), "{scenario}");

    // The replay runs from another folder, with no --seed: the exported scenario carries it.
    assert_exit_0(
        "replay",
        &pipesim(dir, &["run", "exp/scenario.toml", "--out", "replay", "--quiet"]),
    );
    let replay = models(&dir.join("replay/report.json"));
    assert_eq!(orig.as_array().unwrap().len(), 2);
    assert!(orig[0]["invariants"].is_object());
    assert!(orig == replay, "per-model results differ between the run and its replay");
    let r = read_json(&dir.join("replay/report.json"));
    assert_eq!(r["scenario"], "designs-trace");
}

#[test]
fn export_honours_set_and_keeps_data_files_reachable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir(dir.join("data")).unwrap();
    let hgrm = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/examples/measured.hgrm");
    std::fs::copy(hgrm, dir.join("data/measured.hgrm")).unwrap();
    let text = r#"name = "emp"
duration = "3s"
[workload]
arrivals = { process = "bursty", rate = "2k/s", on = "300ms", off = "100ms" }
keys = { count = 50 }
[[model]]
name = "q"
kind = "stations"
[[model.station]]
name = "s"
servers = 4
service = { dist = "empirical", file = "data/measured.hgrm", unit = "us" }
"#;
    std::fs::write(dir.join("s.toml"), text).unwrap();
    let set = ["--set", "workload.arrivals.rate=3k/s", "--set", "model[0].station[0].servers=5"];
    let mut run = vec!["run", "s.toml", "--out", "orig", "--quiet"];
    run.extend(set);
    assert_exit_0("run", &pipesim(dir, &run));
    let mut export = vec!["trace", "export", "s.toml", "--out", "out/exp"];
    export.extend(set);
    assert_exit_0("export", &pipesim(dir, &export));
    assert_exit_0(
        "replay",
        &pipesim(dir, &["run", "out/exp/scenario.toml", "--out", "replay", "--quiet"]),
    );
    let (mut orig, mut replay) =
        (models(&dir.join("orig/report.json")), models(&dir.join("replay/report.json")));
    // The replay names the data file by its absolute path; everything else is identical.
    let file = |m: &mut Value| m[0]["parameters"]["station"][0]["service"]["file"].take();
    assert_eq!(file(&mut orig), "data/measured.hgrm");
    let abs = file(&mut replay);
    assert!(abs.as_str().unwrap().ends_with("data/measured.hgrm"), "{abs}");
    assert!(Path::new(abs.as_str().unwrap()).is_absolute(), "{abs}");
    assert!(orig == replay, "per-model results differ between the run and its replay");
    let faults = std::fs::read_to_string(dir.join("out/exp/faults.jsonl")).unwrap();
    assert_eq!(faults, "");
}

/// A stations scenario over a trace file `file`, with `extra` added to the arrivals table.
fn trace_scenario(file: &str, extra: &str) -> String {
    format!(
        r#"name = "tr"
duration = "1s"
drain = "1s"
[workload]
arrivals = {{ process = "trace", file = "{file}"{extra} }}
keys = {{ count = 10 }}
[[model]]
name = "m"
kind = "stations"
[[model.station]]
name = "s"
servers = 1
service = "1us"
"#
    )
}

#[test]
fn csv_and_json_lines_traces_give_the_same_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let csv = "time,key,type,size\n0,1,click,100\n1000,2,view,200B\n1.5ms,1,,\n\"2ms\",3,\"a, b\",1KiB\n999999999,9,x,1\n1s,1,late,1\n5s,1,late,1\n";
    let jsonl = concat!(
        "{\"time\": 0, \"key\": 1, \"type\": \"click\", \"size\": 100}\n",
        "{\"time\": \"1us\", \"key\": 2, \"type\": \"view\", \"size\": \"200B\"}\n",
        "{\"time\": \"1.5ms\", \"key\": 1}\n",
        "{\"time\": \"2ms\", \"key\": 3, \"type\": \"a, b\", \"size\": \"1KiB\"}\n",
        "{\"time\": 999999999, \"key\": 9, \"type\": \"x\", \"size\": 1}\n",
        "{\"time\": \"1s\", \"key\": 1, \"type\": \"late\"}\n",
    );
    std::fs::write(dir.join("events.csv"), csv).unwrap();
    std::fs::write(dir.join("events.jsonl"), jsonl).unwrap();
    std::fs::write(dir.join("c.toml"), trace_scenario("events.csv", "")).unwrap();
    std::fs::write(dir.join("j.toml"), trace_scenario("events.jsonl", "")).unwrap();
    assert_exit_0("csv", &pipesim(dir, &["run", "c.toml", "--out", "c", "--quiet"]));
    assert_exit_0("jsonl", &pipesim(dir, &["run", "j.toml", "--out", "j", "--quiet"]));
    let c = models(&dir.join("c/report.json"));
    // Five events before the 1 s duration; the ones at 1 s and later are not replayed.
    assert_eq!(c[0]["throughput"]["offered"], 5, "{c}");
    assert_eq!(c[0]["latency"]["e2e"]["count"], 5, "{c}");
    assert_eq!(c, models(&dir.join("j/report.json")));
}

#[test]
fn skip_mode_counts_skipped_lines_in_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let csv = "time,key,type,size\n1,1,a,1\nnot a record\n2,99,a,1\n3,2,a,1\n";
    std::fs::write(dir.join("events.csv"), csv).unwrap();
    std::fs::write(dir.join("s.toml"), trace_scenario("events.csv", ", on_error = \"skip\""))
        .unwrap();
    let out = pipesim(dir, &["run", "s.toml", "--out", "r", "--quiet"]);
    assert_exit_0("skip", &out);
    let r = read_json(&dir.join("r/report.json"));
    assert_eq!(r["models"][0]["throughput"]["offered"], 2, "{r}");
    let warnings = r["warnings"].to_string();
    assert!(warnings.contains("skipped 2 lines"), "{warnings}");
    assert!(warnings.contains("line 3:") && warnings.contains("line 4:"), "{warnings}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped 2 lines"));
}

/// `pipesim run`, `validate` and `trace export` over a trace `content` (None: no file) are all
/// rejected ([`assert_rejected_in`]) with every expected substring on stderr, and write
/// nothing (no report, no export).
fn check_bad(what: &str, file: &str, content: Option<&[u8]>, extra: &str, expected: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    if let Some(c) = content {
        std::fs::write(dir.join(file), c).unwrap();
    }
    std::fs::write(dir.join("s.toml"), trace_scenario(file, extra)).unwrap();
    for args in [
        &["run", "s.toml", "--out", "out"][..],
        &["validate", "s.toml"][..],
        &["trace", "export", "s.toml", "--out", "exp"][..],
    ] {
        let err = assert_rejected_in(what, dir, args, expected);
        // Beyond FORBIDDEN: no mention of a backtrace in any spelling.
        assert!(!err.to_lowercase().contains("backtrace"), "{what}: {args:?}: {err}");
    }
}

#[test]
fn a_line_that_does_not_parse_names_file_and_line() {
    check_bad(
        "bad time",
        "events.csv",
        Some(b"time,key,type,size\n1,1,a,1\nsoon,1,a,1\n"),
        "",
        &["s.toml:5:", "workload.arrivals.file", "events.csv:3: time:", "on_error = \"skip\""],
    );
    check_bad(
        "key out of range",
        "events.csv",
        Some(b"time,key\n1,1\n2,10\n"),
        "",
        &["events.csv:3: key 10 is not below keys.count (10)"],
    );
    check_bad(
        "missing column",
        "events.csv",
        Some(b"time,key,type,size\n1,1,a\n"),
        "",
        &["events.csv:2: expected 4 fields"],
    );
    check_bad(
        "bad header",
        "events.csv",
        Some(b"tme,key\n1,1\n"),
        "",
        &["events.csv:1: the header names an unknown column `tme`"],
    );
    check_bad(
        "bad json",
        "events.jsonl",
        Some(b"{\"time\": 1, \"key\": 1}\n{\"time\": 2, \"key\": 1\n"),
        "",
        &["events.jsonl:2: not a JSON object"],
    );
    check_bad(
        "unknown json field",
        "events.ndjson",
        Some(b"{\"time\": 1, \"kee\": 1}\n"),
        "",
        &["events.ndjson:1: unknown field `kee`"],
    );
}

#[test]
fn times_out_of_order_name_the_line() {
    check_bad(
        "out of order",
        "events.csv",
        Some(b"time,key\n1ms,1\n2ms,1\n1500us,2\n"),
        ", on_error = \"skip\"",
        &["events.csv:4: time 1500000 ns is before the previous event's (2000000 ns, line 3)"],
    );
}

#[test]
fn a_trace_cut_mid_record_is_an_error() {
    check_bad(
        "truncated",
        "events.csv",
        Some(b"time,key,type,size\n1,1,a,1\n2,1,a,1\n3,1,a"),
        ", on_error = \"skip\"",
        &["events.csv:4: the file ends in the middle of a record", "cut short"],
    );
    check_bad(
        "truncated json",
        "events.jsonl",
        Some(b"{\"time\": 1, \"key\": 1}\n{\"time\": 2, \"ke"),
        "",
        &["events.jsonl:2: the file ends in the middle of a record"],
    );
}

#[test]
fn missing_unreadable_or_unsuitable_files_are_errors() {
    check_bad(
        "missing",
        "events.csv",
        None,
        "",
        &["events.csv: cannot read the trace: no such file"],
    );
    check_bad("empty", "events.csv", Some(b""), "", &["events.csv: is empty"]);
    check_bad(
        "no events before the duration",
        "events.csv",
        Some(b"time,key\n2s,1\n"),
        "",
        &["has no event before the end of arrivals (1s)"],
    );
    check_bad(
        "unknown extension",
        "events.txt",
        Some(b"time,key\n1,1\n"),
        "",
        &["workload.arrivals.file", "the format comes from the extension"],
    );
    check_bad(
        "not utf-8",
        "events.csv",
        Some(b"time,key\n1,\xff\n"),
        "",
        &["events.csv:2: not UTF-8"],
    );
}

#[test]
fn what_does_not_apply_to_a_trace_is_refused() {
    let csv: &[u8] = b"time,key\n1,1\n";
    check_bad(
        "rate",
        "events.csv",
        Some(csv),
        ", rate = \"1k/s\"",
        &["workload.arrivals.rate: a trace sets its own arrival times"],
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("events.csv"), csv).unwrap();
    let text = trace_scenario("events.csv", "")
        .replace("[[model]]", "[[workload.phase]]\nat = \"500ms\"\nrate = \"2k/s\"\n[[model]]");
    std::fs::write(dir.join("s.toml"), text).unwrap();
    let out = pipesim(dir, &["validate", "s.toml"]);
    assert_rejected(
        "rate phases",
        &out,
        &["workload.phase[0]: rate phases do not apply to a trace"],
    );
    let text = trace_scenario("events.csv", "").replace(
        "\"trace\", file = \"events.csv\"",
        "\"poisson\", rate = \"1k/s\", on_error = \"skip\"",
    );
    std::fs::write(dir.join("s.toml"), text).unwrap();
    let out = pipesim(dir, &["validate", "s.toml"]);
    assert_rejected("on_error", &out, &["`file` and `on_error` apply only to process = \"trace\""]);
}
