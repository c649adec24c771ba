//! `wire_log` (a replicated log as real services on turmoil) against its DES counterpart,
//! `event_sourced` with a projection:
//!
//! - statistically, without faults (`scenarios/wire/log_crosscheck.toml`): over 10 seeds the
//!   difference of the end-to-end mean and p99, the acknowledgement mean and p99, and the
//!   throughput lies within the seeds' 95 % interval of that difference around the bias the
//!   wire backend's rounding predicts (a Lindley recursion of the projection's queue with the
//!   wire's rounding rules, below); `PIPESIM_LONG_VALIDATION=1` runs 30 seeds of 60 s;
//! - by mechanism, each in both backends side by side: acks=1 loses on a leader crash and
//!   acks=all does not (`log.toml`); a crash loses what was not fsynced, an fsync per record
//!   loses nothing (`log_unsynced.toml`); an idempotent producer's retry is appended once, a
//!   plain one's twice (`log_idempotence.toml`);
//! - a wire run is byte-identical when repeated, and another seed differs;
//! - bad parameters are refused with exit code 2 naming the field.

use crate::support::*;
use pipesim_cli::default_registry;
use pipesim_cli::runner::{render, run_scenario};
use pipesim_engine::{Dist, RngStreams};
use pipesim_scenario::{LoadOptions, Override, load};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn scenario_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/wire").join(name)
}

/// Runs `scenarios/wire/<name>` with `seed` and `--set` flags; returns report.json.
fn run(name: &str, seed: u64, sets: &[String]) -> Value {
    let overrides = sets.iter().map(|s| Override::parse(s).expect("a valid --set")).collect();
    let opts = LoadOptions {
        registry: default_registry(),
        seed: Some(seed),
        overrides,
        ..Default::default()
    };
    let s = load(&scenario_path(name), &opts).unwrap_or_else(|e| panic!("{e}"));
    let run = run_scenario(&s, None).unwrap_or_else(|e| panic!("{e:?}"));
    serde_json::from_str(&render(&s, &run, "test").json).expect("report.json parses")
}

fn model<'a>(report: &'a Value, name: &str) -> &'a Value {
    let models = report["models"].as_array().expect("models");
    models.iter().find(|m| m["name"] == name).unwrap_or_else(|| panic!("no model {name}"))
}

fn num(m: &Value, path: &str) -> f64 {
    let v = path.split('.').fold(m, |v, p| &v[p]);
    v.as_f64().unwrap_or_else(|| panic!("{path} is not a number: {v}"))
}

/// Student's t for a two-sided 95 % interval with `n - 1` degrees of freedom.
fn t95(n: usize) -> f64 {
    match n {
        0..=9 => panic!("at least 10 seeds"),
        10 => 2.262,
        11..=19 => 2.2,
        20..=29 => 2.09,
        _ => 2.045,
    }
}

fn mean_and_half_width(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, t95(xs.len()) * (var / n).sqrt())
}

// -----------------------------------------------------------------------------------------
// The rounding bias, predicted

/// The cross-check scenario's figures (scenarios/wire/log_crosscheck.toml and the kinds'
/// defaults), in ns.
const RATE_PER_NS: f64 = 400.0 / 1e9;
const HOP_NS: u64 = 100_000;
/// `log.request` (50 us) plus 512 B at `log.append_bandwidth` (1 GB/s).
const REQUEST_NS: u64 = 50_512;
/// The wire resolves times to `wire.tick` / `wire.dilation` = 1 ms / 10.
const RES_NS: u64 = 100_000;

fn ceil_to(x: u64, grid: u64) -> u64 {
    x.div_ceil(grid) * grid
}

/// The end-to-end mean and p99 (ms) of the cross-check's path by Lindley's recursion: an event
/// created at `c` reaches the projection's one worker after the producer's hop, the leader's
/// request handling, the follower's fetch round trip and the consumer's fetch answer, and waits
/// there (FIFO) for its statement (`projection.upsert`, lognormal p50 0.8 ms, p99 2.5 ms).
/// `rounded` applies the wire's rules: the producer sends at the next grid point after `c`, and
/// every sleep (the request's handling, a statement) started on a grid point ends on the next
/// grid point at or after its end; hops are whole grid steps already.
fn lindley(rounded: bool) -> (f64, f64) {
    let upsert = Dist::lognormal_from_p50_p99(800_000.0, 2_500_000.0);
    let mut rng = RngStreams::new(2024).stream("lindley");
    let n = 400_000;
    let (mut created, mut free) = (0.0f64, 0u64);
    let mut e2e = Vec::with_capacity(n);
    for _ in 0..n {
        created += rng.exp1() / RATE_PER_NS;
        let c = created as u64;
        let s = upsert.sample(&mut rng);
        let (arrive, service) = if rounded {
            let sent = ceil_to(c, RES_NS);
            (sent + HOP_NS + ceil_to(REQUEST_NS, RES_NS) + 3 * HOP_NS, ceil_to(s, RES_NS))
        } else {
            (c + HOP_NS + REQUEST_NS + 3 * HOP_NS, s)
        };
        free = arrive.max(free) + service;
        e2e.push(free - c);
    }
    e2e.sort_unstable();
    let mean = e2e.iter().sum::<u64>() as f64 / n as f64;
    (mean / 1e6, e2e[n * 99 / 100] as f64 / 1e6)
}

