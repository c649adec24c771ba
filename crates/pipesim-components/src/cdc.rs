//! Change data capture from Postgres logical decoding (Debezium-like), and the topic it
//! publishes to.
//!
//! **[`Cdc`]**: every commit the store makes is captured, in commit order, with a log position
//! (an LSN). One decoder (Postgres's walsender running the output plugin, then the connector's
//! conversion to records: a single thread per replication slot) handles the changes one at a
//! time, `decode` each, and publishes them in that order. With a `poll_interval`, a decoder that
//! finds no change waiting sleeps that long before looking again, so changes arriving at an idle
//! connector wait for the next wake-up (a poll loop's latency).
//!
//! The connector remembers how far it got only when its offsets are flushed (`offset_flush`,
//! Kafka Connect's `offset.flush.interval.ms`); the replication slot keeps every change from
//! that position on. A crash (of the connector, or of the database, which breaks the replication
//! connection) makes it resume from the last flushed position when it is back: every change it
//! had published since is published again. Downstream sees duplicates unless it deduplicates by
//! log position.
//!
//! **[`Topic`]**: the changes go to a topic of `partitions` partitions, a change to the partition
//! of its entity, each partition a FIFO with a `delivery` delay (publish, then the consumer's
//! fetch). One consumer group reads it and commits its position periodically; a consumer crash
//! rewinds to the last committed position, so what was consumed since is delivered again.
//!
//! Replication, `acks`, leader changes and compaction are not modelled here: the `event_sourced`
//! kind's Kafka log models them. For a change feed whose topic stays healthy, a per-partition
//! FIFO with a delivery delay is what the reader of the feed sees.

use crate::link::lognormal_us;
use pipesim_config::{ConfigError, DistSpec, Duration, Loader, ParamDoc};
use pipesim_engine::{Dist, NS_PER_MS, NS_PER_S, NS_PER_US, Sim, SimTime, StreamRng};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// One committed change as it travels from the store to its consumers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change<J> {
    /// The caller's job (the event).
    pub job: J,
    /// The entity it changes: decides the partition and the cache entry.
    pub key: u32,
    /// Its log position: 1, 2, 3, … in commit order.
    pub lsn: u64,
    /// When it committed.
    pub committed_ns: SimTime,
}

/// The connector as a scenario writes it (`[model.cdc]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CdcParams {
    /// Time the one decoder spends on each change (decode, convert, hand to the producer).
    pub decode: DistSpec,
    /// How long the decoder sleeps when it finds no change waiting (0: it wakes as soon as one
    /// is committed).
    pub poll_interval: Duration,
    /// How often the connector records the position it has published up to; a restart resumes
    /// from the last recorded position.
    pub offset_flush: Duration,
}

impl Default for CdcParams {
    fn default() -> Self {
        Self {
            decode: DistSpec::Const { value: Duration { ns: 50 * NS_PER_US } },
            poll_interval: Duration { ns: 0 },
            offset_flush: Duration { ns: 60 * NS_PER_S },
        }
    }
}

/// Validated connector parameters.
#[derive(Clone, Debug)]
pub struct CdcSpec {
    params: CdcParams,
    decode: Dist,
}

impl CdcSpec {
    /// Mean decode time per change, ns: the connector tops out at 1e9 / this changes per second.
    pub fn mean_decode_ns(&self) -> f64 {
        self.decode.mean_ns()
    }

    /// The parameters as written.
    pub fn params(&self) -> &CdcParams {
        &self.params
    }
}

