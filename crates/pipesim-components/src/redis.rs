//! A Redis Cluster: single-threaded shards behind hash-slot routing.

use crate::server::{FifoServer, ServerStats};
use pipesim_config::{ConfigError, DistSpec, Duration, Loader, ParamDoc};
use pipesim_engine::{Dist, Sim, SimTime, StreamRng, Window};
use serde::{Deserialize, Serialize};

/// The cluster as a scenario writes it (`[model.redis]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisParams {
    /// Master shards; the 16,384 hash slots are split into contiguous ranges among them.
    pub shards: u32,
    /// Run time of one script call (EVALSHA), during which the shard does nothing else.
    pub script: DistSpec,
    /// Run time of one plain command (GET, SET, LPUSH).
    pub command: DistSpec,
}

impl Default for RedisParams {
    fn default() -> Self {
        Self {
            shards: 3,
            script: DistSpec::Const { value: Duration { ns: 120_000 } },
            command: DistSpec::Const { value: Duration { ns: 1_000 } },
        }
    }
}

/// Validated cluster parameters.
#[derive(Clone, Debug)]
pub struct RedisSpec {
    shards: u32,
    script: Dist,
    command: Dist,
}

impl RedisSpec {
    /// The run time of one script call.
    pub fn script(&self) -> &Dist {
        &self.script
    }

    /// Mean run time of one script, ns.
    pub fn script_mean_ns(&self) -> f64 {
        self.script.mean_ns()
    }
}

impl RedisParams {
    /// Checks the parameters; error paths are relative to the cluster's table.
    pub fn validate(&self, loader: &dyn Loader) -> Result<RedisSpec, ConfigError> {
        if self.shards == 0 {
            return Err(ConfigError::new("shards", "must be at least 1"));
        }
        if self.shards > 16_384 {
            return Err(ConfigError::new("shards", "at most 16384: there are 16384 hash slots"));
        }
        Ok(RedisSpec {
            shards: self.shards,
            script: self.script.resolve(loader).map_err(|m| ConfigError::new("script", m))?,
            command: self.command.resolve(loader).map_err(|m| ConfigError::new("command", m))?,
        })
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("shards", "integer 1..16384", "3", "master shards (Redis Cluster's minimum is 3); slots split evenly"),
            ParamDoc::new(
                "script",
                "distribution",
                "\"120us\"",
                "one Lua script call, blocking the shard (seed 000: 120 us, so one shard tops out near 8,300/s)",
            ),
            ParamDoc::new("command", "distribution", "\"1us\"", "one plain command (Redis commands take about a microsecond)"),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// CRC16-XMODEM's byte table, computed at compile time.
const CRC16_TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC16-XMODEM, the checksum Redis Cluster uses for key slots (table-driven: one lookup per
/// byte).
pub fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |crc, &b| (crc << 8) ^ CRC16_TABLE[usize::from((crc >> 8) as u8 ^ b)])
}

/// The hash slot of key number `key`, written as its decimal digits (as `user:<id>` without
/// the prefix would be).
pub fn slot_of(key: u32) -> u16 {
    let mut buf = [0u8; 10];
    let mut n = key;
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    crc16(&buf[i..]) % 16_384
}

/// A running cluster: one FIFO single-server station per shard.
pub struct RedisCluster<J> {
    spec: RedisSpec,
    shards: Vec<FifoServer<J>>,
    rng: StreamRng,
}

impl<J: Copy> RedisCluster<J> {
    /// A cluster with its own random stream.
    pub fn new(spec: &RedisSpec, rng: StreamRng) -> Self {
        Self {
            spec: spec.clone(),
            shards: (0..spec.shards).map(|_| FifoServer::new(1, None)).collect(),
            rng,
        }
    }

    /// Counts and integrates shard statistics only within `[from, to)`.
    pub fn set_window(&mut self, window: Window) {
        for shard in &mut self.shards {
            shard.set_window(window);
        }
    }

    /// The shard owning `key`'s slot.
    #[inline]
    pub fn shard_of(&self, key: u32) -> u16 {
        (u32::from(slot_of(key)) * self.spec.shards / 16_384) as u16
    }

    /// Runs a script for `key` on its shard; `wrap(shard, job)` fires when it finishes.
    #[inline]
    pub fn script<E>(
        &mut self,
        sim: &mut Sim<E>,
        key: u32,
        job: J,
        wrap: impl Fn(u16, J) -> E,
    ) -> u16 {
        let cost = self.spec.script.sample(&mut self.rng);
        self.run(sim, key, job, cost, wrap)
    }

    /// Runs a plain command for `key` on its shard.
    #[inline]
    pub fn command<E>(
        &mut self,
        sim: &mut Sim<E>,
        key: u32,
        job: J,
        wrap: impl Fn(u16, J) -> E,
    ) -> u16 {
        let cost = self.spec.command.sample(&mut self.rng);
        self.run(sim, key, job, cost, wrap)
    }

    fn run<E>(
        &mut self,
        sim: &mut Sim<E>,
        key: u32,
        job: J,
        cost: SimTime,
        wrap: impl Fn(u16, J) -> E,
    ) -> u16 {
        let shard = self.shard_of(key);
        self.shards[shard as usize].offer(sim, job, cost, |j| wrap(shard, j));
        shard
    }

    /// Call when a call on `shard` finishes: starts its next queued call.
    #[inline]
    pub fn complete<E>(&mut self, sim: &mut Sim<E>, shard: u16, wrap: impl Fn(u16, J) -> E) {
        self.shards[shard as usize].complete(sim, |j| wrap(shard, j));
    }

    /// Per-shard statistics up to `now`.
    pub fn stats(&self, now: SimTime) -> Vec<ServerStats> {
        self.shards.iter().map(|s| s.stats(now)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_matches_the_redis_cluster_spec() {
        // From the Redis Cluster specification: CRC16 of "123456789" is 0x31C3.
        assert_eq!(crc16(b"123456789"), 0x31c3);
        // 0x31C3 is below 16,384, so the slot is the checksum itself.
        assert_eq!(slot_of(123_456_789), 0x31c3);
    }

    #[test]
    fn slots_spread_keys_evenly_over_shards() {
        let spec = RedisParams { shards: 8, ..Default::default() };
        struct NoFiles;
        impl Loader for NoFiles {
            fn read_text(&self, _: &str) -> Result<String, String> {
                Err(String::new())
            }
        }
        let cluster: RedisCluster<()> = RedisCluster::new(
            &spec.validate(&NoFiles).unwrap(),
            pipesim_engine::RngStreams::new(1).stream("r"),
        );
        let mut counts = [0u32; 8];
        for key in 0..80_000 {
            counts[cluster.shard_of(key) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }
}
