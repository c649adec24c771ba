//! The harness every module of this test binary shares: one copy of each helper, instead of
//! one per file.
//!
//! What it offers:
//!
//! - Places: [`root`] (the workspace root) and [`BIN`] (the built `pipesim` binary).
//! - Running the binary: [`pipesim`] (in a given folder, the common case), [`pipesim_at_root`]
//!   (in the workspace root, with extra path arguments after `args`), [`pipesim_within`] and
//!   [`output_within`] (the same, killed and failed after a time limit), all built on
//!   [`command`]. Every run sets `RUST_BACKTRACE=1`, so a panic that got past the hook would
//!   print a backtrace, which the bad-input contract rejects.
//! - Reading what it did: [`stdout`], [`stderr`], [`assert_exit_0`] and [`ok`].
//! - Files: [`read_json`]; scratch folders: [`scratch`] (a fresh temporary folder holding
//!   `s.toml`) and [`snapshot`] (everything under a folder, to show that a command wrote or
//!   removed nothing; links and FIFOs are recorded, not followed or read).
//! - Running in-process: [`load_text`], [`run_text`], [`run_outcomes`], [`report_json`], [`report_models`].
//!
//! The bad-input contract, [`assert_rejected`] (and [`assert_rejected_errors`] where the
//! number of `error:` lines is part of the case): a rejected input exits with code 2, stderr
//! starts with `error: ` followed by a message that contains every expected piece, stdout is
//! empty, and none of [`FORBIDDEN`] (the marks of a panic, a backtrace or pipesim's own
//! failure) appears on stdout or stderr, in any case. [`assert_rejected_in`] (and
//! [`assert_rejected_errors_in`]) runs a command in a folder and also checks that the folder
//! is exactly as it was before (nothing written, nothing lost), which subsumes "no output
//! folder was created". Modules add only what is theirs on top (the error-line count, a
//! length bound on the message, an earlier report that must survive).

use pipesim_cli::runner::{ScenarioRun, render, run_scenario};
use pipesim_models::ModelOutcome;
use pipesim_scenario::{LoadOptions, Scenario, load_str};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The built `pipesim` binary.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_pipesim");

/// Strings that betray a panic, a backtrace or pipesim's own failure (the panic hook prints
/// "internal error"). None may appear, in any case, in the output for bad input.
pub(crate) const FORBIDDEN: [&str; 5] =
    ["panicked", "stack backtrace", "RUST_BACKTRACE", "internal error", "this is a bug"];

/// The workspace root (where `scenarios/` and `reports/` are).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// `pipesim ARGS` in `dir`, with `RUST_BACKTRACE=1`, not yet run.
pub(crate) fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir).env("RUST_BACKTRACE", "1");
    cmd
}

/// Runs `pipesim ARGS` in `dir` (the working directory, so messages name files as given).
pub(crate) fn pipesim(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("the pipesim binary runs")
}

/// Runs `pipesim ARGS PATHS` in the workspace root.
pub(crate) fn pipesim_at_root(args: &[&str], paths: &[&Path]) -> Output {
    command(&root(), args).args(paths).output().expect("the pipesim binary runs")
}

/// Runs `pipesim ARGS` in `dir`, killing it and failing the test after `limit` (a FIFO that
/// blocks must fail the test, not hang it).
pub(crate) fn pipesim_within(dir: &Path, args: &[&str], limit: Duration) -> Output {
    let mut cmd = command(dir, args);
    cmd.stdout(Stdio::piped());
    output_within(cmd, limit)
}

/// Runs `cmd` (stderr captured; stdout as `cmd` sets it), killing it and failing the test
/// after `limit`.
pub(crate) fn output_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
    // A test's own deadline: wall time outside any simulation.
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{cmd:?} did not finish in {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// What the run printed on stdout.
pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What the run printed on stderr.
pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code 0; on failure the message shows `what`, stderr and stdout. Returns stdout.
pub(crate) fn assert_exit_0(what: &str, o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{what}\n--- stderr ---\n{}\n--- stdout ---\n{}",
        stderr(o),
        stdout(o)
    );
    stdout(o)
}

/// [`assert_exit_0`] without a description.
pub(crate) fn ok(o: &Output) -> String {
    assert_exit_0("pipesim", o)
}

/// The JSON file at `path` (a report, a sweep part), parsed.
pub(crate) fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fresh temporary folder holding `s.toml` with `text`.
pub(crate) fn scratch(text: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.toml"), text).unwrap();
    tmp
}

/// One entry of a [`snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    Dir,
    File(Vec<u8>),
    /// A symbolic link (not followed) and where it points.
    Link(PathBuf),
    /// A FIFO, device or socket (not read: reading a FIFO blocks).
    Special,
}

impl Entry {
    /// The bytes of a regular file.
    pub(crate) fn bytes(&self) -> Option<&[u8]> {
        match self {
            Entry::File(b) => Some(b),
            _ => None,
        }
    }
}

/// Everything under `dir`, by path relative to it: folders, files with their bytes, links
/// with their targets. Equal snapshots before and after a command mean it wrote, removed and
/// changed nothing there.
pub(crate) fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
            let entry = if kind.is_dir() {
                stack.push(path);
                Entry::Dir
            } else if kind.is_file() {
                Entry::File(std::fs::read(&path).unwrap())
            } else if kind.is_symlink() {
                Entry::Link(std::fs::read_link(&path).unwrap())
            } else {
                Entry::Special
            };
            out.insert(rel, entry);
        }
    }
    out
}

