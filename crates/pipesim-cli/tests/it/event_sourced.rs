//! The `event_sourced` design's mechanisms, each pinned by a pair of runs that differ in the
//! one knob the mechanism hinges on: the finding appears with it and disappears without it.
//! Numbers are never copied from a run; bounds come from the mechanism (a checkpoint interval,
//! a retry budget, a poison fraction and its binomial spread).

use crate::support::*;
use serde_json::Value;

/// Runs a scenario given as text and returns report.json's `models` array.
fn run(text: &str) -> Vec<Value> {
    report_models(text, &root().join("scenarios/examples/es.toml"))
}

/// A scenario header: `rate` events/s for `duration` over `keys` Zipf(0.9) keys, 512 B each.
fn header(name: &str, rate: &str, duration: &str, keys: u32) -> String {
    format!(
        r#"name = "{name}"
seed = 7
duration = "{duration}"
warmup = "1s"
drain = "30s"
[workload]
arrivals = {{ process = "poisson", rate = "{rate}" }}
keys = {{ count = {keys}, popularity = "zipf", exponent = 0.9 }}
payload = "512B"
"#
    )
}

fn model<'a>(models: &'a [Value], name: &str) -> &'a Value {
    models.iter().find(|m| m["name"] == name).unwrap_or_else(|| panic!("no model {name}"))
}

fn int(v: &Value, path: &str) -> u64 {
    let mut x = v;
    for part in path.split('.') {
        x = match part.parse::<usize>() {
            Ok(i) => &x[i],
            Err(_) => &x[part],
        };
    }
    x.as_u64().unwrap_or_else(|| panic!("{path} is not a count: {x}"))
}

fn num(v: &Value, path: &str) -> f64 {
    let mut x = v;
    for part in path.split('.') {
        x = match part.parse::<usize>() {
            Ok(i) => &x[i],
            Err(_) => &x[part],
        };
    }
    x.as_f64().unwrap_or_else(|| panic!("{path} is not a number: {x}"))
}

