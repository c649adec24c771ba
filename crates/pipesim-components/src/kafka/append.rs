//! The leader's side of a produce request: one request per connection at a time, the
//! memtable write (with the store on), the leader and ISR checks, the idempotent sequence
//! check, and the append itself. What happens after the append (copies, the HW) is in
//! `replication.rs`.

use super::log::NO_LEADER;
use super::{Acks, KafkaLog, LogEvent, LogOutcome, NO_SEQ, ProduceReq, ProduceResult, Record};
use crate::lsm::WriteResult;
use pipesim_engine::{NS_PER_S, Sim, SimTime};

impl<R: Record> KafkaLog<R> {
    /// A produce request reached the cluster: it queues at the partition's leader, or is
    /// answered at once with an error.
    pub fn produce<E>(
        &mut self,
        sim: &mut Sim<E>,
        req: ProduceReq,
        wrap: impl Fn(LogEvent) -> E,
        out: &mut Vec<LogOutcome<R>>,
    ) {
        self.stats.requests += 1;
        let part = &self.parts[req.partition as usize];
        if part.leader == NO_LEADER {
            self.stats.not_leader += 1;
            out.push(LogOutcome::Respond(req, ProduceResult::NotLeader));
            return;
        }
        let broker = part.replicas[part.leader as usize];
        if !self.alive[broker as usize] {
            self.stats.disconnected += 1;
            out.push(LogOutcome::Respond(req, ProduceResult::Disconnected));
            return;
        }
        let cost = self
            .spec
            .request
            .sample(&mut self.rng)
            .saturating_add((f64::from(req.bytes) * self.ns_per_byte) as SimTime);
        let c = broker as usize * self.producers + req.producer as usize;
        if self.conn_busy[c] {
            self.conn_wait[c].push_back((req, cost));
            return;
        }
        self.conn_busy[c] = true;
        let epoch = self.broker_epoch[broker as usize];
        self.stations[broker as usize]
            .offer(sim, req, cost, |req| wrap(LogEvent::Served { broker, epoch, req }));
    }

    /// The broker handled a request of `producer`'s connection: it reads the next one.
    fn next_on_connection<E>(
        &mut self,
        sim: &mut Sim<E>,
        broker: u16,
        producer: u32,
        wrap: impl Fn(LogEvent) -> E,
    ) {
        let c = broker as usize * self.producers + producer as usize;
        match self.conn_wait[c].pop_front() {
            Some((req, cost)) => {
                let epoch = self.broker_epoch[broker as usize];
                self.stations[broker as usize]
                    .offer(sim, req, cost, |req| wrap(LogEvent::Served { broker, epoch, req }));
            }
            None => self.conn_busy[c] = false,
        }
    }

    /// A handler thread finished `req` on `broker`: the leader appends `records` (the batch, or
    /// `None` if the producer no longer has it, in which case nothing is appended or answered).
    #[allow(clippy::too_many_arguments)]
    pub fn served<E>(
        &mut self,
        sim: &mut Sim<E>,
        broker: u16,
        epoch: u32,
        req: ProduceReq,
        records: Option<&[R]>,
        wrap: impl Fn(LogEvent) -> E + Copy,
        out: &mut Vec<LogOutcome<R>>,
    ) {
        if epoch != self.broker_epoch[broker as usize] {
            // In service when the broker crashed: the connection broke.
            self.stats.disconnected += 1;
            out.push(LogOutcome::Respond(req, ProduceResult::Disconnected));
            return;
        }
        if self.frozen[broker as usize] {
            // A paused process finishes nothing: the thread holds the request until it thaws.
            self.held[broker as usize].push_back((epoch, req));
            return;
        }
        if self.store_on
            && records.is_some()
            && self.would_append(broker, &req)
            && !self.write_to_store(sim, broker, epoch, req, wrap)
        {
            return;
        }
        self.stations[broker as usize]
            .complete(sim, |req| wrap(LogEvent::Served { broker, epoch, req }));
        self.next_on_connection(sim, broker, req.producer, wrap);
        self.append_as_leader(sim, broker, req, records, wrap, out);
    }

    /// Writes `req`'s append into `broker`'s memtable. Returns `false` when every memtable is
    /// full: the append waits, and so does its handler thread (RocksDB's write stall), so the
    /// request is held until the store resumes.
    fn write_to_store<E>(
        &mut self,
        sim: &mut Sim<E>,
        broker: u16,
        epoch: u32,
        req: ProduceReq,
        wrap: impl Fn(LogEvent) -> E + Copy,
    ) -> bool {
        let now = sim.now();
        match self.stores[broker as usize].write(u64::from(req.bytes), now) {
            WriteResult::Done => true,
            WriteResult::Switched => {
                self.kick_store(sim, broker, wrap);
                true
            }
            WriteResult::Stopped => {
                self.held[broker as usize].push_back((epoch, req));
                false
            }
        }
    }

