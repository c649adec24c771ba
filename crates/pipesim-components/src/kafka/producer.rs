//! The producer ([`KafkaProducer`]): per instance and partition an accumulator that batches
//! records (`batch_size`, `linger`), sends while `max_in_flight` allows, numbers batches when
//! idempotent, and handles the answers. Timeouts and retries are in `retry.rs`.

use super::{Acks, KafkaProducerParams, NO_SEQ, ProduceReq, ProduceResult, Record};
use crate::deadlines::Deadlines;
use pipesim_engine::{Sim, SimTime};
use std::collections::VecDeque;

/// No batch (an accumulator with no open batch).
const NONE: u32 = u32::MAX;

/// Why the producer dropped records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProducerDrop {
    /// `delivery_timeout` passed without an acknowledgement.
    DeliveryTimeout,
    /// Every retry failed.
    RetriesExhausted,
    /// `buffer_memory` was full.
    BufferFull,
    /// The instance crashed with the records unsent.
    Crashed,
    /// The instance was down when the record was created.
    Down,
}

impl ProducerDrop {
    /// Every reason, in a fixed order (for registering them).
    pub const ALL: [ProducerDrop; 5] = [
        ProducerDrop::DeliveryTimeout,
        ProducerDrop::RetriesExhausted,
        ProducerDrop::BufferFull,
        ProducerDrop::Crashed,
        ProducerDrop::Down,
    ];

    /// A human description.
    pub fn describe(self) -> &'static str {
        match self {
            ProducerDrop::DeliveryTimeout => "producer: delivery timeout expired",
            ProducerDrop::RetriesExhausted => "producer: retries exhausted",
            ProducerDrop::BufferFull => "producer: buffer memory full",
            ProducerDrop::Crashed => "producer: crashed with the records unsent",
            ProducerDrop::Down => "producer: instance down",
        }
    }

    /// Index in [`ProducerDrop::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What the producer tells the model; the model drains and clears it.
#[derive(Debug)]
pub struct ProducerOut<R> {
    /// Requests to send over the network.
    pub sends: Vec<ProduceReq>,
    /// Records acknowledged now.
    pub acked: Vec<R>,
    /// Records dropped now, with why.
    pub dropped: Vec<(R, ProducerDrop)>,
    /// Idempotent batches given up: (producer, partition, seq) for
    /// [`KafkaLog::skip_sequence`](super::KafkaLog::skip_sequence).
    pub abandoned: Vec<(u32, u32, u32)>,
}

impl<R> Default for ProducerOut<R> {
    fn default() -> Self {
        Self { sends: Vec::new(), acked: Vec::new(), dropped: Vec::new(), abandoned: Vec::new() }
    }
}

impl<R> ProducerOut<R> {
    /// Whether there is nothing to handle.
    pub fn is_empty(&self) -> bool {
        self.sends.is_empty()
            && self.acked.is_empty()
            && self.dropped.is_empty()
            && self.abandoned.is_empty()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    Free,
    Open,
    Queued,
    InFlight,
    Backoff,
    /// Its instance crashed while it was in flight: freed by its answer or its timeout.
    Orphan,
}

#[derive(Debug)]
pub(super) struct Batch<R> {
    pub(super) records: Vec<R>,
    bytes: u64,
    pub(super) acc: u32,
    pub(super) seq: u32,
    pub(super) attempt: u32,
    pub(super) tries: u32,
    pub(super) created: SimTime,
    /// When the current attempt was sent.
    sent: SimTime,
    pub(super) generation: u32,
    pub(super) state: State,
    ready: bool,
    /// Idempotent: this attempt is its partition's in-order retry.
    pub(super) lane: bool,
}

#[derive(Clone, Debug)]
pub(super) struct Acc {
    open: u32,
    queued: VecDeque<u32>,
    pub(super) in_flight: u32,
    next_seq: u32,
    /// Idempotent: failed batches waiting to be retried, in sequence order.
    pub(super) retry_q: VecDeque<u32>,
    /// Idempotent: a retry timer is armed or a retried batch is in flight (one at a time).
    pub(super) retry_busy: bool,
}

impl Acc {
    fn new() -> Self {
        Acc {
            open: NONE,
            queued: VecDeque::new(),
            in_flight: 0,
            next_seq: 0,
            retry_q: VecDeque::new(),
            retry_busy: false,
        }
    }
}

/// Counters for the report.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProducerStats {
    /// Requests sent (retries included).
    pub requests: u64,
    /// Batches created.
    pub batches: u64,
    /// Records in those batches.
    pub records: u64,
    /// Retries.
    pub retries: u64,
    /// Requests that timed out.
    pub timeouts: u64,
    /// Error answers.
    pub errors: u64,
}

/// The producer instances of a design.
pub struct KafkaProducer<R> {
    pub(super) params: KafkaProducerParams,
    pub(super) partitions: u32,
    pub(super) accs: Vec<Acc>,
    pub(super) batches: Vec<Batch<R>>,
    free: Vec<u32>,
    pub(super) deadlines: Deadlines<(u32, u32), (u32, u32)>,
    pub(super) expired: Vec<(u32, u32)>,
    buffered: Vec<u64>,
    pub(super) down: Vec<bool>,
    next_attempt: u32,
    /// Counters.
    pub stats: ProducerStats,
}

