//! What follows an append: the followers' copies of each batch above the high watermark,
//! the HW's moves (commits), and broker crashes, restarts and leader elections (epochs, the
//! ISR, truncation, and with `crash_loses_unflushed` the cut back to the last fsync). Together
//! because they decide what a consumer may read and what a leader change loses; a thawed
//! follower's late copies are made in `storage.rs` (`resume`).

use super::log::{NEVER, NO_LEADER, Partition};
use super::{
    KafkaLog, LogEvent, LogOutcome, MAX_REPLICATION, NO_SEQ, ProduceReq, ProduceResult, Record,
};
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

    /// The crashed leader leads again after a machine crash: its log is cut back to what it
    /// had fsynced (batch boundaries, since fsyncs follow appends). Returns the records cut.
    fn lose_unflushed(&mut self) -> u64 {
        let Some(to) = self.crash_flushed.take() else { return 0 };
        if to >= self.leo {
            return 0;
        }
        while self.pending.back().is_some_and(|b| b.end > to) {
            let b = self.pending.pop_back().expect("exists");
            if b.req.seq != NO_SEQ {
                let e = &mut self.expected[b.req.producer as usize];
                *e = (*e).min(b.req.seq);
            }
        }
        let cut = self.leo - to;
        if to <= self.base {
            self.records.clear();
            self.base = to;
        } else {
            self.records.truncate((to - self.base) as usize);
        }
        self.leo = to;
        self.hw = self.hw.min(to);
        self.flushed = to;
        self.closed.retain(|&(end, _)| end <= to);
        self.cleanable_end = self.cleanable_end.min(to);
        self.cleaned_end = self.cleaned_end.min(to);
        self.read_pos = self.read_pos.min(to);
        cut
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

    /// Broker `broker` crashes now (a `crash` fault of the log). Requests it held fail.
    #[expect(clippy::too_many_lines, reason = "over the 70-line budget (clippy.toml); to be split")]
    pub fn crash<E>(
        &mut self,
        sim: &mut Sim<E>,
        broker: u32,
        wrap: impl Fn(LogEvent) -> E + Copy,
        out: &mut Vec<LogOutcome<R>>,
    ) {
        let b = broker as usize;
        if !self.alive[b] {
            return;
        }
        let now = sim.now();
        self.alive[b] = false;
        self.broker_epoch[b] = self.broker_epoch[b].wrapping_add(1);
        let mut waiting = std::mem::take(&mut self.scratch);
        self.stations[b].reset(now, &mut waiting);
        for c in b * self.producers..(b + 1) * self.producers {
            self.conn_busy[c] = false;
            waiting.extend(self.conn_wait[c].drain(..).map(|(req, _)| req));
        }
        for req in waiting.drain(..) {
            self.stats.disconnected += 1;
            out.push(LogOutcome::Respond(req, ProduceResult::Disconnected));
        }
        self.scratch = waiting;
        self.fail_held(b, out);
        let detect = if self.spec.params.controlled_shutdown {
            0
        } else {
            self.spec.params.session_timeout.ns
        };
        for i in 0..self.parts.len() {
            let part = &mut self.parts[i];
            let Some(j) = (0..part.rf as usize).find(|&j| part.replicas[j] as usize == b) else {
                continue;
            };
            if part.leader as usize == j {
                if self.spec.params.crash_loses_unflushed {
                    part.flush_until(now, self.spec.params.flush_ms);
                    part.crash_flushed = Some(part.flushed);
                }
                // The leader is gone: its followers stop copying, producers waiting for commits
                // see their connections drop, and an election starts once the crash is noticed.
                for pb in part.pending.iter_mut() {
                    if pb.respond {
                        pb.respond = false;
                        self.stats.disconnected += 1;
                        out.push(LogOutcome::Respond(pb.req, ProduceResult::Disconnected));
                    }
                    for k in 0..part.rf as usize {
                        if k != j && pb.copied[k] > now {
                            pb.copied[k] = NEVER;
                        }
                    }
                    pb.commit_at = NEVER;
                }
                for k in 0..part.rf as usize {
                    if k != j && part.last_copy[k] > now {
                        part.last_copy[k] = now;
                    }
                }
                part.leader = NO_LEADER;
                part.failed_leader = j as u8;
                part.crashed_at = now;
                part.epoch = part.epoch.wrapping_add(1);
                part.commit_scheduled = NEVER;
                let at = now + detect + self.spec.params.election.ns;
                sim.schedule_at(
                    at,
                    wrap(LogEvent::Elected { partition: i as u32, epoch: part.epoch }),
                );
            } else {
                for pb in part.pending.iter_mut() {
                    if pb.copied[j] > now {
                        pb.copied[j] = NEVER;
                    }
                }
                part.last_copy[j] = NEVER;
                if detect == 0 && part.isr & (1 << j) != 0 {
                    part.isr &= !(1 << j);
                }
                if part.leader != NO_LEADER {
                    self.recompute(i as u32);
                    let part = &mut self.parts[i];
                    Self::schedule_commit(part, i as u32, sim, &wrap);
                }
            }
        }
        if detect > 0 {
            sim.schedule_in(
                detect,
                wrap(LogEvent::Detected { broker: broker as u16, epoch: self.broker_epoch[b] }),
            );
        }
    }

    /// Broker `broker` is back: it rejoins the ISR of its partitions and leads any partition
    /// that had no live in-sync replica.
    pub fn restart<E>(
        &mut self,
        sim: &mut Sim<E>,
        broker: u32,
        wrap: impl Fn(LogEvent) -> E + Copy,
        out: &mut Vec<LogOutcome<R>>,
    ) {
        let b = broker as usize;
        if self.alive[b] {
            return;
        }
        self.alive[b] = true;
        self.broker_epoch[b] = self.broker_epoch[b].wrapping_add(1);
        let now = sim.now();
        for i in 0..self.parts.len() {
            let part = &mut self.parts[i];
            let Some(j) = (0..part.rf as usize).find(|&j| part.replicas[j] as usize == b) else {
                continue;
            };
            if part.offline && part.isr & (1 << j) != 0 {
                // It was the last in-sync replica: it leads again, with everything it had (or,
                // a machine crash, with what it had fsynced).
                if part.failed_leader as usize == j {
                    self.stats.truncated += part.lose_unflushed();
                }
                part.offline = false;
                part.leader = j as u8;
                part.isr |= 1 << j;
                for pb in part.pending.iter_mut() {
                    pb.copied[j] = now;
                }
                part.epoch = part.epoch.wrapping_add(1);
                self.stats.elections += 1;
                self.recompute(i as u32);
                let part = &mut self.parts[i];
                Self::schedule_commit(part, i as u32, sim, &wrap);
                out.push(LogOutcome::Led(i as u32));
                continue;
            }
            part.isr |= 1 << j;
            part.last_copy[j] = now;
            if part.leader == NO_LEADER {
                continue; // the election in progress will re-replicate
            }
            for k in 0..part.pending.len() {
                if part.pending[k].copied[j] == NEVER {
                    let t =
                        (now + self.spec.replica_lag.sample(&mut self.rng)).max(part.last_copy[j]);
                    part.last_copy[j] = t;
                    part.pending[k].copied[j] = t;
                }
            }
            self.recompute(i as u32);
            let part = &mut self.parts[i];
            Self::schedule_commit(part, i as u32, sim, &wrap);
        }
    }

    /// A partition's election ends: the first live in-sync follower leads, keeping what it had.
    #[expect(clippy::too_many_lines, reason = "over the 70-line budget (clippy.toml); to be split")]
    pub(super) fn elect<E>(
        &mut self,
        sim: &mut Sim<E>,
        partition: u32,
        wrap: impl Fn(LogEvent) -> E + Copy,
        out: &mut Vec<LogOutcome<R>>,
    ) {
        let now = sim.now();
        let alive = &self.alive;
        let part = &mut self.parts[partition as usize];
        let old = Some(part.failed_leader as usize).filter(|&o| o < part.rf as usize);
        // The crashed leader leaves the ISR, unless it is back and nobody else can lead.
        let candidates = |part: &Partition<R>| {
            (0..part.rf as usize).find(|&k| {
                part.isr & (1 << k) != 0 && alive[part.replicas[k] as usize] && Some(k) != old
            })
        };
        let Some(k) =
            candidates(part).or_else(|| old.filter(|&o| alive[part.replicas[o] as usize]))
        else {
            part.offline = true;
            return;
        };
        if let Some(o) = old
            && o != k
        {
            part.isr &= !(1 << o);
        }
        // Truncate what the new leader never copied (a suffix: its copies are in order).
        let keep =
            part.pending.iter().position(|b| b.copied[k] == NEVER || b.copied[k] > part.crashed_at);
        if Some(k) == old {
            // The crashed leader is back before anyone else could lead.
            self.stats.truncated += part.lose_unflushed();
        }
        part.crash_flushed = None;
        if let Some(first) = keep
            && Some(k) != old
        {
            let new_leo = if first == 0 { part.hw } else { part.pending[first - 1].end };
            for b in part.pending.drain(first..) {
                if b.req.seq != NO_SEQ {
                    let e = &mut part.expected[b.req.producer as usize];
                    *e = (*e).min(b.req.seq);
                }
            }
            let cut = part.leo - new_leo;
            for _ in 0..cut {
                part.records.pop_back();
            }
            self.stats.truncated += cut;
            part.leo = new_leo;
        }
        part.leader = k as u8;
        part.epoch = part.epoch.wrapping_add(1);
        part.commit_scheduled = NEVER;
        self.stats.elections += 1;
        // The survivors above the HW are copied again from the new leader.
        for idx in 0..part.pending.len() {
            for g in 0..part.rf as usize {
                let b = &mut part.pending[idx];
                if g == k {
                    b.copied[g] = now;
                } else if b.copied[g] == NEVER || b.copied[g] > part.crashed_at {
                    if alive[part.replicas[g] as usize] {
                        let t = (now + self.spec.replica_lag.sample(&mut self.rng))
                            .max(part.last_copy[g]);
                        part.last_copy[g] = t;
                        part.pending[idx].copied[g] = t;
                    } else {
                        part.pending[idx].copied[g] = NEVER;
                    }
                }
            }
        }
        for g in 0..part.rf as usize {
            if g != k && alive[part.replicas[g] as usize] && part.last_copy[g] == NEVER {
                part.last_copy[g] = now;
            }
        }
        self.recompute(partition);
        let part = &mut self.parts[partition as usize];
        Self::schedule_commit(part, partition, sim, &wrap);
        out.push(LogOutcome::Led(partition));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{Ev, Rec, log, next, on_log};
    use super::*;
    use crate::kafka::{Acks, KafkaLogParams};
    use pipesim_config::DistSpec;
    use pipesim_engine::{NS_PER_MS, NS_PER_S, NS_PER_US};

    /// Request `n` of producer 0 to partition 0 (its batch is the test's batch `n`).
    fn req(n: u32, records: u32) -> ProduceReq {
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
                Ev::Crash(b) => log.crash(&mut sim, b, Ev::Log, &mut out),
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

    #[test]
    fn with_acks_1_a_leader_change_truncates_an_acknowledged_batch() {
        // Followers copy a batch 1 ms after the leader appends it. Batch 0 (3 records) at 0 is
        // copied; batch 1 (2 records) at 50 ms is acknowledged at once (acks = 1), and the
        // leader (broker 0) goes down at 50.5 ms, before either follower has it.
        let params = KafkaLogParams {
            partitions: 1,
            min_insync_replicas: 1,
            replica_lag: DistSpec::Const { value: Duration { ns: NS_PER_MS } },
            controlled_shutdown: true,
            ..KafkaLogParams::default()
        };
        let mut log = log(params, Acks::One);
        let mut sim = Sim::new();
        sim.schedule_at(0, Ev::Produce(0));
        sim.schedule_at(50 * NS_PER_MS, Ev::Produce(1));
        sim.schedule_at(50 * NS_PER_MS + 500 * NS_PER_US, Ev::Crash(0));
        let batches = [vec![Rec::new(0), Rec::new(1), Rec::new(2)], vec![Rec::new(3), Rec::new(4)]];
        let (mut out, mut answers, mut led) = (Vec::new(), Vec::new(), Vec::new());
        while let Some(ev) = next(&mut sim, NS_PER_S) {
            match ev {
                Ev::Produce(n) => {
                    let r = req(n, batches[n as usize].len() as u32);
                    log.produce(&mut sim, r, Ev::Log, &mut out);
                }
                Ev::Crash(b) => log.crash(&mut sim, b, Ev::Log, &mut out),
                Ev::Log(e) => {
                    let records = |r: &ProduceReq| Some(&batches[r.slot as usize][..]);
                    on_log(&mut log, &mut sim, e, records, &mut out);
                }
                other => unreachable!("{other:?}"),
            }
            for o in out.drain(..) {
                match o {
                    LogOutcome::Respond(r, result) => answers.push((r.attempt, result)),
                    LogOutcome::Led(p) => led.push((sim.now(), p)),
                    _ => {}
                }
            }
        }
        // Both batches were acknowledged; the election (200 ms after the crash) made broker 1
        // the leader, and it never had batch 1.
        assert_eq!(answers, [(0, ProduceResult::Ok), (1, ProduceResult::Ok)]);
        assert_eq!(led, [(250 * NS_PER_MS + 500 * NS_PER_US, 0)]);
        assert_eq!(log.leaders_per_broker(), [0, 1, 0]);
        assert_eq!(log.stats.truncated, 2);
        assert_eq!((log.leo(0), log.hw(0)), (3, 3));
        let kept: Vec<u64> = (0..3).map(|o| log.record(0, o).id).collect();
        assert_eq!(kept, [0, 1, 2]);
    }
}
