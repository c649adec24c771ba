//! `event_sourced`: producers append events to a Kafka-like log; a stream processor or a
//! projection worker turns the log into a read view; readers query the view, optionally through
//! a cache.
//!
//! The write path: each producer instance batches records per partition (`[model.producer]`,
//! Kafka's producer), sends each batch over its connection (`[model.network]`) to the
//! partition's leader (`[model.log]`), which appends it and replicates it; the producer is
//! acknowledged according to `acks`. The consumer (`consumer = "processor"` or `"projection"`)
//! fetches committed records (below the high watermark) and makes them visible: the processor
//! at its checkpoint's commit (exactly-once) or at once (at-least-once), the projection when its
//! UPSERT returns. Readers (`[model.reads]`) ask for one key at a time; a cache in front of the
//! view (`[model.cache]`) answers hits, and misses go to the view's store (`[model.view]`). A
//! view update invalidates the key's cache entry `invalidation_lag` later (seed 002's stream of
//! invalidations); meanwhile a hit returns the old value (counted as a stale hit).
//!
//! What each finding means here: duplicates come from non-idempotent retries after a lost
//! acknowledgement and from replays after a consumer crash (at-least-once); ordering violations
//! from retried batches landing after later ones (without idempotence), from producers racing
//! (`affinity = "random"`) and from deferred retries; lost events from `acks = 0` requests lost
//! on the way and `acks = 1` records truncated by a leader change; dropped events from the
//! producer (delivery timeout, full buffer, crash), compaction overtaking the consumer, and the
//! projection's dead-letter queue.
//!
//! Fault roles: `network` (a crash is an outage: every message sent during it is lost),
//! `producer` (each crash takes the next producer instance down in turn), `log` (each crash takes
//! the next broker down in turn; a `rolling_restart` takes each broker down once, in order),
//! `processor` (the consumer, whichever it is: also `pause` and `checkpoint_storm`), `cache`
//! (restarts empty, or pre-warmed), `store` (the view's database: reads that miss the cache
//! fail, UPSERTs fail and are retried). The producers also take `rolling_restart` (instances in
//! turn) and `pause` (every instance frozen); `network` takes the network kinds on the
//! producers' connections. docs/models/event_sourced.md says what each does.

use crate::ctx::Ctx;
use crate::detail::{Cell, DetailTable};
use crate::fault::{
    DiskStallEffect, FaultKind, FaultPhase, FaultSpec, NETWORK_FAULT_KINDS, link_faults,
};
use crate::model::{BuildEnv, Model, ModelKind, RunEnv};
use pipesim_components::kafka::{
    Acks, KafkaLog, KafkaLogParams, KafkaLogSpec, KafkaProducer, KafkaProducerParams, LogEvent,
    LogOutcome, ProduceReq, ProduceResult, ProducerDrop, ProducerOut, Record,
};
use pipesim_components::schema::{Catalogue, SchemaMode, SchemaParams};
use pipesim_components::stream::{
    ConsumerParams, DeadLetter, Projection, ProjectionEvent, ProjectionParams, ProjectionSpec,
    StreamEvent, StreamParams, StreamProcessor, StreamSpec, zipf_probabilities,
};
use pipesim_components::{
    FifoServer, FleetParams, IntMap, Link, LinkParams, LinkSpec, Lru, ReaderKeys, che_hit_ratio,
};
use pipesim_config::{ConfigError, DistSpec, Duration, ParamDoc, Rate};
use pipesim_engine::{Dist, NS_PER_MS, RngStreams, SimTime, StreamRng, Zipf};
use pipesim_metrics::{ReasonId, RunResults};
use pipesim_workload::{EventMeta, Popularity, WorkloadSpec};
use serde::{Deserialize, Serialize};

/// A log record: the event itself. Compaction marks a record by its id.
#[derive(Clone, Copy, Debug)]
pub struct Rec(pub EventMeta);

const COMPACTED: u64 = u64::MAX;

impl Record for Rec {
    #[inline]
    fn key(&self) -> u32 {
        self.0.key
    }
    #[inline]
    fn bytes(&self) -> u32 {
        self.0.size_bytes
    }
    #[inline]
    fn id(&self) -> u64 {
        self.0.id
    }
    #[inline]
    fn mark_compacted(&mut self) {
        self.0.id = COMPACTED;
    }
    #[inline]
    fn is_compacted(&self) -> bool {
        self.0.id == COMPACTED
    }
}

// ---------------------------------------------------------------------------------------------
// Parameters

/// Which consumer builds the view.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConsumerKind {
    /// A Flink-like stream processor (checkpoints, exactly-once or at-least-once output).
    #[default]
    Processor,
    /// A projection worker UPSERTing into a database (retry budget, dead-letter queue).
    Projection,
}

/// The view's store as readers see it (`[model.view]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ViewParams {
    /// Reads the store serves in parallel.
    pub servers: u32,
    /// Time to serve one read.
    pub read: DistSpec,
}

impl Default for ViewParams {
    fn default() -> Self {
        Self {
            servers: 16,
            read: DistSpec::LogNormal {
                p50: Duration { ns: 500_000 },
                p99: Duration { ns: 4 * NS_PER_MS },
            },
        }
    }
}

/// The cache in front of the view (`[model.cache]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheParams {
    /// Whether readers go through a cache.
    pub enabled: bool,
    /// Keys it holds (least recently used evicted).
    pub capacity: u32,
    /// Time to answer a hit.
    pub hit: DistSpec,
    /// Time from a view update to the eviction of the key's entry.
    pub invalidation_lag: DistSpec,
    /// Whether a restarted cache is filled with the most popular keys before it serves.
    pub prewarm: bool,
}

impl Default for CacheParams {
    fn default() -> Self {
        Self {
            enabled: false,
            capacity: 100_000,
            hit: DistSpec::LogNormal {
                p50: Duration { ns: 150_000 },
                p99: Duration { ns: 800_000 },
            },
            invalidation_lag: DistSpec::Const { value: Duration { ns: NS_PER_MS } },
            prewarm: false,
        }
    }
}

/// The readers (`[model.reads]`).
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ReadParams {
    /// Reads per second, each for one key (absent: no readers).
    pub rate: Option<Rate>,
    /// Which keys readers ask for.
    pub keys: ReadKeys,
    /// With `keys = "popular"`, a Zipf exponent of their own instead of the workload's.
    pub exponent: Option<f64>,
}

/// Which keys readers ask for (as [`ReaderKeys`]).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReadKeys {
    /// By popularity (the workload's, or Zipf with `exponent`).
    #[default]
    Popular,
    /// Uniformly over the key space.
    Uniform,
}

impl From<ReadKeys> for ReaderKeys {
    fn from(k: ReadKeys) -> Self {
        match k {
            ReadKeys::Popular => ReaderKeys::Popular,
            ReadKeys::Uniform => ReaderKeys::Uniform,
        }
    }
}

/// The model table as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EventSourcedConfig {
    #[serde(default)]
    consumer: ConsumerKind,
    #[serde(default)]
    producers: FleetParams,
    #[serde(default)]
    producer: KafkaProducerParams,
    #[serde(default)]
    network: LinkParams,
    #[serde(default)]
    log: KafkaLogParams,
    #[serde(default)]
    kafka_consumer: ConsumerParams,
    #[serde(default)]
    processor: StreamParams,
    #[serde(default)]
    projection: ProjectionParams,
    #[serde(default)]
    view: ViewParams,
    #[serde(default)]
    cache: CacheParams,
    #[serde(default)]
    reads: ReadParams,
    #[serde(default)]
    schema: SchemaMode,
    #[serde(default)]
    schemas: SchemaParams,
}

/// Validated parameters (echoed in the report) and their resolved forms.
#[derive(Clone, Serialize)]
pub struct EventSourcedParams {
    consumer: ConsumerKind,
    producers: FleetParams,
    producer: KafkaProducerParams,
    network: LinkParams,
    log: KafkaLogParams,
    kafka_consumer: ConsumerParams,
    #[serde(skip_serializing_if = "Option::is_none")]
    processor: Option<StreamParams>,
    #[serde(skip_serializing_if = "Option::is_none")]
    projection: Option<ProjectionParams>,
    view: ViewParams,
    cache: CacheParams,
    reads: ReadParams,
    /// Echoed only when not the default, so reports that predate it keep their bytes.
    #[serde(skip_serializing_if = "SchemaMode::is_schema_less")]
    schema: SchemaMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    schemas: Option<SchemaParams>,
    #[serde(skip)]
    resolved: Option<Resolved>,
}

