//! Bad `event_sourced` parameters, through the real binary: exit code 2, one `error:` line
//! naming the file, line and column and the field's path under `model[0]`, nothing on stdout,
//! no panic, and no report written by `run`.

use crate::support::*;

/// A valid scenario; each case appends lines to the model table or replaces one line. The
/// model table starts on line 5; appended text starts on line 8.
const BASE: &str = r#"name = "t"
duration = "2s"
[workload]
arrivals = { process = "poisson", rate = "1k/s" }
[[model]]
name = "es"
kind = "event_sourced"
"#;

/// `validate` and `run` of `scenario` (plus `args`) both fail with `expected`, and `run`
/// writes nothing.
fn check(what: &str, scenario: &str, args: &[&str], expected: &[&str]) {
    let tmp = scratch(scenario);
    let mut argv = vec!["validate", "s.toml"];
    argv.extend_from_slice(args);
    assert_rejected_errors_in(&format!("{what}: validate"), tmp.path(), &argv, 1, expected);
    let mut argv = vec!["run", "s.toml", "--out", "out", "--quiet"];
    argv.extend_from_slice(args);
    assert_rejected_errors_in(&format!("{what}: run"), tmp.path(), &argv, 1, expected);
}

/// BASE with `extra` appended (starting on line 8).
fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

#[test]
fn zero_partitions() {
    check(
        "partitions = 0",
        &with("[model.log]\npartitions = 0\n"),
        &[],
        &["s.toml:9:14: model[0].log.partitions: must be at least 1", "zero partitions"],
    );
}

#[test]
fn zero_brokers_replicas_and_threads() {
    check(
        "brokers",
        &with("[model.log]\nbrokers = 0\n"),
        &[],
        &["s.toml:9:11: model[0].log.brokers: must be at least 1"],
    );
    check(
        "replication_factor = 0",
        &with("[model.log]\nreplication_factor = 0\n"),
        &[],
        &["s.toml:9:22: model[0].log.replication_factor: must be at least 1"],
    );
    check(
        "io_threads",
        &with("[model.log]\nio_threads = 0\n"),
        &[],
        &["s.toml:9:14: model[0].log.io_threads: must be at least 1"],
    );
}

#[test]
fn replication_factor_above_brokers() {
    check(
        "rf 5 on 3 brokers",
        &with("[model.log]\nreplication_factor = 5\n"),
        &[],
        &[
            "s.toml:9:22: model[0].log.replication_factor: 5 is more than the 3 brokers",
            "each replica needs its own broker",
        ],
    );
    // The default replication factor (3) against fewer brokers: the error points at the table.
    check(
        "2 brokers, default rf",
        &with("[model.log]\nbrokers = 2\n"),
        &[],
        &["s.toml:8:1: model[0].log.replication_factor: 3 is more than the 2 brokers"],
    );
}

#[test]
fn min_insync_above_the_replication_factor() {
    check(
        "min.insync 4 > rf 3",
        &with("[model.log]\nmin_insync_replicas = 4\n"),
        &[],
        &[
            "s.toml:9:23: model[0].log.min_insync_replicas: 4 is above the replication factor (3)",
            "no write with acks = \"all\" could ever succeed",
        ],
    );
    check(
        "min.insync 0",
        &with("[model.log]\nmin_insync_replicas = 0\n"),
        &[],
        &["s.toml:9:23: model[0].log.min_insync_replicas: must be at least 1"],
    );
}

#[test]
fn negative_and_nan_values() {
    check(
        "negative cost",
        &with("[model.processor]\nrecord_cost = \"-2us\"\n"),
        &[],
        &["s.toml:9:15: model[0].processor.record_cost", "cannot be negative"],
    );
    check(
        "negative upsert mean",
        &with(
            "consumer = \"projection\"\n[model.projection]\nupsert = { dist = \"exp\", mean = \"-1ms\" }\n",
        ),
        &[],
        &["s.toml:10:10: model[0].projection.upsert", "cannot be negative"],
    );
    check(
        "NaN poison fraction",
        &with("consumer = \"projection\"\n[model.projection]\npoison = nan\n"),
        &[],
        &[
            "s.toml:10:10: model[0].projection.poison: must be a probability between 0 and 1, found NaN",
        ],
    );
    check(
        "negative drop",
        &with("[model.network]\ndrop = -0.1\n"),
        &[],
        &["s.toml:9:8: model[0].network.drop: must be a probability between 0 and 1, found -0.1"],
    );
    check(
        "NaN read exponent",
        &with("[model.reads]\nrate = \"1k/s\"\nexponent = nan\n"),
        &[],
        &[
            "s.toml:10:12: model[0].reads.exponent: must be a finite number greater than zero, found NaN",
        ],
    );
    check(
        "negative partitions",
        &with("[model.log]\npartitions = -4\n"),
        &[],
        &["s.toml:9:14: model[0].log.partitions", "out of range"],
    );
}

