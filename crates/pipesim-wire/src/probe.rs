//! What a service tells the checkers: the wire backend's side of the `Recorder`.
//!
//! A service calls [`Probe::visible`] when an event enters its read view (a reader would now
//! see it), [`Probe::dropped`] when it discards an event on purpose, [`Probe::retracted`] when
//! an event it had shown leaves the view again (a failover rolled it back), and
//! [`Probe::read`] for a read it served. The harness's producer records creations and
//! acknowledgements itself. The probe decides nothing: the recorder behind it counts ordering
//! violations, duplicates and losses, exactly as for the discrete-event designs.
//!
//! Hosts run one after the other within a turmoil step, each from the step's start, so calls
//! do not arrive in time order. The probe buffers them and the harness hands them to the
//! recorder after each step sorted by (time, call order): the order a single observer with a
//! global clock would have seen.

use crate::clock::Clock;
use pipesim_engine::SimTime;
use pipesim_metrics::{ReasonId, Recorder};
use pipesim_workload::EventMeta;
use std::cell::RefCell;
use std::rc::Rc;

/// The most distinct drop reasons one run may register (a reason is a short fixed phrase; a
/// service that formats values into it would grow the report without bound).
pub const MAX_DROP_REASONS: usize = 64;

#[derive(Clone, Copy, Debug)]
enum Outcome {
    Created,
    Acked,
    Visible,
    Dropped(u16),
    Retracted,
    Read { key: u32, latency_ns: SimTime },
}

#[derive(Clone, Copy, Debug)]
struct Record {
    at_ns: SimTime,
    outcome: Outcome,
    ev: EventMeta,
}

#[derive(Default)]
struct State {
    records: Vec<Record>,
    reasons: Vec<String>,
    /// Reasons beyond [`MAX_DROP_REASONS`] fold into the last one; counted for a note.
    folded_reasons: u64,
    visible_calls: u64,
    read_path: bool,
}

/// A handle every host gets; clones share one buffer.
#[derive(Clone)]
pub struct Probe {
    state: Rc<RefCell<State>>,
    clock: Clock,
}

impl Probe {
    pub(crate) fn new(clock: Clock) -> Self {
        Self { state: Rc::default(), clock }
    }

    fn push(&self, outcome: Outcome, ev: &EventMeta) {
        let at_ns = self.clock.now_ns();
        self.push_at(at_ns, outcome, ev);
    }

    fn push_at(&self, at_ns: SimTime, outcome: Outcome, ev: &EventMeta) {
        self.state.borrow_mut().records.push(Record { at_ns, outcome, ev: *ev });
    }

    /// `ev` entered the read view now: a reader would see it. Pass the event as the producer
    /// sent it (the frame carries it whole); the checkers use its identity and creation time.
    pub fn visible(&self, ev: &EventMeta) {
        self.state.borrow_mut().visible_calls += 1;
        self.push(Outcome::Visible, ev);
    }

    /// [`Probe::visible`] at `at_ns`, a moment of this tick that has passed (the exact end of
    /// work done with [`Clock::work`]). A time in the future is taken as now.
    pub fn visible_at(&self, ev: &EventMeta, at_ns: SimTime) {
        self.state.borrow_mut().visible_calls += 1;
        let at_ns = at_ns.min(self.clock.now_ns());
        self.push_at(at_ns, Outcome::Visible, ev);
    }

    /// [`Probe::dropped`] at `at_ns` (see [`Probe::visible_at`]).
    pub fn dropped_at(&self, ev: &EventMeta, reason: &str, at_ns: SimTime) {
        let index = self.reason_index(reason);
        let at_ns = at_ns.min(self.clock.now_ns());
        self.push_at(at_ns, Outcome::Dropped(index), ev);
    }

