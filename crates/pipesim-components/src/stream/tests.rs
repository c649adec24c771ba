//! Unit tests of the stream consumers, driven over a real [`KafkaLog`] the way the
//! `event_sourced` model drives them: the test writes batches to chosen partitions, hands the
//! log's events to the log, tells the consumer when a partition's high watermark moved
//! (`data_available`) or a partition has a leader again (`leaders_changed`), and collects what
//! the consumer makes visible (at once, or an exactly-once commit's ranges read from the log
//! before `release_committed`) and what it dead-letters.

use super::processor::Phase;
use super::*;
use crate::kafka::testkit::{NoFiles, Rec, log, next};
use crate::kafka::{Acks, KafkaLog, KafkaLogParams, LogEvent, LogOutcome, NO_SEQ, ProduceReq};
use pipesim_config::{DistSpec, Duration};
use pipesim_engine::{Dist, NS_PER_MS, NS_PER_S, NS_PER_US, RngStreams, Sim, SimTime};

#[derive(Clone, Copy, Debug)]
enum Ev {
    Log(LogEvent),
    Stream(StreamEvent),
    Projection(ProjectionEvent),
    /// The test writes its batch number `n`.
    Produce(u32),
    /// The consumer's process crashes.
    Crash,
    /// The consumer's process is back.
    Restart,
    /// The projection's store goes down (`true`) or comes back.
    StoreDown(bool),
}

const FETCH_DELAY: Dist = Dist::Const { ns: NS_PER_MS };

fn constant(ns: u64) -> DistSpec {
    DistSpec::Const { value: Duration { ns } }
}

/// A log, the batches the test writes to it, and the run loop's shared half.
struct Bench {
    sim: Sim<Ev>,
    log: KafkaLog<Rec>,
    out: Vec<LogOutcome<Rec>>,
    /// Batch `n`: its partition and records.
    batches: Vec<(u32, Vec<Rec>)>,
    /// Per partition, the ids written, in offset order (one producer: a partition's batches
    /// are appended in the order they were sent).
    ids: Vec<Vec<u64>>,
    /// Partitions whose high watermark moved, and whether a partition got a leader, since the
    /// consumer was last told.
    available: Vec<u32>,
    led: bool,
}

impl Bench {
    /// A log of `partitions` partitions on 3 brokers whose followers copy a batch 1 ms after
    /// the leader appends it (so the high watermark moves 1 ms after a write).
    fn new(partitions: u32) -> Self {
        let params = KafkaLogParams {
            partitions,
            replica_lag: constant(NS_PER_MS),
            ..KafkaLogParams::default()
        };
        Bench {
            sim: Sim::new(),
            log: log(params, Acks::All),
            out: Vec::new(),
            batches: Vec::new(),
            ids: vec![Vec::new(); partitions as usize],
            available: Vec::new(),
            led: false,
        }
    }

    /// Writes records `ids` to `partition` as one batch at `at`.
    fn write_at(&mut self, at: SimTime, partition: u32, ids: impl IntoIterator<Item = u64>) {
        let records: Vec<Rec> = ids.into_iter().map(Rec::new).collect();
        self.ids[partition as usize].extend(records.iter().map(|r| r.id));
        self.sim.schedule_at(at, Ev::Produce(self.batches.len() as u32));
        self.batches.push((partition, records));
    }

    /// One record per millisecond to `partition`, ids `first..first + n`, from `start`.
    fn write_every_ms(&mut self, start: SimTime, partition: u32, first: u64, n: u64) {
        for i in 0..n {
            self.write_at(start + i * NS_PER_MS, partition, [first + i]);
        }
    }

    /// Handles a write or a log event (the other events are the consumer's), then notes what
    /// the log told the consumer.
    fn on_write(&mut self, ev: Ev) {
        let Bench { sim, log, out, batches, .. } = self;
        match ev {
            Ev::Produce(n) => {
                let (partition, records) = &batches[n as usize];
                let req = ProduceReq {
                    producer: 0,
                    partition: *partition,
                    slot: n,
                    generation: 0,
                    attempt: n,
                    seq: NO_SEQ,
                    bytes: records.len() as u32 * 100,
                };
                log.produce(sim, req, Ev::Log, out);
            }
            Ev::Log(LogEvent::Served { broker, epoch, req }) => {
                let records = &batches[req.slot as usize].1;
                log.served(sim, broker, epoch, req, Some(records), Ev::Log, out);
            }
            Ev::Log(e) => log.handle(sim, e, Ev::Log, out),
            _ => unreachable!("{ev:?} is the consumer's"),
        }
        for o in self.out.drain(..) {
            match o {
                LogOutcome::Available(p) => self.available.push(p),
                LogOutcome::Led(_) => self.led = true,
                LogOutcome::Respond(..) | LogOutcome::Compacted(_) => {}
            }
        }
    }
}

