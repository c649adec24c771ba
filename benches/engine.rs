//! Engine benchmarks (criterion). `cargo bench` runs them; `cargo test --benches` runs each once
//! at its full size so they cannot rot.
//!
//! - `mm1/run_path`: M/M/1 through the whole `pipesim run` path minus file I/O: scenario
//!   parsing, the run, histograms, timeline, invariants, report rendering. Target ≥ 20 M events/s.
//! - `mm1/model_only`: the same run without parsing and rendering, to see what they cost.
//! - `tandem4/64k_pending`: four stations of 16,384 servers each near saturation, so about
//!   64 k departures are pending in the event queue: the heap at depth.
//! - `queue/hold_64k`: the event queue alone under the classic hold model (pop one, push one)
//!   with 64 k pending.

#![allow(missing_docs)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pipesim_cli::runner::{render, run_scenario};
use pipesim_engine::{EventQueue, RngStreams};
use pipesim_scenario::{LoadOptions, Scenario, load_str};
use std::hint::black_box;
use std::path::Path;

const MM1: &str = r#"
name = "bench_mm1"
seed = 1
duration = "5s"
drain = "1s"
[workload]
arrivals = { process = "poisson", rate = "1M/s" }
keys = { count = 1_000 }
[[model]]
name = "mm1"
kind = "stations"
[[model.station]]
name = "server"
service = { dist = "exp", mean = "800ns" }
"#;

const TANDEM4: &str = r#"
name = "bench_tandem4"
seed = 1
duration = "200ms"
drain = "10ms"
[workload]
arrivals = { process = "poisson", rate = "8M/s" }
keys = { count = 1_000 }
[[model]]
name = "tandem4"
kind = "stations"
[[model.station]]
name = "a"
servers = 16384
service = { dist = "exp", mean = "2ms" }
[[model.station]]
name = "b"
servers = 16384
service = { dist = "exp", mean = "2ms" }
[[model.station]]
name = "c"
servers = 16384
service = { dist = "exp", mean = "2ms" }
[[model.station]]
name = "d"
servers = 16384
service = { dist = "exp", mean = "2ms" }
"#;

fn scenario(text: &str) -> Scenario {
    load_str(text, Path::new("bench.toml"), &LoadOptions::default())
        .expect("bench scenario is valid")
}

fn events_of(s: &Scenario) -> u64 {
    run_scenario(s, Some(1)).expect("the run reads its inputs").outcomes[0].results.events_simulated
}

fn mm1(c: &mut Criterion) {
    let s = scenario(MM1);
    let events = events_of(&s);
    let mut g = c.benchmark_group("mm1");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events));
    g.bench_function("run_path", |b| {
        b.iter(|| {
            let s = scenario(MM1);
            let run = run_scenario(&s, Some(1)).expect("the run reads its inputs");
            black_box(render(&s, &run, "bench").json.len())
        })
    });
    g.bench_function("model_only", |b| {
        b.iter(|| {
            black_box(run_scenario(&s, Some(1)).expect("the run reads its inputs").outcomes.len())
        })
    });
    g.finish();
}

fn tandem(c: &mut Criterion) {
    let s = scenario(TANDEM4);
    let events = events_of(&s);
    let mut g = c.benchmark_group("tandem4");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events));
    g.bench_function("64k_pending", |b| {
        b.iter(|| {
            black_box(run_scenario(&s, Some(1)).expect("the run reads its inputs").outcomes.len())
        })
    });
    g.finish();
}

fn queue(c: &mut Criterion) {
    const PENDING: usize = 65_536;
    const OPS: u64 = 1_000_000;
    let mut g = c.benchmark_group("queue");
    g.throughput(Throughput::Elements(OPS));
    g.bench_function("hold_64k", |b| {
        b.iter_batched(
            || {
                let mut rng = RngStreams::new(1).stream("bench/queue");
                let mut q = EventQueue::with_capacity(PENDING);
                for i in 0..PENDING as u64 {
                    q.push(rng.below(1_000_000), i);
                }
                (q, rng)
            },
            |(mut q, mut rng)| {
                for _ in 0..OPS {
                    let (t, e) = q.pop().expect("never empty");
                    q.push(t + 1 + rng.below(1_000_000), e);
                }
                black_box(q.len())
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, mm1, tandem, queue);
criterion_main!(benches);