/// None of [`FORBIDDEN`] on stdout or stderr.
pub(crate) fn assert_no_forbidden(what: &str, o: &Output) {
    let (out, err) = (stdout(o), stderr(o));
    if let Some(bad) = forbidden_in(&err).or_else(|| forbidden_in(&out)) {
        panic!("{what}: `{bad}` in the output\n--- stderr ---\n{err}--- stdout ---\n{out}---");
    }
}

/// The first of [`FORBIDDEN`] in `text`, in any case ("Stack backtrace" counts).
pub(crate) fn forbidden_in(text: &str) -> Option<&'static str> {
    let text = text.to_lowercase();
    FORBIDDEN.into_iter().find(|bad| text.contains(&bad.to_lowercase()))
}

/// The bad-input contract (see the module documentation): exit code 2, stderr starting with
/// `error: ` and a message holding every `expected` piece, nothing on stdout, none of
/// [`FORBIDDEN`]. Returns stderr.
pub(crate) fn assert_rejected(what: &str, o: &Output, expected: &[&str]) -> String {
    let (out, err) = (stdout(o), stderr(o));
    let ctx = format!("{what}\n--- stderr ---\n{err}--- stdout ---\n{out}---");
    assert_eq!(o.status.code(), Some(2), "exit code: {ctx}");
    assert!(err.starts_with("error: "), "stderr must start with `error: `: {ctx}");
    assert!(!err["error: ".len()..].trim().is_empty(), "an empty error message: {ctx}");
    for want in expected {
        assert!(err.contains(want), "expected `{want}` in stderr: {ctx}");
    }
    if let Some(bad) = forbidden_in(&err).or_else(|| forbidden_in(&out)) {
        panic!("`{bad}` in the output: {ctx}");
    }
    assert!(out.is_empty(), "stdout must be empty: {ctx}");
    err
}

/// [`assert_rejected`], and exactly `errors` lines starting with `error: `.
pub(crate) fn assert_rejected_errors(
    what: &str,
    o: &Output,
    errors: usize,
    expected: &[&str],
) -> String {
    let err = assert_rejected(what, o, expected);
    let count = err.lines().filter(|l| l.starts_with("error: ")).count();
    assert_eq!(count, errors, "{what}: number of `error:` lines in\n{err}");
    err
}

/// Runs `pipesim ARGS` in `dir`, checks [`assert_rejected`] and that `dir` is exactly as it
/// was before the run (nothing written, nothing removed). Returns stderr.
pub(crate) fn assert_rejected_in(
    what: &str,
    dir: &Path,
    args: &[&str],
    expected: &[&str],
) -> String {
    rejected_in(what, dir, args, None, expected)
}

/// [`assert_rejected_in`], and exactly `errors` lines starting with `error: `.
pub(crate) fn assert_rejected_errors_in(
    what: &str,
    dir: &Path,
    args: &[&str],
    errors: usize,
    expected: &[&str],
) -> String {
    rejected_in(what, dir, args, Some(errors), expected)
}

fn rejected_in(
    what: &str,
    dir: &Path,
    args: &[&str],
    errors: Option<usize>,
    expected: &[&str],
) -> String {
    let before = snapshot(dir);
    let o = pipesim(dir, args);
    let what = format!("{what}: pipesim {}", args.join(" "));
    let err = match errors {
        Some(n) => assert_rejected_errors(&what, &o, n, expected),
        None => assert_rejected(&what, &o, expected),
    };
    assert_eq!(snapshot(dir), before, "{what}: the folder changed (written or removed)\n{err}");
    err
}

/// Loads a scenario from `text` as if read from `file` (relative data files resolve beside
/// it); an invalid scenario fails the test with its message.
pub(crate) fn load_text(text: &str, file: &Path, opts: &LoadOptions) -> Scenario {
    load_str(text, file, opts).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `s` with `jobs` threads; its outcomes, one per model.
pub(crate) fn run_outcomes(s: &Scenario, jobs: Option<usize>) -> Vec<ModelOutcome> {
    run_scenario(s, jobs).expect("the run reads its inputs").outcomes
}

/// Loads `text` (default options) as if read from `file` and runs it with `jobs` threads.
pub(crate) fn run_text(text: &str, file: &Path, jobs: Option<usize>) -> ScenarioRun {
    let s = load_text(text, file, &LoadOptions::default());
    run_scenario(&s, jobs).expect("the run reads its inputs")
}

/// The report.json a run of `s` writes, parsed.
pub(crate) fn report_json(s: &Scenario, run: &ScenarioRun) -> Value {
    serde_json::from_str(&render(s, run, "test").json).expect("report.json parses")
}

/// Loads `text` as if read from `file`, runs it (default threads) and returns the report's
/// `models` array.
pub(crate) fn report_models(text: &str, file: &Path) -> Vec<Value> {
    let s = load_text(text, file, &LoadOptions::default());
    let run = run_scenario(&s, None).expect("the run reads its inputs");
    report_json(&s, &run)["models"].as_array().expect("models").clone()
}
