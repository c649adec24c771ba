//! What a crash takes down: the process, or the whole machine.
//!
//! The two lose different things. A process crash (a `kill -9`, an OOM kill, a segfault)
//! leaves the operating system running, so what the process had handed to the kernel with
//! `write()` survives in the page cache and reaches the disk later; only what was still in
//! the process's own memory is gone. A machine crash (power loss, a kernel panic, a VM that
//! disappears) loses everything that had not been fsynced. Components that write ahead
//! (Postgres's WAL, a Kafka broker's segments) take the scope of each crash and lose what
//! that scope loses; components whose state is all in memory lose the same under both.

use serde::Serialize;

/// What a crash takes down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CrashScope {
    /// The process dies; the kernel, and its page cache, keep running.
    #[default]
    Process,
    /// The machine goes down: what was not fsynced is gone.
    Machine,
}

impl CrashScope {
    /// Every scope, the default first.
    pub const NAMED: [Self; 2] = [Self::Process, Self::Machine];
    /// The names scenario files use, in the order of [`CrashScope::NAMED`].
    pub const NAMES: [&'static str; 2] = ["process", "machine"];

    /// The name scenario files use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Process => "process",
            Self::Machine => "machine",
        }
    }

    /// The scope named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "process" => Some(Self::Process),
            "machine" => Some(Self::Machine),
            _ => None,
        }
    }
}
