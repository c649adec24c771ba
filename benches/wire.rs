//! Wire-backend benchmarks (criterion): the cost model behind the run estimate, and the speed
//! target. `cargo bench --bench wire` runs them; `cargo test --benches` runs each once.
//!
//! The wire backend's cost grows with steps × hosts and with messages, not with simulated
//! events (docs/wire.md, "What a wire run costs"). The estimate a wire run prints before it
//! starts uses two constants, `COST_PER_HOST_STEP_S` and `COST_PER_MESSAGE_S`
//! (crates/pipesim-wire/src/params.rs); these benchmarks measure them:
//!
//! - `wire_cost/idle_hosts/N`: `wire_fifo` at 1 event/s with N hosts (one server and N−1
//!   producer hosts), so nearly every step is idle. Criterion's throughput is in host-steps
//!   per second: its inverse is the CPU per host per step.
//! - `wire_cost/messages`: `wire_fifo` at 50k events/s with two hosts (request and answer: two
//!   messages an event). Throughput is in messages per second; its inverse is the CPU per
//!   message, an upper bound (the 2 hosts × 1,000 steps a simulated second are about 4 % of it).
//! - `wire_lua/10k_4shards_5s`: the speed target. The reference `wire_lua` design at 10k
//!   events/s over 4 shards (each with its replica: 8 store hosts), producers as tasks in 2
//!   hosts, dilation 20 (a 50 µs step), for 5 simulated seconds: at least as fast as real
//!   time on one core means a mean iteration under 5 s (7 s with warmup and drain, see below).

#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pipesim_cli::runner::run_scenario;
use pipesim_models::Cell;
use pipesim_scenario::{LoadOptions, Scenario, load_str};
use std::hint::black_box;
use std::path::Path;
use std::sync::LazyLock;

static OPTIONS: LazyLock<LoadOptions> = LazyLock::new(|| LoadOptions {
    registry: pipesim_cli::default_registry(),
    ..LoadOptions::default()
});

fn scenario(name: &str, text: &str) -> Scenario {
    let anchor = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../benches/{name}.toml"));
    load_str(text, &anchor, &OPTIONS).unwrap_or_else(|e| panic!("{name} is valid: {e}"))
}

/// The `wire_simulation` table of one run: (steps, messages).
fn steps_and_messages(s: &Scenario) -> (u64, u64) {
    let run = run_scenario(s, Some(1)).expect("the run reads its inputs");
    let outcome = &run.outcomes[0];
    let table = outcome
        .details
        .iter()
        .find(|t| t.name == "wire_simulation")
        .expect("a wire run has a wire_simulation table");
    let int = |column: &str| {
        let i = table.columns.iter().position(|c| *c == column).expect("known column");
        match table.rows[0][i] {
            Cell::Int(n) => n,
            ref other => panic!("{column} is a count, not {other:?}"),
        }
    };
    (int("steps"), int("messages"))
}

fn fifo(rate: &str, producer_hosts: u32, duration: &str) -> String {
    format!(
        r#"
name = "bench_wire_fifo"
seed = 1
duration = "{duration}"
warmup = "0s"
drain = "1s"
[workload]
arrivals = {{ process = "poisson", rate = "{rate}" }}
keys = {{ count = 100 }}
[[model]]
name = "wire"
kind = "wire_fifo"
server = {{ servers = 64, service = {{ dist = "const", value = "100us" }} }}
producers = {{ instances = {producer_hosts} }}
wire = {{ producer_hosts = {producer_hosts} }}
network = {{ delay = "1ms" }}
"#
    )
}

fn idle_hosts(c: &mut Criterion) {
    let mut g = c.benchmark_group("wire_cost/idle_hosts");
    g.sample_size(10);
    for producer_hosts in [1u32, 4, 16] {
        let s = scenario("idle", &fifo("1/s", producer_hosts, "5s"));
        let (steps, _) = steps_and_messages(&s);
        let hosts = 1 + u64::from(producer_hosts);
        g.throughput(Throughput::Elements(steps * hosts));
        g.bench_function(format!("{hosts}"), |b| b.iter(|| black_box(steps_and_messages(&s))));
    }
    g.finish();
}

fn messages(c: &mut Criterion) {
    let s = scenario("messages", &fifo("50k/s", 1, "2s"));
    let (_, messages) = steps_and_messages(&s);
    let mut g = c.benchmark_group("wire_cost");
    g.sample_size(10);
    g.throughput(Throughput::Elements(messages));
    g.bench_function("messages", |b| b.iter(|| black_box(steps_and_messages(&s))));
    g.finish();
}

const LUA_10K: &str = r#"
name = "bench_wire_lua"
seed = 1
duration = "5s"
warmup = "1s"
drain = "2s"
[workload]
arrivals = { process = "poisson", rate = "10k/s" }
keys = { count = 2000 }
payload = "128B"
[[model]]
name = "wire"
kind = "wire_lua"
producers = { instances = 4 }
network = { delay = { dist = "lognormal", p50 = "150us", p99 = "400us" } }
redis = { shards = 4 }
wire = { dilation = 20, producer_hosts = 2 }
"#;

fn lua_10k(c: &mut Criterion) {
    let s = scenario("lua", LUA_10K);
    let mut g = c.benchmark_group("wire_lua");
    g.sample_size(10);
    g.throughput(Throughput::Elements(50_000));
    g.bench_function("10k_4shards_5s", |b| b.iter(|| black_box(steps_and_messages(&s))));
    g.finish();
}

criterion_group!(benches, idle_hosts, messages, lua_10k);
criterion_main!(benches);
