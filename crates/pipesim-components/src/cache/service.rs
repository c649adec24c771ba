//! The running cache service: its consumer and request threads, its entries and crashes.

use super::{Apply, CacheEvent, CacheOutcome, CacheSpec, CacheStats, Entry, Lookup};
use crate::cdc::Change;
use crate::int_map::IntMap;
use crate::lru::Lru;
use crate::server::FifoServer;
use pipesim_engine::{Sim, SimTime, StreamRng, Window};

/// A running cache service with read requests of type `R` and changes carrying jobs of type `J`.
pub struct Cache<J, R> {
    spec: CacheSpec,
    rng: StreamRng,
    lru: Lru,
    entries: IntMap<Entry>,
    consumers: Vec<FifoServer<(u32, Change<J>)>>,
    threads: FifoServer<R>,
    events: u64,
    epoch: u32,
    down: bool,
    stats: CacheStats,
    window: Window,
}

impl<J: Copy, R: Copy> Cache<J, R> {
    /// An empty (cold) cache with its own random stream.
    pub fn new(spec: &CacheSpec, rng: StreamRng) -> Self {
        let p = &spec.params;
        Self {
            spec: spec.clone(),
            rng,
            lru: Lru::new(p.entities as usize),
            entries: IntMap::with_capacity((p.entities as usize).min(4_096)),
            consumers: (0..p.consumers).map(|_| FifoServer::new(1, None)).collect(),
            threads: FifoServer::new(p.threads, None),
            events: 0,
            epoch: 0,
            down: false,
            stats: CacheStats::default(),
            window: Window::ALWAYS,
        }
    }

    /// Counts statistics only within `[from, to)`: the run's measured interval. Sizes (the
    /// largest ring, the most events held) and restarts cover the whole run.
    pub fn set_window(&mut self, window: Window) {
        self.window = window;
    }

    #[inline]
    fn counting(&self, now: SimTime) -> u64 {
        self.window.count(now)
    }

    /// A change of partition `partition` reached the service: it queues on its consumer
    /// thread. Returns `false` (and keeps nothing) while the service is down.
    #[inline]
    pub fn consume<E>(
        &mut self,
        sim: &mut Sim<E>,
        partition: u32,
        change: Change<J>,
        wrap: impl Fn(CacheEvent<J, R>) -> E,
    ) -> bool {
        if self.down {
            return false;
        }
        let t = self.spec.apply.sample(&mut self.rng);
        self.stats.apply_busy_ns += u128::from(t) * u128::from(self.counting(sim.now()));
        let thread = (partition % self.spec.params.consumers) as usize;
        let epoch = self.epoch;
        self.consumers[thread]
            .offer(sim, (partition, change), t, |(p, c)| wrap(CacheEvent::Applied(epoch, p, c)));
        true
    }

    /// A read request for `entities` entities reached the service. Returns `false` while the
    /// service is down (the client gets an error at once).
    #[inline]
    pub fn request<E>(
        &mut self,
        sim: &mut Sim<E>,
        job: R,
        entities: u32,
        wrap: impl Fn(CacheEvent<J, R>) -> E,
    ) -> bool {
        if self.down {
            return false;
        }
        let t =
            self.spec.read_request.sample(&mut self.rng).saturating_add(
                u64::from(entities).saturating_mul(self.spec.params.read_entity.ns),
            );
        let epoch = self.epoch;
        self.threads.offer(sim, job, t, |r| wrap(CacheEvent::Served(epoch, r)));
        true
    }

    /// Handles one of the cache's events; what happened goes to `out`.
    pub fn handle<E>(
        &mut self,
        sim: &mut Sim<E>,
        event: CacheEvent<J, R>,
        wrap: impl Fn(CacheEvent<J, R>) -> E + Copy,
        out: &mut Vec<CacheOutcome<J, R>>,
    ) {
        match event {
            CacheEvent::Applied(epoch, partition, change) => {
                if epoch != self.epoch {
                    return; // lost in a crash; the stream delivers it again
                }
                let thread = (partition % self.spec.params.consumers) as usize;
                self.consumers[thread]
                    .complete(sim, |(p, c)| wrap(CacheEvent::Applied(epoch, p, c)));
                let apply = self.apply(change, self.counting(sim.now()));
                let visible_in = self.spec.update_lag.sample(&mut self.rng);
                out.push(CacheOutcome::Applied { partition, change, apply, visible_in });
            }
            CacheEvent::Served(epoch, job) => {
                if epoch != self.epoch {
                    out.push(CacheOutcome::Failed(job));
                    return;
                }
                self.threads.complete(sim, |r| wrap(CacheEvent::Served(epoch, r)));
                out.push(CacheOutcome::Served(job));
            }
            CacheEvent::Ready(epoch) => {
                if epoch == self.epoch {
                    self.down = false;
                    out.push(CacheOutcome::Ready);
                }
            }
        }
    }

