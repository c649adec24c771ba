//! Printing that survives a closed pipe (`pipesim run x | head`).

use std::io::Write;

/// Writes `text` to stdout; a closed pipe is not an error worth reporting.
pub(crate) fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

/// Writes one line to stderr.
pub(crate) fn err_line(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}

/// Prints an error as `error: ...` on stderr.
pub(crate) fn error(text: impl std::fmt::Display) {
    err_line(&format!("error: {text}"));
}
