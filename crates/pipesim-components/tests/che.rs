//! The [`Lru`]'s hit ratio under Zipf popularity matches Che's approximation
//! ([`che_hit_ratio`]) under the independent reference model.
//!
//! **Setup.** Requests are independent draws from a Zipf law over `ITEMS` items (the engine's
//! [`Zipf`] sampler on a named [`RngStreams`] stream): the independent reference model (IRM)
//! that Che's approximation assumes. Every request looks its item up; a miss inserts it. The
//! first `warmup` requests fill the cache and are not counted.
//!
//! **Tolerance**, derived rather than tuned: `|measured − Che| ≤ APPROX + 4·SE`.
//!
//! - *Sampling*, `SE`: the measured ratio is a mean of hit indicators, which are correlated over
//!   about one characteristic time `t_C` (the time an item stays in the cache unrequested, in
//!   requests). The counted requests are cut into `BATCHES` batches of at least `10·t_C`
//!   requests, long enough for batch means to be nearly independent, and `SE` is their standard
//!   deviation over `√BATCHES`. Four standard errors leave a false alarm odds below 1e-4 per
//!   configuration; the streams are fixed, so the test is deterministic anyway.
//! - *Approximation*, `APPROX = 0.002` (0.2 percentage points): Che's approximation treats
//!   each item's presence as independent of the others' given `t_C`. For Zipf popularity it is
//!   asymptotically exact as the cache grows (Che, Tung and Wang 2002; Fricker, Robert and
//!   Roberts 2012), and for a catalogue of 1e5 items and 100 to 10,000 cached items its error is
//!   hundredths of a point (at most 0.05 points in these nine configurations); 0.2 points bounds
//!   it with room and stays well inside the power margin below.
//!
//! **Power.** The same characteristic-time argument gives FIFO (and random) replacement the hit
//! ratio Σ q·(q·T)/(1 + q·T) with Σ q·T/(1 + q·T) = C (Dan and Towsley 1990; Martina et al.
//! 2014), clearly below LRU's under Zipf. The test checks, for every configuration, that the
//! tolerance is less than half of the gap between the two, so a cache that evicted in insertion
//! order, or at random, instead of by recency would fail it.

use pipesim_components::{Lru, che_hit_ratio};
use pipesim_engine::{RngStreams, Zipf};

/// Items in the catalogue.
const ITEMS: u64 = 100_000;
/// Batches of the batch-means standard error.
const BATCHES: usize = 20;
/// Che's approximation error bound, absolute, for capacities of 100 and more (see above).
const APPROX: f64 = 0.002;

/// q_k = k^-s / Σ j^-s for k = 1..=n.
fn zipf_probabilities(n: u64, s: f64) -> Vec<f64> {
    let w: Vec<f64> = (1..=n).map(|k| libm::pow(k as f64, -s)).collect();
    let total: f64 = w.iter().sum();
    w.into_iter().map(|x| x / total).collect()
}

/// Solves Σ f(q·t) = c for t by bisection (f increasing in t).
fn characteristic_time(q: &[f64], c: f64, f: impl Fn(f64) -> f64) -> f64 {
    let occupancy = |t: f64| q.iter().map(|&p| f(p * t)).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1.0);
    while occupancy(hi) < c {
        hi *= 2.0;
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if occupancy(mid) < c { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

/// LRU's characteristic time (Che): Σ (1 − e^(−q t)) = C.
fn che_time(q: &[f64], c: usize) -> f64 {
    characteristic_time(q, c as f64, |x| 1.0 - libm::exp(-x))
}

/// FIFO / random replacement under the same approximation.
fn fifo_hit_ratio(q: &[f64], c: usize) -> f64 {
    let t = characteristic_time(q, c as f64, |x| x / (1.0 + x));
    q.iter().map(|&p| p * (p * t) / (1.0 + p * t)).sum()
}

/// The measured hit ratio of an LRU of `capacity` items and its batch-means standard error.
fn measure(exponent: f64, capacity: usize, t_c: f64, stream: &str) -> (f64, f64) {
    let zipf = Zipf::new(ITEMS, exponent);
    let mut rng = RngStreams::new(2024).stream(stream);
    let mut lru = Lru::new(capacity);
    let mut request = |lru: &mut Lru| {
        let key = (zipf.sample(&mut rng) - 1) as u32;
        if lru.get(key).is_none() {
            lru.put(key, 0);
        }
    };
    let batch = ((10.0 * t_c) as u64).max(100_000);
    let warmup = (5 * batch).max(20 * capacity as u64);
    for _ in 0..warmup {
        request(&mut lru);
    }
    let mut means = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let (h0, m0) = (lru.hits, lru.misses);
        for _ in 0..batch {
            request(&mut lru);
        }
        let (h, m) = (lru.hits - h0, lru.misses - m0);
        means.push(h as f64 / (h + m) as f64);
    }
    let mean = means.iter().sum::<f64>() / BATCHES as f64;
    let var = means.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (BATCHES - 1) as f64;
    (mean, (var / BATCHES as f64).sqrt())
}

fn check(exponent: f64, capacity: usize) {
    let q = zipf_probabilities(ITEMS, exponent);
    let che = che_hit_ratio(&q, capacity);
    let fifo = fifo_hit_ratio(&q, capacity);
    let t_c = che_time(&q, capacity);
    let (measured, se) = measure(exponent, capacity, t_c, &format!("che/{exponent}/{capacity}"));
    let tol = APPROX + 4.0 * se;
    let what = format!(
        "zipf s={exponent}, {ITEMS} items, LRU of {capacity}: measured {measured:.5} (SE {se:.5}), Che {che:.5}, FIFO {fifo:.5}, tolerance {tol:.5}"
    );
    assert!(
        tol < 0.5 * (che - fifo),
        "{what}: the tolerance could not tell LRU from FIFO here; pick another configuration"
    );
    assert!((measured - che).abs() <= tol, "{what}");
}

#[test]
fn small_cache_100() {
    for s in [0.8, 1.0, 1.2] {
        check(s, 100);
    }
}

#[test]
fn medium_cache_1000() {
    for s in [0.8, 1.0, 1.2] {
        check(s, 1_000);
    }
}

/// Seed 000's in-process LRU of 10,000 entries.
#[test]
fn seed_000_cache_10000() {
    for s in [0.8, 1.0, 1.2] {
        check(s, 10_000);
    }
}

/// The approximation is a fixed point of the occupancy equation: at t_C, the expected number of
/// items present is the capacity, and the hit ratio lies between C/N (uniform) and 1.
#[test]
fn che_oracle_is_consistent() {
    let q = zipf_probabilities(ITEMS, 1.0);
    for c in [100, 1_000, 10_000] {
        let t = che_time(&q, c);
        let occupancy: f64 = q.iter().map(|&p| 1.0 - libm::exp(-p * t)).sum();
        assert!((occupancy - c as f64).abs() < 1e-6 * c as f64);
        let h = che_hit_ratio(&q, c);
        assert!(h > c as f64 / ITEMS as f64 && h < 1.0, "{h}");
    }
    assert_eq!(che_hit_ratio(&q, ITEMS as usize), 1.0);
}
