//! A cache service holding, per entity, a ring buffer of its last events, fed by a change
//! stream and read by clients (seed 001's EventCache).
//!
//! **Entries.** The service holds at most `entities` entities, least recently *read* evicted
//! first (an [`Lru`]). Each entity is a ring buffer of its last `ring` events: appending to a
//! full ring overwrites the oldest, so memory per entity is bounded whatever the entity's rate.
//! An entry records how many events its ring holds and the highest log position it reflects;
//! payloads are not stored.
//!
//! **Updates.** Changes arrive from a partitioned stream; partition `p` is applied by consumer
//! thread `p mod consumers`, one change at a time, `apply` each, so an entity's changes are
//! applied in order. A change to an entity the cache holds is appended to its ring; a change to
//! an entity it does not hold is skipped (the store has it, and the next read of that entity
//! loads it). With `dedup`, a change whose log position the entry already reflects is skipped
//! too; without it, a change delivered twice (a replay after a restart, or one that raced with
//! the load of its entity) is appended twice. An applied change becomes visible to readers
//! `update_lag` later.
//!
//! **Reads.** A request for some entities waits for one of `threads` request threads, takes
//! `read_request` plus `read_entity` per entity, and finds each entity present (a hit) or not
//! (a miss). The caller loads the missing entities from the store (their last `ring` events) and
//! hands them to [`Cache::fill`], which inserts them with the store's snapshot position.
//!
//! **Crashes.** Everything in memory is lost. Without a write-ahead log the service restarts
//! empty at once (cold: every read misses until the entities are loaded again, a stampede on
//! the store); with one (`wal`, RocksDB-style) it first replays the log for `replay` and comes
//! back with every entry it had (warm). Either way its stream consumer resumes from its last
//! committed position (`commit_interval`), so changes applied since are delivered again.

use crate::cdc::Change;
use crate::int_map::IntMap;
use crate::lru::Lru;
use crate::server::FifoServer;
use pipesim_config::{ConfigError, DistSpec, Duration, Loader, ParamDoc};
use pipesim_engine::{Dist, NS_PER_S, NS_PER_US, Sim, SimTime, StreamRng, Window};
use serde::{Deserialize, Serialize};

/// The cache service as a scenario writes it (`[model.cache]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheParams {
    /// Events kept per entity (the ring buffer's size).
    pub ring: u32,
    /// Entities held at most; the least recently read is evicted.
    pub entities: u32,
    /// Threads applying the change stream; partition p goes to thread p mod consumers.
    pub consumers: u32,
    /// Time to apply one change (map update, ring append, WAL write).
    pub apply: DistSpec,
    /// Threads serving read requests.
    pub threads: u32,
    /// Time to handle one read request, besides its entities.
    pub read_request: DistSpec,
    /// Time per entity of a read request (lookup, copy and encode its events).
    pub read_entity: Duration,
    /// Delay between applying a change and readers seeing it.
    pub update_lag: DistSpec,
    /// Whether a write-ahead log lets a restart come back warm.
    pub wal: bool,
    /// Time to replay the write-ahead log at a restart.
    pub replay: Duration,
    /// Whether a change the entry already reflects (by log position) is skipped.
    pub dedup: bool,
    /// How often the stream consumer commits its position.
    pub commit_interval: Duration,
}

impl Default for CacheParams {
    fn default() -> Self {
        Self {
            ring: 1_000,
            entities: 10_000,
            consumers: 8,
            apply: DistSpec::Const { value: Duration { ns: 20 * NS_PER_US } },
            threads: 16,
            read_request: crate::link::lognormal_us(200, 1_000),
            read_entity: Duration { ns: 10 * NS_PER_US },
            update_lag: DistSpec::Const { value: Duration { ns: 0 } },
            wal: true,
            replay: Duration { ns: 5 * NS_PER_S },
            dedup: false,
            commit_interval: Duration { ns: 5 * NS_PER_S },
        }
    }
}

/// Validated cache parameters.
#[derive(Clone, Debug)]
pub struct CacheSpec {
    params: CacheParams,
    apply: Dist,
    read_request: Dist,
    update_lag: Dist,
}