#[derive(Clone)]
struct Resolved {
    link: LinkSpec,
    fetch_delay: Dist,
    log: KafkaLogSpec,
    processor: StreamSpec,
    projection: ProjectionSpec,
    view_read: Dist,
    cache_hit: Dist,
    invalidation_lag: Dist,
}

// ---------------------------------------------------------------------------------------------
// Events and state

/// A read waiting for the view's store.
#[derive(Clone, Copy, Debug)]
pub struct ViewJob {
    key: u32,
    issued: SimTime,
}

/// The model's events.
#[derive(Clone, Copy, Debug)]
pub enum Ev {
    /// A batch's linger timer: (slot, generation).
    Linger(u32, u32),
    /// The earliest producer request timeout is due.
    ProducerTimeout,
    /// A producer retry's backoff is over: (slot, generation).
    ProducerRetry(u32, u32),
    /// A produce request reached the cluster.
    ToBroker(ProduceReq),
    /// An answer reached its producer.
    ToProducer(ProduceReq, ProduceResult),
    /// The log's own events.
    Log(LogEvent),
    /// The stream processor's events.
    Stream(StreamEvent),
    /// The projection's events.
    Projection(ProjectionEvent),
    /// The next read is due.
    ReadTick,
    /// A read that missed the cache reached the view's store.
    ViewArrive(ViewJob),
    /// The store served a read (with the store's epoch).
    ViewDone(u32, ViewJob),
    /// A read's answer reached its reader: (key, issued).
    ReadDone(u32, SimTime),
    /// Schema change number `i` (0-based, in the catalogue's order) happens now.
    SchemaChange(u32),
}

fn wrap_log(e: LogEvent) -> Ev {
    Ev::Log(e)
}
fn wrap_stream(e: StreamEvent) -> Ev {
    Ev::Stream(e)
}
fn wrap_projection(e: ProjectionEvent) -> Ev {
    Ev::Projection(e)
}

// One consumer per model, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
enum Consumer {
    Processor(StreamProcessor),
    Projection(Projection),
}

struct Cache {
    lru: Lru,
    /// Keys updated in the view while cached: when their entry is evicted.
    invalid_at: IntMap<u64>,
    hit: Dist,
    lag: Dist,
    prewarm: bool,
    down: bool,
    rng: StreamRng,
    hits: u64,
    misses: u64,
    stale_hits: u64,
    invalidations: u64,
    capacity_hint: u32,
}

struct ReadPath {
    mean_gap_ns: f64,
    rng: StreamRng,
    zipf: Option<Zipf>,
    /// The Zipf exponent of `zipf`.
    exponent: Option<f64>,
    key_count: u32,
    up: Link,
    down: Link,
    cache: Option<Cache>,
    view: FifoServer<ViewJob>,
    view_read: Dist,
    view_rng: StreamRng,
    view_epoch: u32,
    view_down: bool,
    /// Reads issued in the measured interval, and those that failed.
    reads: u64,
    failed: u64,
    /// The measured interval `[from, to)`: cache counters cover reads issued in it.
    measure: (SimTime, SimTime),
}

#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    visible: u64,
    lost_requests: u64,
    lost_answers: u64,
}

/// What a paused producer has not taken yet: an event created for it, or one of its own events
/// (a timer, an answer in its socket).
#[derive(Clone, Copy, Debug)]
enum Held {
    Arrival(EventMeta),
    Event(Ev),
}

struct Reasons {
    producer: [ReasonId; 5],
    compacted: ReasonId,
    poison: ReasonId,
    failing: ReasonId,
    frozen: ReasonId,
}

/// The running design.
pub struct EventSourced {
    p: EventSourcedParams,
    producer: KafkaProducer<Rec>,
    pout: ProducerOut<Rec>,
    up: Vec<Link>,
    down: Vec<Link>,
    log: KafkaLog<Rec>,
    lout: Vec<LogOutcome<Rec>>,
    consumer: Consumer,
    visible: Vec<Rec>,
    dead: Vec<(Rec, DeadLetter)>,
    reads: Option<ReadPath>,
    rng: StreamRng,
    net_down: bool,
    /// Active crashes of producer instances and brokers: (start, end, which).
    producer_crashes: Vec<(SimTime, SimTime, u32)>,
    broker_crashes: Vec<(SimTime, SimTime, u32)>,
    next_producer_crash: u32,
    next_broker_crash: u32,
    /// The producers are frozen (a `pause` of the `producer` role): what reaches them waits in
    /// `held`, what their running timers decide waits in `held_out`, until the window ends.
    producer_paused: bool,
    held: Vec<Held>,
    held_out: ProducerOut<Rec>,
    reasons: Reasons,
    stats: Stats,
    measure: (SimTime, SimTime),
    schema: SchemaState,
}

/// Schema changes and the log's storage faults (seed 004).
struct SchemaState {
    mode: SchemaMode,
    params: SchemaParams,
    catalogue: Catalogue,
    /// Per change: the broker it compacts (`None`: every broker) and its fault window.
    targets: Vec<(Option<u32>, SimTime, SimTime)>,
    /// Per change: whether a flood's start has scheduled it.
    scheduled: Vec<bool>,
    /// Changes so far.
    changes: u32,
    /// `frozen`: events whose type hash is below this are of a type the frozen schema lacks.
    reject_below: u64,
    /// `infer`: types the consumer loaded at its last (re)start.
    loaded: u32,
    /// `infer`: after a decode error, updates of events created before this are never applied.
    discard_before: SimTime,
    /// Whether to report the store and schema tables.
    report: bool,
    streams: RngStreams,
    decode_errors: u64,
    consumer_restarts: u64,
    discarded: u64,
    /// Events created, and those rejected, since the last change.
    since_change: (u64, u64),
}

impl EventSourced {
    /// Hands everything the producer and the log produced to where it goes, until both are quiet.
    fn drain(&mut self, ctx: &mut Ctx<Ev>) {
        loop {
            let mut busy = false;
            if !self.pout.is_empty() {
                busy = true;
                self.producer_outcomes(ctx);
            }
            if !self.lout.is_empty() {
                busy = true;
                self.log_outcomes(ctx);
            }
            if !busy {
                return;
            }
        }
    }

    fn producer_outcomes(&mut self, ctx: &mut Ctx<Ev>) {
        if self.producer_paused {
            self.hold_producer_out();
            return;
        }
        let mut out = std::mem::take(&mut self.pout);
        let now = ctx.now();
        for r in out.acked.drain(..) {
            ctx.rec.acked(&r.0, now);
        }
        for (r, why) in out.dropped.drain(..) {
            ctx.rec.dropped(&r.0, now, self.reasons.producer[why.index()]);
        }
        for (producer, partition, seq) in out.abandoned.drain(..) {
            self.log.skip_sequence(producer, partition, seq);
        }
        for req in out.sends.drain(..) {
            let sent = !self.net_down
                && self.up[req.producer as usize].send(&mut ctx.sim, Ev::ToBroker(req));
            if !sent {
                self.stats.lost_requests += 1;
                self.producer.lost(req);
            }
        }
        self.pout = out;
    }

    fn log_outcomes(&mut self, ctx: &mut Ctx<Ev>) {
        let mut out = std::mem::take(&mut self.lout);
        let now = ctx.now();
        for o in out.drain(..) {
            match o {
                LogOutcome::Respond(req, result) => {
                    if self.p.producer.acks == Acks::Zero {
                        if self.producer_paused {
                            self.held.push(Held::Event(Ev::ToProducer(req, result)));
                            continue;
                        }
                        // Nobody waits for an answer: the producer only lets go of the batch.
                        self.producer.response(
                            &mut ctx.sim,
                            req,
                            result,
                            Ev::ProducerRetry,
                            Ev::ProducerTimeout,
                            &mut self.pout,
                        );
                    } else {
                        let sent = !self.net_down
                            && self.down[req.producer as usize]
                                .send(&mut ctx.sim, Ev::ToProducer(req, result));
                        if !sent {
                            self.stats.lost_answers += 1;
                        }
                    }
                }
                LogOutcome::Available(p) => match &mut self.consumer {
                    Consumer::Processor(c) => {
                        c.data_available(&mut ctx.sim, &self.log, p, wrap_stream)
                    }
                    Consumer::Projection(c) => {
                        c.data_available(&mut ctx.sim, &self.log, p, wrap_projection)
                    }
                },
                LogOutcome::Compacted(r) => ctx.rec.dropped(&r.0, now, self.reasons.compacted),
                LogOutcome::Led(p) => match &mut self.consumer {
                    Consumer::Processor(c) => {
                        c.leaders_changed(&mut ctx.sim, &self.log, wrap_stream)
                    }
                    // A no-op unless a machine crash cut the log below the consumer.
                    Consumer::Projection(c) => c.rewind(p, self.log.leo(p)),
                },
            }
        }
        self.lout = out;
    }

