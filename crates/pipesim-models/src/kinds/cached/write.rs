//! `cached`'s write path: events reach the writer, which runs one INSERT at a time on each of
//! its connections (`entity mod connections`, so an entity's events commit in order), retries a
//! failed one at the head of its connection after `retry_backoff`, and acknowledges the producer
//! when the commit returns; each commit enters the change stream.

use super::{Cached, Ev, StoreJob, Write, wrap_store};
use crate::ctx::Ctx;
use pipesim_components::{PgOutcome, Txn};
use pipesim_workload::EventMeta;
use std::collections::VecDeque;

/// A writer connection: its queue (the head is in the store or waiting to be retried).
#[derive(Default)]
pub(super) struct Shard {
    queue: VecDeque<Write>,
    busy: bool,
}

impl Cached {
    /// An event reached the writer: it joins its connection's queue, and runs if the connection
    /// is idle.
    pub(super) fn at_writer(&mut self, ctx: &mut Ctx<Ev>, w: Write) {
        let shard = self.shard_of(w.ev.key);
        let s = &mut self.shards[shard as usize];
        s.queue.push_back(w);
        if !s.busy {
            self.submit_head(ctx, shard);
        }
    }

    /// Runs (or retries) the INSERT at the head of writer connection `shard`.
    pub(super) fn submit_head(&mut self, ctx: &mut Ctx<Ev>, shard: u32) {
        let s = &mut self.shards[shard as usize];
        let Some(&w) = s.queue.front() else {
            s.busy = false;
            return;
        };
        s.busy = true;
        let txn = Txn {
            job: StoreJob::Write(w),
            rows: 1,
            bytes: u64::from(w.ev.size_bytes),
            write: true,
            page: shard,
        };
        if !self.store.submit(&mut ctx.sim, txn, wrap_store) {
            self.stats.write_retries += self.counting(ctx.now());
            ctx.schedule_in(self.params.writer.retry_backoff.ns, Ev::RetryShard(shard));
        }
    }

    /// The writer connection an entity's events go to: `entity mod connections`.
    fn shard_of(&self, key: u32) -> u32 {
        key % self.params.writer.connections
    }

    /// A commit: the change enters the stream, and the entity has one more row to load.
    fn captured(&mut self, ctx: &mut Ctx<Ev>, ev: EventMeta) {
        self.committed[ev.key as usize] += 1;
        self.cdc.capture(&mut ctx.sim, ev, ev.key, Ev::Cdc);
    }

    /// Hands the store's outcomes to where they go: a commit acknowledges its producer, enters the
    /// stream and lets the connection's next INSERT run; a failed INSERT is retried; a load's
    /// answer goes to the read path.
    pub(super) fn store_outcomes(&mut self, ctx: &mut Ctx<Ev>) {
        while let Some(outcome) = self.pg_out.take_next() {
            match outcome {
                PgOutcome::Committed(StoreJob::Write(w)) => {
                    let shard = self.shard_of(w.ev.key);
                    let head = self.shards[shard as usize].queue.pop_front();
                    debug_assert_eq!(head.map(|h| h.ev.id), Some(w.ev.id), "commits in order");
                    self.captured(ctx, w.ev);
                    self.down[w.instance as usize].send(&mut ctx.sim, self.outage, Ev::Acked(w.ev));
                    self.submit_head(ctx, shard);
                }
                PgOutcome::Failed(StoreJob::Write(w)) => {
                    // The writer retries the head of the connection after its backoff.
                    self.stats.write_retries += self.counting(ctx.now());
                    let shard = self.shard_of(w.ev.key);
                    ctx.schedule_in(self.params.writer.retry_backoff.ns, Ev::RetryShard(shard));
                }
                // Durable although its client saw an error: the writer's retry commits it again.
                PgOutcome::Recovered(StoreJob::Write(w)) => self.captured(ctx, w.ev),
                PgOutcome::Read(StoreJob::Load { read, epoch, .. }) => {
                    self.loaded(ctx, read, epoch)
                }
                PgOutcome::Failed(StoreJob::Load { read, .. }) => self.load_failed(ctx, read),
                // Asynchronous commit is rejected for this kind; nothing else applies to loads.
                _ => {}
            }
        }
    }
}
