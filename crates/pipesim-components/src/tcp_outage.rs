//! A TCP connection through a network outage: a [`Link`] whose messages are never lost, only
//! late.
//!
//! The rules: a message sent at `now` would arrive at `at` (the link's delay). If an outage
//! `[start, end)` is in progress or begins while it is on the wire (`at >= start` and
//! `now < end`), the segment is lost and TCP retransmits it at `now + 200 ms`, then after twice
//! as long each time (Linux's minimum retransmission timeout, doubling, capped at 120 s); the
//! first retransmission at or after `end` gets through and arrives after the message's own delay.
//! A message that arrives before the outage starts, or is sent once it has ended, is untouched.
//! Whatever the outage does, the connection delivers in order: no message arrives before one
//! sent earlier on it.

use crate::Link;
use pipesim_engine::{NS_PER_MS, NS_PER_S, Sim, SimTime};

/// Linux's minimum retransmission timeout: a segment lost in an outage is resent after it, then
/// after twice as long, and so on.
const RTO_MIN_NS: SimTime = 200 * NS_PER_MS;
/// Linux caps the retransmission timeout at 120 s.
const RTO_MAX_NS: SimTime = 120 * NS_PER_S;

/// One TCP connection of the client network: a link, kept in order even across an outage.
pub struct TcpConn {
    link: Link,
    last: SimTime,
}

impl TcpConn {
    /// A connection over `link` (whose `drop` must be 0: every message arrives).
    pub fn new(link: Link) -> Self {
        Self { link, last: 0 }
    }

    /// Sends `event` now; during a network outage `(start, end)` the segment is lost and
    /// arrives after the first retransmission at or after the end.
    #[inline]
    pub fn send<E>(&mut self, sim: &mut Sim<E>, outage: Option<(SimTime, SimTime)>, event: E) {
        let now = sim.now();
        // `network.drop` is validated to be 0: every message arrives.
        let mut at = self.link.transit(now).unwrap_or(now);
        if let Some((start, end)) = outage
            && at >= start
            && now < end
        {
            let delay = at - now;
            let (mut rto, mut resend) = (RTO_MIN_NS, now + RTO_MIN_NS);
            while resend < end {
                rto = (rto * 2).min(RTO_MAX_NS);
                resend += rto;
            }
            at = resend + delay;
        }
        at = at.max(self.last);
        self.last = at;
        sim.schedule_at(at, event);
    }
}

