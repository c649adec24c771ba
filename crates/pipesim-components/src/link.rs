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

/// One connection: messages arrive after the sampled delay, never before an earlier message
/// (TCP delivers in order), unless lost.
#[derive(Clone, Debug)]
pub struct Link {
    spec: LinkSpec,
    rng: StreamRng,
    last_arrival: SimTime,
    /// Messages sent and messages lost.
    pub sent: u64,
    /// Messages lost.
    pub dropped: u64,
}

impl Link {
    /// A connection with its own random stream.
    pub fn new(spec: &LinkSpec, rng: StreamRng) -> Self {
        Self { spec: spec.clone(), rng, last_arrival: 0, sent: 0, dropped: 0 }
    }

    /// When a message sent now arrives, or `None` if it is lost.
    #[inline]
    pub fn transit(&mut self, now: SimTime) -> Option<SimTime> {
        self.sent += 1;
        if self.spec.drop > 0.0 && self.rng.chance(self.spec.drop) {
            self.dropped += 1;
            return None;
        }
        let at = now.saturating_add(self.spec.delay.sample(&mut self.rng)).max(self.last_arrival);
        self.last_arrival = at;
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
