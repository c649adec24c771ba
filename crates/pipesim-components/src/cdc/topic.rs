//! The topic the connector publishes to ([`Topic`]): partitions by entity, each a FIFO with a
//! delivery delay, read by one consumer group that commits its position periodically.

use super::Change;
use crate::link::lognormal_us;
use pipesim_config::{ConfigError, DistSpec, Loader, ParamDoc};
use pipesim_engine::{Dist, Sim, SimTime, StreamRng, Window};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

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
    window: Window,
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
            window: Window::ALWAYS,
        }
    }

    /// Counts statistics only within `[from, to)`: the run's measured interval (rewinds cover
    /// the whole run).
    pub fn set_window(&mut self, window: Window) {
        self.window = window;
    }

    #[inline]
    fn counting(&self, now: SimTime) -> u64 {
        self.window.count(now)
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
