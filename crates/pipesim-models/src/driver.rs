//! The run loop.

use crate::ctx::Ctx;
use crate::failure::RunFailure;
use crate::fault::{FaultPhase, FaultSpec, ResolvedFaults};
use crate::model::Model;
use crate::progress::{PUBLISH_EVERY, RunProgress};
use pipesim_engine::{RngStreams, SimTime, Window};
use pipesim_metrics::window_rule::report_group;
use pipesim_metrics::{Recorder, RecorderConfig, RunResults, WindowSink};
use pipesim_workload::{ArrivalGen, EventMeta, WorkloadSpec};
use std::sync::Arc;

/// The time settings and seed of one run.
#[derive(Clone, Debug, Default)]
pub struct RunSettings {
    /// Root seed of every random stream.
    pub seed: u64,
    /// Arrivals stop here.
    pub duration_ns: SimTime,
    /// Events created before this are not in the statistics.
    pub warmup_ns: SimTime,
    /// How long after the last arrival events may still become visible before counting as lost.
    pub drain_ns: SimTime,
    /// Timeline window.
    pub window_ns: SimTime,
    /// Where to publish progress (never read by the simulation).
    pub progress: Option<Arc<RunProgress>>,
    /// Keep every event's first visibility time in the results (cross-checks; memory grows
    /// with events).
    pub log_visibility: bool,
    /// Receives every timeline window as it closes (`--timeline-csv`; never read back).
    pub timeline_sink: Option<Arc<dyn WindowSink>>,
}

impl RunSettings {
    /// The measured interval, `[warmup_ns, duration_ns)`: what components count in their
    /// statistics (the events the report's figures describe are created in it).
    pub fn measured(&self) -> Window {
        Window::new(self.warmup_ns, self.duration_ns)
    }
}

/// Runs `model` over the arrival trace of `workload` under `settings`, with the fault
/// timeline `faults` (each delivered fault's start and end go to [`Model::on_fault`]; the
/// statistics are split by the windows).
///
/// The next arrival and the next fault boundary are held outside the heap with the sequence
/// numbers they would have had, so they cost no heap operation yet still obey the
/// (time, insertion order) rule: fault boundaries are scheduled first, at time 0, then each
/// arrival when the previous one is processed. The run ends at `duration + drain`, or earlier
/// once arrivals are over, no fault is pending and every event is resolved. A trace that can no
/// longer be read as the scan read it is an error, not a short run.
pub fn run<M: Model>(
    model: &mut M,
    settings: &RunSettings,
    workload: &WorkloadSpec,
    faults: &ResolvedFaults,
) -> Result<RunResults, RunFailure> {
    let streams = RngStreams::new(settings.seed);
    let arrivals = ArrivalGen::new(workload, &streams);
    let mut ctx = Ctx::new(recorder(settings, workload));
    if settings.log_visibility {
        ctx.rec.log_visibility();
    }
    let windows: Vec<(SimTime, SimTime)> =
        faults.windows.iter().map(|f| (f.start_ns, f.end_ns)).collect();
    ctx.rec.set_fault_windows(&windows);
    // The fault boundaries take their sequence numbers before `init` schedules anything, the
    // first arrival after it.
    let boundaries = FaultBoundaries::new(&faults.delivered, &mut ctx);
    model.init(&mut ctx);
    let mut sources = Sources::new(arrivals, boundaries, &mut ctx);

    let end = settings.duration_ns.saturating_add(settings.drain_ns);
    let (events, last_t) =
        event_loop(model, &mut ctx, &mut sources, end, settings.progress.as_deref());
    if let Some(p) = &settings.progress {
        p.finish(last_t, events);
    }
    if let Some(e) = sources.arrivals.failure() {
        return Err(RunFailure::Trace(e.clone()));
    }
    // The run covers at least the arrival period, so the timeline shows quiet tails too.
    let end_ns = last_t.max(settings.duration_ns).min(end);
    Ok(ctx.rec.finish(end_ns, events))
}

