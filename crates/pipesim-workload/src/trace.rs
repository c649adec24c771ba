//! Workload traces: arrivals read from a file, one event per line, streamed.
//!
//! Two formats, chosen by the file's extension: CSV (`.csv`) with a header line naming the
//! columns `time`, `key`, `type`, `size`, and JSON lines (`.jsonl`, `.ndjson`), one object
//! `{"time": …, "key": …, "type": …, "size": …}` per line. `time` is the creation time, as an
//! integer number of nanoseconds or a duration string (`"1.5ms"`); `key` an integer below the
//! scenario's key count; `type` free text (read and ignored today); `size` bytes, as an integer
//! or a size string (`"512B"`), the scenario's payload when absent.
//!
//! A [`TraceReader`] holds one line in memory at a time, so a trace of any length is read in
//! constant memory. The scenario loader reads a trace once in full ([`scan`]) before anything
//! runs, so that every error in it is reported up front; each run then reads it again, and if
//! the file no longer gives what the scan saw, the arrivals end and the generator holds the
//! failure ([`crate::ArrivalGen::failure`]), which the run loop turns into an error result.

use pipesim_engine::SimTime;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Lines longer than this are refused: no record needs it, and it keeps memory bounded when a
/// file that is not a trace (one with no newlines) is named by mistake.
pub const MAX_LINE_BYTES: u64 = 64 * 1024;

/// How many skipped lines a summary keeps as examples.
const SKIPPED_EXAMPLES: usize = 5;

/// The columns a trace may have, in the order `pipesim trace export` writes them.
pub const TRACE_COLUMNS: [&str; 4] = ["time", "key", "type", "size"];

/// How a trace file is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl TraceFormat {
    /// The format its extension names (`.csv`; `.jsonl` or `.ndjson`), if any.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" => Some(Self::JsonLines),
            _ => None,
        }
    }
}

/// What to do with a line that does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnError {
    /// Stop with an error naming the line (the default).
    #[default]
    Stop,
    /// Skip the line and count it.
    Skip,
}

/// A problem with a trace file: exit code 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    /// The file, as messages show it.
    pub file: String,
    /// The line (1-based), when the problem is one line.
    pub line: Option<u64>,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for TraceError {}

/// One event of a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceRecord {
    /// Creation time.
    pub time_ns: SimTime,
    /// The key, below the key count.
    pub key: u32,
    /// Payload size.
    pub size_bytes: u32,
}

/// What a full read of a trace found.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TraceSummary {
    /// Events created before the end of arrivals (the ones a run uses).
    pub events: u64,
    /// Lines skipped because they did not parse (with `on_error = "skip"`).
    pub skipped: u64,
    /// The first few skipped lines: line number and why.
    pub skipped_examples: Vec<(u64, String)>,
    /// Creation time of the last event used.
    pub last_time_ns: SimTime,
}

/// A trace as a workload uses it: where it is, how to read it, and what the load-time scan
/// found.
#[derive(Clone, Debug)]
pub struct TraceSpec {
    /// The file to open.
    pub path: PathBuf,
    /// How it is laid out.
    pub format: TraceFormat,
    /// What to do with a line that does not parse.
    pub on_error: OnError,
    /// What the scan at load time found; each run checks that it reads the same.
    pub summary: TraceSummary,
}

impl PartialEq for TraceSpec {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
            && self.format == other.format
            && self.on_error == other.on_error
            && self.summary == other.summary
    }
}

impl TraceSpec {
    /// A trace spec with the scan's `summary`.
    pub fn new(
        path: PathBuf,
        format: TraceFormat,
        on_error: OnError,
        summary: TraceSummary,
    ) -> Self {
        Self { path, format, on_error, summary }
    }

    /// The file as messages show it.
    pub fn shown(&self) -> String {
        self.path.display().to_string()
    }
}

use crate::input::{io_words as io_reason, open_regular, strip_bom};

/// Which field of a record a CSV column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Time,
    Key,
    Type,
    Size,
}

/// Reads a trace one line at a time.
pub struct TraceReader<R> {
    input: R,
    file: String,
    format: TraceFormat,
    on_error: OnError,
    key_count: u32,
    payload_bytes: u32,
    /// CSV: the columns named by the header (`None` until it is read).
    columns: Option<Vec<Column>>,
    line_no: u64,
    buf: Vec<u8>,
    /// Time and line of the previous record.
    prev: Option<(SimTime, u64)>,
    skipped: u64,
    skipped_examples: Vec<(u64, String)>,
}

