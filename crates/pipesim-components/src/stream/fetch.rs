//! What both consumers share: each partition's fetch state and its long poll (a fetch returns
//! once the high watermark passes the consumer's position, at most `max_poll_records`, and
//! none is issued while that many fetched records wait), and a small helper, the
//! summed cost of a chunk of records.

use crate::kafka::{KafkaLog, Record};
use pipesim_engine::{Dist, Sim, SimTime, StreamRng};

/// Per-partition fetch state shared by both consumers.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Feed {
    /// Offset after the last record fetched.
    pub(super) fetched: u64,
    /// Offset after the last record processed.
    pub(super) processed: u64,
    pub(super) fetching: bool,
}

/// Issues a fetch of `p` if there is data, no fetch running, and room for more.
#[allow(clippy::too_many_arguments)]
#[inline]
pub(super) fn maybe_fetch<R: Record, E>(
    feed: &mut Feed,
    p: u32,
    log: &KafkaLog<R>,
    max: u32,
    delay: &Dist,
    rng: &mut StreamRng,
    sim: &mut Sim<E>,
    event: E,
) {
    if feed.fetching || feed.fetched >= log.hw(p) || feed.fetched - feed.processed >= u64::from(max)
    {
        return;
    }
    feed.fetching = true;
    sim.schedule_in(delay.sample(rng), event);
}

/// A fetch of `p` returned: takes what the HW allows.
#[inline]
pub(super) fn take_fetch<R: Record>(
    feed: &mut Feed,
    p: u32,
    log: &mut KafkaLog<R>,
    max: u32,
) -> u64 {
    feed.fetching = false;
    let room = u64::from(max).saturating_sub(feed.fetched - feed.processed);
    let n = log.hw(p).saturating_sub(feed.fetched).min(room);
    feed.fetched += n;
    log.set_read_pos(p, feed.fetched);
    n
}

/// The sum of `n` draws of `d` (one multiplication for a constant).
#[inline]
pub(super) fn total_cost(d: &Dist, n: u64, rng: &mut StreamRng) -> SimTime {
    if let Dist::Const { ns } = d {
        return ns.saturating_mul(n);
    }
    let mut t: SimTime = 0;
    for _ in 0..n {
        t = t.saturating_add(d.sample(rng));
    }
    t
}
