//! The worker process: mutants of the corpus evaluated one after the other, each written to
//! `state/current.toml` first so that the supervisor knows which input killed a worker.
//!
//! It prints one line per event on stdout for the supervisor: `stats RAN REJECTED REFUSED
//! NOTRUN` (cumulative, every half second and at the end) and `crash KIND FILE` for each new
//! crash it saved.

use crate::Options;
use crate::evaluate::{Outcome, evaluate};
use crate::mutate::{Dice, mutate};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

/// Exit codes of `--replay`, which the minimiser compares.
pub(crate) const REPLAY_PANIC: u8 = 10;
pub(crate) const REPLAY_VIOLATION: u8 = 11;

/// The address space a worker may use: a runaway allocation aborts the worker, not the machine.
const MAX_ADDRESS_SPACE: u64 = 4 << 30;

/// The last panic's message and location (the hook prints nothing).
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

/// Milliseconds since the Unix epoch: the fuzzer's budget is wall time (no simulation reads
/// it).
pub(crate) fn now_ms() -> u64 {
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        let at =
            info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = format!("{msg}{at}");
        }
    }));
}

fn limit_memory() {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let limit = Rlimit { current: Some(MAX_ADDRESS_SPACE), maximum: Some(MAX_ADDRESS_SPACE) };
    let _ = setrlimit(Resource::As, limit);
}

/// Every `.toml` file under `dir`, with its text, in path order.
pub(crate) fn corpus(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "toml")
                && let Ok(text) = std::fs::read_to_string(&p)
            {
                out.push((p, text));
            }
        }
    }
    out.sort();
    out
}

/// Evaluates `text`; a panic becomes `Err(message)`.
fn guarded(text: &str, anchor: &Path) -> Result<Outcome, String> {
    std::panic::catch_unwind(|| evaluate(text, anchor))
        .map_err(|_| LAST_PANIC.lock().map(|m| m.clone()).unwrap_or_default())
}

/// FNV-1a of `text`, for crash file names.
fn hash(text: &str) -> u64 {
    text.bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// The signature of a crash (its message without the numbers that change between inputs).
pub(crate) fn signature(kind: &str, message: &str) -> String {
    let first = message.lines().next().unwrap_or("");
    let words: String = first.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect();
    format!("{kind}: {}", words.chars().take(160).collect::<String>())
}

/// Saves a crash input (once per signature); returns its file when new.
pub(crate) fn save_crash(
    out: &Path,
    kind: &str,
    message: &str,
    text: &str,
    anchor: &Path,
) -> Option<PathBuf> {
    let dir = out.join("crashes");
    std::fs::create_dir_all(&dir).ok()?;
    let sig = signature(kind, message);
    let file = dir.join(format!("{kind}-{:016x}.toml", hash(&sig)));
    if file.exists() {
        return None;
    }
    std::fs::write(&file, text).ok()?;
    let note = format!("{sig}\nmessage: {message}\nanchor: {}\n", anchor.display());
    std::fs::write(file.with_extension("txt"), note).ok()?;
    Some(file)
}

/// The worker loop, until `until_ms` (Unix milliseconds).
pub(crate) fn work(opts: &Options, until_ms: u64) -> ExitCode {
    limit_memory();
    quiet_panics();
    let corpus = corpus(&opts.corpus);
    if corpus.is_empty() {
        eprintln!("error: no .toml file under {}", opts.corpus.display());
        return ExitCode::from(2);
    }
    let texts: Vec<String> = corpus.iter().map(|(_, t)| t.clone()).collect();
    let state = opts.out.join("state");
    let _ = std::fs::create_dir_all(&state);
    let mut dice = Dice::new(opts.seed);
    let mut counts = [0u64; 4];
    let mut last_report = 0;
    let stdout = std::io::stdout();
    while now_ms() < until_ms {
        let (anchor, text) = &corpus[dice.below(corpus.len())];
        let mutant = mutate(text, &texts, &mut dice);
        let _ = std::fs::write(state.join("current.anchor"), anchor.display().to_string());
        let _ = std::fs::write(state.join("current.toml"), &mutant);
        let t0 = now_ms();
        let result = guarded(&mutant, anchor);
        if std::env::var("PIPESIM_FUZZ_SLOW").is_ok() && now_ms() - t0 > 100 {
            eprintln!(
                "slow {} ms {:?} {}",
                now_ms() - t0,
                result.as_ref().map(|o| format!("{o:?}").chars().take(80).collect::<String>()),
                anchor.display()
            );
        }
        let crash = match result {
            Ok(Outcome::Ran) => {
                counts[0] += 1;
                None
            }
            Ok(Outcome::Rejected) => {
                counts[1] += 1;
                None
            }
            Ok(Outcome::Refused) => {
                counts[2] += 1;
                None
            }
            Ok(Outcome::NotRun) => {
                counts[3] += 1;
                None
            }
            Ok(Outcome::Violation(m)) => Some(("violation", m)),
            Err(m) => Some(("panic", m)),
        };
        let mut lock = stdout.lock();
        if let Some((kind, message)) = crash {
            let saved = save_crash(&opts.out, kind, &message, &mutant, anchor);
            let shown = saved.map_or("-".to_string(), |f| f.display().to_string());
            let _ = writeln!(lock, "crash {kind} {shown}");
        }
        let now = now_ms();
        if now >= last_report + 500 {
            last_report = now;
            let _ = writeln!(lock, "stats {} {} {} {}", counts[0], counts[1], counts[2], counts[3]);
        }
    }
    let _ =
        writeln!(stdout.lock(), "stats {} {} {} {}", counts[0], counts[1], counts[2], counts[3]);
    ExitCode::SUCCESS
}

/// `--replay FILE`: one input, evaluated as the worker does. Exit 0 (ran or rejected as it
/// should be), 10 (a panic), 11 (broken semantics); an abort is the process's own.
pub(crate) fn replay(file: &Path, anchor: &Path) -> ExitCode {
    limit_memory();
    quiet_panics();
    let Ok(bytes) = std::fs::read(file) else {
        eprintln!("error: cannot read {}", file.display());
        return ExitCode::from(2);
    };
    let text = String::from_utf8_lossy(&bytes);
    match guarded(&text, anchor) {
        Ok(Outcome::Violation(m)) => {
            println!("violation: {m}");
            ExitCode::from(REPLAY_VIOLATION)
        }
        Ok(o) => {
            println!("{o:?}");
            ExitCode::SUCCESS
        }
        Err(m) => {
            println!("panic: {m}");
            ExitCode::from(REPLAY_PANIC)
        }
    }
}
