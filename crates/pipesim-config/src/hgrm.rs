//! Reading an HdrHistogram percentile-distribution (`.hgrm`) file.
//!
//! The format is what `outputPercentileDistribution` and `wrk2 --latency` print: a header, then
//! lines of `Value Percentile TotalCount 1/(1-Percentile)`, then `#[Mean ...]` footers. Values
//! are in whatever unit the tool printed (wrk2 prints milliseconds), so the caller says which.

use pipesim_engine::{EmpiricalError, EmpiricalTable};
use std::fmt;

/// Why an `.hgrm` text does not give a distribution.
#[derive(Clone, Debug, PartialEq)]
pub enum HgrmError {
    /// A data line whose columns do not parse; 1-based line number and the line.
    BadLine(usize, String),
    /// No percentile lines at all.
    NoData,
    /// The points do not form a CDF.
    Table(EmpiricalError),
}

impl fmt::Display for HgrmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadLine(n, line) => {
                write!(f, "line {n} is not `value percentile count 1/(1-p)`: {line:?}")
            }
            Self::NoData => write!(
                f,
                "no percentile lines found (expected HdrHistogram's `Value Percentile TotalCount 1/(1-Percentile)` table)"
            ),
            Self::Table(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for HgrmError {}

/// Parses `.hgrm` text whose values are in units of `unit_ns` nanoseconds.
///
/// Lines that are blank, comments (`#`), or prose (wrk2's other output) are skipped; a line that
/// starts like a data row (a number) but does not parse as one is an error with its number.
pub fn parse_hgrm(text: &str, unit_ns: f64) -> Result<EmpiricalTable, HgrmError> {
    let mut points = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        let starts_numeric = trimmed.chars().next().is_some_and(|c| c.is_ascii_digit());
        if !starts_numeric {
            continue;
        }
        let cols: Vec<&str> = trimmed.split_whitespace().collect();
        let parsed = match cols.as_slice() {
            // Java's HdrHistogram leaves 1/(1-p) off the 100 % row; C's prints "inf".
            [value, percentile, count] | [value, percentile, count, _] => {
                match (value.parse::<f64>(), percentile.parse::<f64>(), count.parse::<u64>()) {
                    (Ok(v), Ok(p), Ok(_)) => Some((v * unit_ns, p)),
                    _ => None,
                }
            }
            // wrk2's summary lines such as "50.000%    1.23ms" are prose, not table rows.
            [first, _] if first.ends_with('%') => continue,
            _ => None,
        };
        match parsed {
            Some(point) => points.push(point),
            None => return Err(HgrmError::BadLine(i + 1, line.to_string())),
        }
    }
    if points.is_empty() {
        return Err(HgrmError::NoData);
    }
    EmpiricalTable::from_points(&points).map_err(HgrmError::Table)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "       Value     Percentile TotalCount 1/(1-Percentile)

       1.000 0.000000000000          1           1.00
       2.000 0.500000000000        500           2.00
       4.000 0.990000000000        990         100.00
       8.000 1.000000000000       1000
#[Mean    =        2.000, StdDeviation   =        1.000]
#[Max     =        8.000, Total count    =         1000]
#[Buckets =           20, SubBuckets     =         2048]
";

    #[test]
    fn reads_a_percentile_table() {
        for text in [SAMPLE.to_string(), SAMPLE.replace("1000\n#", "1000           inf\n#")] {
            let t = parse_hgrm(&text, 1e6).unwrap();
            assert_eq!(t.len(), 4);
            assert_eq!(t.quantile_ns(0.25), 1.5e6);
            assert_eq!(t.quantile_ns(0.995), 6e6);
        }
    }

    #[test]
    fn rejects_text_without_a_table() {
        assert_eq!(parse_hgrm("hello\nworld\n", 1.0), Err(HgrmError::NoData));
        assert!(matches!(parse_hgrm("1.0 x 3 4\n", 1.0), Err(HgrmError::BadLine(1, _))));
    }
}
