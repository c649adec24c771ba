//! What follows an append: the followers' copies of each batch above the high watermark and
//! the HW's moves (commits). Broker crashes, restarts and leader elections, which change the
//! ISR and so the commit times, are in `failover.rs`; a thawed follower's late copies are made
//! in `storage.rs` (`resume`).

use super::log::{NEVER, NO_LEADER, Partition};
use super::{KafkaLog, LogEvent, MAX_REPLICATION, ProduceReq, ProduceResult, Record};
use crate::lsm::WriteResult;
use pipesim_config::Duration;
use pipesim_engine::{Sim, SimTime};

/// An appended batch above the HW.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pending {
    /// Offset after the batch's last record.
    pub(super) end: u64,
    /// When each replica position has the batch ([`NEVER`]: not while it is down).
    pub(super) copied: [SimTime; MAX_REPLICATION as usize],
    /// When the HW can pass it.
    pub(super) commit_at: SimTime,
    pub(super) req: ProduceReq,
    /// Whether the producer waits for the commit (acks=all).
    pub(super) respond: bool,
    pub(super) result: ProduceResult,
}

impl<R> Partition<R> {
    /// With `flush_ms`: the periodic fsyncs up to `now` (one at each multiple of the period;
    /// none has appended since the last, so the log end then is the log end now).
    pub(super) fn flush_until(&mut self, now: SimTime, every: Option<Duration>) {
        if let Some(d) = every
            && now >= self.next_flush_ns
        {
            self.flushed = self.leo;
            self.next_flush_ns = (now / d.ns + 1).saturating_mul(d.ns);
        }
    }
}

impl<R: Record> KafkaLog<R> {
    pub(super) fn push_pending_quiet<E>(
        &mut self,
        sim: &mut Sim<E>,
        partition: u32,
        req: ProduceReq,
        n: u64,
        wrap: impl Fn(LogEvent) -> E,
    ) {
        self.push_pending_inner(sim, partition, req, n, false, ProduceResult::Ok, wrap);
    }

    pub(super) fn push_pending<E>(
        &mut self,
        sim: &mut Sim<E>,
        partition: u32,
        req: ProduceReq,
        n: u64,
        result: ProduceResult,
        wrap: impl Fn(LogEvent) -> E,
    ) {
        self.push_pending_inner(sim, partition, req, n, true, result, wrap);
    }

    #[allow(clippy::too_many_arguments)]
    fn push_pending_inner<E>(
        &mut self,
        sim: &mut Sim<E>,
        partition: u32,
        req: ProduceReq,
        n: u64,
        respond: bool,
        result: ProduceResult,
        wrap: impl Fn(LogEvent) -> E,
    ) {
        let now = sim.now();
        let part = &mut self.parts[partition as usize];
        let mut copied = [NEVER; MAX_REPLICATION as usize];
        let mut commit_at = part.pending.back().map_or(now, |b| b.commit_at).max(now);
        for (j, copied_at) in copied.iter_mut().enumerate().take(part.rf as usize) {
            if j == part.leader as usize {
                *copied_at = now;
                continue;
            }
            let fb = part.replicas[j] as usize;
            if n > 0
                && self.alive[fb]
                && part.last_copy[j] != NEVER
                && (self.frozen[fb] || (self.store_on && self.stores[fb].stopped()))
            {
                // The follower takes no writes now: it copies the batch when it can again.
                *copied_at = NEVER;
            } else if n > 0 && self.alive[fb] && part.last_copy[j] != NEVER {
                let t = (now + self.spec.replica_lag.sample(&mut self.rng)).max(part.last_copy[j]);
                part.last_copy[j] = t;
                *copied_at = t;
                if self.store_on
                    && self.stores[fb].write_anyway(u64::from(req.bytes), now)
                        == WriteResult::Switched
                    && let Some((ns, generation)) = self.stores[fb].next_job(now)
                {
                    sim.schedule_in(ns, wrap(LogEvent::StoreJob { broker: fb as u16, generation }));
                }
            } else if n == 0 {
                // Nothing to copy: a marker is "copied" when the batch before it is.
                *copied_at = part.pending.back().map_or(now, |b| b.copied[j]);
            }
            if part.isr & (1 << j) != 0 {
                commit_at = commit_at.max(*copied_at);
            }
        }
        part.pending.push_back(Pending { end: part.leo, copied, commit_at, req, respond, result });
        Self::schedule_commit(part, partition, sim, &wrap);
    }

