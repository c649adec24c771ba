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
pub(crate) fn read_fault_trace(path: &Path, skip: bool) -> Result<FaultTrace, String> {
    let shown = path.display().to_string();
    let csv = layout_is_csv(path, &shown)?;
    let (file, _) = pipesim_workload::input::open_regular(path)
        .map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let mut reader = BufReader::new(file);
    let mut reading = Reading::new(shown, csv, skip);
    let mut buf = Vec::new();
    while let Some(complete) = reading.read_line(&mut reader, &mut buf)? {
        let text = reading.line_text(&buf)?;
        reading.take_line(text, complete)?;
    }
    reading.finish()
}

/// Whether the extension names the CSV layout (else JSON lines); any other extension is refused
/// with both layouts described.
fn layout_is_csv(path: &Path, shown: &str) -> Result<bool, String> {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "csv" => Ok(true),
        "jsonl" | "ndjson" => Ok(false),
        _ => Err(format!(
            "{shown}: the format comes from the extension: .csv (a header line naming the columns, from {}) or .jsonl / .ndjson (one JSON object per line with the keys of a [[fault]] table)",
            csv_columns().map(|c| c.0).collect::<Vec<_>>().join(",")
        )),
    }
}

/// A fault trace being read: where we are in the file and what it has given so far. The line
/// buffer stays with the caller so a line's text can be borrowed while this is updated.
struct Reading {
    /// The file, as messages show it.
    shown: String,
    csv: bool,
    skip: bool,
    /// CSV: the header's columns, once read.
    header: Option<Vec<(String, CellType)>>,
    /// The start time of the last fault, which the next may not precede.
    last_at: u64,
    /// The line last read (1-based).
    line_no: u64,
    out: FaultTrace,
}

impl Reading {
    fn new(shown: String, csv: bool, skip: bool) -> Self {
        let out = FaultTrace { faults: Vec::new(), skipped: Vec::new(), skipped_count: 0 };
        Self { shown, csv, skip, header: None, last_at: 0, line_no: 0, out }
    }

    /// Reads the next line into `buf`: `Some(true)` when it ends in a newline, `Some(false)` for
    /// a last line without one, `None` at the end of the file.
    fn read_line(
        &mut self,
        reader: &mut impl BufRead,
        buf: &mut Vec<u8>,
    ) -> Result<Option<bool>, String> {
        buf.clear();
        let n = reader.take(MAX_LINE_BYTES as u64).read_until(b'\n', buf).map_err(|e| {
            format!("{}: cannot read: {}", self.shown, crate::source::io_reason(&e))
        })?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        let complete = buf.last() == Some(&b'\n');
        if !complete && n == MAX_LINE_BYTES {
            return Err(format!("{}:{}: the line is longer than 64 KiB", self.shown, self.line_no));
        }
        Ok(Some(complete))
    }

    /// The line in `buf` as text, without its line ending (nor, on line 1, a byte-order mark).
    fn line_text<'b>(&self, buf: &'b [u8]) -> Result<&'b str, String> {
        let bytes = if self.line_no == 1 { pipesim_workload::input::strip_bom(buf) } else { buf };
        let text = std::str::from_utf8(bytes)
            .map_err(|_| format!("{}:{}: not UTF-8 text", self.shown, self.line_no))?;
        Ok(text.trim_end_matches(['\n', '\r']))
    }

    /// Takes one line: skips blanks and comments, reads the CSV header, else parses a fault.
    fn take_line(&mut self, text: &str, complete: bool) -> Result<(), String> {
        if text.trim().is_empty() || text.trim_start().starts_with('#') {
            return Ok(());
        }
        if self.csv && self.header.is_none() {
            let header = parse_header(text).map_err(|m| self.at_line(&m))?;
            self.header = Some(header);
            return Ok(());
        }
        let parsed = if self.csv {
            parse_csv_line(text, self.header.as_deref().unwrap_or_default())
        } else {
            serde_json::from_str::<RawFault>(text).map_err(|e| {
                let msg = e.to_string();
                // serde_json's own "at line 1 column N" is about the line, not the file.
                msg.rsplit_once(" at line ").map_or(msg.clone(), |(m, _)| m.to_string())
            })
        };
        match parsed {
            Ok(fault) => self.push(fault),
            Err(m) => self.refuse(m, complete),
        }
    }

    /// A line that does not parse, with why (`m`): counted and skipped with `skip`, else an
    /// error. A last line without a newline is always an error: most likely it was cut short.
    fn refuse(&mut self, m: String, complete: bool) -> Result<(), String> {
        if !complete {
            return Err(self.at_line(&format!(
                "the file ends in the middle of a line (the last line has no newline and does not parse: {m}): was it cut short?"
            )));
        }
        if !self.skip {
            return Err(self.at_line(&format!(
                "{m} (set `on_error = \"skip\"` in [faults] to skip such lines and count them)"
            )));
        }
        self.out.skipped_count += 1;
        if self.out.skipped.len() < SKIPPED_EXAMPLES {
            self.out.skipped.push((self.line_no, m));
        }
        Ok(())
    }

    /// Keeps a parsed fault, if it does not go back in time and the scenario's fault limit
    /// leaves room for it.
    fn push(&mut self, fault: RawFault) -> Result<(), String> {
        if fault.at.ns < self.last_at {
            return Err(self.at_line(&format!(
                "times out of order: {} comes after a fault at {}; sort the trace by `at`",
                fault.at,
                pipesim_engine::format_duration_ns(self.last_at)
            )));
        }
        self.last_at = fault.at.ns;
        if self.out.faults.len() as u64 >= pipesim_config::limits::FAULTS.max {
            return Err(self.at_line(&format!(
                "more than {} faults, the most a scenario may have (a documented limit: see \"Limits\" in docs/scenario.md)",
                pipesim_config::limits::FAULTS.max
            )));
        }
        self.out.faults.push(TracedFault { line: self.line_no, fault });
        Ok(())
    }

    /// The faults read, once the whole file is: a CSV trace must at least have had its header.
    fn finish(self) -> Result<FaultTrace, String> {
        if self.csv && self.header.is_none() {
            return Err(format!(
                "{}: empty: a CSV fault trace starts with a header line",
                self.shown
            ));
        }
        Ok(self.out)
    }

    /// `message` prefixed with `file:line: `.
    fn at_line(&self, message: &str) -> String {
        format!("{}:{}: {message}", self.shown, self.line_no)
    }
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