    /// Reports what the consumer made visible or dead-lettered.
    fn consumer_outcomes(&mut self, ctx: &mut Ctx<Ev>) {
        let now = ctx.now();
        let mut visible = std::mem::take(&mut self.visible);
        let infer = self.schema.mode == SchemaMode::Infer && self.schema.changes > 0;
        for r in visible.drain(..) {
            if infer && self.undecodable(&r, now) {
                continue;
            }
            ctx.rec.visible(&r.0, now);
            self.stats.visible += 1;
            if let Some(c) = self.reads.as_mut().and_then(|rp| rp.cache.as_mut())
                && !c.down
                && c.lru.peek(r.0.key).is_some()
                && c.invalid_at.get(r.0.key).is_none()
            {
                let at = now + c.lag.sample(&mut c.rng);
                c.invalid_at.insert(r.0.key, at);
            }
        }
        self.visible = visible;
        let mut dead = std::mem::take(&mut self.dead);
        for (r, why) in dead.drain(..) {
            let reason = match why {
                DeadLetter::Poison => self.reasons.poison,
                DeadLetter::Failing => self.reasons.failing,
            };
            ctx.rec.dropped(&r.0, now, reason);
        }
        self.dead = dead;
    }

    fn read_tick(&mut self, ctx: &mut Ctx<Ev>) {
        let Some(rp) = self.reads.as_mut() else { return };
        let now = ctx.now();
        let gap = (rp.mean_gap_ns * rp.rng.exp1()) as SimTime;
        ctx.schedule_in(gap.max(1), Ev::ReadTick);
        let key = match &rp.zipf {
            Some(z) => (z.sample(&mut rp.rng) - 1) as u32,
            None => rp.rng.below(u64::from(rp.key_count)) as u32,
        };
        let measured = now >= rp.measure.0 && now < rp.measure.1;
        rp.reads += u64::from(measured);
        let Some(at_server) = rp.up.transit(now) else {
            rp.failed += u64::from(measured);
            return;
        };
        if let Some(c) = rp.cache.as_mut()
            && !c.down
        {
            let mut hit = c.lru.get(key).is_some();
            if hit && let Some(t) = c.invalid_at.get(key) {
                if t <= now {
                    // The invalidation arrived: the entry is gone.
                    c.invalid_at.remove(key);
                    c.invalidations += u64::from(measured);
                    hit = false;
                } else {
                    c.stale_hits += u64::from(measured);
                }
            }
            if hit {
                c.hits += u64::from(measured);
                let served = at_server + c.hit.sample(&mut c.rng);
                match rp.down.transit(served) {
                    Some(back) => ctx.schedule_at(back, Ev::ReadDone(key, now)),
                    None => rp.failed += u64::from(measured),
                }
                return;
            }
            c.misses += u64::from(measured);
        }
        ctx.schedule_at(at_server, Ev::ViewArrive(ViewJob { key, issued: now }));
    }

    fn view_arrive(&mut self, ctx: &mut Ctx<Ev>, job: ViewJob) {
        let Some(rp) = self.reads.as_mut() else { return };
        if rp.view_down {
            rp.failed += u64::from(job.issued >= rp.measure.0 && job.issued < rp.measure.1);
            return;
        }
        let t = rp.view_read.sample(&mut rp.view_rng);
        let epoch = rp.view_epoch;
        rp.view.offer(&mut ctx.sim, job, t, |j| Ev::ViewDone(epoch, j));
    }

    fn view_done(&mut self, ctx: &mut Ctx<Ev>, epoch: u32, job: ViewJob) {
        let Some(rp) = self.reads.as_mut() else { return };
        let measured = job.issued >= rp.measure.0 && job.issued < rp.measure.1;
        if epoch != rp.view_epoch {
            rp.failed += u64::from(measured);
            return;
        }
        rp.view.complete(&mut ctx.sim, |j| Ev::ViewDone(epoch, j));
        let now = ctx.now();
        if let Some(c) = rp.cache.as_mut()
            && !c.down
        {
            c.invalid_at.remove(job.key);
            if let Some(evicted) = c.lru.put(job.key, now) {
                c.invalid_at.remove(evicted);
            }
        }
        match rp.down.transit(now) {
            Some(back) => ctx.schedule_at(back, Ev::ReadDone(job.key, job.issued)),
            None => rp.failed += u64::from(measured),
        }
    }

    fn prewarm(c: &mut Cache, keys: u32) {
        // The most popular keys (key 0 is the hottest), the hottest last so it is the most recent.
        let n = c.capacity_hint.min(keys);
        for k in (0..n).rev() {
            c.lru.put(k, 0);
        }
    }

    fn crash_consumer(&mut self, ctx: &mut Ctx<Ev>) {
        match &mut self.consumer {
            Consumer::Processor(c) => c.crash(ctx.now()),
            Consumer::Projection(c) => c.crash(),
        }
    }

    fn restart_consumer(&mut self, ctx: &mut Ctx<Ev>) {
        match &mut self.consumer {
            Consumer::Processor(c) => c.restart(&mut ctx.sim, wrap_stream),
            Consumer::Projection(c) => c.restart(&mut ctx.sim, wrap_projection),
        }
    }

    /// A `pause` of the producers (every instance: the application freezes) or of the consumer.
    fn pause_fault(&mut self, ctx: &mut Ctx<Ev>, fault: &FaultSpec, phase: FaultPhase) {
        match (fault.role.as_str(), phase) {
            ("producer", FaultPhase::Begin) => self.producer_paused = true,
            ("producer", FaultPhase::End) => self.resume_producers(ctx),
            ("processor", FaultPhase::Begin) => match &mut self.consumer {
                Consumer::Processor(c) => c.pause(ctx.now()),
                Consumer::Projection(c) => c.pause(ctx.now()),
            },
            ("processor", FaultPhase::End) => {
                match &mut self.consumer {
                    Consumer::Processor(c) => c.resume(&mut ctx.sim, &self.log, wrap_stream),
                    Consumer::Projection(c) => {
                        c.resume(&mut ctx.sim, &mut self.log, wrap_projection)
                    }
                }
                self.consumer_outcomes(ctx);
            }
            _ => {}
        }
    }

    /// The producers run again: first what their timers decided during the pause (requests to
    /// send, records dropped at their delivery timeout), then, in the order they came, the
    /// events created meanwhile and the timers and answers that waited.
    fn resume_producers(&mut self, ctx: &mut Ctx<Ev>) {
        if !self.producer_paused {
            return;
        }
        self.producer_paused = false;
        let mut held_out = std::mem::take(&mut self.held_out);
        self.pout.sends.append(&mut held_out.sends);
        self.pout.acked.append(&mut held_out.acked);
        self.pout.dropped.append(&mut held_out.dropped);
        self.pout.abandoned.append(&mut held_out.abandoned);
        self.held_out = held_out;
        self.drain(ctx);
        let mut held = std::mem::take(&mut self.held);
        for h in held.drain(..) {
            match h {
                Held::Arrival(ev) => self.on_arrival(ctx, ev),
                Held::Event(e) => self.on_event(ctx, e),
            }
        }
        self.held = held;
    }

    /// What the producers' own timers decided while they are paused waits for the window's end.
    fn hold_producer_out(&mut self) {
        let out = &mut self.pout;
        self.held_out.sends.append(&mut out.sends);
        self.held_out.acked.append(&mut out.acked);
        self.held_out.dropped.append(&mut out.dropped);
        self.held_out.abandoned.append(&mut out.abandoned);
    }

    /// A `checkpoint_storm` of the consumer: the processor triggers checkpoints (barriers,
    /// alignment, snapshot, commit) every `interval`; a projection commits its offsets (its only
    /// checkpoint) every `interval`.
    fn checkpoint_storm(
        &mut self,
        ctx: &mut Ctx<Ev>,
        fault: &FaultSpec,
        interval: SimTime,
        phase: FaultPhase,
    ) {
        if fault.role != "processor" {
            return;
        }
        let every = (phase == FaultPhase::Begin).then_some(interval);
        match &mut self.consumer {
            Consumer::Processor(c) => c.checkpoint_storm(&mut ctx.sim, every, wrap_stream),
            Consumer::Projection(c) => c.checkpoint_storm(&mut ctx.sim, every, wrap_projection),
        }
    }
}

