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
//!
//! The files: `config.rs` (the parameters, their validation and documentation), `handlers.rs`
//! (the event handlers, one per family of events), `write.rs` (what the producer, the log and
//! the consumer produce, and where it goes), `read.rs` (the readers, the view cache and the
//! view's store), `faults.rs` (faults by role), `schema.rs` (schema changes and the log's storage
//! faults, seed 004), `details.rs` (the report's tables) and `estimate.rs` (memory, work and
//! warnings before a run). This file holds the model's state and events, and its `Model` and
//! `ModelKind` implementations.

mod config;
mod details;
mod estimate;
mod faults;
mod handlers;
mod read;
mod schema;
mod write;

pub use config::{
    ConsumerKind, EventSourcedConfig, EventSourcedParams, ReadKeys, ReadParams, ViewCacheParams,
    ViewParams,
};
pub use read::ViewJob;

use crate::ctx::Ctx;
use crate::detail::DetailTable;
use crate::fault::{FaultPhase, FaultSpec, NETWORK_FAULT_KINDS, RoleNodes, link_faults};
use crate::model::{BuildEnv, Model, ModelKind, RunEnv};
use pipesim_components::kafka::{
    KafkaLog, KafkaProducer, LogEvent, LogOutcome, ProduceReq, ProduceResult, ProducerDrop,
    ProducerOut, Record,
};
use pipesim_components::schema::SchemaMode;
use pipesim_components::stream::{
    DeadLetter, LogConsumer, Projection, ProjectionEvent, StreamEvent, StreamProcessor,
};
use pipesim_components::{Link, Outbox};
use pipesim_config::{ConfigError, ParamDoc};
use pipesim_engine::{SimTime, StreamRng, Window};
use pipesim_metrics::{ReasonId, RunResults};
use pipesim_workload::{EventMeta, WorkloadSpec};
use read::ReadPath;
use schema::{LOG_FAULT_KINDS, SchemaState, schema_state, store_can_stall};

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
impl From<StreamEvent> for Ev {
    fn from(e: StreamEvent) -> Ev {
        Ev::Stream(e)
    }
}
impl From<ProjectionEvent> for Ev {
    fn from(e: ProjectionEvent) -> Ev {
        Ev::Projection(e)
    }
}

/// Makes one [`LogConsumer`] call on whichever consumer the design runs: the design's only
/// dispatch on the consumer's kind (both arms are the same call, `Ev::from` wrapping each
/// consumer's own events).
macro_rules! on_consumer {
    ($consumer:expr, |$c:ident| $call:expr) => {
        match $consumer {
            Consumer::Processor($c) => $call,
            Consumer::Projection($c) => $call,
        }
    };
}
use on_consumer;

// One consumer per model, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
enum Consumer {
    Processor(StreamProcessor),
    Projection(Projection),
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
    lout: Outbox<LogOutcome<Rec>>,
    consumer: Consumer,
    visible: Vec<Rec>,
    dead: Vec<(Rec, DeadLetter)>,
    reads: Option<ReadPath>,
    rng: StreamRng,
    net_down: bool,
    /// Active crashes of producer instances and brokers: (start, end, which).
    /// Which producer instances and brokers each fault hits (the one rule of `RoleNodes`).
    producer_nodes: RoleNodes,
    broker_nodes: RoleNodes,
    /// The producers are frozen (a `pause` of the `producer` role): what reaches them waits in
    /// `held`, what their running timers decide waits in `held_out`, until the window ends.
    producer_paused: bool,
    held: Vec<Held>,
    held_out: ProducerOut<Rec>,
    reasons: Reasons,
    stats: Stats,
    measure: Window,
    schema: SchemaState,
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
        on_consumer!(&mut self.consumer, |c| LogConsumer::start(c, &mut ctx.sim, Ev::from));
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

