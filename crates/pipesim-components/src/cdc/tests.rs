//! Unit tests of the connector and the topic, driven as the run loop would: they pop events
//! and advance time.
#![allow(clippy::disallowed_methods)]

use super::*;
use crate::kafka::testkit::NoFiles;
use pipesim_config::{DistSpec, Duration};
use pipesim_engine::{NS_PER_MS, NS_PER_S, NS_PER_US, RngStreams, Sim, SimTime};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ev {
    Cdc(CdcEvent),
    Topic(TopicEvent),
}

fn cdc(decode_us: u64, flush_ms: u64) -> Cdc<u32> {
    let p = CdcParams {
        decode: DistSpec::Const { value: Duration { ns: decode_us * NS_PER_US } },
        poll_interval: Duration { ns: 0 },
        offset_flush: Duration { ns: flush_ms * NS_PER_MS },
    };
    Cdc::new(&p.validate(&NoFiles).unwrap(), RngStreams::new(1).stream("cdc"))
}

/// Runs the queue to `until`, collecting what the connector publishes.
fn run(
    sim: &mut Sim<Ev>,
    c: &mut Cdc<u32>,
    until: SimTime,
    out: &mut Vec<(SimTime, Published<u32>)>,
) {
    let mut buf = Vec::new();
    while sim.queue().peek_key().is_some_and(|(t, _)| t <= until) {
        let (t, ev) = sim.queue().pop().unwrap();
        sim.set_now(t);
        if let Ev::Cdc(e) = ev {
            c.handle(sim, e, Ev::Cdc, &mut buf);
            out.extend(buf.drain(..).map(|p| (t, p)));
        }
    }
    sim.set_now(until);
}

#[test]
fn publishes_in_commit_order_one_at_a_time() {
    let mut sim: Sim<Ev> = Sim::new();
    let mut c = cdc(100, 60_000);
    c.start(&mut sim, Ev::Cdc);
    for j in 0..5 {
        c.capture(&mut sim, j, j, Ev::Cdc);
    }
    let mut out = Vec::new();
    run(&mut sim, &mut c, NS_PER_S, &mut out);
    let got: Vec<(SimTime, u32, u64)> =
        out.iter().map(|(t, p)| (*t / NS_PER_US, p.change.job, p.change.lsn)).collect();
    assert_eq!(got, [(100, 0, 1), (200, 1, 2), (300, 2, 3), (400, 3, 4), (500, 4, 5)]);
    assert!(out.iter().all(|(_, p)| !p.replay));
    assert_eq!(c.stats().mean_lag_ms(), 0.3);
}

#[test]
fn a_crash_replays_from_the_last_flushed_position() {
    let mut sim: Sim<Ev> = Sim::new();
    let mut c = cdc(10, 100); // offsets flushed every 100 ms
    c.start(&mut sim, Ev::Cdc);
    let mut out = Vec::new();
    // Three changes before the first flush, two after it.
    for j in 0..3 {
        c.capture(&mut sim, j, 0, Ev::Cdc);
    }
    run(&mut sim, &mut c, 150 * NS_PER_MS, &mut out);
    for j in 3..5 {
        c.capture(&mut sim, j, 0, Ev::Cdc);
    }
    run(&mut sim, &mut c, 160 * NS_PER_MS, &mut out);
    assert_eq!(out.len(), 5);
    c.crash(&mut sim, 50 * NS_PER_MS, Ev::Cdc);
    c.capture(&mut sim, 5, 0, Ev::Cdc); // committed while the connector is down
    run(&mut sim, &mut c, NS_PER_S, &mut out);
    let after: Vec<(u32, bool)> = out[5..].iter().map(|(_, p)| (p.change.job, p.replay)).collect();
    // Only what was published after the flush at 100 ms comes again, then the new change.
    assert_eq!(after, [(3, true), (4, true), (5, false)]);
    assert!(out[5].0 >= 210 * NS_PER_MS, "nothing before the restart");
    assert_eq!(c.stats().replayed, 2);
}

#[test]
fn a_sleeping_decoder_batches_changes_until_it_wakes() {
    let mut sim: Sim<Ev> = Sim::new();
    let p = CdcParams {
        decode: DistSpec::Const { value: Duration { ns: NS_PER_US } },
        poll_interval: Duration { ns: 100 * NS_PER_MS },
        offset_flush: Duration { ns: 60 * NS_PER_S },
    };
    let mut c: Cdc<u32> =
        Cdc::new(&p.validate(&NoFiles).unwrap(), RngStreams::new(1).stream("cdc"));
    let mut out = Vec::new();
    c.capture(&mut sim, 0, 0, Ev::Cdc); // decoded at once; then the decoder finds nothing and sleeps
    run(&mut sim, &mut c, 10 * NS_PER_MS, &mut out);
    c.capture(&mut sim, 1, 0, Ev::Cdc);
    run(&mut sim, &mut c, NS_PER_S, &mut out);
    assert_eq!(out[0].0, NS_PER_US);
    assert_eq!(out[1].0, NS_PER_US + 100 * NS_PER_MS + NS_PER_US, "waits for the wake-up");
}

#[test]
fn topic_keeps_partition_order_and_redelivers_after_a_rewind() {
    let spec = TopicParams {
        partitions: 2,
        delivery: DistSpec::Uniform { min: Duration { ns: 1 }, max: Duration { ns: 1_000_000 } },
    }
    .validate(&NoFiles)
    .unwrap();
    let mut t: Topic<u32> = Topic::new(&spec, RngStreams::new(3).stream("topic"));
    let mut sim: Sim<Ev> = Sim::new();
    for i in 0..100u32 {
        let key = i % 7;
        t.publish(
            &mut sim,
            Change { job: i, key, lsn: u64::from(i) + 1, committed_ns: 0 },
            Ev::Topic,
        );
    }
    let mut seen: Vec<Vec<u64>> = vec![Vec::new(); 2];
    let drain = |sim: &mut Sim<Ev>, t: &mut Topic<u32>, seen: &mut Vec<Vec<u64>>, stop: usize| {
        let mut n = 0;
        while n < stop {
            let Some((time, Ev::Topic(e))) = sim.queue().pop() else { break };
            sim.set_now(time);
            if let Some((p, c)) = t.handle(sim, e, Ev::Topic) {
                assert_eq!(p, t.partition_of(c.key));
                seen[p as usize].push(c.lsn);
                t.done(p);
                n += 1;
            }
        }
    };
    drain(&mut sim, &mut t, &mut seen, 40);
    t.commit();
    drain(&mut sim, &mut t, &mut seen, 20);
    t.rewind(); // the 20 consumed since the commit come again
    t.resume(&mut sim, Ev::Topic);
    drain(&mut sim, &mut t, &mut seen, usize::MAX);
    for s in &seen {
        // Within a partition, positions only go back once: at the rewind.
        let backs = s.windows(2).filter(|w| w[1] <= w[0]).count();
        assert!(backs <= 1, "{s:?}");
    }
    assert_eq!(seen.iter().filter(|s| s.windows(2).any(|w| w[1] <= w[0])).count(), 2);
    let total: usize = seen.iter().map(Vec::len).sum();
    assert_eq!(total, 120, "100 changes, 20 of them twice");
    assert_eq!(t.lag(), 0);
}
