//! Tests that pin the mechanisms of the Postgres and Redis designs, not numbers copied from a
//! run: each compares two configurations that differ in one mechanism, or checks a value that
//! follows from the mechanism (a capacity of 1 / script cost).

use crate::support::*;
use pipesim_metrics::RunResults;
use pipesim_models::ModelOutcome;
use std::path::Path;

/// Runs scenario `text` (one or more models) and returns each model's outcome.
fn run(text: &str) -> Vec<ModelOutcome> {
    run_text(text, Path::new("mechanism.toml"), Some(2)).outcomes
}

fn detail(o: &ModelOutcome, table: &str, column: &str) -> f64 {
    o.details
        .iter()
        .find(|t| t.name == table)
        .and_then(|t| t.number(0, column))
        .unwrap_or_else(|| panic!("no {table}.{column}"))
}

fn dropped_for(r: &RunResults, reason_starts: &str) -> (u64, u64) {
    r.invariants
        .dropped_by_reason
        .iter()
        .find(|d| d.reason.starts_with(reason_starts))
        .map_or((0, 0), |d| (d.events, d.copies))
}

/// A workload header: `rate`, `seconds`, zipf keys (a few hot users), a 2 s warmup.
fn header(rate: &str, seconds: u32) -> String {
    format!(
        r#"
name = "mechanism"
seed = 11
duration = "{seconds}s"
warmup = "2s"
drain = "20s"
[workload]
arrivals = {{ process = "poisson", rate = "{rate}" }}
keys = {{ count = 100_000, popularity = "zipf", exponent = 1.0 }}
payload = "128B"
"#
    )
}

/// Fast, roomy Postgres so that only the mechanism under test matters.
const ROOMY_STORE: &str = r#"
index = "btree"
fsync = "200us"
wal_bandwidth = "1GB/s"
"#;

#[test]
fn the_lua_guard_drops_late_arrivals_instead_of_reordering_them() {
    // Producers behind a load balancer send a hot user's events over different connections with
    // jittery delays, so some arrive after a later event of the same user. The baseline writes
    // them in arrival order (violations); the Lua guard discards them (drops, no violations).
    let text = format!(
        r#"{}
[[model]]
name = "baseline"
kind = "baseline"
[model.producers]
instances = 32
affinity = "random"
[model.network]
delay = {{ dist = "lognormal", p50 = "200us", p99 = "2ms" }}
[model.pool]
size = 500
[model.store]{ROOMY_STORE}
[[model]]
name = "lua"
kind = "lua_ordered"
[model.producers]
instances = 32
[model.network]
delay = {{ dist = "lognormal", p50 = "200us", p99 = "2ms" }}
[model.redis]
shards = 8
"#,
        header("20k/s", 10)
    );
    let out = run(&text);
    let (base, lua) = (&out[0].results, &out[1].results);
    assert!(
        base.invariants.ordering_violations > 100,
        "the races reorder the baseline: {:?}",
        base.invariants
    );
    assert_eq!(
        lua.invariants.ordering_violations, 0,
        "the guard never shows an event after a newer one"
    );
    assert_eq!(lua.invariants.duplicates, 0);
    let (guard_drops, _) = dropped_for(lua, "Lua guard");
    assert!(guard_drops > 100, "late arrivals are dropped: {guard_drops}");
    assert_eq!(lua.invariants.dropped, guard_drops, "every drop is the guard's");
    assert_eq!(
        lua.invariants.lost + lua.invariants.in_flight_at_end,
        0,
        "nothing else goes missing"
    );
    // The races are the same in both: the guard drops about as many events as the baseline
    // shows out of order (not exactly: a drop and a violation are counted differently when
    // several events of a user race at once).
    let ratio = guard_drops as f64 / base.invariants.ordering_violations as f64;
    assert!(
        (0.5..2.0).contains(&ratio),
        "{guard_drops} drops against {} violations",
        base.invariants.ordering_violations
    );
}

fn sharded(switch: bool) -> String {
    let switch = if switch { "[model.switch]\nat = \"6s\"\n" } else { "" };
    format!(
        r#"{}
[[model]]
name = "sharded"
kind = "sharded"
[model.router]
shards = 64
batch_max = 50
{switch}[model.store]
index = "btree"
fsync = {{ dist = "lognormal", p50 = "1ms", p99 = "4ms" }}
"#,
        header("150k/s", 10)
    )
}

#[test]
fn a_strategy_switch_reorders_events_in_flight_and_no_switch_does_not() {
    let without = run(&sharded(false));
    let with = run(&sharded(true));
    assert_eq!(
        without[0].results.invariants.ordering_violations, 0,
        "one ordered writer per shard keeps per-key order"
    );
    let v = &with[0].results.invariants;
    assert!(
        v.ordering_violations > 0,
        "events queued on the old shard lose the race to the new one"
    );
    // Every violation happens around the switch, while old-shard queues drain.
    let first = v
        .examples
        .iter()
        .filter(|e| e.kind.name() == "ordering_violation")
        .map(|e| e.at_ns)
        .min()
        .unwrap();
    assert!((6_000_000_000..7_000_000_000).contains(&first), "first violation at {first} ns");
    assert_eq!(v.lost + v.duplicates, 0);
}

