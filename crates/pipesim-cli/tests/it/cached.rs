//! The `cached` design's mechanisms, through scenario text: each test compares runs that differ
//! in the one thing the mechanism depends on, and checks the direction and size of the
//! difference the mechanism implies (not numbers copied from a run).
//!
//! - staleness grows with the change stream's cost and lag;
//! - a cold cache restart sends every read entity back to the store, a warm (WAL) one does not;
//! - ring buffers bound the events held per entity;
//! - a CDC crash replays the stream: duplicates without deduplication by log position, none
//!   with it;
//! - a store crash loses nothing acknowledged and keeps per-entity order; a network outage
//!   delays, and loses nothing.

use crate::support::*;
use pipesim_cli::runner::ScenarioRun;
use pipesim_models::DetailTable;

/// Runs a scenario given as text.
fn run(text: &str) -> ScenarioRun {
    run_text(text, &root().join("scenarios/t.toml"), Some(2))
}

/// A numeric cell of model `m`'s details table `table`.
fn detail(run: &ScenarioRun, m: usize, table: &str, column: &str) -> f64 {
    let t: &DetailTable = run.outcomes[m]
        .details
        .iter()
        .find(|t| t.name == table)
        .unwrap_or_else(|| panic!("no {table} table"));
    t.number(0, column).unwrap_or_else(|| panic!("no {table}.{column}"))
}

/// A scenario header: `duration` of 2,000 events/s over `keys` Zipf-popular entities.
fn header(duration: &str, keys: u32, faults: &str) -> String {
    format!(
        r#"name = "t"
seed = 11
duration = "{duration}"
warmup = "1s"
drain = "20s"
[workload]
arrivals = {{ process = "poisson", rate = "2k/s" }}
keys = {{ count = {keys}, popularity = "zipf", exponent = 1.0 }}
payload = "1KiB"
{faults}
"#
    )
}

/// A `cached` model named `name` with readers polling 200 entities every 100 ms and a decoder
/// at 50 us a change (utilisation 0.1), unless `sections` say otherwise: each is a `[model.x]`
/// section and its lines (give every line of a section at once).
fn model(name: &str, sections: &[(&str, &str)]) -> String {
    let mut text = format!("\n[[model]]\nname = \"{name}\"\nkind = \"cached\"\n");
    let defaults = [
        ("readers", "count = 4\nentities = 200\ninterval = \"100ms\""),
        ("cdc", "decode = \"50us\""),
    ];
    for (section, lines) in defaults {
        if !sections.iter().any(|(s, _)| *s == section) {
            text.push_str(&format!("[model.{section}]\n{lines}\n"));
        }
    }
    for (section, lines) in sections {
        text.push_str(&format!("[model.{section}]\n{lines}\n"));
    }
    text
}

#[test]
fn staleness_grows_with_the_cdc_cost_and_lag() {
    // Decoder utilisation 0.1, 0.6 and 0.9 at 2,000 changes/s; then a slow topic.
    let mut text = header("15s", 2_000, "");
    for (name, decode) in [("d50", "50us"), ("d300", "300us"), ("d450", "450us")] {
        text.push_str(&model(name, &[("cdc", &format!("decode = \"{decode}\""))]));
    }
    let lag = "decode = \"50us\"";
    text.push_str(&model("lag50", &[("cdc", lag), ("topic", "delivery = \"50ms\"")]));
    text.push_str(&model("lag1", &[("cdc", lag), ("topic", "delivery = \"1ms\"")]));
    let r = run(&text);
    let stale = |m: usize| r.outcomes[m].results.staleness.as_ref().expect("read path").summary();
    let (s50, s300, s450) = (stale(0), stale(1), stale(2));
    // A busier decoder queues changes longer, and readers see older data for longer.
    assert!(
        s50.mean_ns < s300.mean_ns && s300.mean_ns < s450.mean_ns,
        "mean staleness by decode cost: {} < {} < {}",
        s50.mean_ns,
        s300.mean_ns,
        s450.mean_ns
    );
    // M/D/1 waiting grows like rho / (1 - rho): from 0.6 to 0.9 the decoder's own delay grows
    // about sixfold, which must show in the visibility delay (commit to visible).
    let vis = |m: usize| detail(&r, m, "cache", "visibility_p50_ms");
    assert!(vis(2) > vis(1) + 0.5, "visibility p50: {} vs {}", vis(2), vis(1));
    // A 50 ms delivery lag: every change reaches the cache at least 50 ms after its commit, and
    // the producer was acknowledged at the commit, so the hot entities' readers see data about
    // 50 ms old; with a 1 ms lag they see it within a few ms.
    let (slow, fast) = (stale(3), stale(4));
    assert!(detail(&r, 3, "cache", "visibility_p50_ms") >= 50.0);
    assert!(slow.max_ns >= 45_000_000, "staleness max with a 50 ms lag: {}", slow.max_ns);
    assert!(slow.p99_ns >= 40_000_000, "staleness p99 with a 50 ms lag: {}", slow.p99_ns);
    assert!(fast.p99_ns < 10_000_000, "staleness p99 with a 1 ms lag: {}", fast.p99_ns);
    for m in 0..5 {
        let inv = &r.outcomes[m].results.invariants;
        assert_eq!((inv.lost, inv.ordering_violations), (0, 0), "model {m}");
    }
}

