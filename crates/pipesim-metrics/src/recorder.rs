//! The one place models report what happens to events.

use crate::acked::{Acked, AckedPending};
use crate::bucket_counts::RunCounts;
use crate::examples::{EXAMPLES_PER_KIND, Example, ExampleKind};
use crate::histogram::LatencyHistogram;
use crate::idwindow::IdWindow;
use crate::phases::Phases;
use crate::results::{DropReason, Invariants, RunResults, Throughput};
use crate::timeline::{Timeline, WindowSink};
use pipesim_engine::{NS_PER_S, SimTime, Window, f64_of};
use pipesim_workload::EventMeta;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The measurement settings of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecorderConfig {
    /// Events created before this are left out of latency and throughput statistics.
    pub warmup_ns: SimTime,
    /// Arrivals stop here; the measured interval is `[warmup_ns, duration_ns)`.
    pub duration_ns: SimTime,
    /// Timeline window length.
    pub window_ns: SimTime,
    /// How many windows each report row merges (1 unless there are more windows than a
    /// report holds: [`crate::window_rule::report_group`]).
    pub report_group: u64,
    /// Number of keys, for the per-key ordering state.
    pub key_count: u32,
}

/// A drop reason registered by a model, cheap to pass on the hot path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReasonId(u32);

impl ReasonId {
    /// A reason not registered yet: a model's initial value before `init` registers its own.
    /// Dropping with it panics, which only a model bug can cause.
    pub const UNSET: ReasonId = ReasonId(u32::MAX);
}

/// Receives every event's outcomes and keeps the statistics and invariant checks.
///
/// The outcome calls are `#[inline]` and allocate nothing in the common case, so models can
/// call them on every event.
pub struct Recorder {
    cfg: RecorderConfig,
    /// The run's end-to-end and acknowledgement latencies, as inline counts until the end.
    e2e: RunCounts,
    ack: RunCounts,
    /// Events acknowledged and visible at the same moment: one record instead of two, merged
    /// into both `e2e` and `ack` at the end (as HdrHistograms, see `finish`).
    ack_and_e2e: RunCounts,
    read: Option<LatencyHistogram>,
    timeline: Timeline,
    /// Created, and neither visible nor dropped yet.
    unresolved: IdWindow,
    /// Acknowledged and not (or no longer) visible, by (key, seq), so a read can find the oldest
    /// event its key is missing (staleness). Empty for models that acknowledge at visibility.
    acked_pending: AckedPending,
    /// Events that were visible and then rolled back (a crash lost them): seeing one again is a
    /// duplicate to anyone who read it the first time.
    retracted: BTreeSet<u64>,
    /// Read path: how far behind the read view was at each read.
    staleness: Option<LatencyHistogram>,
    /// Per key, 1 + the highest sequence number visible so far (0: none yet).
    highest_visible: Vec<u64>,
    invariants: Invariants,
    reasons: Vec<DropReason>,
    offered: u64,
    delivered: u64,
    /// ∫ unresolved dt over the measured interval, in event·ns, and the time it was last updated.
    area_in_system: f64,
    area_t: SimTime,
    /// Statistics by fault window (empty without faults).
    phases: Phases,
    /// Every first visibility as (event id, time), when asked for (cross-checks of backends).
    visibility_log: Option<Vec<(u64, SimTime)>>,
}

impl Recorder {
    /// A recorder for a run.
    pub fn new(cfg: RecorderConfig) -> Self {
        Self::with_sink(cfg, None)
    }

    /// A recorder whose timeline also hands every window, as it closes, to `sink`.
    pub fn with_sink(cfg: RecorderConfig, sink: Option<Arc<dyn WindowSink>>) -> Self {
        Self {
            cfg,
            e2e: RunCounts::default(),
            ack: RunCounts::default(),
            ack_and_e2e: RunCounts::default(),
            read: None,
            timeline: Timeline::new(cfg.window_ns, cfg.report_group, sink),
            unresolved: IdWindow::new(),
            acked_pending: AckedPending::default(),
            retracted: BTreeSet::new(),
            staleness: None,
            highest_visible: vec![0; cfg.key_count as usize],
            invariants: Invariants::default(),
            reasons: Vec::new(),
            offered: 0,
            delivered: 0,
            area_in_system: 0.0,
            area_t: cfg.warmup_ns,
            phases: Phases::default(),
            visibility_log: None,
        }
    }

    /// Keeps every event's first visibility time, for comparing two backends event by event
    /// (memory grows with events: for tests and short cross-check runs).
    pub fn log_visibility(&mut self) {
        self.visibility_log.get_or_insert_with(Vec::new);
    }