fn commit_mode(mode: &str) -> String {
    format!(
        r#"{}
[[fault]]
kind = "crash"
target = "store"
at = "6s"
duration = "1s"
[[model]]
name = "m"
kind = "baseline"
[model.pool]
size = 200
[model.client]
retries = 8
[model.store]
synchronous_commit = "{mode}"
wal_writer_delay = "200ms"
"#,
        header("20k/s", 10)
    )
}

#[test]
fn asynchronous_commit_loses_acknowledged_events_in_a_crash_and_synchronous_does_not() {
    let on = run(&commit_mode("on"));
    let off = run(&commit_mode("off"));
    let (on, off) = (&on[0].results.invariants, &off[0].results.invariants);
    assert_eq!(on.lost, 0, "every acknowledged commit was flushed before its answer");
    // The WAL writer flushes every 200 ms or 1 MB: a crash can take up to that window of
    // commits, about 20k/s x 0.2 s = 4,000 at most here, and some.
    assert!(off.lost > 0 && off.lost <= 5_000, "lost {}", off.lost);
    assert!(off.examples.iter().any(|e| e.kind.name() == "lost"));
}

fn lost_answers(kind: &str) -> String {
    let extra = if kind == "lua_ordered" {
        "[model.redis]\nshards = 8\n"
    } else {
        "[model.pool]\nsize = 200\n"
    };
    format!(
        r#"{}
[[model]]
name = "m"
kind = "{kind}"
[model.network]
drop = 0.02
[model.client]
retries = 8
timeout = "200ms"
{extra}"#,
        header("5k/s", 8)
    )
}

#[test]
fn retries_after_lost_answers_duplicate_a_plain_insert_but_not_a_guarded_append() {
    // 2 % of messages are lost with their connection; a client whose answer was lost times out
    // and sends the event again, although the first attempt had been written.
    let insert = &run(&lost_answers("baseline"))[0].results;
    let guarded = &run(&lost_answers("lua_ordered"))[0].results;
    assert!(
        insert.invariants.duplicates > 10,
        "a retried INSERT writes the event twice: {:?}",
        insert.invariants
    );
    assert_eq!(
        guarded.invariants.duplicates, 0,
        "the guard refuses a sequence number it has already appended"
    );
    let (_, copies) = dropped_for(guarded, "Lua guard");
    assert!(copies > 10, "the guard discards the retried copies: {copies}");
    assert_eq!(guarded.invariants.lost, 0);
}

#[test]
fn one_redis_shard_saturates_at_one_over_the_script_cost() {
    // One shard, 120 us a script: capacity 1 / 120 us = 8,333 scripts/s.
    let text = |rate: &str| {
        format!(
            r#"{}
[[model]]
name = "m"
kind = "lua_ordered"
[model.producers]
affinity = "key"
[model.redis]
shards = 1
script = "120us"
"#,
            header(rate, 8)
        )
    };
    let capacity = 1e9 / 120_000.0;
    let under = &run(&text("7k/s"))[0];
    let over = &run(&text("10k/s"))[0];
    let u = &under.results.throughput;
    assert!(
        (u.delivered_per_s / u.offered_per_s - 1.0).abs() < 0.01,
        "below capacity everything is served: {u:?}"
    );
    let util = detail(under, "redis", "mean_shard_utilisation");
    assert!((util - 7_000.0 / capacity).abs() < 0.01, "utilisation {util} = rate x cost");
    let o = &over.results.throughput;
    assert!(
        (o.delivered_per_s / capacity - 1.0).abs() < 0.005,
        "overloaded, it serves {} /s, capacity {capacity}",
        o.delivered_per_s
    );
    assert!(detail(over, "redis", "mean_shard_utilisation") > 0.995);
    let backlog: Vec<u64> = over.results.timeline.iter().map(|w| w.backlog).collect();
    assert!(backlog[7] > backlog[3] && backlog[3] > backlog[1], "the backlog grows: {backlog:?}");
}

#[test]
fn group_commit_batches_more_commits_per_flush_as_load_grows() {
    let batch = |rate: &str| {
        let text = format!(
            r#"{}
[[model]]
name = "m"
kind = "baseline"
[model.pool]
size = 1000
[model.store]
index = "none"
fsync = "1ms"
wal_bandwidth = "10GB/s"
"#,
            header(rate, 6)
        );
        detail(&run(&text)[0], "store", "commits_per_flush")
    };
    let b: Vec<f64> = ["200/s", "2k/s", "20k/s", "100k/s"].iter().map(|r| batch(r)).collect();
    // At 200/s commits rarely meet a flush in progress; at 100k/s about 100 arrive during each
    // 1 ms fsync and share the next one.
    assert!(b[0] < 1.5, "{b:?}");
    assert!(b.windows(2).all(|w| w[1] > w[0] * 1.5), "batches grow with load: {b:?}");
    assert!(b[3] > 50.0, "{b:?}");
}