impl TraceReader<BufReader<File>> {
    /// Opens the trace at `path`.
    pub fn open(
        path: &Path,
        format: TraceFormat,
        on_error: OnError,
        key_count: u32,
        payload_bytes: u32,
    ) -> Result<Self, TraceError> {
        let file = path.display().to_string();
        let fail = |message: String| TraceError { file: file.clone(), line: None, message };
        // A regular file only: the trace is read at load time and again by every run.
        let (f, _) = open_regular(path).map_err(|e| fail(format!("cannot read the trace: {e}")))?;
        Ok(Self::new(BufReader::new(f), file, format, on_error, key_count, payload_bytes))
    }
}

impl<R: BufRead> TraceReader<R> {
    /// A reader of `input`, named `file` in messages.
    pub fn new(
        input: R,
        file: String,
        format: TraceFormat,
        on_error: OnError,
        key_count: u32,
        payload_bytes: u32,
    ) -> Self {
        Self {
            input,
            file,
            format,
            on_error,
            key_count,
            payload_bytes,
            columns: None,
            line_no: 0,
            buf: Vec::new(),
            prev: None,
            skipped: 0,
            skipped_examples: Vec::new(),
        }
    }

    /// Lines skipped so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    fn error(&self, message: String) -> TraceError {
        TraceError { file: self.file.clone(), line: Some(self.line_no), message }
    }

    /// The next record, `Ok(None)` at the end of the file.
    #[expect(clippy::too_many_lines, reason = "over the 70-line budget (clippy.toml); to be split")]
    pub fn next_record(&mut self) -> Result<Option<TraceRecord>, TraceError> {
        loop {
            self.buf.clear();
            let n = (&mut self.input)
                .take(MAX_LINE_BYTES + 1)
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| TraceError {
                    file: self.file.clone(),
                    line: Some(self.line_no + 1),
                    message: format!("cannot read the trace: {}", io_reason(&e)),
                })?;
            if n == 0 {
                if self.format == TraceFormat::Csv && self.columns.is_none() {
                    return Err(TraceError {
                        file: self.file.clone(),
                        line: None,
                        message: format!(
                            "is empty: a CSV trace starts with a header line `{}`",
                            TRACE_COLUMNS.join(",")
                        ),
                    });
                }
                return Ok(None);
            }
            self.line_no += 1;
            let complete = self.buf.last() == Some(&b'\n');
            if !complete && n as u64 > MAX_LINE_BYTES {
                return Err(self.error(format!(
                    "the line is longer than {} KiB: is this a trace file?",
                    MAX_LINE_BYTES / 1024
                )));
            }
            let mut bytes = self.buf.as_slice();
            if self.line_no == 1 {
                bytes = strip_bom(bytes);
            }
            if let Some(b) = bytes.strip_suffix(b"\n") {
                bytes = b;
            }
            if let Some(b) = bytes.strip_suffix(b"\r") {
                bytes = b;
            }
            let parsed = match std::str::from_utf8(bytes) {
                Err(e) => {
                    Err(format!("not UTF-8 text (invalid byte at column {})", e.valid_up_to() + 1))
                }
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) if self.format == TraceFormat::Csv && self.columns.is_none() => {
                    let cols = parse_header(text).map_err(|m| self.error(m))?;
                    self.columns = Some(cols);
                    continue;
                }
                Ok(text) => match self.format {
                    TraceFormat::Csv => {
                        let cols = self.columns.as_deref().unwrap_or(&[]);
                        parse_csv_record(text, cols, self.key_count, self.payload_bytes)
                    }
                    TraceFormat::JsonLines => {
                        parse_json_record(text, self.key_count, self.payload_bytes)
                    }
                },
            };
            match parsed {
                Ok(rec) => {
                    if let Some((prev, line)) = self.prev
                        && rec.time_ns < prev
                    {
                        return Err(self.error(format!(
                            "time {} ns is before the previous event's ({prev} ns, line {line}): a trace must be in time order",
                            rec.time_ns
                        )));
                    }
                    self.prev = Some((rec.time_ns, self.line_no));
                    return Ok(Some(rec));
                }
                Err(m) if !complete => {
                    return Err(self.error(format!(
                        "the file ends in the middle of a record (the last line has no newline and does not parse: {m}): was it cut short?"
                    )));
                }
                Err(m) => match self.on_error {
                    OnError::Stop => {
                        return Err(self.error(format!(
                            "{m} (on_error = \"skip\" in the arrivals table skips and counts such lines)"
                        )));
                    }
                    OnError::Skip => {
                        self.skipped += 1;
                        if self.skipped_examples.len() < SKIPPED_EXAMPLES {
                            self.skipped_examples.push((self.line_no, m));
                        }
                    }
                },
            }
        }
    }
}

