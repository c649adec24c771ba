//! A network link: one connection's one-way delay, in order, with optional message loss.

use pipesim_config::{ConfigError, DistSpec, Loader, ParamDoc};
use pipesim_engine::{Dist, Sim, SimTime, StreamRng};
use serde::{Deserialize, Serialize};

/// How a network hop behaves, as a scenario writes it (`[model.network]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinkParams {
    /// One-way delay of a message.
    pub delay: DistSpec,
    /// Probability that a message is lost together with its connection, so the sender only
    /// learns of it by a timeout (a reset or a partition, not a TCP segment loss, which TCP
    /// repairs).
    pub drop: f64,
}

impl Default for LinkParams {
    fn default() -> Self {
        Self { delay: lognormal_us(150, 400), drop: 0.0 }
    }
}

/// A lognormal distribution given p50 and p99 in microseconds (for defaults).
pub(crate) fn lognormal_us(p50: u64, p99: u64) -> DistSpec {
    use pipesim_config::Duration;
    DistSpec::LogNormal { p50: Duration { ns: p50 * 1_000 }, p99: Duration { ns: p99 * 1_000 } }
}

/// A validated link description.
#[derive(Clone, Debug)]
pub struct LinkSpec {
    delay: Dist,
    drop: f64,
}

impl LinkSpec {
    /// The one-way delay of a message.
    pub fn delay(&self) -> &Dist {
        &self.delay
    }
}

impl LinkParams {
    /// Checks the parameters; paths in errors are relative to the link's table.
    pub fn validate(&self, loader: &dyn Loader) -> Result<LinkSpec, ConfigError> {
        let delay = self.delay.resolve(loader).map_err(|m| ConfigError::new("delay", m))?;
        check_probability(self.drop, "drop")?;
        Ok(LinkSpec { delay, drop: self.drop })
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new(
                "delay",
                "distribution",
                "{ dist = \"lognormal\", p50 = \"150us\", p99 = \"400us\" }",
                "one-way delay; the default is half of a same-AZ round trip (0.26-0.41 ms RTT, AWS)",
            ),
            ParamDoc::new(
                "drop",
                "probability",
                "0",
                "chance a message is lost with its connection; the sender sees only a timeout",
            ),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// Checks that `p` is a probability.
pub fn check_probability(p: f64, field: &str) -> Result<(), ConfigError> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(ConfigError::new(field, format!("must be a probability between 0 and 1, found {p}")))
    }
}

/// What a network fault does to the messages of a link while it lasts.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkFaultEffect {
    /// Nothing gets through. A message on the wire at any moment of the window (sent during
    /// it, or sent before and still travelling when it starts) is lost (`hold = false`: the
    /// connection resets and the sender learns of it only by its timeout) or held and delivered
    /// when the partition heals (`hold = true`: TCP keeps retransmitting and gets through).
    Partition {
        /// Held until the heal rather than lost.
        hold: bool,
    },
    /// Each message sent during the window takes this much longer, on top of its delay.
    LatencySpike {
        /// The extra delay.
        extra: Dist,
    },
    /// Each transmission of a message sent during the window is lost with this probability,
    /// and TCP retransmits it after a retransmission timeout that doubles each time (the first
    /// at least 200 ms, Linux's minimum RTO). The connection stays in order, so the messages
    /// behind a retransmitted one wait for it (head-of-line blocking).
    PacketLoss {
        /// Chance that one transmission is lost.
        probability: f64,
        /// The first retransmission timeout.
        rto_ns: SimTime,
    },
}

/// A network fault window on a link.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkFault {
    /// When it starts.
    pub start_ns: SimTime,
    /// When it ends.
    pub end_ns: SimTime,
    /// What it does.
    pub effect: LinkFaultEffect,
}

