//! Store faults on the Postgres-based designs: a disk stall acts through the WAL's group
//! commit, a pause freezes the server process, and a rolling restart takes the servers down one
//! at a time; each shows in the statistics of its window.

use crate::support::*;
use pipesim_models::{Cell, ModelOutcome};
use std::path::Path;

fn run(text: &str) -> ModelOutcome {
    run_text(text, Path::new("store.toml"), Some(1)).outcomes.remove(0)
}

/// `kind` at 5k/s for 10 s, with `faults` (TOML `[[fault]]` tables) and `model` (extra model
/// keys). The clients wait 2 s and the pool is roomy, so a one-second fault does not turn into
/// a retry storm (see docs/scenario.md).
fn scenario(kind: &str, faults: &str, model: &str) -> String {
    format!(
        r#"
name = "store"
seed = 5
duration = "10s"
warmup = "1s"
drain = "30s"
[workload]
arrivals = {{ process = "poisson", rate = "5k/s" }}
keys = {{ count = 10_000 }}
{faults}
[[model]]
name = "m"
kind = "{kind}"
[model.client]
retries = 8
timeout = "2s"
{model}"#
    )
}

fn fault(kind: &str, at: &str, rest: &str) -> String {
    format!("[[fault]]\nkind = \"{kind}\"\ntarget = \"store\"\nat = \"{at}\"\n{rest}")
}

const ROOMY_POOL: &str = "[model.pool]\nsize = 200\n";

