//! The stream processor's checkpoints: the trigger and its barriers, the subtasks' alignment
//! (a subtask past its barrier stops until all are), the snapshot, the exactly-once sink's
//! commit once every partition has a leader, and checkpoint storms.

use super::StreamEvent;
use super::fetch::total_cost;
use super::processor::Phase;
use super::{Sink, StreamProcessor};
use crate::kafka::{KafkaLog, Record};
use pipesim_engine::{Sim, SimTime};

impl StreamProcessor {
    /// Every partition may have a leader again: an exactly-once commit waiting for them goes on.
    pub(crate) fn leaders_changed<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        wrap: impl Fn(StreamEvent) -> E,
    ) {
        if self.phase == Phase::WaitLeaders && !self.paused && log.all_led() {
            self.phase = Phase::Committing;
            let t = self.spec.commit.sample(&mut self.rng);
            self.commit_due = sim.now() + t;
            sim.schedule_in(t, wrap(StreamEvent::Committed { id: self.ckpt_id }));
        }
    }

    /// The exactly-once output the last commit made visible, as (partition, from, to) offset
    /// ranges of records still in `log` (compacted records among them are not output). Empty
    /// unless the event just handled was a commit.
    pub fn committed_output(&self) -> &[(u32, u64, u64)] {
        &self.committed_ranges
    }

    /// The caller has read [`StreamProcessor::committed_output`]: those records may leave memory.
    pub fn release_committed<R: Record>(&mut self, log: &mut KafkaLog<R>) {
        if !self.committed_ranges.is_empty() {
            self.committed_ranges.clear();
            self.release(log);
        }
    }

    /// Lets the log drop what neither a restart (the last checkpoint) nor uncommitted
    /// exactly-once output needs.
    fn release<R: Record>(&self, log: &mut KafkaLog<R>) {
        for p in 0..self.barrier.len() {
            let keep = match self.spec.params.sink {
                Sink::AtLeastOnce => self.last_ckpt[p],
                Sink::ExactlyOnce => self.last_ckpt[p].min(self.committed_out[p]),
            };
            log.release(p as u32, keep);
        }
    }

    pub(super) fn finish_cycle<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        let cycle = sim.now() - self.started_at;
        self.stats.cycle_sum_ns += u128::from(cycle);
        self.stats.cycle_max_ns = self.stats.cycle_max_ns.max(cycle);
        // Output a commit made visible is released once the caller has read it.
        if self.committed_ranges.is_empty() {
            self.release(log);
        }
        self.phase = Phase::Idle;
        if self.trigger_pending && !self.down {
            self.trigger_pending = false;
            self.trigger(sim, log, wrap);
        }
    }

    pub(super) fn trigger<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        self.ckpt_id = self.ckpt_id.wrapping_add(1);
        self.phase = Phase::Aligning;
        self.started_at = sim.now();
        self.aligned = 0;
        for (b, f) in self.barrier.iter_mut().zip(&self.feeds) {
            *b = f.fetched;
        }
        for s in 0..self.subtasks.len() as u32 {
            self.subtasks[s as usize].aligned = false;
            self.try_start(sim, log, s, wrap);
        }
    }

    /// Starts the subtask's next chunk if it can, or marks it aligned if it reached its barrier.
    pub(super) fn try_start<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        s: u32,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        if self.down || self.paused {
            return;
        }
        let aligning = self.phase == Phase::Aligning;
        let st = &mut self.subtasks[s as usize];
        if st.busy || st.aligned {
            return;
        }
        let n = st.parts.len();
        for i in 0..n {
            let p = st.parts[(st.rr + i) % n];
            let f = &self.feeds[p as usize];
            let limit = if aligning { f.fetched.min(self.barrier[p as usize]) } else { f.fetched };
            if f.processed < limit {
                let take = (limit - f.processed).min(u64::from(self.consumer.max_poll_records));
                let cost = total_cost(&self.spec.record_cost, take, &mut self.rng);
                st.busy = true;
                st.rr = (st.rr + i + 1) % n;
                st.chunk = (p, f.processed, f.processed + take);
                st.chunk_end = sim.now() + cost;
                let epoch = self.epoch;
                sim.schedule_in(cost, wrap(StreamEvent::Chunk { subtask: s, epoch }));
                return;
            }
        }
        if aligning
            && st
                .parts
                .iter()
                .all(|&p| self.feeds[p as usize].processed >= self.barrier[p as usize])
        {
            st.aligned = true;
            self.blocked_since[s as usize] = sim.now();
            self.aligned += 1;
            if self.aligned == self.subtasks.len() as u32 {
                self.aligned_all(sim, log, wrap);
            }
        }
    }

    fn aligned_all<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        let now = sim.now();
        let align = now - self.started_at;
        self.stats.align_sum_ns += u128::from(align);
        self.stats.align_max_ns = self.stats.align_max_ns.max(align);
        self.phase = Phase::Snapshot;
        let t = self.spec.snapshot.sample(&mut self.rng);
        self.snapshot_due = now + t;
        sim.schedule_in(t, wrap(StreamEvent::Snapshot { id: self.ckpt_id }));
        for s in 0..self.subtasks.len() {
            self.stats.blocked_area += self.window.overlap_ns(self.blocked_since[s], now) as f64;
            self.subtasks[s].aligned = false;
        }
        for s in 0..self.subtasks.len() as u32 {
            self.try_start(sim, log, s, wrap);
        }
    }

    /// A checkpoint storm starts (`Some(interval)`: checkpoints are triggered every `interval`
    /// from now on, the first one `interval` from now) or ends (`None`: back to the configured
    /// interval, on its original schedule, multiples of it from the start). A trigger while a
    /// checkpoint is still under way waits for it, as before.
    pub(crate) fn checkpoint_storm<E>(
        &mut self,
        sim: &mut Sim<E>,
        interval: Option<SimTime>,
        wrap: impl Fn(StreamEvent) -> E,
    ) {
        self.trigger_gen = self.trigger_gen.wrapping_add(1);
        self.storm_ns = interval.map(|i| i.max(1));
        let now = sim.now();
        let at = match self.storm_ns {
            Some(i) => now.saturating_add(i),
            None => {
                let every = self.spec.params.checkpoint_interval.ns;
                now.div_ceil(every).saturating_mul(every)
            }
        };
        sim.schedule_at(at, wrap(StreamEvent::Trigger { chain: self.trigger_gen }));
    }
}
