//! Files pipesim reads back and must not trust (issue 12): sweep parts given to `merge`, reports
//! given to `compare`, baselines given to `gate`. Every tampered file is exit 2 naming it, and
//! nothing is written.

use crate::support::*;
use serde_json::Value;

const SWEPT: &str = r#"name = "sw"
duration = "2s"
[workload]
arrivals = { process = "poisson", rate = "500/s" }
keys = { count = 100 }
[[model]]
name = "a"
kind = "stations"
[[model.station]]
name = "s"
service = { dist = "exp", mean = "0.5ms" }
[[model]]
name = "b"
kind = "stations"
[[model.station]]
name = "s"
service = { dist = "exp", mean = "1ms" }
[sweep]
seeds = 2
"workload.rate" = ["200/s", "400/s"]
"#;

/// FNV-1a, as the part's checksum uses it.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

/// The part's checksum computed again from the file's own fields, as a tamperer could.
fn reseal(part: &mut Value) {
    let body =
        serde_json::to_string(&serde_json::json!([part["models"], part["labels"], part["points"]]))
            .unwrap();
    let fingerprint = part["meta"]["fingerprint"].as_str().unwrap().to_string();
    part["checksum"] =
        Value::from(format!("{:016x}", fnv1a(format!("{fingerprint}\n{body}").as_bytes())));
}

/// A tampering with a sweep part.
type Edit = fn(&mut Value);

/// Tamperings with what a part claims, each with what `merge` must then say about it.
const PART_EDITS: [(&str, Edit, &str); 7] = [
    ("models emptied", |p| p["points"][0]["models"] = Value::Array(vec![]), "holds models"),
    (
        "part's models emptied",
        |p| {
            p["models"] = Value::Array(vec![]);
            for pt in p["points"].as_array_mut().unwrap() {
                pt["models"] = Value::Array(vec![]);
            }
        },
        "lists no model",
    ),
    (
        "a model renamed",
        |p| p["points"][0]["models"][1]["name"] = Value::from("c"),
        "holds models a, c",
    ),
    (
        "a model duplicated",
        |p| {
            let a = p["points"][0]["models"][0].clone();
            p["points"][0]["models"][1] = a;
        },
        "holds models a, a",
    ),
    (
        "a negative metric",
        |p| p["points"][0]["models"][0]["metrics"]["lost"] = Value::from(-3.0),
        "lost is -3",
    ),
    (
        "a corrupted histogram",
        |p| p["points"][0]["models"][0]["e2e_histogram"] = Value::from("AAAA"),
        "e2e histogram",
    ),
    ("a seed changed", |p| p["points"][0]["seed"] = Value::from(12345), "seed"),
];

/// The first part of [`SWEPT`], as `parts/` holds it in the test's folder.
const PART_1: &str = "parts/sweep-part-slice-1-of-2.json";

/// `merge` of the two parts into `bad`.
const MERGE_INTO_BAD: [&str; 5] =
    ["merge", PART_1, "parts/sweep-part-slice-2-of-2.json", "--out", "bad"];

#[test]
fn merge_checks_every_part_against_what_it_claims() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let original = two_parts_that_merge(dir);
    for (what, edit, want) in PART_EDITS {
        let mut part = original.clone();
        edit(&mut part);
        // Unsealed: the checksum gives it away.
        std::fs::write(dir.join(PART_1), serde_json::to_string(&part).unwrap()).unwrap();
        assert_rejected(
            what,
            &pipesim(dir, &MERGE_INTO_BAD),
            &["sweep-part-slice-1-of-2.json", "checksum"],
        );
        // Resealed: the check of what it claims gives it away.
        reseal(&mut part);
        std::fs::write(dir.join(PART_1), serde_json::to_string(&part).unwrap()).unwrap();
        assert_rejected(
            what,
            &pipesim(dir, &MERGE_INTO_BAD),
            &["sweep-part-slice-1-of-2.json", want],
        );
        assert!(!dir.join("bad").exists(), "{what}: merge wrote");
    }
    // A part that holds one point fewer than its partition takes.
    let mut part = original;
    part["points"].as_array_mut().unwrap().pop();
    reseal(&mut part);
    std::fs::write(dir.join(PART_1), serde_json::to_string(&part).unwrap()).unwrap();
    assert_rejected("a point removed", &pipesim(dir, &MERGE_INTO_BAD), &["partition slice:1/2"]);
}

/// Runs [`SWEPT`] in two slices into `dir/parts` and checks that the parts merge as they are;
/// returns the first part as written.
fn two_parts_that_merge(dir: &std::path::Path) -> Value {
    std::fs::write(dir.join("s.toml"), SWEPT).unwrap();
    for m in ["1", "2"] {
        let part = format!("slice:{m}/2");
        let o =
            pipesim(dir, &["sweep", "s.toml", "--partition", &part, "--out", "parts", "--quiet"]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let original: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(PART_1)).unwrap()).unwrap();
    let o = pipesim(
        dir,
        &[
            "merge",
            "parts/sweep-part-slice-1-of-2.json",
            "parts/sweep-part-slice-2-of-2.json",
            "--out",
            "whole",
            "--quiet",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    original
}

#[test]
fn compare_refuses_reports_no_run_can_write() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("s.toml"), SWEPT.split("[sweep]").next().unwrap()).unwrap();
    let o = pipesim(dir, &["run", "s.toml", "--out", "r", "--quiet"]);
    assert_eq!(o.status.code(), Some(0));
    let good: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("r/report.json")).unwrap()).unwrap();
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit, &str); 3] = [
        (
            "a negative latency",
            |r| r["models"][0]["latency"]["e2e"]["p99_ms"] = Value::from(-1.0),
            "latency.e2e.p99_ms is -1",
        ),
        ("a window of 0 s", |r| r["window_s"] = Value::from(0.0), "window_s is 0"),
        (
            "a fault ending before it starts",
            |r| {
                r["models"][0]["faults"] = serde_json::json!([{"kind": "crash", "target": "store", "start_s": 2.0, "end_s": 1.0}]);
            },
            "before its start",
        ),
    ];
    for (what, edit, want) in cases {
        let mut r = good.clone();
        edit(&mut r);
        std::fs::write(dir.join("bad.json"), serde_json::to_string(&r).unwrap()).unwrap();
        assert_rejected(what, &pipesim(dir, &["compare", "r", "bad.json"]), &["bad.json", want]);
    }
}

#[test]
fn gate_refuses_a_baseline_of_another_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let text = SWEPT.split("[sweep]").next().unwrap();
    std::fs::write(dir.join("s.toml"), text).unwrap();
    let o = pipesim(dir, &["gate", "s.toml", "--baseline", "base", "--bless", "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let o = pipesim(dir, &["gate", "s.toml", "--baseline", "base", "--seed", "7"]);
    assert_rejected("another seed", &o, &["base/sw/report.json", "seed 0 in the baseline, 7 here"]);
    std::fs::write(dir.join("s.toml"), text.replace("name = \"b\"", "name = \"c\"")).unwrap();
    let o = pipesim(dir, &["gate", "s.toml", "--baseline", "base"]);
    assert_rejected("other models", &o, &["models a (stations), b (stations) in the baseline"]);
}
