//! `event_sourced`'s read path: readers ask for one key at a time (`[model.reads]`), through
//! the view cache (`[model.cache]`) when there is one, and misses go to the view's store
//! (`[model.view]`). A view update invalidates the key's cache entry `invalidation_lag` later;
//! until then a hit returns the old value (a stale hit). The `cache` and `store` roles' crashes
//! act here too.

use super::config::{EventSourcedParams, ReadKeys, Resolved};
use super::{Ev, EventSourced};
use crate::ctx::Ctx;
use crate::fault::FaultPhase;
use crate::model::RunEnv;
use pipesim_components::{FifoServer, IntMap, Link, Lru};
use pipesim_config::Rate;
use pipesim_engine::{Dist, SimTime, StreamRng, Window, Zipf};
use pipesim_workload::Popularity;

/// A read waiting for the view's store.
#[derive(Clone, Copy, Debug)]
pub struct ViewJob {
    key: u32,
    issued: SimTime,
}

/// The view cache: an LRU of keys in front of the view's store, with its invalidations.
pub(super) struct ViewCache {
    pub(super) lru: Lru,
    /// Keys updated in the view while cached: when their entry is evicted.
    pub(super) invalid_at: IntMap<u64>,
    hit: Dist,
    pub(super) lag: Dist,
    pub(super) prewarm: bool,
    pub(super) down: bool,
    pub(super) rng: StreamRng,
    pub(super) hits: u64,
    pub(super) misses: u64,
    pub(super) stale_hits: u64,
    pub(super) invalidations: u64,
    pub(super) capacity_hint: u32,
}

/// The readers, their connections, the view cache and the view's store.
pub(super) struct ReadPath {
    pub(super) mean_gap_ns: f64,
    pub(super) rng: StreamRng,
    zipf: Option<Zipf>,
    /// The Zipf exponent of `zipf`.
    pub(super) exponent: Option<f64>,
    pub(super) key_count: u32,
    up: Link,
    down: Link,
    pub(super) cache: Option<ViewCache>,
    view: FifoServer<ViewJob>,
    view_read: Dist,
    view_rng: StreamRng,
    view_epoch: u32,
    view_down: bool,
    /// Reads issued in the measured interval, and those that failed.
    pub(super) reads: u64,
    pub(super) failed: u64,
    /// The measured interval `[from, to)`: cache counters cover reads issued in it.
    measure: Window,
}

impl ReadPath {
    /// The readers at `rate`, their connections, the view cache (when enabled) and the view's
    /// store.
    pub(super) fn new(p: &EventSourcedParams, r: &Resolved, env: &RunEnv<'_>, rate: Rate) -> Self {
        let s = env.streams;
        let keys = env.workload.keys;
        let exponent = match (p.reads.keys, p.reads.exponent, keys.popularity) {
            (ReadKeys::Uniform, _, _) => None,
            (ReadKeys::Popular, Some(x), _) => Some(x),
            (ReadKeys::Popular, None, Popularity::Zipf { exponent }) => Some(exponent),
            (ReadKeys::Popular, None, Popularity::Uniform) => None,
        };
        let zipf = exponent.map(|x| Zipf::new(u64::from(keys.count), x));
        let cache = p.cache.enabled.then(|| ViewCache {
            lru: Lru::new(p.cache.capacity as usize),
            invalid_at: IntMap::with_capacity(1024),
            hit: r.cache_hit.clone(),
            lag: r.invalidation_lag.clone(),
            prewarm: p.cache.prewarm,
            down: false,
            rng: s.stream("cache"),
            hits: 0,
            misses: 0,
            stale_hits: 0,
            invalidations: 0,
            capacity_hint: p.cache.capacity,
        });
        ReadPath {
            mean_gap_ns: 1e9 / rate.per_s,
            rng: s.stream("reads"),
            zipf,
            exponent,
            key_count: keys.count,
            up: Link::new(&r.link, s.stream("network/readers/up")),
            down: Link::new(&r.link, s.stream("network/readers/down")),
            cache,
            view: FifoServer::new(p.view.servers, None),
            view_read: r.view_read.clone(),
            view_rng: s.stream("view"),
            view_epoch: 0,
            view_down: false,
            reads: 0,
            failed: 0,
            measure: env.settings.measured(),
        }
    }

