//! Fixed windows of simulated time: what came in, what came out, and how long it took, in
//! constant space per window.
//!
//! A window's latency figures are those of the events *created* in it, so they are known only
//! once those events are resolved, which may be long after the window ends. Each window that can
//! still receive samples holds a latency histogram taken from a pool; when its last event is
//! resolved (or, at the latest, [`MAX_OPEN_WINDOWS`] windows after it ended) its p50, p99 and
//! max are read off, the histogram is cleared and goes back to the pool, and the row keeps eight
//! numbers. Memory is therefore the rows (a bounded number, see [`crate::window_rule`]) plus at
//! most `MAX_OPEN_WINDOWS + 1` histograms, whatever the run's length.
//!
//! The report's rows may merge `group` consecutive windows (an explicit `window` that gives
//! more rows than a report holds); a [`WindowSink`] (the `--timeline-csv` writer) then still
//! receives every window, from a second level kept only for it.

use crate::bucket_counts::{WindowHistogram, highest_equivalent};
use pipesim_engine::SimTime;
use std::sync::Arc;

/// How many windows after its end a window's latency histogram stays open for late events.
/// A sample that arrives later (an event resolved more than this many windows after the end of
/// the window it was created in) is *late*: it counts in the row's `late` and `max_ns`, not in
/// its p50 and p99 (it is in the run's histograms as usual). With 1 s windows that is an event
/// taking over 8.5 minutes; memory is at most this many histograms (about 30 KiB each).
pub const MAX_OPEN_WINDOWS: usize = 512;

/// One window of the timeline: constant size, whatever happened in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowRow {
    /// Events created in the window.
    pub offered: u64,
    /// Events that became visible (for the first time) in the window.
    pub delivered: u64,
    /// Events dropped in the window.
    pub dropped: u64,
    /// Events created and not yet visible or dropped at the end of the window.
    pub backlog: u64,
    /// Median end-to-end latency of the events created in the window (2 significant digits,
    /// plenty for a chart); 0 when none became visible.
    pub p50_ns: u64,
    /// 99th percentile, as `p50_ns`.
    pub p99_ns: u64,
    /// Largest, as `p50_ns` (late samples included).
    pub max_ns: u64,
    /// Latency samples of events created in the window that arrived after its figures were
    /// fixed (see [`MAX_OPEN_WINDOWS`]); 0 in all but extreme runs.
    pub late: u64,
}

/// Receives every window of a run as it closes, in time order (the `--timeline-csv` writer).
/// Called once per window, never per event; an implementation keeps its own I/O errors for the
/// caller to check after the run.
pub trait WindowSink: Send + Sync + std::fmt::Debug {
    /// Window `[start_ns, start_ns + width_ns)` is final.
    fn window(&self, start_ns: SimTime, width_ns: SimTime, row: &WindowRow);
}

/// A window's row while it may still change.
#[derive(Debug)]
struct Slot {
    row: WindowRow,
    /// Events created in the window that are resolved (visible or dropped) now.
    resolved: u64,
    hist: Option<WindowHistogram>,
    closed: bool,
}

impl Slot {
    fn new() -> Self {
        Self { row: WindowRow::default(), resolved: 0, hist: None, closed: false }
    }
}

/// One resolution of windows: rows of `width_ns`, kept (the report's) or streamed and dropped.
#[derive(Debug)]
struct Level {
    width_ns: SimTime,
    /// Windows from `base` on; `base` stays 0 when rows are kept. A `Vec` rather than a
    /// `VecDeque`: indexing it is the hot path; a streamed level drops its handed-out prefix in
    /// batches.
    slots: Vec<Slot>,
    base: usize,
    /// The window simulated time is in now, its start, and the start of the next one.
    current: usize,
    current_start: SimTime,
    next_boundary: SimTime,
    /// The oldest window that may still be open.
    oldest_open: usize,
    /// Windows handed to the sink so far.
    emitted: usize,
    keep: bool,
    sink: Option<Arc<dyn WindowSink>>,
    pool: Vec<WindowHistogram>,
}

impl Level {
    fn new(width_ns: SimTime, keep: bool, sink: Option<Arc<dyn WindowSink>>) -> Self {
        assert!(width_ns > 0, "window must be positive");
        Self {
            width_ns,
            slots: vec![Slot::new()],
            base: 0,
            current: 0,
            current_start: 0,
            next_boundary: width_ns,
            oldest_open: 0,
            emitted: 0,
            keep,
            sink,
            pool: Vec::new(),
        }
    }

    #[inline]
    fn slot(&mut self, index: usize) -> Option<&mut Slot> {
        index.checked_sub(self.base).and_then(|i| self.slots.get_mut(i))
    }

