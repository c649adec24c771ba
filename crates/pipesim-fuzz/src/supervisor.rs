//! The supervisor: runs workers until the budget is spent, restarts one that aborts or hangs
//! (keeping the input that did it), minimises the crashes, and prints the figures.

use crate::Options;
use crate::minimize::{Class, REPLAY_TIMEOUT, minimize};
use crate::worker::{now_ms, save_crash};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Outcomes by kind, summed over workers.
#[derive(Default)]
struct Totals {
    ran: u64,
    rejected: u64,
    refused: u64,
    not_run: u64,
    panics: u64,
    violations: u64,
    aborts: u64,
    timeouts: u64,
    /// New crash files and their class.
    crashes: Vec<(PathBuf, Class)>,
}

impl Totals {
    fn inputs(&self) -> u64 {
        self.ran
            + self.rejected
            + self.refused
            + self.not_run
            + self.panics
            + self.violations
            + self.aborts
            + self.timeouts
    }
}

fn spawn(opts: &Options, seed: u64, until_ms: u64) -> std::io::Result<Child> {
    Command::new(std::env::current_exe()?)
        .args(["--worker", "--seed", &seed.to_string(), "--until-ms", &until_ms.to_string()])
        .arg("--corpus")
        .arg(&opts.corpus)
        .arg("--out")
        .arg(&opts.out)
        .stdout(Stdio::piped())
        .stderr(if std::env::var("PIPESIM_FUZZ_SLOW").is_ok() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .spawn()
}

/// When the worker last started an input (the input file's modification time), in Unix ms.
fn current_started(state: &Path) -> Option<u64> {
    let modified = std::fs::metadata(state.join("current.toml")).ok()?.modified().ok()?;
    modified.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_millis() as u64)
}

/// Runs one worker to its end; adds its figures to `t`.
fn one_worker(opts: &Options, seed: u64, until_ms: u64, t: &mut Totals) -> Result<(), String> {
    let state = opts.out.join("state");
    let _ = std::fs::remove_file(state.join("current.toml"));
    let mut child =
        spawn(opts, seed, until_ms).map_err(|e| format!("cannot start a worker: {e}"))?;
    let stdout = child.stdout.take().ok_or("the worker has no stdout")?;
    let rx = stdout_lines(stdout);
    let mut stats = [0u64; 4];
    let (status, timed_out) = watch(&mut child, &rx, &state, &mut stats, t)?;
    // Lines written before the end.
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
        if let Some(rest) = line.strip_prefix("stats ") {
            read_stats(&mut stats, rest.split_whitespace());
        }
    }
    t.ran += stats[0];
    t.rejected += stats[1];
    t.refused += stats[2];
    t.not_run += stats[3];
    if timed_out || !status.success() {
        save_worker_crash(opts, &state, status, timed_out, t);
    }
    Ok(())
}

/// The worker's stdout, line by line, read on a thread of its own so that the supervisor can
/// watch the clock while it waits.
fn stdout_lines(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Reads the counts of a `stats` line (ran, rejected, refused, not run) into `stats`; a word
/// that does not parse keeps the count it would replace.
fn read_stats<'w>(stats: &mut [u64; 4], words: impl Iterator<Item = &'w str>) {
    for (s, w) in stats.iter_mut().zip(words) {
        *s = w.parse().unwrap_or(*s);
    }
}

/// Takes in one line of a running worker: its latest counts, or a crash it found.
fn worker_line(line: &str, stats: &mut [u64; 4], t: &mut Totals) {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["stats", rest @ ..] => read_stats(stats, rest.iter().copied()),
        ["crash", kind, file] => {
            if *kind == "panic" {
                t.panics += 1;
            } else {
                t.violations += 1;
            }
            if *file != "-" {
                let class = if *kind == "panic" { Class::Panic } else { Class::Violation };
                t.crashes.push((PathBuf::from(file), class));
            }
        }
        _ => {}
    }
}

/// Takes in the worker's lines until it exits, or kills it once one input has run for more
/// than [`REPLAY_TIMEOUT`]; its exit status, and whether it was killed for that.
fn watch(
    child: &mut Child,
    rx: &mpsc::Receiver<String>,
    state: &Path,
    stats: &mut [u64; 4],
    t: &mut Totals,
) -> Result<(ExitStatus, bool), String> {
    loop {
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            worker_line(&line, stats, t);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Ok((status, false));
        }
        let started = current_started(state).unwrap_or_else(now_ms);
        if now_ms().saturating_sub(started) > REPLAY_TIMEOUT.as_millis() as u64 {
            let _ = child.kill();
            return Ok((child.wait().map_err(|e| e.to_string())?, true));
        }
    }
}

/// Saves the input a worker that died (or hung, `timed_out`) was on as a new crash.
fn save_worker_crash(
    opts: &Options,
    state: &Path,
    status: ExitStatus,
    timed_out: bool,
    t: &mut Totals,
) {
    let (kind, class, message) = if timed_out {
        t.timeouts += 1;
        ("timeout", Class::Timeout, "an input ran for more than 10 s".to_string())
    } else {
        t.aborts += 1;
        ("abort", Class::Abort, format!("the worker died: {status}"))
    };
    let text = std::fs::read_to_string(state.join("current.toml")).unwrap_or_default();
    let anchor = std::fs::read_to_string(state.join("current.anchor")).unwrap_or_default();
    if let Some(f) = save_crash(&opts.out, kind, &message, &text, Path::new(&anchor)) {
        t.crashes.push((f, class));
    }
}

/// The anchor a crash file was saved with.
fn anchor_of(file: &Path) -> PathBuf {
    let note = std::fs::read_to_string(file.with_extension("txt")).unwrap_or_default();
    note.lines().find_map(|l| l.strip_prefix("anchor: ")).map_or_else(PathBuf::new, PathBuf::from)
}

pub(crate) fn supervise(opts: &Options) -> ExitCode {
    let start = now_ms();
    let until = start + opts.seconds * 1000;
    let mut t = Totals::default();
    let mut generation = 0u64;
    while now_ms() < until {
        let seed = opts.seed.wrapping_add(generation.wrapping_mul(7_919));
        if let Err(e) = one_worker(opts, seed, until, &mut t) {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        generation += 1;
    }
    let elapsed_s = (now_ms() - start) as f64 / 1e3;
    let mut minimized = Vec::new();
    for (file, class) in &t.crashes {
        let budget = if *class == Class::Timeout { 12 } else { 150 };
        if let Some(m) = minimize(file, &anchor_of(file), *class, budget) {
            minimized.push(m);
        }
    }
    println!(
        "pipesim-fuzz: {:.0} s, seed {}, corpus {}",
        elapsed_s,
        opts.seed,
        opts.corpus.display()
    );
    println!(
        "inputs tried: {} ({:.0}/s), {} worker start(s)",
        t.inputs(),
        t.inputs() as f64 / elapsed_s.max(1e-3),
        generation
    );
    println!(
        "  exit 0: {} validated and ran (shortened to at most 5,000 arrivals), {} validated but too long to run here",
        t.ran, t.not_run
    );
    println!(
        "  exit 2: {} rejected by validation, {} refused by the memory estimate",
        t.rejected, t.refused
    );
    println!(
        "  crashes: {} panics (exit 1), {} broken exit-2 semantics, {} aborts (exit 134), {} timeouts",
        t.panics, t.violations, t.aborts, t.timeouts
    );
    for (file, class) in &t.crashes {
        println!("  new crash ({class:?}): {}", file.display());
    }
    for m in &minimized {
        println!("  minimised: {}", m.display());
    }
    if t.panics + t.violations + t.aborts + t.timeouts > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
