//! Sweep benchmark (criterion): the same 8-point sweep on 1 thread and on 2. Points and models
//! form one flat task list, so with two cores the sweep should take a little over half the time
//! (issue 6's target: at least 1.8 times as fast on 2 cores as on 1). `cargo bench --bench
//! sweep` runs it; the ratio of the two mean times is the speed-up. `cargo test --benches` runs
//! each once so it cannot rot.

#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pipesim_cli::sweep::run_points;
use pipesim_scenario::{LoadOptions, Override, Scenario, load};
use std::hint::black_box;
use std::path::Path;

/// The quickstart's two pools at eight rates (`[sweep]`-style points, built directly).
fn points() -> Vec<Scenario> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/quickstart.toml");
    ["1.0k/s", "1.1k/s", "1.2k/s", "1.3k/s", "1.4k/s", "1.5k/s", "1.6k/s", "1.7k/s"]
        .iter()
        .map(|rate| {
            let opts = LoadOptions {
                overrides: vec![
                    Override::parse(&format!("workload.rate={rate}")).expect("valid override"),
                ],
                ..LoadOptions::default()
            };
            load(&path, &opts).expect("the quickstart is valid")
        })
        .collect()
}

fn sweep(c: &mut Criterion) {
    let scenarios = points();
    let refs: Vec<&Scenario> = scenarios.iter().collect();
    let events: u64 = run_points(&refs, Some(1))
        .expect("the run reads its inputs")
        .iter()
        .flatten()
        .map(|o| o.results.events_simulated)
        .sum();
    let mut g = c.benchmark_group("sweep_8_points");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events));
    for jobs in [1, 2] {
        g.bench_function(format!("jobs_{jobs}"), |b| {
            b.iter(|| {
                black_box(run_points(&refs, Some(jobs)).expect("the run reads its inputs").len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, sweep);
criterion_main!(benches);
