//! How long a timeline window is, and how many rows a report holds.
//!
//! A run's memory and its report must not grow with simulated time, so the number of timeline
//! rows is bounded: without an explicit `window`, the window grows with the run so that it has
//! at most [`AUTO_ROWS`] rows; an explicit `window` is honoured up to [`MAX_WINDOWS`] windows
//! (more is refused before the run), and the report merges consecutive windows so that it never
//! holds more than [`REPORT_ROWS`] rows (`--timeline-csv` has every window).

use pipesim_engine::{NS_PER_S, SimTime};

/// The most rows a run gets when the scenario does not set `window`.
pub const AUTO_ROWS: u64 = 2_000;

/// The most rows report.json (and so the charts and the page) holds.
pub const REPORT_ROWS: u64 = 2_000;

/// The most windows an explicit `window` may give over `duration + drain`.
pub const MAX_WINDOWS: u64 = 1_000_000;

/// Number of windows of `window_ns` in a run of `span_ns` (at least one).
pub fn windows_in(span_ns: SimTime, window_ns: SimTime) -> u64 {
    span_ns.div_ceil(window_ns.max(1)).max(1)
}

/// The window when the scenario gives none: 1 s, or for runs of more than [`AUTO_ROWS`] seconds
/// the first of 2 s, 5 s, 10 s, 20 s, 50 s, 100 s, ... (a 1-2-5 ladder, so row times stay round)
/// that gives at most [`AUTO_ROWS`] rows over `span_ns` (duration + drain).
pub fn auto_window_ns(span_ns: SimTime) -> SimTime {
    let mut decade = NS_PER_S;
    loop {
        for step in [1, 2, 5] {
            let w = decade.saturating_mul(step);
            if windows_in(span_ns, w) <= AUTO_ROWS || w == SimTime::MAX {
                return w;
            }
        }
        decade = decade.saturating_mul(10);
    }
}

/// How many windows each report row merges: 1 unless the run has more than [`REPORT_ROWS`].
pub fn report_group(span_ns: SimTime, window_ns: SimTime) -> u64 {
    windows_in(span_ns, window_ns).div_ceil(REPORT_ROWS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: SimTime = NS_PER_S;

    #[test]
    fn auto_window_keeps_one_second_for_short_runs_and_grows_in_round_steps() {
        assert_eq!(auto_window_ns(60 * S), S);
        assert_eq!(auto_window_ns(2_000 * S), S);
        assert_eq!(auto_window_ns(2_001 * S), 2 * S);
        assert_eq!(auto_window_ns(111_142 * S), 100 * S); // 100 M customers at 900/s, 30 s drain
        assert_eq!(auto_window_ns(86_430 * S), 50 * S); // 24 h and a 30 s drain: 1,729 rows
        for span in [3_000 * S, 99_999 * S, 3_600_000 * S, SimTime::MAX / 2] {
            let rows = windows_in(span, auto_window_ns(span));
            assert!(rows <= AUTO_ROWS && rows * 5 > AUTO_ROWS, "{span}: {rows}");
        }
    }

    #[test]
    fn report_rows_merge_only_past_the_limit() {
        assert_eq!(report_group(60 * S, S), 1);
        assert_eq!(report_group(2_000 * S, S), 1);
        assert_eq!(report_group(2_001 * S, S), 2);
        assert_eq!(report_group(111_142 * S, S), 56);
        let rows = windows_in(111_142 * S, 56 * S);
        assert!(rows <= REPORT_ROWS, "{rows}");
    }
}