impl CdcParams {
    /// Checks the parameters; error paths are relative to the connector's table.
    pub fn validate(&self, loader: &dyn Loader) -> Result<CdcSpec, ConfigError> {
        let decode = self.decode.resolve(loader).map_err(|m| ConfigError::new("decode", m))?;
        if self.offset_flush.ns == 0 {
            return Err(ConfigError::new(
                "offset_flush",
                "must be greater than zero: the connector must record its position at some point",
            ));
        }
        Ok(CdcSpec { params: self.clone(), decode })
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new(
                "decode",
                "distribution",
                "\"50us\"",
                "time the single decoder spends per change, in commit order; it tops out at 1 / decode (Debezium runs tens of thousands of changes/s; seed 001 states 0.8 ms/event but also 35k/s)",
            ),
            ParamDoc::new(
                "poll_interval",
                "duration",
                "\"0s\"",
                "a decoder that finds nothing to do sleeps this long before looking again (Debezium's poll.interval.ms); 0 = wakes at once",
            ),
            ParamDoc::new(
                "offset_flush",
                "duration",
                "\"60s\"",
                "how often the published position is recorded (Kafka Connect offset.flush.interval.ms 60000); a restart re-publishes since",
            ),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// The connector's own events, to be wrapped in the model's event type. Each carries the
/// connector's epoch, so events scheduled before a crash are recognised as stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CdcEvent {
    /// The change being decoded is done.
    Decoded(u32),
    /// The decoder wakes up after sleeping `poll_interval`.
    Wake(u32),
    /// Time to record the published position.
    Flush(u32),
    /// The connector is back after a crash.
    Restart(u32),
}

/// A change the connector published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Published<J> {
    /// The change.
    pub change: Change<J>,
    /// Whether it had been published before (a replay after a restart).
    pub replay: bool,
}

/// Counters for the report, over the window set by [`Cdc::set_window`] (by default the whole
/// run).
#[derive(Clone, Copy, Debug, Default)]
pub struct CdcStats {
    /// Changes captured (committed).
    pub captured: u64,
    /// Changes published, replays included.
    pub published: u64,
    /// Of those, replays of changes published before a restart.
    pub replayed: u64,
    /// Crashes.
    pub restarts: u64,
    /// Changes the decoder started on (a crash can cut one short).
    pub decodes: u64,
    /// Decoder busy time, ns.
    pub busy_ns: u128,
    /// Sum over first publications of (publish time - commit time), ns.
    pub lag_sum_ns: u128,
    /// Longest commit-to-publish time of a first publication, ns.
    pub lag_max_ns: SimTime,
    /// Most changes waiting to be decoded at once.
    pub max_backlog: u64,
}

impl CdcStats {
    /// Mean decoder time per change, ms.
    pub fn mean_decode_ms(&self) -> f64 {
        if self.decodes == 0 {
            0.0
        } else {
            self.busy_ns as f64 / self.decodes as f64 / NS_PER_MS as f64
        }
    }

    /// Mean commit-to-publish time of first publications, ms.
    pub fn mean_lag_ms(&self) -> f64 {
        let first = self.published - self.replayed;
        if first == 0 { 0.0 } else { self.lag_sum_ns as f64 / first as f64 / NS_PER_MS as f64 }
    }
}

/// A running connector.
pub struct Cdc<J> {
    spec: CdcSpec,
    rng: StreamRng,
    /// The replication slot: every change from the last flushed position on, in commit order.
    retained: VecDeque<Change<J>>,
    /// Index in `retained` of the next change to decode; those before it are published.
    cursor: usize,
    /// Highest position ever published (to tell replays from first publications).
    high_water: u64,
    next_lsn: u64,
    busy: bool,
    sleeping: bool,
    down: bool,
    epoch: u32,
    stats: CdcStats,
    window: (SimTime, SimTime),
}

impl<J: Copy> Cdc<J> {
    /// A connector with its own random stream.
    pub fn new(spec: &CdcSpec, rng: StreamRng) -> Self {
        Self {
            spec: spec.clone(),
            rng,
            retained: VecDeque::new(),
            cursor: 0,
            high_water: 0,
            next_lsn: 1,
            busy: false,
            sleeping: false,
            down: false,
            epoch: 0,
            stats: CdcStats::default(),
            window: (0, SimTime::MAX),
        }
    }

    /// Counts statistics only within `[from, to)`: the run's measured interval (restarts and
    /// the largest backlog cover the whole run).
    pub fn set_window(&mut self, from: SimTime, to: SimTime) {
        self.window = (from, to);
    }

