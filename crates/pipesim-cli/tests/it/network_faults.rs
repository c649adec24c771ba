//! Network faults on the producers' connections (`target = "network"`): partitions, latency
//! spikes and packet loss act on the links' messages, and the report attributes their effect to
//! the fault's window (statistics by phase).

use crate::support::*;
use pipesim_metrics::RunResults;
use std::path::Path;

fn run(text: &str) -> RunResults {
    run_text(text, Path::new("net.toml"), Some(1)).outcomes.remove(0).results
}

/// A design at 5k/s for 10 s with one fault from 4 s to 5 s on `network`. The clients time out
/// after 2 s, and the baseline's pool is roomy: with a short timeout and a small pool, the
/// retries after a fault can outgrow the pool and never drain (a metastable retry storm; try
/// `timeout = "300ms"` with the default pool), which is not what these tests are about.
fn scenario(kind: &str, fault: &str) -> String {
    let extra = match kind {
        "stations" => "[[model.station]]\nname = \"s\"\nservice = \"1ms\"\n",
        "baseline" => "[model.client]\nretries = 8\ntimeout = \"2s\"\n[model.pool]\nsize = 200\n",
        _ => "[model.client]\nretries = 8\ntimeout = \"2s\"\n",
    };
    format!(
        r#"
name = "net"
seed = 3
duration = "10s"
warmup = "1s"
drain = "30s"
[workload]
arrivals = {{ process = "poisson", rate = "5k/s" }}
keys = {{ count = 10_000 }}
[[fault]]
target = "network"
at = "4s"
duration = "1s"
{fault}
[[model]]
name = "m"
kind = "{kind}"
{extra}"#
    )
}

fn p99(h: &pipesim_metrics::LatencyHistogram) -> u64 {
    h.quantile_ns(0.99)
}

#[test]
fn a_partition_raises_the_p99_of_the_events_created_during_it() {
    for kind in ["baseline", "lua_ordered"] {
        let r = run(&scenario(kind, "kind = \"partition\"\n"));
        let (during, outside) = (&r.phases[0], &r.phases[1]);
        // Requests sent into the partition are lost; their clients time out (2 s) and retry
        // until one gets through after the heal.
        assert!(p99(&during.e2e) > 2_000_000_000, "{kind}: p99 during {}", p99(&during.e2e));
        assert!(p99(&outside.e2e) < 50_000_000, "{kind}: p99 outside {}", p99(&outside.e2e));
        assert_eq!(r.invariants.lost, 0, "{kind}: retries deliver everything");
        // The baseline writes every event; the Lua guard drops the events whose retry arrives
        // after a newer event of the key (and never reorders them).
        assert_eq!(during.delivered + during.dropped, during.created, "{kind}");
        // Retried INSERTs land after newer events of their key: the baseline reorders, and the
        // reordering belongs to the events created during the partition. The guard never does.
        if kind == "baseline" {
            assert!(during.ordering_violations > 100, "{}", during.ordering_violations);
        } else {
            assert_eq!(r.invariants.ordering_violations, 0, "{kind}");
            assert!(during.dropped > 100, "{}", during.dropped);
        }
    }
}

#[test]
fn a_one_way_partition_of_answers_makes_plain_inserts_duplicate() {
    // The requests get through and are written; the answers are lost, so the clients retry
    // writes that had succeeded.
    let answers = "kind = \"partition\"\ndirection = \"responses\"\n";
    let insert = run(&scenario("baseline", answers));
    assert!(insert.phases[0].duplicates > 100, "{:?}", insert.invariants);
    let requests = "kind = \"partition\"\ndirection = \"requests\"\n";
    let lost_requests = run(&scenario("baseline", requests));
    assert_eq!(lost_requests.invariants.duplicates, 0, "nothing was written twice");
}

#[test]
fn a_holding_partition_delays_without_retries() {
    let held = run(&scenario("baseline", "kind = \"partition\"\nin_flight = \"hold\"\n"));
    let during = &held.phases[0];
    // Held until the heal at 5 s: an event created at 4 s waits about a second.
    let d = p99(&during.e2e);
    assert!(d > 800_000_000 && d < 1_100_000_000, "{d}");
    assert_eq!(held.invariants.duplicates, 0);
}

#[test]
fn a_latency_spike_adds_its_delay_to_the_window_only() {
    let r = run(&scenario("baseline", "kind = \"latency_spike\"\nextra = \"50ms\"\n"));
    let (during, outside) = (&r.phases[0], &r.phases[1]);
    // Requests and answers both cross a link during the window: at least 50 ms, usually 100.
    assert!(during.ack.quantile_ns(0.5) >= 50_000_000, "{}", during.ack.quantile_ns(0.5));
    assert!(outside.ack.quantile_ns(0.5) < 5_000_000);
}

#[test]
fn packet_loss_costs_retransmission_timeouts() {
    let r = run(&scenario("baseline", "kind = \"packet_loss\"\nprobability = 0.05\n"));
    let (during, outside) = (&r.phases[0], &r.phases[1]);
    // About 10 % of round trips lose a transmission (5 % each way) and wait 200 ms or more;
    // the messages behind them on the same connection wait too.
    assert!(p99(&during.e2e) >= 200_000_000, "{}", p99(&during.e2e));
    // Outside the window most events are unaffected; those sent just after it still queue
    // behind retransmissions on their connection, so the tail outside is lighter, not clean.
    assert!(outside.e2e.quantile_ns(0.5) < 5_000_000);
    assert!(p99(&outside.e2e) < p99(&during.e2e) / 4, "{}", p99(&outside.e2e));
    assert_eq!(r.invariants.lost, 0);
}

/// `pipesim validate` on a bad fault is rejected ([`assert_rejected_in`]) with `expected`.
fn refused(model: &str, fault: &str, expected: &str) {
    let tmp = scratch(&scenario(model, fault));
    assert_rejected_in(fault, tmp.path(), &["validate", "s.toml"], &[expected]);
}

#[test]
fn bad_network_faults_are_refused() {
    refused(
        "baseline",
        "kind = \"crash\"\n",
        "fault[0].kind: model \"m\" (baseline) cannot take a `crash` on `network`; it takes: partition, latency_spike, packet_loss",
    );
    refused(
        "baseline",
        "kind = \"latency_spike\"\n",
        "fault[0].extra: a latency_spike needs `extra`",
    );
    refused(
        "baseline",
        "kind = \"packet_loss\"\nprobability = 0.1\nrto = \"50ms\"\n",
        "fault[0].rto: 50ms is below TCP's minimum retransmission timeout (200ms)",
    );
    refused(
        "baseline",
        "kind = \"packet_loss\"\nprobability = 0.0\n",
        "fault[0].probability: must be a probability above 0 and at most 1",
    );
    refused(
        "baseline",
        "kind = \"partition\"\nextra = \"5ms\"\n",
        "fault[0].extra: `extra` is a parameter of `latency_spike` and `disk_stall`, not of `partition`",
    );
    refused(
        "baseline",
        "kind = \"partition\"\ndirection = \"sideways\"\n",
        "fault[0].direction: unknown direction `sideways`; one of: both, requests, responses",
    );
    refused(
        "stations",
        "kind = \"partition\"\n",
        "fault[0].target: model \"m\" (stations) has no role `network`",
    );
}
