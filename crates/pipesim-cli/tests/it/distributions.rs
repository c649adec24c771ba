//! Every distribution, written in scenario syntax, produces the values it promises.
//!
//! A station with far more servers than customers never queues, so each customer's end-to-end
//! latency is exactly one service time: the e2e histogram is a sample of the distribution.
//! With n = 200,000 samples the standard error of a quantile estimate is about
//! sqrt(p(1-p)/n)/f(x_p); the tolerances below are a few of those plus the histogram's 0.1 %
//! resolution, and tight enough that a wrong parameterisation (say a mean read as a median)
//! fails.

use pipesim_cli::runner::run_scenario;
use pipesim_scenario::{LoadOptions, load_str};
use std::path::Path;

/// (p50_ms, p99_ms, mean_ms) of the service distribution `dist` over 200k customers.
fn sample(dist: &str) -> (f64, f64, f64) {
    let text = format!(
        r#"
name = "dist"
duration = "20s"
[workload]
arrivals = {{ process = "poisson", rate = "10k/s" }}
[[model]]
name = "m"
kind = "stations"
[[model.station]]
name = "s"
servers = 100000
service = {dist}
"#
    );
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/examples/dist.toml");
    let s = load_str(&text, &base, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let run = run_scenario(&s, Some(1)).expect("the run reads its inputs");
    let e2e = run.outcomes[0].results.e2e.summary();
    assert!(e2e.count > 190_000, "{}", e2e.count);
    (e2e.p50_ns as f64 / 1e6, e2e.p99_ns as f64 / 1e6, e2e.mean_ns / 1e6)
}

fn close(got: f64, want: f64, rel: f64, what: &str) {
    assert!(
        (got / want - 1.0).abs() <= rel,
        "{what}: got {got}, want {want} (±{:.1} %)",
        rel * 100.0
    );
}

#[test]
fn constant() {
    let (p50, p99, mean) = sample(r#""1.5ms""#);
    close(p50, 1.5, 0.001, "p50");
    close(p99, 1.5, 0.001, "p99");
    close(mean, 1.5, 0.001, "mean");
}

#[test]
fn exponential() {
    // Exp(mean 2 ms): p50 = 2 ln 2, p99 = 2 ln 100.
    let (p50, p99, mean) = sample(r#"{ dist = "exp", mean = "2ms" }"#);
    close(p50, 2.0 * 2f64.ln(), 0.015, "p50");
    close(p99, 2.0 * 100f64.ln(), 0.03, "p99");
    close(mean, 2.0, 0.01, "mean");
}

#[test]
fn uniform() {
    let (p50, p99, mean) = sample(r#"{ dist = "uniform", min = "1ms", max = "3ms" }"#);
    close(p50, 2.0, 0.01, "p50");
    close(p99, 2.98, 0.005, "p99");
    close(mean, 2.0, 0.005, "mean");
}

#[test]
fn lognormal_from_percentiles() {
    // By construction p50 = 2 ms and p99 = 20 ms; mean = exp(mu + sigma^2 / 2).
    let (p50, p99, mean) = sample(r#"{ dist = "lognormal", p50 = "2ms", p99 = "20ms" }"#);
    close(p50, 2.0, 0.015, "p50");
    close(p99, 20.0, 0.04, "p99");
    let sigma = (10f64).ln() / 2.326_347_874_040_841;
    close(mean, 2.0 * (sigma * sigma / 2.0).exp(), 0.03, "mean");
}

#[test]
fn pareto() {
    // Pareto(scale 1 ms, shape 3): quantile 1 / (1-p)^(1/3) ms; mean 1.5 ms.
    let (p50, p99, mean) = sample(r#"{ dist = "pareto", scale = "1ms", shape = 3 }"#);
    close(p50, 2f64.powf(1.0 / 3.0), 0.01, "p50");
    close(p99, 100f64.powf(1.0 / 3.0), 0.04, "p99");
    close(mean, 1.5, 0.02, "mean");
}

#[test]
fn empirical_from_an_hgrm_file() {
    // scenarios/examples/measured.hgrm: p50 2.0 ms, p99 7.5 ms, linear between the listed
    // points, so the mean is the sum of segment midpoints weighted by their mass: 2.32175 ms.
    let (p50, p99, mean) = sample(r#"{ dist = "empirical", file = "measured.hgrm", unit = "ms" }"#);
    close(p50, 2.0, 0.015, "p50");
    close(p99, 7.5, 0.04, "p99");
    close(mean, 2.32175, 0.01, "mean");
}