    #[inline]
    fn counting(&self, now: SimTime) -> bool {
        now >= self.window.0 && now < self.window.1
    }

    /// Starts the offset-flush timer.
    pub fn start<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(CdcEvent) -> E) {
        sim.schedule_in(self.spec.params.offset_flush.ns, wrap(CdcEvent::Flush(self.epoch)));
    }

    /// The store committed `job` (of entity `key`) now: the change enters the slot with the next
    /// log position, which is returned.
    #[inline]
    pub fn capture<E>(
        &mut self,
        sim: &mut Sim<E>,
        job: J,
        key: u32,
        wrap: impl Fn(CdcEvent) -> E,
    ) -> u64 {
        let lsn = self.next_lsn;
        self.next_lsn += 1;
        self.stats.captured += u64::from(self.counting(sim.now()));
        self.retained.push_back(Change { job, key, lsn, committed_ns: sim.now() });
        let backlog = (self.retained.len() - self.cursor) as u64;
        self.stats.max_backlog = self.stats.max_backlog.max(backlog);
        if !self.sleeping {
            self.next(sim, wrap);
        }
        lsn
    }

    /// The position of the last commit captured (0 before the first): a snapshot read now sees
    /// every change up to it.
    pub fn last_lsn(&self) -> u64 {
        self.next_lsn - 1
    }

    /// Starts decoding the next change if the decoder is free and awake.
    fn next<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(CdcEvent) -> E) {
        if self.busy || self.down || self.sleeping {
            return;
        }
        if self.cursor < self.retained.len() {
            self.busy = true;
            let t = self.spec.decode.sample(&mut self.rng);
            if self.counting(sim.now()) {
                self.stats.decodes += 1;
                self.stats.busy_ns += u128::from(t);
            }
            sim.schedule_in(t, wrap(CdcEvent::Decoded(self.epoch)));
        } else if self.spec.params.poll_interval.ns > 0 {
            self.sleeping = true;
            sim.schedule_in(self.spec.params.poll_interval.ns, wrap(CdcEvent::Wake(self.epoch)));
        }
    }

    /// Handles one of the connector's events; a change it publishes goes to `out`.
    pub fn handle<E>(
        &mut self,
        sim: &mut Sim<E>,
        event: CdcEvent,
        wrap: impl Fn(CdcEvent) -> E,
        out: &mut Vec<Published<J>>,
    ) {
        match event {
            CdcEvent::Decoded(epoch) if epoch == self.epoch => {
                self.busy = false;
                let change = self.retained[self.cursor];
                self.cursor += 1;
                let replay = change.lsn <= self.high_water;
                let counting = self.counting(sim.now());
                self.stats.published += u64::from(counting);
                if replay {
                    self.stats.replayed += u64::from(counting);
                } else {
                    self.high_water = change.lsn;
                    if counting {
                        let lag = sim.now() - change.committed_ns;
                        self.stats.lag_sum_ns += u128::from(lag);
                        self.stats.lag_max_ns = self.stats.lag_max_ns.max(lag);
                    }
                }
                out.push(Published { change, replay });
                self.next(sim, wrap);
            }
            CdcEvent::Wake(epoch) if epoch == self.epoch => {
                self.sleeping = false;
                self.next(sim, wrap);
            }
            CdcEvent::Flush(epoch) if epoch == self.epoch => {
                // Everything published so far is confirmed: the slot may release it.
                self.retained.drain(..self.cursor);
                self.cursor = 0;
                sim.schedule_in(self.spec.params.offset_flush.ns, wrap(CdcEvent::Flush(epoch)));
            }
            CdcEvent::Restart(epoch) if epoch == self.epoch => {
                self.down = false;
                sim.schedule_in(self.spec.params.offset_flush.ns, wrap(CdcEvent::Flush(epoch)));
                self.next(sim, wrap);
            }
            // Scheduled before a crash.
            CdcEvent::Decoded(_)
            | CdcEvent::Wake(_)
            | CdcEvent::Flush(_)
            | CdcEvent::Restart(_) => {}
        }
    }

    /// The connector crashes now and is back after `restart_ns`; it then resumes from the last
    /// flushed position, publishing again everything it had published since.
    pub fn crash<E>(
        &mut self,
        sim: &mut Sim<E>,
        restart_ns: SimTime,
        wrap: impl Fn(CdcEvent) -> E,
    ) {
        self.epoch = self.epoch.wrapping_add(1);
        self.stats.restarts += 1;
        self.down = true;
        self.busy = false;
        self.sleeping = false;
        self.cursor = 0;
        sim.schedule_in(restart_ns, wrap(CdcEvent::Restart(self.epoch)));
    }

    /// Changes captured and not yet published (first time or again).
    pub fn backlog(&self) -> usize {
        self.retained.len() - self.cursor
    }

    /// Whether the connector is down.
    pub fn is_down(&self) -> bool {
        self.down
    }

    /// Counters so far.
    pub fn stats(&self) -> CdcStats {
        self.stats
    }
}