    /// Routes each event to its family's handler (handlers.rs). What reaches a paused
    /// producer waits until the pause ends, then comes back through here.
    fn on_event(&mut self, ctx: &mut Ctx<Ev>, event: Ev) {
        if self.producer_paused
            && matches!(event, Ev::Linger(..) | Ev::ProducerRetry(..) | Ev::ToProducer(..))
        {
            self.held.push(Held::Event(event));
            return;
        }
        match event {
            Ev::Linger(..) | Ev::ProducerTimeout | Ev::ProducerRetry(..) | Ev::ToProducer(..) => {
                self.on_producer_event(ctx, event);
            }
            Ev::ToBroker(_) | Ev::Log(_) => self.on_log_event(ctx, event),
            Ev::Stream(_) | Ev::Projection(_) => self.on_consumer_event(ctx, event),
            Ev::ReadTick | Ev::ViewArrive(_) | Ev::ViewDone(..) | Ev::ReadDone(..) => {
                self.on_read_event(ctx, event);
            }
            Ev::SchemaChange(i) => self.schema_change(ctx, i),
        }
        self.drain(ctx);
    }

    fn on_fault(&mut self, ctx: &mut Ctx<Ev>, fault: &FaultSpec, phase: FaultPhase) {
        self.fault(ctx, fault, phase);
    }
}

impl ModelKind for EventSourced {
    const KIND: &'static str = "event_sourced";
    const SUMMARY: &'static str = "producers append to a replicated Kafka-like log; a stream processor (checkpoints, exactly-once) or a projection worker (UPSERT, dead-letter queue) builds the view readers query, optionally through a cache";
    type Config = EventSourcedConfig;
    type Params = EventSourcedParams;

    fn params_doc() -> Vec<ParamDoc> {
        config::params_doc()
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
        config::validate(c, env)
    }

    fn build(p: &EventSourcedParams, env: &RunEnv<'_>) -> Self {
        let r = &p.resolved;
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
        let window = env.settings.measured();
        let mut consumer = match p.consumer {
            ConsumerKind::Processor => Consumer::Processor(StreamProcessor::new(
                &r.processor,
                &p.kafka_consumer,
                partitions,
                r.fetch_delay.clone(),
                s.stream("processor"),
            )),
            ConsumerKind::Projection => Consumer::Projection(Projection::new(
                &r.projection,
                &p.kafka_consumer,
                partitions,
                r.fetch_delay.clone(),
                s.stream("projection"),
            )),
        };
        on_consumer!(&mut consumer, |c| LogConsumer::set_window(c, window));
        let mut log =
            KafkaLog::new(&r.log, p.producer.acks, p.producers.instances, s.stream("log"));
        log.set_window(window);
        let schema = schema_state(p, env);
        if schema.report || store_can_stall(p, env.workload) {
            log.enable_store();
        }
        let reads = p.reads.rate.map(|rate| ReadPath::new(p, r, env, rate));
        Self {
            p: p.clone(),
            producer: KafkaProducer::new(&p.producer, p.producers.instances, partitions),
            pout: ProducerOut::default(),
            up: links("up"),
            down: links("down"),
            log,
            lout: Outbox::default(),
            consumer,
            visible: Vec::new(),
            dead: Vec::new(),
            reads,
            rng: s.stream("producers"),
            net_down: false,
            producer_nodes: RoleNodes::default(),
            broker_nodes: RoleNodes::default(),
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
            measure: env.settings.measured(),
            schema,
        }
    }

    fn memory(p: &EventSourcedParams, workload: &WorkloadSpec) -> Vec<crate::MemoryItem> {
        estimate::memory(p, workload)
    }

    fn work(p: &EventSourcedParams, workload: &WorkloadSpec) -> crate::Work {
        estimate::work(p, workload)
    }

    fn warnings(p: &EventSourcedParams, workload: &WorkloadSpec) -> Vec<String> {
        estimate::warnings(p, workload)
    }

    fn details(&self, results: &RunResults) -> Vec<DetailTable> {
        self.detail_tables(results)
    }
}