/// The acknowledgement's bias (ms): the send's rounding, U(0, res), and the request's,
/// `ceil(request) - request`; every hop is exact. The p99 of U(0, res) is 0.99 res.
fn ack_bias() -> (f64, f64) {
    let request = (ceil_to(REQUEST_NS, RES_NS) - REQUEST_NS) as f64;
    let res = RES_NS as f64;
    ((request + res / 2.0) / 1e6, (request + 0.99 * res) / 1e6)
}

#[test]
fn the_rounding_model_predicts_what_it_should() {
    // Without rounding the recursion is an M/G/1 queue: Pollaczek-Khinchine gives the mean.
    let (mean, _) = lindley(false);
    let s = Dist::lognormal_from_p50_p99(800_000.0, 2_500_000.0);
    let (es, es2) = (s.mean_ns(), {
        let sigma = (2.5f64 / 0.8).ln() / 2.326_347_874;
        (0.8e6f64).powi(2) * (2.0 * sigma * sigma).exp()
    });
    let rho = RATE_PER_NS * es;
    let pk_ms =
        (4.0 * HOP_NS as f64 + REQUEST_NS as f64 + es + RATE_PER_NS * es2 / (2.0 * (1.0 - rho)))
            / 1e6;
    assert!((mean - pk_ms).abs() < 0.01 * pk_ms, "recursion {mean} ms, P-K {pk_ms} ms");
    let (rounded, _) = lindley(true);
    assert!(
        rounded - mean > 0.15,
        "rounding adds at least the send's, the request's and the statement's halves"
    );
}

// -----------------------------------------------------------------------------------------
// The statistical cross-check

struct Sample {
    e2e_mean: f64,
    e2e_p99: f64,
    ack_mean: f64,
    ack_p99: f64,
    throughput: f64,
}

fn sample(m: &Value) -> Sample {
    Sample {
        e2e_mean: num(m, "latency.e2e.mean_ms"),
        e2e_p99: num(m, "latency.e2e.p99_ms"),
        ack_mean: num(m, "latency.ack.mean_ms"),
        ack_p99: num(m, "latency.ack.p99_ms"),
        throughput: num(m, "throughput.delivered_per_s"),
    }
}

#[test]
fn wire_log_agrees_with_event_sourced_over_ten_seeds() {
    let long = std::env::var("PIPESIM_LONG_VALIDATION").is_ok_and(|v| v == "1");
    let (seeds, sets) = if long { (30, vec!["duration=60s".to_string()]) } else { (10, vec![]) };
    let mut pairs = Vec::new();
    for seed in 1..=seeds {
        let report = run("log_crosscheck.toml", seed, &sets);
        let (des, wire) = (model(&report, "des"), model(&report, "wire"));
        for m in [des, wire] {
            let inv = &m["invariants"];
            for k in ["lost", "duplicates", "ordering_violations", "dropped"] {
                assert_eq!(inv[k], 0, "seed {seed} {}: {k}", m["name"]);
            }
        }
        pairs.push((sample(des), sample(wire)));
    }
    let (bias_mean, bias_p99) = {
        let (exact, rounded) = (lindley(false), lindley(true));
        (rounded.0 - exact.0, rounded.1 - exact.1)
    };
    let (ack_mean, ack_p99) = ack_bias();
    // Each metric: (name, DES value, wire value, predicted bias, allowance beyond the interval).
    // The acknowledgement is nearly a constant in both (its interval is a few us wide), so it
    // also gets the report's rounding (1 us) and a follower's fetch that was on its way when
    // the record came (it then waits for that fetch: seen on about 1 % of records).
    type Get = fn(&Sample) -> f64;
    let metrics: [(&str, Get, f64, f64); 5] = [
        ("e2e mean ms", |s| s.e2e_mean, bias_mean, 0.0),
        ("e2e p99 ms", |s| s.e2e_p99, bias_p99, 0.0),
        ("ack mean ms", |s| s.ack_mean, ack_mean, 0.002),
        ("ack p99 ms", |s| s.ack_p99, ack_p99, 0.002),
        ("throughput /s", |s| s.throughput, 0.0, 0.0),
    ];
    eprintln!(
        "{seeds} seeds: metric: DES mean ± 95 %, wire mean ± 95 %, wire - DES ± 95 %, predicted bias"
    );
    for (name, get, bias, allowance) in metrics {
        let des: Vec<f64> = pairs.iter().map(|(d, _)| get(d)).collect();
        let wire: Vec<f64> = pairs.iter().map(|(_, w)| get(w)).collect();
        let diff: Vec<f64> = pairs.iter().map(|(d, w)| get(w) - get(d)).collect();
        let ((d, dh), (w, wh), (x, xh)) =
            (mean_and_half_width(&des), mean_and_half_width(&wire), mean_and_half_width(&diff));
        eprintln!("{name}: {d:.4} ± {dh:.4}, {w:.4} ± {wh:.4}, {x:+.4} ± {xh:.4}, {bias:+.4}");
        assert!(
            (x - bias).abs() <= xh + allowance,
            "{name}: wire - DES = {x:.4} ± {xh:.4}, predicted {bias:.4}"
        );
    }
}