impl<R: Record> KafkaProducer<R> {
    /// Bytes `instances` producers writing to `partitions` partitions take: an accumulator per
    /// instance and partition (for the run estimate).
    pub fn state_bytes(instances: u32, partitions: u32) -> u64 {
        u64::from(instances) * u64::from(partitions) * std::mem::size_of::<Acc>() as u64
    }

    /// `instances` producers writing to `partitions` partitions.
    pub fn new(params: &KafkaProducerParams, instances: u32, partitions: u32) -> Self {
        let n = instances as usize * partitions as usize;
        Self {
            params: params.clone(),
            partitions,
            accs: vec![Acc::new(); n],
            batches: Vec::new(),
            free: Vec::new(),
            deadlines: Deadlines::new(),
            expired: Vec::new(),
            buffered: vec![0; instances as usize],
            down: vec![false; instances as usize],
            next_attempt: 0,
            stats: ProducerStats::default(),
        }
    }

    /// The parameters.
    pub fn params(&self) -> &KafkaProducerParams {
        &self.params
    }

    /// The records of the batch `req` carries, if the producer still has it.
    #[inline]
    pub fn records(&self, req: &ProduceReq) -> Option<&[R]> {
        let b = self.batches.get(req.slot as usize)?;
        (b.generation == req.generation && b.state != State::Free).then_some(b.records.as_slice())
    }

