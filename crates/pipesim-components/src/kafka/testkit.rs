//! What the kafka module's unit tests share: a record type, a log built from parameters, the
//! test's event type and the two steps of a run loop (the next event in time order; a log event
//! handed to the log). The tests drive the log and the producer in-process, as a model does.
//! The stream consumers' tests (`stream/tests.rs`) use the record, the log and the loop's first
//! step with their own event type.

use super::{Acks, KafkaLog, KafkaLogParams, LogEvent, LogOutcome, ProduceReq, Record};
use pipesim_config::Loader;
use pipesim_engine::{RngStreams, Sim, SimTime};

/// A record of 100 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rec {
    pub(crate) id: u64,
    compacted: bool,
}

impl Rec {
    pub(crate) fn new(id: u64) -> Self {
        Rec { id, compacted: false }
    }
}

impl Record for Rec {
    fn key(&self) -> u32 {
        self.id as u32
    }
    fn bytes(&self) -> u32 {
        100
    }
    fn id(&self) -> u64 {
        self.id
    }
    fn mark_compacted(&mut self) {
        self.compacted = true;
    }
    fn is_compacted(&self) -> bool {
        self.compacted
    }
}

/// A loader for parameters that name no files.
pub(crate) struct NoFiles;
impl Loader for NoFiles {
    fn read_text(&self, _: &str) -> Result<String, String> {
        Err("no files".into())
    }
}

/// A cluster of `params` for one producer instance writing with `acks`.
pub(crate) fn log(params: KafkaLogParams, acks: Acks) -> KafkaLog<Rec> {
    let spec = params.validate(&NoFiles).expect("valid log parameters");
    KafkaLog::new(&spec, acks, 1, RngStreams::new(7).stream("log"))
}

/// The tests' events: the log's and the producer's own, and what a test schedules.
#[derive(Clone, Copy, Debug)]
pub(super) enum Ev {
    Log(LogEvent),
    Linger(u32, u32),
    Retry(u32, u32),
    Timeout,
    /// The test produces (or sends) its request or record number `n`.
    Produce(u32),
    /// A broker crashes.
    Crash(u32),
}

/// The next event at or before `until`, with the clock moved to it.
pub(crate) fn next<E>(sim: &mut Sim<E>, until: SimTime) -> Option<E> {
    if sim.queue().peek_key().is_none_or(|(t, _)| t > until) {
        return None;
    }
    let (t, ev) = sim.queue().pop().expect("peeked");
    sim.set_now(t);
    Some(ev)
}

/// Hands a log event to the log: `Served` with the records `records` finds for the request,
/// the others to `handle`.
pub(super) fn on_log<'a>(
    log: &mut KafkaLog<Rec>,
    sim: &mut Sim<Ev>,
    ev: LogEvent,
    records: impl FnOnce(&ProduceReq) -> Option<&'a [Rec]>,
    out: &mut Vec<LogOutcome<Rec>>,
) {
    match ev {
        LogEvent::Served { broker, epoch, req } => {
            log.served(sim, broker, epoch, req, records(&req), Ev::Log, out);
        }
        e => log.handle(sim, e, Ev::Log, out),
    }
}
