//! The connector ([`Cdc`]): its parameters, its decoder thread, its offset flushes, and the
//! replay from the last flushed position after a crash.

use super::Change;
use pipesim_config::{ConfigError, DistSpec, Duration, Loader, ParamDoc};
use pipesim_engine::{Dist, NS_PER_MS, NS_PER_S, NS_PER_US, Sim, SimTime, StreamRng, Window};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

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
    window: Window,
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
            window: Window::ALWAYS,
        }
    }

    /// Counts statistics only within `[from, to)`: the run's measured interval (restarts and
    /// the largest backlog cover the whole run).
    pub fn set_window(&mut self, window: Window) {
        self.window = window;
    }

    #[inline]
    fn counting(&self, now: SimTime) -> bool {
        self.window.contains(now)
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