/// One connection: messages arrive after the sampled delay, never before an earlier message
/// (TCP delivers in order), unless lost.
///
/// Network faults are given as windows before the run ([`Link::set_faults`]): the fault
/// timeline is part of the scenario, and knowing a partition's window when a message is sent
/// is what lets a message already on the wire when the partition starts be lost or held too.
#[derive(Clone, Debug)]
pub struct Link {
    spec: LinkSpec,
    rng: StreamRng,
    last_arrival: SimTime,
    faults: std::sync::Arc<[LinkFault]>,
    /// Messages lost to a partition.
    pub partition_lost: u64,
    /// Retransmissions after packet loss.
    pub retransmissions: u64,
    /// Messages sent and messages lost.
    pub sent: u64,
    /// Messages lost.
    pub dropped: u64,
}

impl Link {
    /// A connection with its own random stream.
    pub fn new(spec: &LinkSpec, rng: StreamRng) -> Self {
        Self {
            spec: spec.clone(),
            rng,
            last_arrival: 0,
            faults: std::sync::Arc::from(Vec::new()),
            partition_lost: 0,
            retransmissions: 0,
            sent: 0,
            dropped: 0,
        }
    }

    /// The network fault windows this link will go through (shared between the links of a
    /// role). Fault draws use the link's own stream, so a link without faults draws exactly
    /// what it drew before.
    pub fn set_faults(&mut self, faults: std::sync::Arc<[LinkFault]>) {
        self.faults = faults;
    }

    /// When a message sent now arrives, or `None` if it is lost.
    #[inline]
    pub fn transit(&mut self, now: SimTime) -> Option<SimTime> {
        self.sent += 1;
        if self.spec.drop > 0.0 && self.rng.chance(self.spec.drop) {
            self.dropped += 1;
            return None;
        }
        let mut at = now.saturating_add(self.spec.delay.sample(&mut self.rng));
        if !self.faults.is_empty() {
            at = self.apply_faults(now, at)?;
        }
        let at = at.max(self.last_arrival);
        self.last_arrival = at;
        Some(at)
    }

    /// The arrival time of a message sent at `now` that would arrive at `at` without faults,
    /// or `None` if a partition loses it.
    fn apply_faults(&mut self, now: SimTime, mut at: SimTime) -> Option<SimTime> {
        let faults = std::sync::Arc::clone(&self.faults);
        // Delays first (they move the arrival), then partitions over the whole flight.
        for f in faults.iter() {
            if now < f.start_ns || now >= f.end_ns {
                continue;
            }
            match &f.effect {
                LinkFaultEffect::LatencySpike { extra } => {
                    at = at.saturating_add(extra.sample(&mut self.rng));
                }
                LinkFaultEffect::PacketLoss { probability, rto_ns } => {
                    let mut rto = *rto_ns;
                    // At most 15 retransmissions (Linux's tcp_retries2): then the connection
                    // would break; a 1.0 probability still ends.
                    for _ in 0..15 {
                        if !self.rng.chance(*probability) {
                            break;
                        }
                        self.retransmissions += 1;
                        at = at.saturating_add(rto);
                        rto = rto.saturating_mul(2);
                    }
                }
                LinkFaultEffect::Partition { .. } => {}
            }
        }
        for f in faults.iter() {
            if let LinkFaultEffect::Partition { hold } = f.effect {
                // On the wire during [now, at) and the window [start, end) overlap.
                if now < f.end_ns && at > f.start_ns {
                    if !hold {
                        self.partition_lost += 1;
                        self.dropped += 1;
                        return None;
                    }
                    // Held: it gets through once the partition heals, after its own delay.
                    let flight = at - now;
                    at = at.max(f.end_ns.saturating_add(flight));
                }
            }
        }
        Some(at)
    }

