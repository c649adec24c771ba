//! What the Lua guard compares: the value in `ARGV[1]` and where it comes from.
//!
//! The real script compares a number the producer put in the call. `sequence` gives it the
//! generator's per-key sequence number, which no real producer fleet has (it would need a
//! per-key counter shared by every instance): the guard then drops exactly the events that
//! arrive after a newer one, and never accepts one out of order. `client_clock` gives it what
//! producers really send, the instance's wall clock when it first sent the event, read at
//! `clock_resolution` (a millisecond timestamp): instances whose clocks disagree stamp the
//! same moment differently, so a valid event from a clock that is behind is dropped, and two
//! events of one key in one clock tick keep only the first. A retry carries its first stamp.
//!
//! Clocks disagree two ways: `clock_spread` fans the fleet's clocks out evenly (instance `i` of
//! `n` reads `i / (n - 1) × clock_spread` ahead of instance 0), and a `clock_skew` fault on the
//! `producer` role puts one instance (the next in turn, or all with a node named) ahead for its
//! window; when the window closes its clock steps back, and the events it stamps then are
//! older than its own last ones.

use crate::clients::Request;
use crate::fault::{FaultKind, FaultSpec, RoleNodes};
use pipesim_config::{ConfigError, Duration, Loader, ParamDoc, Section};
use pipesim_engine::{NS_PER_MS, NS_PER_S, SimTime};
use serde::{Deserialize, Serialize};

/// The widest `clock_spread` and the coarsest `clock_resolution`: an hour.
const MAX_CLOCK_NS: SimTime = 3_600 * NS_PER_S;

/// Where the guard's value comes from.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GuardValue {
    /// The generator's per-key sequence number (an ideal no fleet has).
    #[default]
    Sequence,
    /// The producer instance's wall clock at the first send.
    ClientClock,
}

/// `[model.guard]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardParams {
    /// What `ARGV[1]` holds.
    pub value: GuardValue,
    /// The clock's tick: a stamp is the clock reading rounded down to it.
    pub clock_resolution: Duration,
    /// How far the fleet's clocks fan out, instance 0 behind, the last instance ahead.
    pub clock_spread: Duration,
}

impl Default for GuardParams {
    fn default() -> Self {
        Self {
            value: GuardValue::Sequence,
            clock_resolution: Duration { ns: NS_PER_MS },
            clock_spread: Duration { ns: 0 },
        }
    }
}

impl Section for GuardParams {
    type Valid = ();
    type Choice = ();

    fn docs(name: &str, (): ()) -> Vec<ParamDoc> {
        [
            ParamDoc::new(
                "value",
                "\"sequence\" or \"client_clock\"",
                "\"sequence\"",
                "what ARGV[1] holds: the generator's per-key sequence (an ideal) or the producer's clock at the first send",
            ),
            ParamDoc::new(
                "clock_resolution",
                "duration, above 0, at most 1h",
                "\"1ms\"",
                "client_clock: the clock's tick (a millisecond timestamp); two events of a key in one tick keep the first",
            ),
            ParamDoc::new(
                "clock_spread",
                "duration, at most 1h",
                "\"0s\"",
                "client_clock: the fleet's clocks fan out evenly over this, instance 0 behind, the last ahead",
            ),
        ]
        .into_iter()
        .map(|d| d.under(name))
        .collect()
    }

    fn check(&self, _: &dyn Loader, (): ()) -> Result<(), ConfigError> {
        let r = self.clock_resolution.ns;
        if r == 0 || r > MAX_CLOCK_NS {
            return Err(ConfigError::new(
                "clock_resolution",
                format!("must be above 0s and at most 1h, found {}", self.clock_resolution),
            ));
        }
        if self.clock_spread.ns > MAX_CLOCK_NS {
            return Err(ConfigError::new(
                "clock_spread",
                format!("at most 1h, found {}", self.clock_spread),
            ));
        }
        Ok(())
    }
}

/// A `clock_skew` window on one instance.
#[derive(Clone, Copy, Debug)]
struct Skew {
    instance: u32,
    start_ns: SimTime,
    end_ns: SimTime,
    ahead_ns: SimTime,
}

/// The producers' clocks as the guard sees them: a stamp per attempt.
#[derive(Clone, Debug)]
pub(super) struct ProducerClocks {
    value: GuardValue,
    resolution_ns: SimTime,
    /// Per instance, how far ahead of instance 0 its clock reads.
    offset_ns: Vec<SimTime>,
    /// Every `clock_skew` window that has begun (bounded by the scenario's faults).
    skews: Vec<Skew>,
    nodes: RoleNodes,
}

