//! Broker crashes, restarts and leader elections: epochs, the ISR, the truncation of what a
//! new leader never copied, and with `crash_loses_unflushed` the cut back to the last fsync.
//! What they decide (what a consumer may read, what a leader change loses) goes through the
//! commit times of `replication.rs`.

use super::log::{NEVER, NO_LEADER, Partition};
use super::{KafkaLog, LogEvent, LogOutcome, NO_SEQ, ProduceResult, Record};
use crate::crash_scope::CrashScope;
use pipesim_engine::{Sim, SimTime};

impl<R> Partition<R> {
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

    /// Replica position `k` leads after an election that `old` (the crashed leader's position,
    /// if any) lost or won: cuts the log back to what the new leader has. Returns the records
    /// cut.
    fn truncate_for_new_leader(&mut self, k: usize, old: Option<usize>) -> u64 {
        // Truncate what the new leader never copied (a suffix: its copies are in order).
        let keep =
            self.pending.iter().position(|b| b.copied[k] == NEVER || b.copied[k] > self.crashed_at);
        let mut truncated = 0;
        if Some(k) == old {
            // The crashed leader is back before anyone else could lead.
            truncated += self.lose_unflushed();
        }
        self.crash_flushed = None;
        if let Some(first) = keep
            && Some(k) != old
        {
            let new_leo = if first == 0 { self.hw } else { self.pending[first - 1].end };
            for b in self.pending.drain(first..) {
                if b.req.seq != NO_SEQ {
                    let e = &mut self.expected[b.req.producer as usize];
                    *e = (*e).min(b.req.seq);
                }
            }
            let cut = self.leo - new_leo;
            for _ in 0..cut {
                self.records.pop_back();
            }
            truncated += cut;
            self.leo = new_leo;
        }
        truncated
    }
}

impl<R: Record> KafkaLog<R> {
    /// Broker `broker` crashes now (a `crash` fault of the log). Requests it held fail. A
    /// `Machine` crash (or any crash with `crash_loses_unflushed`) also loses what the broker
    /// had not fsynced: a partition it led is cut back to its last fsync if it leads again.
    pub fn crash<E>(
        &mut self,
        sim: &mut Sim<E>,
        broker: u32,
        scope: CrashScope,
        wrap: impl Fn(LogEvent) -> E + Copy,
        out: &mut Vec<LogOutcome<R>>,
    ) {
        let b = broker as usize;
        if !self.alive[b] {
            return;
        }
        let machine = scope == CrashScope::Machine || self.spec.params.crash_loses_unflushed;
        let now = sim.now();
        self.alive[b] = false;
        self.broker_epoch[b] = self.broker_epoch[b].wrapping_add(1);
        self.drop_connections(b, now, out);
        self.fail_held(b, out);
        let detect = if self.spec.params.controlled_shutdown {
            0
        } else {
            self.spec.params.session_timeout.ns
        };
        for i in 0..self.parts.len() {
            let part = &self.parts[i];
            let Some(j) = (0..part.rf as usize).find(|&j| part.replicas[j] as usize == b) else {
                continue;
            };
            if part.leader as usize == j {
                let elect_at = now + detect + self.spec.params.election.ns;
                if machine {
                    // What the leader had fsynced is all it keeps, if it leads again.
                    let part = &mut self.parts[i];
                    part.flush_until(now, self.spec.params.flush_ms);
                    part.crash_flushed = Some(part.flushed);
                }
                self.leader_crashed(sim, i, j, elect_at, wrap, out);
            } else {
                self.follower_crashed(sim, i, j, detect == 0, wrap);
            }
        }
        if detect > 0 {
            sim.schedule_in(
                detect,
                wrap(LogEvent::Detected { broker: broker as u16, epoch: self.broker_epoch[b] }),
            );
        }
    }

    /// The requests crashed broker `b` had in its handler station or waiting on its
    /// connections fail: the clients see their connections drop.
    fn drop_connections(&mut self, b: usize, now: SimTime, out: &mut Vec<LogOutcome<R>>) {
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
    }