    /// Keeps statistics by phase for these fault windows (start, end), besides the run's; call
    /// before the first event. Without windows nothing is kept and nothing costs.
    pub fn set_fault_windows(&mut self, windows: &[(SimTime, SimTime)]) {
        self.phases = Phases::new(windows, Window::new(self.cfg.warmup_ns, self.cfg.duration_ns));
    }

    /// Declares a drop reason once, before the run; the id is passed to [`Recorder::dropped`].
    pub fn register_reason(&mut self, reason: impl Into<String>) -> ReasonId {
        self.reasons.push(DropReason { reason: reason.into(), events: 0, copies: 0 });
        ReasonId(self.reasons.len() as u32 - 1)
    }

    /// Declares that the model has a read path, so read latency and staleness are reported.
    pub fn enable_read_path(&mut self) {
        self.read.get_or_insert_with(LatencyHistogram::new);
        self.staleness.get_or_insert_with(LatencyHistogram::new);
    }

    #[inline]
    fn measured(&self, created_ns: SimTime) -> bool {
        created_ns >= self.cfg.warmup_ns && created_ns < self.cfg.duration_ns
    }

    #[inline]
    fn in_measured_interval(&self, now: SimTime) -> bool {
        now >= self.cfg.warmup_ns && now < self.cfg.duration_ns
    }

    /// Adds the in-system area up to `now` (clamped to the measured interval).
    #[inline]
    fn accumulate_area(&mut self, now: SimTime) {
        let t = now.clamp(self.cfg.warmup_ns, self.cfg.duration_ns);
        if t > self.area_t {
            self.area_in_system += f64_of(self.unresolved.len()) * f64_of(t - self.area_t);
            self.area_t = t;
        }
    }

    /// Closes timeline windows up to `now`; the engine calls this before each event it runs.
    #[inline]
    pub fn advance_to(&mut self, now: SimTime) {
        if self.timeline.due(now) {
            self.timeline.close_until(now, self.unresolved.len());
        }
    }

    /// A producer created `ev` (the engine calls this for every arrival).
    #[inline]
    pub fn created(&mut self, ev: &EventMeta) {
        self.accumulate_area(ev.created_ns);
        self.unresolved.insert(ev.id);
        self.timeline.created();
        if self.measured(ev.created_ns) {
            self.offered += 1;
        }
        if !self.phases.is_empty() {
            self.phases.each(ev.created_ns, |p| p.created += 1);
        }
    }

    /// A hint: an event of `key` arrives next, and its visibility will read this key's state.
    #[inline]
    pub fn prefetch(&self, key: u32) {
        pipesim_engine::prefetch(&self.highest_visible, key as usize);
    }

    /// The producer of `ev` received its acknowledgement at `now`. Call once per event.
    #[inline]
    pub fn acked(&mut self, ev: &EventMeta, now: SimTime) {
        if self.measured(ev.created_ns) {
            self.ack.record(now - ev.created_ns);
        }
        if !self.phases.is_empty() {
            self.phases.each(ev.created_ns, |p| p.ack.record(now - ev.created_ns));
        }
        if self.unresolved.contains(ev.id) {
            let acked = Acked { acked_ns: now, created_ns: ev.created_ns };
            self.acked_pending.insert_if_absent(ev.key, ev.seq, acked);
        }
    }

    /// `ev` became visible to readers at `now`.
    #[inline]
    pub fn visible(&mut self, ev: &EventMeta, now: SimTime) {
        if !self.acked_pending.is_empty() {
            self.acked_pending.remove(ev.key, ev.seq);
        }
        if let Some(latency) = self.first_visibility(ev, now, false) {
            self.e2e.record(latency);
        }
    }

    /// `ev` was acknowledged and became visible at the same moment `now` (a synchronous
    /// request/response system). Same as [`Recorder::acked`] then [`Recorder::visible`].
    #[inline]
    pub fn delivered(&mut self, ev: &EventMeta, now: SimTime) {
        if let Some(latency) = self.first_visibility(ev, now, true) {
            self.ack_and_e2e.record(latency);
        }
    }

