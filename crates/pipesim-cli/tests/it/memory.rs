//! Memory grows with the events pending and the keys, never with the events simulated nor with
//! simulated time.
//!
//! Each run happens in a child process (this test binary run again with only its inner test
//! selected), so the peak resident memory (VmHWM) it reports is that run's alone, not that of
//! the other tests sharing this binary. CI runs reduced sizes; `PIPESIM_LONG_VALIDATION=1`
//! runs the full ones:
//!
//! | case | CI | long | bound |
//! | --- | --- | --- | --- |
//! | M/M/1 at 1M/s (`mm1_100m.toml`) | 20 M customers | 100 M | 100 MB |
//! | M/M/1 at 900/s (`mm1_900_100m.toml`) | 10 M customers, 3.1 simulated hours | 100 M, 31 h | 100 MB |
//! | quickstart's pools (`soak_24h.toml`) | 1 simulated hour, the spike included | 24 h | 200 MB |

use pipesim_cli::runner::{command_line, render, run_scenario};
use pipesim_scenario::{LoadOptions, Override, load};
use std::path::Path;

/// Peak resident set size of this process, in bytes (Linux).
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Set in the child's environment: run the measured scenario instead of spawning.
const CHILD: &str = "PIPESIM_MEMORY_CHILD";

fn long() -> bool {
    std::env::var("PIPESIM_LONG_VALIDATION").is_ok_and(|v| v == "1")
}

/// Runs `memory::INNER` alone in a child process; it must pass.
fn spawn(inner: &str) {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["--exact", &format!("memory::{inner}"), "--include-ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the child run failed: {stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the child did not run the inner test: {stderr}"
    );
    eprintln!("{}", stderr.lines().filter(|l| l.starts_with("peak RSS")).collect::<String>());
}

/// In the child: runs `scenario` (under `scenarios/bench/`) with `duration`, renders its
/// reports, and checks that each model offered at least `min_customers` and that the peak
/// resident memory stayed under `limit_bytes`. Returns the run's timeline rows per model.
fn measure(scenario: &str, duration: &str, min_customers: u64, limit_bytes: u64) -> Vec<usize> {
    assert_eq!(std::env::var(CHILD).as_deref(), Ok("1"), "run through its parent test");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/bench").join(scenario);
    let opts = LoadOptions {
        overrides: vec![Override::parse(&format!("duration={duration}")).unwrap()],
        ..Default::default()
    };
    let s = load(&path, &opts).unwrap_or_else(|e| panic!("{e}"));
    let run = run_scenario(&s, None).expect("a DES run cannot fail");
    let sets: Vec<String> = opts.overrides.iter().map(|o| o.raw.clone()).collect();
    let rendered = render(&s, &run, &command_line(&s, &sets, None));
    assert!(rendered.json.len() < 4_000_000, "report.json is {} bytes", rendered.json.len());
    let customers: Vec<u64> = run.outcomes.iter().map(|o| o.results.throughput.offered).collect();
    assert!(customers.iter().all(|&c| c >= min_customers), "{customers:?}");
    let rows = run.outcomes.iter().map(|o| o.results.timeline.len()).collect();
    let Some(peak) = peak_rss_bytes() else { return rows };
    let mib = peak as f64 / (1 << 20) as f64;
    let events: u64 = run.outcomes.iter().map(|o| o.results.events_simulated).sum();
    eprintln!(
        "peak RSS {mib:.1} MiB: {scenario} over {duration}, {customers:?} customers, {events} events, {rows:?} rows"
    );
    assert!(peak < limit_bytes, "peak resident memory {mib:.1} MiB is over {limit_bytes} bytes");
    rows
}

#[test]
fn mm1_memory_does_not_grow_with_customers() {
    spawn("mm1_run_in_child");
}

#[test]
fn mm1_memory_does_not_grow_with_simulated_time() {
    spawn("mm1_900_run_in_child");
}

#[test]
fn a_24_hour_soak_stays_under_200_mb() {
    spawn("soak_run_in_child");
}

/// The measured runs; only meaningful alone in a process, so ignored unless the tests above
/// spawn them.
#[test]
#[ignore = "spawned in a process of its own by mm1_memory_does_not_grow_with_customers"]
fn mm1_run_in_child() {
    let (duration, customers) = if long() { ("100s", 95_000_000) } else { ("20s", 18_000_000) };
    measure("mm1_100m.toml", duration, customers, 100_000_000);
}

#[test]
#[ignore = "spawned in a process of its own by mm1_memory_does_not_grow_with_simulated_time"]
fn mm1_900_run_in_child() {
    let (duration, customers) =
        if long() { ("111111s", 99_000_000) } else { ("11111s", 9_900_000) };
    let rows = measure("mm1_900_100m.toml", duration, customers, 100_000_000);
    // The automatic window: 10 s (CI) or 100 s (long) windows, never more than 2,000 rows.
    assert!(rows.iter().all(|&r| (800..=2_000).contains(&r)), "{rows:?}");
}

#[test]
#[ignore = "spawned in a process of its own by a_24_hour_soak_stays_under_200_mb"]
fn soak_run_in_child() {
    let (duration, customers) = if long() { ("24h", 172_000_000) } else { ("1h", 7_100_000) };
    let rows = measure("soak_24h.toml", duration, customers, 200_000_000);
    assert!(rows.iter().all(|&r| (800..=2_000).contains(&r)), "{rows:?}");
}