    /// Sends `event` over the link: schedules it at its arrival time. Returns `false` if lost.
    #[inline]
    pub fn send<E>(&mut self, sim: &mut Sim<E>, event: E) -> bool {
        match self.transit(sim.now()) {
            Some(at) => {
                sim.schedule_at(at, event);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipesim_engine::RngStreams;

    fn faulty(effect: LinkFaultEffect) -> Link {
        let spec =
            LinkParams { delay: lognormal_us(150, 400), drop: 0.0 }.validate(&NoFiles).unwrap();
        let mut link = Link::new(&spec, RngStreams::new(1).stream("link"));
        link.set_faults(std::sync::Arc::from(vec![LinkFault {
            start_ns: 1_000_000,
            end_ns: 2_000_000,
            effect,
        }]));
        link
    }

    #[test]
    fn a_partition_loses_every_message_on_the_wire_during_it() {
        let mut link = faulty(LinkFaultEffect::Partition { hold: false });
        assert!(link.transit(0).is_some(), "long before: through");
        // Sent just before the start, still travelling at the start: lost.
        assert!(link.transit(999_990).is_none());
        assert!(link.transit(1_500_000).is_none());
        assert!(link.transit(2_000_000).is_some(), "after the heal: through");
        assert_eq!(link.partition_lost, 2);
    }

    #[test]
    fn a_holding_partition_delivers_after_the_heal() {
        let mut link = faulty(LinkFaultEffect::Partition { hold: true });
        let at = link.transit(1_200_000).unwrap();
        assert!(at > 2_000_000 && at < 2_000_000 + 5_000_000, "{at}");
        assert_eq!(link.partition_lost, 0);
    }

    #[test]
    fn a_latency_spike_adds_its_delay_during_the_window_only() {
        let extra = Dist::Const { ns: 50_000_000 };
        let mut link = faulty(LinkFaultEffect::LatencySpike { extra });
        let before = link.transit(0).unwrap();
        assert!(before < 10_000_000);
        let during = link.transit(1_500_000).unwrap();
        assert!(during >= 1_500_000 + 50_000_000, "{during}");
        let after = link.transit(60_000_000).unwrap();
        assert!(after < 70_000_000, "{after}");
    }

    #[test]
    fn packet_loss_costs_doubling_retransmission_timeouts_and_blocks_the_line() {
        let mut link =
            faulty(LinkFaultEffect::PacketLoss { probability: 1.0, rto_ns: 200_000_000 });
        let lossy = link.transit(1_500_000).unwrap();
        // 15 retransmissions: 200 ms × (2^15 − 1).
        assert!(lossy >= 1_500_000 + 200_000_000 * 32_767, "{lossy}");
        assert_eq!(link.retransmissions, 15);
        // After the window, a message still waits behind the retransmitted one (in order).
        assert!(link.transit(3_000_000).unwrap() >= lossy);
    }

    #[test]
    fn faults_outside_a_links_path_change_none_of_its_draws() {
        let spec = LinkParams::default().validate(&NoFiles).unwrap();
        let mut plain = Link::new(&spec, RngStreams::new(3).stream("link"));
        let mut late = Link::new(&spec, RngStreams::new(3).stream("link"));
        late.set_faults(std::sync::Arc::from(vec![LinkFault {
            start_ns: u64::MAX - 1,
            end_ns: u64::MAX,
            effect: LinkFaultEffect::LatencySpike { extra: Dist::Const { ns: 1 } },
        }]));
        for now in (0..1_000u64).map(|i| i * 1_000) {
            assert_eq!(plain.transit(now), late.transit(now));
        }
    }

    #[test]
    fn delivers_in_order_even_with_jitter() {
        let spec = LinkParams::default().validate(&NoFiles).unwrap();
        let mut link = Link::new(&spec, RngStreams::new(1).stream("link"));
        let mut last = 0;
        for now in (0..100_000u64).map(|i| i * 10) {
            let at = link.transit(now).unwrap();
            assert!(at >= last && at >= now);
            last = at;
        }
    }

    #[test]
    fn drops_at_the_given_rate() {
        let spec = LinkParams { drop: 0.1, ..Default::default() }.validate(&NoFiles).unwrap();
        let mut link = Link::new(&spec, RngStreams::new(1).stream("link"));
        let lost = (0..100_000).filter(|&i| link.transit(i).is_none()).count();
        assert!((9_500..10_500).contains(&lost), "{lost}");
    }

    pub(crate) struct NoFiles;
    impl Loader for NoFiles {
        fn read_text(&self, _: &str) -> Result<String, String> {
            Err("no files in tests".into())
        }
    }
}
