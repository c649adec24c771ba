//! `event_sourced`'s write path, as the model sees it: what the producer and the log produce
//! goes where it goes (requests onto the producers' connections, answers back, records
//! acknowledged or dropped, data available to the consumer, leader changes), and what the
//! consumer makes visible or dead-letters is recorded, invalidating the keys' cache entries.

use super::{Consumer, Ev, EventSourced, Held, Rec, on_consumer};
use crate::ctx::Ctx;
use pipesim_components::kafka::{Acks, LogOutcome, Record};
use pipesim_components::schema::SchemaMode;
use pipesim_components::stream::{DeadLetter, LogConsumer};
use pipesim_engine::SimTime;

impl EventSourced {
    /// Hands everything the producer and the log produced to where it goes, until both are quiet.
    pub(super) fn drain(&mut self, ctx: &mut Ctx<Ev>) {
        loop {
            let mut busy = false;
            if !self.pout.is_empty() {
                busy = true;
                self.producer_outcomes(ctx);
            }
            if !self.lout.is_empty() {
                busy = true;
                self.log_outcomes(ctx);
            }
            if !busy {
                return;
            }
        }
    }

    fn producer_outcomes(&mut self, ctx: &mut Ctx<Ev>) {
        if self.producer_paused {
            self.hold_producer_out();
            return;
        }
        let mut out = std::mem::take(&mut self.pout);
        let now = ctx.now();
        for r in out.acked.drain(..) {
            ctx.rec.acked(&r.0, now);
        }
        for (r, why) in out.dropped.drain(..) {
            ctx.rec.dropped(&r.0, now, self.reasons.producer[why.index()]);
        }
        for (producer, partition, seq) in out.abandoned.drain(..) {
            self.log.skip_sequence(producer, partition, seq);
        }
        for req in out.sends.drain(..) {
            let sent = !self.net_down
                && self.up[req.producer as usize].send(&mut ctx.sim, Ev::ToBroker(req));
            if !sent {
                self.stats.lost_requests += 1;
                self.producer.lost(req);
            }
        }
        self.pout = out;
    }

    fn log_outcomes(&mut self, ctx: &mut Ctx<Ev>) {
        let now = ctx.now();
        while let Some(o) = self.lout.take_next() {
            match o {
                LogOutcome::Respond(req, result) => {
                    if self.p.producer.acks == Acks::Zero {
                        if self.producer_paused {
                            self.held.push(Held::Event(Ev::ToProducer(req, result)));
                            continue;
                        }
                        // Nobody waits for an answer: the producer only lets go of the batch.
                        self.producer.response(
                            &mut ctx.sim,
                            req,
                            result,
                            Ev::ProducerRetry,
                            Ev::ProducerTimeout,
                            &mut self.pout,
                        );
                    } else {
                        let sent = !self.net_down
                            && self.down[req.producer as usize]
                                .send(&mut ctx.sim, Ev::ToProducer(req, result));
                        if !sent {
                            self.stats.lost_answers += 1;
                        }
                    }
                }
                LogOutcome::Available(p) => {
                    let (sim, log) = (&mut ctx.sim, &self.log);
                    on_consumer!(&mut self.consumer, |c| {
                        LogConsumer::data_available(c, sim, log, p, Ev::from)
                    });
                }
                LogOutcome::Compacted(r) => ctx.rec.dropped(&r.0, now, self.reasons.compacted),
                LogOutcome::Led(p) => {
                    let (sim, log) = (&mut ctx.sim, &self.log);
                    on_consumer!(&mut self.consumer, |c| {
                        LogConsumer::leader_changed(c, sim, log, p, Ev::from)
                    });
                }
            }
        }
    }

    /// One record of the consumer's output became visible at `now` (unless the consumer cannot
    /// decode it): recorded, and the key's cache entry invalidated after the lag.
    fn output_visible(&mut self, ctx: &mut Ctx<Ev>, r: Rec, now: SimTime, infer: bool) {
        if infer && self.undecodable(&r, now) {
            return;
        }
        ctx.rec.visible(&r.0, now);
        self.stats.visible += 1;
        if let Some(c) = self.reads.as_mut().and_then(|rp| rp.cache.as_mut())
            && !c.down
            && c.lru.peek(r.0.key).is_some()
            && c.invalid_at.get(r.0.key).is_none()
        {
            let at = now + c.lag.sample(&mut c.rng);
            c.invalid_at.insert(r.0.key, at);
        }
    }

    /// Reports what the consumer made visible or dead-lettered.
    pub(super) fn consumer_outcomes(&mut self, ctx: &mut Ctx<Ev>) {
        let now = ctx.now();
        let mut visible = std::mem::take(&mut self.visible);
        let infer = self.schema.mode == SchemaMode::Infer && self.schema.changes > 0;
        for r in visible.drain(..) {
            self.output_visible(ctx, r, now, infer);
        }
        self.visible = visible;
        // An exactly-once commit's output, read in place from the log, then released.
        if let Consumer::Processor(c) = &self.consumer
            && !c.committed_output().is_empty()
        {
            let ranges = c.committed_output().to_vec();
            for (p, from, to) in ranges {
                for off in from..to {
                    let r = *self.log.record(p, off);
                    if !r.is_compacted() {
                        self.output_visible(ctx, r, now, infer);
                    }
                }
            }
            if let Consumer::Processor(c) = &mut self.consumer {
                c.release_committed(&mut self.log);
            }
        }
        let mut dead = std::mem::take(&mut self.dead);
        for (r, why) in dead.drain(..) {
            let reason = match why {
                DeadLetter::Poison => self.reasons.poison,
                DeadLetter::Failing => self.reasons.failing,
            };
            ctx.rec.dropped(&r.0, now, reason);
        }
        self.dead = dead;
    }
}
