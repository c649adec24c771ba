//! Fault traces: a timeline of faults read from a file (`[faults] trace = "faults.jsonl"`).
//!
//! Two layouts, chosen by the extension:
//! - JSON lines (`.jsonl`, `.ndjson`): one object per line with the keys of a `[[fault]]` table
//!   (`{"kind":"partition","target":"network","at":"30s","duration":"5s","direction":"requests"}`);
//!   `extra` may be a duration or a distribution object. `pipesim trace export` writes this.
//! - CSV (`.csv`): a header naming the columns (`kind,target,at` are required; any other
//!   `[[fault]]` key may be a column), then one fault per line; an empty cell leaves the key
//!   out. Cells are plain (no quoting), so `extra` is a duration there.
//!
//! The file is read line by line; blank lines and lines starting with `#` are skipped. Start
//! times must not go backwards. Each fault then goes through the same checks as a `[[fault]]`
//! table.

use crate::fault_kinds::{COMMON_KEYS, CellType, FAULT_PARAMS};
use crate::raw::RawFault;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Where a fault came from in the trace, for error messages: its line number.
pub(crate) struct TracedFault {
    /// 1-based line number.
    pub line: u64,
    /// The fault as written.
    pub fault: RawFault,
}

/// What reading a fault trace gave.
pub(crate) struct FaultTrace {
    /// The faults, in file order.
    pub faults: Vec<TracedFault>,
    /// The first few lines skipped because they did not parse (with `on_error = "skip"`):
    /// line and why.
    pub skipped: Vec<(u64, String)>,
    /// How many lines were skipped.
    pub skipped_count: u64,
}

/// Skipped lines a fault trace keeps as examples for the warning.
const SKIPPED_EXAMPLES: usize = 3;
/// The longest line of a fault trace.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// The keys a CSV header may name, with how their cells are typed: the common keys, then
/// every kind's parameters.
fn csv_columns() -> impl Iterator<Item = (&'static str, CellType)> {
    let common = COMMON_KEYS.iter().map(|k| (*k, CellType::Text));
    common.chain(FAULT_PARAMS.iter().map(|p| (p.name, p.cell)))
}

/// Reads the fault trace at `path`. `skip`: a line that does not parse is counted and skipped
/// instead of stopping. Errors read `file:line: why`.
#[expect(clippy::too_many_lines, reason = "over the 70-line budget (clippy.toml); to be split")]
pub(crate) fn read_fault_trace(path: &Path, skip: bool) -> Result<FaultTrace, String> {
    let shown = path.display();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let csv = match ext {
        "csv" => true,
        "jsonl" | "ndjson" => false,
        _ => {
            return Err(format!(
                "{shown}: the format comes from the extension: .csv (a header line naming the columns, from {}) or .jsonl / .ndjson (one JSON object per line with the keys of a [[fault]] table)",
                csv_columns().map(|c| c.0).collect::<Vec<_>>().join(",")
            ));
        }
    };
    let (file, _) = pipesim_workload::input::open_regular(path)
        .map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let mut reader = BufReader::new(file);
    let mut out = FaultTrace { faults: Vec::new(), skipped: Vec::new(), skipped_count: 0 };
    let mut header: Option<Vec<(String, CellType)>> = None;
    let mut last_at: u64 = 0;
    let mut line_no: u64 = 0;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE_BYTES as u64)
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("{shown}: cannot read: {}", crate::source::io_reason(&e)))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let complete = buf.last() == Some(&b'\n');
        if !complete && n == MAX_LINE_BYTES {
            return Err(format!("{shown}:{line_no}: the line is longer than 64 KiB"));
        }
        let bytes = if line_no == 1 { pipesim_workload::input::strip_bom(&buf) } else { &buf };
        let text = std::str::from_utf8(bytes)
            .map_err(|_| format!("{shown}:{line_no}: not UTF-8 text"))?
            .trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() || text.trim_start().starts_with('#') {
            continue;
        }
        if csv && header.is_none() {
            header = Some(parse_header(text).map_err(|m| format!("{shown}:{line_no}: {m}"))?);
            continue;
        }
        let parsed = if csv {
            parse_csv_line(text, header.as_deref().unwrap_or_default())
        } else {
            serde_json::from_str::<RawFault>(text).map_err(|e| {
                let msg = e.to_string();
                // serde_json's own "at line 1 column N" is about the line, not the file.
                msg.rsplit_once(" at line ").map_or(msg.clone(), |(m, _)| m.to_string())
            })
        };
        let fault = match parsed {
            Ok(f) => f,
            Err(m) if !complete => {
                return Err(format!(
                    "{shown}:{line_no}: the file ends in the middle of a line (the last line has no newline and does not parse: {m}): was it cut short?"
                ));
            }
            Err(m) if skip => {
                out.skipped_count += 1;
                if out.skipped.len() < SKIPPED_EXAMPLES {
                    out.skipped.push((line_no, m));
                }
                continue;
            }
            Err(m) => {
                return Err(format!(
                    "{shown}:{line_no}: {m} (set `on_error = \"skip\"` in [faults] to skip such lines and count them)"
                ));
            }
        };
        if fault.at.ns < last_at {
            return Err(format!(
                "{shown}:{line_no}: times out of order: {} comes after a fault at {}; sort the trace by `at`",
                fault.at,
                pipesim_engine::format_duration_ns(last_at)
            ));
        }
        last_at = fault.at.ns;
        if out.faults.len() as u64 >= pipesim_config::limits::FAULTS.max {
            return Err(format!(
                "{shown}:{line_no}: more than {} faults, the most a scenario may have (a documented limit: see \"Limits\" in docs/scenario.md)",
                pipesim_config::limits::FAULTS.max
            ));
        }
        out.faults.push(TracedFault { line: line_no, fault });
    }
    if csv && header.is_none() {
        return Err(format!("{shown}: empty: a CSV fault trace starts with a header line"));
    }
    Ok(out)
}

