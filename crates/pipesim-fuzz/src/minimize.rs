//! Shrinking a crash input: delta debugging over its lines (Zeller's ddmin), each candidate
//! replayed in a child process (`pipesim-fuzz --replay`) so that aborts and hangs shrink too.

use crate::worker::{REPLAY_PANIC, REPLAY_VIOLATION};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How a replay ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    Fine,
    Panic,
    Violation,
    Abort,
    Timeout,
}

/// The longest a replay may take.
pub(crate) const REPLAY_TIMEOUT: Duration = Duration::from_secs(10);

/// Replays `file` (anchored at `anchor`) in a child process.
pub(crate) fn classify(file: &Path, anchor: &Path) -> Class {
    let Ok(exe) = std::env::current_exe() else { return Class::Fine };
    let child = Command::new(exe)
        .arg("--replay")
        .arg(file)
        .arg("--anchor")
        .arg(anchor)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else { return Class::Fine };
    let start = crate::worker::now_ms();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return match status.code() {
                    Some(0) => Class::Fine,
                    Some(c) if c == i32::from(REPLAY_PANIC) => Class::Panic,
                    Some(c) if c == i32::from(REPLAY_VIOLATION) => Class::Violation,
                    _ => Class::Abort,
                };
            }
            Ok(None) if crate::worker::now_ms() - start > REPLAY_TIMEOUT.as_millis() as u64 => {
                let _ = child.kill();
                let _ = child.wait();
                return Class::Timeout;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => return Class::Fine,
        }
    }
}

/// Shrinks the crash in `file` to fewer lines that still end as `class`, within `budget`
/// replays; writes `NAME.min.toml` beside it and returns it.
pub(crate) fn minimize(file: &Path, anchor: &Path, class: Class, budget: usize) -> Option<PathBuf> {
    let text = std::fs::read_to_string(file).ok()?;
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let probe = file.with_extension("probe.toml");
    let mut n = 2usize;
    let mut tries = 0;
    while lines.len() >= 2 && tries < budget {
        let chunk = lines.len().div_ceil(n);
        let parts = n;
        let mut reduced = false;
        for i in 0..parts {
            let from = i * chunk;
            if from >= lines.len() {
                break;
            }
            let to = (from + chunk).min(lines.len());
            let candidate: Vec<String> =
                lines[..from].iter().chain(&lines[to..]).cloned().collect();
            tries += 1;
            if std::fs::write(&probe, candidate.join("\n") + "\n").is_err() {
                return None;
            }
            if classify(&probe, anchor) == class {
                lines = candidate;
                n = (n - 1).max(2);
                reduced = true;
                break;
            }
            if tries >= budget {
                break;
            }
        }
        if !reduced {
            if n >= lines.len() {
                break;
            }
            n = (n * 2).min(lines.len());
        }
    }
    let _ = std::fs::remove_file(&probe);
    let out = file.with_extension("min.toml");
    std::fs::write(&out, lines.join("\n") + "\n").ok()?;
    Some(out)
}