    /// The service discarded `ev` on purpose (a guard, load shedding). `reason` is a short
    /// fixed phrase ("lua guard"); the report counts drops per reason.
    pub fn dropped(&self, ev: &EventMeta, reason: &str) {
        let index = self.reason_index(reason);
        self.push(Outcome::Dropped(index), ev);
    }

    fn reason_index(&self, reason: &str) -> u16 {
        let index = {
            let mut s = self.state.borrow_mut();
            match s.reasons.iter().position(|r| r == reason) {
                Some(i) => i,
                None if s.reasons.len() < MAX_DROP_REASONS => {
                    s.reasons.push(reason.to_string());
                    s.reasons.len() - 1
                }
                None => {
                    s.folded_reasons += 1;
                    MAX_DROP_REASONS - 1
                }
            }
        };
        index as u16
    }

    /// `ev`, visible before, left the read view now (a failover or a crash rolled it back):
    /// lost if it never comes back, a duplicate to earlier readers if it does.
    pub fn retracted(&self, ev: &EventMeta) {
        self.push(Outcome::Retracted, ev);
    }

    /// A reader of `key` waited `latency_ns` (scenario time) for a read that completed now.
    pub fn read(&self, key: u32, latency_ns: SimTime) {
        let ev = EventMeta { id: 0, created_ns: 0, seq: 0, key, size_bytes: 0 };
        self.state.borrow_mut().read_path = true;
        self.push(Outcome::Read { key, latency_ns }, &ev);
    }

    /// The producer created `ev` (at its creation time).
    pub(crate) fn created(&self, ev: &EventMeta) {
        self.push_at(ev.created_ns, Outcome::Created, ev);
    }

    /// The producer received `ev`'s acknowledgement now.
    pub(crate) fn acked(&self, ev: &EventMeta) {
        self.push(Outcome::Acked, ev);
    }

    /// How many times services reported an event visible (a service that never does gets a
    /// hint at the end of the run).
    pub(crate) fn visible_calls(&self) -> u64 {
        self.state.borrow().visible_calls
    }

    /// Drop reasons that did not fit [`MAX_DROP_REASONS`].
    pub(crate) fn folded_reasons(&self) -> u64 {
        self.state.borrow().folded_reasons
    }

    /// Hands the buffered records before `upto_ns` (all with `None`) to `rec` in (time, call
    /// order), registering new drop reasons first; `ids` maps the probe's reason indices to
    /// the recorder's. The harness flushes a millisecond of wire time behind the clock, since
    /// work can end (and be reported) anywhere in the last millisecond.
    pub(crate) fn flush(
        &self,
        rec: &mut Recorder,
        ids: &mut Vec<ReasonId>,
        upto_ns: Option<SimTime>,
    ) {
        let mut s = self.state.borrow_mut();
        while ids.len() < s.reasons.len() {
            let name = s.reasons[ids.len()].clone();
            ids.push(rec.register_reason(name));
        }
        if s.read_path {
            rec.enable_read_path();
        }
        // Stable: equal times keep call order.
        s.records.sort_by_key(|r| r.at_ns);
        let n = match upto_ns {
            Some(t) => s.records.partition_point(|r| r.at_ns < t),
            None => s.records.len(),
        };
        for r in s.records.drain(..n) {
            rec.advance_to(r.at_ns);
            match r.outcome {
                Outcome::Created => rec.created(&r.ev),
                Outcome::Acked => rec.acked(&r.ev, r.at_ns),
                Outcome::Visible => rec.visible(&r.ev, r.at_ns),
                Outcome::Dropped(i) => rec.dropped(&r.ev, r.at_ns, ids[usize::from(i)]),
                Outcome::Retracted => rec.retracted(&r.ev, r.at_ns),
                Outcome::Read { key, latency_ns } => rec.read(key, latency_ns, r.at_ns),
            }
        }
    }

    /// Whether nothing is buffered.
    pub(crate) fn is_empty(&self) -> bool {
        self.state.borrow().records.is_empty()
    }
}