// -----------------------------------------------------------------------------------------
// Mechanisms, side by side

fn invariant(report: &Value, name: &str, key: &str) -> u64 {
    model(report, name)["invariants"][key].as_u64().expect("a count")
}

/// A counter the wire design kept, summed over its hosts.
fn counter(report: &Value, name: &str, counter: &str) -> u64 {
    let rows =
        model(report, name)["details"]["wire_counters"].as_array().cloned().unwrap_or_default();
    rows.iter().filter(|r| r["counter"] == counter).map(|r| r["value"].as_u64().unwrap()).sum()
}

#[test]
fn acks_1_loses_on_a_leader_crash_and_acks_all_does_not_in_both_backends() {
    let r = run("log.toml", 1, &[]);
    for backend in ["des", "wire"] {
        let (one, all) = (format!("{backend}-acks1"), format!("{backend}-acksall"));
        let lost = invariant(&r, &one, "lost");
        eprintln!("{backend}: acks=1 lost {lost}, acks=all lost {}", invariant(&r, &all, "lost"));
        assert!(lost > 0, "{one} loses what only the crashed leader had");
        assert_eq!(invariant(&r, &all, "lost"), 0, "{all}");
        assert_eq!(invariant(&r, &all, "dropped"), 0, "{all}");
        assert_eq!(invariant(&r, &all, "duplicates"), 0, "{all}: idempotent retries");
    }
    assert!(counter(&r, "wire-acks1", "elections") >= 2, "broker 0 led two partitions");
}

#[test]
fn a_crash_loses_unsynced_writes_and_an_fsync_per_record_loses_none_in_both_backends() {
    let r = run("log_unsynced.toml", 1, &[]);
    for backend in ["des", "wire"] {
        let (none, every) = (format!("{backend}-no-fsync"), format!("{backend}-fsync"));
        let lost = invariant(&r, &none, "lost");
        eprintln!(
            "{backend}: no fsync lost {lost}, fsync per record lost {}",
            invariant(&r, &every, "lost")
        );
        assert!(
            lost > 100,
            "{none}: the consumer was 3 s behind on the crashed broker's partitions"
        );
        assert_eq!(invariant(&r, &every, "lost"), 0, "{every}");
        assert!(
            invariant(&r, &every, "duplicates") > 0,
            "{every}: the consumer replays since its commit"
        );
    }
    assert!(counter(&r, "wire-fsync", "recovered records") > 0);
    assert_eq!(counter(&r, "wire-no-fsync", "recovered records"), 0, "nothing was on its disk");
}

#[test]
fn an_idempotent_retry_is_appended_once_and_a_plain_one_twice_in_both_backends() {
    let r = run("log_idempotence.toml", 1, &[]);
    for backend in ["des", "wire"] {
        let (idem, plain) = (format!("{backend}-idempotent"), format!("{backend}-plain"));
        let dup = invariant(&r, &plain, "duplicates");
        eprintln!(
            "{backend}: idempotent duplicates {}, plain {dup}",
            invariant(&r, &idem, "duplicates")
        );
        assert!(dup > 100, "{plain}: two seconds of answers were lost");
        assert_eq!(invariant(&r, &idem, "duplicates"), 0, "{idem}");
        for m in [&idem, &plain] {
            assert_eq!(invariant(&r, m, "lost") + invariant(&r, m, "dropped"), 0, "{m}");
        }
    }
    let deduplicated = counter(&r, "wire-idempotent", "deduplicated");
    assert!(deduplicated > 100, "the leaders answered the retries without appending them");
    assert_eq!(counter(&r, "wire-plain", "deduplicated"), 0);
}

