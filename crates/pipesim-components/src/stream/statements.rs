//! A projection worker's statements: picking the next batch of a partition (a poison record
//! alone in its statement), running it, and what a failure leads to: a blocking backoff, a
//! deferred retry parked by due time, or the dead-letter queue once the retries are spent.

use super::{DeadLetter, Projection, ProjectionEvent, RetryMode};
use crate::kafka::{KafkaLog, Record};
use pipesim_engine::{Sim, SimTime};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Stmt {
    pub(super) p: u32,
    pub(super) from: u64,
    pub(super) to: u64,
    /// Failures so far.
    pub(super) failures: u32,
    pub(super) poison: bool,
    /// A deferred retry (its offsets are already counted as processed).
    pub(super) parked: bool,
    pub(super) fails_now: bool,
}

#[derive(Clone, Debug)]
pub(super) struct Worker {
    pub(super) parts: Vec<u32>,
    pub(super) rr: usize,
    pub(super) busy: bool,
    pub(super) waiting: bool,
    pub(super) stmt: Stmt,
    /// When the statement running returns, or the blocking backoff ends.
    pub(super) due: SimTime,
    /// Deferred retries by due time.
    pub(super) parked: BTreeMap<(SimTime, u64), Stmt>,
}

impl Projection {
    pub(super) fn try_start<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        w: u32,
        wrap: impl Fn(ProjectionEvent) -> E + Copy,
    ) {
        if self.down || self.paused {
            return;
        }
        let now = sim.now();
        let worker = &mut self.workers[w as usize];
        if worker.busy || worker.waiting {
            return;
        }
        // A due deferred retry first.
        if let Some((&(due, _), _)) = worker.parked.first_key_value()
            && due <= now
        {
            let (_, stmt) = worker.parked.pop_first().expect("first exists");
            self.run(sim, log, w, stmt, wrap);
            return;
        }
        let n = worker.parts.len();
        for i in 0..n {
            let p = worker.parts[(worker.rr + i) % n];
            let f = &self.feeds[p as usize];
            if f.processed >= f.fetched {
                continue;
            }
            worker.rr = (worker.rr + i + 1) % n;
            let from = f.processed;
            let end = f.fetched.min(from + u64::from(self.spec.params.batch));
            let mut to = from;
            let mut poison = false;
            while to < end {
                let r = log.record(p, to);
                if !r.is_compacted()
                    && self.poison_below > 0
                    && is_poison(r.id(), self.salt, self.poison_below)
                {
                    if to == from {
                        poison = true;
                        to += 1;
                    }
                    break;
                }
                to += 1;
            }
            let stmt = Stmt { p, from, to, failures: 0, poison, parked: false, fails_now: false };
            self.run(sim, log, w, stmt, wrap);
            return;
        }
    }

    /// Starts (or retries) `stmt` on worker `w`.
    pub(super) fn run<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        _log: &KafkaLog<R>,
        w: u32,
        mut stmt: Stmt,
        wrap: impl Fn(ProjectionEvent) -> E,
    ) {
        let rows = stmt.to - stmt.from;
        let mut cost = self.spec.upsert.sample(&mut self.rng);
        cost = cost.saturating_add(rows.saturating_mul(self.spec.params.upsert_per_row.ns));
        let transient = self.spec.params.fail > 0.0 && self.rng.chance(self.spec.params.fail);
        stmt.fails_now = stmt.poison || self.store_down || transient;
        let now = sim.now();
        let worker = &mut self.workers[w as usize];
        worker.busy = true;
        worker.stmt = stmt;
        worker.due = now.saturating_add(cost);
        self.stats.statements += 1;
        self.stats.busy_ns += u128::from(self.window.overlap_ns(now, now.saturating_add(cost)));
        let epoch = self.epoch;
        sim.schedule_in(cost, wrap(ProjectionEvent::Statement { worker: w, epoch }));
    }

    pub(super) fn statement_done<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        w: u32,
        wrap: impl Fn(ProjectionEvent) -> E + Copy,
        visible: &mut Vec<R>,
        dead: &mut Vec<(R, DeadLetter)>,
    ) {
        let now = sim.now();
        let worker = &mut self.workers[w as usize];
        worker.busy = false;
        let mut stmt = worker.stmt;
        let fails = stmt.fails_now || self.store_down;
        if !fails {
            for off in stmt.from..stmt.to {
                let r = log.record(stmt.p, off);
                if !r.is_compacted() {
                    visible.push(*r);
                    self.stats.rows += 1;
                }
            }
            self.advance(stmt);
        } else {
            self.stats.failures += 1;
            stmt.failures += 1;
            if stmt.failures > self.spec.params.retries {
                let why = if stmt.poison { DeadLetter::Poison } else { DeadLetter::Failing };
                for off in stmt.from..stmt.to {
                    let r = log.record(stmt.p, off);
                    if !r.is_compacted() {
                        dead.push((*r, why));
                        self.stats.dead_lettered += 1;
                    }
                }
                self.advance(stmt);
            } else {
                let wait = self.spec.params.backoff_ns(stmt.failures);
                match self.spec.params.retry {
                    RetryMode::Blocking => {
                        let worker = &mut self.workers[w as usize];
                        worker.waiting = true;
                        worker.stmt = stmt;
                        worker.due = now + wait;
                        let epoch = self.epoch;
                        sim.schedule_in(wait, wrap(ProjectionEvent::Backoff { worker: w, epoch }));
                        return;
                    }
                    RetryMode::Deferred => {
                        self.advance(stmt);
                        stmt.parked = true;
                        self.park_seq += 1;
                        self.workers[w as usize].parked.insert((now + wait, self.park_seq), stmt);
                        sim.schedule_in(wait, wrap(ProjectionEvent::Parked { worker: w }));
                    }
                }
            }
        }
        let p = stmt.p;
        self.try_start(sim, log, w, wrap);
        self.data_available(sim, log, p, wrap);
    }

    /// The statement's records are handled (applied, parked or dead-lettered).
    fn advance(&mut self, stmt: Stmt) {
        if !stmt.parked {
            let f = &mut self.feeds[stmt.p as usize];
            f.processed = f.processed.max(stmt.to);
        }
    }
}

#[inline]
pub(super) fn is_poison(id: u64, salt: u64, below: u64) -> bool {
    let mut z = id ^ salt;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) < below
}
