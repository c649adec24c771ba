//! A bare, hand-written M/M/1 loop: the yardstick `pipesim run` is compared against
//! (`benches/bare_ratio.sh` runs both as whole processes, alternating, and prints the ratio).
//!
//! What a person would write for one queue in an afternoon: a `std` binary heap of departures,
//! ChaCha8 for randomness, exponential draws by inversion, and every customer's sojourn recorded
//! into an HdrHistogram (3 significant digits, as pipesim's run histogram). No keys, no
//! invariant checks, no timeline, no report.
//!
//! ```sh
//! cargo bench --bench bare_mm1 -- RATE_PER_S CUSTOMERS     # e.g. 900000 10000000
//! ```
//!
//! Prints `customers wall_s customers_per_s p99_ns` on stdout. Under `cargo test --benches` it
//! runs 100 k customers and checks the mean sojourn against theory.

#![allow(missing_docs)]
#![allow(clippy::disallowed_methods)] // a benchmark: it measures wall time on purpose

use hdrhistogram::Histogram;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Utilisation: service time = ρ / rate.
const RHO: f64 = 0.9;

fn exp_ns(rng: &mut ChaCha8Rng, mean_ns: f64) -> u64 {
    // 53 bits in (0, 1]; -ln(u) is exponential with mean 1.
    let u = ((rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
    (-u.ln() * mean_ns) as u64
}

/// Runs `customers` customers of M/M/1 at `rate_per_s` (ρ = 0.9); returns the sojourn histogram.
fn run(rate_per_s: f64, customers: u64) -> Histogram<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let gap_mean_ns = 1e9 / rate_per_s;
    let service_mean_ns = RHO * gap_mean_ns;
    let mut hist = Histogram::<u64>::new_with_bounds(1, 2, 3).unwrap();
    hist.auto(true);
    // Events: (time, kind) with kind 0 = arrival, 1 = departure; the server's FIFO queue holds
    // the arrival times of waiting customers.
    let mut heap: BinaryHeap<Reverse<(u64, u8)>> = BinaryHeap::new();
    let mut waiting: std::collections::VecDeque<u64> = std::collections::VecDeque::new();
    let mut in_service: Option<u64> = None;
    let mut arrived = 0u64;
    heap.push(Reverse((exp_ns(&mut rng, gap_mean_ns), 0)));
    while let Some(Reverse((now, kind))) = heap.pop() {
        if kind == 0 {
            arrived += 1;
            if arrived < customers {
                heap.push(Reverse((now + exp_ns(&mut rng, gap_mean_ns), 0)));
            }
            if in_service.is_none() {
                in_service = Some(now);
                heap.push(Reverse((now + exp_ns(&mut rng, service_mean_ns), 1)));
            } else {
                waiting.push_back(now);
            }
        } else {
            let created = in_service.take().expect("a departure has a customer");
            hist.record(now - created).expect("an auto-resizing histogram records any sojourn");
            if let Some(next) = waiting.pop_front() {
                in_service = Some(next);
                heap.push(Reverse((now + exp_ns(&mut rng, service_mean_ns), 1)));
            }
        }
    }
    hist
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    if args.len() < 2 {
        // `cargo test --benches`: a quick check that the loop is a correct M/M/1.
        let rate = 1e6;
        let h = run(rate, 100_000);
        let want_ns = (RHO / rate * 1e9) / (1.0 - RHO); // mean sojourn S / (1 − ρ)
        let got = h.mean();
        assert_eq!(h.len(), 100_000);
        assert!((got / want_ns - 1.0).abs() < 0.15, "mean sojourn {got} ns, theory {want_ns} ns");
        println!("bare_mm1 ok: mean sojourn {got:.0} ns (theory {want_ns:.0} ns)");
        return;
    }
    let rate: f64 = args[0].parse().expect("RATE_PER_S: a number");
    let customers: u64 = args[1].parse().expect("CUSTOMERS: an integer");
    let start = Instant::now();
    let h = run(rate, customers);
    let wall_s = start.elapsed().as_secs_f64();
    println!(
        "{} {wall_s:.3} {:.0} {}",
        h.len(),
        h.len() as f64 / wall_s,
        h.value_at_quantile(0.99)
    );
}
