//! Parsing one line of a trace: the CSV header, a CSV or JSON-lines record, and the field
//! values (times, keys, sizes) they hold. Errors are plain messages; the reader adds the file
//! and line.

use super::{TRACE_COLUMNS, TraceRecord};
use pipesim_engine::SimTime;

/// Which field of a record a CSV column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Column {
    Time,
    Key,
    Type,
    Size,
}

pub(super) fn parse_header(text: &str) -> Result<Vec<Column>, String> {
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

pub(super) fn parse_csv_record(
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

pub(super) fn parse_json_record(
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
