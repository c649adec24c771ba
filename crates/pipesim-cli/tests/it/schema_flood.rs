//! Seed 004's schema flood and the log's storage faults on `event_sourced`: a compaction that
//! blocks the brokers' flush thread stalls appends behind full memtables (auto_register), a
//! consumer that infers schemas crashes on a type it does not know yet (infer), a frozen
//! schema rejects the events of new types (frozen), and disk stalls and pauses of the log.

use crate::support::*;
use pipesim_metrics::RunResults;
use std::path::Path;

const MS: u64 = 1_000_000;

fn run(text: &str) -> Vec<RunResults> {
    run_text(text, Path::new("schema_flood.toml"), Some(1))
        .outcomes
        .into_iter()
        .map(|o| o.results)
        .collect()
}

/// One event_sourced model per `(name, extra lines)`, 20k events/s for 8 s, and `faults`.
fn scenario(models: &[(&str, &str)], faults: &str) -> String {
    let mut s = String::from(
        r#"
name = "schema_flood"
seed = 4
duration = "8s"
warmup = "1s"
drain = "10s"
[workload]
arrivals = { process = "poisson", rate = "20k/s" }
keys = { count = 10_000, popularity = "zipf", exponent = 0.9 }
payload = "512B"
"#,
    );
    s.push_str(faults);
    for (name, extra) in models {
        s.push_str(&format!(
            "\n[[model]]\nname = \"{name}\"\nkind = \"event_sourced\"\nconsumer = \"projection\"\n{extra}\n[model.producer]\nlinger = \"2ms\"\n[model.projection]\nworkers = 8\nbatch = 100\nupsert = \"200us\"\n"
        ));
    }
    s
}

/// One schema change at 4 s (the window is as long as the interval).
const ONE_CHANGE: &str = "[[fault]]\nkind = \"schema_flood\"\ntarget = \"log\"\nat = \"4s\"\nduration = \"1s\"\ninterval = \"1s\"\n";

fn p99_ms(r: &RunResults, phase: usize) -> f64 {
    r.phases[phase].e2e.quantile_ns(0.99) as f64 / MS as f64
}

#[test]
fn auto_register_stalls_writes_in_the_flood_and_schema_less_does_not() {
    // 20k/s of 512 B, replicated 3 times on 3 brokers: 10 MB/s into each broker's memtables;
    // two of 1 MB hold 0.2 s, so a 400 ms compaction ahead of the flush stops writes ~0.2 s.
    let rs = run(&scenario(
        &[
            ("auto", "schema = \"auto_register\"\n[model.log]\nmemtable = \"1MB\"\n"),
            ("less", "schema = \"schema_less\"\n[model.log]\nmemtable = \"1MB\"\n"),
        ],
        ONE_CHANGE,
    ));
    let (auto, less) = (&rs[0], &rs[1]);
    assert_eq!(auto.phases.len(), 2);
    // Events created in the second after the change wait behind the stopped appends.
    assert!(p99_ms(auto, 0) > 100.0, "auto_register p99 in the flood {}", p99_ms(auto, 0));
    assert!(p99_ms(less, 0) < 20.0, "schema_less p99 in the flood {}", p99_ms(less, 0));
    assert!(p99_ms(auto, 1) < 20.0, "auto_register p99 outside {}", p99_ms(auto, 1));
    // The stall delays, it loses nothing.
    assert_eq!(auto.invariants.lost, 0);
    assert_eq!(auto.invariants.dropped, 0);
}

#[test]
fn larger_memtables_absorb_a_short_stall() {
    // 4 MB memtables hold 0.8 s of appends: the 400 ms compaction ends before they are full.
    let rs = run(&scenario(
        &[
            ("small", "schema = \"auto_register\"\n[model.log]\nmemtable = \"1MB\"\n"),
            ("large", "schema = \"auto_register\"\n[model.log]\nmemtable = \"4MB\"\n"),
            (
                "long",
                "schema = \"auto_register\"\n[model.schemas]\ncompaction = \"1.2s\"\n[model.log]\nmemtable = \"4MB\"\n",
            ),
        ],
        ONE_CHANGE,
    ));
    let (small, large, long) = (p99_ms(&rs[0], 0), p99_ms(&rs[1], 0), p99_ms(&rs[2], 0));
    assert!(small > 100.0, "1 MB memtables: p99 {small} ms");
    assert!(large < 20.0, "4 MB memtables: p99 {large} ms");
    // A block longer than the memtables last stops writes again, for about the difference.
    assert!(long > 200.0, "4 MB memtables, 1.2 s compaction: p99 {long} ms");
    let max = rs[2].phases[0].e2e.summary().max_ns as f64 / MS as f64;
    assert!(max > 300.0 && max < 600.0, "the stop lasts about 1.2 s - 0.8 s: max {max} ms");
}