    /// Checks and counts a visibility; returns the latency to record if this is the event's
    /// first visibility and it was created in the measured interval.
    #[inline]
    /// `acked_too`: the visibility is also the acknowledgement (for the phase statistics).
    fn first_visibility(
        &mut self,
        ev: &EventMeta,
        now: SimTime,
        acked_too: bool,
    ) -> Option<SimTime> {
        self.accumulate_area(now);
        if !self.unresolved.remove(ev.id) {
            self.phases.each(ev.created_ns, |p| p.duplicates += 1);
            self.invariants.duplicates += 1;
            self.example(ExampleKind::Duplicate, ev, now, || "visible again".to_string());
            return None;
        }
        if !self.retracted.is_empty() && self.retracted.remove(&ev.id) {
            self.timeline.resolved_quietly(ev.created_ns);
            self.phases.each(ev.created_ns, |p| p.duplicates += 1);
            self.invariants.duplicates += 1;
            self.example(ExampleKind::Duplicate, ev, now, || {
                "visible again after a rollback".to_string()
            });
            return None;
        }
        let highest = &mut self.highest_visible[ev.key as usize];
        if ev.seq + 1 < *highest {
            let after = *highest - 1;
            self.phases.each(ev.created_ns, |p| p.ordering_violations += 1);
            self.invariants.ordering_violations += 1;
            self.example(ExampleKind::OrderingViolation, ev, now, || {
                format!("visible after seq {after}")
            });
        } else {
            *highest = ev.seq + 1;
        }
        let latency = now - ev.created_ns;
        if let Some(log) = &mut self.visibility_log {
            log.push((ev.id, now));
        }
        if self.in_measured_interval(now) {
            self.delivered += 1;
        }
        if !self.phases.is_empty() {
            self.phases.each(ev.created_ns, |p| {
                p.delivered += 1;
                p.e2e.record(latency);
                if acked_too {
                    p.ack.record(latency);
                }
            });
        }
        self.timeline.visible(ev.created_ns, latency);
        self.measured(ev.created_ns).then_some(latency)
    }

    /// The model discarded `ev` on purpose at `now`, for `reason`.
    pub fn dropped(&mut self, ev: &EventMeta, now: SimTime, reason: ReasonId) {
        self.accumulate_area(now);
        let first = self.unresolved.remove(ev.id);
        if !self.acked_pending.is_empty() {
            self.acked_pending.remove(ev.key, ev.seq);
        }
        let r = &mut self.reasons[reason.0 as usize];
        if first {
            r.events += 1;
            self.phases.each(ev.created_ns, |p| p.dropped += 1);
            self.invariants.dropped += 1;
            self.timeline.dropped(ev.created_ns);
            let why = r.reason.clone();
            self.example(ExampleKind::Dropped, ev, now, || why);
        } else {
            r.copies += 1;
        }
    }

    /// `ev` had been visible and the read view lost it at `now` (a crash rolled it back). It
    /// counts as acknowledged and not visible again: lost if it never comes back, a duplicate
    /// (readers saw it twice) if it does.
    pub fn retracted(&mut self, ev: &EventMeta, now: SimTime) {
        self.accumulate_area(now);
        if self.unresolved.reinsert(ev.id) {
            self.timeline.reopened(ev.created_ns);
            self.retracted.insert(ev.id);
            let acked = Acked { acked_ns: now, created_ns: ev.created_ns };
            self.acked_pending.insert_if_absent(ev.key, ev.seq, acked);
        }
    }

    /// A reader of `key` waited `latency_ns` for a read that completed at `now`. Also records
    /// the read's staleness: how long the oldest acknowledged event of `key` that the read view
    /// does not show yet has been acknowledged (0 when the view is up to date).
    #[inline]
    pub fn read(&mut self, key: u32, latency_ns: SimTime, now: SimTime) {
        self.read_many(std::iter::once(key), latency_ns, now);
    }

    /// One read request for several keys: one latency sample, one staleness sample per key.
    pub fn read_many(
        &mut self,
        keys: impl IntoIterator<Item = u32>,
        latency_ns: SimTime,
        now: SimTime,
    ) {
        if !self.in_measured_interval(now) {
            return;
        }
        if let Some(h) = &mut self.read {
            h.record(latency_ns);
        }
        if let Some(h) = &mut self.staleness {
            for key in keys {
                let oldest = self.acked_pending.oldest_acked_ns(key);
                h.record(oldest.map_or(0, |acked_at| now.saturating_sub(acked_at)));
            }
        }
    }

    /// Events created and not yet visible or dropped.
    pub fn pending(&self) -> u64 {
        self.unresolved.len()
    }

    /// The findings so far (for tests and progress).
    pub fn invariants(&self) -> &Invariants {
        &self.invariants
    }

    fn example(
        &mut self,
        kind: ExampleKind,
        ev: &EventMeta,
        now: SimTime,
        detail: impl FnOnce() -> String,
    ) {
        let have = self.invariants.examples.iter().filter(|e| e.kind == kind).count();
        if have < EXAMPLES_PER_KIND {
            self.invariants.examples.push(Example {
                kind,
                key: ev.key,
                seq: ev.seq,
                at_ns: now,
                detail: detail(),
            });
        }
    }

