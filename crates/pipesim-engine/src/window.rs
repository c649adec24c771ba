//! The measured interval of a run: what happens inside it counts in a component's statistics,
//! what happens in the warm-up before it or the drain after it does not.

use crate::time::SimTime;

/// A half-open interval of simulated time, `[from_ns, to_ns)`.
///
/// Every component with counters or time integrals keeps one (set by the design from the run's
/// warm-up and duration); the default, [`Window::ALWAYS`], counts everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The first instant that counts.
    pub from_ns: SimTime,
    /// The first instant that no longer counts.
    pub to_ns: SimTime,
}

impl Default for Window {
    fn default() -> Self {
        Self::ALWAYS
    }
}

impl Window {
    /// The whole of time: a component that was given no window counts everything.
    pub const ALWAYS: Window = Window { from_ns: 0, to_ns: SimTime::MAX };

    /// `[from_ns, to_ns)`.
    pub const fn new(from_ns: SimTime, to_ns: SimTime) -> Self {
        Self { from_ns, to_ns }
    }

    /// Whether `t` is inside.
    #[inline(always)]
    pub fn contains(self, t: SimTime) -> bool {
        t >= self.from_ns && t < self.to_ns
    }

    /// 1 if `t` is inside, else 0: for counters bumped on every event without a branch.
    #[inline(always)]
    pub fn count(self, t: SimTime) -> u64 {
        u64::from(self.contains(t))
    }

    /// `t` moved into `[from_ns, to_ns]`: where a time integral running to `t` stops.
    #[inline(always)]
    pub fn clamp(self, t: SimTime) -> SimTime {
        t.clamp(self.from_ns, self.to_ns)
    }

    /// How much of `[from, to)` is inside, ns.
    #[inline(always)]
    pub fn overlap_ns(self, from: SimTime, to: SimTime) -> SimTime {
        to.min(self.to_ns).saturating_sub(from.max(self.from_ns))
    }

    /// Its length, ns.
    pub fn len_ns(self) -> SimTime {
        self.to_ns.saturating_sub(self.from_ns)
    }

    /// Its length in seconds, at least one nanosecond's worth: the divisor of a rate.
    pub fn seconds(self) -> f64 {
        self.len_ns().max(1) as f64 / 1e9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_open_counting_clamping_and_overlap() {
        let w = Window::new(10, 20);
        assert!(!w.contains(9) && w.contains(10) && w.contains(19) && !w.contains(20));
        assert_eq!((w.count(15), w.count(25)), (1, 0));
        assert_eq!((w.clamp(3), w.clamp(15), w.clamp(99)), (10, 15, 20));
        assert_eq!(w.overlap_ns(0, 12), 2);
        assert_eq!(w.overlap_ns(12, 30), 8);
        assert_eq!(w.overlap_ns(0, 5), 0);
        assert_eq!(w.overlap_ns(25, 30), 0);
        assert_eq!(w.len_ns(), 10);
        assert_eq!(Window::new(5, 5).seconds(), 1e-9);
        assert!(Window::default().contains(0) && Window::ALWAYS.contains(SimTime::MAX - 1));
    }
}
