//! Unit tests of the cache service, driven as the run loop would: they pop events and advance
//! time.
#![allow(clippy::disallowed_methods)]

use super::*;
use crate::kafka::testkit::NoFiles;
use pipesim_engine::{NS_PER_S, RngStreams, Sim};

type Ev = CacheEvent<u32, u32>;

fn cache(ring: u32, entities: u32, dedup: bool, wal: bool) -> Cache<u32, u32> {
    let p = CacheParams { ring, entities, dedup, wal, ..Default::default() };
    Cache::new(&p.validate(&NoFiles).unwrap(), RngStreams::new(1).stream("cache"))
}

/// Applies `change` and returns what happened.
fn apply(sim: &mut Sim<Ev>, c: &mut Cache<u32, u32>, key: u32, lsn: u64) -> Apply {
    assert!(c.consume(sim, 0, Change { job: 0, key, lsn, committed_ns: 0 }, |e| e));
    let mut out = Vec::new();
    while let Some((t, e)) = sim.queue().pop() {
        sim.set_now(t);
        c.handle(sim, e, |e| e, &mut out);
    }
    match out.pop() {
        Some(CacheOutcome::Applied { apply, .. }) => apply,
        _ => panic!("no apply outcome"),
    }
}

#[test]
fn rings_are_bounded_and_only_held_entities_are_updated() {
    let mut sim: Sim<Ev> = Sim::new();
    let mut c = cache(3, 10, false, true);
    assert_eq!(apply(&mut sim, &mut c, 7, 1), Apply::NotHeld);
    assert_eq!(c.lookup(0, &[7], |_| 1), Lookup { hits: 0, misses: 1, rows: 1 });
    c.fill(0, &[7], 1, |_| 1);
    for lsn in 2..=10 {
        assert_eq!(apply(&mut sim, &mut c, 7, lsn), Apply::Appended { repeat: false });
    }
    assert_eq!(c.events_held(), 3, "a ring of 3 holds 3 events however many arrive");
    assert_eq!(c.stats().overwritten, 9 - 2, "two of the nine fill the ring to 3");
    assert_eq!(c.lookup(0, &[7], |_| 10).hits, 1);
}

#[test]
fn a_change_the_entry_already_reflects_is_appended_twice_unless_deduplicated() {
    for dedup in [false, true] {
        let mut sim: Sim<Ev> = Sim::new();
        let mut c = cache(100, 10, dedup, true);
        c.fill(0, &[1], 5, |_| 5); // loaded from the store as of position 5
        let raced = apply(&mut sim, &mut c, 1, 4); // a change the load already included
        let fresh = apply(&mut sim, &mut c, 1, 6);
        if dedup {
            assert_eq!(raced, Apply::Deduplicated);
            assert_eq!(c.events_held(), 6);
        } else {
            assert_eq!(raced, Apply::Appended { repeat: true });
            assert_eq!(c.events_held(), 7);
        }
        assert_eq!(fresh, Apply::Appended { repeat: false });
    }
}

#[test]
fn the_least_recently_read_entity_is_evicted_with_its_ring() {
    let mut c = cache(10, 2, false, true);
    c.fill(0, &[1, 2], 0, |k| k * 4); // rings of 4 and 8 events
    assert_eq!(c.events_held(), 12);
    c.lookup(0, &[1], |_| 0); // 1 is now more recent than 2
    c.fill(0, &[3], 0, |_| 1);
    assert_eq!(c.entities_held(), 2);
    assert_eq!(c.events_held(), 5, "entity 2's ring went with it");
    assert_eq!(c.lookup(0, &[2], |_| 8), Lookup { hits: 0, misses: 1, rows: 8 });
}

#[test]
fn a_crash_keeps_entries_only_with_a_wal() {
    for wal in [false, true] {
        let mut sim: Sim<Ev> = Sim::new();
        let mut c = cache(10, 10, false, wal);
        c.fill(0, &[1, 2, 3], 0, |_| 2);
        let mut out = Vec::new();
        c.crash(&mut sim, NS_PER_S, |e| e, &mut out);
        assert!(c.is_down());
        assert!(!c.request(&mut sim, 0, 1, |e| e), "no reads while down");
        let (t, e) = sim.queue().pop().unwrap();
        sim.set_now(t);
        c.handle(&mut sim, e, |e| e, &mut out);
        assert!(!c.is_down());
        let replay = if wal { 5 * NS_PER_S } else { 0 };
        assert_eq!(t, NS_PER_S + replay);
        assert_eq!(c.lookup(0, &[1, 2, 3], |_| 2).hits, if wal { 3 } else { 0 });
    }
}