    /// The leader's side once the handler is done: refuse the request if `broker` is no longer
    /// the leader, if too few replicas are in sync for `acks = all`, or if its sequence is not
    /// the next one; otherwise append `records` and answer (or wait for the commit).
    fn append_as_leader<E>(
        &mut self,
        sim: &mut Sim<E>,
        broker: u16,
        req: ProduceReq,
        records: Option<&[R]>,
        wrap: impl Fn(LogEvent) -> E + Copy,
        out: &mut Vec<LogOutcome<R>>,
    ) {
        let min_isr = self.spec.params.min_insync_replicas;
        let acks = self.acks;
        let part = &self.parts[req.partition as usize];
        if part.leader == NO_LEADER || part.replicas[part.leader as usize] != broker {
            self.stats.not_leader += 1;
            out.push(LogOutcome::Respond(req, ProduceResult::NotLeader));
            return;
        }
        let Some(records) = records else { return };
        if acks == Acks::All && part.isr.count_ones() < min_isr {
            self.stats.not_enough_replicas += 1;
            out.push(LogOutcome::Respond(req, ProduceResult::NotEnoughReplicas));
            return;
        }
        if !self.accept_sequence(sim, req, wrap, out) {
            return;
        }
        let n = self.append_records(sim.now(), req.partition, records);
        self.count_appended(sim.now(), n);
        match acks {
            Acks::All => {
                self.push_pending(sim, req.partition, req, n, ProduceResult::Ok, wrap);
            }
            Acks::One | Acks::Zero => {
                out.push(LogOutcome::Respond(req, ProduceResult::Ok));
                self.push_pending_quiet(sim, req.partition, req, n, wrap);
            }
        }
    }

    /// The idempotent sequence check: `true` if `req` carries no sequence or the one its
    /// producer's next batch must have (which it then expects one past). A duplicate is answered
    /// as such (under `acks = all` only once everything before it is committed); a gap is
    /// refused as out of order.
    fn accept_sequence<E>(
        &mut self,
        sim: &mut Sim<E>,
        req: ProduceReq,
        wrap: impl Fn(LogEvent) -> E + Copy,
        out: &mut Vec<LogOutcome<R>>,
    ) -> bool {
        if req.seq == NO_SEQ {
            return true;
        }
        let expected = self.parts[req.partition as usize].expected[req.producer as usize];
        if req.seq < expected {
            self.stats.deduplicated += 1;
            if self.acks == Acks::All {
                // Answered once everything before it is committed, the original included.
                self.push_pending(sim, req.partition, req, 0, ProduceResult::Duplicate, wrap);
            } else {
                out.push(LogOutcome::Respond(req, ProduceResult::Duplicate));
            }
            return false;
        }
        if req.seq > expected {
            self.stats.out_of_order += 1;
            out.push(LogOutcome::Respond(req, ProduceResult::OutOfOrder));
            return false;
        }
        self.parts[req.partition as usize].expected[req.producer as usize] = expected + 1;
        true
    }

    /// Appends `records` to `partition`'s log at `now`: its log end, its fsync position (with
    /// `flush_messages`) and its open segment (closed when full, with compaction). Returns how
    /// many records were appended.
    fn append_records(&mut self, now: SimTime, partition: u32, records: &[R]) -> u64 {
        let part = &mut self.parts[partition as usize];
        part.flush_until(now, self.spec.params.flush_ms);
        let mut bytes = 0u64;
        for r in records {
            bytes += u64::from(r.bytes());
            part.records.push_back(*r);
        }
        let n = records.len() as u64;
        part.leo += n;
        if let Some(every) = self.spec.params.flush_messages
            && part.leo - part.flushed >= every
        {
            part.flushed = part.leo;
        }
        part.segment_fill += bytes;
        if self.spec.params.compaction && part.segment_fill >= self.spec.params.segment_bytes.bytes
        {
            part.segment_fill = 0;
            part.closed.push_back((part.leo, now));
        }
        n
    }

    /// Counts a batch of `n` records appended at `now`, and the busiest whole second's records.
    fn count_appended(&mut self, now: SimTime, n: u64) {
        self.stats.batches += 1;
        self.stats.records += n;
        let window = now / NS_PER_S;
        if window != self.stats.window {
            self.stats.window = window;
            self.stats.window_records = 0;
        }
        self.stats.window_records += n;
        self.stats.peak_window_records =
            self.stats.peak_window_records.max(self.stats.window_records);
    }

    /// A producer instance restarted with a new producer id: its sequences start again at 0.
    pub fn reset_producer(&mut self, producer: u32) {
        for p in &mut self.parts {
            p.expected[producer as usize] = 0;
        }
    }

    /// The producer gave up the batch with sequence `seq` (it bumps its epoch and renumbers,
    /// as Kafka's producer does since KIP-360): the leader stops waiting for it.
    pub fn skip_sequence(&mut self, producer: u32, partition: u32, seq: u32) {
        let e = &mut self.parts[partition as usize].expected[producer as usize];
        if *e == seq {
            *e = seq + 1;
        }
    }
}