/// The run's recorder: statistics from the warmup on, the timeline's windows grouped for the
/// report over the whole span (arrivals and drain).
fn recorder(settings: &RunSettings, workload: &WorkloadSpec) -> Recorder {
    let span_ns = settings.duration_ns.saturating_add(settings.drain_ns);
    let cfg = RecorderConfig {
        warmup_ns: settings.warmup_ns,
        duration_ns: settings.duration_ns,
        window_ns: settings.window_ns,
        report_group: report_group(span_ns, settings.window_ns),
        key_count: workload.keys.count,
    };
    Recorder::with_sink(cfg, settings.timeline_sink.clone())
}

/// Takes events from the three sources in (time, insertion order) until the run is over:
/// returns how many were handled and the time of the last.
fn event_loop<M: Model>(
    model: &mut M,
    ctx: &mut Ctx<M::Event>,
    sources: &mut Sources<'_>,
    end: SimTime,
    progress: Option<&RunProgress>,
) -> (u64, SimTime) {
    let mut events: u64 = 0;
    let mut last_t: SimTime = 0;
    while let Some(source) = sources.next_source(ctx) {
        let step = match source {
            Source::Arrival => sources.arrival(model, ctx, end),
            Source::Model => model_event(model, ctx, end),
            Source::Fault => sources.fault_boundary(model, ctx, end),
        };
        match step {
            Step::Handled => {}
            Step::Skipped => continue,
            Step::ArrivalsOver => break,
            Step::PastEnd => {
                last_t = end;
                break;
            }
        }
        last_t = ctx.sim.now();
        events += 1;
        if events & (PUBLISH_EVERY - 1) == 0
            && let Some(p) = progress
        {
            p.publish(last_t, events);
        }
    }
    (events, last_t)
}

/// The next event of the model's heap, unless it is past the end.
// The run loop is the one place that advances time and pops the queue (clippy.toml).
#[allow(clippy::disallowed_methods)]
#[inline]
fn model_event<M: Model>(model: &mut M, ctx: &mut Ctx<M::Event>, end: SimTime) -> Step {
    let Some((t, event)) = ctx.sim.queue().pop() else { unreachable!() };
    if t > end {
        return Step::PastEnd;
    }
    ctx.sim.set_now(t);
    ctx.rec.advance_to(t);
    model.on_event(ctx, event);
    Step::Handled
}

/// The fault timeline's boundaries (each delivered fault's begin and end) in time order, with
/// the sequence numbers they would have had in the heap.
struct FaultBoundaries<'a> {
    faults: &'a [FaultSpec],
    /// (time, index in `faults`, phase), sorted.
    list: Vec<(SimTime, usize, FaultPhase)>,
    seqs: Vec<u64>,
    next: usize,
}

impl<'a> FaultBoundaries<'a> {
    /// Ties keep the timeline's order, begins before ends.
    // The run loop is the one place that takes sequence numbers outside the heap (clippy.toml).
    #[allow(clippy::disallowed_methods)]
    fn new<E>(faults: &'a [FaultSpec], ctx: &mut Ctx<E>) -> Self {
        let mut list: Vec<(SimTime, usize, FaultPhase)> = Vec::with_capacity(faults.len() * 2);
        for (i, f) in faults.iter().enumerate() {
            list.push((f.start_ns, i, FaultPhase::Begin));
            list.push((f.end_ns, i, FaultPhase::End));
        }
        list.sort_by_key(|&(t, i, phase)| (t, phase == FaultPhase::End, i));
        let seqs: Vec<u64> = list.iter().map(|_| ctx.sim.queue().take_seq()).collect();
        Self { faults, list, seqs, next: 0 }
    }

    /// The (time, sequence number) of the next boundary, if any is left.
    #[inline]
    fn peek_key(&self) -> Option<(SimTime, u64)> {
        self.list.get(self.next).map(|b| (b.0, self.seqs[self.next]))
    }
}

/// The sources held outside the heap: the next arrival (with the sequence number it would have
/// had) and the fault boundaries.
struct Sources<'a> {
    arrivals: ArrivalGen,
    next_arrival: Option<(u64, EventMeta)>,
    boundaries: FaultBoundaries<'a>,
}