fn parse_header(text: &str) -> Result<Vec<(String, CellType)>, String> {
    let mut cols = Vec::new();
    for name in text.split(',').map(str::trim) {
        let Some((_, ty)) = csv_columns().find(|(c, _)| *c == name) else {
            let known: Vec<&str> = csv_columns().map(|c| c.0).collect();
            let mut msg = format!("unknown column `{name}` in the header");
            if let Some(s) = pipesim_config::suggest(name, known.iter().copied()) {
                msg.push_str(&format!(" (did you mean `{s}`?)"));
            }
            msg.push_str(&format!("; columns: {}", known.join(", ")));
            return Err(msg);
        };
        if cols.iter().any(|(c, _)| c == name) {
            return Err(format!("column `{name}` appears twice in the header"));
        }
        cols.push((name.to_string(), ty));
    }
    for required in ["kind", "target", "at"] {
        if !cols.iter().any(|(c, _)| c == required) {
            return Err(format!("the header has no `{required}` column"));
        }
    }
    Ok(cols)
}

fn parse_csv_line(text: &str, header: &[(String, CellType)]) -> Result<RawFault, String> {
    let cells: Vec<&str> = text.split(',').map(str::trim).collect();
    if cells.len() != header.len() {
        return Err(format!("{} cells where the header has {} columns", cells.len(), header.len()));
    }
    let mut table = toml::Table::new();
    for ((name, ty), cell) in header.iter().zip(cells) {
        if cell.is_empty() {
            continue;
        }
        let value = match ty {
            CellType::Text => toml::Value::String(cell.to_string()),
            CellType::Float => toml::Value::Float(
                cell.parse::<f64>().map_err(|_| format!("{name}: `{cell}` is not a number"))?,
            ),
            CellType::Int => toml::Value::Integer(
                cell.parse::<i64>().map_err(|_| format!("{name}: `{cell}` is not an integer"))?,
            ),
            CellType::Bool => toml::Value::Boolean(
                cell.parse::<bool>()
                    .map_err(|_| format!("{name}: `{cell}` is not true or false"))?,
            ),
        };
        table.insert(name.clone(), value);
    }
    toml::Value::Table(table).try_into::<RawFault>().map_err(|e| e.message().to_string())
}
