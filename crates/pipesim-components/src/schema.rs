//! How an event pipeline handles schema changes (seed 004), and the catalogue of event types
//! that a flood of schema changes grows.
//!
//! **Modes** ([`SchemaMode`]), the four designs seed 004 went through:
//! - `auto_register`: the producer registers every new schema with the log, whose RocksDB-like
//!   store compacts on each change; the compaction runs on the thread that flushes memtables
//!   (see [`crate::lsm`]), so appends stall behind full memtables while it runs.
//! - `infer`: the producer sends raw bytes; the consumer infers each event's schema (a CPU cost
//!   per event) and crashes on a type it has no descriptor for yet.
//! - `frozen`: one pinned schema; a change costs nothing, but events of a type introduced after
//!   the freeze cannot be written and the producer rejects them.
//! - `schema_less`: payload bytes only; the projection builds the view. A change costs nothing.
//!
//! **Types** ([`Catalogue`]). Each schema change introduces a new event type that takes a share
//! `new_type_share` of the traffic created after it (a new treasure type players go for): after
//! `n` changes a fraction `1 - (1 - share)^n` of new events is of a type introduced by one of
//! them. An event's type is fixed by its identity and creation time (a hash of its id against
//! the cumulative shares), so every design of a scenario sees the same events as new.

use pipesim_config::{ConfigError, Duration, ParamDoc};
use pipesim_engine::{NS_PER_MS, SimTime};
use serde::{Deserialize, Serialize};

/// How schema changes are handled (`schema = "..."`).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SchemaMode {
    /// Payload bytes only; the projection builds the view (seed 004's final design).
    #[default]
    SchemaLess,
    /// Every change is registered and compacts the log's store (seed 004's first design).
    AutoRegister,
    /// Raw bytes; the consumer infers schemas and crashes on an unknown type.
    Infer,
    /// One pinned schema; events of later types are rejected.
    Frozen,
}

impl SchemaMode {
    /// Whether this is the default (nothing to echo, nothing to do).
    pub fn is_schema_less(&self) -> bool {
        *self == SchemaMode::SchemaLess
    }
}

/// What a schema change costs (`[model.schemas]`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SchemaParams {
    /// `auto_register`: work of the compaction one change queues on each broker's store thread.
    pub compaction: Duration,
    /// `infer`: CPU time to infer one event's schema, added to the consumer's per-event time.
    pub inference: Duration,
    /// `infer`: time the consumer takes to restart after a decode error.
    pub restart: Duration,
    /// `infer`: time from a change until its type's descriptor reaches the consumer.
    pub learn_lag: Duration,
    /// Share of the traffic after a change that is of the type it introduces.
    pub new_type_share: f64,
}

impl Default for SchemaParams {
    fn default() -> Self {
        Self {
            compaction: Duration { ns: 400 * NS_PER_MS },
            inference: Duration { ns: 6_000 },
            restart: Duration { ns: 400 * NS_PER_MS },
            learn_lag: Duration { ns: 1_000 * NS_PER_MS },
            new_type_share: 0.05,
        }
    }
}

impl SchemaParams {
    /// Checks the parameters (error paths relative to the `schemas` table).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = self.new_type_share;
        if !(s.is_finite() && (0.0..1.0).contains(&s)) {
            return Err(ConfigError::new(
                "new_type_share",
                format!("must be at least 0 and below 1, found {s}"),
            ));
        }
        Ok(())
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("compaction", "duration", "\"400ms\"", "auto_register: the compaction each schema change queues on every target broker's flush thread (seed 004: blocked the flush thread for up to 400 ms)"),
            ParamDoc::new("inference", "duration", "\"6us\"", "infer: CPU time per event to infer its schema, added to the projection's per-row time (seed 004: 6 us per event)"),
            ParamDoc::new("restart", "duration", "\"400ms\"", "infer: a decode error crashes the consumer; it is back this long after and resumes at the log's end, so the updates created meanwhile are never applied (seed 004: losing 400 ms of update history)"),
            ParamDoc::new("learn_lag", "duration", "\"1s\"", "infer: time from a change until the consumer has the new type's descriptor (a restart loads the catalogue at once); an event of the type handled before that is a decode error (assumed)"),
            ParamDoc::new("new_type_share", "number in [0, 1)", "0.05", "share of the traffic after a change that is of the type it introduces; with the catalogue frozen, n changes reject 1 - (1 - share)^n of the events (calibrated: three changes reject 14 %, seed 004's 950k -> 820k)"),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// The schema changes of a run and the event types they introduce.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    /// Change times, in order.
    changes: Vec<SimTime>,
    /// `below[k]`: events whose hash is below it are of a type introduced by changes 1..=k
    /// (`below[0] = 0`).
    below: Vec<u64>,
    salt: u64,
}

impl Catalogue {
    /// The catalogue for `changes` (any order) with `share` of traffic per new type.
    pub fn new(mut changes: Vec<SimTime>, share: f64, salt: u64) -> Self {
        changes.sort_unstable();
        let mut below = Vec::with_capacity(changes.len() + 1);
        let mut old = 1.0f64;
        below.push(0);
        for _ in &changes {
            old *= 1.0 - share;
            below.push(((1.0 - old) * 18_446_744_073_709_551_616.0).min(u64::MAX as f64) as u64);
        }
        Self { changes, below, salt }
    }

    /// Change times, in order.
    pub fn changes(&self) -> &[SimTime] {
        &self.changes
    }

    /// Changes at or before `t`.
    #[inline]
    pub fn count_at(&self, t: SimTime) -> u32 {
        self.changes.partition_point(|&c| c <= t) as u32
    }

    /// Events whose [`Catalogue::hash`] is below this are of a type introduced by one of the
    /// first `n` changes.
    #[inline]
    pub fn new_below(&self, n: u32) -> u64 {
        self.below[n as usize]
    }

    /// The event's position in the type bands (a mix of its id).
    #[inline]
    pub fn hash(&self, id: u64) -> u64 {
        let mut z = id ^ self.salt;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The type of an event created at `created`: 0 for the types that predate every change,
    /// `k` for the type change `k` (1-based) introduced.
    #[inline]
    pub fn type_of(&self, id: u64, created: SimTime) -> u32 {
        let n = self.count_at(created);
        if n == 0 {
            return 0;
        }
        let h = self.hash(id);
        if h >= self.below[n as usize] {
            return 0;
        }
        self.below[..=n as usize].partition_point(|&b| b <= h) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_change_takes_its_share_of_later_traffic() {
        let c = Catalogue::new(vec![30, 10, 20], 0.05, 7);
        assert_eq!(c.changes(), &[10, 20, 30]);
        let n = 200_000u64;
        let mut per_type = [0u64; 4];
        for id in 0..n {
            per_type[c.type_of(id, 35) as usize] += 1;
        }
        let f = |k: usize| per_type[k] as f64 / n as f64;
        assert!((f(1) - 0.05).abs() < 0.003, "{per_type:?}");
        assert!((f(2) - 0.0475).abs() < 0.003, "{per_type:?}");
        assert!((f(3) - 0.045125).abs() < 0.003, "{per_type:?}");
        // 1 - 0.95^3 = 14.3 % of events are of a new type after three changes.
        assert!(((n - per_type[0]) as f64 / n as f64 - 0.142625).abs() < 0.003);
        // Before the first change every event is of an old type.
        assert!((0..1000).all(|id| c.type_of(id, 5) == 0));
        // After one change only type 1 exists.
        assert!((0..10_000).all(|id| c.type_of(id, 15) <= 1));
    }
}
