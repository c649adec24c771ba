//! `pipesim-fuzz`: a mutation fuzzer of scenarios that runs on the stable toolchain.
//!
//! ```text
//! pipesim-fuzz [--seconds N] [--seed S] [--corpus DIR] [--out DIR]
//! pipesim-fuzz --replay FILE [--anchor PATH]
//! ```
//!
//! The corpus is every `.toml` under `--corpus` (default `scenarios`, the shipped scenarios).
//! Each input is a mutant of a corpus file (see `mutate.rs`) evaluated in-process as `pipesim
//! run` would (see `evaluate.rs`), in a worker process of its own: the supervisor restarts a
//! worker that aborts (an allocation failure, a stack overflow) or runs one input for more than
//! 10 s, and keeps the input that did it. The worker's address space is capped at 4 GiB, so a
//! runaway allocation is an abort, not a machine out of memory. Crashes (panics, aborts,
//! timeouts, broken exit-2 semantics) are saved in `--out` (default `target/fuzz`) and
//! minimised line by line; a minimised crash, once fixed, belongs in
//! `crates/pipesim-fuzz/regressions/`, which a test replays through the real binary.
//!
//! Runs for `--seconds` (default 60, or `PIPESIM_FUZZ_SECONDS`), prints the inputs tried and
//! their outcomes by exit code, and exits 1 if it found a crash. `PIPESIM_FUZZ_SLOW=1` prints
//! every input that took over 100 ms (where the time goes).

mod evaluate;
mod minimize;
mod mutate;
mod supervisor;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

/// The command line.
pub(crate) struct Options {
    pub seconds: u64,
    pub seed: u64,
    pub corpus: PathBuf,
    pub out: PathBuf,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: pipesim-fuzz [--seconds N] [--seed S] [--corpus DIR] [--out DIR]\n       pipesim-fuzz --replay FILE [--anchor PATH]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    if let Some(file) = value("--replay") {
        let anchor = value("--anchor").map_or_else(|| PathBuf::from(file), PathBuf::from);
        return worker::replay(&PathBuf::from(file), &anchor);
    }
    let default_seconds =
        std::env::var("PIPESIM_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let parse = |flag: &str, default: u64| match value(flag) {
        Some(v) => v.parse::<u64>().map_err(|_| format!("{flag}: `{v}` is not a whole number")),
        None => Ok(default),
    };
    let (seconds, seed) = match (parse("--seconds", default_seconds), parse("--seed", 1)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return usage();
        }
    };
    let opts = Options {
        seconds,
        seed,
        corpus: value("--corpus").map_or_else(|| PathBuf::from("scenarios"), PathBuf::from),
        out: value("--out").map_or_else(|| PathBuf::from("target/fuzz"), PathBuf::from),
    };
    if args.iter().any(|a| a == "--worker") {
        let until = parse("--until-ms", 0).unwrap_or(0);
        return worker::work(&opts, until);
    }
    supervisor::supervise(&opts)
}
