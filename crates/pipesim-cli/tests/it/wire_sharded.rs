//! `wire_sharded` (a router and shard stores as real tokio services on turmoil) against the DES
//! `sharded` kind: the statistical cross-check over seeds, the strategy switch's reordering in
//! both, a store crash in both, partitions of the shards (wire only: the DES takes no
//! partition on `store`), determinism, and bad input.
//!
//! `PIPESIM_LONG_VALIDATION=1` runs the cross-check over 30 seeds of 20 s instead of 10 of 6 s.

use crate::support::*;
use pipesim_cli::default_registry;
use pipesim_cli::runner::{command_line, render, run_scenario};
use pipesim_metrics::RunResults;
use pipesim_models::ModelOutcome;
use pipesim_scenario::{LoadOptions, Scenario};
use std::path::Path;

fn scenario(text: &str) -> Scenario {
    let opts = LoadOptions { registry: default_registry(), ..Default::default() };
    load_text(text, Path::new("wire_sharded.toml"), &opts)
}

/// The two models of a scenario by name: the DES first, the wire second.
const NAMES: [&str; 2] = ["des", "wire"];

fn detail(o: &ModelOutcome, table: &str, column: &str) -> f64 {
    o.details
        .iter()
        .find(|t| t.name == table)
        .and_then(|t| t.number(0, column))
        .unwrap_or_else(|| panic!("no {table}.{column}"))
}

/// A wire service counter (`wire_counters`), summed over hosts whose name starts with `host`.
fn counter(o: &ModelOutcome, host: &str, name: &str) -> u64 {
    let t = o.details.iter().find(|t| t.name == "wire_counters").expect("wire_counters");
    (0..t.rows.len())
        .filter(|&r| {
            matches!(t.cell(r, "host"), Some(pipesim_models::Cell::Text(h)) if h.starts_with(host))
                && matches!(t.cell(r, "counter"), Some(pipesim_models::Cell::Text(c)) if c == name)
        })
        .map(|r| t.number(r, "value").unwrap_or(0.0) as u64)
        .sum()
}

/// The cross-check's two models: 8 shards on 4 servers, uniform keys, one writer per shard,
/// synchronous commits, the DES's index latch off, the same fsync distribution on both sides,
/// rows whose CPU (20us) and WAL write (1000 B at 50 MB/s: 20us) are whole wire steps at
/// dilation 50. `extra` goes at the end of the file (faults).
const RATE_PER_S: f64 = 1_000.0;
const INSTANCES: f64 = 4.0;
const HOP_MS: f64 = 0.2;
const DILATION: u32 = 50;

fn two_models(seed: u64, seconds: u32, extra: &str) -> String {
    format!(
        r#"
name = "wire_sharded"
seed = {seed}
duration = "{seconds}s"
warmup = "1s"
drain = "10s"
[workload]
arrivals = {{ process = "poisson", rate = "{RATE_PER_S}/s" }}
keys = {{ count = 10000 }}
payload = "700B"

[[model]]
name = "des"
kind = "sharded"
producers = {{ instances = 4 }}
network = {{ delay = "{HOP_MS}ms" }}
router = {{ shards = 8, instances = {INSTANCES} }}
store = {{ index = "none", cores = 4, wal_bandwidth = "50MB/s", fsync = {{ dist = "lognormal", p50 = "1ms", p99 = "4ms" }} }}

[[model]]
name = "wire"
kind = "wire_sharded"
producers = {{ instances = 4 }}
network = {{ delay = "{HOP_MS}ms" }}
router = {{ shards = 8, instances = {INSTANCES} }}
store = {{ cores = 4, wal_bandwidth = "50MB/s" }}
wire = {{ dilation = {DILATION}, producer_hosts = 1, disk = {{ fsync = {{ dist = "lognormal", p50 = "1ms", p99 = "4ms" }} }} }}
{extra}
"#
    )
}