/// What a run made visible: (time, record id), in the order it became visible.
type Visible = Vec<(SimTime, u64)>;

fn processor(b: &Bench, params: StreamParams, max_poll_records: u32) -> StreamProcessor {
    let spec = params.validate(&NoFiles).expect("valid processor parameters");
    let consumer = ConsumerParams { max_poll_records, ..ConsumerParams::default() };
    let rng = RngStreams::new(11).stream("processor");
    StreamProcessor::new(&spec, &consumer, b.log.partitions(), FETCH_DELAY, rng)
}

/// Runs the processor until `until`, calling `watch` after every event (before an
/// exactly-once commit's output is released, so `committed_output` is what it committed).
fn run_processor(
    b: &mut Bench,
    sp: &mut StreamProcessor,
    until: SimTime,
    mut watch: impl FnMut(&StreamProcessor, &Ev, SimTime, &Visible),
) -> Visible {
    let mut visible: Visible = Vec::new();
    let mut out = Vec::new();
    sp.start(&mut b.sim, Ev::Stream);
    while let Some(ev) = next(&mut b.sim, until) {
        let now = b.sim.now();
        match ev {
            Ev::Stream(e) => sp.handle(&mut b.sim, &mut b.log, e, Ev::Stream, &mut out),
            Ev::Crash => sp.crash(now),
            Ev::Restart => sp.restart(&mut b.sim, Ev::Stream),
            _ => b.on_write(ev),
        }
        for p in std::mem::take(&mut b.available) {
            sp.data_available(&mut b.sim, &b.log, p, Ev::Stream);
        }
        if std::mem::take(&mut b.led) {
            sp.leaders_changed(&mut b.sim, &b.log, Ev::Stream);
        }
        visible.extend(out.drain(..).map(|r: Rec| (now, r.id)));
        // As the model does: the committed records are read in place from the log.
        for &(p, from, to) in sp.committed_output() {
            for off in from..to {
                visible.push((now, b.log.record(p, off).id));
            }
        }
        watch(sp, &ev, now, &visible);
        sp.release_committed(&mut b.log);
    }
    visible
}

fn ids(v: &Visible) -> Vec<u64> {
    v.iter().map(|&(_, id)| id).collect()
}

fn sorted(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v
}

