//! The `pipesim` command line.
//!
//! Arguments are parsed in two steps, as ripgrep does: clap reads raw flags (no I/O), then the
//! scenario crate validates them together with the files. Every command returns an exit code
//! from [`exit`]; nothing here panics on bad input.

mod args;
mod cmd_compare;
mod cmd_gate;
mod cmd_models;
mod cmd_run;
mod cmd_trace;
mod cmd_validate;
pub mod estimate;
mod output;
mod page_files;
mod progress;
pub mod runner;
pub mod sweep;

use clap::Parser;
use std::ffi::OsString;

/// Exit codes, as the README documents them.
pub mod exit {
    /// Everything worked.
    pub const SUCCESS: u8 = 0;
    /// A bug or an environment failure inside pipesim.
    pub const INTERNAL: u8 = 1;
    /// Invalid input: a bad scenario, a bad flag, an unreadable file, an unwritable output folder.
    pub const INVALID_INPUT: u8 = 2;
    /// A gate or threshold failed (`pipesim gate`).
    pub const GATE_FAILED: u8 = 3;
}

/// Runs the command line `args` (the first is the program name) and returns the exit code.
pub fn main_with_args<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    install_panic_hook();
    let cli = match args::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::INVALID_INPUT } else { exit::SUCCESS };
            let _ = e.print();
            return code;
        }
    };
    let result = std::panic::catch_unwind(|| match cli.command {
        args::Command::Run(a) => cmd_run::run(a),
        args::Command::Validate(a) => cmd_validate::run(a),
        args::Command::Compare(a) => cmd_compare::run(a),
        args::Command::Gate(a) => cmd_gate::run(a),
        args::Command::Sweep(a) => sweep::run(a),
        args::Command::Merge(a) => sweep::merge(a),
        args::Command::Models => cmd_models::run(),
        args::Command::Trace(args::TraceCommand::Export(a)) => cmd_trace::export(a),
    });
    result.unwrap_or(exit::INTERNAL)
}

fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
            eprintln!("internal error: {msg}{at}");
            eprintln!("this is a bug in pipesim; please report it with the command and scenario that caused it");
        }));
    });
}