impl<'a> Sources<'a> {
    fn new<E>(mut arrivals: ArrivalGen, boundaries: FaultBoundaries<'a>, ctx: &mut Ctx<E>) -> Self {
        let next_arrival = Self::take_next(&mut arrivals, ctx);
        Self { arrivals, next_arrival, boundaries }
    }

    /// The trace's next arrival, numbered as if it were scheduled now.
    // The run loop is the one place that takes sequence numbers outside the heap (clippy.toml).
    #[allow(clippy::disallowed_methods)]
    #[inline]
    fn take_next<E>(arrivals: &mut ArrivalGen, ctx: &mut Ctx<E>) -> Option<(u64, EventMeta)> {
        arrivals.next_event().map(|ev| (ctx.sim.queue().take_seq(), ev))
    }

    /// Which source holds the earliest (time, sequence number); `None` once the run is over:
    /// nothing is left, or only timers remain with every event resolved.
    // The run loop is the one place that looks into the queue (clippy.toml).
    #[allow(clippy::disallowed_methods)]
    #[inline]
    fn next_source<E>(&self, ctx: &mut Ctx<E>) -> Option<Source> {
        let heap = ctx.sim.queue().peek_key();
        let arrival = self.next_arrival.as_ref().map(|(seq, ev)| (ev.created_ns, *seq));
        let fault = self.boundaries.peek_key();
        match (arrival, heap, fault) {
            (None, None, None) => None,
            (None, Some(_), None) if ctx.rec.pending() == 0 => None, // only timers remain
            _ => {
                let key = |k: Option<(SimTime, u64)>| k.unwrap_or((SimTime::MAX, u64::MAX));
                let (a, h, f) = (key(arrival), key(heap), key(fault));
                Some(if f < a && f < h {
                    Source::Fault
                } else if a < h {
                    Source::Arrival
                } else {
                    Source::Model
                })
            }
        }
    }

    /// The next arrival goes to the model, unless it is past the end; the one after it is
    /// read, and the model and the recorder may prefetch what it needs.
    // The run loop is the one place that advances time (clippy.toml).
    #[allow(clippy::disallowed_methods)]
    #[inline]
    fn arrival<M: Model>(&mut self, model: &mut M, ctx: &mut Ctx<M::Event>, end: SimTime) -> Step {
        let Some((_, ev)) = self.next_arrival.take() else { unreachable!() };
        if ev.created_ns > end {
            return Step::ArrivalsOver;
        }
        ctx.sim.set_now(ev.created_ns);
        ctx.rec.advance_to(ev.created_ns);
        ctx.rec.created(&ev);
        model.on_arrival(ctx, ev);
        self.next_arrival = Self::take_next(&mut self.arrivals, ctx);
        if let Some((_, next)) = &self.next_arrival {
            ctx.rec.prefetch(next.key);
            model.prefetch(next);
        }
        Step::Handled
    }

    /// The next fault boundary goes to the model, unless it is past the end (then it is
    /// skipped: later sources may still be due).
    // The run loop is the one place that advances time (clippy.toml).
    #[allow(clippy::disallowed_methods)]
    #[inline]
    fn fault_boundary<M: Model>(
        &mut self,
        model: &mut M,
        ctx: &mut Ctx<M::Event>,
        end: SimTime,
    ) -> Step {
        let b = &mut self.boundaries;
        let (t, i, phase) = b.list[b.next];
        b.next += 1;
        if t > end {
            return Step::Skipped;
        }
        ctx.sim.set_now(t);
        ctx.rec.advance_to(t);
        model.on_fault(ctx, &b.faults[i], phase);
        Step::Handled
    }
}

/// Which source the next event comes from.
enum Source {
    Arrival,
    Model,
    Fault,
}

/// What taking one event did.
enum Step {
    /// The model handled it: it counts, and the run's time is now its time.
    Handled,
    /// A fault boundary past the end: dropped, the other sources go on.
    Skipped,
    /// The next arrival is past the end: the run is over.
    ArrivalsOver,
    /// The model's next event is past the end: the run is over, at the end.
    PastEnd,
}