    /// Ends the run at `end_ns` (after the drain) and returns what was measured.
    pub fn finish(mut self, end_ns: SimTime, events_simulated: u64) -> RunResults {
        self.accumulate_area(end_ns);
        self.advance_to(end_ns);
        let lost = self.acked_pending.len() as u64;
        let mut first_lost: Vec<(SimTime, u32, u64)> =
            self.acked_pending.iter().map(|(key, seq, a)| (a.acked_ns, key, seq)).collect();
        if !self.phases.is_empty() {
            for (_, _, a) in self.acked_pending.iter() {
                self.phases.each(a.created_ns, |p| p.lost += 1);
            }
        }
        first_lost.sort_unstable();
        for &(acked_at, key, seq) in first_lost.iter().take(EXAMPLES_PER_KIND) {
            self.invariants.examples.push(Example {
                kind: ExampleKind::Lost,
                key,
                seq,
                at_ns: acked_at,
                detail: "acknowledged, never visible".to_string(),
            });
        }
        self.invariants.lost = lost;
        self.invariants.in_flight_at_end = self.unresolved.len() - lost;
        self.invariants.dropped_by_reason = self.reasons;
        self.invariants.examples.sort_by_key(|e| (e.kind, e.at_ns, e.key, e.seq));
        // Merged as HdrHistograms, as before: a merge sets the histogram's range from the other's
        // maximum, which the serialised form shows, so the counts are not merged first.
        let both = self.ack_and_e2e.to_latency_histogram();
        let mut e2e = self.e2e.to_latency_histogram();
        e2e.merge(&both);
        let mut ack = self.ack.to_latency_histogram();
        ack.merge(&both);
        let measured_ns = self.cfg.duration_ns.saturating_sub(self.cfg.warmup_ns);
        let measured_s = measured_ns as f64 / NS_PER_S as f64;
        let per_s = |n: u64| {
            if measured_s > 0.0 { n as f64 / measured_s } else { 0.0 }
        };
        RunResults {
            e2e,
            ack,
            read: self.read,
            staleness: self.staleness,
            throughput: Throughput {
                offered: self.offered,
                delivered: self.delivered,
                offered_per_s: per_s(self.offered),
                delivered_per_s: per_s(self.delivered),
            },
            invariants: self.invariants,
            window_ns: self.timeline.row_ns(),
            timeline: self.timeline.finish(self.unresolved.len()),
            events_simulated,
            end_ns,
            mean_in_system: if measured_ns > 0 {
                self.area_in_system / measured_ns as f64
            } else {
                0.0
            },
            phases: self.phases.finish(),
            visibility_log: self.visibility_log,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: u64, key: u32, seq: u64, created_ns: SimTime) -> EventMeta {
        EventMeta { id, created_ns, seq, key, size_bytes: 0 }
    }

    fn recorder() -> Recorder {
        Recorder::new(RecorderConfig {
            warmup_ns: 0,
            duration_ns: 1_000,
            window_ns: 100,
            report_group: 1,
            key_count: 4,
        })
    }

    #[test]
    fn in_order_delivery_has_no_findings() {
        let mut r = recorder();
        let events: Vec<EventMeta> =
            (0..10).map(|i| ev(i, (i % 2) as u32, i / 2, i * 10)).collect();
        for e in &events {
            r.created(e);
        }
        for e in &events {
            r.delivered(e, e.created_ns + 5);
        }
        let res = r.finish(2_000, 20);
        assert_eq!(res.invariants, Invariants { dropped_by_reason: vec![], ..Default::default() });
        assert_eq!(res.e2e.count(), 10);
        assert_eq!(res.throughput.offered, 10);
        assert_eq!(res.throughput.delivered, 10);
    }

    #[test]
    fn counts_reordering_duplicates_loss_and_drops() {
        let mut r = recorder();
        let full = r.register_reason("queue full");
        let e: Vec<EventMeta> = (0..6).map(|i| ev(i, 0, i, i)).collect();
        for x in &e {
            r.created(x);
        }
        r.visible(&e[1], 10); // seq 1 first
        r.visible(&e[0], 11); // seq 0 after seq 1: a violation
        r.visible(&e[0], 12); // again: a duplicate, not a second violation
        r.acked(&e[2], 13); // acknowledged, never visible: lost
        r.acked(&e[3], 14);
        r.dropped(&e[3], 15, full); // acknowledged then dropped on purpose: dropped, not lost
        r.dropped(&e[3], 16, full); // a second copy discarded
        // e[4] and e[5]: never acknowledged, never visible: in flight at the end.
        let res = r.finish(100, 0);
        let inv = res.invariants;
        assert_eq!(inv.ordering_violations, 1);
        assert_eq!(inv.duplicates, 1);
        assert_eq!(inv.lost, 1);
        assert_eq!(inv.dropped, 1);
        assert_eq!(inv.in_flight_at_end, 2);
        assert_eq!(
            inv.dropped_by_reason,
            vec![DropReason { reason: "queue full".into(), events: 1, copies: 1 }]
        );
        let kinds: Vec<&str> = inv.examples.iter().map(|x| x.kind.name()).collect();
        assert_eq!(kinds, ["ordering_violation", "duplicate", "lost", "dropped"]);
        assert_eq!(inv.examples[0].detail, "visible after seq 1");
    }

    #[test]
    fn a_rollback_makes_a_visible_event_lost_or_a_duplicate() {
        let mut r = recorder();
        let a = ev(0, 0, 0, 0);
        let b = ev(1, 1, 0, 0);
        r.created(&a);
        r.created(&b);
        for e in [&a, &b] {
            r.delivered(e, 10);
            r.retracted(e, 20); // a crash rolls both back
        }
        r.visible(&b, 30); // b is written again and seen twice
        let inv = r.finish(100, 0).invariants;
        assert_eq!(inv.lost, 1, "a never came back");
        assert_eq!(inv.duplicates, 1, "b was seen twice");
        assert_eq!(inv.ordering_violations, 0);
    }

    #[test]
    fn staleness_is_the_age_of_the_oldest_missing_ack() {
        let mut r = recorder();
        r.enable_read_path();
        let e: Vec<EventMeta> = (0..3).map(|i| ev(i, 0, i, i)).collect();
        for x in &e {
            r.created(x);
        }
        r.read(0, 1, 5); // nothing acknowledged yet: up to date
        r.acked(&e[0], 10);
        r.acked(&e[1], 20);
        r.read(0, 1, 50); // e0 acknowledged at 10 and not visible: 40 stale
        r.visible(&e[0], 60);
        r.read(0, 1, 70); // e1 acknowledged at 20: 50 stale
        r.read(1, 1, 70); // another key: up to date
        let res = r.finish(100, 0);
        let st = res.staleness.unwrap();
        assert_eq!(st.count(), 4);
        assert_eq!(st.quantile_ns(1.0), 50);
        assert_eq!(st.quantile_ns(0.5), 0);
        assert_eq!(res.read.unwrap().count(), 4);
    }

    #[test]
    fn warmup_is_excluded_from_statistics_but_not_from_invariants() {
        let mut r = Recorder::new(RecorderConfig {
            warmup_ns: 500,
            duration_ns: 1_000,
            window_ns: 100,
            report_group: 1,
            key_count: 1,
        });
        let early = ev(0, 0, 1, 100);
        let late = ev(1, 0, 0, 600);
        r.created(&early);
        r.created(&late);
        r.delivered(&early, 650);
        r.delivered(&late, 700); // seq 0 after seq 1
        let res = r.finish(1_000, 0);
        assert_eq!(res.e2e.count(), 1, "only the event created after the warmup");
        assert_eq!(res.throughput.offered, 1);
        assert_eq!(res.throughput.delivered, 2, "both became visible in the measured interval");
        assert_eq!(res.invariants.ordering_violations, 1);
    }

    #[test]
    fn timeline_rows_and_backlog() {
        let mut r = recorder();
        for i in 0..5 {
            let e = ev(i, 0, i, i * 50);
            r.advance_to(e.created_ns);
            r.created(&e);
        }
        // Windows: [0,100) has ids 0,1; [100,200) has 2,3; [200,300) has 4. Nothing delivered.
        r.advance_to(250);
        let res = r.finish(250, 0);
        let offered: Vec<u64> = res.timeline.iter().map(|w| w.offered).collect();
        let backlog: Vec<u64> = res.timeline.iter().map(|w| w.backlog).collect();
        assert_eq!(offered, [2, 2, 1]);
        assert_eq!(backlog, [2, 4, 5]);
    }

    #[test]
    fn mean_in_system_integrates_the_backlog() {
        let mut r = recorder();
        // One event in the system from 0 to 500, another from 250 to 1000 (clamped at duration).
        let a = ev(0, 0, 0, 0);
        let b = ev(1, 1, 0, 250);
        r.created(&a);
        r.created(&b);
        r.delivered(&a, 500);
        let res = r.finish(1_500, 0);
        assert!((res.mean_in_system - (500.0 + 750.0) / 1000.0).abs() < 1e-12);
    }
}