    /// Applies `change`; `count` is 1 inside the statistics window, 0 outside.
    fn apply(&mut self, change: Change<J>, count: u64) -> Apply {
        let Some(mut e) = self.entries.get(change.key) else {
            self.stats.not_held += count;
            return Apply::NotHeld;
        };
        let repeat = change.lsn <= e.lsn;
        if repeat && self.spec.params.dedup {
            self.stats.deduplicated += count;
            return Apply::Deduplicated;
        }
        if e.len < self.spec.params.ring {
            e.len += 1;
            self.events += 1;
            self.stats.max_events = self.stats.max_events.max(self.events);
        } else {
            self.stats.overwritten += count;
        }
        e.lsn = e.lsn.max(change.lsn);
        self.stats.max_ring = self.stats.max_ring.max(e.len);
        self.stats.appended += count;
        self.stats.repeats += count * u64::from(repeat);
        self.entries.insert(change.key, e);
        Apply::Appended { repeat }
    }

    /// Looks up the entities of a request that was just served: hits become the most recently
    /// used; misses are counted with the rows the store must return to load them (their last
    /// `ring` events, `committed(key)` being how many the entity has in the store; at least one
    /// row, the query's own cost). `keys` must not repeat a key; `now` is the time.
    pub fn lookup(&mut self, now: SimTime, keys: &[u32], committed: impl Fn(u32) -> u32) -> Lookup {
        let mut l = Lookup::default();
        for &key in keys {
            if self.lru.get(key).is_some() {
                l.hits += 1;
            } else {
                l.misses += 1;
                l.rows += u64::from(committed(key).min(self.spec.params.ring));
            }
        }
        l.rows = l.rows.max(u64::from(l.misses > 0));
        let count = self.counting(now);
        self.stats.hits += count * u64::from(l.hits);
        self.stats.misses += count * u64::from(l.misses);
        l
    }

    /// The store returned the entities of `keys` that were missing, as of log position
    /// `snapshot_lsn`: each one not held is inserted with its last `ring` events (evicting the
    /// least recently read entities to make room). `now` is the time.
    pub fn fill(
        &mut self,
        now: SimTime,
        keys: &[u32],
        snapshot_lsn: u64,
        committed: impl Fn(u32) -> u32,
    ) {
        let count = self.counting(now);
        for &key in keys {
            if self.entries.get(key).is_some() {
                continue;
            }
            let len = committed(key).min(self.spec.params.ring);
            self.entries.insert(key, Entry { len, lsn: snapshot_lsn });
            self.events += u64::from(len);
            self.stats.loads += count;
            self.stats.load_rows += count * u64::from(len);
            self.stats.max_ring = self.stats.max_ring.max(len);
            if let Some(victim) = self.lru.put(key, 0) {
                self.stats.evictions += count;
                if let Some(e) = self.entries.remove(victim) {
                    self.events -= u64::from(e.len);
                }
            }
            self.stats.max_events = self.stats.max_events.max(self.events);
        }
    }

    /// The service crashes now and is back after `restart_ns` (plus the log replay with a
    /// write-ahead log). Reads in progress go to `out` as failed; changes being applied are
    /// lost (the stream delivers them again).
    pub fn crash<E>(
        &mut self,
        sim: &mut Sim<E>,
        restart_ns: SimTime,
        wrap: impl Fn(CacheEvent<J, R>) -> E,
        out: &mut Vec<CacheOutcome<J, R>>,
    ) {
        let now = sim.now();
        let mut waiting = Vec::new();
        self.threads.reset(now, &mut waiting);
        out.extend(waiting.into_iter().map(CacheOutcome::Failed));
        let mut changes = Vec::new();
        for c in &mut self.consumers {
            c.reset(now, &mut changes);
        }
        if !self.spec.params.wal {
            self.lru.clear();
            self.entries = IntMap::with_capacity((self.spec.params.entities as usize).min(4_096));
            self.events = 0;
        }
        self.epoch = self.epoch.wrapping_add(1);
        self.down = true;
        self.stats.restarts += 1;
        let replay = if self.spec.params.wal { self.spec.params.replay.ns } else { 0 };
        sim.schedule_in(restart_ns.saturating_add(replay), wrap(CacheEvent::Ready(self.epoch)));
    }

    /// Whether the service is down (crashed, or replaying its log).
    pub fn is_down(&self) -> bool {
        self.down
    }

    /// Entities held now.
    pub fn entities_held(&self) -> usize {
        self.entries.len()
    }

    /// Events held in all rings now.
    pub fn events_held(&self) -> u64 {
        self.events
    }

    /// Counters so far.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }
}
