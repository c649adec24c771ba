//! Design benchmarks (criterion): whole case-study scenarios, to hold the designs' hot paths to
//! their speed targets. `cargo bench --bench designs` runs them; `cargo test --benches` runs
//! each once so they cannot rot.
//!
//! - `seed000/lua_1.2M_5s`: seed 000's Redis+Lua two-tier design
//!   (`scenarios/seeds/000_lua_at_1.2M.toml`) at 1.2 M events/s, shortened to 5 simulated
//!   seconds (1 s of warmup). The throughput criterion prints is in simulated *events* per
//!   second; the target is the real-time factor: 5 simulated seconds in at most 5 wall seconds
//!   on one core, i.e. a mean iteration time under 5 s (issue 3). The full 60 s scenario prints
//!   its real-time factor on its perf line.

#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pipesim_cli::runner::run_scenario;
use pipesim_scenario::{LoadOptions, Override, load};
use std::hint::black_box;
use std::path::Path;

fn lua_at_1_2m(c: &mut Criterion) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/seeds/000_lua_at_1.2M.toml");
    let opts = LoadOptions {
        overrides: ["duration=5s", "warmup=1s", "drain=1s"]
            .iter()
            .map(|f| Override::parse(f).expect("valid override"))
            .collect(),
        ..LoadOptions::default()
    };
    let s = load(&path, &opts).expect("seed 000 scenario is valid");
    let events = run_scenario(&s, Some(1)).expect("the run reads its inputs").outcomes[0]
        .results
        .events_simulated;
    let mut g = c.benchmark_group("seed000");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events));
    g.bench_function("lua_1.2M_5s", |b| {
        b.iter(|| {
            black_box(
                run_scenario(&s, Some(1)).expect("the run reads its inputs").outcomes[0]
                    .results
                    .events_simulated,
            )
        })
    });
    g.finish();
}

criterion_group!(benches, lua_at_1_2m);
criterion_main!(benches);