/// The wire's predicted excess over the DES, ms, for [`two_models`] (docs/models/wire_sharded.md):
///
/// - the router → store hop, which the DES does not have (its router is free and co-located):
///   one network delay, a whole number of wire ticks here, so exact;
/// - a producer sends at the first whole wire millisecond at or after an event's creation: half
///   a resolution step on average;
/// - each fsync's sleep is rounded up to the step: half a step;
/// - that makes each WAL flush longer by half a step, and the commits that queue behind a
///   flush wait longer with it (first order, M/G/1 residual): λ·r·E[R] + U·r·(1 − E[F²]/2E[F]²)
///   with r the half step, λ a store's commit rate, F a flush (fsync plus one row's write), U =
///   λ·E[F], E[R] = E[F²]/2E[F].
///
/// The rows' CPU and the WAL writes are whole steps and add nothing; the network's first hop is
/// exact too.
fn predicted_bias_ms() -> f64 {
    let step_ms = 1.0 / f64::from(DILATION);
    let half = step_ms / 2.0;
    // Lognormal fsync with p50 1 ms and p99 4 ms, plus one row's 20us write.
    let sigma = 4f64.ln() / 2.326_347_874;
    let (m1, m2) = ((sigma * sigma / 2.0).exp(), (2.0 * sigma * sigma).exp());
    let write = 0.02;
    let (ef, ef2) = (m1 + write, m2 + 2.0 * write * m1 + write * write);
    let lambda_per_ms = RATE_PER_S / INSTANCES / 1_000.0;
    let residual = ef2 / (2.0 * ef);
    let waits =
        lambda_per_ms * half * residual + lambda_per_ms * ef * half * (1.0 - ef2 / (2.0 * ef * ef));
    HOP_MS + half + half + waits
}

