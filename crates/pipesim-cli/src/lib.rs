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
mod timeline_csv;

use clap::Parser;
pub use pipesim_models::Registry;
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
    /// The code under test failed: a wire-level service panicked or returned an error. The
    /// message names the host, the simulated time, the seed and the command that reproduces it.
    pub const SERVICE_FAILED: u8 = 4;
}

/// The kinds the `pipesim` binary knows: the built-in discrete-event designs, and the
/// wire-level reference designs when the `wire` feature is on (it is by default).
pub fn default_registry() -> Registry {
    #[allow(unused_mut)]
    let mut registry = Registry::builtin();
    #[cfg(feature = "wire")]
    pipesim_wire::register_reference_designs(&mut registry)
        .expect("the reference wire designs have distinct names");
    registry
}

/// Runs the command line `args` (the first is the program name) and returns the exit code.
pub fn main_with_args<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    main_with_registry(args, &default_registry())
}

/// [`main_with_args`] with the kinds of `registry`: a crate that adds its own designs builds a
/// registry (usually [`default_registry`] plus its kinds) and gets the whole command line.
pub fn main_with_registry<I, T>(args: I, registry: &Registry) -> u8
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
        args::Command::Run(a) => cmd_run::run(a, registry),
        args::Command::Validate(a) => cmd_validate::run(a, registry),
        args::Command::Compare(a) => cmd_compare::run(a),
        args::Command::Gate(a) => cmd_gate::run(a, registry),
        args::Command::Sweep(a) => sweep::run(a, registry),
        args::Command::Merge(a) => sweep::merge(a),
        args::Command::Models => cmd_models::run(registry),
        args::Command::Trace(args::TraceCommand::Export(a)) => cmd_trace::export(a, registry),
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