#[test]
fn inference_costs_per_event_and_a_decode_error_loses_updates() {
    let rs = run(&scenario(
        &[("infer", "schema = \"infer\"\n"), ("less", "schema = \"schema_less\"\n")],
        ONE_CHANGE,
    ));
    let (infer, less) = (&rs[0], &rs[1]);
    // Before the change: the same arrivals, each row costing 6 us more to apply.
    let mean = |r: &RunResults| r.phases[1].e2e.summary().mean_ns / 1e3;
    assert!(
        mean(infer) > mean(less) + 3.0,
        "mean e2e outside the flood: infer {} us, schema_less {} us",
        mean(infer),
        mean(less)
    );
    // The first event of the new type crashes the consumer; it comes back 400 ms later at the
    // log's end: about 400 ms of updates (8,000 events at 20k/s) are never applied.
    let lost = infer.invariants.lost;
    assert!(lost > 7_000 && lost < 10_000, "lost {lost}");
    assert_eq!(infer.phases[0].lost + infer.phases[1].lost, lost);
    assert!(infer.phases[0].lost > 7_000, "lost in the flood window: {}", infer.phases[0].lost);
    assert_eq!(less.invariants.lost, 0);
    assert_eq!(infer.invariants.dropped, 0);
}

#[test]
fn a_frozen_schema_rejects_new_types_only_after_the_first_change() {
    let flood = "[[fault]]\nkind = \"schema_flood\"\ntarget = \"log\"\nat = \"4s\"\nduration = \"4s\"\ninterval = \"2s\"\n";
    let rs = run(&scenario(&[("frozen", "schema = \"frozen\"\n")], flood));
    let r = &rs[0];
    let (during, before) = (&r.phases[0], &r.phases[1]);
    assert_eq!(before.dropped, 0, "nothing is rejected before the first change");
    // Changes at 4 s and 6 s, each introducing a type with 5 % of the traffic after it:
    // 5 % of the events for 2 s, then 9.75 % for 2 s, 7.4 % on average.
    let share = during.dropped as f64 / during.created as f64;
    assert!((share - 0.074).abs() < 0.01, "rejected share in the flood {share}");
    assert_eq!(r.invariants.lost, 0);
}

#[test]
fn a_disk_stall_that_stops_the_log_stops_appends_until_it_ends() {
    let stall = "[[fault]]\nkind = \"disk_stall\"\ntarget = \"log\"\nat = \"4s\"\nduration = \"1s\"\nstop = true\n";
    let rs = run(&scenario(&[("m", "[model.log]\nmemtable = \"1MB\"\n")], stall));
    let r = &rs[0];
    let during = &r.phases[0];
    // Appends land for ~0.2 s (two 1 MB memtables at 10 MB/s), then wait for the end of the
    // window and the flush after it: events created then wait up to ~0.8 s.
    let p50 = during.e2e.quantile_ns(0.5) as f64 / MS as f64;
    let max = during.e2e.summary().max_ns as f64 / MS as f64;
    assert!(p50 > 100.0, "median in the stall {p50} ms");
    assert!(max > 700.0 && max < 1_000.0, "longest wait {max} ms");
    assert!(p99_ms(r, 1) < 20.0, "p99 outside {}", p99_ms(r, 1));
    // Everything drains afterwards.
    assert_eq!(r.invariants.lost, 0);
    // Slower but not stopped: a factor-10 disk makes the 1 MB flush take ~10 ms, still less
    // than the 0.1 s a memtable takes to fill, so nothing stops.
    let slow = "[[fault]]\nkind = \"disk_stall\"\ntarget = \"log\"\nat = \"4s\"\nduration = \"1s\"\nfactor = 10\n";
    let rs = run(&scenario(&[("m", "[model.log]\nmemtable = \"1MB\"\n")], slow));
    assert!(p99_ms(&rs[0], 0) < 20.0, "factor 10: p99 {}", p99_ms(&rs[0], 0));
}

#[test]
fn a_paused_log_loses_nothing_and_delays_by_about_the_pause() {
    let pause =
        "[[fault]]\nkind = \"pause\"\ntarget = \"log\"\nat = \"4s\"\nduration = \"500ms\"\n";
    let rs = run(&scenario(&[("m", "")], pause));
    let r = &rs[0];
    let during = &r.phases[0];
    assert_eq!(r.invariants.lost, 0);
    assert_eq!(r.invariants.dropped, 0);
    let max = during.e2e.summary().max_ns as f64 / MS as f64;
    let p50 = during.e2e.quantile_ns(0.5) as f64 / MS as f64;
    assert!(max > 480.0 && max < 600.0, "longest wait {max} ms");
    assert!(p50 > 200.0 && p50 < 300.0, "an event created in the pause waits ~half of it: {p50}");
    assert!(p99_ms(r, 1) < 20.0, "p99 outside {}", p99_ms(r, 1));
}

#[test]
fn an_unknown_schema_mode_is_an_error_naming_the_field_and_the_options() {
    let text = "name = \"t\"\nduration = \"2s\"\n[workload]\narrivals = { process = \"poisson\", rate = \"1k/s\" }\n[[model]]\nname = \"es\"\nkind = \"event_sourced\"\nschema = \"avro\"\n";
    let tmp = scratch(text);
    for args in [&["validate", "s.toml"][..], &["run", "s.toml", "--out", "out", "--quiet"][..]] {
        let want = ["schema", "avro", "schema_less", "auto_register", "infer", "frozen"];
        assert_rejected_in("schema = avro", tmp.path(), args, &want);
    }
}
