//! Reading a scenario file, with errors for what is not a scenario at all.

use crate::error::ScenarioError;
use std::path::Path;

/// Files larger than this are refused: a scenario is a page of TOML, and a huge file is almost
/// certainly the wrong file (a trace, a binary).
const MAX_SCENARIO_BYTES: u64 = 16 * 1024 * 1024;

/// The text of the scenario at `path`.
pub(crate) fn read_scenario(path: &Path) -> Result<String, ScenarioError> {
    let fail = |msg: String| ScenarioError::file(path.to_path_buf(), msg);
    let meta = std::fs::metadata(path)
        .map_err(|e| fail(format!("cannot read the scenario: {}", io_reason(&e))))?;
    if meta.is_dir() {
        return Err(fail("is a directory, not a scenario file".to_string()));
    }
    if meta.len() > MAX_SCENARIO_BYTES {
        return Err(fail(format!(
            "is {} bytes: too large for a scenario file (at most 16 MiB)",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| fail(format!("cannot read the scenario: {}", io_reason(&e))))?;
    check_text(&bytes).map_err(fail)
}

/// The bytes as text, or why they are not a scenario.
pub(crate) fn check_text(bytes: &[u8]) -> Result<String, String> {
    if let Some(i) = bytes.iter().position(|&b| b == 0) {
        return Err(format!("is not a text file (byte {i} is NUL): is this the right file?"));
    }
    let text = String::from_utf8(bytes.to_vec()).map_err(|e| {
        format!(
            "is not UTF-8 text (invalid byte at offset {}): is this the right file?",
            e.utf8_error().valid_up_to()
        )
    })?;
    let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
    if text.trim().is_empty() {
        return Err("is empty: a scenario needs at least `name`, `duration`, `[workload]` and one `[[model]]`".to_string());
    }
    Ok(text)
}

/// An I/O error in words, without the "(os error 2)" noise.
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_lowercase(),
                None => s.to_lowercase(),
            }
        }
    }
}
