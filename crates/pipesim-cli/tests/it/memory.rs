//! Memory grows with the events pending and the keys, never with the events simulated.
//!
//! The run happens in a child process (this test binary run again with only the inner test
//! selected), so the peak resident memory (VmHWM) it reports is that run's alone, not that of
//! the other tests sharing this binary. CI runs 20 M customers of M/M/1;
//! `PIPESIM_LONG_VALIDATION=1` runs the 100 M.

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

#[test]
fn mm1_memory_does_not_grow_with_customers() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["--exact", "memory::mm1_run_in_child", "--include-ignored", "--nocapture"])
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
}

/// The measured run; only meaningful alone in a process, so ignored unless the test above
/// spawns it.
#[test]
#[ignore = "spawned in a process of its own by mm1_memory_does_not_grow_with_customers"]
fn mm1_run_in_child() {
    assert_eq!(std::env::var(CHILD).as_deref(), Ok("1"), "run through its parent test");
    let long = std::env::var("PIPESIM_LONG_VALIDATION").is_ok_and(|v| v == "1");
    let seconds = if long { "100s" } else { "20s" };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/bench/mm1_100m.toml");
    let opts = LoadOptions {
        overrides: vec![Override::parse(&format!("duration={seconds}")).unwrap()],
        ..Default::default()
    };
    let s = load(&path, &opts).unwrap_or_else(|e| panic!("{e}"));
    let run = run_scenario(&s, Some(1)).expect("the run reads its inputs");
    let rendered = render(&s, &run, &command_line(&s, &opts_sets(&opts), None));
    let customers = run.outcomes[0].results.throughput.offered;
    assert!(rendered.json.len() > 1000);
    let Some(peak) = peak_rss_bytes() else { return };
    let mib = peak as f64 / (1 << 20) as f64;
    eprintln!(
        "peak RSS {mib:.1} MiB after {customers} customers ({} events)",
        run.outcomes[0].results.events_simulated
    );
    assert!(customers >= if long { 95_000_000 } else { 18_000_000 });
    assert!(peak < 100_000_000, "peak resident memory {mib:.1} MiB is over 100 MB");
}

fn opts_sets(opts: &LoadOptions) -> Vec<String> {
    opts.overrides.iter().map(|o| o.raw.clone()).collect()
}