#[test]
fn a_subtask_past_its_barrier_waits_until_every_subtask_has_reached_its_own() {
    // Two partitions, one per subtask, 100 us a record, at most 100 records in hand. Partition
    // 0 gets a record every millisecond (subtask 0 is nearly idle); partition 1 gets 600
    // records at 20 ms (60 ms of work for subtask 1). At the 50 ms trigger subtask 0 reaches
    // its barrier at once, while subtask 1 still has the records it had fetched (some 40)
    // before its own, and hundreds more after it.
    let mut b = Bench::new(2);
    b.write_every_ms(0, 0, 0, 200);
    b.write_at(20 * NS_PER_MS, 1, 1_000..1_600);
    let params = StreamParams {
        parallelism: Some(2),
        record_cost: constant(100 * NS_PER_US),
        checkpoint_interval: Duration { ns: 50 * NS_PER_MS },
        snapshot: constant(5 * NS_PER_MS),
        sink: Sink::AtLeastOnce,
        ..StreamParams::default()
    };
    let mut sp = processor(&b, params, 100);
    // Per checkpoint: when subtask 0 aligned and what it had processed then, how far partition
    // 0's fetched records went past its barrier meanwhile, whether subtask 1 was seen behind
    // its barrier meanwhile, and when the checkpoint's barriers were all aligned.
    let mut fast_aligned: Option<(SimTime, u64)> = None;
    let mut waiting_past_barrier = 0;
    let mut slow_seen_behind = false;
    let mut alignments: Vec<(SimTime, SimTime)> = Vec::new();
    let mut phase = Phase::Idle;
    run_processor(&mut b, &mut sp, NS_PER_S, |sp, _, now, _| {
        let fast = sp.feeds[0];
        if sp.phase == Phase::Aligning && sp.subtasks[0].aligned {
            let (_, held) = *fast_aligned.get_or_insert((now, fast.processed));
            assert_eq!(held, sp.barrier[0], "subtask 0 aligned short of its barrier");
            assert_eq!(
                fast.processed, held,
                "at {now} ns subtask 0 processed past its barrier while aligning"
            );
            waiting_past_barrier = waiting_past_barrier.max(fast.fetched - sp.barrier[0]);
            slow_seen_behind |= sp.feeds[1].processed < sp.barrier[1];
        }
        if phase == Phase::Aligning && sp.phase != Phase::Aligning {
            // Aligned: everything before each barrier, and nothing after it, is processed.
            for p in 0..2 {
                assert_eq!(sp.feeds[p].processed, sp.barrier[p], "partition {p} at alignment");
            }
            if let Some((at, _)) = fast_aligned.take() {
                alignments.push((at, now));
            }
        }
        phase = sp.phase;
    });
    assert!(slow_seen_behind, "subtask 1 was never behind its barrier while subtask 0 waited");
    // Over the checkpoints, at least 5 of partition 0's records (one a millisecond) waited
    // fetched behind its barrier.
    assert!(
        waiting_past_barrier >= 5,
        "partition 0 had at most {waiting_past_barrier} records fetched past its barrier"
    );
    // The first checkpoint: subtask 0 waited milliseconds for subtask 1 (which had some 40
    // records of 100 us before its barrier).
    let (fast_at, all_at) = alignments[0];
    assert!(
        all_at >= fast_at + 2 * NS_PER_MS,
        "subtask 0 aligned at {fast_at} ns, the checkpoint at {all_at} ns"
    );
    assert!(sp.stats.checkpoints >= 2);
    assert!(sp.stats.blocked_area > 0.0);
    assert!(sp.stats.align_max_ns >= 2 * NS_PER_MS);
    // Both subtasks went on after the checkpoints: everything was processed.
    assert_eq!((sp.feeds[0].processed, sp.feeds[1].processed), (200, 600));
}

/// Two partitions with a record every millisecond each for 200 ms, 10 us a record,
/// checkpoints every 50 ms (5 ms snapshot, 2 ms commit), run for 400 ms.
fn steady_processor(sink: Sink) -> (Bench, StreamProcessor) {
    let mut b = Bench::new(2);
    b.write_every_ms(0, 0, 0, 200);
    b.write_every_ms(0, 1, 1_000, 200);
    let params = StreamParams {
        record_cost: constant(10 * NS_PER_US),
        checkpoint_interval: Duration { ns: 50 * NS_PER_MS },
        snapshot: constant(5 * NS_PER_MS),
        commit: constant(2 * NS_PER_MS),
        sink,
        ..StreamParams::default()
    };
    let sp = processor(&b, params, 500);
    (b, sp)
}

#[test]
fn an_exactly_once_sink_outputs_what_came_before_the_barrier_at_the_commit() {
    let (mut b, mut sp) = steady_processor(Sink::ExactlyOnce);
    assert_eq!(sp.subtasks(), 2);
    let all_ids = b.ids.clone();
    let mut phase = Phase::Idle;
    let mut aligned_at: Option<[u64; 2]> = None;
    let mut next_from = [0u64; 2];
    let mut commits: Vec<SimTime> = Vec::new();
    let mut processed_before_first_commit = 0;
    let mut seen = 0;
    run_processor(&mut b, &mut sp, 400 * NS_PER_MS, |sp, _, now, visible| {
        // (Subtasks idle at the trigger align in the trigger's own event.)
        if phase != Phase::Snapshot && sp.phase == Phase::Snapshot {
            aligned_at = Some([sp.feeds[0].processed, sp.feeds[1].processed]);
        }
        phase = sp.phase;
        let ranges = sp.committed_output();
        if ranges.is_empty() {
            assert_eq!(visible.len(), seen, "at {now} ns output became visible without a commit");
            if commits.is_empty() {
                processed_before_first_commit = sp.stats.processed;
            }
            return;
        }
        // The commit outputs, per partition, exactly the records after the previous commit's
        // barrier and before this checkpoint's, which is what was processed at alignment.
        let barrier = aligned_at.take().expect("a commit follows an alignment");
        let expected: Vec<(u32, u64, u64)> = (0..2)
            .filter(|&p| next_from[p] < barrier[p])
            .map(|p| (p as u32, next_from[p], barrier[p]))
            .collect();
        assert_eq!(ranges, &expected[..], "commit at {now} ns");
        for p in 0..2 {
            // While records are written, some were processed after the barrier: they wait
            // for the next commit.
            if now < 190 * NS_PER_MS {
                assert!(sp.feeds[p].processed > barrier[p], "partition {p} at the commit");
            }
            next_from[p] = barrier[p];
        }
        let mut want = Vec::new();
        for &(p, from, to) in ranges {
            want.extend_from_slice(&all_ids[p as usize][from as usize..to as usize]);
        }
        assert_eq!(ids(visible)[seen..], want[..], "records output by the commit at {now} ns");
        seen = visible.len();
        commits.push(now);
    });
    assert!(processed_before_first_commit > 0, "nothing was processed before the first commit");
    // Triggers at 50, 100, ... 350 ms; the last records (written until 200 ms) are committed
    // by the checkpoint of 250 ms.
    assert!(commits.len() >= 4, "commits at {commits:?}");
    assert_eq!(next_from, [200, 200]);
}