/// A metric of the cross-check: its name, how to read it from a sample, the expected excess.
type Metric = (&'static str, fn(&Sample) -> f64, f64);

#[derive(Clone, Copy, Debug)]
struct Sample {
    mean_ms: f64,
    p99_ms: f64,
    delivered_per_s: f64,
}

fn sample(r: &RunResults) -> Sample {
    let s = r.e2e.summary();
    Sample {
        mean_ms: s.mean_ns / 1e6,
        p99_ms: s.p99_ns as f64 / 1e6,
        delivered_per_s: r.throughput.delivered_per_s,
    }
}

/// Mean and 95 % half-width (Student's t) of `xs`.
fn mean_ci(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    let t = match xs.len() {
        10 => 2.262,
        30 => 2.045,
        n => panic!("no t quantile for {n} seeds"),
    };
    (mean, t * (var / n).sqrt())
}

#[test]
fn the_wire_and_the_des_agree_within_the_predicted_bias_over_seeds() {
    let long = std::env::var_os("PIPESIM_LONG_VALIDATION").is_some();
    let (seeds, seconds) = if long { (30, 20) } else { (10, 6) };
    let mut pairs = Vec::new();
    for seed in 1..=seeds {
        let out = run_outcomes(&scenario(&two_models(seed, seconds, "")), Some(2));
        let (des, wire) = (sample(&out[0].results), sample(&out[1].results));
        for (name, o) in NAMES.iter().zip(&out) {
            let inv = &o.results.invariants;
            assert_eq!(
                inv.lost + inv.dropped + inv.duplicates + inv.ordering_violations,
                0,
                "{name}: {inv:?}"
            );
        }
        pairs.push((des, wire));
    }
    let bias = predicted_bias_ms();
    eprintln!("wire_sharded vs sharded, {seeds} seeds of {seconds} s; predicted bias {bias:.4} ms");
    let metrics: [Metric; 3] = [
        ("mean_ms", |s| s.mean_ms, bias),
        ("p99_ms", |s| s.p99_ms, bias),
        ("delivered_per_s", |s| s.delivered_per_s, 0.0),
    ];
    for (name, get, expected) in metrics {
        let des: Vec<f64> = pairs.iter().map(|(d, _)| get(d)).collect();
        let wire: Vec<f64> = pairs.iter().map(|(_, w)| get(w)).collect();
        let diff: Vec<f64> = pairs.iter().map(|(d, w)| get(w) - get(d)).collect();
        let ((dm, dh), (wm, wh), (xm, xh)) = (mean_ci(&des), mean_ci(&wire), mean_ci(&diff));
        eprintln!(
            "{name}: des {dm:.4} ± {dh:.4}  wire {wm:.4} ± {wh:.4}  wire − des {xm:.4} ± {xh:.4}  predicted {expected:.4}"
        );
        // The seeds are paired (the same arrivals on both sides), so the test is on the
        // per-seed differences: their 95 % interval holds the predicted bias.
        assert!(
            (xm - expected).abs() <= xh,
            "{name}: wire − des = {xm:.4} ± {xh:.4}, predicted {expected:.4}"
        );
        if name == "delivered_per_s" {
            assert!((wm - dm).abs() <= dh, "throughput: wire {wm} outside des {dm} ± {dh}");
        }
    }
}

/// The shipped scenario, optionally without its `[model.switch]` lines.
fn shipped(with_switch: bool) -> Scenario {
    let text = std::fs::read_to_string(root().join("scenarios/wire/sharded.toml")).unwrap();
    let text: String = text
        .lines()
        .filter(|l| with_switch || !l.starts_with("switch"))
        .map(|l| format!("{l}\n"))
        .collect();
    scenario(&text)
}

fn first_violation_ns(r: &RunResults) -> Option<u64> {
    r.invariants
        .examples
        .iter()
        .filter(|e| e.kind.name() == "ordering_violation")
        .map(|e| e.at_ns)
        .min()
}

#[test]
fn the_sharded_switch_reorders_in_both_and_only_after_it() {
    let with = run_outcomes(&shipped(true), Some(2));
    let without = run_outcomes(&shipped(false), Some(2));
    for ((name, o), none) in NAMES.iter().zip(&with).zip(&without) {
        let v = &o.results.invariants;
        eprintln!(
            "{name}: {} ordering violations with the switch, first at {:?} ns; {} without",
            v.ordering_violations,
            first_violation_ns(&o.results),
            none.results.invariants.ordering_violations
        );
        assert_eq!(
            none.results.invariants.ordering_violations, 0,
            "{name}: one ordered writer per shard and key affinity keep per-key order"
        );
        assert!(v.ordering_violations > 100, "{name}: the switch reorders: {v:?}");
        let first = first_violation_ns(&o.results).expect("an example");
        assert!(
            (5_000_000_000..5_200_000_000).contains(&first),
            "{name}: the first violation is right after the switch at 5 s: {first} ns"
        );
        assert_eq!(v.lost + v.duplicates + v.dropped + v.in_flight_at_end, 0, "{name}");
    }
    let (des, wire) = (
        with[0].results.invariants.ordering_violations as f64,
        with[1].results.invariants.ordering_violations as f64,
    );
    assert!((0.5..2.0).contains(&(wire / des)), "the same race in both: {wire} vs {des}");
}

/// The cross-check's models with a restart of store (server) 0 for `downtime` (node 0 in
/// both), the wire's router retrying a lost shard every 100 ms: the DES's store serves again
/// the instant it is back, and a router whose retries back off to a second would find it up to
/// a second later (the default, which fails more retries: see docs/models/wire_sharded.md).
fn restart(downtime: &str) -> Scenario {
    let fault = format!(
        "[[fault]]\nkind = \"rolling_restart\"\ntarget = \"store\"\nat = \"3s\"\ndowntime = \"{downtime}\"\nnodes = 1\n"
    );
    let text = two_models(3, 6, &fault).replace(
        "kind = \"wire_sharded\"\n",
        "kind = \"wire_sharded\"\nforward = { backoff_max = \"100ms\" }\n",
    );
    scenario(&text)
}

fn retries(o: &ModelOutcome, des: bool) -> f64 {
    if des { detail(o, "store", "client_retries") } else { detail(o, "wire_producers", "retries") }
}

#[test]
fn a_store_crash_fails_its_transactions_back_and_the_producers_retry_in_both() {
    // 500 ms down: within the retry budget (100 + 200 + 400 ms of backoff), nothing is dropped.
    let out = run_outcomes(&restart("500ms"), Some(2));
    for (name, o) in NAMES.iter().zip(&out) {
        let inv = &o.results.invariants;
        assert_eq!(inv.lost, 0, "{name}: synchronous commits lose nothing acknowledged");
        assert_eq!(inv.dropped + inv.in_flight_at_end, 0, "{name}: every retry got through");
    }
    let (des, wire) = (retries(&out[0], true), retries(&out[1], false));
    eprintln!("500 ms down: retries des {des}, wire {wire}");
    assert!(des > 100.0 && wire > 100.0 && (0.67..1.5).contains(&(wire / des)), "{des} {wire}");
    let wire = &out[1];
    assert!(counter(wire, "router", "failed_shard_down") > 50, "the router failed them back");
    assert_eq!(counter(wire, "router", "shard_connections_closed"), 2, "store-0's two shards");
    assert_eq!(counter(wire, "store-0", "recoveries"), 1);
    assert!(counter(wire, "store-0", "recovered_frames") > 100, "the synced WAL survived");
    // 2 s down: beyond the budget; both drop what they gave up on, about as many, and still
    // lose nothing.
    let out = run_outcomes(&restart("2s"), Some(2));
    let mut gave_up = Vec::new();
    for (name, o) in NAMES.iter().zip(&out) {
        let inv = &o.results.invariants;
        assert_eq!(inv.lost, 0, "{name}");
        let n = inv
            .dropped_by_reason
            .iter()
            .find(|d| d.reason == "producer gave up after 3 retries")
            .map_or(0, |d| d.events);
        assert!(n > 100 && n == inv.dropped, "{name}: {inv:?}");
        gave_up.push(n as f64);
    }
    eprintln!("2 s down: dropped des {}, wire {}", gave_up[0], gave_up[1]);
    assert!((0.9..1.1).contains(&(gave_up[1] / gave_up[0])), "{gave_up:?}");
}

fn wire_only(partition: &str, router_timeout: &str) -> String {
    let text = two_models(
        2,
        6,
        &format!(
            "[[fault]]\nkind = \"partition\"\ntarget = \"store\"\nat = \"2s\"\nduration = \"2s\"\nin_flight = \"{partition}\"\n"
        ),
    );
    let wire = text.find("[[model]]\nname = \"wire\"").unwrap();
    let des_start = text.find("[[model]]").unwrap();
    let mut text = format!("{}{}", &text[..des_start], &text[wire..]);
    text = text.replace(
        "router = { shards = 8, instances = 4 }",
        &format!("router = {{ shards = 8, instances = 4 }}\nforward = {{ timeout = \"{router_timeout}\" }}"),
    );
    text
}

#[test]
fn a_partition_of_the_shards_drops_or_duplicates_what_it_should() {
    // Cut (in-flight forwards lost, connects refused): the router times out its shard
    // connections, fails their events back, and fails new ones at once while it cannot
    // reconnect; producers exhaust their retries within the 2 s and drop. Nothing acknowledged
    // is lost and nothing is written twice (what was cut never reached a store).
    let cut = &run_outcomes(&scenario(&wire_only("drop", "1s")), Some(2))[0];
    let inv = &cut.results.invariants;
    assert!(inv.dropped > 500 && inv.lost + inv.duplicates + inv.in_flight_at_end == 0, "{inv:?}");
    assert!(counter(cut, "router", "shard_timeouts") >= 8, "every shard connection hung");
    assert!(counter(cut, "router", "shard_connects_refused") > 0);
    assert!(counter(cut, "router", "failed_in_flight") > 0);
    // Held, with a router timeout shorter than the hold: the router fails the held forwards
    // back and reconnects (its held SYNs time out, so events fail at once meanwhile, and some
    // producers give up); the held originals reach the stores at the heal and commit, and so
    // do the retries that got through: duplicates, as a plain INSERT behind a timeout gives.
    let short = &run_outcomes(&scenario(&wire_only("hold", "1s")), Some(2))[0];
    let inv = &short.results.invariants;
    assert!(inv.duplicates > 100 && inv.lost + inv.in_flight_at_end == 0, "{inv:?}");
    assert!(counter(short, "router", "shard_connect_timeouts") > 0);
    // Held, with the default 5 s timeout: everything waits for the heal and commits once.
    let long = &run_outcomes(&scenario(&wire_only("hold", "5s")), Some(2))[0];
    let inv = &long.results.invariants;
    assert_eq!(inv.duplicates + inv.lost + inv.dropped + inv.in_flight_at_end, 0, "{inv:?}");
    let p99_ms = long.results.e2e.summary().p99_ns as f64 / 1e6;
    assert!(p99_ms > 1_000.0, "events of the window waited for the heal: p99 {p99_ms} ms");
}

#[test]
fn a_wire_sharded_report_is_the_same_for_the_same_seed() {
    let json = |seed: u64| {
        let s = scenario(&wire_only("hold", "1s").replace("seed = 2", &format!("seed = {seed}")));
        let run = run_scenario(&s, Some(1)).unwrap_or_else(|e| panic!("{e:?}"));
        render(&s, &run, &command_line(&s, &[], None)).json
    };
    let a = json(2);
    assert_eq!(a, json(2), "byte-identical for one seed");
    assert_ne!(a, json(3), "another seed, another run");
}

/// `pipesim validate` and `run` both reject `models` ([`assert_rejected_in`]) with every
/// `expected` message, and write nothing.
fn refused(models: &str, expected: &[&str]) {
    let tmp = scratch(&format!(
        "name = \"t\"\nduration = \"10s\"\n[workload]\narrivals = {{ process = \"poisson\", rate = \"1k/s\" }}\n[[model]]\nname = \"w\"\nkind = \"wire_sharded\"\n{models}"
    ));
    for args in [&["validate", "s.toml"][..], &["run", "s.toml", "--quiet"]] {
        assert_rejected_in(models, tmp.path(), args, expected);
    }
}

#[test]
fn bad_wire_sharded_parameters_are_refused_with_their_path() {
    refused(
        "[model.router]\nshards = 0\n",
        &["s.toml:9:10: model[0].router.shards: must be from 1 to 4096, found 0"],
    );
    refused(
        "[model.router]\ninstances = 33\n",
        &["model[0].router.instances: must be from 1 to 32"],
    );
    refused("[model.router]\nbatch_max = 0\n", &["model[0].router.batch_max: must be from 1"]);
    refused(
        "[model.forward]\nbackoff = \"2s\"\n",
        &["model[0].forward.backoff_max: must be at least forward.backoff (2s)"],
    );
    refused("[model.forward]\ntimeout = \"0s\"\n", &["model[0].forward.timeout: must be greater"]);
    refused(
        "[model.router]\nshards = 4096\nwriters_per_shard = 64\n",
        &["4096 shards × 64 writers is over the 65536 writer tasks"],
    );
    refused("[model.switch]\nat = \"20s\"\n", &["model[0].switch.at: 20s is not before the end"]);
    refused("[model.switch]\nat = \"5s\"\nshards = 5000\n", &["model[0].switch.shards"]);
    refused("[model.store]\ncores = 0\n", &["model[0].store.cores: must be from 1 to 1024"]);
    refused("[model.store]\nfsync = \"1ms\"\n", &["unknown", "fsync"]);
    refused(
        "[[fault]]\nkind = \"schema_flood\"\ntarget = \"store\"\nat = \"1s\"\nduration = \"1s\"\ninterval = \"100ms\"\n",
        &["schema_flood"],
    );
}
