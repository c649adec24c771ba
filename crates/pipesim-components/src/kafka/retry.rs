//! The producer's failures: request timeouts, retries after a backoff (each batch on its own,
//! or with idempotence one at a time per partition in sequence order: the retry lane), and
//! giving up on a batch (retries or `delivery_timeout` exhausted).

use super::producer::State;
use super::{KafkaProducer, NO_SEQ, ProducerDrop, ProducerOut, Record};
use pipesim_engine::Sim;

/// The retry token of an idempotent partition's retry lane (its accumulator), as opposed to a
/// single batch's `(slot, generation)`.
const LANE: u32 = u32::MAX;

impl<R: Record> KafkaProducer<R> {
    /// The earliest request timeout is due (the model's `timeout_check` event fired).
    pub fn check_timeouts<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        retry: impl Fn(u32, u32) -> E,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        let mut expired = std::mem::take(&mut self.expired);
        self.deadlines.expire(sim, timeout_check, &mut expired);
        for (slot, attempt) in expired.drain(..) {
            let b = &self.batches[slot as usize];
            if b.attempt != attempt {
                continue;
            }
            match b.state {
                State::InFlight => {
                    self.stats.timeouts += 1;
                    self.failed(sim, slot, &retry, timeout_check, out);
                }
                State::Orphan => {
                    let b = &mut self.batches[slot as usize];
                    for r in b.records.drain(..) {
                        out.dropped.push((r, ProducerDrop::Crashed));
                    }
                    self.release(slot);
                }
                _ => {}
            }
        }
        self.expired = expired;
    }

    pub(super) fn failed<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        slot: u32,
        retry: impl Fn(u32, u32) -> E,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        let now = sim.now();
        let b = &mut self.batches[slot as usize];
        b.tries += 1;
        let lane = std::mem::take(&mut b.lane);
        let wait = self.params.backoff_ns(b.tries);
        let expires = b.created.saturating_add(self.params.delivery_timeout.ns);
        let a = b.acc as usize;
        let why = if b.tries > self.params.retries {
            Some(ProducerDrop::RetriesExhausted)
        } else if now + wait >= expires {
            Some(ProducerDrop::DeliveryTimeout)
        } else {
            None
        };
        if let Some(why) = why {
            self.give_up(slot, why, out);
            if lane {
                self.accs[a].retry_busy = false;
                self.arm_lane(sim, a, &retry);
            }
            self.pump(sim, a, timeout_check, out);
            return;
        }
        self.stats.retries += 1;
        b.state = State::Backoff;
        if !self.params.idempotence {
            // Each batch retries on its own: a retry can land after a later batch.
            sim.schedule_in(wait, retry(slot, b.generation));
            return;
        }
        // Idempotent: back into the partition's retry queue, in sequence order (Kafka's
        // producer re-enqueues a failed batch by sequence and retries one at a time).
        let seq = b.seq;
        let batches = &self.batches;
        let acc = &mut self.accs[a];
        let at = acc.retry_q.iter().position(|&s| batches[s as usize].seq > seq);
        acc.retry_q.insert(at.unwrap_or(acc.retry_q.len()), slot);
        if lane {
            acc.retry_busy = false;
        }
        self.arm_lane(sim, a, &retry);
    }

    /// Arms the retry timer of accumulator `a` if its lane is idle and a retry waits: the
    /// backoff of its first batch.
    fn arm_lane<E>(&mut self, sim: &mut Sim<E>, a: usize, retry: &impl Fn(u32, u32) -> E) {
        let acc = &mut self.accs[a];
        let Some(&head) = acc.retry_q.front() else { return };
        if acc.retry_busy {
            return;
        }
        acc.retry_busy = true;
        let wait = self.params.backoff_ns(self.batches[head as usize].tries);
        sim.schedule_in(wait, retry(a as u32, LANE));
    }

    /// The lane's retry succeeded: the next one goes at once (its backoff has passed while it
    /// waited), or the lane is idle and new batches flow again.
    pub(super) fn next_in_lane<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        a: usize,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        match self.accs[a].retry_q.pop_front() {
            Some(slot) => {
                self.batches[slot as usize].lane = true;
                self.dispatch(sim, slot, timeout_check, out);
            }
            None => self.accs[a].retry_busy = false,
        }
    }

    pub(super) fn give_up(&mut self, slot: u32, why: ProducerDrop, out: &mut ProducerOut<R>) {
        let b = &mut self.batches[slot as usize];
        let a = b.acc as usize;
        if matches!(b.state, State::InFlight | State::Backoff) {
            self.accs[a].in_flight -= 1;
        }
        if let Some(i) = self.accs[a].retry_q.iter().position(|&s| s == slot) {
            self.accs[a].retry_q.remove(i);
        }
        if b.seq != NO_SEQ {
            out.abandoned.push((b.acc / self.partitions, b.acc % self.partitions, b.seq));
        }
        for r in b.records.drain(..) {
            out.dropped.push((r, why));
        }
        self.release(slot);
    }

    /// A retry's backoff is over (`token` and `generation` as given to the `retry` event).
    pub fn retry_due<E: Copy>(
        &mut self,
        sim: &mut Sim<E>,
        token: u32,
        generation: u32,
        timeout_check: E,
        out: &mut ProducerOut<R>,
    ) {
        if generation == LANE {
            let a = token as usize;
            if self.down[a / self.partitions as usize] || !self.accs[a].retry_busy {
                return;
            }
            match self.accs[a].retry_q.pop_front() {
                Some(slot) => {
                    self.batches[slot as usize].lane = true;
                    self.dispatch(sim, slot, timeout_check, out);
                }
                None => {
                    self.accs[a].retry_busy = false;
                    self.pump(sim, a, timeout_check, out);
                }
            }
            return;
        }
        let b = &self.batches[token as usize];
        if b.generation != generation || b.state != State::Backoff {
            return;
        }
        // The retry held its in-flight place during the backoff.
        self.dispatch(sim, token, timeout_check, out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{Ev, Rec, log, next, on_log};
    use super::*;
    use crate::kafka::{Acks, KafkaLog, KafkaLogParams, KafkaProducerParams, LogOutcome};
    use pipesim_config::Duration;
    use pipesim_engine::NS_PER_S;

    /// One record sent at 0 whose first acknowledgement is lost: the producer times out after
    /// 1 s and retries. Returns the log, the producer and the records it acknowledged.
    fn retry_after_a_lost_ack(idempotence: bool) -> (KafkaLog<Rec>, KafkaProducer<Rec>, Vec<Rec>) {
        let params = KafkaProducerParams {
            linger: Duration { ns: 0 },
            idempotence,
            request_timeout: Duration { ns: NS_PER_S },
            ..KafkaProducerParams::default()
        };
        let mut producer = KafkaProducer::new(&params.validate().expect("valid"), 1, 1);
        let mut log = log(KafkaLogParams { partitions: 1, ..KafkaLogParams::default() }, Acks::All);
        let mut sim = Sim::new();
        sim.schedule_at(0, Ev::Produce(0));
        let (mut pout, mut lout) = (ProducerOut::default(), Vec::new());
        let (mut acked, mut lost) = (Vec::new(), false);
        while let Some(ev) = next(&mut sim, 10 * NS_PER_S) {
            match ev {
                Ev::Produce(n) => {
                    let r = Rec::new(u64::from(n));
                    producer.send(&mut sim, r, 0, 0, Ev::Linger, Ev::Timeout, &mut pout);
                }
                Ev::Linger(s, g) => producer.linger(&mut sim, s, g, Ev::Timeout, &mut pout),
                Ev::Retry(t, g) => producer.retry_due(&mut sim, t, g, Ev::Timeout, &mut pout),
                Ev::Timeout => producer.check_timeouts(&mut sim, Ev::Retry, Ev::Timeout, &mut pout),
                Ev::Log(e) => on_log(&mut log, &mut sim, e, |r| producer.records(r), &mut lout),
                Ev::Crash(_) => unreachable!(),
            }
            loop {
                for r in std::mem::take(&mut pout.sends) {
                    log.produce(&mut sim, r, Ev::Log, &mut lout);
                }
                if lout.is_empty() {
                    break;
                }
                for o in std::mem::take(&mut lout) {
                    let LogOutcome::Respond(r, result) = o else { continue };
                    if !std::mem::replace(&mut lost, true) {
                        continue; // the first answer is lost on the way back
                    }
                    producer.response(&mut sim, r, result, Ev::Retry, Ev::Timeout, &mut pout);
                }
            }
            acked.append(&mut pout.acked);
            assert!(pout.dropped.is_empty(), "dropped {:?}", pout.dropped);
        }
        assert!(lost);
        (log, producer, acked)
    }

    #[test]
    fn an_idempotent_retry_appends_once() {
        let (log, producer, acked) = retry_after_a_lost_ack(true);
        assert_eq!(producer.stats.retries, 1);
        assert_eq!(acked, [Rec::new(0)]);
        assert_eq!(log.stats.deduplicated, 1);
        assert_eq!((log.stats.records, log.leo(0), log.hw(0)), (1, 1, 1));
    }

    #[test]
    fn without_idempotence_the_same_retry_appends_twice() {
        // The contrast: what the test above would see if the leader did not recognise the retry.
        let (log, producer, acked) = retry_after_a_lost_ack(false);
        assert_eq!(producer.stats.retries, 1);
        assert_eq!(acked, [Rec::new(0)]);
        assert_eq!(log.stats.deduplicated, 0);
        assert_eq!((log.stats.records, log.leo(0), log.hw(0)), (2, 2, 2));
        assert_eq!(log.stats.batches, 2);
    }
}