#[test]
fn an_at_least_once_sink_outputs_records_as_they_are_processed() {
    let (mut b, mut sp) = steady_processor(Sink::AtLeastOnce);
    let mut before_first_checkpoint = 0;
    let all_ids = b.ids.clone();
    let visible = run_processor(&mut b, &mut sp, 400 * NS_PER_MS, |sp, _, now, visible| {
        assert!(sp.committed_output().is_empty());
        // What is visible is exactly what has been processed, at every moment.
        let mut want = Vec::new();
        for (p, ids) in all_ids.iter().enumerate() {
            want.extend_from_slice(&ids[..sp.feeds[p].processed as usize]);
        }
        assert_eq!(sorted(ids(visible)), sorted(want), "at {now} ns");
        if sp.stats.checkpoints == 0 {
            before_first_checkpoint = visible.len();
        }
    });
    assert!(before_first_checkpoint > 50, "{before_first_checkpoint} visible before a checkpoint");
    assert_eq!(visible.len(), 400);
    assert!(sp.stats.checkpoints >= 4);
}

/// One partition, a record every millisecond for 150 ms, 10 us a record, checkpoints every
/// 50 ms (5 ms snapshot, 2 ms commit); the process crashes at 80 ms and is back at 90 ms,
/// processing again 10 ms later. Returns the visible output, the processor, the offsets it had
/// processed at the crash and the last checkpoint's then.
fn crash_after_a_checkpoint(sink: Sink) -> (Visible, StreamProcessor, u64, u64) {
    let mut b = Bench::new(1);
    b.write_every_ms(0, 0, 0, 150);
    b.sim.schedule_at(80 * NS_PER_MS, Ev::Crash);
    b.sim.schedule_at(90 * NS_PER_MS, Ev::Restart);
    let params = StreamParams {
        record_cost: constant(10 * NS_PER_US),
        checkpoint_interval: Duration { ns: 50 * NS_PER_MS },
        snapshot: constant(5 * NS_PER_MS),
        commit: constant(2 * NS_PER_MS),
        restart_delay: Duration { ns: 10 * NS_PER_MS },
        sink,
        ..StreamParams::default()
    };
    let mut sp = processor(&b, params, 500);
    let mut at_crash = None;
    let visible = run_processor(&mut b, &mut sp, 400 * NS_PER_MS, |sp, ev, _, _| {
        if matches!(ev, Ev::Crash) {
            at_crash = Some((sp.feeds[0].processed, sp.last_ckpt[0]));
        }
    });
    let (processed, checkpoint) = at_crash.expect("the crash happened");
    assert!(0 < checkpoint && checkpoint < processed, "checkpoint {checkpoint}, {processed}");
    (visible, sp, processed, checkpoint)
}

