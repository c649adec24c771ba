//! Statistics by phase: the events created during a fault window, and those created outside
//! all windows, each with their own latency and findings.

use crate::support::*;
use pipesim_metrics::RunResults;
use std::path::Path;

fn run(text: &str) -> RunResults {
    run_text(text, Path::new("phases.toml"), Some(1)).outcomes.remove(0).results
}

/// One Postgres design at 20k/s for 10 s; with `crash`, the store crashes at 6 s for 1 s.
fn scenario(mode: &str, crash: bool) -> String {
    let fault = if crash {
        "[[fault]]\nkind = \"crash\"\ntarget = \"store\"\nat = \"6s\"\nduration = \"1s\"\n"
    } else {
        ""
    };
    format!(
        r#"
name = "phases"
seed = 5
duration = "10s"
warmup = "2s"
drain = "20s"
[workload]
arrivals = {{ process = "poisson", rate = "20k/s" }}
keys = {{ count = 100_000, popularity = "zipf", exponent = 1.0 }}
{fault}
[[model]]
name = "m"
kind = "baseline"
[model.pool]
size = 200
[model.client]
retries = 8
[model.store]
index = "btree"
fsync = "200us"
synchronous_commit = "{mode}"
wal_writer_delay = "200ms"
"#
    )
}

#[test]
fn a_crash_window_holds_the_latency_of_the_events_created_during_it() {
    let r = run(&scenario("on", true));
    assert_eq!(r.phases.len(), 2, "one fault window, then outside");
    let (during, outside) = (&r.phases[0], &r.phases[1]);
    assert_eq!(during.fault, Some(0));
    assert_eq!((during.start_ns, during.end_ns), (6_000_000_000, 7_000_000_000));
    assert_eq!(outside.fault, None);
    // The window lies inside the measured interval, so the phases split the measured events.
    assert_eq!(during.created + outside.created, r.throughput.offered);
    assert!(during.created > 15_000 && during.created < 25_000, "{}", during.created);
    // An event created during the outage waits for the restart: on average half the window.
    let (d50, o50) = (during.e2e.quantile_ns(0.5), outside.e2e.quantile_ns(0.5));
    assert!(d50 > 200_000_000, "median during the crash {d50} ns");
    assert!(o50 < 20_000_000, "median outside {o50} ns");
    assert_eq!(during.e2e.count(), during.delivered);
}

#[test]
fn events_lost_in_a_crash_belong_to_the_phase_they_were_created_in() {
    let r = run(&scenario("off", true));
    let lost: u64 = r.phases.iter().map(|p| p.lost).sum();
    assert!(r.invariants.lost > 0);
    assert_eq!(lost, r.invariants.lost, "every lost event is in exactly one phase here");
    // Asynchronous commit loses what was acknowledged before the crash and not yet flushed:
    // events created before it, never those created while the store was down.
    assert_eq!(r.phases[0].lost, 0);
    assert_eq!(r.phases[1].lost, r.invariants.lost);
}

#[test]
fn without_faults_there_are_no_phases() {
    let r = run(&scenario("on", false));
    assert!(r.phases.is_empty());
}
