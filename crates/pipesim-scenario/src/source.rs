//! Reading a scenario file, with errors for what is not a scenario at all.

use crate::error::ScenarioError;
use pipesim_workload::input::read_capped;
use std::path::Path;

/// Files larger than this are refused: a scenario is a page of TOML, and a huge file is almost
/// certainly the wrong file (a trace, a binary).
const MAX_SCENARIO_BYTES: u64 = 16 * 1024 * 1024;

/// Files a scenario names (`.hgrm` tables of empirical distributions) larger than this are
/// refused: such a table is kilobytes.
pub(crate) const MAX_DATA_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The text of the scenario at `path` (a regular file of at most 16 MiB).
pub(crate) fn read_scenario(path: &Path) -> Result<String, ScenarioError> {
    let fail = |msg: String| ScenarioError::file(path.to_path_buf(), msg);
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(fail("is a directory, not a scenario file".to_string()));
    }
    let bytes = read_capped(path, MAX_SCENARIO_BYTES, "a scenario file")
        .map_err(|e| fail(format!("cannot read the scenario: {e}")))?;
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
pub(crate) use pipesim_workload::input::io_words as io_reason;
