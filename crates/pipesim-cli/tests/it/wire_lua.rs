//! `wire_lua` (Redis Cluster masters with the Lua guard, asynchronous replicas and failover, as
//! real tokio services on turmoil) against the DES `lua_ordered` kind: the guard drops instead of
//! reordering in both, a metastable retry configuration collapses in both while a sane one
//! recovers, failover (wire only: the DES has no Redis fault role), determinism, bad input.

use crate::support::*;
use pipesim_cli::default_registry;
use pipesim_cli::runner::{command_line, render, run_scenario};
use pipesim_models::ModelOutcome;
use pipesim_scenario::{LoadOptions, Scenario};
use std::path::Path;

fn scenario(text: &str) -> Scenario {
    let opts = LoadOptions { registry: default_registry(), ..Default::default() };
    load_text(text, Path::new("wire_lua.toml"), &opts)
}

fn shipped(name: &str) -> String {
    std::fs::read_to_string(root().join("scenarios/wire").join(name)).unwrap()
}

fn dropped_by(o: &ModelOutcome, prefix: &str) -> u64 {
    let inv = &o.results.invariants;
    inv.dropped_by_reason.iter().filter(|d| d.reason.starts_with(prefix)).map(|d| d.events).sum()
}

/// A wire service counter, summed over hosts whose name starts with `host`.
pub(crate) fn counter(o: &ModelOutcome, host: &str, name: &str) -> u64 {
    let t = o.details.iter().find(|t| t.name == "wire_counters").expect("wire_counters");
    (0..t.rows.len())
        .filter(|&r| {
            matches!(t.cell(r, "host"), Some(pipesim_models::Cell::Text(h)) if h.starts_with(host))
                && matches!(t.cell(r, "counter"), Some(pipesim_models::Cell::Text(c)) if c == name)
        })
        .map(|r| t.number(r, "value").unwrap_or(0.0) as u64)
        .sum()
}

#[test]
fn the_guard_drops_racing_events_instead_of_reordering_in_both() {
    let out = run_outcomes(&scenario(&shipped("lua.toml")), Some(2));
    let (des, wire) = (&out[0], &out[1]);
    let guard = [
        dropped_by(des, "Lua guard") + dropped_by(des, "producer LRU"),
        dropped_by(wire, "lua guard"),
    ];
    eprintln!("guard drops: des {} wire {}", guard[0], guard[1]);
    for (name, o) in ["des", "wire"].iter().zip(&out) {
        let inv = &o.results.invariants;
        assert_eq!(inv.ordering_violations + inv.duplicates + inv.lost, 0, "{name}: {inv:?}");
        assert_eq!(
            inv.dropped,
            dropped_by(o, "Lua guard") + dropped_by(o, "lua guard") + dropped_by(o, "producer LRU"),
            "{name}: every drop is the guard's"
        );
    }
    assert!(guard[0] > 50 && guard[1] > 50, "{guard:?}");
    let ratio = guard[1] as f64 / guard[0] as f64;
    assert!((0.5..2.0).contains(&ratio), "the same races in both: {guard:?}");
}

/// One shard at 90 % (7.5k/s of 120 us scripts), a 300 ms spike to 12k/s at 1 s, and `client`.
fn metastable(client: &str) -> Scenario {
    let net = r#"network = { delay = { dist = "lognormal", p50 = "150us", p99 = "400us" } }"#;
    scenario(&format!(
        r#"
name = "m"
seed = 1
duration = "4s"
warmup = "500ms"
drain = "1s"
[workload]
arrivals = {{ process = "poisson", rate = "7.5k/s" }}
keys = {{ count = 1000 }}
payload = "128B"
[[workload.phase]]
at = "1s"
rate = "12k/s"
[[workload.phase]]
at = "1.3s"
rate = "7.5k/s"
[[model]]
name = "des"
kind = "lua_ordered"
producers = {{ instances = 4 }}
{net}
lru = {{ capacity = 1 }}
redis = {{ shards = 1 }}
client = {client}
[[model]]
name = "wire"
kind = "wire_lua"
producers = {{ instances = 4 }}
{net}
redis = {{ shards = 1 }}
failover = {{ replicas = 0 }}
client = {client}
wire = {{ dilation = 20, producer_hosts = 1 }}
"#
    ))
}