#[cfg(test)]
// Unit tests stand in for the run loop: they advance time and pop what was delivered.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;
    use crate::LinkParams;
    use crate::kafka::testkit::NoFiles;
    use pipesim_config::{DistSpec, Duration};
    use pipesim_engine::RngStreams;

    const MS: SimTime = NS_PER_MS;
    /// Every test's link: a constant 1 ms one-way delay.
    const DELAY: SimTime = MS;
    /// The outage of most tests: from 1 s to 2 s.
    const OUTAGE: Option<(SimTime, SimTime)> = Some((1_000 * MS, 2_000 * MS));

    fn conn() -> TcpConn {
        let params =
            LinkParams { delay: DistSpec::Const { value: Duration { ns: DELAY } }, drop: 0.0 };
        let spec = params.validate(&NoFiles).expect("a valid link");
        TcpConn::new(Link::new(&spec, RngStreams::new(1).stream("tcp")))
    }

    /// Sends message `id` at `now` on `c` and leaves it queued.
    fn send(
        c: &mut TcpConn,
        sim: &mut Sim<u32>,
        now: SimTime,
        outage: Option<(SimTime, SimTime)>,
        id: u32,
    ) {
        sim.set_now(now);
        c.send(sim, outage, id);
    }

    /// Every queued message, (arrival, id), in delivery order.
    fn delivered(sim: &mut Sim<u32>) -> Vec<(SimTime, u32)> {
        std::iter::from_fn(|| sim.queue().pop()).collect()
    }

    /// When a message sent at `now` on a fresh connection arrives.
    fn arrival(now: SimTime, outage: Option<(SimTime, SimTime)>) -> SimTime {
        let (mut c, mut sim) = (conn(), Sim::new());
        send(&mut c, &mut sim, now, outage, 0);
        let got = delivered(&mut sim);
        assert_eq!(got.len(), 1, "exactly one delivery");
        got[0].0
    }

    #[test]
    fn without_an_outage_a_message_takes_the_links_delay() {
        assert_eq!(arrival(0, None), DELAY);
        assert_eq!(arrival(1_500 * MS, None), 1_500 * MS + DELAY);
    }

    #[test]
    fn a_message_that_arrives_before_the_outage_is_untouched() {
        assert_eq!(arrival(0, OUTAGE), DELAY);
        // Sent 1.5 ms before the start: it lands at 999.5 ms, before the start.
        assert_eq!(arrival(998_500_000, OUTAGE), 999_500_000);
        // Sent 1 ms before: it would land at the start itself, so it counts as on the wire and is
        // lost (resent at 1199, 1599, 2399 ms).
        assert_eq!(arrival(999 * MS, OUTAGE), 2_400 * MS);
    }

    #[test]
    fn a_message_on_the_wire_when_the_outage_starts_waits_for_a_retransmission() {
        // Sent at 999.5 ms, due at 1000.5 ms: lost. Resent at +200 ms (1199.5), +400 (1599.5),
        // +800 (2399.5, the first at or after the end), then 1 ms on the wire.
        assert_eq!(arrival(999_500_000, OUTAGE), 2_400_500_000);
    }

    #[test]
    fn a_message_sent_during_the_outage_arrives_after_the_first_retransmission_past_the_heal() {
        // Resent at 1700 ms, then 2100 ms: past the end.
        assert_eq!(arrival(1_500 * MS, OUTAGE), 2_101 * MS);
        // Sent at 1900 ms: the first retransmission (2100 ms) is already past the end.
        assert_eq!(arrival(1_900 * MS, OUTAGE), 2_101 * MS);
        // Sent at 1 s sharp, the outage's first instant: 1200, 1600, 2400 ms.
        assert_eq!(arrival(1_000 * MS, OUTAGE), 2_401 * MS);
    }

    #[test]
    fn a_retransmission_exactly_at_the_heal_gets_through() {
        // Sent at 1800 ms, resent at 2000 ms = the end: through.
        assert_eq!(arrival(1_800 * MS, OUTAGE), 2_001 * MS);
    }

    #[test]
    fn a_message_sent_once_the_outage_has_ended_is_untouched() {
        assert_eq!(arrival(2_000 * MS, OUTAGE), 2_001 * MS);
        assert_eq!(arrival(3_000 * MS, OUTAGE), 3_001 * MS);
    }

    #[test]
    fn the_retransmission_timeout_doubles_up_to_120_s() {
        // Outage from 0 to 1000 s, message sent at 0: resent after 0.2, 0.4, ..., 102.4 s
        // (ten doublings, 204.6 s in all), then every 120 s: 324.6, 444.6, ..., 1044.6 s.
        let outage = Some((0, 1_000 * NS_PER_S));
        assert_eq!(arrival(0, outage), 1_044_600 * MS + DELAY);
    }

    #[test]
    fn order_is_kept_across_the_outage() {
        let (mut c, mut sim) = (conn(), Sim::new());
        send(&mut c, &mut sim, 500 * MS, OUTAGE, 0); // before: 501 ms
        send(&mut c, &mut sim, 1_500 * MS, OUTAGE, 1); // during: 2101 ms
        send(&mut c, &mut sim, 1_800 * MS, OUTAGE, 2); // during, resent at the heal: 2001 ms, held to 2101
        send(&mut c, &mut sim, 2_050 * MS, None, 3); // after: 2051 ms, held to 2101
        send(&mut c, &mut sim, 2_200 * MS, None, 4); // after, behind nothing: 2201 ms
        assert_eq!(
            delivered(&mut sim),
            [(501 * MS, 0), (2_101 * MS, 1), (2_101 * MS, 2), (2_101 * MS, 3), (2_201 * MS, 4)]
        );
    }

    #[test]
    fn every_message_is_delivered_once_in_order_and_late_ones_after_the_heal() {
        let (mut c, mut sim) = (conn(), Sim::new());
        let sends: Vec<SimTime> = (0..300).map(|i| i * 10 * MS).collect();
        for (id, &now) in sends.iter().enumerate() {
            send(&mut c, &mut sim, now, OUTAGE, id as u32);
        }
        let got = delivered(&mut sim);
        let ids: Vec<u32> = got.iter().map(|&(_, id)| id).collect();
        assert_eq!(ids, (0..300).collect::<Vec<u32>>(), "all of them, once, in order");
        for (&(at, _), &now) in got.iter().zip(&sends) {
            let want = if now < 1_000 * MS {
                // Lands by 991 ms, before the start.
                now + DELAY
            } else if now < 1_400 * MS {
                // Resent at +200 and +600 ms (still down), then +1400 ms (past the heal).
                now + 1_400 * MS + DELAY
            } else if now <= 2_790 * MS {
                // Behind the one sent at 1390 ms, which arrives at 2791 ms.
                2_791 * MS
            } else {
                now + DELAY
            };
            assert_eq!(at, want, "sent at {now}");
        }
    }
}