impl CacheSpec {
    /// The parameters as written.
    pub fn params(&self) -> &CacheParams {
        &self.params
    }

    /// Mean time to apply one change, ns.
    pub fn mean_apply_ns(&self) -> f64 {
        self.apply.mean_ns()
    }
}

impl CacheParams {
    /// Checks the parameters; error paths are relative to the cache's table.
    pub fn validate(&self, loader: &dyn Loader) -> Result<CacheSpec, ConfigError> {
        let dist = |d: &DistSpec, f: &str| d.resolve(loader).map_err(|m| ConfigError::new(f, m));
        let at_least_one = |v: u32, f: &str, what: &str| {
            if v == 0 {
                Err(ConfigError::new(f, format!("must be at least 1: {what}")))
            } else {
                Ok(())
            }
        };
        at_least_one(self.ring, "ring", "a ring buffer of zero events holds nothing to read")?;
        at_least_one(self.entities, "entities", "a cache of zero entities holds nothing")?;
        at_least_one(self.consumers, "consumers", "someone must apply the change stream")?;
        at_least_one(self.threads, "threads", "someone must serve the reads")?;
        use pipesim_config::limits::{ENTRIES, PER_ENTITY, WORKERS, at_most};
        at_most("ring", u64::from(self.ring), &PER_ENTITY)?;
        at_most("entities", u64::from(self.entities), &ENTRIES)?;
        at_most("consumers", u64::from(self.consumers), &WORKERS)?;
        at_most("threads", u64::from(self.threads), &WORKERS)?;
        if self.commit_interval.ns == 0 {
            return Err(ConfigError::new("commit_interval", "must be greater than zero"));
        }
        Ok(CacheSpec {
            params: self.clone(),
            apply: dist(&self.apply, "apply")?,
            read_request: dist(&self.read_request, "read_request")?,
            update_lag: dist(&self.update_lag, "update_lag")?,
        })
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("ring", "integer >= 1", "1000", "events kept per entity, the oldest overwritten (seed 001: the last 1,000 events)"),
            ParamDoc::new(
                "entities",
                "integer >= 1",
                "10000",
                "entities held, least recently read evicted (10,000 full rings of 4 KB events is about 40 GB of RAM)",
            ),
            ParamDoc::new("consumers", "integer >= 1", "8", "threads applying the change stream; partition p goes to thread p mod consumers"),
            ParamDoc::new(
                "apply",
                "distribution",
                "\"20us\"",
                "time to apply one change: map update, ring append, WAL write without fsync (RocksDB writes take µs to tens of µs)",
            ),
            ParamDoc::new("threads", "integer >= 1", "16", "threads serving reads (a Go service runs GOMAXPROCS = cores, 16 here)"),
            ParamDoc::new(
                "read_request",
                "distribution",
                "{ dist = \"lognormal\", p50 = \"200us\", p99 = \"1ms\" }",
                "time to handle one read request besides its entities (gRPC decode, dispatch, encode)",
            ),
            ParamDoc::new("read_entity", "duration", "\"10us\"", "time per entity asked for: lookup, copy and encode of its events"),
            ParamDoc::new(
                "update_lag",
                "distribution",
                "\"0s\"",
                "delay between applying a change and readers seeing it (batched publication, invalidation propagation)",
            ),
            ParamDoc::new("wal", "boolean", "true", "a RocksDB-style write-ahead log lets a restart come back warm (seed 001)"),
            ParamDoc::new("replay", "duration", "\"5s\"", "time to replay the write-ahead log at a restart (seed 001: restarts under 5 s)"),
            ParamDoc::new(
                "dedup",
                "boolean",
                "false",
                "skip a change whose log position the entry already reflects; without it, replayed or raced changes are appended twice",
            ),
            ParamDoc::new(
                "commit_interval",
                "duration",
                "\"5s\"",
                "how often the stream consumer commits its position (Kafka auto.commit.interval.ms 5000); a restart replays since",
            ),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// What the cache holds for one entity.
#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    /// Events in the ring (at most `ring`).
    len: u32,
    /// Highest log position the ring reflects (by a change applied or by the load's snapshot).
    lsn: u64,
}

/// The cache's own events. Each carries the service's epoch: events scheduled before a crash
/// are recognised as stale.
#[derive(Clone, Copy, Debug)]
pub enum CacheEvent<J, R> {
    /// A consumer thread finished applying a change of a partition: (epoch, partition, change).
    Applied(u32, u32, Change<J>),
    /// A request thread finished a read: (epoch, request).
    Served(u32, R),
    /// The service is back (after the restart and any log replay).
    Ready(u32),
}

/// What applying a change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Apply {
    /// Appended to its entity's ring; `repeat` when the entry already reflected its position
    /// (so the ring now holds it twice).
    Appended {
        /// The change was already in the ring.
        repeat: bool,
    },
    /// Skipped: the entry already reflects it (with `dedup`).
    Deduplicated,
    /// Skipped: the cache does not hold the entity.
    NotHeld,
}