/// Events made visible in the timeline rows from 2 s on (the spike ended at 1.3 s).
fn delivered_after_2s(o: &ModelOutcome) -> u64 {
    o.results.timeline.iter().skip(2).map(|w| w.delivered).sum()
}

#[test]
fn short_timeouts_with_retries_do_not_recover_from_a_spike_in_both() {
    let bad = run_outcomes(
        &metastable(r#"{ timeout = "10ms", retries = 3, backoff = "1ms", backoff_max = "1ms" }"#),
        Some(2),
    );
    let sane = run_outcomes(&metastable(r#"{ timeout = "1s", retries = 3 }"#), Some(2));
    for (i, name) in ["des", "wire"].iter().enumerate() {
        let (b, s) = (delivered_after_2s(&bad[i]), delivered_after_2s(&sane[i]));
        let gave_up = dropped_by(&bad[i], "producer gave up");
        eprintln!("{name}: delivered after 2 s: metastable {b}, sane {s}; gave up {gave_up}");
        assert!(b < s / 10, "{name}: the retries keep the shard saturated: {b} vs {s}");
        assert!(s > 10_000, "{name}: the sane configuration serves the load again: {s}");
        assert!(gave_up > 10_000, "{name}: {gave_up}");
        assert_eq!(dropped_by(&sane[i], "producer gave up"), 0, "{name}");
    }
    let ratio = dropped_by(&bad[1], "producer gave up") as f64
        / dropped_by(&bad[0], "producer gave up") as f64;
    assert!((0.9..1.1).contains(&ratio), "both give up on about as many: {ratio}");
}

#[test]
fn a_master_crash_fails_over_after_node_timeout_and_election_and_a_split_brain_loses() {
    let out = run_outcomes(&scenario(&shipped("lua_failover.toml")), Some(2));
    let wire = &out[0];
    // Crash at 2 s; node_timeout 1 s, election 500 ms, a heartbeat of 100 ms between checks.
    let promoted = counter(wire, "redis-0-b", "promoted_at_ms");
    assert!((3_400..=3_700).contains(&promoted), "promoted at {promoted} ms");
    // A process crash loses nothing: the kernel delivers what the master had written to its
    // replica's socket (turmoil keeps in-flight messages of a crashed host).
    assert_eq!(counter(wire, "redis-0-b", "appends_rolled_back"), 0);
    // The producers reach the promoted replica soon after the promotion (a connect to the
    // crashed process is refused at once; the backoff is at most `client.backoff_max`, 1 s),
    // not when the crashed master restarts at 6 s: no event waits much past 3.5 + 1 − 2 s.
    // Before connects to a crashed host were refused they hung until the restart (4.4 s).
    let max_ms = wire.results.e2e.max_ns() as f64 / 1e6;
    assert!(max_ms < 3_000.0, "the longest wait {max_ms} ms");
    let backlog_at = |t_s: usize| wire.results.timeline[t_s].backlog;
    assert!(backlog_at(4) < 10, "shard 0 drained by 5 s: {}", backlog_at(4));
    // The replicas cut off at 7 s promote themselves while their masters go on accepting
    // writes; at the heal the old masters step down and every append since the cut is gone.
    let rolled_back = counter(wire, "redis-1-a", "appends_rolled_back")
        + counter(wire, "redis-2-a", "appends_rolled_back");
    let inv = &wire.results.invariants;
    eprintln!("promoted at {promoted} ms; split brain rolled back {rolled_back}; {inv:?}");
    assert!(rolled_back > 1_000 && inv.lost > 1_000, "{rolled_back} {}", inv.lost);
    assert_eq!(inv.ordering_violations + inv.duplicates, 0);
    // With a client timeout (2 s) the producers leave the connections the cut left hanging:
    // nothing is still in flight when the run ends.
    assert_eq!(inv.in_flight_at_end, 0);
}

#[test]
fn a_wire_lua_report_is_the_same_for_the_same_seed() {
    let json = |seed: u64| {
        let s = scenario(
            &shipped("lua.toml")
                .replace("seed = 1", &format!("seed = {seed}"))
                .replace("duration = \"4s\"", "duration = \"2s\""),
        );
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
        "name = \"t\"\nduration = \"10s\"\n[workload]\narrivals = {{ process = \"poisson\", rate = \"1k/s\" }}\n[[model]]\nname = \"w\"\nkind = \"wire_lua\"\n{models}"
    ));
    for args in [&["validate", "s.toml"][..], &["run", "s.toml", "--quiet"]] {
        assert_rejected_in(models, tmp.path(), args, expected);
    }
}

#[test]
fn bad_wire_lua_parameters_are_refused_with_their_path() {
    refused("[model.redis]\nshards = 0\n", &["model[0].redis.shards: must be at least 1"]);
    refused(
        "[model.redis]\nshards = 25\n",
        &["model[0].redis.shards: a wire run takes at most 24"],
    );
    refused("[model.failover]\nreplicas = 2\n", &["model[0].failover.replicas: must be 0 or 1"]);
    refused(
        "[model.failover]\nnode_timeout = \"0s\"\n",
        &["model[0].failover.node_timeout: must be greater"],
    );
    refused(
        "[model.failover]\nheartbeat = \"20s\"\n",
        &["model[0].failover.heartbeat", "must be shorter than node_timeout"],
    );
    refused("[model.lru]\ncapacity = 1\n", &["unknown", "lru"]);
}

/// Mean and 95 % half-width (Student's t, 10 or 30 seeds) of `xs`.
fn mean_ci(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    let t = if xs.len() == 30 { 2.045 } else { 2.262 };
    (mean, t * (var / n).sqrt())
}

const DILATION: f64 = 25.0;

/// The wire's predicted latency excess, ms: the wire world resolves `r` = 1 ms / dilation; a
/// producer sends at the first step at or after an event's creation (r/2 on average) and a
/// message arrives at the first step at or after its send plus its delay (r/2 more). A shard's
/// script time is exact (`Clock::work`), and a delay an event carries into a busy period is
/// carried by every event queued behind it (FIFO: each departure is shifted by its
/// predecessor's shift), so the mean and the p99 are both shifted by about r.
fn predicted_bias_ms() -> f64 {
    1.0 / DILATION
}

#[test]
fn the_wire_and_the_des_agree_within_the_predicted_bias_over_seeds() {
    let long = std::env::var_os("PIPESIM_LONG_VALIDATION").is_some();
    let (seeds, seconds) = if long { (30, 8) } else { (10, 2) };
    let mut diffs: [Vec<f64>; 3] = Default::default();
    let mut des_tp = Vec::new();
    let mut wire_tp = Vec::new();
    for seed in 1..=seeds {
        let text = shipped("lua.toml")
            .replace("seed = 1", &format!("seed = {seed}"))
            .replace("duration = \"4s\"", &format!("duration = \"{seconds}s\""))
            .replace(
                "redis = { shards = 3 }\nwire",
                "redis = { shards = 3 }\nfailover = { replicas = 0 }\nwire",
            )
            .replace("dilation = 50", &format!("dilation = {DILATION}"));
        let out = run_outcomes(&scenario(&text), Some(2));
        let (d, w) = (&out[0].results, &out[1].results);
        let (ds, ws) = (d.e2e.summary(), w.e2e.summary());
        diffs[0].push((ws.mean_ns - ds.mean_ns) / 1e6);
        diffs[1].push((ws.p99_ns as f64 - ds.p99_ns as f64) / 1e6);
        diffs[2].push(w.throughput.delivered_per_s - d.throughput.delivered_per_s);
        des_tp.push(d.throughput.delivered_per_s);
        wire_tp.push(w.throughput.delivered_per_s);
    }
    let bias = predicted_bias_ms();
    for (name, xs, expected) in [
        ("mean_ms", &diffs[0], bias),
        ("p99_ms", &diffs[1], bias),
        ("delivered_per_s", &diffs[2], 0.0),
    ] {
        let (m, h) = mean_ci(xs);
        eprintln!("{name}: wire − des {m:.4} ± {h:.4}, predicted {expected:.4}");
        assert!((m - expected).abs() <= h.max(0.1 * expected.abs()), "{name}: {m} ± {h}");
    }
    let ((dm, dh), (wm, _)) = (mean_ci(&des_tp), mean_ci(&wire_tp));
    eprintln!("throughput des {dm:.1} ± {dh:.1}, wire {wm:.1}");
    assert!((wm - dm).abs() <= dh, "throughput: wire {wm} outside des {dm} ± {dh}");
}