    /// The next boundary of this level.
    #[inline]
    fn boundary(&self) -> SimTime {
        self.next_boundary
    }

    #[inline]
    fn current_slot(&mut self) -> &mut Slot {
        let i = self.current - self.base;
        &mut self.slots[i]
    }

    /// An event of window `index` was resolved, with a latency sample if it became visible.
    #[inline]
    fn resolved(&mut self, created_ns: SimTime, latency_ns: Option<SimTime>) {
        // Most events resolve in the window they were created in: no division then.
        let index = if created_ns >= self.current_start {
            self.current
        } else {
            (created_ns / self.width_ns) as usize
        };
        // Fields borrowed one by one, so the slot and the pool can be used together.
        let Some(slot) = index.checked_sub(self.base).and_then(|i| self.slots.get_mut(i)) else {
            return;
        };
        if slot.closed {
            if let Some(l) = latency_ns {
                slot.row.late += 1;
                slot.row.max_ns = slot.row.max_ns.max(highest_equivalent(l));
            }
            return;
        }
        slot.resolved += 1;
        if let Some(l) = latency_ns {
            let pool = &mut self.pool;
            slot.hist.get_or_insert_with(|| pool.pop().unwrap_or_default()).record(l);
        }
        if index < self.current {
            self.close_if_complete(index);
        }
    }

    /// An event of window `index` that had been resolved is unresolved again (a rollback).
    fn reopened(&mut self, created_ns: SimTime) {
        let index = (created_ns / self.width_ns) as usize;
        if let Some(slot) = self.slot(index)
            && !slot.closed
        {
            slot.resolved = slot.resolved.saturating_sub(1);
        }
    }

    fn close_if_complete(&mut self, index: usize) {
        if let Some(slot) = self.slot(index)
            && !slot.closed
            && slot.resolved >= slot.row.offered
        {
            self.close(index);
        }
    }

    /// Fixes window `index`'s latency figures and returns its histogram to the pool.
    fn close(&mut self, index: usize) {
        let Some(slot) = self.slot(index) else { return };
        slot.closed = true;
        let Some(mut h) = slot.hist.take() else { return };
        // Two chunked scans that stop at their quantile, and the tracked maximum (the same
        // value as the quantile 1.0, without a scan to the end).
        let (p50, p99, max) = (h.quantile_ns(0.5), h.quantile_ns(0.99), h.max_ns());
        slot.row.p50_ns = p50;
        slot.row.p99_ns = p99;
        slot.row.max_ns = max;
        h.clear();
        self.pool.push(h);
    }

    /// Closes every window that ends at or before `now`, each with the backlog given.
    fn advance(&mut self, now: SimTime, backlog: u64) {
        while now >= self.next_boundary {
            self.current_slot().row.backlog = backlog;
            let ended = self.current;
            self.current += 1;
            self.current_start = self.next_boundary;
            self.next_boundary = self.next_boundary.saturating_add(self.width_ns);
            self.slots.push(Slot::new());
            self.close_if_complete(ended);
            while self.oldest_open < self.current {
                let old = self.oldest_open;
                let closed = self.slot(old).is_none_or(|s| s.closed);
                if !closed && old + MAX_OPEN_WINDOWS < self.current {
                    self.close(old);
                } else if !closed {
                    break;
                }
                self.oldest_open += 1;
            }
        }
        self.emit();
    }

    /// Hands every closed window not handed out yet, in order, to the sink; drops them unless
    /// rows are kept.
    fn emit(&mut self) {
        let mut handed = 0;
        loop {
            let index = self.emitted;
            let width = self.width_ns;
            let Some(slot) = self.slot(index) else { break };
            if !slot.closed {
                break;
            }
            let row = slot.row;
            if let Some(sink) = &self.sink {
                sink.window(index as u64 * width, width, &row);
            }
            self.emitted += 1;
            handed += 1;
        }
        // A streamed level forgets what it handed out (in batches: draining shifts the rest).
        let done = self.emitted - self.base;
        if !self.keep && handed > 0 && (done >= 64 || done * 2 >= self.slots.len()) {
            self.slots.drain(..done);
            self.base = self.emitted;
        }
    }

    /// Closes the last window at the end of the run and returns the rows (empty unless kept).
    fn finish(mut self, backlog: u64) -> Vec<WindowRow> {
        self.current_slot().row.backlog = backlog;
        let last = self.current;
        for i in self.base..=last {
            self.close(i);
        }
        self.slots.truncate(last + 1 - self.base);
        self.emit();
        if self.keep { self.slots.into_iter().map(|s| s.row).collect() } else { Vec::new() }
    }
}