/// Events dropped for a reason containing `needle`.
fn dropped_for(m: &Value, needle: &str) -> u64 {
    m["invariants"]["dropped_by_reason"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter(|r| r["reason"].as_str().is_some_and(|s| s.contains(needle)))
        .map(|r| r["events"].as_u64().unwrap_or(0))
        .sum()
}

#[test]
fn non_idempotent_retries_after_lost_acknowledgements_duplicate_and_idempotent_ones_do_not() {
    // One message in a hundred is lost with its connection, requests and answers alike. A lost
    // answer makes the producer retry a batch the leader already appended: without idempotence
    // the leader appends it again (the consumer makes it visible twice); with it, the leader
    // recognises the sequence number and only answers. One request in flight keeps reordering
    // out of the picture.
    let mut text = header("dup", "20k/s", "8s", 10_000);
    for (name, idempotence, acks) in [("plain", false, "1"), ("idempotent", true, "all")] {
        text.push_str(&format!(
            r#"
[[model]]
name = "{name}"
kind = "event_sourced"
[model.processor]
sink = "at_least_once"
[model.network]
drop = 0.01
[model.producer]
idempotence = {idempotence}
acks = "{acks}"
max_in_flight = 1
request_timeout = "200ms"
delivery_timeout = "20s"
"#
        ));
    }
    let models = run(&text);
    let plain = model(&models, "plain");
    let idem = model(&models, "idempotent");
    for m in [plain, idem] {
        assert!(int(m, "details.producer.0.answers_lost") > 50, "answers must get lost: {m}");
        assert!(int(m, "details.producer.0.retries") > 50);
        assert_eq!(int(m, "invariants.lost"), 0);
        assert_eq!(int(m, "invariants.dropped"), 0);
    }
    let dups = int(plain, "invariants.duplicates");
    assert!(dups > 100, "a retry after a lost answer appends a second copy: {dups}");
    assert_eq!(int(plain, "details.log.0.deduplicated_batches"), 0);
    assert_eq!(int(idem, "invariants.duplicates"), 0, "idempotence: no duplicate ever visible");
    assert!(
        int(idem, "details.log.0.deduplicated_batches") > 50,
        "the leader recognised the retried batches"
    );
    // Every duplicate is a record the plain log holds twice.
    let appended = int(plain, "details.log.0.records_appended");
    let unique = int(idem, "details.log.0.records_appended");
    assert_eq!(appended - unique, dups, "duplicates are exactly the extra appended records");
}

#[test]
fn exactly_once_output_waits_for_the_checkpoint_and_at_least_once_does_not() {
    // With an exactly-once sink, a record becomes visible when the first checkpoint after it
    // commits: its wait is uniform over the interval, so the median e2e is about half the
    // interval (plus a 10 ms snapshot). At-least-once output is visible when processed.
    let mut text = header("eo", "20k/s", "20s", 10_000);
    for (name, sink, interval) in [
        ("eo-1s", "exactly_once", "1s"),
        ("eo-4s", "exactly_once", "4s"),
        ("alo-1s", "at_least_once", "1s"),
        ("alo-4s", "at_least_once", "4s"),
    ] {
        text.push_str(&format!(
            r#"
[[model]]
name = "{name}"
kind = "event_sourced"
[model.processor]
sink = "{sink}"
checkpoint_interval = "{interval}"
snapshot = "10ms"
"#
        ));
    }
    let models = run(&text);
    let p50 = |n: &str| num(model(&models, n), "latency.e2e.p50_ms");
    let max = |n: &str| num(model(&models, n), "latency.e2e.max_ms");
    assert!((400.0..650.0).contains(&p50("eo-1s")), "eo-1s p50 {}", p50("eo-1s"));
    assert!((1_700.0..2_300.0).contains(&p50("eo-4s")), "eo-4s p50 {}", p50("eo-4s"));
    assert!(max("eo-1s") < 1_100.0 && max("eo-4s") < 4_100.0, "one interval at most");
    for n in ["alo-1s", "alo-4s"] {
        assert!(p50(n) < 20.0, "{n}: at-least-once output does not wait ({})", p50(n));
        assert_eq!(int(model(&models, n), "invariants.duplicates"), 0);
    }
    assert!((p50("alo-1s") - p50("alo-4s")).abs() < 1.0, "the interval does not matter");
    for n in ["eo-1s", "eo-4s"] {
        let m = model(&models, n);
        assert!(int(m, "details.processor.0.checkpoints") >= 4);
        assert_eq!(int(m, "invariants.duplicates") + int(m, "invariants.lost"), 0);
    }
}

#[test]
fn compaction_drops_records_a_lagging_consumer_had_not_read() {
    // One subtask at 100 us a record cannot keep up with 20k/s: its position falls behind. The
    // cleaner keeps the latest record of each of 200 keys in every closed 64 KiB segment, so
    // overwritten records the subtask had not fetched are gone for it (dropped, with the
    // compaction reason). A fast consumer reads everything before it is compacted (given the
    // half second min.compaction.lag.ms guarantees: with 0 a record committed microseconds
    // before its segment closes can be cleaned before the fetch returns); without compaction
    // the slow one loses nothing.
    let mut text = header("compact", "20k/s", "10s", 200);
    for (name, compaction, cost) in
        [("lagging", true, "100us"), ("no-compaction", false, "100us"), ("keeps-up", true, "2us")]
    {
        let lag = if name == "keeps-up" { "500ms" } else { "0s" };
        text.push_str(&format!(
            r#"
[[model]]
name = "{name}"
kind = "event_sourced"
[model.log]
partitions = 4
compaction = {compaction}
segment_bytes = "64KiB"
cleaner_interval = "1s"
min_compaction_lag = "{lag}"
[model.processor]
sink = "at_least_once"
parallelism = 1
record_cost = "{cost}"
"#
        ));
    }
    let models = run(&text);
    let lagging = model(&models, "lagging");
    let compacted = dropped_for(lagging, "compaction");
    assert!(compacted > 10_000, "the lagging consumer lost overwritten records: {compacted}");
    assert_eq!(compacted, int(lagging, "details.log.0.compacted"));
    assert_eq!(int(lagging, "invariants.dropped"), compacted, "dropped, for that reason only");
    assert_eq!(int(lagging, "invariants.lost"), 0, "dropped on purpose is not lost");
    assert_eq!(int(lagging, "invariants.duplicates"), 0, "a compacted record is never visible");
    let keeps_up = model(&models, "keeps-up");
    assert!(int(keeps_up, "details.log.0.cleaned") > 100_000, "the cleaner did run");
    assert_eq!(int(keeps_up, "invariants.dropped"), 0, "nothing unread was compacted");
    let plain = model(&models, "no-compaction");
    assert_eq!(int(plain, "invariants.dropped"), 0);
    assert_eq!(int(plain, "details.log.0.cleaned"), 0);
}

#[test]
fn poison_events_go_to_the_dead_letter_queue_after_the_retry_budget() {
    // A poison record fails every attempt: the blocking worker tries it 1 + retries times with
    // backoff, then dead-letters it, counted as dropped with its reason. Everything else is
    // applied. 100k events at a 0.2 % poison fraction: about 200 (binomial sd 14).
    let mut text = header("poison", "10k/s", "11s", 10_000);
    for (name, retries) in [("budget-3", 3), ("budget-0", 0)] {
        text.push_str(&format!(
            r#"
[[model]]
name = "{name}"
kind = "event_sourced"
consumer = "projection"
[model.projection]
workers = 8
batch = 50
poison = 0.002
retries = {retries}
backoff = "5ms"
backoff_max = "40ms"
"#
        ));
    }
    let models = run(&text);
    for (name, retries) in [("budget-3", 3u64), ("budget-0", 0)] {
        let m = model(&models, name);
        let dead = dropped_for(m, "poison event dead-lettered");
        let offered = int(m, "details.log.0.records_appended");
        let expected = 0.002 * offered as f64;
        assert!(
            (dead as f64 - expected).abs() < 5.0 * (expected * 0.998).sqrt(),
            "{name}: {dead} dead-lettered, expected about {expected:.0}"
        );
        assert!(dropped_for(m, &format!("after {retries} retries")) == dead, "{name}: reason");
        assert_eq!(int(m, "details.projection.0.dead_lettered"), dead);
        assert_eq!(
            int(m, "details.projection.0.failures"),
            dead * (retries + 1),
            "{name}: each poison event is tried once plus its budget"
        );
        assert_eq!(int(m, "invariants.dropped"), dead, "{name}: nothing else dropped");
        assert_eq!(int(m, "invariants.lost") + int(m, "invariants.in_flight_at_end"), 0);
        assert_eq!(int(m, "invariants.ordering_violations"), 0, "blocking retries keep order");
    }
    // The budget costs time: each poison event holds its worker for the backoffs 5+10+20 ms.
    let slow = num(model(&models, "budget-3"), "latency.e2e.p999_ms");
    let fast = num(model(&models, "budget-0"), "latency.e2e.p999_ms");
    assert!(slow > fast + 20.0, "blocking retries stall the partition: {slow} vs {fast}");
}

#[test]
fn deferred_retries_reorder_a_key_and_blocking_retries_do_not() {
    // A transient failure parks a statement in a retry topic (deferred) while later records of
    // the same keys are applied; a blocking worker retries before anything else.
    let mut text = header("defer", "10k/s", "8s", 500);
    for (name, mode) in [("blocking", "blocking"), ("deferred", "deferred")] {
        text.push_str(&format!(
            r#"
[[model]]
name = "{name}"
kind = "event_sourced"
consumer = "projection"
[model.projection]
workers = 4
batch = 20
fail = 0.02
backoff = "20ms"
retry = "{mode}"
"#
        ));
    }
    let models = run(&text);
    let blocking = model(&models, "blocking");
    let deferred = model(&models, "deferred");
    for m in [blocking, deferred] {
        assert!(int(m, "details.projection.0.failures") > 50);
        assert_eq!(int(m, "invariants.dropped") + int(m, "invariants.lost"), 0);
    }
    assert_eq!(int(blocking, "invariants.ordering_violations"), 0);
    assert!(int(deferred, "invariants.ordering_violations") > 20, "{deferred}");
}

#[test]
fn per_key_order_holds_with_key_affinity_and_idempotence_even_when_messages_are_lost() {
    // Five requests in flight per partition and lost messages: with idempotence the leader
    // refuses a batch that overtook a lost one (out of sequence) until the lost one is retried,
    // so each key's events are appended, and made visible, in order. Without it the retried
    // batch lands after later ones. With random affinity two producers race on one key, which
    // idempotence (per producer) cannot order.
    let mut text = header("order", "20k/s", "8s", 2_000);
    for (name, idempotence, acks, affinity) in [
        ("idempotent", true, "all", "key"),
        ("plain", false, "1", "key"),
        ("racing", true, "all", "random"),
    ] {
        text.push_str(&format!(
            r#"
[[model]]
name = "{name}"
kind = "event_sourced"
[model.producers]
instances = 8
affinity = "{affinity}"
[model.processor]
sink = "at_least_once"
[model.network]
drop = 0.005
[model.producer]
idempotence = {idempotence}
acks = "{acks}"
max_in_flight = 5
linger = "1ms"
request_timeout = "300ms"
delivery_timeout = "20s"
"#
        ));
    }
    let models = run(&text);
    let idem = model(&models, "idempotent");
    assert!(int(idem, "details.producer.0.requests_lost") > 20, "requests must get lost");
    assert!(int(idem, "details.log.0.out_of_order") > 0, "batches overtook lost ones");
    assert_eq!(int(idem, "invariants.ordering_violations"), 0);
    assert_eq!(int(idem, "invariants.duplicates"), 0);
    assert!(int(model(&models, "plain"), "invariants.ordering_violations") > 0);
    assert!(int(model(&models, "racing"), "invariants.ordering_violations") > 0);
}

#[test]
fn a_broker_appends_one_connections_requests_in_the_order_they_were_sent() {
    // A jittery link (an internet path: one way p50 20 ms, p99 40 ms) delivers a connection's
    // messages in order, so a request that drew a short delay arrives together with the slower
    // one sent before it. A broker reads a connection's next request only once the previous one
    // is handled; if two handler threads took both at once, the smaller batch would finish
    // first and the leader would refuse it as out of sequence (this happened 1,500 times in a
    // 150 s run before the rule), costing a 100 ms retry backoff. Nothing is lost here, so
    // nothing may be refused or retried.
    let mut text = header("conn", "2k/s", "10s", 2_000);
    text.push_str(
        r#"
[[model]]
name = "jitter"
kind = "event_sourced"
[model.processor]
sink = "at_least_once"
[model.network]
delay = { dist = "lognormal", p50 = "20ms", p99 = "40ms" }
"#,
    );
    let models = run(&text);
    let m = model(&models, "jitter");
    assert!(int(m, "details.log.0.batches_appended") > 15_000, "{m}");
    assert_eq!(int(m, "details.log.0.out_of_order"), 0, "batches refused as out of sequence");
    assert_eq!(int(m, "details.producer.0.errors"), 0);
    assert_eq!(int(m, "details.producer.0.retries"), 0);
    assert_eq!(int(m, "invariants.ordering_violations"), 0);
    // An answer takes a round trip of about 42 ms plus linger and replication, never a backoff.
    assert!(num(m, "latency.ack.p99_ms") < 100.0, "{m}");
}

#[test]
fn a_leader_crash_loses_acks_1_records_and_not_acks_all_ones() {
    // A broker dies uncontrolled. Its partitions elect a follower, which keeps only what it had
    // copied: records the old leader had acknowledged with acks = 1 but not yet replicated are
    // truncated (acknowledged, never visible: lost). With acks = all nothing unreplicated was
    // acknowledged; the producers retry into the new leader and nothing is lost.
    let mut text = header("leader", "50k/s", "8s", 10_000);
    for (name, acks, idempotence) in [("acks-1", "1", false), ("acks-all", "all", true)] {
        text.push_str(&format!(
            r#"
[[model]]
name = "{name}"
kind = "event_sourced"
[model.processor]
sink = "at_least_once"
[model.log]
replica_lag = {{ dist = "lognormal", p50 = "20ms", p99 = "60ms" }}
session_timeout = "1s"
[model.producer]
acks = "{acks}"
idempotence = {idempotence}
max_in_flight = 1
request_timeout = "2s"
delivery_timeout = "30s"
"#
        ));
    }
    text.push_str(
        r#"
[[fault]]
kind = "crash"
target = "log"
at = "4s"
duration = "3s"
"#,
    );
    let models = run(&text);
    let one = model(&models, "acks-1");
    let all = model(&models, "acks-all");
    assert!(int(one, "details.log.0.truncated") > 0);
    assert!(int(one, "invariants.lost") > 0, "acks=1: acknowledged records were truncated");
    assert!(int(all, "details.log.0.elections") > 0, "the crash moved leaders");
    assert!(int(all, "details.producer.0.retries") > 0, "producers retried into new leaders");
    assert_eq!(int(all, "invariants.lost"), 0);
    assert_eq!(int(all, "invariants.duplicates"), 0);
    assert_eq!(int(all, "invariants.dropped"), 0);
    // The stall shows in acknowledgements: at least the detection plus the election.
    assert!(num(all, "latency.ack.max_ms") > 1_000.0);
}

#[test]
fn a_processor_crash_replays_from_the_last_checkpoint() {
    // At-least-once output since the last completed checkpoint is emitted again after the
    // restart (duplicates); exactly-once output since then was never committed, so the replay
    // makes it visible once.
    let mut text = header("replay", "20k/s", "12s", 10_000);
    for (name, sink) in [("alo", "at_least_once"), ("eo", "exactly_once")] {
        text.push_str(&format!(
            r#"
[[model]]
name = "{name}"
kind = "event_sourced"
[model.processor]
sink = "{sink}"
checkpoint_interval = "2s"
snapshot = "10ms"
"#
        ));
    }
    text.push_str(
        r#"
[[fault]]
kind = "crash"
target = "processor"
at = "7s"
duration = "1s"
"#,
    );
    let models = run(&text);
    let alo = model(&models, "alo");
    let eo = model(&models, "eo");
    let replayed = int(alo, "details.processor.0.replayed");
    // The crash at 7 s is about 1 s after the checkpoint triggered at 6 s: ~20k records.
    assert!((10_000..40_000).contains(&replayed), "replayed {replayed}");
    assert_eq!(int(alo, "invariants.duplicates"), replayed, "every replayed record is seen twice");
    assert!(int(eo, "details.processor.0.replayed") > 10_000);
    assert_eq!(int(eo, "invariants.duplicates"), 0);
    for m in [alo, eo] {
        assert_eq!(int(m, "invariants.lost") + int(m, "invariants.dropped"), 0);
        assert_eq!(int(m, "details.processor.0.restarts"), 1);
    }
}

#[test]
fn a_projection_crash_replays_what_it_applied_since_its_last_offset_commit() {
    let mut text = header("proj-crash", "10k/s", "12s", 10_000);
    for (name, commit) in [("commit-5s", "5s"), ("commit-500ms", "500ms")] {
        text.push_str(&format!(
            r#"
[[model]]
name = "{name}"
kind = "event_sourced"
consumer = "projection"
[model.kafka_consumer]
auto_commit = "{commit}"
[model.projection]
workers = 4
batch = 50
"#
        ));
    }
    text.push_str(
        r#"
[[fault]]
kind = "crash"
target = "processor"
at = "8s"
duration = "1s"
"#,
    );
    let models = run(&text);
    let long = model(&models, "commit-5s");
    let short = model(&models, "commit-500ms");
    let d_long = int(long, "invariants.duplicates");
    let d_short = int(short, "invariants.duplicates");
    // Crash at 8 s: 3 s after the commit at 5 s (about 30k records) against at most 500 ms.
    assert!((20_000..40_000).contains(&d_long), "{d_long}");
    assert!(d_short <= 6_000, "{d_short}");
    assert_eq!(d_long, int(long, "details.projection.0.replayed"));
}