/// Reads the trace of `spec`'s file up to `end_ns` (arrivals stop there), checking every line
/// up to it, and summarises it. Constant memory.
pub fn scan(
    path: &Path,
    format: TraceFormat,
    on_error: OnError,
    key_count: u32,
    payload_bytes: u32,
    end_ns: SimTime,
) -> Result<TraceSummary, TraceError> {
    let mut r = TraceReader::open(path, format, on_error, key_count, payload_bytes)?;
    let mut summary = TraceSummary::default();
    while let Some(rec) = r.next_record()? {
        if rec.time_ns >= end_ns {
            break;
        }
        summary.events += 1;
        summary.last_time_ns = rec.time_ns;
    }
    summary.skipped = r.skipped;
    summary.skipped_examples = std::mem::take(&mut r.skipped_examples);
    Ok(summary)
}

fn parse_header(text: &str) -> Result<Vec<Column>, String> {
    let fields = csv_fields(text)?;
    let mut cols = Vec::with_capacity(fields.len());
    for f in &fields {
        let col = match f.to_ascii_lowercase().as_str() {
            "time" => Column::Time,
            "key" => Column::Key,
            "type" => Column::Type,
            "size" => Column::Size,
            other => {
                return Err(format!(
                    "the header names an unknown column `{other}`: a CSV trace starts with a header line `{}` (type and size may be left out)",
                    TRACE_COLUMNS.join(",")
                ));
            }
        };
        if cols.contains(&col) {
            return Err(format!("the header names column `{f}` twice"));
        }
        cols.push(col);
    }
    for (need, col) in [("time", Column::Time), ("key", Column::Key)] {
        if !cols.contains(&col) {
            return Err(format!(
                "the header has no `{need}` column: a CSV trace starts with a header line `{}`",
                TRACE_COLUMNS.join(",")
            ));
        }
    }
    Ok(cols)
}

/// Splits a CSV line into fields: commas separate, double quotes enclose a field that holds
/// commas or quotes (`""` inside one is a quote); unquoted fields are trimmed.
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    cur.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == ',' {
            out.push(if was_quoted { std::mem::take(&mut cur) } else { cur.trim().to_string() });
            cur.clear();
            was_quoted = false;
        } else if c == '"' && cur.trim().is_empty() && !was_quoted {
            quoted = true;
            was_quoted = true;
            cur.clear();
        } else if was_quoted {
            if !c.is_whitespace() {
                return Err("text after a quoted field's closing quote".to_string());
            }
        } else {
            cur.push(c);
        }
    }
    if quoted {
        return Err("a quoted field is not closed".to_string());
    }
    out.push(if was_quoted { cur } else { cur.trim().to_string() });
    Ok(out)
}

fn parse_csv_record(
    text: &str,
    cols: &[Column],
    key_count: u32,
    payload_bytes: u32,
) -> Result<TraceRecord, String> {
    let fields = csv_fields(text)?;
    if fields.len() != cols.len() {
        return Err(format!(
            "expected {} fields as the header names, found {}",
            cols.len(),
            fields.len()
        ));
    }
    let (mut time, mut key, mut size) = (None, None, payload_bytes);
    for (col, f) in cols.iter().zip(&fields) {
        match col {
            Column::Time => time = Some(parse_time(f)?),
            Column::Key => key = Some(parse_key_text(f, key_count)?),
            Column::Type => {}
            Column::Size if f.is_empty() => {}
            Column::Size => size = parse_size(f)?,
        }
    }
    match (time, key) {
        (Some(time_ns), Some(key)) => Ok(TraceRecord { time_ns, key, size_bytes: size }),
        _ => Err("a record needs a time and a key".to_string()),
    }
}

