//! `cached`'s read path: readers poll the cache service over the client network; the cache
//! answers from the rings it holds, and loads the entities it does not hold from the store
//! through the connection pool (a leaked connection is reclaimed after `leak_timeout`, if at
//! all); a load answered after the cache process that asked has crashed fails the read.

use super::{Cached, Ev, Read, StoreJob, wrap_cache, wrap_store};
use crate::ctx::Ctx;
use pipesim_components::{Readers, Txn};

/// Each reader's distinct entities, sorted: reader `r`'s are `distinct[offsets[r]..offsets[r + 1]]`.
pub(super) fn distinct_entities(readers: &Readers, count: u32) -> (Vec<u32>, Vec<usize>) {
    let mut distinct = Vec::new();
    let mut offsets = vec![0];
    for r in 0..count {
        let start = distinct.len();
        distinct.extend_from_slice(readers.keys(r));
        distinct[start..].sort_unstable();
        let mut unique = start;
        for i in start..distinct.len() {
            if i == start || distinct[i] != distinct[unique - 1] {
                distinct[unique] = distinct[i];
                unique += 1;
            }
        }
        distinct.truncate(unique);
        offsets.push(distinct.len());
    }
    (distinct, offsets)
}

impl Cached {
    /// A reader's poll is due: it goes to the cache service over the reader's connection.
    pub(super) fn poll_due(&mut self, ctx: &mut Ctx<Ev>, reader: u32) {
        let poll = self.readers.poll(&mut ctx.sim, reader, Ev::Poll);
        let read = Read { reader: poll.reader, issued_ns: poll.issued_ns };
        self.reader_up.send(&mut ctx.sim, self.outage, Ev::AtCache(read));
    }

    /// A poll reached the cache service.
    pub(super) fn at_cache(&mut self, ctx: &mut Ctx<Ev>, read: Read) {
        // The request names every entity the reader asked for, repeats included.
        let n = self.readers.keys(read.reader).len() as u32;
        if !self.cache.request(&mut ctx.sim, read, n, wrap_cache) {
            self.stats.failed_reads += self.counting(ctx.now());
            self.answer(ctx, read, false);
        }
    }

    /// The answer to a poll reached its reader: `ok` or an error.
    pub(super) fn answered(&mut self, ctx: &mut Ctx<Ev>, read: Read, ok: bool) {
        if ok {
            self.stats.reads_ok += self.counting(ctx.now());
            let latency = ctx.now() - read.issued_ns;
            let now = ctx.now();
            ctx.rec.read_many(self.readers.keys(read.reader).iter().copied(), latency, now);
        }
    }

    /// Sends the answer to a poll back to its reader.
    pub(super) fn answer(&mut self, ctx: &mut Ctx<Ev>, read: Read, ok: bool) {
        self.reader_down.send(&mut ctx.sim, self.outage, Ev::Answer(read, ok));
    }

    /// The cache service looked up a poll's entities: it answers, or loads the ones it misses.
    pub(super) fn served(&mut self, ctx: &mut Ctx<Ev>, read: Read) {
        let (lo, hi) = (self.offsets[read.reader as usize], self.offsets[read.reader as usize + 1]);
        let (now, committed) = (ctx.now(), &self.committed);
        let l = self.cache.lookup(now, &self.distinct[lo..hi], |k| committed[k as usize]);
        if l.misses == 0 {
            self.answer(ctx, read, true);
        } else {
            self.stats.loads += self.counting(ctx.now());
            let rows = u32::try_from(l.rows).unwrap_or(u32::MAX);
            let job = StoreJob::Load { read, rows, epoch: self.cache_epoch };
            if let Some(job) = self.pool.acquire(job, ctx.now()) {
                self.run_load(ctx, job);
            }
        }
    }

    /// Runs a load on the pool connection it just got; while the store is down each one fails
    /// at once and the connection passes to the next waiter.
    pub(super) fn run_load(&mut self, ctx: &mut Ctx<Ev>, job: StoreJob) {
        let mut job = job;
        loop {
            let StoreJob::Load { read, rows, .. } = job else {
                unreachable!("only loads use the pool")
            };
            let txn = Txn { job, rows, bytes: 0, write: false, page: 0 };
            if self.store.submit(&mut ctx.sim, txn, wrap_store) {
                return;
            }
            self.stats.failed_reads += self.counting(ctx.now());
            self.answer(ctx, read, false);
            match self.pool.release(ctx.now()) {
                Some(next) => job = next,
                None => return,
            }
        }
    }

    /// Hands a released pool connection to the next waiting load, if any.
    pub(super) fn release_pool(&mut self, ctx: &mut Ctx<Ev>) {
        if let Some(next) = self.pool.release(ctx.now()) {
            self.run_load(ctx, next);
        }
    }

    /// A load returned: its connection goes back to the pool (or leaks), and the cache that asked,
    /// if it is still the same process, fills its rings and answers the read.
    pub(super) fn loaded(&mut self, ctx: &mut Ctx<Ev>, read: Read, epoch: u32) {
        if self.params.pool.leak > 0.0 && self.pool_rng.chance(self.params.pool.leak) {
            self.pool.leak_one();
            self.stats.leaks += self.counting(ctx.now());
            if self.params.pool.leak_timeout.ns > 0 {
                ctx.schedule_in(self.params.pool.leak_timeout.ns, Ev::Reclaim);
            }
        } else {
            self.release_pool(ctx);
        }
        if epoch == self.cache_epoch && !self.cache.is_down() {
            // The loaded rings reflect every commit so far (the query's snapshot is
            // taken as it returns, so the rows and the position agree).
            let snapshot = self.cdc.last_lsn();
            let (lo, hi) =
                (self.offsets[read.reader as usize], self.offsets[read.reader as usize + 1]);
            let (now, committed) = (ctx.now(), &self.committed);
            self.cache.fill(now, &self.distinct[lo..hi], snapshot, |k| committed[k as usize]);
            self.answer(ctx, read, true);
        } else {
            // The cache process that asked is gone; its client saw the connection break.
            self.stats.failed_reads += self.counting(ctx.now());
            self.answer(ctx, read, false);
        }
    }

    /// A load failed (the store crashed under it): the read fails.
    pub(super) fn load_failed(&mut self, ctx: &mut Ctx<Ev>, read: Read) {
        self.release_pool(ctx);
        self.stats.failed_reads += self.counting(ctx.now());
        self.answer(ctx, read, false);
    }
}
