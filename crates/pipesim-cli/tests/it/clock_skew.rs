//! Known answers for the Lua guard when it compares the producers' clocks (`guard.value =
//! "client_clock"`), against closed forms.
//!
//! The setting makes the closed forms exact: two producer instances behind a load balancer
//! (each event picks one at random), uniform keys at per-key rate λ_k, a constant network delay
//! and FIFO shards (so no event overtakes another of its key), and nothing else that drops.
//!
//! - **Clocks apart by δ.** An event from the clock behind is stamped lower than an event of
//!   its key sent up to δ earlier from the clock ahead, which the guard has already appended: it
//!   is dropped if the other instance sent its key within δ before, chance `1 − e^(−λ_k δ / 2)`.
//!   An event from the clock ahead is never dropped. So a fraction `(1 − e^(−λ_k δ / 2)) / 2`
//!   of all events is dropped, though every one was valid.
//! - **A coarse clock, no skew.** Stamps are the clock read to a tick `r`: the first event of a
//!   key in a tick is appended and the others of that tick are dropped. The events that are
//!   first in their tick are the non-empty ticks, so a fraction `1 − (1 − e^(−λ_k r)) / (λ_k r)`
//!   is dropped.
//! - **A `clock_skew` fault** puts one instance δ ahead for its window: the first case's loss,
//!   for the events of the window only.

use crate::support::*;
use pipesim_models::ModelOutcome;
use std::path::Path;

const KEYS: u32 = 100;
const RATE_PER_S: f64 = 10_000.0;

/// A lua_ordered model of two instances with the given `[model.guard]` and extra tables.
fn scenario(guard: &str, extra: &str) -> String {
    format!(
        r#"name = "clock"
seed = 5
duration = "10s"
drain = "5s"
[workload]
arrivals = {{ process = "poisson", rate = "{RATE_PER_S}/s" }}
keys = {{ count = {KEYS}, popularity = "uniform" }}
[[model]]
name = "lua"
kind = "lua_ordered"
producers = {{ instances = 2, affinity = "random" }}
network = {{ delay = "200us" }}
guard = {{ {guard} }}
{extra}"#
    )
}

/// The guard's drops over the scripts it ran, and the outcome.
fn guard_drop_fraction(text: &str) -> (f64, ModelOutcome) {
    let mut outcomes = run_text(text, Path::new("clock.toml"), Some(1)).outcomes;
    let o = outcomes.remove(0);
    let redis = o.details.iter().find(|t| t.name == "redis").expect("a redis table");
    let cell = |c: &str| redis.number(0, c).unwrap_or_else(|| panic!("no redis.{c}"));
    assert_eq!(cell("lru_drops"), 0.0, "the LRU drops nothing here");
    (cell("guard_drops") / cell("scripts"), o)
}

fn assert_close(what: &str, simulated: f64, expected: f64, relative: f64) {
    eprintln!("{what}: expected {expected:.5}, simulated {simulated:.5}");
    assert!(
        (simulated - expected).abs() <= relative * expected,
        "{what}: simulated {simulated:.5}, expected {expected:.5} ± {:.0} %",
        relative * 100.0
    );
}

#[test]
fn clocks_apart_drop_the_valid_events_of_the_clock_behind() {
    let per_key_per_s = RATE_PER_S / f64::from(KEYS);
    for delta_ms in [2.0, 10.0, 40.0] {
        let (fraction, o) = guard_drop_fraction(&scenario(
            &format!(
                "value = \"client_clock\", clock_resolution = \"1us\", clock_spread = \"{delta_ms}ms\""
            ),
            "",
        ));
        let expected = (1.0 - (-per_key_per_s * delta_ms / 1e3 / 2.0).exp()) / 2.0;
        assert_close(&format!("spread {delta_ms} ms"), fraction, expected, 0.04);
        assert_eq!(o.results.invariants.ordering_violations, 0, "no event overtakes another");
    }
    // The same run comparing sequence numbers drops nothing: no event arrives late.
    let (fraction, _) = guard_drop_fraction(&scenario("value = \"sequence\"", ""));
    assert_eq!(fraction, 0.0);
}

#[test]
fn a_coarse_clock_keeps_one_event_of_a_key_per_tick() {
    let per_key_per_s = RATE_PER_S / f64::from(KEYS);
    for tick_ms in [1.0, 10.0] {
        let (fraction, _) = guard_drop_fraction(&scenario(
            &format!("value = \"client_clock\", clock_resolution = \"{tick_ms}ms\""),
            "",
        ));
        let x = per_key_per_s * tick_ms / 1e3;
        let expected = 1.0 - (1.0 - (-x).exp()) / x;
        assert_close(&format!("tick {tick_ms} ms"), fraction, expected, 0.05);
    }
}

#[test]
fn a_clock_skew_fault_drops_the_window_s_events_of_the_clock_behind() {
    let fault = "[[fault]]\nkind = \"clock_skew\"\ntarget = \"producer\"\nat = \"3s\"\nduration = \"4s\"\nahead = \"10ms\"\n";
    let (fraction, o) = guard_drop_fraction(&scenario(
        "value = \"client_clock\", clock_resolution = \"1us\"",
        fault,
    ));
    let per_key_per_s = RATE_PER_S / f64::from(KEYS);
    let in_window = (1.0 - (-per_key_per_s * 0.010 / 2.0).exp()) / 2.0;
    // 4 s of the 10 s run; when the clock steps back, a few more of its events are stamped
    // below its own last ones (at most the δ after the window: 10 ms of 10 s).
    assert_close("clock_skew window", fraction, in_window * 0.4, 0.06);
    let drops: u64 = o
        .results
        .invariants
        .dropped_by_reason
        .iter()
        .filter(|d| d.reason.starts_with("Lua guard"))
        .map(|d| d.events)
        .sum();
    assert!(drops > 1_000, "the window's drops are counted as the guard's: {drops}");
}