/// The topic as a scenario writes it (`[model.topic]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopicParams {
    /// Partitions; an entity's changes all go to one, in order.
    pub partitions: u32,
    /// Time from publishing a change to its consumer receiving it (produce, then fetch).
    pub delivery: DistSpec,
}

impl Default for TopicParams {
    fn default() -> Self {
        Self { partitions: 64, delivery: lognormal_us(2_000, 5_000) }
    }
}

/// Validated topic parameters.
#[derive(Clone, Debug)]
pub struct TopicSpec {
    partitions: u32,
    delivery: Dist,
}

impl TopicSpec {
    /// Number of partitions.
    pub fn partitions(&self) -> u32 {
        self.partitions
    }
}

impl TopicParams {
    /// Checks the parameters; error paths are relative to the topic's table.
    pub fn validate(&self, loader: &dyn Loader) -> Result<TopicSpec, ConfigError> {
        if self.partitions == 0 {
            return Err(ConfigError::new(
                "partitions",
                "must be at least 1: a topic needs a partition",
            ));
        }
        pipesim_config::limits::at_most(
            "partitions",
            u64::from(self.partitions),
            &pipesim_config::limits::PARTITIONS,
        )?;
        let delivery =
            self.delivery.resolve(loader).map_err(|m| ConfigError::new("delivery", m))?;
        Ok(TopicSpec { partitions: self.partitions, delivery })
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("partitions", "integer >= 1", "64", "topic partitions; an entity's changes stay in one, in order (seed 001: 64)"),
            ParamDoc::new(
                "delivery",
                "distribution",
                "{ dist = \"lognormal\", p50 = \"2ms\", p99 = \"5ms\" }",
                "publish-to-consumer time per change, FIFO per partition (Kafka end-to-end p99 about 5 ms at moderate load, Confluent's 2020 benchmark)",
            ),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// The topic's own events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicEvent {
    /// The next change of a partition reaches its consumer: (partition, epoch).
    Deliver(u32, u32),
}

/// One partition: the changes from the consumer's last committed position on.
#[derive(Clone, Debug)]
struct Partition<J> {
    /// Changes and when each can reach the consumer.
    entries: VecDeque<(Change<J>, SimTime)>,
    /// Entries delivered to the consumer (from the front).
    delivered: usize,
    /// Entries the consumer has finished with (from the front; at most `delivered`).
    done: usize,
    /// Whether a delivery event is pending.
    scheduled: bool,
    /// When the last change published arrives (FIFO).
    last_at: SimTime,
}

/// Counters for the report, over the window set by [`Topic::set_window`] (by default the whole
/// run).
#[derive(Clone, Copy, Debug, Default)]
pub struct TopicStats {
    /// Changes published.
    pub published: u64,
    /// Deliveries to the consumer, redeliveries included.
    pub delivered: u64,
    /// Consumer rewinds (crashes).
    pub rewinds: u64,
}

/// A running topic with one consumer group.
pub struct Topic<J> {
    spec: TopicSpec,
    rng: StreamRng,
    parts: Vec<Partition<J>>,
    epoch: u32,
    paused: bool,
    stats: TopicStats,
    window: (SimTime, SimTime),
}

impl<J: Copy> Topic<J> {
    /// A topic with its own random stream.
    pub fn new(spec: &TopicSpec, rng: StreamRng) -> Self {
        let part = Partition {
            entries: VecDeque::new(),
            delivered: 0,
            done: 0,
            scheduled: false,
            last_at: 0,
        };
        Self {
            spec: spec.clone(),
            rng,
            parts: vec![part; spec.partitions as usize],
            epoch: 0,
            paused: false,
            stats: TopicStats::default(),
            window: (0, SimTime::MAX),
        }
    }