#[test]
fn zero_checkpoint_interval_and_parallelism() {
    check(
        "checkpoint_interval",
        &with("[model.processor]\ncheckpoint_interval = \"0s\"\n"),
        &[],
        &["s.toml:9:23: model[0].processor.checkpoint_interval: must be greater than zero"],
    );
    check(
        "parallelism",
        &with("[model.processor]\nparallelism = 0\n"),
        &[],
        &["s.toml:9:15: model[0].processor.parallelism: must be at least 1"],
    );
}

#[test]
fn producer_settings_kafka_rejects() {
    check(
        "idempotence with acks=1",
        &with("[model.producer]\nacks = \"1\"\n"),
        &[],
        &["s.toml:9:8: model[0].producer.acks: idempotence requires acks = \"all\""],
    );
    check(
        "idempotence with 6 in flight",
        &with("[model.producer]\nmax_in_flight = 6\n"),
        &[],
        &["s.toml:9:17: model[0].producer.max_in_flight: 6 with idempotence", "at most 5"],
    );
    check(
        "zero in flight",
        &with("[model.producer]\nmax_in_flight = 0\n"),
        &[],
        &["s.toml:9:17: model[0].producer.max_in_flight: must be at least 1"],
    );
    check(
        "acks = 2",
        &with("[model.producer]\nacks = 2\n"),
        &[],
        &["s.toml:9:8: model[0].producer.acks", "acks must be 0, 1 or \"all\", found 2"],
    );
    check(
        "delivery timeout too short",
        &with("[model.producer]\ndelivery_timeout = \"10s\"\n"),
        &[],
        &[
            "s.toml:9:20: model[0].producer.delivery_timeout: 10s is below linger + request_timeout (5ms + 30s)",
        ],
    );
}

#[test]
fn projection_and_consumer_domains() {
    check(
        "zero workers",
        &with("consumer = \"projection\"\n[model.projection]\nworkers = 0\n"),
        &[],
        &["s.toml:10:11: model[0].projection.workers: must be at least 1"],
    );
    check(
        "zero batch",
        &with("consumer = \"projection\"\n[model.projection]\nbatch = 0\n"),
        &[],
        &["s.toml:10:9: model[0].projection.batch: must be at least 1"],
    );
    check(
        "always failing",
        &with("consumer = \"projection\"\n[model.projection]\nfail = 1.0\n"),
        &[],
        &["s.toml:10:8: model[0].projection.fail: must be below 1"],
    );
    check(
        "max_poll_records",
        &with("[model.kafka_consumer]\nmax_poll_records = 0\n"),
        &[],
        &["s.toml:9:20: model[0].kafka_consumer.max_poll_records: must be at least 1"],
    );
    check(
        "unknown consumer",
        &with("consumer = \"flink\"\n"),
        &[],
        &["s.toml:8:12: model[0].consumer", "flink", "processor", "projection"],
    );
    check(
        "empty cache",
        &with("[model.cache]\nenabled = true\ncapacity = 0\n"),
        &[],
        &["s.toml:10:12: model[0].cache.capacity: must be at least 1"],
    );
}

#[test]
fn unknown_keys_get_suggestions() {
    check(
        "partitons",
        &with("[model.log]\npartitons = 8\n"),
        &[],
        &[
            "s.toml:9:1: model[0].log.partitons: unknown key `partitons` (did you mean `partitions`?)",
        ],
    );
    check(
        "checkpoint",
        &with("[model.processor]\ncheckpoint = \"30s\"\n"),
        &[],
        &["s.toml:9:1: model[0].processor.checkpoint", "unknown key `checkpoint`"],
    );
}

#[test]
fn a_fault_role_the_design_lacks() {
    check(
        "router",
        &with("[[fault]]\nkind = \"crash\"\ntarget = \"router\"\nat = \"1s\"\nduration = \"1s\"\n"),
        &[],
        &[
            "s.toml:10:10: fault[0].target: model \"es\" (event_sourced) has no role `router`",
            "its roles: network, producer, log, processor, cache, store",
        ],
    );
}

#[test]
fn a_bad_override_names_the_flag() {
    check(
        "--set partitions=0",
        BASE,
        &["--set", "model[0].log.partitions=0"],
        &["model[0].log.partitions: must be at least 1"],
    );
}