    /// A record created now by `instance` for `partition`. `linger(slot, generation)` is the model's
    /// event for a batch's linger timer.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn send<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        record: R,
        instance: u32,
        partition: u32,
        linger: impl Fn(u32, u32) -> E,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        let i = instance as usize;
        if self.down[i] {
            out.dropped.push((record, ProducerDrop::Down));
            return;
        }
        let bytes = u64::from(record.bytes());
        if self.buffered[i] + bytes > self.params.buffer_memory.bytes {
            out.dropped.push((record, ProducerDrop::BufferFull));
            return;
        }
        self.buffered[i] += bytes;
        let a = (instance * self.partitions + partition) as usize;
        let now = sim.now();
        let mut slot = self.accs[a].open;
        if slot == NONE {
            slot = self.alloc(a as u32, now);
            self.accs[a].open = slot;
            self.stats.batches += 1;
            let b = &mut self.batches[slot as usize];
            if self.params.linger.ns == 0 {
                b.ready = true;
            } else {
                sim.schedule_in(self.params.linger.ns, linger(slot, b.generation));
            }
        }
        let b = &mut self.batches[slot as usize];
        b.records.push(record);
        b.bytes += bytes;
        self.stats.records += 1;
        if b.bytes >= self.params.batch_size.bytes {
            b.state = State::Queued;
            self.accs[a].open = NONE;
            self.accs[a].queued.push_back(slot);
        }
        self.pump(sim, a, timeout_check, out);
    }

    fn alloc(&mut self, acc: u32, now: SimTime) -> u32 {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.batches.push(Batch {
                    records: Vec::new(),
                    bytes: 0,
                    acc,
                    seq: NO_SEQ,
                    attempt: 0,
                    tries: 0,
                    created: now,
                    sent: now,
                    generation: 0,
                    state: State::Free,
                    ready: false,
                    lane: false,
                });
                (self.batches.len() - 1) as u32
            }
        };
        let b = &mut self.batches[slot as usize];
        b.records.clear();
        b.bytes = 0;
        b.acc = acc;
        b.seq = NO_SEQ;
        b.tries = 0;
        b.created = now;
        b.state = State::Open;
        b.ready = false;
        b.lane = false;
        slot
    }

    pub(super) fn release(&mut self, slot: u32) {
        let b = &mut self.batches[slot as usize];
        let instance = b.acc / self.partitions;
        self.buffered[instance as usize] -= b.bytes;
        b.records.clear();
        b.bytes = 0;
        b.state = State::Free;
        b.generation = b.generation.wrapping_add(1);
        self.free.push(slot);
    }

    /// Sends what the accumulator `a` may send now.
    pub(super) fn pump<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        a: usize,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        let max = self.params.max_in_flight;
        loop {
            let acc = &mut self.accs[a];
            if self.params.acks != Acks::Zero && acc.in_flight >= max {
                return;
            }
            if acc.retry_busy || !acc.retry_q.is_empty() {
                return; // retried batches go first, one at a time, in sequence order
            }
            let slot = if let Some(s) = acc.queued.pop_front() {
                s
            } else if acc.open != NONE && self.batches[acc.open as usize].ready {
                let s = acc.open;
                acc.open = NONE;
                s
            } else {
                return;
            };
            let now = sim.now();
            let b = &self.batches[slot as usize];
            if now >= b.created.saturating_add(self.params.delivery_timeout.ns) {
                self.give_up(slot, ProducerDrop::DeliveryTimeout, out);
                continue;
            }
            let acc = &mut self.accs[a];
            let b = &mut self.batches[slot as usize];
            if self.params.idempotence {
                b.seq = acc.next_seq;
                acc.next_seq += 1;
            }
            if self.params.acks != Acks::Zero {
                acc.in_flight += 1;
            }
            self.dispatch(sim, slot, timeout_check, out);
        }
    }

    /// Sends the batch in `slot` (a first attempt or a retry).
    pub(super) fn dispatch<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        slot: u32,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        let attempt = self.next_attempt;
        self.next_attempt = self.next_attempt.wrapping_add(1);
        let now = sim.now();
        let b = &mut self.batches[slot as usize];
        b.attempt = attempt;
        b.sent = now;
        b.state = State::InFlight;
        let req = ProduceReq {
            producer: b.acc / self.partitions,
            partition: b.acc % self.partitions,
            slot,
            generation: b.generation,
            attempt,
            seq: b.seq,
            bytes: b.bytes.min(u64::from(u32::MAX)) as u32,
        };
        self.stats.requests += 1;
        if self.params.acks == Acks::Zero {
            // Fire and forget: done as far as the application knows.
            out.acked.extend_from_slice(&b.records);
        } else {
            let deadline = now + self.params.request_timeout.ns;
            self.deadlines.arm(sim, deadline, (slot, attempt), (slot, attempt), timeout_check);
        }
        out.sends.push(req);
    }

    /// The linger timer of the batch in `slot` fired.
    pub fn linger<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        slot: u32,
        generation: u32,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        let b = &mut self.batches[slot as usize];
        if b.generation != generation || b.state != State::Open {
            return;
        }
        b.ready = true;
        let a = b.acc as usize;
        self.pump(sim, a, timeout_check, out);
    }

    /// The answer to `req` arrived (with acks=0: the request was appended or refused).
    pub fn response<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        req: ProduceReq,
        result: ProduceResult,
        retry: impl Fn(u32, u32) -> E,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        let Some(b) = self.batches.get(req.slot as usize) else { return };
        if b.generation != req.generation || b.state == State::Free {
            return;
        }
        if self.params.acks == Acks::Zero {
            if b.state == State::InFlight && b.attempt == req.attempt {
                self.release(req.slot);
            }
            return;
        }
        if b.attempt != req.attempt {
            return; // an older attempt: the client already gave up on it
        }
        let deadline = b.sent + self.params.request_timeout.ns;
        if self.deadlines.disarm(deadline, (req.slot, req.attempt)).is_none() {
            return; // it timed out already
        }
        if b.state == State::Orphan {
            self.release(req.slot);
            return;
        }
        if result.is_success() {
            let a = b.acc as usize;
            let lane = b.lane;
            out.acked.extend_from_slice(&b.records);
            self.accs[a].in_flight -= 1;
            self.release(req.slot);
            if lane {
                self.next_in_lane(sim, a, timeout_check, out);
            }
            self.pump(sim, a, timeout_check, out);
        } else {
            self.stats.errors += 1;
            self.failed(sim, req.slot, retry, timeout_check, out);
        }
    }

    /// The request `req` was lost on the way (acks=0 frees its batch; the others time out).
    pub fn lost(&mut self, req: ProduceReq) {
        if self.params.acks == Acks::Zero
            && self.batches.get(req.slot as usize).is_some_and(|b| {
                b.generation == req.generation
                    && b.attempt == req.attempt
                    && b.state == State::InFlight
            })
        {
            self.release(req.slot);
        }
    }

    /// Instance `instance` crashes: records not sent are lost; requests in flight still land
    /// if they arrive, but nobody is told.
    pub fn crash(&mut self, instance: u32, out: &mut ProducerOut<R>) {
        if self.down[instance as usize] {
            return;
        }
        self.down[instance as usize] = true;
        for p in 0..self.partitions {
            let a = (instance * self.partitions + p) as usize;
            let mut slots: Vec<u32> = self.accs[a].queued.drain(..).collect();
            if self.accs[a].open != NONE {
                slots.push(self.accs[a].open);
            }
            slots.extend(self.accs[a].retry_q.drain(..));
            self.accs[a] = Acc::new();
            for s in slots {
                let b = &mut self.batches[s as usize];
                for r in b.records.drain(..) {
                    out.dropped.push((r, ProducerDrop::Crashed));
                }
                self.release(s);
            }
        }
        for s in 0..self.batches.len() {
            let b = &mut self.batches[s];
            if b.acc / self.partitions != instance {
                continue;
            }
            match b.state {
                State::Backoff => {
                    for r in b.records.drain(..) {
                        out.dropped.push((r, ProducerDrop::Crashed));
                    }
                    self.release(s as u32);
                }
                State::InFlight => b.state = State::Orphan,
                _ => {}
            }
        }
    }

    /// Instance `instance` is back (with a new producer id).
    pub fn restart(&mut self, instance: u32) {
        self.down[instance as usize] = false;
    }

    /// Whether `instance` is down.
    pub fn is_down(&self, instance: u32) -> bool {
        self.down[instance as usize]
    }
}
