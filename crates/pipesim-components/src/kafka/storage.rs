//! The brokers' RocksDB-like stores (memtables, flushes, compactions, disk stalls) as the log
//! uses them, and process pauses (freeze, thaw): both hold appends, and the handler threads
//! serving them, until the broker may write again. The store itself is `crate::lsm`.

use super::log::{NEVER, NO_LEADER};
use super::{Acks, KafkaLog, LogEvent, LogOutcome, NO_SEQ, ProduceReq, ProduceResult, Record};
use crate::lsm::{StallFn, StoreStats};
use pipesim_engine::{Sim, SimTime};

impl<R: Record> KafkaLog<R> {
    /// Appends and follower copies go through the brokers' stores from now on. A model turns
    /// this on when the store can matter: something blocks its thread (a compaction, a disk
    /// stall), its sizes are not the defaults, or the load per broker reaches the flush
    /// bandwidth. Otherwise a flush always ends before the next memtable fills (flushing is
    /// faster than filling), writes never stop, and skipping the store's events leaves the
    /// results exactly as they were.
    pub fn enable_store(&mut self) {
        self.store_on = true;
    }

    /// Whether `req`, served by `broker`, would be appended (so it goes through the store).
    #[inline]
    pub(super) fn would_append(&self, broker: u16, req: &ProduceReq) -> bool {
        let part = &self.parts[req.partition as usize];
        if part.leader == NO_LEADER || part.replicas[part.leader as usize] != broker {
            return false;
        }
        if self.acks == Acks::All && part.isr.count_ones() < self.spec.params.min_insync_replicas {
            return false;
        }
        req.seq == NO_SEQ || req.seq == part.expected[req.producer as usize]
    }

    /// Starts the next job of `broker`'s store thread, if it is idle and has one.
    pub(super) fn kick_store<E>(
        &mut self,
        sim: &mut Sim<E>,
        broker: u16,
        wrap: impl Fn(LogEvent) -> E,
    ) {
        if let Some((ns, generation)) = self.stores[broker as usize].next_job(sim.now()) {
            sim.schedule_in(ns, wrap(LogEvent::StoreJob { broker, generation }));
        }
    }

    /// `broker` may write again: the appends it held are served again (in order), the copies
    /// it missed as a follower are made, and, if it thawed, its partitions commit again.
    pub(super) fn resume<E>(
        &mut self,
        sim: &mut Sim<E>,
        broker: u16,
        wrap: impl Fn(LogEvent) -> E + Copy,
    ) {
        let b = broker as usize;
        let now = sim.now();
        if self.frozen[b] {
            return;
        }
        for (epoch, req) in self.held[b].drain(..) {
            sim.schedule_at(now, wrap(LogEvent::Served { broker, epoch, req }));
        }
        if self.stores[b].stopped() || !self.alive[b] {
            return;
        }
        for i in 0..self.parts.len() {
            let part = &mut self.parts[i];
            let Some(j) = (0..part.rf as usize).find(|&j| part.replicas[j] == broker) else {
                continue;
            };
            if part.leader == NO_LEADER {
                continue;
            }
            if j == part.leader as usize {
                // Thawed leader: the HW can move again.
                part.commit_scheduled = NEVER;
                Self::schedule_commit(part, i as u32, sim, &wrap);
                continue;
            }
            if part.last_copy[j] == NEVER {
                continue; // crashed and not back: the restart re-replicates
            }
            let mut changed = false;
            for k in 0..part.pending.len() {
                if part.pending[k].copied[j] == NEVER {
                    let t =
                        (now + self.spec.replica_lag.sample(&mut self.rng)).max(part.last_copy[j]);
                    part.last_copy[j] = t;
                    part.pending[k].copied[j] = t;
                    if self.store_on {
                        let bytes = u64::from(part.pending[k].req.bytes);
                        let _ = self.stores[b].write_anyway(bytes, now);
                    }
                    changed = true;
                }
            }
            if changed {
                self.recompute(i as u32);
                let part = &mut self.parts[i];
                Self::schedule_commit(part, i as u32, sim, &wrap);
            }
        }
        self.kick_store(sim, broker, wrap);
    }

    /// Requests `broker` held when it crashed: their connections broke.
    pub(super) fn fail_held(&mut self, broker: usize, out: &mut Vec<LogOutcome<R>>) {
        for (_, req) in self.held[broker].drain(..) {
            self.stats.disconnected += 1;
            out.push(LogOutcome::Respond(req, ProduceResult::Disconnected));
        }
    }

    /// A schema change: a compaction of `ns` queued on `broker`'s store thread, ahead of any
    /// flush queued after it (seed 004).
    pub fn compact<E>(
        &mut self,
        sim: &mut Sim<E>,
        broker: u32,
        ns: SimTime,
        wrap: impl Fn(LogEvent) -> E,
    ) {
        self.stores[broker as usize].compact(ns, sim.now());
        self.kick_store(sim, broker as u16, wrap);
    }

    /// A disk stall of `broker` over `[start, end)`: its store thread's jobs started then take
    /// `f(ns, now)`; `None` ends it.
    pub fn set_disk_stall(&mut self, broker: u32, stall: Option<(SimTime, SimTime, StallFn)>) {
        self.stores[broker as usize].set_disk_stall(stall);
    }

    /// `broker`'s process freezes (a pause: GC, VM steal): it finishes no request, appends and
    /// copies nothing, moves no HW, until [`KafkaLog::thaw`].
    pub fn freeze(&mut self, broker: u32, now: SimTime) {
        self.frozen[broker as usize] = true;
        self.stores[broker as usize].set_frozen(true, now);
    }

    /// `broker`'s process runs again: what it held goes on.
    pub fn thaw<E>(&mut self, sim: &mut Sim<E>, broker: u32, wrap: impl Fn(LogEvent) -> E + Copy) {
        let b = broker as usize;
        if !self.frozen[b] {
            return;
        }
        self.frozen[b] = false;
        let _ = self.stores[b].set_frozen(false, sim.now());
        self.resume(sim, broker as u16, wrap);
    }

    /// Per broker: its store's counters, with the stop time up to `now`.
    pub fn store_stats(&self, now: SimTime) -> Vec<StoreStats> {
        self.stores
            .iter()
            .map(|s| StoreStats { stopped_ns: s.stopped_ns(now), ..s.stats })
            .collect()
    }
}
