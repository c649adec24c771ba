//! Polling readers: clients that ask for a fixed set of entities every interval.

use pipesim_config::{ConfigError, Duration, ParamDoc};
use pipesim_engine::{NS_PER_MS, Sim, SimTime, StreamRng, Zipf};
use serde::{Deserialize, Serialize};

/// Which entities a reader polls.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReaderKeys {
    /// Drawn from the workload's key popularity: readers watch the active entities.
    Popular,
    /// Drawn uniformly from all keys.
    Uniform,
}

/// Readers as a scenario writes them (`[model.readers]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReaderParams {
    /// Number of polling readers (0: no read path traffic).
    pub count: u32,
    /// Each reader polls this often, on a fixed schedule (open loop: a slow answer does not
    /// delay the next poll).
    pub interval: Duration,
    /// Entities in one poll (one request).
    pub entities: u32,
    /// Rows read per entity.
    pub rows_per_entity: u32,
    /// Which entities readers watch.
    pub keys: ReaderKeys,
}

impl Default for ReaderParams {
    fn default() -> Self {
        Self {
            count: 0,
            interval: Duration { ns: 500 * NS_PER_MS },
            entities: 200,
            rows_per_entity: 1,
            keys: ReaderKeys::Popular,
        }
    }
}

impl ReaderParams {
    /// Checks the parameters; error paths are relative to the readers' table.
    pub fn validate(&self) -> Result<ReaderParams, ConfigError> {
        if self.count > 0 && self.interval.ns == 0 {
            return Err(ConfigError::new("interval", "must be greater than zero"));
        }
        if self.entities == 0 {
            return Err(ConfigError::new("entities", "must be at least 1"));
        }
        if self.rows_per_entity == 0 {
            return Err(ConfigError::new("rows_per_entity", "must be at least 1"));
        }
        use pipesim_config::limits::{ENTRIES, PER_ENTITY, READERS, at_most};
        at_most("count", u64::from(self.count), &READERS)?;
        at_most("entities", u64::from(self.entities), &ENTRIES)?;
        at_most("rows_per_entity", u64::from(self.rows_per_entity), &PER_ENTITY)?;
        Ok(self.clone())
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("count", "integer", "0", "polling readers (0: none)"),
            ParamDoc::new(
                "interval",
                "duration",
                "\"500ms\"",
                "poll period, on a fixed schedule (seed 001: every 500 ms)",
            ),
            ParamDoc::new(
                "entities",
                "integer >= 1",
                "200",
                "entities asked for in one request (seed 001: 200)",
            ),
            ParamDoc::new("rows_per_entity", "integer >= 1", "1", "rows read per entity"),
            ParamDoc::new(
                "keys",
                "\"popular\" or \"uniform\"",
                "\"popular\"",
                "which entities readers watch: by workload popularity, or uniformly",
            ),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// A poll that a reader issued: the model sends it to its read view and, when it is answered,
/// records the latency since `issued_ns` for the reader's keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Poll {
    /// Which reader.
    pub reader: u32,
    /// When it was due.
    pub issued_ns: SimTime,
}

/// The running readers.
pub struct Readers {
    params: ReaderParams,
    keys: Vec<u32>,
}

impl Readers {
    /// Readers whose entity sets are drawn now, from `key_count` keys (by `zipf` if given and
    /// the readers watch popular keys).
    pub fn new(
        params: &ReaderParams,
        key_count: u32,
        zipf: Option<&Zipf>,
        rng: &mut StreamRng,
    ) -> Self {
        let n = params.count as usize * params.entities as usize;
        let keys = (0..n)
            .map(|_| match (params.keys, zipf) {
                (ReaderKeys::Popular, Some(z)) => (z.sample(rng) - 1) as u32,
                _ => rng.below(u64::from(key_count)) as u32,
            })
            .collect();
        Self { params: params.clone(), keys }
    }

    /// Schedules each reader's first poll at a random phase within the first interval.
    pub fn start<E>(&self, sim: &mut Sim<E>, rng: &mut StreamRng, wrap: impl Fn(u32) -> E) {
        for r in 0..self.params.count {
            sim.schedule_in(rng.below(self.params.interval.ns.max(1)), wrap(r));
        }
    }

    /// Reader `reader`'s poll is due: schedules its next one and returns this one.
    #[inline]
    pub fn poll<E>(&self, sim: &mut Sim<E>, reader: u32, wrap: impl Fn(u32) -> E) -> Poll {
        sim.schedule_in(self.params.interval.ns, wrap(reader));
        Poll { reader, issued_ns: sim.now() }
    }

    /// The entities reader `reader` watches.
    pub fn keys(&self, reader: u32) -> &[u32] {
        let n = self.params.entities as usize;
        &self.keys[reader as usize * n..(reader as usize + 1) * n]
    }

    /// Rows one poll reads.
    pub fn rows_per_poll(&self) -> u32 {
        self.params.entities.saturating_mul(self.params.rows_per_entity)
    }

    /// Whether there are any readers.
    pub fn active(&self) -> bool {
        self.params.count > 0
    }
}