impl ProducerClocks {
    /// The clocks of `instances` producer instances.
    pub(super) fn new(p: &GuardParams, instances: u32) -> Self {
        let last = u64::from(instances.saturating_sub(1)).max(1);
        let spread = u128::from(p.clock_spread.ns);
        let offset_ns = (0..u64::from(instances))
            .map(|i| (spread * u128::from(i) / u128::from(last)) as SimTime)
            .collect();
        Self {
            value: p.value,
            resolution_ns: p.clock_resolution.ns.max(1),
            offset_ns,
            skews: Vec::new(),
            nodes: RoleNodes::default(),
        }
    }

    /// Whether the guard compares clock stamps (its drops then have their own reason).
    pub(super) fn by_clock(&self) -> bool {
        self.value == GuardValue::ClientClock
    }

    /// The guard's value for `req`, plus one (0 is "nothing appended yet"): the event's
    /// sequence number, or the stamp its instance's clock gave it when it was first sent (at
    /// its creation, the open-loop producer's send).
    #[inline]
    pub(super) fn stamp(&self, req: &Request) -> u64 {
        match self.value {
            GuardValue::Sequence => req.ev.seq + 1,
            GuardValue::ClientClock => {
                let t = req.ev.created_ns;
                let mut reading = t + self.offset_ns[req.instance as usize];
                for s in &self.skews {
                    if s.instance == req.instance && (s.start_ns..s.end_ns).contains(&t) {
                        reading += s.ahead_ns;
                    }
                }
                reading / self.resolution_ns + 1
            }
        }
    }

    /// A `clock_skew` on the producers begins: the instances it hits read ahead for its
    /// window. (Its end needs nothing: the window is known, and stamps are taken by creation
    /// time, so an event created after it is stamped by the clock stepped back.)
    pub(super) fn skew_begins(&mut self, fault: &FaultSpec) {
        let FaultKind::ClockSkew { ahead_ns } = fault.kind else { return };
        let count = self.offset_ns.len() as u32;
        for instance in self.nodes.begin(fault, count) {
            self.skews.push(Skew {
                instance,
                start_ns: fault.start_ns,
                end_ns: fault.end_ns,
                ahead_ns,
            });
        }
    }

    /// A `clock_skew` ends (kept for the turn bookkeeping of [`RoleNodes`]).
    pub(super) fn skew_ends(&mut self, fault: &FaultSpec) {
        let count = self.offset_ns.len() as u32;
        let _ = self.nodes.end(fault, count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipesim_components::Ticket;
    use pipesim_workload::EventMeta;

    fn req(instance: u32, created_ns: SimTime, seq: u64) -> Request {
        let ev = EventMeta { id: 0, created_ns, seq, key: 0, size_bytes: 1 };
        Request { ev, attempt: 0, instance, sent_ns: created_ns, ticket: Ticket(0) }
    }

    fn clock(spread_ms: u64, instances: u32) -> ProducerClocks {
        let p = GuardParams {
            value: GuardValue::ClientClock,
            clock_resolution: Duration { ns: NS_PER_MS },
            clock_spread: Duration { ns: spread_ms * NS_PER_MS },
        };
        ProducerClocks::new(&p, instances)
    }

    #[test]
    fn clocks_fan_out_evenly_over_the_spread_and_stamps_round_down_to_the_tick() {
        let c = clock(10, 3);
        assert_eq!(c.offset_ns, vec![0, 5 * NS_PER_MS, 10 * NS_PER_MS]);
        // 7.9 ms on instance 0 reads 7 ms; on instance 2, 17 ms.
        assert_eq!(c.stamp(&req(0, 7_900_000, 0)), 8);
        assert_eq!(c.stamp(&req(2, 7_900_000, 0)), 18);
        // One instance: no spread to fan out.
        assert_eq!(clock(10, 1).offset_ns, vec![0]);
    }

    #[test]
    fn a_skew_moves_one_instance_in_turn_for_its_window_and_a_retry_keeps_its_stamp() {
        let mut c = clock(0, 2);
        let f = FaultSpec::new(
            FaultKind::ClockSkew { ahead_ns: 50 * NS_PER_MS },
            "producer",
            NS_PER_S,
            2 * NS_PER_S,
        );
        c.skew_begins(&f);
        let inside = NS_PER_S + NS_PER_MS;
        assert_eq!(c.stamp(&req(0, inside, 0)), 1_051 + 1);
        assert_eq!(c.stamp(&req(1, inside, 0)), 1_001 + 1, "the next in turn is instance 0");
        // Created before the window: the stamp it was first sent with, whenever it is retried.
        let mut retry = req(0, NS_PER_S - 1, 0);
        retry.attempt = 3;
        retry.sent_ns = inside;
        assert_eq!(c.stamp(&retry), 999 + 1);
        c.skew_ends(&f);
        assert_eq!(c.stamp(&req(0, 2 * NS_PER_S, 0)), 2_000 + 1, "stepped back");
    }

    #[test]
    fn sequence_mode_is_the_sequence_number() {
        let c = ProducerClocks::new(&GuardParams::default(), 4);
        assert_eq!(c.stamp(&req(3, 123_456_789, 41)), 42);
    }
}