impl Model for EventSourced {
    type Event = Ev;

    fn init(&mut self, ctx: &mut Ctx<Ev>) {
        for (i, why) in ProducerDrop::ALL.iter().enumerate() {
            self.reasons.producer[i] = ctx.rec.register_reason(why.describe());
        }
        if self.p.log.compaction {
            self.reasons.compacted = ctx
                .rec
                .register_reason("log: compaction removed the record before the consumer read it");
        }
        if let Some(pp) = &self.p.projection {
            self.reasons.poison = ctx.rec.register_reason(format!(
                "projection: poison event dead-lettered after {} retries",
                pp.retries
            ));
            self.reasons.failing = ctx.rec.register_reason(format!(
                "projection: UPSERT kept failing, dead-lettered after {} retries",
                pp.retries
            ));
        }
        if self.schema.mode == SchemaMode::Frozen {
            self.reasons.frozen = ctx.rec.register_reason(
                "producer: the frozen schema has no type for the event (introduced after the freeze)",
            );
        }
        self.log.start(&mut ctx.sim, wrap_log);
        match &mut self.consumer {
            Consumer::Processor(c) => c.start(&mut ctx.sim, wrap_stream),
            Consumer::Projection(c) => c.start(&mut ctx.sim, wrap_projection),
        }
        if let Some(rp) = self.reads.as_mut() {
            ctx.rec.enable_read_path();
            let first = (rp.mean_gap_ns * rp.rng.exp1()) as SimTime;
            ctx.schedule_in(first, Ev::ReadTick);
            let keys = rp.key_count;
            if let Some(c) = rp.cache.as_mut()
                && c.prewarm
            {
                Self::prewarm(c, keys);
            }
        }
    }

    #[inline]
    fn on_arrival(&mut self, ctx: &mut Ctx<Ev>, ev: EventMeta) {
        if self.producer_paused {
            // Held until the pause ends; it comes back through here then.
            self.held.push(Held::Arrival(ev));
            return;
        }
        self.schema.since_change.0 += 1;
        if self.schema.reject_below > 0
            && self.schema.catalogue.hash(ev.id) < self.schema.reject_below
        {
            // A frozen schema cannot express the event's type: the producer rejects it.
            self.schema.since_change.1 += 1;
            ctx.rec.dropped(&ev, ctx.sim.now(), self.reasons.frozen);
            return;
        }
        let instance = self.p.producers.instance_of(ev.key, &mut self.rng);
        let partition = self.log.partition_of(ev.key);
        self.producer.send(
            &mut ctx.sim,
            Rec(ev),
            instance,
            partition,
            Ev::Linger,
            Ev::ProducerTimeout,
            &mut self.pout,
        );
        if !self.pout.is_empty() {
            self.drain(ctx);
        }
    }

    fn on_event(&mut self, ctx: &mut Ctx<Ev>, event: Ev) {
        if self.producer_paused
            && matches!(event, Ev::Linger(..) | Ev::ProducerRetry(..) | Ev::ToProducer(..))
        {
            self.held.push(Held::Event(event));
            return;
        }
        match event {
            Ev::Linger(slot, generation) => {
                self.producer.linger(
                    &mut ctx.sim,
                    slot,
                    generation,
                    Ev::ProducerTimeout,
                    &mut self.pout,
                );
            }
            Ev::ProducerTimeout => {
                self.producer.check_timeouts(
                    &mut ctx.sim,
                    Ev::ProducerRetry,
                    Ev::ProducerTimeout,
                    &mut self.pout,
                );
            }
            Ev::ProducerRetry(slot, generation) => {
                self.producer.retry_due(
                    &mut ctx.sim,
                    slot,
                    generation,
                    Ev::ProducerTimeout,
                    &mut self.pout,
                );
            }
            Ev::ToBroker(req) => self.log.produce(&mut ctx.sim, req, wrap_log, &mut self.lout),
            Ev::ToProducer(req, result) => {
                self.producer.response(
                    &mut ctx.sim,
                    req,
                    result,
                    Ev::ProducerRetry,
                    Ev::ProducerTimeout,
                    &mut self.pout,
                );
            }
            Ev::Log(LogEvent::Served { broker, epoch, req }) => {
                let records = self.producer.records(&req);
                self.log.served(
                    &mut ctx.sim,
                    broker,
                    epoch,
                    req,
                    records,
                    wrap_log,
                    &mut self.lout,
                );
            }
            Ev::Log(e) => self.log.handle(&mut ctx.sim, e, wrap_log, &mut self.lout),
            Ev::Stream(e) => {
                if let Consumer::Processor(c) = &mut self.consumer {
                    c.handle(&mut ctx.sim, &mut self.log, e, wrap_stream, &mut self.visible);
                }
                self.consumer_outcomes(ctx);
            }
            Ev::Projection(e) => {
                if let Consumer::Projection(c) = &mut self.consumer {
                    c.handle(
                        &mut ctx.sim,
                        &mut self.log,
                        e,
                        wrap_projection,
                        &mut self.visible,
                        &mut self.dead,
                    );
                }
                self.consumer_outcomes(ctx);
            }
            Ev::ReadTick => self.read_tick(ctx),
            Ev::ViewArrive(job) => self.view_arrive(ctx, job),
            Ev::ViewDone(epoch, job) => self.view_done(ctx, epoch, job),
            Ev::ReadDone(key, issued) => {
                let now = ctx.now();
                ctx.rec.read(key, now - issued, now);
            }
            Ev::SchemaChange(i) => self.schema_change(ctx, i),
        }
        self.drain(ctx);
    }

    fn on_fault(&mut self, ctx: &mut Ctx<Ev>, fault: &FaultSpec, phase: FaultPhase) {
        if self.storage_fault(ctx, fault, phase) {
            self.drain(ctx);
            return;
        }
        match fault.kind {
            FaultKind::Crash { .. } => {}
            FaultKind::Pause => {
                self.pause_fault(ctx, fault, phase);
                self.drain(ctx);
                return;
            }
            FaultKind::CheckpointStorm { interval_ns } => {
                self.checkpoint_storm(ctx, fault, interval_ns, phase);
                return;
            }
            // The network kinds act on the producers' links, which took their windows at build.
            _ => return,
        }
        let (start, end) = (fault.start_ns, fault.end_ns);
        match (fault.role.as_str(), phase) {
            ("network", FaultPhase::Begin) => self.net_down = true,
            ("network", FaultPhase::End) => self.net_down = false,
            ("producer", FaultPhase::Begin) => {
                // A rolling restart names the instance; a plain crash takes the next in turn.
                let instances = self.p.producers.instances;
                let instance = match fault.node {
                    Some(n) => n % instances,
                    None => {
                        self.next_producer_crash += 1;
                        (self.next_producer_crash - 1) % instances
                    }
                };
                self.producer_crashes.push((start, end, instance));
                self.producer.crash(instance, &mut self.pout);
            }
            ("producer", FaultPhase::End) => {
                if let Some(i) =
                    self.producer_crashes.iter().position(|&(s, e, _)| s == start && e == end)
                {
                    let (_, _, instance) = self.producer_crashes.remove(i);
                    self.producer.restart(instance);
                    self.log.reset_producer(instance);
                }
            }
            ("log", FaultPhase::Begin) => {
                // A rolling restart names the broker; a plain crash takes the next in turn.
                let broker = match fault.node {
                    Some(n) => n % self.log.brokers(),
                    None => {
                        self.next_broker_crash += 1;
                        (self.next_broker_crash - 1) % self.log.brokers()
                    }
                };
                self.broker_crashes.push((start, end, broker));
                self.log.crash(&mut ctx.sim, broker, wrap_log, &mut self.lout);
            }
            ("log", FaultPhase::End) => {
                if let Some(i) =
                    self.broker_crashes.iter().position(|&(s, e, _)| s == start && e == end)
                {
                    let (_, _, broker) = self.broker_crashes.remove(i);
                    self.log.restart(&mut ctx.sim, broker, wrap_log, &mut self.lout);
                }
            }
            ("processor", FaultPhase::Begin) => self.crash_consumer(ctx),
            ("processor", FaultPhase::End) => self.restart_consumer(ctx),
            ("cache", phase) => {
                let keys = self.reads.as_ref().map_or(0, |rp| rp.key_count);
                if let Some(c) = self.reads.as_mut().and_then(|rp| rp.cache.as_mut()) {
                    match phase {
                        FaultPhase::Begin => {
                            c.down = true;
                            c.lru.clear();
                            c.invalid_at = IntMap::with_capacity(1024);
                        }
                        FaultPhase::End => {
                            c.down = false;
                            if c.prewarm {
                                Self::prewarm(c, keys);
                            }
                        }
                    }
                }
            }
            ("store", phase) => {
                let down = phase == FaultPhase::Begin;
                if let Consumer::Projection(c) = &mut self.consumer {
                    c.set_store_down(down);
                }
                if let Some(rp) = self.reads.as_mut() {
                    rp.view_down = down;
                    if down {
                        let mut lost = Vec::new();
                        rp.view.reset(ctx.now(), &mut lost);
                        let m = rp.measure;
                        rp.failed +=
                            lost.iter().filter(|j| j.issued >= m.0 && j.issued < m.1).count()
                                as u64;
                        rp.view_epoch = rp.view_epoch.wrapping_add(1);
                    }
                }
            }
            _ => {}
        }
        self.drain(ctx);
    }
}