#[test]
fn a_wire_log_run_repeats_byte_for_byte_and_another_seed_differs() {
    let sets = ["duration=8s".to_string(), "model[wire-acks1].wire.dilation=1".to_string()];
    let only = |mut r: Value| {
        let models = r["models"].as_array_mut().expect("models");
        models.retain(|m| m["name"] == "wire-acks1");
        serde_json::to_string(&r["models"]).expect("serialises")
    };
    let a = only(run("log.toml", 3, &sets));
    let b = only(run("log.toml", 3, &sets));
    assert_eq!(a, b, "same seed, same report");
    assert_ne!(a, only(run("log.toml", 4, &sets)), "another seed, another run");
}

// -----------------------------------------------------------------------------------------
// Bad input

fn refused(model: &str, expected: &str) {
    let tmp = scratch(&format!(
        "name = \"t\"\nduration = \"1s\"\n[workload]\narrivals = {{ process = \"poisson\", rate = \"1k/s\" }}\n[[model]]\nname = \"m\"\n{model}\n"
    ));
    let args = ["run", "s.toml", "--out", "out", "--quiet"];
    assert_rejected_in(model, tmp.path(), &args, &[expected]);
}

/// Model tables (`kind` and one bad parameter), each with words its error must hold: the field's
/// dotted path and why.
const BAD_PARAMETERS: [(&str, &str); 20] = [
    (
        "kind = \"wire_log\"\nlog = { replica_lag = \"1ms\" }",
        "model[0].log.replica_lag: the wire log replicates by real fetches",
    ),
    (
        "kind = \"wire_log\"\nlog = { replication_factor = 4 }",
        "model[0].log.replication_factor: must be from 1 to 3",
    ),
    (
        "kind = \"wire_log\"\nlog = { min_insync_replicas = 4 }",
        "model[0].log.min_insync_replicas: must be from 1 to 3",
    ),
    (
        "kind = \"wire_log\"\nlog = { partitions = 0 }",
        "model[0].log.partitions: must be from 1 to 128",
    ),
    (
        "kind = \"wire_log\"\nlog = { heartbeat = \"10s\" }",
        "model[0].log.heartbeat: must be above 0 and below session_timeout",
    ),
    (
        "kind = \"wire_log\"\nlog = { flush_messages = 0 }",
        "model[0].log.flush_messages: must be at least 1",
    ),
    (
        "kind = \"wire_log\"\nproducer = { acks = \"0\" }",
        "model[0].producer.acks: the harness producer waits for every answer",
    ),
    (
        "kind = \"wire_log\"\nproducer = { acks = \"1\" }",
        "model[0].producer.acks: idempotence requires acks = \"all\"",
    ),
    (
        "kind = \"wire_log\"\nprojection = { workers = 0 }",
        "model[0].projection.workers: must be from 1 to 1024",
    ),
    (
        "kind = \"wire_log\"\nlog = { brokers = 4000000000 }",
        "model[0].log.brokers: must be from 1 to 16",
    ),
    (
        "kind = \"wire_log\"\nlog = { io_threads = 65 }",
        "model[0].log.io_threads: must be from 1 to 64",
    ),
    (
        "kind = \"wire_log\"\nlog = { flush_messages = 4000000000 }",
        "model[0].log.flush_messages: 4,000,000,000 is more than the 1,000,000",
    ),
    (
        "kind = \"wire_log\"\nlog = { segment_bytes = \"1KB\" }",
        "model[0].log.segment_bytes: must be at least 1024B",
    ),
    (
        "kind = \"wire_log\"\nprojection = { batch = 4000000000 }",
        "model[0].projection.batch: must be from 1 to 10000",
    ),
    (
        "kind = \"wire_log\"\nkafka_consumer = { max_poll_records = 4000000000 }",
        "model[0].kafka_consumer.max_poll_records:",
    ),
    (
        "kind = \"event_sourced\"\nconsumer = \"projection\"\nlog = { crash_loses_unflushed = true, flush_messages = 4000000000 }",
        "model[0].log.flush_messages: 4,000,000,000 is more than the 1,000,000",
    ),
    (
        "kind = \"wire_log\"\nconsumer = \"processor\"",
        "model[0].consumer: unknown value `processor`",
    ),
    (
        "kind = \"wire_log\"\nlog = { compaction = true }",
        "model[0].log.compaction: unknown key `compaction`",
    ),
    (
        "kind = \"event_sourced\"\nlog = { crash_loses_unflushed = true }",
        "model[0].log.crash_loses_unflushed: needs consumer = \"projection\"",
    ),
    (
        "kind = \"event_sourced\"\nconsumer = \"projection\"\nlog = { flush_ms = \"1s\" }",
        "a flush policy only matters with crash_loses_unflushed = true",
    ),
];

#[test]
fn bad_wire_log_parameters_are_refused_naming_the_field() {
    for (model, expected) in BAD_PARAMETERS {
        refused(model, expected);
    }
}
