//! Statistics by phase: during each fault window, and outside all of them.
//!
//! An event belongs to the phases its *creation time* falls in: a fault window's figures are
//! those of the events created while the fault was on (what a user sending events during an
//! outage sees), and the "outside" phase holds the events created in the measured interval
//! during no fault. Windows may overlap; an event created in two counts in both. Findings
//! (ordering violations, duplicates, drops, losses) are attributed the same way, by the
//! creation time of the event they concern.

use crate::histogram::LatencyHistogram;
use pipesim_engine::{SimTime, Window};

/// What happened to the events created in one phase.
#[derive(Clone, Debug)]
pub struct PhaseStats {
    /// The fault window's index in the scenario's timeline, or `None` for "outside all".
    pub fault: Option<usize>,
    /// Start of the phase (for "outside": the warmup).
    pub start_ns: SimTime,
    /// End of the phase (for "outside": the duration).
    pub end_ns: SimTime,
    /// Events created in it.
    pub created: u64,
    /// Of those, the events that became visible.
    pub delivered: u64,
    /// Creation → visible.
    pub e2e: LatencyHistogram,
    /// Creation → acknowledged.
    pub ack: LatencyHistogram,
    /// Findings about events created in the phase.
    pub ordering_violations: u64,
    /// Second visibilities of events created in the phase.
    pub duplicates: u64,
    /// Acknowledged and never visible.
    pub lost: u64,
    /// Discarded on purpose.
    pub dropped: u64,
}

impl PhaseStats {
    fn new(fault: Option<usize>, start_ns: SimTime, end_ns: SimTime) -> Self {
        Self {
            fault,
            start_ns,
            end_ns,
            created: 0,
            delivered: 0,
            e2e: LatencyHistogram::new(),
            ack: LatencyHistogram::new(),
            ordering_violations: 0,
            duplicates: 0,
            lost: 0,
            dropped: 0,
        }
    }
}

/// The phases of a run; empty (and free) when the scenario has no faults.
#[derive(Clone, Debug, Default)]
pub(crate) struct Phases {
    /// One per fault window, in timeline order, then "outside" last.
    stats: Vec<PhaseStats>,
    measured: Window,
}

impl Phases {
    /// Phases for fault windows `windows` (start, end) over the measured interval `measured`.
    pub(crate) fn new(windows: &[(SimTime, SimTime)], measured: Window) -> Self {
        if windows.is_empty() {
            return Self::default();
        }
        let mut stats: Vec<PhaseStats> =
            windows.iter().enumerate().map(|(i, &(s, e))| PhaseStats::new(Some(i), s, e)).collect();
        stats.push(PhaseStats::new(None, measured.from_ns, measured.to_ns));
        Self { stats, measured }
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.stats.is_empty()
    }

    /// Calls `f` on every phase an event created at `created_ns` belongs to.
    #[inline]
    pub(crate) fn each(&mut self, created_ns: SimTime, mut f: impl FnMut(&mut PhaseStats)) {
        let Some((outside, windows)) = self.stats.split_last_mut() else { return };
        let mut in_any = false;
        for w in windows.iter_mut() {
            if created_ns >= w.start_ns && created_ns < w.end_ns {
                in_any = true;
                f(w);
            }
        }
        if !in_any && self.measured.contains(created_ns) {
            f(outside);
        }
    }

    pub(crate) fn finish(self) -> Vec<PhaseStats> {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_go_to_every_window_they_were_created_in_or_outside() {
        let mut p = Phases::new(&[(10, 20), (15, 30)], Window::new(5, 100));
        for t in [0, 7, 12, 17, 25, 40, 150] {
            p.each(t, |s| s.created += 1);
        }
        let s = p.finish();
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].fault, s[0].created), (Some(0), 2)); // 12, 17
        assert_eq!((s[1].fault, s[1].created), (Some(1), 2)); // 17, 25
        assert_eq!((s[2].fault, s[2].created), (None, 2)); // 7, 40; 0 and 150 are unmeasured
    }

    #[test]
    fn no_faults_no_phases() {
        let mut p = Phases::new(&[], Window::new(0, 100));
        p.each(5, |s| s.created += 1);
        assert!(p.is_empty());
        assert!(p.finish().is_empty());
    }
}