    /// The leader of partition `i` (replica position `j`) crashed: the partition has no leader
    /// and its election ends at `elect_at`.
    fn leader_crashed<E>(
        &mut self,
        sim: &mut Sim<E>,
        i: usize,
        j: usize,
        elect_at: SimTime,
        wrap: impl Fn(LogEvent) -> E,
        out: &mut Vec<LogOutcome<R>>,
    ) {
        let now = sim.now();
        let part = &mut self.parts[i];
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
        sim.schedule_at(
            elect_at,
            wrap(LogEvent::Elected { partition: i as u32, epoch: part.epoch }),
        );
    }

    /// A follower of partition `i` (replica position `j`) crashed: it copies nothing more, and
    /// leaves the ISR at once if the crash is `noticed` (a controlled shutdown), otherwise only
    /// when it is detected.
    fn follower_crashed<E>(
        &mut self,
        sim: &mut Sim<E>,
        i: usize,
        j: usize,
        noticed: bool,
        wrap: impl Fn(LogEvent) -> E,
    ) {
        let now = sim.now();
        let part = &mut self.parts[i];
        for pb in part.pending.iter_mut() {
            if pb.copied[j] > now {
                pb.copied[j] = NEVER;
            }
        }
        part.last_copy[j] = NEVER;
        if noticed && part.isr & (1 << j) != 0 {
            part.isr &= !(1 << j);
        }
        if part.leader != NO_LEADER {
            self.recompute(i as u32);
            let part = &mut self.parts[i];
            Self::schedule_commit(part, i as u32, sim, &wrap);
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
    pub(super) fn elect<E>(
        &mut self,
        sim: &mut Sim<E>,
        partition: u32,
        wrap: impl Fn(LogEvent) -> E + Copy,
        out: &mut Vec<LogOutcome<R>>,
    ) {
        let part = &mut self.parts[partition as usize];
        let old = Some(part.failed_leader as usize).filter(|&o| o < part.rf as usize);
        let Some(k) = Self::new_leader(part, &self.alive, old) else {
            part.offline = true;
            return;
        };
        if let Some(o) = old
            && o != k
        {
            part.isr &= !(1 << o);
        }
        self.stats.truncated += part.truncate_for_new_leader(k, old);
        part.leader = k as u8;
        part.epoch = part.epoch.wrapping_add(1);
        part.commit_scheduled = NEVER;
        self.stats.elections += 1;
        self.copy_from_new_leader(sim.now(), partition, k);
        self.recompute(partition);
        let part = &mut self.parts[partition as usize];
        Self::schedule_commit(part, partition, sim, &wrap);
        out.push(LogOutcome::Led(partition));
    }

    /// Who leads after an election: the first live in-sync replica other than the crashed
    /// leader `old`, or else `old` itself if it is back (nobody else can lead); `None` leaves
    /// the partition offline.
    fn new_leader(part: &Partition<R>, alive: &[bool], old: Option<usize>) -> Option<usize> {
        // The crashed leader leaves the ISR, unless it is back and nobody else can lead.
        (0..part.rf as usize)
            .find(|&k| {
                part.isr & (1 << k) != 0 && alive[part.replicas[k] as usize] && Some(k) != old
            })
            .or_else(|| old.filter(|&o| alive[part.replicas[o] as usize]))
    }

    /// Replica position `k` now leads `partition`: the surviving batches above the HW are
    /// copied again from it, by every live follower that did not have them before the crash.
    fn copy_from_new_leader(&mut self, now: SimTime, partition: u32, k: usize) {
        let alive = &self.alive;
        let part = &mut self.parts[partition as usize];
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
    }
}

#[cfg(test)]
mod tests {
    use super::super::replication::tests::req;
    use super::super::testkit::{Ev, Rec, log, next, on_log};
    use super::*;
    use crate::kafka::{Acks, KafkaLogParams, ProduceReq};
    use pipesim_config::{DistSpec, Duration};
    use pipesim_engine::{NS_PER_MS, NS_PER_S, NS_PER_US};

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
                Ev::Crash(b) => log.crash(&mut sim, b, CrashScope::Process, Ev::Log, &mut out),
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
