//! [`LogConsumer`]: the calls a design makes on whichever consumer reads its log. The stream
//! processor and the projection answer the same lifecycle, data and fault calls, so a design
//! that offers both holds either one and makes each call once, whatever the consumer is.

use super::{Projection, ProjectionEvent, StreamEvent, StreamProcessor};
use crate::kafka::{KafkaLog, Record};
use pipesim_engine::{Sim, SimTime, Window};

/// A consumer of a [`KafkaLog`], as the design driving it sees it. Each call takes `wrap`,
/// which puts the consumer's own event into the design's event type (`Ev::from`); events
/// scheduled by a call keep the order in which the call schedules them.
pub trait LogConsumer {
    /// The consumer's own events (fetch answers, timers, restarts).
    type Event: Copy;

    /// The measured interval `[from, to)`: statistics count work done in it.
    fn set_window(&mut self, window: Window);

    /// Schedules the consumer's first timer (a checkpoint trigger, an offset commit).
    fn start<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(Self::Event) -> E + Copy);

    /// The log's high watermark moved on `partition`: fetch if the consumer can.
    fn data_available<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        partition: u32,
        wrap: impl Fn(Self::Event) -> E + Copy,
    );

    /// `partition` has a new leader. The processor's exactly-once commit waiting for every
    /// partition to be led goes on; the projection moves its positions below the log's end if
    /// a machine crash cut the log there (a no-op otherwise).
    fn leader_changed<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        partition: u32,
        wrap: impl Fn(Self::Event) -> E + Copy,
    );

    /// The process dies at `now`: work in hand is lost.
    fn crash(&mut self, now: SimTime);

    /// The process is back: it resumes from its last checkpoint or committed offsets after
    /// its restart delay.
    fn restart<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(Self::Event) -> E + Copy);

    /// The process freezes at `now`.
    fn pause(&mut self, now: SimTime);

    /// The process runs again after a pause.
    fn resume<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        wrap: impl Fn(Self::Event) -> E + Copy,
    );

    /// Checkpoints (or offset commits) at `interval` from now on, or at the configured
    /// interval again when `None`.
    fn checkpoint_storm<E>(
        &mut self,
        sim: &mut Sim<E>,
        interval: Option<SimTime>,
        wrap: impl Fn(Self::Event) -> E + Copy,
    );
}

impl LogConsumer for StreamProcessor {
    type Event = StreamEvent;

    fn set_window(&mut self, window: Window) {
        StreamProcessor::set_window(self, window);
    }

    fn start<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(StreamEvent) -> E + Copy) {
        StreamProcessor::start(self, sim, wrap);
    }

    fn data_available<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        partition: u32,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        StreamProcessor::data_available(self, sim, log, partition, wrap);
    }

    fn leader_changed<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        _partition: u32,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        StreamProcessor::leaders_changed(self, sim, log, wrap);
    }

    fn crash(&mut self, now: SimTime) {
        StreamProcessor::crash(self, now);
    }

    fn restart<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(StreamEvent) -> E + Copy) {
        StreamProcessor::restart(self, sim, wrap);
    }

    fn pause(&mut self, now: SimTime) {
        StreamProcessor::pause(self, now);
    }

    fn resume<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        StreamProcessor::resume(self, sim, log, wrap);
    }

    fn checkpoint_storm<E>(
        &mut self,
        sim: &mut Sim<E>,
        interval: Option<SimTime>,
        wrap: impl Fn(StreamEvent) -> E + Copy,
    ) {
        StreamProcessor::checkpoint_storm(self, sim, interval, wrap);
    }
}

impl LogConsumer for Projection {
    type Event = ProjectionEvent;

    fn set_window(&mut self, window: Window) {
        Projection::set_window(self, window);
    }

    fn start<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(ProjectionEvent) -> E + Copy) {
        Projection::start(self, sim, wrap);
    }

    fn data_available<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        partition: u32,
        wrap: impl Fn(ProjectionEvent) -> E + Copy,
    ) {
        Projection::data_available(self, sim, log, partition, wrap);
    }

    fn leader_changed<R: Record, E>(
        &mut self,
        _sim: &mut Sim<E>,
        log: &KafkaLog<R>,
        partition: u32,
        _wrap: impl Fn(ProjectionEvent) -> E + Copy,
    ) {
        Projection::rewind(self, partition, log.leo(partition));
    }

    fn crash(&mut self, _now: SimTime) {
        Projection::crash(self);
    }

    fn restart<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(ProjectionEvent) -> E + Copy) {
        Projection::restart(self, sim, wrap);
    }

    fn pause(&mut self, now: SimTime) {
        Projection::pause(self, now);
    }

    fn resume<R: Record, E>(
        &mut self,
        sim: &mut Sim<E>,
        log: &mut KafkaLog<R>,
        wrap: impl Fn(ProjectionEvent) -> E + Copy,
    ) {
        Projection::resume(self, sim, log, wrap);
    }

    fn checkpoint_storm<E>(
        &mut self,
        sim: &mut Sim<E>,
        interval: Option<SimTime>,
        wrap: impl Fn(ProjectionEvent) -> E + Copy,
    ) {
        Projection::checkpoint_storm(self, sim, interval, wrap);
    }
}