#[test]
fn a_cold_restart_sends_reads_to_the_store_and_a_warm_one_does_not() {
    // Loading an entity costs its rows at 100 us each: a stampede is visible in read latency.
    let store = ("store", "read = \"100us\"");
    let models = |cold_extra: &str| {
        model("cold", &[store, ("cache", &format!("wal = false\n{cold_extra}"))])
            + &model("warm", &[store, ("cache", "wal = true\nreplay = \"1s\"")])
    };
    let crash = "[[fault]]\nkind = \"crash\"\ntarget = \"cache\"\nat = \"8s\"\nduration = \"1s\"\n";
    let with_crash = run(&(header("15s", 5_000, crash) + &models("")));
    let without = run(&(header("15s", 5_000, "") + &models("")));
    let misses = |r: &ScenarioRun, m: usize| detail(r, m, "cache", "misses");
    let rows = |r: &ScenarioRun, m: usize| detail(r, m, "cache", "load_rows");
    let held = detail(&without, 0, "cache", "entities_held");
    assert!(held > 100.0, "the readers' entities are cached: {held}");
    // Cold: every entity the readers watch misses again after the restart and is reloaded with
    // everything it accumulated (up to its ring), a burst of store reads.
    let cold_extra = misses(&with_crash, 0) - misses(&without, 0);
    assert!(cold_extra >= held, "cold restart: {cold_extra} extra misses for {held} entities");
    assert!(
        rows(&with_crash, 0) > 2.0 * rows(&without, 0),
        "cold restart reloads rows: {} vs {}",
        rows(&with_crash, 0),
        rows(&without, 0)
    );
    let store_reads = |r: &ScenarioRun, m: usize| detail(r, m, "store", "reads");
    assert!(store_reads(&with_crash, 0) > store_reads(&without, 0));
    // Warm: the log brings every entry back, so no read misses that would not have anyway.
    assert_eq!(misses(&with_crash, 1), misses(&without, 1), "warm restart misses");
    assert_eq!(rows(&with_crash, 1), rows(&without, 1));
    assert_eq!(store_reads(&with_crash, 1), store_reads(&without, 1));
    // Readers of the cold cache wait for the reloads; the warm cache answers from memory.
    let read_max =
        |m: usize| with_crash.outcomes[m].results.read.as_ref().unwrap().summary().max_ns;
    assert!(
        read_max(0) > 5 * read_max(1),
        "slowest read after a cold restart {} vs warm {}",
        read_max(0),
        read_max(1)
    );
    // Both come back, and lose nothing the store has.
    for m in 0..2 {
        assert_eq!(detail(&with_crash, m, "cache", "restarts"), 1.0);
        assert!(detail(&with_crash, m, "cache", "failed_reads") > 0.0, "reads fail while down");
        assert_eq!(with_crash.outcomes[m].results.invariants.lost, 0);
    }
}

#[test]
fn ring_buffers_bound_the_events_held_per_entity() {
    // 50 entities, uniformly written (about 200 events each in 5 s), all read: one reader asks
    // for 500 draws of the 50, which covers every one of them. No warmup, so every event counts.
    let mut text = header("5s", 50, "").replace("warmup = \"1s\"", "warmup = \"0s\"").replace(
        "keys = { count = 50, popularity = \"zipf\", exponent = 1.0 }",
        "keys = { count = 50, popularity = \"uniform\" }",
    );
    let readers =
        ("readers", "count = 1\nentities = 500\ninterval = \"100ms\"\nkeys = \"uniform\"");
    text.push_str(&model("ring5", &[("cache", "ring = 5\ndedup = true"), readers]));
    text.push_str(&model("ring1m", &[("cache", "ring = 1000000\ndedup = true"), readers]));
    let r = run(&text);
    let d = |m: usize, c: &str| detail(&r, m, "cache", c);
    for m in 0..2 {
        assert_eq!(d(m, "entities_held"), 50.0, "every entity is held");
        assert_eq!(r.outcomes[m].results.invariants.lost, 0);
    }
    // Every event created was committed (nothing is lost), so this is what the store holds.
    let events = r.outcomes[0].results.throughput.offered as f64;
    assert!(events > 50.0 * 100.0, "{events}");
    // A ring of 5: 5 events per entity, whatever their number; the rest were overwritten.
    assert_eq!(d(0, "events_held"), 50.0 * 5.0);
    assert_eq!(d(0, "max_ring_events"), 5.0);
    assert_eq!(d(0, "max_events_held"), 50.0 * 5.0);
    assert!(d(0, "overwritten") > events - 2.0 * 50.0 * 5.0);
    // A ring larger than any entity's history holds every event ever committed.
    assert_eq!(d(1, "events_held"), events);
    assert_eq!(d(1, "max_events_held"), events);
    assert_eq!(d(1, "overwritten"), 0.0);
    assert!(d(1, "max_memory_mb") > 20.0 * d(0, "max_memory_mb"));
}