    /// Counts statistics only within `[from, to)`: the run's measured interval (rewinds cover
    /// the whole run).
    pub fn set_window(&mut self, from: SimTime, to: SimTime) {
        self.window = (from, to);
    }

    #[inline]
    fn counting(&self, now: SimTime) -> u64 {
        u64::from(now >= self.window.0 && now < self.window.1)
    }

    /// The partition of entity `key` (a fixed multiplicative hash: Kafka uses murmur2 of the key
    /// bytes; any fixed hash spreads keys the same way for this purpose).
    #[inline]
    pub fn partition_of(&self, key: u32) -> u32 {
        ((u64::from(key).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32)
            % u64::from(self.spec.partitions)) as u32
    }

    /// Publishes `change` now to its entity's partition.
    #[inline]
    pub fn publish<E>(
        &mut self,
        sim: &mut Sim<E>,
        change: Change<J>,
        wrap: impl Fn(TopicEvent) -> E,
    ) {
        let p = self.partition_of(change.key);
        self.stats.published += self.counting(sim.now());
        let delay = self.spec.delivery.sample(&mut self.rng);
        let part = &mut self.parts[p as usize];
        let at = sim.now().saturating_add(delay).max(part.last_at);
        part.last_at = at;
        part.entries.push_back((change, at));
        if !self.paused && !part.scheduled {
            part.scheduled = true;
            sim.schedule_at(at, wrap(TopicEvent::Deliver(p, self.epoch)));
        }
    }

    /// A delivery is due: returns the partition and the change the consumer receives now, or
    /// `None` for a delivery scheduled before the consumer rewound.
    #[inline]
    pub fn handle<E>(
        &mut self,
        sim: &mut Sim<E>,
        event: TopicEvent,
        wrap: impl Fn(TopicEvent) -> E,
    ) -> Option<(u32, Change<J>)> {
        let TopicEvent::Deliver(p, epoch) = event;
        if epoch != self.epoch || self.paused {
            return None;
        }
        self.stats.delivered += self.counting(sim.now());
        let part = &mut self.parts[p as usize];
        let (change, _) = part.entries[part.delivered];
        part.delivered += 1;
        match part.entries.get(part.delivered) {
            Some(&(_, at)) => {
                sim.schedule_at(at.max(sim.now()), wrap(TopicEvent::Deliver(p, epoch)))
            }
            None => part.scheduled = false,
        }
        Some((p, change))
    }

    /// The consumer finished with the oldest change it received from partition `p` (changes of
    /// a partition are finished in delivery order).
    #[inline]
    pub fn done(&mut self, p: u32) {
        let part = &mut self.parts[p as usize];
        debug_assert!(part.done < part.delivered, "done without a delivery");
        part.done += 1;
    }

    /// The consumer commits its position: every finished change is released.
    pub fn commit(&mut self) {
        for part in &mut self.parts {
            part.entries.drain(..part.done);
            part.delivered -= part.done;
            part.done = 0;
        }
    }

    /// The consumer crashed: deliveries stop, and its position goes back to the last commit.
    pub fn rewind(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
        self.paused = true;
        self.stats.rewinds += 1;
        for part in &mut self.parts {
            part.delivered = 0;
            part.done = 0;
            part.scheduled = false;
        }
    }

