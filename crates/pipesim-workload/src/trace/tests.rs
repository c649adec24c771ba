//! Unit tests of the trace reader and parsers.

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
    assert_eq!(read_all("time,key\n1,1\n2,2", TraceFormat::Csv, OnError::Stop).unwrap().len(), 2);
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