impl ModelKind for EventSourced {
    const KIND: &'static str = "event_sourced";
    const SUMMARY: &'static str = "producers append to a replicated Kafka-like log; a stream processor (checkpoints, exactly-once) or a projection worker (UPSERT, dead-letter queue) builds the view readers query, optionally through a cache";
    type Config = EventSourcedConfig;
    type Params = EventSourcedParams;

    fn params_doc() -> Vec<ParamDoc> {
        let mut docs = vec![ParamDoc::new(
            "consumer",
            "\"processor\" or \"projection\"",
            "\"processor\"",
            "what builds the view: a Flink-like stream processor (seed 002) or a projection worker UPSERTing into Postgres (seeds 003, 004)",
        )];
        docs.extend(FleetParams::docs("producers"));
        docs.extend(KafkaProducerParams::docs("producer"));
        docs.extend(LinkParams::docs("network"));
        docs.extend(KafkaLogParams::docs("log"));
        docs.extend(ConsumerParams::docs("kafka_consumer"));
        docs.extend(StreamParams::docs("processor"));
        docs.extend(ProjectionParams::docs("projection"));
        docs.extend(view_docs());
        docs.extend(cache_docs());
        docs.extend(read_docs());
        docs.push(ParamDoc::new(
            "schema",
            "\"schema_less\", \"auto_register\", \"infer\" or \"frozen\"",
            "\"schema_less\"",
            "how schema changes (a schema_flood on the log) are handled, seed 004's four designs: compactions on the brokers' flush threads, inference and decode errors in the consumer, rejected events, or nothing",
        ));
        docs.extend(SchemaParams::docs("schemas"));
        docs
    }