#[test]
fn after_a_crash_the_processor_resumes_from_the_last_checkpoint() {
    // At least once: what was processed between the checkpoint and the crash is output again.
    let (visible, sp, processed, checkpoint) = crash_after_a_checkpoint(Sink::AtLeastOnce);
    assert_eq!(sp.stats.restarts, 1);
    assert_eq!(sp.stats.replayed, processed - checkpoint);
    let mut want: Vec<u64> = (0..150).collect();
    want.extend(checkpoint..processed);
    assert_eq!(sorted(ids(&visible)), sorted(want));
    // The replay starts at the checkpoint, after the restart delay.
    let replay = visible.iter().rposition(|&(_, id)| id == checkpoint).expect("replayed");
    assert!(visible[replay].0 >= 100 * NS_PER_MS);

    // Exactly once: the same records were processed twice, but output once, in order.
    let (visible, sp, processed, checkpoint) = crash_after_a_checkpoint(Sink::ExactlyOnce);
    assert_eq!(sp.stats.replayed, processed - checkpoint);
    assert_eq!(ids(&visible), (0..150).collect::<Vec<u64>>());
}

fn projection(b: &Bench, params: ProjectionParams) -> Projection {
    let spec = params.validate(&NoFiles).expect("valid projection parameters");
    let rng = RngStreams::new(13).stream("projection");
    Projection::new(&spec, &ConsumerParams::default(), b.log.partitions(), FETCH_DELAY, rng)
}

/// Runs the projection until `until`, calling `watch` after every event. Returns what it
/// applied and what it dead-lettered, with the times.
fn run_projection(
    b: &mut Bench,
    pj: &mut Projection,
    until: SimTime,
    mut watch: impl FnMut(&Projection),
) -> (Visible, Vec<(SimTime, u64, DeadLetter)>) {
    let (mut visible, mut dead) = (Vec::new(), Vec::new());
    let (mut applied, mut failed) = (Vec::new(), Vec::new());
    pj.start(&mut b.sim, Ev::Projection);
    while let Some(ev) = next(&mut b.sim, until) {
        let now = b.sim.now();
        match ev {
            Ev::Projection(e) => {
                pj.handle(&mut b.sim, &mut b.log, e, Ev::Projection, &mut applied, &mut failed)
            }
            Ev::StoreDown(down) => pj.set_store_down(down),
            _ => b.on_write(ev),
        }
        for p in std::mem::take(&mut b.available) {
            pj.data_available(&mut b.sim, &b.log, p, Ev::Projection);
        }
        visible.extend(applied.drain(..).map(|r: Rec| (now, r.id)));
        dead.extend(failed.drain(..).map(|(r, why): (Rec, DeadLetter)| (now, r.id, why)));
        watch(pj);
    }
    (visible, dead)
}

#[test]
fn a_poison_record_is_dead_lettered_after_its_retries_and_the_partition_goes_on() {
    // One partition, a record every millisecond, statements of up to 10 records taking
    // 200 us; 5 % of records are poison; 3 retries, 2, 4 then 8 ms apart, blocking.
    let mut b = Bench::new(1);
    let params = ProjectionParams {
        batch: 10,
        upsert: constant(200 * NS_PER_US),
        poison: 0.05,
        retries: 3,
        backoff: Duration { ns: 2 * NS_PER_MS },
        backoff_max: Duration { ns: 8 * NS_PER_MS },
        retry: RetryMode::Blocking,
        ..ProjectionParams::default()
    };
    let mut pj = projection(&b, params);
    b.write_every_ms(0, 0, 0, 200);
    let poison: Vec<u64> = (0..200).filter(|&id| pj.is_poison(id)).collect();
    assert!(poison.len() >= 2 && poison[0] < 150, "poison records {poison:?}");
    let (visible, dead) = run_projection(&mut b, &mut pj, NS_PER_S, |_| {});

    let dead_ids: Vec<u64> = dead.iter().map(|&(_, id, _)| id).collect();
    assert_eq!(dead_ids, poison);
    assert!(dead.iter().all(|&(_, _, why)| why == DeadLetter::Poison));
    // Every other record is applied, those after a poison record included, in order.
    let healthy: Vec<u64> = (0..200).filter(|id| !poison.contains(id)).collect();
    assert_eq!(ids(&visible), healthy);
    // Each poison record failed its first attempt and every retry, alone in its statement.
    let n = poison.len() as u64;
    assert_eq!(pj.stats.failures, 4 * n);
    assert_eq!(pj.stats.dead_lettered, n);
    // It was dead-lettered after its backoffs (written at `id` ms, 2 + 4 + 8 ms of waiting),
    // and with blocking retries the partition's next record waited for it.
    let (dead_at, first, _) = dead[0];
    assert!(dead_at >= (first + 14) * NS_PER_MS, "dead-lettered at {dead_at} ns");
    let after = visible.iter().find(|&&(_, id)| id > first).expect("a record after the poison");
    assert!(after.0 > dead_at, "record {} applied at {} ns", after.1, after.0);
}

