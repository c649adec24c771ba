//! The `pipesim` binary: a thin shell over [`pipesim_cli::main_with_args`].

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(pipesim_cli::main_with_args(std::env::args_os()))
}