    pub(super) fn schedule_commit<E>(
        part: &mut Partition<R>,
        partition: u32,
        sim: &mut Sim<E>,
        wrap: &impl Fn(LogEvent) -> E,
    ) {
        let Some(front) = part.pending.front() else { return };
        let at = front.commit_at;
        if at == NEVER {
            return;
        }
        // One commit event at a time, at the front's time; a later-scheduled one is kept (it
        // re-schedules when it fires), an earlier need schedules a new one.
        if part.commit_scheduled == NEVER || at < part.commit_scheduled {
            part.commit_scheduled = at;
            sim.schedule_at(at.max(sim.now()), wrap(LogEvent::Commit(partition)));
        }
    }

    /// Recomputes the commit times of a partition's pending batches (the ISR changed).
    pub(super) fn recompute(&mut self, partition: u32) {
        let part = &mut self.parts[partition as usize];
        if part.leader == NO_LEADER {
            // Nothing commits without a leader; the election recomputes.
            part.pending.iter_mut().for_each(|b| b.commit_at = NEVER);
            return;
        }
        let mut prev = 0;
        for b in part.pending.iter_mut() {
            let mut at = prev;
            for j in 0..part.rf as usize {
                if part.isr & (1 << j) != 0 && j != part.leader as usize {
                    at = at.max(b.copied[j]);
                }
            }
            b.commit_at = at;
            prev = at;
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::testkit::{Ev, Rec, log, next, on_log};
    use super::*;
    use crate::kafka::{Acks, KafkaLogParams, NO_SEQ};
    use pipesim_engine::{NS_PER_MS, NS_PER_S, NS_PER_US};

    /// Request `n` of producer 0 to partition 0 (its batch is the test's batch `n`).
    pub(in crate::kafka) fn req(n: u32, records: u32) -> ProduceReq {
        ProduceReq {
            producer: 0,
            partition: 0,
            slot: n,
            generation: 0,
            attempt: n,
            seq: NO_SEQ,
            bytes: records * 100,
        }
    }

    #[test]
    fn the_high_watermark_never_passes_the_slowest_in_sync_replica() {
        // Partition 0 on brokers 0 (leader), 1, 2; follower copies take 1-3 ms (lognormal), so
        // the slowest follower changes from batch to batch. Broker 2 crashes at 80.5 ms and
        // stays in the ISR, copying nothing, until it is noticed 50 ms later.
        let params = KafkaLogParams {
            partitions: 1,
            session_timeout: Duration { ns: 50 * NS_PER_MS },
            ..KafkaLogParams::default()
        };
        let mut log = log(params, Acks::All);
        let mut sim = Sim::new();
        for n in 0..200 {
            sim.schedule_at(u64::from(n) * NS_PER_MS, Ev::Produce(n));
        }
        sim.schedule_at(80 * NS_PER_MS + 500 * NS_PER_US, Ev::Crash(2));
        let batch = [Rec::new(0); 4];
        let mut out = Vec::new();
        let (mut moves, mut stalled_on_the_crashed) = (0, false);
        while let Some(ev) = next(&mut sim, NS_PER_S) {
            let now = sim.now();
            match ev {
                Ev::Produce(n) => log.produce(&mut sim, req(n, 4), Ev::Log, &mut out),
                Ev::Crash(b) => {
                    log.crash(&mut sim, b, crate::CrashScope::Process, Ev::Log, &mut out)
                }
                Ev::Log(e) => {
                    let p = &log.parts[0];
                    let (before, isr, rf) = (p.hw, p.isr, p.rf as usize);
                    let batches: Vec<_> = p.pending.iter().map(|b| (b.end, b.copied)).collect();
                    on_log(&mut log, &mut sim, e, |_| Some(&batch[..]), &mut out);
                    let hw = log.parts[0].hw;
                    moves += u32::from(hw > before);
                    for (end, copied) in batches {
                        let in_sync = (0..rf).filter(|&j| isr & (1 << j) != 0);
                        if end > before && end <= hw {
                            for j in in_sync {
                                assert!(
                                    copied[j] <= now,
                                    "at {now} ns the HW passed offset {end}, which in-sync \
                                     replica {j} copies only at {} ns",
                                    copied[j]
                                );
                            }
                        } else if end > hw && copied[2] == NEVER && isr & (1 << 2) != 0 {
                            stalled_on_the_crashed = true;
                        }
                    }
                }
                other => unreachable!("{other:?}"),
            }
            out.clear();
        }
        assert!(stalled_on_the_crashed, "the crashed follower never held the HW back");
        assert!(moves > 100, "the HW moved {moves} times");
        // Once broker 2 has left the ISR, the two others commit everything.
        assert_eq!(log.hw(0), 800);
        assert_eq!(log.leo(0), 800);
    }
}