    fn fault_roles() -> &'static [&'static str] {
        &["network", "producer", "log", "processor", "cache", "store"]
    }

    fn fault_kinds(role: &str) -> &'static [&'static str] {
        const NETWORK: [&str; 4] =
            ["crash", NETWORK_FAULT_KINDS[0], NETWORK_FAULT_KINDS[1], NETWORK_FAULT_KINDS[2]];
        match role {
            "network" => &NETWORK,
            "producer" => &["crash", "rolling_restart", "pause"],
            "log" => LOG_FAULT_KINDS,
            "processor" => &["crash", "rolling_restart", "pause", "checkpoint_storm"],
            _ => &["crash"],
        }
    }

    /// The brokers of the log and the producer instances restart one by one; the consumer is
    /// one job (a processor's crash restarts every subtask from the checkpoint, a projection's
    /// every worker), so it restarts once.
    fn role_nodes(p: &EventSourcedParams, role: &str) -> u32 {
        match role {
            "log" => p.log.brokers,
            "producer" => p.producers.instances,
            _ => 1,
        }
    }

    fn validate(
        c: EventSourcedConfig,
        env: &BuildEnv<'_>,
    ) -> Result<EventSourcedParams, ConfigError> {
        let producers = c.producers.validate().map_err(|e| e.within("producers"))?;
        let producer = c.producer.validate().map_err(|e| e.within("producer"))?;
        let link = c.network.validate(env.loader).map_err(|e| e.within("network"))?;
        let fetch_delay = c
            .network
            .delay
            .resolve(env.loader)
            .map_err(|m| ConfigError::new("network.delay", m))?;
        let log = c.log.validate(env.loader).map_err(|e| e.within("log"))?;
        if c.log.crash_loses_unflushed && c.consumer != ConsumerKind::Projection {
            return Err(ConfigError::new(
                "log.crash_loses_unflushed",
                "needs consumer = \"projection\" (the stream processor does not rewind after a truncation)",
            ));
        }
        let kafka_consumer = c.kafka_consumer.validate().map_err(|e| e.within("kafka_consumer"))?;
        let processor = c.processor.validate(env.loader).map_err(|e| e.within("processor"))?;
        let projection = c.projection.validate(env.loader).map_err(|e| e.within("projection"))?;
        if c.view.servers == 0 {
            return Err(ConfigError::new("view.servers", "must be at least 1"));
        }
        use pipesim_config::limits::{ENTRIES, WORKERS, at_most};
        at_most("view.servers", u64::from(c.view.servers), &WORKERS)?;
        at_most("cache.capacity", u64::from(c.cache.capacity), &ENTRIES)?;
        let view_read =
            c.view.read.resolve(env.loader).map_err(|m| ConfigError::new("view.read", m))?;
        if c.cache.enabled && c.cache.capacity == 0 {
            return Err(ConfigError::new(
                "cache.capacity",
                "must be at least 1: a cache of zero keys holds nothing",
            ));
        }
        let cache_hit =
            c.cache.hit.resolve(env.loader).map_err(|m| ConfigError::new("cache.hit", m))?;
        let invalidation_lag = c
            .cache
            .invalidation_lag
            .resolve(env.loader)
            .map_err(|m| ConfigError::new("cache.invalidation_lag", m))?;
        if let Some(x) = c.reads.exponent
            && !(x.is_finite() && x > 0.0)
        {
            return Err(ConfigError::new(
                "reads.exponent",
                format!("must be a finite number greater than zero, found {x}"),
            ));
        }
        if c.reads.exponent.is_some() && c.reads.keys == ReadKeys::Uniform {
            return Err(ConfigError::new("reads.exponent", "only applies to keys = \"popular\""));
        }
        c.schemas.validate().map_err(|e| e.within("schemas"))?;
        if c.schema == SchemaMode::Infer && c.consumer != ConsumerKind::Projection {
            return Err(ConfigError::new(
                "schema",
                "\"infer\" needs consumer = \"projection\": the inference cost is added to the projection's per-row time",
            ));
        }
        let projection = if c.schema == SchemaMode::Infer {
            // Inference is CPU work per event in the consumer: each row of a statement costs it.
            let mut pp = c.projection.clone();
            pp.upsert_per_row.ns += c.schemas.inference.ns;
            pp.validate(env.loader).map_err(|e| e.within("projection"))?
        } else {
            projection
        };
        let (proc_params, proj_params) = match c.consumer {
            ConsumerKind::Processor => (Some(c.processor.clone()), None),
            ConsumerKind::Projection => (None, Some(c.projection.clone())),
        };
        Ok(EventSourcedParams {
            consumer: c.consumer,
            producers,
            producer,
            network: c.network,
            log: c.log,
            kafka_consumer,
            processor: proc_params,
            projection: proj_params,
            view: c.view,
            cache: c.cache,
            reads: c.reads,
            schema: c.schema,
            schemas: (!c.schema.is_schema_less()).then_some(c.schemas),
            resolved: Some(Resolved {
                link,
                fetch_delay,
                log,
                processor,
                projection,
                view_read,
                cache_hit,
                invalidation_lag,
            }),
        })
    }

    fn build(p: &EventSourcedParams, env: &RunEnv<'_>) -> Self {
        let r = p.resolved.as_ref().expect("validated");
        let s = env.streams;
        let partitions = r.log.params().partitions;
        // The network kinds of the `network` role act on the producers' connections: requests
        // on the links up, answers on the links down.
        let links = |dir: &str| -> Vec<Link> {
            let faults = link_faults(env.faults, "network", dir == "up");
            (0..p.producers.instances)
                .map(|i| {
                    let mut l = Link::new(&r.link, s.stream(&format!("network/{dir}/{i}")));
                    l.set_faults(std::sync::Arc::clone(&faults));
                    l
                })
                .collect()
        };
        let (from, to) = (env.settings.warmup_ns, env.settings.duration_ns);
        let consumer = match p.consumer {
            ConsumerKind::Processor => {
                let mut c = StreamProcessor::new(
                    &r.processor,
                    &p.kafka_consumer,
                    partitions,
                    r.fetch_delay.clone(),
                    s.stream("processor"),
                );
                c.set_window(from, to);
                Consumer::Processor(c)
            }
            ConsumerKind::Projection => {
                let mut c = Projection::new(
                    &r.projection,
                    &p.kafka_consumer,
                    partitions,
                    r.fetch_delay.clone(),
                    s.stream("projection"),
                );
                c.set_window(from, to);
                Consumer::Projection(c)
            }
        };
        let mut log =
            KafkaLog::new(&r.log, p.producer.acks, p.producers.instances, s.stream("log"));
        log.set_window(from, to);
        let schema = schema_state(p, env);
        if schema.report || store_can_stall(p, env.workload) {
            log.enable_store();
        }
        let reads = p.reads.rate.map(|rate| {
            let keys = env.workload.keys;
            let exponent = match (p.reads.keys, p.reads.exponent, keys.popularity) {
                (ReadKeys::Uniform, _, _) => None,
                (ReadKeys::Popular, Some(x), _) => Some(x),
                (ReadKeys::Popular, None, Popularity::Zipf { exponent }) => Some(exponent),
                (ReadKeys::Popular, None, Popularity::Uniform) => None,
            };
            let zipf = exponent.map(|x| Zipf::new(u64::from(keys.count), x));
            let cache = p.cache.enabled.then(|| Cache {
                lru: Lru::new(p.cache.capacity as usize),
                invalid_at: IntMap::with_capacity(1024),
                hit: r.cache_hit.clone(),
                lag: r.invalidation_lag.clone(),
                prewarm: p.cache.prewarm,
                down: false,
                rng: s.stream("cache"),
                hits: 0,
                misses: 0,
                stale_hits: 0,
                invalidations: 0,
                capacity_hint: p.cache.capacity,
            });
            ReadPath {
                mean_gap_ns: 1e9 / rate.per_s,
                rng: s.stream("reads"),
                zipf,
                exponent,
                key_count: keys.count,
                up: Link::new(&r.link, s.stream("network/readers/up")),
                down: Link::new(&r.link, s.stream("network/readers/down")),
                cache,
                view: FifoServer::new(p.view.servers, None),
                view_read: r.view_read.clone(),
                view_rng: s.stream("view"),
                view_epoch: 0,
                view_down: false,
                reads: 0,
                failed: 0,
                measure: (env.settings.warmup_ns, env.settings.duration_ns),
            }
        });
        Self {
            p: p.clone(),
            producer: KafkaProducer::new(&p.producer, p.producers.instances, partitions),
            pout: ProducerOut::default(),
            up: links("up"),
            down: links("down"),
            log,
            lout: Vec::new(),
            consumer,
            visible: Vec::new(),
            dead: Vec::new(),
            reads,
            rng: s.stream("producers"),
            net_down: false,
            producer_crashes: Vec::new(),
            broker_crashes: Vec::new(),
            next_producer_crash: 0,
            next_broker_crash: 0,
            producer_paused: false,
            held: Vec::new(),
            held_out: ProducerOut::default(),
            reasons: Reasons {
                producer: [ReasonId::UNSET; 5],
                compacted: ReasonId::UNSET,
                poison: ReasonId::UNSET,
                failing: ReasonId::UNSET,
                frozen: ReasonId::UNSET,
            },
            stats: Stats::default(),
            measure: (env.settings.warmup_ns, env.settings.duration_ns),
            schema,
        }
    }

    fn memory(p: &EventSourcedParams, workload: &WorkloadSpec) -> Vec<crate::MemoryItem> {
        use crate::estimate::{MemoryItem, lru_item};
        use pipesim_config::limits::grouped;
        let (instances, partitions) = (p.producers.instances, p.log.partitions);
        let mut items = vec![
            MemoryItem::model(
                "producers.instances",
                format!(
                    "batch accumulators of {} producer instances × {} partitions",
                    grouped(u64::from(instances)),
                    grouped(u64::from(partitions))
                ),
                KafkaProducer::<Rec>::state_bytes(instances, partitions),
            ),
            MemoryItem::model(
                "log.partitions",
                format!("{} log partitions", grouped(u64::from(partitions))),
                KafkaLog::<Rec>::state_bytes(p.log.brokers, partitions, instances),
            ),
        ];
        if p.cache.enabled {
            items.push(lru_item("cache.capacity", p.cache.capacity, 1, workload));
        }
        items
    }

    fn work(p: &EventSourcedParams, workload: &WorkloadSpec) -> crate::Work {
        // Exactly-once output is invisible until its checkpoint commits: a checkpoint interval
        // of events is held (records, output, pending visibility). Otherwise the log and the
        // consumer hold about a second's worth.
        let exactly_once =
            |s: &StreamParams| s.sink == pipesim_components::stream::Sink::ExactlyOnce;
        let mut work = match (&p.consumer, &p.processor, &p.projection) {
            (ConsumerKind::Processor, Some(s), _) => crate::Work {
                events_per_arrival: 6.5,
                ns_per_event: 700.0,
                in_flight_s: if exactly_once(s) {
                    s.checkpoint_interval.ns as f64 / 1e9
                } else {
                    1.0
                },
                bytes_in_flight: 150.0,
                fixed_s: 0.0,
            },
            // Multi-row statements apply many events per engine event: as many as arrive for a
            // worker while a statement (about a millisecond) runs, up to the batch.
            (_, _, Some(j)) => crate::Work {
                events_per_arrival: 2.0
                    + 5.0
                        / (workload.peak_rate_per_s() * 1e-3 / f64::from(j.workers))
                            .clamp(1.0, f64::from(j.batch)),
                ns_per_event: 700.0,
                in_flight_s: 1.0,
                bytes_in_flight: 220.0,
                fixed_s: 0.0,
            },
            _ => crate::Work {
                events_per_arrival: 6.5,
                ns_per_event: 700.0,
                in_flight_s: 1.0,
                bytes_in_flight: 150.0,
                fixed_s: 0.0,
            },
        };
        // With a cache, the report's Che estimate of its hit ratio passes over every key about
        // sixty times (about a microsecond a key).
        if p.cache.enabled {
            work.fixed_s = f64::from(workload.keys.count) * 1e-6;
        }
        work
    }

    fn warnings(p: &EventSourcedParams, workload: &WorkloadSpec) -> Vec<String> {
        let mut out = Vec::new();
        let Some(r) = p.resolved.as_ref() else { return out };
        let peak = workload.peak_rate_per_s();
        let payload = f64::from(workload.payload_bytes);
        let lp = r.log.params();
        // Broker handler threads: bytes alone, spread over the brokers leading partitions.
        let leaders = lp.brokers.min(lp.partitions) as f64;
        let rho =
            peak * payload / lp.append_bandwidth.bytes_per_s / (leaders * f64::from(lp.io_threads));
        if rho >= 1.0 {
            out.push(format!(
                "log: appending {} bytes at {peak:.0}/s needs {rho:.2} of the brokers' handler threads: the log saturates",
                workload.payload_bytes
            ));
        }
        match p.consumer {
            ConsumerKind::Processor => {
                let subtasks =
                    r.processor.params().parallelism.unwrap_or(lp.partitions).min(lp.partitions);
                let rho = peak * r.processor.mean_record_ns() / 1e9 / f64::from(subtasks);
                if rho >= 1.0 {
                    out.push(format!(
                        "processor: {subtasks} subtasks at {peak:.0}/s are {rho:.2} busy: its lag grows without bound"
                    ));
                }
            }
            ConsumerKind::Projection => {
                let pp = r.projection.params();
                let workers = pp.workers.min(lp.partitions);
                let batch = f64::from(pp.batch);
                let capacity =
                    f64::from(workers) * batch / (r.projection.mean_statement_ns(batch) / 1e9);
                if peak >= capacity {
                    out.push(format!(
                        "projection: {workers} workers applying up to {} rows per statement manage about {capacity:.0}/s, below the peak {peak:.0}/s: its lag grows without bound",
                        pp.batch
                    ));
                }
            }
        }
        if lp.min_insync_replicas == lp.replication_factor && p.producer.acks == Acks::All {
            out.push(
                "log: min_insync_replicas equals the replication factor: one broker down stops every acks=all write to its partitions"
                    .to_string(),
            );
        }
        if !p.producer.idempotence && p.producer.max_in_flight > 1 && p.producer.acks != Acks::Zero
        {
            out.push(format!(
                "producer: without idempotence, {} requests in flight let a retried batch land after a later one (reordering) and a retry after a lost answer duplicate records",
                p.producer.max_in_flight
            ));
        }
        out
    }

    fn details(&self, results: &RunResults) -> Vec<DetailTable> {
        let mut tables = Vec::new();
        let ps = self.producer.stats;
        tables.push(DetailTable {
            name: "producer",
            columns: vec![
                "batches",
                "records_per_batch",
                "requests",
                "retries",
                "timeouts",
                "errors",
                "requests_lost",
                "answers_lost",
            ],
            rows: vec![vec![
                Cell::Int(ps.batches),
                Cell::Fixed(ratio(ps.records, ps.batches), 3),
                Cell::Int(ps.requests),
                Cell::Int(ps.retries),
                Cell::Int(ps.timeouts),
                Cell::Int(ps.errors),
                Cell::Int(self.stats.lost_requests),
                Cell::Int(self.stats.lost_answers),
            ]],
        });
        let ls = self.log.stats;
        let duplicates = results.invariants.duplicates;
        tables.push(DetailTable {
            name: "log",
            columns: vec![
                "records_appended",
                "batches_appended",
                "deduplicated_batches",
                "out_of_order",
                "not_enough_replicas",
                "not_leader",
                "disconnected",
                "truncated",
                "cleaned",
                "compacted",
                "elections",
                "peak_appended_per_s",
                "duplicate_fraction",
            ],
            rows: vec![vec![
                Cell::Int(ls.records),
                Cell::Int(ls.batches),
                Cell::Int(ls.deduplicated),
                Cell::Int(ls.out_of_order),
                Cell::Int(ls.not_enough_replicas),
                Cell::Int(ls.not_leader),
                Cell::Int(ls.disconnected),
                Cell::Int(ls.truncated),
                Cell::Int(ls.cleaned),
                Cell::Int(ls.compacted),
                Cell::Int(ls.elections),
                Cell::Int(ls.peak_window_records),
                Cell::Fixed(ratio(duplicates, self.stats.visible.saturating_sub(duplicates)), 9),
            ]],
        });
        // Time integrals cover the measured interval (the components' windows).
        let seconds = self.measure.1.saturating_sub(self.measure.0).max(1) as f64;
        let leaders = self.log.leaders_per_broker();
        let stations = self.log.station_stats(self.measure.1);
        tables.push(DetailTable {
            name: "brokers",
            columns: vec!["broker", "requests", "utilisation", "max_queue", "leaders_at_end"],
            rows: stations
                .iter()
                .enumerate()
                .map(|(b, st)| {
                    vec![
                        Cell::Int(b as u64),
                        Cell::Int(st.started),
                        Cell::Fixed(st.busy_area / seconds / f64::from(self.p.log.io_threads), 4),
                        Cell::Int(st.max_queue),
                        Cell::Int(leaders[b]),
                    ]
                })
                .collect(),
        });
        match &self.consumer {
            Consumer::Processor(c) => {
                let s = c.stats;
                let cycles = s.checkpoints.max(1) as f64;
                tables.push(DetailTable {
                    name: "processor",
                    columns: vec![
                        "subtasks",
                        "processed",
                        "checkpoints",
                        "aborted",
                        "mean_alignment_ms",
                        "max_alignment_ms",
                        "mean_checkpoint_ms",
                        "max_checkpoint_ms",
                        "blocked_fraction",
                        "restarts",
                        "replayed",
                    ],
                    rows: vec![vec![
                        Cell::Int(u64::from(c.subtasks())),
                        Cell::Int(s.processed),
                        Cell::Int(s.checkpoints),
                        Cell::Int(s.aborted),
                        Cell::Fixed(s.align_sum_ns as f64 / cycles / NS_PER_MS as f64, 3),
                        Cell::Fixed(s.align_max_ns as f64 / NS_PER_MS as f64, 3),
                        Cell::Fixed(s.cycle_sum_ns as f64 / cycles / NS_PER_MS as f64, 3),
                        Cell::Fixed(s.cycle_max_ns as f64 / NS_PER_MS as f64, 3),
                        Cell::Fixed(s.blocked_area / seconds / f64::from(c.subtasks()), 6),
                        Cell::Int(s.restarts),
                        Cell::Int(s.replayed),
                    ]],
                });
            }
            Consumer::Projection(c) => {
                let s = c.stats;
                tables.push(DetailTable {
                    name: "projection",
                    columns: vec![
                        "workers",
                        "statements",
                        "rows_per_statement",
                        "failures",
                        "dead_lettered",
                        "utilisation",
                        "restarts",
                        "replayed",
                    ],
                    rows: vec![vec![
                        Cell::Int(u64::from(c.workers())),
                        Cell::Int(s.statements),
                        Cell::Fixed(ratio(s.rows, s.statements), 3),
                        Cell::Int(s.failures),
                        Cell::Int(s.dead_lettered),
                        Cell::Fixed(s.busy_ns as f64 / seconds / f64::from(c.workers()), 4),
                        Cell::Int(s.restarts),
                        Cell::Int(s.replayed),
                    ]],
                });
            }
        }
        if self.schema.report {
            self.storage_details(&mut tables);
        }
        if let Some(rp) = &self.reads {
            let mut columns = vec!["reads", "failed"];
            let mut row = vec![Cell::Int(rp.reads), Cell::Int(rp.failed)];
            if let Some(c) = &rp.cache {
                columns.extend(["hits", "misses", "hit_ratio", "stale_hits", "invalidations"]);
                row.extend([
                    Cell::Int(c.hits),
                    Cell::Int(c.misses),
                    Cell::Fixed(ratio(c.hits, c.hits + c.misses), 6),
                    Cell::Int(c.stale_hits),
                    Cell::Int(c.invalidations),
                ]);
                if let Some(che) = self.che(c) {
                    columns.push("che_hit_ratio");
                    row.push(Cell::Fixed(che, 6));
                }
            }
            tables.push(DetailTable { name: "reads", columns, rows: vec![row] });
        }
        tables
    }
}

