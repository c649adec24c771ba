//! The run loop.

use crate::ctx::Ctx;
use crate::model::Model;
use pipesim_engine::{RngStreams, SimTime};
use pipesim_metrics::{Recorder, RecorderConfig, RunResults};
use pipesim_workload::{ArrivalGen, WorkloadSpec};

/// The time settings and seed of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

/// Runs `model` over the arrival trace of `workload` under `settings`.
///
/// The next arrival is held outside the heap with the sequence number it would have had, so
/// arrivals cost no heap operation yet still obey the (time, insertion order) rule. The run
/// ends at `duration + drain`, or earlier once arrivals are over and no event is pending.
pub fn run<M: Model>(model: &mut M, settings: &RunSettings, workload: &WorkloadSpec) -> RunResults {
    let streams = RngStreams::new(settings.seed);
    let mut arrivals = ArrivalGen::new(workload, &streams);
    let rec = Recorder::new(RecorderConfig {
        warmup_ns: settings.warmup_ns,
        duration_ns: settings.duration_ns,
        window_ns: settings.window_ns,
        key_count: workload.keys.count,
    });
    let mut ctx = Ctx::new(rec);
    model.init(&mut ctx);

    let end = settings.duration_ns.saturating_add(settings.drain_ns);
    let mut next_arrival = arrivals
        .next_event()
        .map(|ev| (ctx.sim.queue().take_seq(), ev));
    let mut events: u64 = 0;
    let mut last_t: SimTime = 0;
    loop {
        let arrival_first = match (&next_arrival, ctx.sim.queue().peek_key()) {
            (Some((seq, ev)), Some(key)) => (ev.created_ns, *seq) < key,
            (Some(_), None) => true,
            (None, Some(_)) => {
                if ctx.rec.pending() == 0 {
                    // Arrivals are over and every event is resolved: only timers remain.
                    break;
                }
                false
            }
            (None, None) => break,
        };
        if arrival_first {
            let Some((_, ev)) = next_arrival.take() else {
                unreachable!()
            };
            if ev.created_ns > end {
                break;
            }
            ctx.sim.set_now(ev.created_ns);
            ctx.rec.advance_to(ev.created_ns);
            ctx.rec.created(&ev);
            model.on_arrival(&mut ctx, ev);
            next_arrival = arrivals
                .next_event()
                .map(|ev| (ctx.sim.queue().take_seq(), ev));
        } else {
            let Some((t, event)) = ctx.sim.queue().pop() else {
                unreachable!()
            };
            if t > end {
                last_t = end;
                break;
            }
            ctx.sim.set_now(t);
            ctx.rec.advance_to(t);
            model.on_event(&mut ctx, event);
        }
        last_t = ctx.sim.now();
        events += 1;
    }
    // The run covers at least the arrival period, so the timeline shows quiet tails too.
    let end_ns = last_t.max(settings.duration_ns).min(end);
    ctx.rec.finish(end_ns, events)
}
