//! [`TraceReader`], which reads a trace one line at a time in constant memory, and [`scan`],
//! the full read the scenario loader makes before anything runs.

use super::parse::{Column, parse_csv_record, parse_header, parse_json_record};
use super::{
    MAX_LINE_BYTES, OnError, SKIPPED_EXAMPLES, TRACE_COLUMNS, TraceError, TraceFormat, TraceRecord,
    TraceSummary,
};
use crate::input::{io_words as io_reason, open_regular, strip_bom};
use pipesim_engine::SimTime;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

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
    /// The first few skipped lines (the unit tests read them too).
    pub(super) skipped_examples: Vec<(u64, String)>,
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
    pub fn next_record(&mut self) -> Result<Option<TraceRecord>, TraceError> {
        loop {
            let Some(complete) = self.read_line()? else {
                return self.end_of_file();
            };
            match self.parse_line()? {
                Line::NoRecord => {}
                Line::Record(rec) => return self.in_time_order(rec).map(Some),
                Line::Bad(m) => self.refuse(m, complete)?,
            }
        }
    }

    /// Reads the next line into `buf` and counts it: `Some(true)` when it ends in a newline,
    /// `Some(false)` for a last line without one, `None` at the end of the file.
    fn read_line(&mut self) -> Result<Option<bool>, TraceError> {
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
        Ok(Some(complete))
    }

    /// The end of the file: fine, unless a CSV trace never gave its header.
    fn end_of_file(&self) -> Result<Option<TraceRecord>, TraceError> {
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
        Ok(None)
    }

    /// Parses the line in `buf`. A CSV trace's first non-blank line is its header, which is
    /// taken in here; a bad header is an error whatever `on_error` says.
    fn parse_line(&mut self) -> Result<Line, TraceError> {
        let text = match line_text(&self.buf, self.line_no == 1) {
            Ok(text) => text,
            Err(m) => return Ok(Line::Bad(m)),
        };
        if text.trim().is_empty() {
            return Ok(Line::NoRecord);
        }
        if self.format == TraceFormat::Csv && self.columns.is_none() {
            let cols = parse_header(text).map_err(|m| self.error(m))?;
            self.columns = Some(cols);
            return Ok(Line::NoRecord);
        }
        let parsed = match self.format {
            TraceFormat::Csv => {
                let cols = self.columns.as_deref().unwrap_or(&[]);
                parse_csv_record(text, cols, self.key_count, self.payload_bytes)
            }
            TraceFormat::JsonLines => parse_json_record(text, self.key_count, self.payload_bytes),
        };
        Ok(match parsed {
            Ok(rec) => Line::Record(rec),
            Err(m) => Line::Bad(m),
        })
    }

    /// `rec`, if it is not before the previous record; it becomes the previous one.
    fn in_time_order(&mut self, rec: TraceRecord) -> Result<TraceRecord, TraceError> {
        if let Some((prev, line)) = self.prev
            && rec.time_ns < prev
        {
            return Err(self.error(format!(
                "time {} ns is before the previous event's ({prev} ns, line {line}): a trace must be in time order",
                rec.time_ns
            )));
        }
        self.prev = Some((rec.time_ns, self.line_no));
        Ok(rec)
    }

    /// A line that does not parse, with why (`m`): an error, or with `on_error = "skip"` counted
    /// and skipped. A last line without a newline is always an error: it is most likely a
    /// record the writer did not finish, and skipping it would hide a truncated file.
    fn refuse(&mut self, m: String, complete: bool) -> Result<(), TraceError> {
        if !complete {
            return Err(self.error(format!(
                "the file ends in the middle of a record (the last line has no newline and does not parse: {m}): was it cut short?"
            )));
        }
        match self.on_error {
            OnError::Stop => Err(self.error(format!(
                "{m} (on_error = \"skip\" in the arrivals table skips and counts such lines)"
            ))),
            OnError::Skip => {
                self.skipped += 1;
                if self.skipped_examples.len() < SKIPPED_EXAMPLES {
                    self.skipped_examples.push((self.line_no, m));
                }
                Ok(())
            }
        }
    }
}

/// What one line of a trace gave.
enum Line {
    /// Nothing to return: a blank line, or the CSV header.
    NoRecord,
    /// A record.
    Record(TraceRecord),
    /// A line that does not parse, and why.
    Bad(String),
}

/// The text of a line read into `buf`: without its line ending (and, on the first line, a
/// byte-order mark), checked to be UTF-8.
fn line_text(buf: &[u8], first_line: bool) -> Result<&str, String> {
    let mut bytes = buf;
    if first_line {
        bytes = strip_bom(bytes);
    }
    if let Some(b) = bytes.strip_suffix(b"\n") {
        bytes = b;
    }
    if let Some(b) = bytes.strip_suffix(b"\r") {
        bytes = b;
    }
    std::str::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text (invalid byte at column {})", e.valid_up_to() + 1))
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