#[test]
fn a_cdc_crash_replays_the_stream_duplicates_without_dedup_and_not_with_it() {
    // The connector flushes its position every 60 s (the default), so a crash at 6 s replays
    // everything published since the start.
    let models = model("plain", &[("cache", "dedup = false")])
        + &model("dedup", &[("cache", "dedup = true")]);
    let crash = "[[fault]]\nkind = \"crash\"\ntarget = \"log\"\nat = \"6s\"\nduration = \"1s\"\n";
    let with_crash = run(&(header("10s", 2_000, crash) + &models));
    let without = run(&(header("10s", 2_000, "") + &models));
    let inv = |r: &ScenarioRun, m: usize| r.outcomes[m].results.invariants.clone();
    let replayed = detail(&with_crash, 0, "cdc", "replayed");
    assert!(replayed > 10_000.0, "about 6 s of changes replayed: {replayed}");
    assert_eq!(detail(&with_crash, 1, "cdc", "replayed"), replayed, "same stream either way");
    assert_eq!(detail(&without, 0, "cdc", "replayed"), 0.0);
    // Without dedup, every replayed change of an entity the cache holds lands in its ring again:
    // a duplicate for its readers.
    let repeats =
        detail(&with_crash, 0, "cache", "repeats") - detail(&without, 0, "cache", "repeats");
    let dups = inv(&with_crash, 0).duplicates - inv(&without, 0).duplicates;
    assert!(repeats > 1_000.0, "replayed changes appended again: {repeats}");
    assert_eq!(dups as f64, repeats, "each repeat is a duplicate readers see");
    // With dedup by log position, the same replay changes nothing.
    assert_eq!(inv(&with_crash, 1).duplicates, 0);
    assert!(detail(&with_crash, 1, "cache", "deduplicated") >= repeats);
    for m in 0..2 {
        let i = inv(&with_crash, m);
        assert_eq!((i.lost, i.ordering_violations), (0, 0), "model {m}");
    }
}

#[test]
fn a_store_crash_loses_nothing_acknowledged_and_keeps_order() {
    let crash = |scope: &str| {
        format!(
            "[[fault]]\nkind = \"crash\"\ntarget = \"store\"\nscope = \"{scope}\"\nat = \"4s\"\nduration = \"2s\"\n"
        )
    };
    let cache = [("cache", "dedup = true")];
    // A machine crash loses the WAL flush that was running, with its unanswered INSERTs: the
    // writer's retries write them once.
    let r = run(&(header("10s", 2_000, &crash("machine")) + &model("c", &cache)));
    let inv = &r.outcomes[0].results.invariants;
    assert_eq!((inv.lost, inv.ordering_violations, inv.duplicates), (0, 0, 0));
    // A process crash keeps that flush (it was in the kernel): its INSERTs are committed at the
    // restart though the writer saw an error, and its retries write them again. At 2k/s a
    // flush holds a handful of rows.
    let r = run(&(header("10s", 2_000, &crash("process")) + &model("c", &cache)));
    let inv = &r.outcomes[0].results.invariants;
    assert_eq!((inv.lost, inv.ordering_violations), (0, 0));
    assert!(inv.duplicates <= 20, "at most the flush in progress: {}", inv.duplicates);
    assert!(detail(&r, 0, "store", "writer_retries") > 0.0, "INSERTs retried while it was down");
    assert_eq!(detail(&r, 0, "cdc", "restarts"), 1.0, "the replication connection broke too");
    // Events sent during the 2 s outage are acknowledged after it.
    let ack = r.outcomes[0].results.ack.summary();
    assert!(ack.max_ns >= 1_900_000_000, "{}", ack.max_ns);
}

#[test]
fn a_network_outage_delays_by_tcp_retransmission_and_loses_nothing() {
    // A 1 s outage: a segment sent at its start is resent 0.2, 0.6 and 1.4 s after it was
    // sent, and only that last copy gets through (then the writer catches up on the backlog);
    // nothing is lost.
    let cut = "[[fault]]\nkind = \"crash\"\ntarget = \"network\"\nat = \"4s\"\nduration = \"1s\"\n";
    let r = run(&(header("8s", 2_000, cut) + &model("c", &[])));
    let res = &r.outcomes[0].results;
    assert_eq!((res.invariants.lost, res.invariants.ordering_violations), (0, 0));
    let ack = res.ack.summary();
    assert!(ack.max_ns >= 1_400_000_000, "slowest acknowledgement: {}", ack.max_ns);
    assert!(ack.p50_ns < 10_000_000, "most events never met the outage: {}", ack.p50_ns);
    let read = res.read.as_ref().unwrap().summary();
    assert!(read.max_ns >= 1_000_000_000, "polls sent during the outage wait: {}", read.max_ns);
}
