//! Bad input to the `cached` kind, through the real binary: every value outside its domain
//! gets exit code 2 and one `error:` line naming the file, line and column, the field's dotted
//! path within the scenario (`model[1].cache.ring`: the second model, the cached one) and what is
//! wrong; never a panic, nothing on stdout, and nothing written.
//!
//! Each scenario is [`BASE`] (a baseline model, then a cached one at `model[1]`) with lines
//! appended; the first appended line is line 11, so a section header there puts its first key on
//! line 12.

use crate::support::*;

const BASE: &str = r#"name = "t"
duration = "10s"
[workload]
arrivals = { process = "poisson", rate = "1k/s" }
[[model]]
name = "pg"
kind = "baseline"
[[model]]
name = "cache"
kind = "cached"
"#;

/// `pipesim validate` and `pipesim run` of `scenario` (plus `args`) both fail with exit code
/// 2 and one error holding every `expected` substring; nothing is written.
fn check(name: &str, scenario: &str, args: &[&str], expected: &[&str]) {
    for command in ["validate", "run"] {
        let tmp = scratch(scenario);
        let mut argv = vec![command, "s.toml"];
        if command == "run" {
            argv.extend(["--out", "out"]);
        }
        argv.extend_from_slice(args);
        assert_rejected_errors_in(name, tmp.path(), &argv, 1, expected);
    }
}

/// [`BASE`] with `lines` appended.
fn with(lines: &str) -> String {
    format!("{BASE}{lines}\n")
}

#[test]
fn a_ring_buffer_of_zero() {
    check(
        "ring = 0",
        &with("[model.cache]\nring = 0"),
        &[],
        &["s.toml:12:8: model[1].cache.ring: must be at least 1", "12 | ring = 0"],
    );
}

#[test]
fn a_negative_ring_buffer() {
    check(
        "ring = -3",
        &with("[model.cache]\nring = -3"),
        &[],
        &["s.toml:12:8: model[1].cache.ring: -3 is out of range"],
    );
}

#[test]
fn zero_partitions() {
    check(
        "partitions = 0",
        &with("[model.topic]\npartitions = 0"),
        &[],
        &["s.toml:12:14: model[1].topic.partitions: must be at least 1"],
    );
}

#[test]
fn zero_entities_consumers_threads_and_connections() {
    for (section, key) in [
        ("cache", "entities"),
        ("cache", "consumers"),
        ("cache", "threads"),
        ("writer", "connections"),
        ("pool", "size"),
    ] {
        let col = key.len() + 4;
        check(
            key,
            &with(&format!("[model.{section}]\n{key} = 0")),
            &[],
            &[&format!("s.toml:12:{col}: model[1].{section}.{key}: must be at least 1")],
        );
    }
}

#[test]
fn negative_costs() {
    for (section, key) in [
        ("cdc", "decode"),
        ("cache", "apply"),
        ("cache", "read_entity"),
        ("cache", "read_request"),
        ("cache", "update_lag"),
        ("topic", "delivery"),
    ] {
        let col = key.len() + 4;
        check(
            key,
            &with(&format!("[model.{section}]\n{key} = \"-20us\"")),
            &[],
            &[&format!(
                "s.toml:12:{col}: model[1].{section}.{key}: a duration cannot be negative: \"-20us\""
            )],
        );
    }
}

#[test]
fn nan_costs_and_probabilities() {
    check(
        "pareto decode with a NaN shape",
        &with("[model.cdc]\ndecode = { dist = \"pareto\", scale = \"1ms\", shape = nan }"),
        &[],
        &["s.toml:12:10: model[1].cdc.decode: `shape` must be a finite number, found NaN"],
    );
    check(
        "leak = nan",
        &with("[model.pool]\nleak = nan"),
        &[],
        &["s.toml:12:8: model[1].pool.leak: must be a probability between 0 and 1, found NaN"],
    );
    check(
        "apply with a zero mean",
        &with("[model.cache]\napply = { dist = \"exp\", mean = \"0s\" }"),
        &[],
        &["s.toml:12:9: model[1].cache.apply: `mean` must be greater than zero"],
    );
}

#[test]
fn zero_intervals() {
    for (section, key) in
        [("cdc", "offset_flush"), ("cache", "commit_interval"), ("writer", "retry_backoff")]
    {
        let col = key.len() + 4;
        check(
            key,
            &with(&format!("[model.{section}]\n{key} = \"0s\"")),
            &[],
            &[&format!("s.toml:12:{col}: model[1].{section}.{key}: must be greater than zero")],
        );
    }
}

#[test]
fn settings_the_kind_does_not_support() {
    check(
        "synchronous_commit = off",
        &with("[model.store]\nsynchronous_commit = \"off\""),
        &[],
        &[
            "s.toml:12:22: model[1].store.synchronous_commit: \"off\" is not supported by the cached kind",
            "use \"local\" or \"on\"",
        ],
    );
    check(
        "network.drop",
        &with("[model.network]\ndrop = 0.1"),
        &[],
        &[
            "s.toml:12:8: model[1].network.drop: must be 0 for the cached kind",
            "`network` crash fault",
        ],
    );
}

#[test]
fn wrong_types_and_unknown_keys() {
    check(
        "dedup = \"yes\"",
        &with("[model.cache]\ndedup = \"yes\""),
        &[],
        &["s.toml:12:9: model[1].cache.dedup: expected true or false, found the string \"yes\""],
    );
    check(
        "rng",
        &with("[model.cache]\nrng = 5"),
        &[],
        &["s.toml:12:1: model[1].cache.rng: unknown key `rng` (did you mean `ring`?)"],
    );
    check(
        "a misspelt section",
        &with("[model.cdcc]\ndecode = \"1ms\""),
        &[],
        &["model[1].cdcc: unknown key `cdcc` (did you mean `cdc`?)"],
    );
}

#[test]
fn overrides_are_checked_the_same_way() {
    check(
        "--set ring=0",
        BASE,
        &["--set", "model[1].cache.ring=0"],
        &["s.toml: --set model[1].cache.ring=0: model[1].cache.ring: must be at least 1"],
    );
}

#[test]
fn a_fault_role_the_kind_lacks() {
    let only_cached = BASE.replace("[[model]]\nname = \"pg\"\nkind = \"baseline\"\n", "");
    check(
        "target = processor",
        &format!(
            "{only_cached}[[fault]]\nkind = \"crash\"\ntarget = \"processor\"\nat = \"1s\"\nduration = \"1s\"\n"
        ),
        &[],
        &[
            "fault[0].target: model \"cache\" (cached) has no role `processor`",
            "its roles: network, store, log, cache",
        ],
    );
}