/// The windows of a run, from time 0: the report's rows, and every window for a sink when the
/// report merges them.
#[derive(Debug)]
pub struct Timeline {
    report: Level,
    /// Every window, only when the report's rows merge several and a sink wants each.
    fine: Option<Level>,
    /// The earliest boundary of either level.
    next_boundary: SimTime,
}

impl Timeline {
    /// A timeline of `window_ns`-long windows (> 0), the report keeping rows of `group`
    /// windows each (≥ 1); `sink`, if any, receives every window.
    pub fn new(window_ns: SimTime, group: u64, sink: Option<Arc<dyn WindowSink>>) -> Self {
        let group = group.max(1);
        let report_ns = window_ns.saturating_mul(group);
        let (report, fine) = if group == 1 {
            (Level::new(report_ns, true, sink), None)
        } else {
            (Level::new(report_ns, true, None), sink.map(|s| Level::new(window_ns, false, Some(s))))
        };
        let next_boundary = fine.as_ref().map_or(report.boundary(), Level::boundary);
        Self { report, fine, next_boundary }
    }

    /// The length of the report's rows.
    pub fn row_ns(&self) -> SimTime {
        self.report.width_ns
    }

    /// Whether `now` has reached the next window boundary (one compare: the hot-path check).
    #[inline]
    pub fn due(&self, now: SimTime) -> bool {
        now >= self.next_boundary
    }

    /// Closes every window that ends at or before `now`, each with the backlog given.
    pub fn close_until(&mut self, now: SimTime, backlog: u64) {
        self.report.advance(now, backlog);
        self.next_boundary = self.report.boundary();
        if let Some(f) = &mut self.fine {
            f.advance(now, backlog);
            self.next_boundary = self.next_boundary.min(f.boundary());
        }
    }

    /// An event was created now.
    #[inline]
    pub fn created(&mut self) {
        self.report.current_slot().row.offered += 1;
        if let Some(f) = &mut self.fine {
            f.current_slot().row.offered += 1;
        }
    }

    /// An event became visible now, `latency_ns` after its creation at `created_ns`.
    #[inline]
    pub fn visible(&mut self, created_ns: SimTime, latency_ns: SimTime) {
        self.report.current_slot().row.delivered += 1;
        self.report.resolved(created_ns, Some(latency_ns));
        if let Some(f) = &mut self.fine {
            f.current_slot().row.delivered += 1;
            f.resolved(created_ns, Some(latency_ns));
        }
    }

    /// An event created at `created_ns` was dropped now.
    #[inline]
    pub fn dropped(&mut self, created_ns: SimTime) {
        self.report.current_slot().row.dropped += 1;
        self.report.resolved(created_ns, None);
        if let Some(f) = &mut self.fine {
            f.current_slot().row.dropped += 1;
            f.resolved(created_ns, None);
        }
    }

    /// An event created at `created_ns` was resolved without a sample or a count (a rolled-back
    /// event seen again: a duplicate).
    #[inline]
    pub fn resolved_quietly(&mut self, created_ns: SimTime) {
        self.report.resolved(created_ns, None);
        if let Some(f) = &mut self.fine {
            f.resolved(created_ns, None);
        }
    }

    /// A resolved event created at `created_ns` is unresolved again (a crash rolled it back).
    pub fn reopened(&mut self, created_ns: SimTime) {
        self.report.reopened(created_ns);
        if let Some(f) = &mut self.fine {
            f.reopened(created_ns);
        }
    }