#[test]
fn a_statement_that_keeps_failing_is_dead_lettered_as_failing() {
    // No poison; the store is down for the first 30 ms: the statements of the records written
    // meanwhile fail twice (1 retry, 2 ms later) and are dead-lettered, the later ones applied.
    let mut b = Bench::new(1);
    let params = ProjectionParams {
        batch: 10,
        upsert: constant(200 * NS_PER_US),
        retries: 1,
        backoff: Duration { ns: 2 * NS_PER_MS },
        ..ProjectionParams::default()
    };
    let mut pj = projection(&b, params);
    b.write_every_ms(0, 0, 0, 100);
    b.sim.schedule_at(0, Ev::StoreDown(true));
    b.sim.schedule_at(30 * NS_PER_MS, Ev::StoreDown(false));
    let (visible, dead) = run_projection(&mut b, &mut pj, NS_PER_S, |_| {});
    assert!(dead.len() >= 20, "{} dead-lettered", dead.len());
    assert!(dead.iter().all(|&(at, _, why)| why == DeadLetter::Failing && at <= 30 * NS_PER_MS));
    let mut all: Vec<u64> = ids(&visible);
    all.extend(dead.iter().map(|&(_, id, _)| id));
    assert_eq!(sorted(all), (0..100).collect::<Vec<u64>>());
}

/// One partition, a record every millisecond for 100 ms, one record per 100 us statement; the
/// store is down from 20 to 22 ms; retries 5 ms later. Returns the applied ids in the order
/// they became visible, the ids whose statement was deferred to the retry topic, and the
/// failures counted.
fn store_outage(retry: RetryMode) -> (Vec<u64>, Vec<u64>, u64) {
    let mut b = Bench::new(1);
    let params = ProjectionParams {
        upsert: constant(100 * NS_PER_US),
        retries: 3,
        backoff: Duration { ns: 5 * NS_PER_MS },
        retry,
        ..ProjectionParams::default()
    };
    let mut pj = projection(&b, params);
    b.write_every_ms(0, 0, 0, 100);
    b.sim.schedule_at(20 * NS_PER_MS, Ev::StoreDown(true));
    b.sim.schedule_at(22 * NS_PER_MS, Ev::StoreDown(false));
    let written = b.ids[0].clone();
    let mut deferred = Vec::new();
    let (visible, dead) = run_projection(&mut b, &mut pj, NS_PER_S, |pj| {
        for s in pj.workers[0].parked.values() {
            for off in s.from..s.to {
                let id = written[off as usize];
                if !deferred.contains(&id) {
                    deferred.push(id);
                }
            }
        }
    });
    assert!(dead.is_empty(), "dead-lettered {dead:?}");
    let visible = ids(&visible);
    assert_eq!(sorted(visible.clone()), (0..100).collect::<Vec<u64>>(), "each applied once");
    (visible, deferred, pj.stats.failures)
}

#[test]
fn a_deferred_retry_lets_later_records_of_its_partition_through_first() {
    let (visible, deferred, failures) = store_outage(RetryMode::Deferred);
    assert!(!deferred.is_empty() && failures >= deferred.len() as u64);
    let pos = |id: u64| visible.iter().position(|&v| v == id).expect("applied");
    for &id in &deferred {
        // The partition's next record that was not deferred is visible before it.
        let later = (id + 1..100).find(|n| !deferred.contains(n)).expect("a later record");
        assert!(pos(later) < pos(id), "record {id} deferred, yet applied before {later}");
    }
    // Apart from the deferred records, which landed later, the order is kept.
    let rest: Vec<u64> = visible.iter().copied().filter(|id| !deferred.contains(id)).collect();
    assert_eq!(rest, sorted(rest.clone()));

    // The contrast: blocking retries hit by the same outage keep the partition's order.
    let (visible, deferred, failures) = store_outage(RetryMode::Blocking);
    assert!(deferred.is_empty() && failures > 0);
    assert_eq!(visible, (0..100).collect::<Vec<u64>>());
}
