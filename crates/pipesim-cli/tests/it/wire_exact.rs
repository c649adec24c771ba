//! The wire backend against the DES event for event: a `wire_fifo` model (a real tokio server
//! on turmoil's network) and a `stations` model in timing mode (`[model.timing]`: the same
//! rounding rules, the same service-time stream) must make every event visible at the same
//! nanosecond, across dilations, network delays, service distributions and loads.

use pipesim_cli::default_registry;
use pipesim_cli::runner::settings;
use pipesim_models::RunSettings;
use pipesim_scenario::{LoadOptions, Scenario, load_str};
use std::path::Path;

fn scenario(rate: &str, service: &str, dilation: u32, hop: &str, seconds: u32) -> Scenario {
    let text = format!(
        r#"
name = "exact"
seed = 5
duration = "{seconds}s"
warmup = "1s"
drain = "5s"
[workload]
arrivals = {{ process = "poisson", rate = "{rate}" }}
keys = {{ count = 100 }}

[[model]]
name = "wire"
kind = "wire_fifo"
server = {{ service = {service} }}
wire = {{ dilation = {dilation} }}
network = {{ delay = "{hop}" }}
producers = {{ instances = 1 }}

[[model]]
name = "des"
kind = "stations"
timing = {{ tick = "1ms", dilation = {dilation}, hop = "{hop}" }}
[[model.station]]
name = "server"
service = {service}
"#
    );
    let opts = LoadOptions { registry: default_registry(), ..Default::default() };
    load_str(&text, Path::new("exact.toml"), &opts).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs both models with the visibility log; returns (events compared, events equal).
fn compare(s: &Scenario) -> (usize, usize) {
    let run = RunSettings { log_visibility: true, ..settings(s) };
    let logs: Vec<Vec<(u64, u64)>> = s
        .models
        .iter()
        .map(|m| {
            let out = m.run(&run, &s.workload, &s.faults).unwrap_or_else(|e| panic!("{e}"));
            let mut log = out.results.visibility_log.expect("asked for");
            log.sort_unstable();
            log
        })
        .collect();
    let (wire, des) = (&logs[0], &logs[1]);
    assert_eq!(wire.len(), des.len(), "both made the same events visible");
    let equal = wire.iter().zip(des).filter(|(a, b)| a == b).count();
    (wire.len(), equal)
}

#[test]
fn every_event_is_visible_at_the_same_time_as_in_the_ticked_des() {
    let cases = [
        ("400/s", r#"{ dist = "exp", mean = "2ms" }"#, 10, "0ms", 20),
        ("400/s", r#"{ dist = "exp", mean = "2ms" }"#, 1, "0ms", 20),
        ("100/s", r#"{ dist = "exp", mean = "8ms" }"#, 1, "2500us", 20),
        ("300/s", r#"{ dist = "uniform", min = "1ms", max = "4ms" }"#, 100, "300us", 5),
        ("450/s", r#""2ms""#, 10, "1ms", 20),
    ];
    let mut total = 0;
    for (rate, service, dilation, hop, seconds) in cases {
        let s = scenario(rate, service, dilation, hop, seconds);
        let (n, equal) = compare(&s);
        eprintln!("{rate} {service} dilation {dilation} hop {hop}: {equal}/{n} events equal");
        assert!(n > 1_000, "enough events to mean something ({n})");
        assert_eq!(equal, n, "{rate} {service} dilation {dilation} hop {hop}");
        total += n;
    }
    eprintln!("exact match: {total} events");
}
