//! The run loop.

use crate::ctx::Ctx;
use crate::failure::RunFailure;
use crate::fault::{FaultPhase, ResolvedFaults};
use crate::model::Model;
use crate::progress::{PUBLISH_EVERY, RunProgress};
use pipesim_engine::{RngStreams, SimTime, Window};
use pipesim_metrics::window_rule::report_group;
use pipesim_metrics::{Recorder, RecorderConfig, RunResults, WindowSink};
use pipesim_workload::{ArrivalGen, WorkloadSpec};
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
// The run loop is the one place that advances time and pops the queue (clippy.toml).
#[allow(clippy::disallowed_methods)]
#[expect(clippy::too_many_lines, reason = "over the 70-line budget (clippy.toml); to be split")]
pub fn run<M: Model>(
    model: &mut M,
    settings: &RunSettings,
    workload: &WorkloadSpec,
    faults: &ResolvedFaults,
) -> Result<RunResults, RunFailure> {
    let streams = RngStreams::new(settings.seed);
    let mut arrivals = ArrivalGen::new(workload, &streams);
    let span_ns = settings.duration_ns.saturating_add(settings.drain_ns);
    let cfg = RecorderConfig {
        warmup_ns: settings.warmup_ns,
        duration_ns: settings.duration_ns,
        window_ns: settings.window_ns,
        report_group: report_group(span_ns, settings.window_ns),
        key_count: workload.keys.count,
    };
    let rec = Recorder::with_sink(cfg, settings.timeline_sink.clone());
    let mut ctx = Ctx::new(rec);
    if settings.log_visibility {
        ctx.rec.log_visibility();
    }
    let windows: Vec<(SimTime, SimTime)> =
        faults.windows.iter().map(|f| (f.start_ns, f.end_ns)).collect();
    ctx.rec.set_fault_windows(&windows);
    let faults = &faults.delivered;

    // Fault boundaries in time order; ties keep the timeline's order, begins before ends.
    let mut boundaries: Vec<(SimTime, usize, FaultPhase)> = Vec::with_capacity(faults.len() * 2);
    for (i, f) in faults.iter().enumerate() {
        boundaries.push((f.start_ns, i, FaultPhase::Begin));
        boundaries.push((f.end_ns, i, FaultPhase::End));
    }
    boundaries.sort_by_key(|&(t, i, phase)| (t, phase == FaultPhase::End, i));
    let boundary_seqs: Vec<u64> = boundaries.iter().map(|_| ctx.sim.queue().take_seq()).collect();
    let mut next_boundary = 0usize;

    model.init(&mut ctx);

    let end = settings.duration_ns.saturating_add(settings.drain_ns);
    let mut next_arrival = arrivals.next_event().map(|ev| (ctx.sim.queue().take_seq(), ev));
    let mut events: u64 = 0;
    let mut last_t: SimTime = 0;
    loop {
        let heap = ctx.sim.queue().peek_key();
        let arrival = next_arrival.as_ref().map(|(seq, ev)| (ev.created_ns, *seq));
        let fault = boundaries.get(next_boundary).map(|b| (b.0, boundary_seqs[next_boundary]));
        let source = match (arrival, heap, fault) {
            (None, None, None) => break,
            (None, Some(_), None) if ctx.rec.pending() == 0 => break, // only timers remain
            _ => {
                let key = |k: Option<(SimTime, u64)>| k.unwrap_or((SimTime::MAX, u64::MAX));
                let (a, h, f) = (key(arrival), key(heap), key(fault));
                if f < a && f < h {
                    Source::Fault
                } else if a < h {
                    Source::Arrival
                } else {
                    Source::Model
                }
            }
        };
        match source {
            Source::Arrival => {
                let Some((_, ev)) = next_arrival.take() else { unreachable!() };
                if ev.created_ns > end {
                    break;
                }
                ctx.sim.set_now(ev.created_ns);
                ctx.rec.advance_to(ev.created_ns);
                ctx.rec.created(&ev);
                model.on_arrival(&mut ctx, ev);
                next_arrival = arrivals.next_event().map(|ev| (ctx.sim.queue().take_seq(), ev));
                if let Some((_, next)) = &next_arrival {
                    ctx.rec.prefetch(next.key);
                    model.prefetch(next);
                }
            }
            Source::Model => {
                let Some((t, event)) = ctx.sim.queue().pop() else { unreachable!() };
                if t > end {
                    last_t = end;
                    break;
                }
                ctx.sim.set_now(t);
                ctx.rec.advance_to(t);
                model.on_event(&mut ctx, event);
            }
            Source::Fault => {
                let (t, i, phase) = boundaries[next_boundary];
                next_boundary += 1;
                if t > end {
                    continue;
                }
                ctx.sim.set_now(t);
                ctx.rec.advance_to(t);
                model.on_fault(&mut ctx, &faults[i], phase);
            }
        }
        last_t = ctx.sim.now();
        events += 1;
        if events & (PUBLISH_EVERY - 1) == 0
            && let Some(p) = &settings.progress
        {
            p.publish(last_t, events);
        }
    }
    if let Some(p) = &settings.progress {
        p.finish(last_t, events);
    }
    if let Some(e) = arrivals.failure() {
        return Err(RunFailure::Trace(e.clone()));
    }
    // The run covers at least the arrival period, so the timeline shows quiet tails too.
    let end_ns = last_t.max(settings.duration_ns).min(end);
    Ok(ctx.rec.finish(end_ns, events))
}

/// Which source the next event comes from.
enum Source {
    Arrival,
    Model,
    Fault,
}
