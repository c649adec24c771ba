//! `cached`'s change stream: the connector publishes each commit to the topic, the topic
//! delivers each partition in order to the cache service, and what the cache has processed
//! becomes visible (once per event, unless a replay or a ring that already held it from a load
//! shows it again).

use super::{Cached, Ev};
use crate::ctx::Ctx;
use pipesim_components::cache::{Apply, CacheOutcome};
use pipesim_engine::SimTime;
use pipesim_workload::EventMeta;

impl Cached {
    /// Publishes what the connector decoded to the topic.
    pub(super) fn cdc_published(&mut self, ctx: &mut Ctx<Ev>) {
        while let Some(p) = self.cdc_out.take_next() {
            self.topic.publish(&mut ctx.sim, p.change, Ev::Topic);
        }
    }

    /// Hands the cache service's outcomes to where they go: an applied change becomes visible
    /// (now or after the update lag), a served poll goes to the read path, a restarted cache
    /// resumes the topic.
    pub(super) fn cache_outcomes(&mut self, ctx: &mut Ctx<Ev>) {
        while let Some(outcome) = self.cache_out.take_next() {
            match outcome {
                CacheOutcome::Applied { partition, change, apply, visible_in } => {
                    self.topic.done(partition);
                    let seen = &mut self.processed[partition as usize];
                    let first = change.lsn > *seen;
                    *seen = (*seen).max(change.lsn);
                    let times = match apply {
                        // Already in the ring and processed for the first time: readers could
                        // see it from the load, and now see it twice.
                        Apply::Appended { repeat: true } if first => 2,
                        Apply::Appended { .. } => 1,
                        Apply::Deduplicated | Apply::NotHeld => u8::from(first),
                    };
                    if times == 0 {
                        continue;
                    }
                    if visible_in == 0 {
                        self.show(ctx, change.job, change.committed_ns, first, times);
                    } else {
                        ctx.schedule_in(
                            visible_in,
                            Ev::Shown(change.job, change.committed_ns, first, times),
                        );
                    }
                }
                CacheOutcome::Served(read) => self.served(ctx, read),
                CacheOutcome::Failed(read) => {
                    self.stats.failed_reads += self.counting(ctx.now());
                    self.answer(ctx, read, false);
                }
                CacheOutcome::Ready => self.topic.resume(&mut ctx.sim, Ev::Topic),
            }
        }
    }

    /// `ev` is visible in the read view now (`times` visibilities: more than one, or one that
    /// is not the first, are duplicates readers see).
    pub(super) fn show(
        &mut self,
        ctx: &mut Ctx<Ev>,
        ev: EventMeta,
        committed_ns: SimTime,
        first: bool,
        times: u8,
    ) {
        let now = ctx.now();
        if first && self.measure.contains(ev.created_ns) {
            self.visibility.record(now - committed_ns);
        }
        for _ in 0..times {
            ctx.rec.visible(&ev, now);
        }
    }
}