    /// A crash of the `cache` role: the cache empties; it comes back empty, or pre-warmed.
    pub(super) fn cache_fault(&mut self, phase: FaultPhase) {
        let keys = self.key_count;
        if let Some(c) = self.cache.as_mut() {
            match phase {
                FaultPhase::Begin => {
                    c.down = true;
                    c.lru.clear();
                    c.invalid_at = IntMap::with_capacity(1024);
                }
                FaultPhase::End => {
                    c.down = false;
                    if c.prewarm {
                        EventSourced::prewarm(c, keys);
                    }
                }
            }
        }
    }

    /// A crash of the `store` role, as readers see it: while it is down, reads that miss the
    /// cache fail, and so do those it was serving when it went down.
    pub(super) fn store_fault(&mut self, now: SimTime, down: bool) {
        self.view_down = down;
        if down {
            let mut lost = Vec::new();
            self.view.reset(now, &mut lost);
            let m = self.measure;
            self.failed += lost.iter().filter(|j| m.contains(j.issued)).count() as u64;
            self.view_epoch = self.view_epoch.wrapping_add(1);
        }
    }
}

impl EventSourced {
    pub(super) fn read_tick(&mut self, ctx: &mut Ctx<Ev>) {
        let Some(rp) = self.reads.as_mut() else { return };
        let now = ctx.now();
        let gap = (rp.mean_gap_ns * rp.rng.exp1()) as SimTime;
        ctx.schedule_in(gap.max(1), Ev::ReadTick);
        let key = match &rp.zipf {
            Some(z) => (z.sample(&mut rp.rng) - 1) as u32,
            None => rp.rng.below(u64::from(rp.key_count)) as u32,
        };
        let measured = rp.measure.contains(now);
        rp.reads += u64::from(measured);
        let Some(at_server) = rp.up.transit(now) else {
            rp.failed += u64::from(measured);
            return;
        };
        if let Some(c) = rp.cache.as_mut()
            && !c.down
        {
            let mut hit = c.lru.get(key).is_some();
            if hit && let Some(t) = c.invalid_at.get(key) {
                if t <= now {
                    // The invalidation arrived: the entry is gone.
                    c.invalid_at.remove(key);
                    c.invalidations += u64::from(measured);
                    hit = false;
                } else {
                    c.stale_hits += u64::from(measured);
                }
            }
            if hit {
                c.hits += u64::from(measured);
                let served = at_server + c.hit.sample(&mut c.rng);
                match rp.down.transit(served) {
                    Some(back) => ctx.schedule_at(back, Ev::ReadDone(key, now)),
                    None => rp.failed += u64::from(measured),
                }
                return;
            }
            c.misses += u64::from(measured);
        }
        ctx.schedule_at(at_server, Ev::ViewArrive(ViewJob { key, issued: now }));
    }

    pub(super) fn view_arrive(&mut self, ctx: &mut Ctx<Ev>, job: ViewJob) {
        let Some(rp) = self.reads.as_mut() else { return };
        if rp.view_down {
            rp.failed += u64::from(rp.measure.contains(job.issued));
            return;
        }
        let t = rp.view_read.sample(&mut rp.view_rng);
        let epoch = rp.view_epoch;
        rp.view.offer(&mut ctx.sim, job, t, |j| Ev::ViewDone(epoch, j));
    }

    pub(super) fn view_done(&mut self, ctx: &mut Ctx<Ev>, epoch: u32, job: ViewJob) {
        let Some(rp) = self.reads.as_mut() else { return };
        let measured = rp.measure.contains(job.issued);
        if epoch != rp.view_epoch {
            rp.failed += u64::from(measured);
            return;
        }
        rp.view.complete(&mut ctx.sim, |j| Ev::ViewDone(epoch, j));
        let now = ctx.now();
        if let Some(c) = rp.cache.as_mut()
            && !c.down
        {
            c.invalid_at.remove(job.key);
            if let Some(evicted) = c.lru.put(job.key, now) {
                c.invalid_at.remove(evicted);
            }
        }
        match rp.down.transit(now) {
            Some(back) => ctx.schedule_at(back, Ev::ReadDone(job.key, job.issued)),
            None => rp.failed += u64::from(measured),
        }
    }

    pub(super) fn prewarm(c: &mut ViewCache, keys: u32) {
        // The most popular keys (key 0 is the hottest), the hottest last so it is the most recent.
        let n = c.capacity_hint.min(keys);
        for k in (0..n).rev() {
            c.lru.put(k, 0);
        }
    }
}