fn store_cell(o: &ModelOutcome, column: &str) -> f64 {
    let t = o.details.iter().find(|t| t.name == "store").expect("a store table");
    match t.cell(0, column) {
        Some(Cell::Int(n)) => *n as f64,
        Some(Cell::Fixed(x, _)) => *x,
        other => panic!("{column}: {other:?}"),
    }
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

#[test]
fn a_slow_disk_raises_the_p99_in_its_window_and_group_commit_batches_more() {
    let stalled = run(&scenario(
        "baseline",
        &fault("disk_stall", "4s", "duration = \"1s\"\nfactor = 20\n"),
        ROOMY_POOL,
    ));
    let calm = run(&scenario("baseline", "", ROOMY_POOL));
    let r = &stalled.results;
    let (during, outside) = (&r.phases[0], &r.phases[1]);
    let (p99_during, p99_outside) =
        (ms(during.e2e.quantile_ns(0.99)), ms(outside.e2e.quantile_ns(0.99)));
    // fsync p50 1 ms, p99 4 ms at ×20: each flush takes 20–80 ms, and commits queue behind it.
    assert!(p99_during > 100.0, "p99 during the stall {p99_during} ms");
    assert!(p99_outside < 20.0, "p99 outside {p99_outside} ms");
    assert_eq!((r.invariants.lost, r.invariants.duplicates), (0, 0));
    // Fewer, bigger flushes: one slow fsync makes every commit that waited for it durable.
    // Calm, a second of 5k commits/s takes about 800 flushes of ~6; stalled, about 25 of ~200.
    let (with, without) =
        (store_cell(&stalled, "commits_per_flush"), store_cell(&calm, "commits_per_flush"));
    assert!(with > without * 1.05, "commits per flush {with} with the stall, {without} without");
    let saved = store_cell(&calm, "wal_flushes") - store_cell(&stalled, "wal_flushes");
    assert!(saved > 500.0, "the stall saved only {saved} flushes");
}

#[test]
fn a_stopped_disk_holds_synchronous_commits_but_not_asynchronous_ones() {
    let stop = fault("disk_stall", "4s", "duration = \"1s\"\nstop = true\n");
    let on = run(&scenario("baseline", &stop, ROOMY_POOL));
    let off = run(&scenario(
        "baseline",
        &stop,
        "[model.pool]\nsize = 200\n[model.store]\nsynchronous_commit = \"off\"\n",
    ));
    // `on`: no commit is answered until the disk is back; events created at the start of the
    // window wait about the whole second.
    let ack_on = &on.results.phases[0].ack;
    assert!(ms(ack_on.quantile_ns(1.0)) > 900.0, "max ack {}", ms(ack_on.quantile_ns(1.0)));
    assert!(ms(ack_on.quantile_ns(0.5)) > 300.0, "p50 ack {}", ms(ack_on.quantile_ns(0.5)));
    // `off`: commits are answered before their WAL is flushed, so the stall does not show.
    let ack_off = &off.results.phases[0].ack;
    assert!(ms(ack_off.quantile_ns(0.99)) < 10.0, "p99 ack {}", ms(ack_off.quantile_ns(0.99)));
    for o in [&on, &off] {
        assert_eq!(o.results.invariants.lost, 0, "nothing crashed, nothing is lost");
    }
}

#[test]
fn a_paused_server_delays_by_about_the_pause_and_loses_nothing() {
    let pause = fault("pause", "4s", "duration = \"800ms\"\n");
    let pg = run(&scenario("baseline", &pause, ROOMY_POOL));
    let r = &pg.results;
    let during = &r.phases[0];
    let max = ms(during.e2e.quantile_ns(1.0));
    assert!((750.0..900.0).contains(&max), "worst wait {max} ms for an 800 ms pause");
    let p50 = ms(during.e2e.quantile_ns(0.5));
    assert!((300.0..500.0).contains(&p50), "p50 {p50} ms: about half the pause");
    assert_eq!(
        (r.invariants.lost, r.invariants.duplicates, r.invariants.dropped),
        (0, 0, 0),
        "the clients wait 2 s: nothing times out"
    );
    // Behind Redis, Postgres's pause does not touch what readers see: lua_ordered's events are
    // visible when the Lua script appends them.
    let lua = run(&scenario("lua_ordered", &pause, ""));
    let during = &lua.results.phases[0];
    assert!(ms(during.e2e.quantile_ns(0.99)) < 5.0, "{}", ms(during.e2e.quantile_ns(0.99)));
    assert_eq!(lua.results.invariants.lost, 0);
}

#[test]
fn a_rolling_restart_takes_the_servers_down_one_at_a_time() {
    let restart = fault("rolling_restart", "3s", "downtime = \"500ms\"\ngap = \"250ms\"\n");
    let servers = "[model.router]\nshards = 64\ninstances = 4\n";
    let rolling = run(&scenario("sharded", &restart, servers));
    // Four servers: the window is 3 s + 4 × 500 ms + 3 × 250 ms.
    let w = &rolling.faults[0];
    assert_eq!((w.start_ns, w.end_ns), (3_000_000_000, 5_750_000_000));
    assert_eq!(w.kind.name(), "rolling_restart");
    // The same four crashes at once (a crash naming no server takes the next in turn, so four
    // of them take all four): every event of the window waits, where one at a time only a
    // quarter of the keys' shards are down at any moment.
    let all_four = fault("crash", "3s", "duration = \"500ms\"\n").repeat(4);
    let all = run(&scenario("sharded", &all_four, servers));
    let rolling_p50 = ms(rolling.results.phases[0].e2e.quantile_ns(0.5));
    let all_p50 = ms(all.results.phases[0].e2e.quantile_ns(0.5));
    assert!(rolling_p50 < 20.0, "p50 during the rolling restart {rolling_p50} ms");
    assert!(all_p50 > 100.0, "p50 while every server is down {all_p50} ms");
    // One of them alone takes server 0 only: like one step of the rolling restart.
    let one = run(&scenario("sharded", &fault("crash", "3s", "duration = \"500ms\"\n"), servers));
    let one_p50 = ms(one.results.phases[0].e2e.quantile_ns(0.5));
    assert!(one_p50 < 20.0, "p50 while one server of four is down {one_p50} ms");
    let one_p90 = ms(one.results.phases[0].e2e.quantile_ns(0.9));
    assert!(one_p90 > 100.0, "p90 while one server of four is down {one_p90} ms");
    // About a quarter of the window's events met a down server and were retried.
    let tail = ms(rolling.results.phases[0].e2e.quantile_ns(0.9));
    assert!(tail > 100.0, "p90 during the rolling restart {tail} ms");
    assert_eq!(rolling.results.invariants.lost, 0);
}

#[test]
fn a_kind_the_store_does_not_take_is_refused() {
    let tmp = scratch(&scenario(
        "baseline",
        &fault("checkpoint_storm", "2s", "duration = \"2s\"\ninterval = \"500ms\"\n"),
        "",
    ));
    assert_rejected_in(
        "checkpoint_storm on the store",
        tmp.path(),
        &["validate", "s.toml"],
        &[
            "cannot take a `checkpoint_storm` on `store`; it takes: crash, rolling_restart, disk_stall, pause",
        ],
    );
}