/// What the cache reports to the model.
#[derive(Clone, Copy, Debug)]
pub enum CacheOutcome<J, R> {
    /// A change was applied (or skipped); readers see it `visible_in` ns from now.
    Applied {
        /// Its partition, so the caller can tell the stream it is done.
        partition: u32,
        /// The change.
        change: Change<J>,
        /// What happened to it.
        apply: Apply,
        /// The update lag before readers see it.
        visible_in: SimTime,
    },
    /// A read request was handled: the caller looks its entities up.
    Served(R),
    /// A read request was lost in a crash.
    Failed(R),
    /// The service serves again after a crash.
    Ready,
}

/// Hits and misses of one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lookup {
    /// Entities found.
    pub hits: u32,
    /// Entities missing.
    pub misses: u32,
    /// Rows the store must return to load the missing ones (their last `ring` events each).
    pub rows: u64,
}

/// Counters for the report, over the window set by [`Cache::set_window`] (by default the
/// whole run); the sizes (`max_ring`, `max_events`) and `restarts` cover the whole run.
#[derive(Clone, Copy, Debug, Default)]
pub struct CacheStats {
    /// Entities found by reads.
    pub hits: u64,
    /// Entities missed by reads.
    pub misses: u64,
    /// Entities loaded from the store.
    pub loads: u64,
    /// Rows loaded from the store.
    pub load_rows: u64,
    /// Changes appended to a ring.
    pub appended: u64,
    /// Of those, changes the ring already held (duplicates in the ring).
    pub repeats: u64,
    /// Changes skipped as already reflected.
    pub deduplicated: u64,
    /// Changes skipped because the entity was not held.
    pub not_held: u64,
    /// Events pushed out of a full ring.
    pub overwritten: u64,
    /// Entities evicted.
    pub evictions: u64,
    /// Most events one ring held.
    pub max_ring: u32,
    /// Most events held in all rings at once.
    pub max_events: u64,
    /// Crashes.
    pub restarts: u64,
    /// Apply busy time, thread·ns.
    pub apply_busy_ns: u128,
}

impl CacheStats {
    /// Hits over lookups.
    pub fn hit_ratio(&self) -> f64 {
        let n = self.hits + self.misses;
        if n == 0 { 0.0 } else { self.hits as f64 / n as f64 }
    }
}

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

