#![allow(missing_docs, clippy::disallowed_methods)]
use pipesim_config::Loader;
use pipesim_models::{BuildEnv, RunSettings, parse_model};
use pipesim_workload::{Keys, Popularity, Process, WorkloadSpec};

struct NoFiles;
impl Loader for NoFiles {
    fn read_text(&self, _: &str) -> Result<String, String> {
        Err("no files".into())
    }
}

fn main() {
    let secs: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(10);
    let keys: u32 = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(1000);
    let wl = WorkloadSpec {
        process: Process::Poisson,
        rate_per_s: 900_000.0,
        phases: vec![],
        keys: Keys {
            count: keys,
            popularity: Popularity::Uniform,
        },
        payload_bytes: 0,
        duration_ns: secs * 1_000_000_000,
    };
    let table: toml::Table =
        toml::from_str("[[station]]\nname = \"s\"\nservice = { dist = \"exp\", mean = \"1us\" }")
            .unwrap();
    let spec = parse_model(
        "mm1",
        "stations",
        toml::Value::Table(table),
        &BuildEnv {
            loader: &NoFiles,
            workload: &wl,
        },
    )
    .map_err(|_| "parse")
    .unwrap();
    let settings = RunSettings {
        seed: 1,
        duration_ns: wl.duration_ns,
        warmup_ns: 0,
        drain_ns: 1_000_000_000,
        window_ns: 1_000_000_000,
    };
    let t = std::time::Instant::now();
    let out = spec.run(&settings, &wl);
    let wall = t.elapsed().as_secs_f64();
    let s = out.results.e2e.summary();
    println!(
        "events {} wall {:.3}s => {:.1} M events/s; mean {:.3}us p99 {}ns (theory mean 10us, p99 46.05us)",
        out.results.events_simulated,
        wall,
        out.results.events_simulated as f64 / wall / 1e6,
        s.mean_ns / 1000.0,
        s.p99_ns
    );
}