fn parse_json_record(
    text: &str,
    key_count: u32,
    payload_bytes: u32,
) -> Result<TraceRecord, String> {
    use serde_json::Value;
    let map: serde_json::Map<String, Value> = serde_json::from_str(text).map_err(|e| {
        let e = e.to_string();
        let e = e.split(" at line ").next().unwrap_or(&e).to_string();
        format!("not a JSON object: {e}")
    })?;
    let (mut time, mut key, mut size) = (None, None, payload_bytes);
    for (name, v) in &map {
        match name.as_str() {
            "time" => {
                time = Some(match v {
                    Value::Number(n) => n.as_u64().ok_or_else(|| {
                        format!("time: expected an integer number of nanoseconds or a duration string such as \"1.5ms\", found {n}")
                    })?,
                    Value::String(s) => parse_time(s)?,
                    other => return Err(format!("time: expected nanoseconds or a duration string, found {other}")),
                });
            }
            "key" => {
                key = Some(match v {
                    Value::Number(n) => match n.as_u64() {
                        Some(k) => check_key(k, key_count)?,
                        None => return Err(key_message(&n.to_string(), key_count)),
                    },
                    other => return Err(key_message(&other.to_string(), key_count)),
                });
            }
            "type" => match v {
                Value::String(_) | Value::Null => {}
                other => return Err(format!("type: expected a string, found {other}")),
            },
            "size" => {
                size = match v {
                    Value::Number(n) => {
                        let b = n.as_u64().ok_or_else(|| {
                            format!("size: expected a whole number of bytes or a size such as \"512B\", found {n}")
                        })?;
                        size_u32(b, &n.to_string())?
                    }
                    Value::String(s) => parse_size(s)?,
                    Value::Null => payload_bytes,
                    other => {
                        return Err(format!(
                            "size: expected bytes or a size string, found {other}"
                        ));
                    }
                };
            }
            other => {
                return Err(format!(
                    "unknown field `{other}`; known fields: {}",
                    TRACE_COLUMNS.join(", ")
                ));
            }
        }
    }
    match (time, key) {
        (Some(time_ns), Some(key)) => Ok(TraceRecord { time_ns, key, size_bytes: size }),
        (None, _) => Err("a record needs `time`".to_string()),
        (_, None) => Err("a record needs `key`".to_string()),
    }
}

/// A time: whole nanoseconds, or a duration with its unit.
fn parse_time(text: &str) -> Result<SimTime, String> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return t.replace('_', "").parse::<u64>().map_err(|_| format!("time: {t} ns is too large"));
    }
    pipesim_config::parse_duration_ns(t).map_err(|e| {
        format!("time: expected nanoseconds (an integer) or a duration such as \"1.5ms\": {e}")
    })
}

fn key_message(found: &str, key_count: u32) -> String {
    format!(
        "key: expected an integer from 0 to {} (keys.count is {key_count}), found {found}",
        key_count.saturating_sub(1)
    )
}

fn check_key(k: u64, key_count: u32) -> Result<u32, String> {
    if k >= u64::from(key_count) {
        return Err(format!("key {k} is not below keys.count ({key_count})"));
    }
    Ok(k as u32)
}

fn parse_key_text(text: &str, key_count: u32) -> Result<u32, String> {
    let k = text.parse::<u64>().map_err(|_| key_message(&format!("\"{text}\""), key_count))?;
    check_key(k, key_count)
}

fn size_u32(bytes: u64, text: &str) -> Result<u32, String> {
    u32::try_from(bytes).map_err(|_| format!("size: {text} is too large (at most 4 GiB)"))
}

fn parse_size(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let bytes = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse::<u64>().map_err(|_| format!("size: {t} is too large (at most 4 GiB)"))?
    } else {
        pipesim_config::parse_size_bytes(t).map_err(|e| format!("size: {e}"))?
    };
    size_u32(bytes, t)
}

/// The arrivals of a trace, for [`crate::ArrivalGen`].
pub(crate) struct TraceArrivals {
    reader: Option<TraceReader<BufReader<File>>>,
    spec: TraceSpec,
    end: SimTime,
    produced: u64,
    /// Why the arrivals ended early (the file changed or vanished after the scan).
    failure: Option<TraceError>,
}

