//! Bad input, through the real binary: every mistake a user can make in a scenario file or on
//! the command line gets exit code 2 and one `error:` line that says what is wrong and where
//! (`s.toml:LINE:COL: dotted.path: ...`, or the flag as given), never a panic, nothing on
//! stdout, and nothing written: not by `validate`, and not by `run`, which must leave an output
//! folder that already holds a report exactly as it was.
//!
//! Each case is one call: [`check`] runs `pipesim validate`; [`check_run`] runs `validate` and
//! then `pipesim run --out out`. The scenario is written to `s.toml` in a fresh temporary
//! folder, which is also the working directory, so messages name it `s.toml`.
//!
//! This file holds those helpers; the cases are grouped by the input they get wrong: the file as
//! a whole (`file`), keys, units and values (`values`, `nan`), the workload (`workload`), faults
//! (`faults`), models (`models`), command-line flags (`flags`), several scenarios and the output
//! folder (`several`), and what is not an error (`not_an_error`).

mod faults;
mod file;
mod flags;
mod models;
mod nan;
mod not_an_error;
mod several;
mod values;
mod workload;

use crate::support::*;
use std::path::Path;

/// A minimal valid scenario; cases change one thing in it. Line numbers matter to the
/// expected locations: `servers` is on line 10, `service` on 11.
const BASE: &str = r#"name = "t"
duration = "10s"
[workload]
arrivals = { process = "poisson", rate = "1k/s" }
[[model]]
name = "m"
kind = "stations"
[[model.station]]
name = "s"
servers = 1
service = { dist = "exp", mean = "0.5ms" }
"#;

/// What `--out` holds before a run that must fail: a report from an earlier run.
const SENTINEL: &[u8] =
    b"{\"sentinel\": \"an earlier report that a failed run must not touch\"}\n\xff\x00";

/// `BASE` with `from` (which must occur exactly once) replaced by `to`.
fn base_with(from: &str, to: &str) -> String {
    assert_eq!(BASE.matches(from).count(), 1, "`{from}` must occur once in BASE");
    BASE.replacen(from, to, 1)
}

/// What the scenario argument is.
enum Input<'a> {
    /// `s.toml` with this text.
    Text(&'a str),
    /// `s.toml` with these bytes.
    Bytes(&'a [u8]),
    /// `missing.toml`, which does not exist.
    Missing,
    /// `scenarios`, a folder (holding a valid scenario).
    Directory,
}

impl Input<'_> {
    /// Creates the input in `dir`; returns the argument naming it.
    fn create(&self, dir: &Path) -> &'static str {
        let write = |bytes: &[u8]| std::fs::write(dir.join("s.toml"), bytes).unwrap();
        match self {
            Input::Text(t) => write(t.as_bytes()),
            Input::Bytes(b) => write(b),
            Input::Missing => return "missing.toml",
            Input::Directory => {
                std::fs::create_dir(dir.join("scenarios")).unwrap();
                std::fs::write(dir.join("scenarios/s.toml"), BASE).unwrap();
                return "scenarios";
            }
        }
        "s.toml"
    }
}

/// `pipesim validate INPUT ARGS...` fails with exit code 2 and `expected` in its one error,
/// and writes nothing.
fn check_input(name: &str, input: Input<'_>, args: &[&str], expected: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = input.create(tmp.path());
    let before = snapshot(tmp.path());
    let mut argv = vec!["validate", scenario];
    argv.extend_from_slice(args);
    let out = pipesim(tmp.path(), &argv);
    assert_rejected_errors(&format!("{name}: pipesim {}", argv.join(" ")), &out, 1, expected);
    assert_eq!(snapshot(tmp.path()), before, "{name}: validate wrote files");
}

/// [`check_input`] for a scenario text.
fn check(name: &str, scenario: &str, args: &[&str], expected: &[&str]) {
    check_input(name, Input::Text(scenario), args, expected);
}

/// `pipesim run INPUT --out out ARGS...` with `out/report.json` already there fails with exit
/// code 2 and `expected` in its one error, and leaves every file byte-for-byte as it was,
/// none added.
fn run_fails(name: &str, input: &Input<'_>, args: &[&str], expected: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = input.create(tmp.path());
    std::fs::create_dir(tmp.path().join("out")).unwrap();
    std::fs::write(tmp.path().join("out/report.json"), SENTINEL).unwrap();
    let before = snapshot(tmp.path());
    let mut argv = vec!["run", scenario, "--out", "out"];
    argv.extend_from_slice(args);
    let out = pipesim(tmp.path(), &argv);
    assert_rejected_errors(&format!("{name}: pipesim {}", argv.join(" ")), &out, 1, expected);
    assert_eq!(
        std::fs::read(tmp.path().join("out/report.json")).unwrap(),
        SENTINEL,
        "{name}: the earlier report.json changed"
    );
    assert_eq!(snapshot(tmp.path()), before, "{name}: run wrote files");
}

/// [`run_fails`] and [`check_input`]: `run` and `validate` give the same error.
fn check_run_input(name: &str, input: Input<'_>, args: &[&str], expected: &[&str]) {
    run_fails(name, &input, args, expected);
    check_input(name, input, args, expected);
}

/// [`check_run_input`] for a scenario text.
fn check_run(name: &str, scenario: &str, args: &[&str], expected: &[&str]) {
    check_run_input(name, Input::Text(scenario), args, expected);
}