    /// Closes the last window at the end of the run and returns the report's rows.
    pub fn finish(self, backlog: u64) -> Vec<WindowRow> {
        if let Some(f) = self.fine {
            f.finish(backlog);
        }
        self.report.finish(backlog)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::LatencyHistogram;
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    struct Collect(Mutex<Vec<(SimTime, SimTime, WindowRow)>>);

    impl WindowSink for Collect {
        fn window(&self, start_ns: SimTime, width_ns: SimTime, row: &WindowRow) {
            self.0.lock().unwrap().push((start_ns, width_ns, *row));
        }
    }

    /// Windows of 10 ns; events created at `t`, resolved `latency` later.
    fn run(timeline: &mut Timeline, events: &[(SimTime, SimTime)]) {
        let mut resolutions: Vec<(SimTime, SimTime)> =
            events.iter().map(|&(t, l)| (t + l, t)).collect();
        resolutions.sort();
        let mut r = 0;
        for &(t, _) in events {
            while r < resolutions.len() && resolutions[r].0 <= t {
                let (at, created) = resolutions[r];
                timeline.close_until(at, 0);
                timeline.visible(created, at - created);
                r += 1;
            }
            timeline.close_until(t, 0);
            timeline.created();
        }
        for &(at, created) in &resolutions[r..] {
            timeline.close_until(at, 0);
            timeline.visible(created, at - created);
        }
    }

    #[test]
    fn quantiles_are_those_of_the_events_created_in_each_window() {
        let mut tl = Timeline::new(10, 1, None);
        // Window 0: latencies 1..=100 (resolved far later than the window's end); window 1: 7.
        let events: Vec<(SimTime, SimTime)> =
            (1..=100).map(|l| (l % 10, l * 3)).chain([(15, 7)]).collect();
        let mut sorted = events.clone();
        sorted.sort();
        run(&mut tl, &sorted);
        let rows = tl.finish(0);
        let mut h = LatencyHistogram::with_sigfig(2);
        (1..=100).for_each(|l| h.record(l * 3));
        assert_eq!(rows[0].offered, 100);
        assert_eq!(rows[0].p50_ns, h.quantile_ns(0.5));
        assert_eq!(rows[0].p99_ns, h.quantile_ns(0.99));
        assert_eq!(rows[0].max_ns, h.quantile_ns(1.0));
        assert_eq!((rows[1].offered, rows[1].p50_ns, rows[1].max_ns), (1, 7, 7));
        assert_eq!(rows.iter().map(|r| r.late).sum::<u64>(), 0);
    }

    #[test]
    fn histograms_are_reused_and_few_stay_open() {
        let mut tl = Timeline::new(10, 1, None);
        let events: Vec<(SimTime, SimTime)> = (0..100_000).map(|i| (i, 5)).collect();
        run(&mut tl, &events);
        // Every window closed as soon as its last event was resolved: one or two were open at
        // a time, so the pool never held more than two histograms.
        assert!(tl.report.pool.len() <= 2, "{}", tl.report.pool.len());
        let rows = tl.finish(0);
        assert_eq!(rows.len(), 10_001);
        assert!(rows[..10_000].iter().all(|r| r.offered == 10 && r.max_ns == 5));
    }

    #[test]
    fn a_sample_past_the_open_limit_is_late() {
        let mut tl = Timeline::new(10, 1, None);
        let limit = MAX_OPEN_WINDOWS as u64 * 10;
        // Window 0 has two events: one resolved at once, one only after the open limit.
        run(&mut tl, &[(0, 1), (1, limit + 100), (limit + 50, 1)]);
        let rows = tl.finish(0);
        assert_eq!((rows[0].offered, rows[0].late, rows[0].p99_ns), (2, 1, 1));
        assert!(rows[0].max_ns >= limit + 99, "{}", rows[0].max_ns);
    }

    #[test]
    fn grouped_report_rows_and_every_window_to_the_sink() {
        let sink = Arc::new(Collect::default());
        let mut tl = Timeline::new(10, 3, Some(sink.clone() as Arc<dyn WindowSink>));
        let events: Vec<(SimTime, SimTime)> = (0..95).map(|i| (i, 1 + i % 4)).collect();
        run(&mut tl, &events);
        assert_eq!(tl.row_ns(), 30);
        let rows = tl.finish(0);
        let seen = sink.0.lock().unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows.iter().map(|r| r.offered).collect::<Vec<_>>(), [30, 30, 30, 5]);
        assert_eq!(seen.len(), 10);
        assert!(seen.iter().enumerate().all(|(i, (s, w, _))| *s == i as u64 * 10 && *w == 10));
        assert_eq!(seen.iter().map(|(_, _, r)| r.offered).sum::<u64>(), 95);
        assert_eq!(seen.iter().map(|(_, _, r)| r.delivered).sum::<u64>(), 95);
    }

    #[test]
    fn a_row_is_small() {
        // What ARCHITECTURE.md's cost table says a row costs.
        assert_eq!(std::mem::size_of::<WindowRow>(), 64);
        assert!(std::mem::size_of::<Slot>() <= 224, "{}", std::mem::size_of::<Slot>());
    }

    #[test]
    fn the_tracked_maximum_is_the_quantile_one() {
        let mut h = LatencyHistogram::with_sigfig(2);
        let mut x: u64 = 12345;
        for _ in 0..10_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            h.record((x >> 40) % 5_000_000);
        }
        assert_eq!(h.max_ns(), h.quantile_ns(1.0));
        h.clear();
        assert_eq!((h.max_ns(), h.quantile_ns(1.0)), (0, 0));
        for v in [3, 70_000, 123_456_789, 5] {
            h.record(v);
        }
        assert_eq!(h.max_ns(), h.quantile_ns(1.0));
    }
}
