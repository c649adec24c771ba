//! `event_sourced`'s event handlers, one per family of [`Ev`]: the producers' timers and
//! answers, the log's requests and own events, the consumer's events, and the readers'.
//! `Model::on_event` (mod.rs) only routes each event to its family's handler; each handler is
//! inlined back into it, so the split costs no call, allocation or dynamic dispatch on the hot
//! path.

use super::{Consumer, Ev, EventSourced, wrap_log};
use crate::ctx::Ctx;
use pipesim_components::kafka::LogEvent;

impl EventSourced {
    /// A producer's timer (linger, request timeout, retry backoff) or an answer reaching it.
    #[inline]
    pub(super) fn on_producer_event(&mut self, ctx: &mut Ctx<Ev>, event: Ev) {
        match event {
            Ev::Linger(slot, generation) => {
                self.producer.linger(
                    &mut ctx.sim,
                    slot,
                    generation,
                    Ev::ProducerTimeout,
                    &mut self.pout,
                );
            }
            Ev::ProducerTimeout => {
                self.producer.check_timeouts(
                    &mut ctx.sim,
                    Ev::ProducerRetry,
                    Ev::ProducerTimeout,
                    &mut self.pout,
                );
            }
            Ev::ProducerRetry(slot, generation) => {
                self.producer.retry_due(
                    &mut ctx.sim,
                    slot,
                    generation,
                    Ev::ProducerTimeout,
                    &mut self.pout,
                );
            }
            Ev::ToProducer(req, result) => {
                self.producer.response(
                    &mut ctx.sim,
                    req,
                    result,
                    Ev::ProducerRetry,
                    Ev::ProducerTimeout,
                    &mut self.pout,
                );
            }
            _ => unreachable!("on_event routes only the producers' events here"),
        }
    }

    /// A produce request reaching the cluster, or one of the log's own events (a served
    /// request takes its records from the producer's batch).
    #[inline]
    pub(super) fn on_log_event(&mut self, ctx: &mut Ctx<Ev>, event: Ev) {
        match event {
            Ev::ToBroker(req) => self.log.produce(&mut ctx.sim, req, wrap_log, self.lout.sink()),
            Ev::Log(LogEvent::Served { broker, epoch, req }) => {
                let records = self.producer.records(&req);
                self.log.served(
                    &mut ctx.sim,
                    broker,
                    epoch,
                    req,
                    records,
                    wrap_log,
                    self.lout.sink(),
                );
            }
            Ev::Log(e) => self.log.handle(&mut ctx.sim, e, wrap_log, self.lout.sink()),
            _ => unreachable!("on_event routes only the log's events here"),
        }
    }

    /// The consumer's events (the processor's or the projection's, whichever runs), then what
    /// it made visible or dead-lettered.
    #[inline]
    pub(super) fn on_consumer_event(&mut self, ctx: &mut Ctx<Ev>, event: Ev) {
        match event {
            Ev::Stream(e) => {
                if let Consumer::Processor(c) = &mut self.consumer {
                    c.handle(&mut ctx.sim, &mut self.log, e, Ev::from, &mut self.visible);
                }
            }
            Ev::Projection(e) => {
                if let Consumer::Projection(c) = &mut self.consumer {
                    c.handle(
                        &mut ctx.sim,
                        &mut self.log,
                        e,
                        Ev::from,
                        &mut self.visible,
                        &mut self.dead,
                    );
                }
            }
            _ => unreachable!("on_event routes only the consumer's events here"),
        }
        self.consumer_outcomes(ctx);
    }

    /// The readers' events: the next read, a miss reaching the view's store, the store's
    /// answer, an answer reaching its reader (the read's latency is recorded then).
    #[inline]
    pub(super) fn on_read_event(&mut self, ctx: &mut Ctx<Ev>, event: Ev) {
        match event {
            Ev::ReadTick => self.read_tick(ctx),
            Ev::ViewArrive(job) => self.view_arrive(ctx, job),
            Ev::ViewDone(epoch, job) => self.view_done(ctx, epoch, job),
            Ev::ReadDone(key, issued) => {
                let now = ctx.now();
                ctx.rec.read(key, now - issued, now);
            }
            _ => unreachable!("on_event routes only the readers' events here"),
        }
    }
}