impl EventSourced {
    /// Che's approximation of the cache's hit ratio without invalidations, for the key
    /// popularity readers use (key spaces up to 1 M keys; beyond that it takes seconds).
    fn che(&self, c: &Cache) -> Option<f64> {
        let rp = self.reads.as_ref()?;
        if rp.key_count > 1_000_000 {
            return None;
        }
        let n = rp.key_count as usize;
        let probs: Vec<f64> = match rp.exponent {
            Some(s) => zipf_probabilities(rp.key_count, s),
            None => vec![1.0 / n as f64; n],
        };
        Some(che_hit_ratio(&probs, c.capacity_hint as usize))
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn view_docs() -> Vec<ParamDoc> {
    vec![
        ParamDoc::new(
            "view.servers",
            "integer >= 1",
            "16",
            "reads the view's store serves at once (a connection pool in front of it)",
        ),
        ParamDoc::new(
            "view.read",
            "distribution",
            "{ dist = \"lognormal\", p50 = \"0.5ms\", p99 = \"4ms\" }",
            "time the store takes to serve a read that missed the cache (assumed: an indexed point lookup)",
        ),
    ]
}

fn cache_docs() -> Vec<ParamDoc> {
    vec![
        ParamDoc::new(
            "cache.enabled",
            "boolean",
            "false",
            "readers go through a cache (seed 002's Dragonfly)",
        ),
        ParamDoc::new(
            "cache.capacity",
            "integer >= 1",
            "100000",
            "keys the cache holds, least recently used evicted",
        ),
        ParamDoc::new(
            "cache.hit",
            "distribution",
            "{ dist = \"lognormal\", p50 = \"150us\", p99 = \"800us\" }",
            "time to answer a hit (seed 002: sub-millisecond)",
        ),
        ParamDoc::new(
            "cache.invalidation_lag",
            "distribution",
            "\"1ms\"",
            "from a view update to the eviction of the key's entry (seed 002 invalidates through a Redis stream)",
        ),
        ParamDoc::new(
            "cache.prewarm",
            "boolean",
            "false",
            "a restarted cache is filled with the most popular keys before it serves (seed 002's fix)",
        ),
    ]
}

fn read_docs() -> Vec<ParamDoc> {
    vec![
        ParamDoc::new(
            "reads.rate",
            "rate",
            "none",
            "reads per second, one key each, Poisson (absent: no readers)",
        ),
        ParamDoc::new(
            "reads.keys",
            "\"popular\" or \"uniform\"",
            "\"popular\"",
            "which keys readers ask for: by popularity, or uniformly",
        ),
        ParamDoc::new(
            "reads.exponent",
            "number > 0",
            "the workload's",
            "with keys = \"popular\", readers' own Zipf exponent",
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Schema changes and the log's storage faults (seed 004)

/// What the `log` role takes.
const LOG_FAULT_KINDS: &[&str] =
    &["crash", "rolling_restart", "disk_stall", "pause", "schema_flood"];

/// Whether a fault acts on the log's storage or schema (the kinds this part handles).
fn is_storage_fault(f: &FaultSpec) -> bool {
    f.role == "log"
        && matches!(
            f.kind,
            FaultKind::DiskStall { .. } | FaultKind::Pause | FaultKind::SchemaFlood { .. }
        )
}

/// The schema catalogue of a run: one change at the start of each `schema_flood` window on the
/// log and every `interval` after, while in the window.
fn schema_state(p: &EventSourcedParams, env: &RunEnv<'_>) -> SchemaState {
    let params = p.schemas.clone().unwrap_or_default();
    let mut changes = Vec::new();
    for f in env.faults.iter().filter(|f| f.role == "log") {
        if let FaultKind::SchemaFlood { interval_ns } = f.kind {
            let mut t = f.start_ns;
            while t < f.end_ns {
                changes.push((t, (f.node, f.start_ns, f.end_ns)));
                t = t.saturating_add(interval_ns.max(1));
            }
        }
    }
    changes.sort_by_key(|c| c.0);
    let salt = 0x5c4e_3a00_0000_0004;
    let catalogue =
        Catalogue::new(changes.iter().map(|c| c.0).collect(), params.new_type_share, salt);
    SchemaState {
        mode: p.schema,
        params,
        catalogue,
        scheduled: vec![false; changes.len()],
        targets: changes.into_iter().map(|c| c.1).collect(),
        changes: 0,
        reject_below: 0,
        loaded: 0,
        discard_before: 0,
        report: !p.schema.is_schema_less() || env.faults.iter().any(is_storage_fault),
        streams: *env.streams,
        decode_errors: 0,
        consumer_restarts: 0,
        discarded: 0,
        since_change: (0, 0),
    }
}

/// Whether the brokers' stores could stop writes without any fault: sizes other than the
/// defaults, or a peak write rate per broker (leader appends and follower copies) at or above
/// the flush bandwidth, when flushing no longer outpaces filling.
fn store_can_stall(p: &EventSourcedParams, workload: &WorkloadSpec) -> bool {
    let lp = &p.log;
    let d = KafkaLogParams::default();
    if lp.memtable.bytes != d.memtable.bytes
        || lp.memtables != d.memtables
        || lp.flush_bandwidth.bytes_per_s != d.flush_bandwidth.bytes_per_s
    {
        return true;
    }
    let per_broker = workload.peak_rate_per_s()
        * f64::from(workload.payload_bytes)
        * f64::from(lp.replication_factor)
        / f64::from(lp.brokers);
    per_broker >= lp.flush_bandwidth.bytes_per_s
}

impl EventSourced {
    /// The brokers a storage fault hits: `fault.node` (modulo the brokers) or all of them.
    fn fault_brokers(&self, node: Option<u32>) -> std::ops::Range<u32> {
        match node {
            Some(n) => {
                let b = n % self.log.brokers();
                b..b + 1
            }
            None => 0..self.log.brokers(),
        }
    }

    /// A `disk_stall`, `pause` or `schema_flood` of the log; false for any other fault.
    fn storage_fault(&mut self, ctx: &mut Ctx<Ev>, fault: &FaultSpec, phase: FaultPhase) -> bool {
        if !is_storage_fault(fault) {
            return false;
        }
        let (start, end) = (fault.start_ns, fault.end_ns);
        match (&fault.kind, phase) {
            (FaultKind::DiskStall { effect }, FaultPhase::Begin) => {
                for b in self.fault_brokers(fault.node) {
                    let mut rng = self.schema.streams.stream(&format!("log/disk_stall/{b}"));
                    let effect: DiskStallEffect = effect.clone();
                    let f = move |ns, now| effect.apply(ns, now, end, &mut rng);
                    self.log.set_disk_stall(b, Some((start, end, Box::new(f))));
                }
            }
            (FaultKind::DiskStall { .. }, FaultPhase::End) => {
                for b in self.fault_brokers(fault.node) {
                    self.log.set_disk_stall(b, None);
                }
            }
            (FaultKind::Pause, FaultPhase::Begin) => {
                for b in self.fault_brokers(fault.node) {
                    self.log.freeze(b, ctx.now());
                }
            }
            (FaultKind::Pause, FaultPhase::End) => {
                for b in self.fault_brokers(fault.node) {
                    self.log.thaw(&mut ctx.sim, b, wrap_log);
                }
            }
            (FaultKind::SchemaFlood { .. }, FaultPhase::Begin) => {
                // Two floods with the same node and window share their keys: each change is
                // scheduled once, by the first of them to begin.
                let key = (fault.node, start, end);
                let now = ctx.now();
                let st = &mut self.schema;
                for (i, &t) in st.catalogue.changes().iter().enumerate() {
                    if st.targets[i] == key && !st.scheduled[i] {
                        st.scheduled[i] = true;
                        ctx.schedule_at(t.max(now), Ev::SchemaChange(i as u32));
                    }
                }
            }
            _ => {}
        }
        true
    }

    /// Schema change `i` happens: the new type exists from now on; what it costs depends on
    /// the mode.
    fn schema_change(&mut self, ctx: &mut Ctx<Ev>, i: u32) {
        let st = &mut self.schema;
        st.changes += 1;
        st.since_change = (0, 0);
        match st.mode {
            SchemaMode::AutoRegister => {
                let ns = st.params.compaction.ns;
                let node = st.targets[i as usize].0;
                for b in self.fault_brokers(node) {
                    self.log.compact(&mut ctx.sim, b, ns, wrap_log);
                }
            }
            SchemaMode::Frozen => st.reject_below = st.catalogue.new_below(st.changes),
            SchemaMode::Infer | SchemaMode::SchemaLess => {}
        }
    }

    /// `infer`: whether the consumer cannot apply `r` now. An event of a type whose
    /// descriptor it has not got (neither loaded at its last start nor arrived `learn_lag`
    /// after the change) is a decode error: the consumer crashes and is back `restart` later,
    /// at the log's end, so no update of an event created before then is ever applied.
    #[inline]
    fn undecodable(&mut self, r: &Rec, now: SimTime) -> bool {
        let st = &mut self.schema;
        if r.0.created_ns < st.discard_before {
            st.discarded += 1;
            return true;
        }
        let learned = st.catalogue.count_at(now.saturating_sub(st.params.learn_lag.ns));
        let known = st.loaded.max(learned);
        if known >= st.changes || st.catalogue.type_of(r.0.id, r.0.created_ns) <= known {
            return false;
        }
        st.decode_errors += 1;
        st.consumer_restarts += 1;
        let back = now + st.params.restart.ns;
        st.discard_before = back;
        st.loaded = st.catalogue.count_at(back);
        st.discarded += 1;
        true
    }

    fn storage_details(&self, tables: &mut Vec<DetailTable>) {
        let ms = |ns: SimTime| ns as f64 / NS_PER_MS as f64;
        let stores = self.log.store_stats(self.measure.1.max(1));
        tables.push(DetailTable {
            name: "storage",
            columns: vec![
                "broker",
                "flushes",
                "compactions",
                "max_compaction_ms",
                "write_stops",
                "stopped_ms",
                "max_stop_ms",
            ],
            rows: stores
                .iter()
                .enumerate()
                .map(|(b, s)| {
                    vec![
                        Cell::Int(b as u64),
                        Cell::Int(s.flushes),
                        Cell::Int(s.compactions),
                        Cell::Fixed(ms(s.max_compaction_ns), 3),
                        Cell::Int(s.stops),
                        Cell::Fixed(ms(s.stopped_ns), 3),
                        Cell::Fixed(ms(s.max_stop_ns), 3),
                    ]
                })
                .collect(),
        });
        let st = &self.schema;
        tables.push(DetailTable {
            name: "schema",
            columns: vec![
                "changes",
                "kept_since_last_change",
                "decode_errors",
                "consumer_restarts",
                "updates_discarded",
            ],
            rows: vec![vec![
                Cell::Int(u64::from(st.changes)),
                Cell::Fixed(1.0 - ratio(st.since_change.1, st.since_change.0), 6),
                Cell::Int(st.decode_errors),
                Cell::Int(st.consumer_restarts),
                Cell::Int(st.discarded),
            ]],
        });
    }
}
