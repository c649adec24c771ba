//! Faults on `event_sourced`, by role: `network` (an outage of the producers' connections),
//! `producer` (crashes of instances in turn, a rolling restart, a `pause` of every instance),
//! `log` (crashes of brokers in turn, a rolling restart; its storage and schema faults are in
//! `schema.rs`), `processor` (the consumer: crash, `pause`, `checkpoint_storm`), `cache` and
//! `store` (their effect on readers is in `read.rs`).

use super::{Consumer, Ev, EventSourced, Held, on_consumer, wrap_log};
use crate::ctx::Ctx;
use crate::fault::{FaultKind, FaultPhase, FaultSpec};
use crate::model::Model;
use pipesim_components::CrashScope;
use pipesim_components::stream::LogConsumer;
use pipesim_engine::SimTime;

impl EventSourced {
    /// `Model::on_fault`: a fault of any kind begins or ends.
    pub(super) fn fault(&mut self, ctx: &mut Ctx<Ev>, fault: &FaultSpec, phase: FaultPhase) {
        if self.storage_fault(ctx, fault, phase) {
            self.drain(ctx);
            return;
        }
        match fault.kind {
            FaultKind::Crash { .. } => {}
            FaultKind::Pause => {
                self.pause_fault(ctx, fault, phase);
                self.drain(ctx);
                return;
            }
            FaultKind::CheckpointStorm { interval_ns } => {
                self.checkpoint_storm(ctx, fault, interval_ns, phase);
                return;
            }
            // The network kinds act on the producers' links, which took their windows at build.
            _ => return,
        }
        match (fault.role.as_str(), phase) {
            ("network", FaultPhase::Begin) => self.net_down = true,
            ("network", FaultPhase::End) => self.net_down = false,
            ("producer", FaultPhase::Begin) => {
                for instance in self.producer_nodes.begin(fault, self.p.producers.instances) {
                    self.producer.crash(instance, &mut self.pout);
                }
            }
            ("producer", FaultPhase::End) => {
                for instance in self.producer_nodes.end(fault, self.p.producers.instances) {
                    self.producer.restart(instance);
                    self.log.reset_producer(instance);
                }
            }
            ("log", FaultPhase::Begin) => {
                for broker in self.broker_nodes.begin(fault, self.log.brokers()) {
                    let scope = match fault.kind {
                        FaultKind::Crash { scope, .. } => scope.unwrap_or_default(),
                        _ => CrashScope::Process,
                    };
                    self.log.crash(&mut ctx.sim, broker, scope, wrap_log, self.lout.sink());
                }
            }
            ("log", FaultPhase::End) => {
                for broker in self.broker_nodes.end(fault, self.log.brokers()) {
                    self.log.restart(&mut ctx.sim, broker, wrap_log, self.lout.sink());
                }
            }
            ("processor", FaultPhase::Begin) => self.crash_consumer(ctx),
            ("processor", FaultPhase::End) => self.restart_consumer(ctx),
            ("cache", phase) => {
                if let Some(rp) = self.reads.as_mut() {
                    rp.cache_fault(phase);
                }
            }
            ("store", phase) => {
                let down = phase == FaultPhase::Begin;
                if let Consumer::Projection(c) = &mut self.consumer {
                    c.set_store_down(down);
                }
                if let Some(rp) = self.reads.as_mut() {
                    rp.store_fault(ctx.now(), down);
                }
            }
            _ => {}
        }
        self.drain(ctx);
    }

    fn crash_consumer(&mut self, ctx: &mut Ctx<Ev>) {
        let now = ctx.now();
        on_consumer!(&mut self.consumer, |c| LogConsumer::crash(c, now));
    }

    fn restart_consumer(&mut self, ctx: &mut Ctx<Ev>) {
        on_consumer!(&mut self.consumer, |c| LogConsumer::restart(c, &mut ctx.sim, Ev::from));
    }

    /// A `pause` of the producers (every instance: the application freezes) or of the consumer.
    fn pause_fault(&mut self, ctx: &mut Ctx<Ev>, fault: &FaultSpec, phase: FaultPhase) {
        match (fault.role.as_str(), phase) {
            ("producer", FaultPhase::Begin) => self.producer_paused = true,
            ("producer", FaultPhase::End) => self.resume_producers(ctx),
            ("processor", FaultPhase::Begin) => {
                let now = ctx.now();
                on_consumer!(&mut self.consumer, |c| LogConsumer::pause(c, now));
            }
            ("processor", FaultPhase::End) => {
                let (sim, log) = (&mut ctx.sim, &mut self.log);
                on_consumer!(&mut self.consumer, |c| LogConsumer::resume(c, sim, log, Ev::from));
                self.consumer_outcomes(ctx);
            }
            _ => {}
        }
    }

    /// The producers run again: first what their timers decided during the pause (requests to
    /// send, records dropped at their delivery timeout), then, in the order they came, the
    /// events created meanwhile and the timers and answers that waited.
    fn resume_producers(&mut self, ctx: &mut Ctx<Ev>) {
        if !self.producer_paused {
            return;
        }
        self.producer_paused = false;
        let mut held_out = std::mem::take(&mut self.held_out);
        self.pout.sends.append(&mut held_out.sends);
        self.pout.acked.append(&mut held_out.acked);
        self.pout.dropped.append(&mut held_out.dropped);
        self.pout.abandoned.append(&mut held_out.abandoned);
        self.held_out = held_out;
        self.drain(ctx);
        let mut held = std::mem::take(&mut self.held);
        for h in held.drain(..) {
            match h {
                Held::Arrival(ev) => self.on_arrival(ctx, ev),
                Held::Event(e) => self.on_event(ctx, e),
            }
        }
        self.held = held;
    }

    /// What the producers' own timers decided while they are paused waits for the window's end.
    pub(super) fn hold_producer_out(&mut self) {
        let out = &mut self.pout;
        self.held_out.sends.append(&mut out.sends);
        self.held_out.acked.append(&mut out.acked);
        self.held_out.dropped.append(&mut out.dropped);
        self.held_out.abandoned.append(&mut out.abandoned);
    }

    /// A `checkpoint_storm` of the consumer: the processor triggers checkpoints (barriers,
    /// alignment, snapshot, commit) every `interval`; a projection commits its offsets (its only
    /// checkpoint) every `interval`.
    fn checkpoint_storm(
        &mut self,
        ctx: &mut Ctx<Ev>,
        fault: &FaultSpec,
        interval: SimTime,
        phase: FaultPhase,
    ) {
        if fault.role != "processor" {
            return;
        }
        let every = (phase == FaultPhase::Begin).then_some(interval);
        let sim = &mut ctx.sim;
        on_consumer!(&mut self.consumer, |c| LogConsumer::checkpoint_storm(
            c,
            sim,
            every,
            Ev::from
        ));
    }
}