    /// The consumer is back: deliveries resume from its position.
    pub fn resume<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(TopicEvent) -> E) {
        self.paused = false;
        let now = sim.now();
        for (p, part) in self.parts.iter_mut().enumerate() {
            if let Some(&(_, at)) = part.entries.get(part.delivered) {
                part.scheduled = true;
                sim.schedule_at(at.max(now), wrap(TopicEvent::Deliver(p as u32, self.epoch)));
            }
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> TopicStats {
        self.stats
    }

    /// Changes published and not yet finished by the consumer, summed over partitions.
    pub fn lag(&self) -> usize {
        self.parts.iter().map(|p| p.entries.len() - p.done).sum()
    }
}

#[cfg(test)]
// Unit tests drive the component as the run loop would: they pop events and advance time.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;
    use pipesim_engine::RngStreams;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Ev {
        Cdc(CdcEvent),
        Topic(TopicEvent),
    }

    struct NoFiles;
    impl Loader for NoFiles {
        fn read_text(&self, _: &str) -> Result<String, String> {
            Err("no files".into())
        }
    }

    fn cdc(decode_us: u64, flush_ms: u64) -> Cdc<u32> {
        let p = CdcParams {
            decode: DistSpec::Const { value: Duration { ns: decode_us * NS_PER_US } },
            poll_interval: Duration { ns: 0 },
            offset_flush: Duration { ns: flush_ms * NS_PER_MS },
        };
        Cdc::new(&p.validate(&NoFiles).unwrap(), RngStreams::new(1).stream("cdc"))
    }

    /// Runs the queue to `until`, collecting what the connector publishes.
    fn run(
        sim: &mut Sim<Ev>,
        c: &mut Cdc<u32>,
        until: SimTime,
        out: &mut Vec<(SimTime, Published<u32>)>,
    ) {
        let mut buf = Vec::new();
        while sim.queue().peek_key().is_some_and(|(t, _)| t <= until) {
            let (t, ev) = sim.queue().pop().unwrap();
            sim.set_now(t);
            if let Ev::Cdc(e) = ev {
                c.handle(sim, e, Ev::Cdc, &mut buf);
                out.extend(buf.drain(..).map(|p| (t, p)));
            }
        }
        sim.set_now(until);
    }

    #[test]
    fn publishes_in_commit_order_one_at_a_time() {
        let mut sim: Sim<Ev> = Sim::new();
        let mut c = cdc(100, 60_000);
        c.start(&mut sim, Ev::Cdc);
        for j in 0..5 {
            c.capture(&mut sim, j, j, Ev::Cdc);
        }
        let mut out = Vec::new();
        run(&mut sim, &mut c, NS_PER_S, &mut out);
        let got: Vec<(SimTime, u32, u64)> =
            out.iter().map(|(t, p)| (*t / NS_PER_US, p.change.job, p.change.lsn)).collect();
        assert_eq!(got, [(100, 0, 1), (200, 1, 2), (300, 2, 3), (400, 3, 4), (500, 4, 5)]);
        assert!(out.iter().all(|(_, p)| !p.replay));
        assert_eq!(c.stats().mean_lag_ms(), 0.3);
    }

    #[test]
    fn a_crash_replays_from_the_last_flushed_position() {
        let mut sim: Sim<Ev> = Sim::new();
        let mut c = cdc(10, 100); // offsets flushed every 100 ms
        c.start(&mut sim, Ev::Cdc);
        let mut out = Vec::new();
        // Three changes before the first flush, two after it.
        for j in 0..3 {
            c.capture(&mut sim, j, 0, Ev::Cdc);
        }
        run(&mut sim, &mut c, 150 * NS_PER_MS, &mut out);
        for j in 3..5 {
            c.capture(&mut sim, j, 0, Ev::Cdc);
        }
        run(&mut sim, &mut c, 160 * NS_PER_MS, &mut out);
        assert_eq!(out.len(), 5);
        c.crash(&mut sim, 50 * NS_PER_MS, Ev::Cdc);
        c.capture(&mut sim, 5, 0, Ev::Cdc); // committed while the connector is down
        run(&mut sim, &mut c, NS_PER_S, &mut out);
        let after: Vec<(u32, bool)> =
            out[5..].iter().map(|(_, p)| (p.change.job, p.replay)).collect();
        // Only what was published after the flush at 100 ms comes again, then the new change.
        assert_eq!(after, [(3, true), (4, true), (5, false)]);
        assert!(out[5].0 >= 210 * NS_PER_MS, "nothing before the restart");
        assert_eq!(c.stats().replayed, 2);
    }

    #[test]
    fn a_sleeping_decoder_batches_changes_until_it_wakes() {
        let mut sim: Sim<Ev> = Sim::new();
        let p = CdcParams {
            decode: DistSpec::Const { value: Duration { ns: NS_PER_US } },
            poll_interval: Duration { ns: 100 * NS_PER_MS },
            offset_flush: Duration { ns: 60 * NS_PER_S },
        };
        let mut c: Cdc<u32> =
            Cdc::new(&p.validate(&NoFiles).unwrap(), RngStreams::new(1).stream("cdc"));
        let mut out = Vec::new();
        c.capture(&mut sim, 0, 0, Ev::Cdc); // decoded at once; then the decoder finds nothing and sleeps
        run(&mut sim, &mut c, 10 * NS_PER_MS, &mut out);
        c.capture(&mut sim, 1, 0, Ev::Cdc);
        run(&mut sim, &mut c, NS_PER_S, &mut out);
        assert_eq!(out[0].0, NS_PER_US);
        assert_eq!(out[1].0, NS_PER_US + 100 * NS_PER_MS + NS_PER_US, "waits for the wake-up");
    }

    #[test]
    fn topic_keeps_partition_order_and_redelivers_after_a_rewind() {
        let spec = TopicParams {
            partitions: 2,
            delivery: DistSpec::Uniform {
                min: Duration { ns: 1 },
                max: Duration { ns: 1_000_000 },
            },
        }
        .validate(&NoFiles)
        .unwrap();
        let mut t: Topic<u32> = Topic::new(&spec, RngStreams::new(3).stream("topic"));
        let mut sim: Sim<Ev> = Sim::new();
        for i in 0..100u32 {
            let key = i % 7;
            t.publish(
                &mut sim,
                Change { job: i, key, lsn: u64::from(i) + 1, committed_ns: 0 },
                Ev::Topic,
            );
        }
        let mut seen: Vec<Vec<u64>> = vec![Vec::new(); 2];
        let drain =
            |sim: &mut Sim<Ev>, t: &mut Topic<u32>, seen: &mut Vec<Vec<u64>>, stop: usize| {
                let mut n = 0;
                while n < stop {
                    let Some((time, Ev::Topic(e))) = sim.queue().pop() else { break };
                    sim.set_now(time);
                    if let Some((p, c)) = t.handle(sim, e, Ev::Topic) {
                        assert_eq!(p, t.partition_of(c.key));
                        seen[p as usize].push(c.lsn);
                        t.done(p);
                        n += 1;
                    }
                }
            };
        drain(&mut sim, &mut t, &mut seen, 40);
        t.commit();
        drain(&mut sim, &mut t, &mut seen, 20);
        t.rewind(); // the 20 consumed since the commit come again
        t.resume(&mut sim, Ev::Topic);
        drain(&mut sim, &mut t, &mut seen, usize::MAX);
        for s in &seen {
            // Within a partition, positions only go back once: at the rewind.
            let backs = s.windows(2).filter(|w| w[1] <= w[0]).count();
            assert!(backs <= 1, "{s:?}");
        }
        assert_eq!(seen.iter().filter(|s| s.windows(2).any(|w| w[1] <= w[0])).count(), 2);
        let total: usize = seen.iter().map(Vec::len).sum();
        assert_eq!(total, 120, "100 changes, 20 of them twice");
        assert_eq!(t.lag(), 0);
    }
}