#[cfg(test)]
// Unit tests drive the component as the run loop would: they pop events and advance time.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;
    use pipesim_engine::RngStreams;

    type Ev = CacheEvent<u32, u32>;

    struct NoFiles;
    impl Loader for NoFiles {
        fn read_text(&self, _: &str) -> Result<String, String> {
            Err("no files".into())
        }
    }

    fn cache(ring: u32, entities: u32, dedup: bool, wal: bool) -> Cache<u32, u32> {
        let p = CacheParams { ring, entities, dedup, wal, ..Default::default() };
        Cache::new(&p.validate(&NoFiles).unwrap(), RngStreams::new(1).stream("cache"))
    }

    /// Applies `change` and returns what happened.
    fn apply(sim: &mut Sim<Ev>, c: &mut Cache<u32, u32>, key: u32, lsn: u64) -> Apply {
        assert!(c.consume(sim, 0, Change { job: 0, key, lsn, committed_ns: 0 }, |e| e));
        let mut out = Vec::new();
        while let Some((t, e)) = sim.queue().pop() {
            sim.set_now(t);
            c.handle(sim, e, |e| e, &mut out);
        }
        match out.pop() {
            Some(CacheOutcome::Applied { apply, .. }) => apply,
            _ => panic!("no apply outcome"),
        }
    }

    #[test]
    fn rings_are_bounded_and_only_held_entities_are_updated() {
        let mut sim: Sim<Ev> = Sim::new();
        let mut c = cache(3, 10, false, true);
        assert_eq!(apply(&mut sim, &mut c, 7, 1), Apply::NotHeld);
        assert_eq!(c.lookup(0, &[7], |_| 1), Lookup { hits: 0, misses: 1, rows: 1 });
        c.fill(0, &[7], 1, |_| 1);
        for lsn in 2..=10 {
            assert_eq!(apply(&mut sim, &mut c, 7, lsn), Apply::Appended { repeat: false });
        }
        assert_eq!(c.events_held(), 3, "a ring of 3 holds 3 events however many arrive");
        assert_eq!(c.stats().overwritten, 9 - 2, "two of the nine fill the ring to 3");
        assert_eq!(c.lookup(0, &[7], |_| 10).hits, 1);
    }

    #[test]
    fn a_change_the_entry_already_reflects_is_appended_twice_unless_deduplicated() {
        for dedup in [false, true] {
            let mut sim: Sim<Ev> = Sim::new();
            let mut c = cache(100, 10, dedup, true);
            c.fill(0, &[1], 5, |_| 5); // loaded from the store as of position 5
            let raced = apply(&mut sim, &mut c, 1, 4); // a change the load already included
            let fresh = apply(&mut sim, &mut c, 1, 6);
            if dedup {
                assert_eq!(raced, Apply::Deduplicated);
                assert_eq!(c.events_held(), 6);
            } else {
                assert_eq!(raced, Apply::Appended { repeat: true });
                assert_eq!(c.events_held(), 7);
            }
            assert_eq!(fresh, Apply::Appended { repeat: false });
        }
    }

    #[test]
    fn the_least_recently_read_entity_is_evicted_with_its_ring() {
        let mut c = cache(10, 2, false, true);
        c.fill(0, &[1, 2], 0, |k| k * 4); // rings of 4 and 8 events
        assert_eq!(c.events_held(), 12);
        c.lookup(0, &[1], |_| 0); // 1 is now more recent than 2
        c.fill(0, &[3], 0, |_| 1);
        assert_eq!(c.entities_held(), 2);
        assert_eq!(c.events_held(), 5, "entity 2's ring went with it");
        assert_eq!(c.lookup(0, &[2], |_| 8), Lookup { hits: 0, misses: 1, rows: 8 });
    }

    #[test]
    fn a_crash_keeps_entries_only_with_a_wal() {
        for wal in [false, true] {
            let mut sim: Sim<Ev> = Sim::new();
            let mut c = cache(10, 10, false, wal);
            c.fill(0, &[1, 2, 3], 0, |_| 2);
            let mut out = Vec::new();
            c.crash(&mut sim, NS_PER_S, |e| e, &mut out);
            assert!(c.is_down());
            assert!(!c.request(&mut sim, 0, 1, |e| e), "no reads while down");
            let (t, e) = sim.queue().pop().unwrap();
            sim.set_now(t);
            c.handle(&mut sim, e, |e| e, &mut out);
            assert!(!c.is_down());
            let replay = if wal { 5 * NS_PER_S } else { 0 };
            assert_eq!(t, NS_PER_S + replay);
            assert_eq!(c.lookup(0, &[1, 2, 3], |_| 2).hits, if wal { 3 } else { 0 });
        }
    }
}