impl TraceArrivals {
    pub(crate) fn new(spec: &TraceSpec, key_count: u32, payload_bytes: u32, end: SimTime) -> Self {
        let (reader, failure) = match TraceReader::open(
            &spec.path,
            spec.format,
            spec.on_error,
            key_count,
            payload_bytes,
        ) {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e)),
        };
        Self { reader, spec: spec.clone(), end, produced: 0, failure }
    }

    /// Why the arrivals ended before the scan said they would, if they did.
    pub(crate) fn failure(&self) -> Option<&TraceError> {
        self.failure.as_ref()
    }

    /// The next record before the end of arrivals. Errors, and a trace that no longer matches
    /// the load-time scan, end the arrivals and are recorded in the spec.
    #[inline]
    pub(crate) fn next(&mut self) -> Option<TraceRecord> {
        let reader = self.reader.as_mut()?;
        match reader.next_record() {
            Ok(Some(r)) if r.time_ns < self.end => {
                self.produced += 1;
                Some(r)
            }
            Ok(_) => {
                let s = &self.spec.summary;
                if self.produced != s.events || reader.skipped() != s.skipped {
                    self.failure = Some(TraceError {
                        file: self.spec.shown(),
                        line: None,
                        message: format!(
                            "the trace changed while the simulation read it: {} events and {} skipped lines, where the check before the run found {} and {}",
                            self.produced,
                            reader.skipped(),
                            s.events,
                            s.skipped
                        ),
                    });
                }
                self.reader = None;
                None
            }
            Err(e) => {
                self.failure = Some(e);
                self.reader = None;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(
        text: &str,
        format: TraceFormat,
        on_error: OnError,
    ) -> Result<Vec<TraceRecord>, TraceError> {
        let mut r = TraceReader::new(text.as_bytes(), "t".to_string(), format, on_error, 10, 512);
        let mut out = Vec::new();
        while let Some(rec) = r.next_record()? {
            out.push(rec);
        }
        Ok(out)
    }

    fn rec(time_ns: u64, key: u32, size_bytes: u32) -> TraceRecord {
        TraceRecord { time_ns, key, size_bytes }
    }

    #[test]
    fn csv_with_units_quotes_and_defaults() {
        let text = "time,key,type,size\n0,1,a,100\n1.5ms,2,\"x, y\",\"4KiB\"\n\n2ms,3,,\n";
        let got = read_all(text, TraceFormat::Csv, OnError::Stop).unwrap();
        assert_eq!(got, vec![rec(0, 1, 100), rec(1_500_000, 2, 4096), rec(2_000_000, 3, 512)]);
    }

    #[test]
    fn csv_columns_in_any_order_and_crlf() {
        let text = "key,time\r\n4,10\r\n5,10\r\n";
        let got = read_all(text, TraceFormat::Csv, OnError::Stop).unwrap();
        assert_eq!(got, vec![rec(10, 4, 512), rec(10, 5, 512)]);
    }

    #[test]
    fn json_lines() {
        let text = "{\"time\": \"1us\", \"key\": 0, \"type\": \"t\", \"size\": \"1KB\"}\n{\"time\": 2000, \"key\": 9}";
        let got = read_all(text, TraceFormat::JsonLines, OnError::Stop).unwrap();
        assert_eq!(got, vec![rec(1000, 0, 1000), rec(2000, 9, 512)]);
    }

    #[test]
    fn errors_name_the_line() {
        let e = read_all("time,key\n1,1\n2,x\n", TraceFormat::Csv, OnError::Stop).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("key: expected an integer"), "{e}");
        let e = read_all("time,key\n5,1\n2,1\n", TraceFormat::Csv, OnError::Stop).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("time order"), "{e}");
        let e = read_all("time,key\n1,10\n", TraceFormat::Csv, OnError::Stop).unwrap_err();
        assert!(e.message.contains("not below keys.count"), "{e}");
        let e = read_all("time,kee\n", TraceFormat::Csv, OnError::Stop).unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
        let e = read_all("", TraceFormat::Csv, OnError::Stop).unwrap_err();
        assert!(e.message.contains("is empty"), "{e}");
    }

    #[test]
    fn a_cut_record_is_an_error_even_when_skipping() {
        let e = read_all("time,key\n1,1\n2,", TraceFormat::Csv, OnError::Skip).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("cut short"), "{e}");
        // A complete last record without a newline is fine.
        assert_eq!(
            read_all("time,key\n1,1\n2,2", TraceFormat::Csv, OnError::Stop).unwrap().len(),
            2
        );
    }

    #[test]
    fn skip_counts_lines() {
        let text = "time,key\n1,1\nbad\n2,99\n3,3\n";
        let mut r =
            TraceReader::new(text.as_bytes(), "t".into(), TraceFormat::Csv, OnError::Skip, 10, 0);
        let mut n = 0;
        while r.next_record().unwrap().is_some() {
            n += 1;
        }
        assert_eq!((n, r.skipped()), (2, 2));
        assert_eq!(r.skipped_examples.iter().map(|e| e.0).collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn long_lines_are_refused() {
        let text = "x".repeat(MAX_LINE_BYTES as usize + 10);
        let e = read_all(&text, TraceFormat::JsonLines, OnError::Skip).unwrap_err();
        assert!(e.message.contains("longer than"), "{e}");
    }
}
