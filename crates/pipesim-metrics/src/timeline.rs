//! Fixed windows of simulated time: what came in, what came out, and how long it took.

use crate::histogram::LatencyHistogram;
use pipesim_engine::SimTime;

/// One window of the timeline.
#[derive(Clone, Debug, Default)]
pub struct WindowRow {
    /// Events created in the window.
    pub offered: u64,
    /// Events that became visible (for the first time) in the window.
    pub delivered: u64,
    /// Events dropped in the window.
    pub dropped: u64,
    /// End-to-end latency of the events *created* in the window (2 significant digits, which is
    /// plenty for a chart and keeps a long timeline small).
    pub e2e: Option<LatencyHistogram>,
    /// Events created and not yet visible or dropped at the end of the window.
    pub backlog: u64,
}

/// The windows of a run, from time 0.
#[derive(Clone, Debug)]
pub struct Timeline {
    window_ns: SimTime,
    rows: Vec<WindowRow>,
    /// Index of the window simulated time is in now.
    current: usize,
    /// Start of the next window.
    next_boundary: SimTime,
}

impl Timeline {
    /// A timeline of `window_ns`-long windows (> 0).
    pub fn new(window_ns: SimTime) -> Self {
        assert!(window_ns > 0, "window must be positive");
        Self { window_ns, rows: vec![WindowRow::default()], current: 0, next_boundary: window_ns }
    }

    /// The window length.
    pub fn window_ns(&self) -> SimTime {
        self.window_ns
    }

    /// The rows so far.
    pub fn rows(&self) -> &[WindowRow] {
        &self.rows
    }

    /// Whether `now` has reached the next window boundary (one compare: the hot-path check).
    #[inline]
    pub fn due(&self, now: SimTime) -> bool {
        now >= self.next_boundary
    }

    /// Closes every window that ends at or before `now`, each with the backlog given.
    pub fn close_until(&mut self, now: SimTime, backlog: u64) {
        while now >= self.next_boundary {
            self.rows[self.current].backlog = backlog;
            self.current += 1;
            self.next_boundary = self.next_boundary.saturating_add(self.window_ns);
            self.ensure(self.current);
        }
    }

    fn ensure(&mut self, index: usize) {
        if index >= self.rows.len() {
            self.rows.resize_with(index + 1, WindowRow::default);
        }
    }

    /// The row of the window containing `t`.
    #[inline]
    pub fn row_at(&mut self, t: SimTime) -> &mut WindowRow {
        let index = (t / self.window_ns) as usize;
        self.ensure(index);
        &mut self.rows[index]
    }

    /// The row of the current window.
    #[inline]
    pub fn current_row(&mut self) -> &mut WindowRow {
        &mut self.rows[self.current]
    }

    /// Closes the last window at the end of the run and returns the rows.
    pub fn finish(mut self, backlog: u64) -> Vec<WindowRow> {
        let last = self.current;
        self.rows[last].backlog = backlog;
        self.rows.truncate(last + 1);
        self.rows
    }
}
