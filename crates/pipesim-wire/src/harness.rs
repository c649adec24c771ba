//! One wire run: a turmoil simulation stepped tick by tick, fed the workload's arrivals and the
//! fault timeline, its outcomes handed to the same `Recorder` the DES uses.
//!
//! Each iteration, at step boundary `t` (wire time):
//!
//! 1. the fault boundaries due by `t` are applied (crash, restart, cut, heal, disk stall);
//! 2. the network looks at what was sent during the last step and delivers what is due;
//! 3. the arrivals created before `t + tick` go to their producer connection's inbox (each
//!    is sent at its own creation time, rounded up to the wire world's millisecond);
//! 4. turmoil steps every host by one tick, in registration order (services, then producers);
//! 5. the probe's records of the step go to the recorder in time order.
//!
//! The run ends at `duration + drain`, or earlier once every arrival has been made, every
//! fault boundary applied and every event resolved (visible or dropped).

use crate::clock::Clock;
use crate::design::{Counters, HostCtx, HostSpec, Oracles, ProducerSpec, Rngs, WireDesign};
use crate::disk::{Disk, DiskState};
use crate::faults::{Action, Boundary, NETWORK_ROLE, plan};
use crate::network::Network;
use crate::panic::{Capture, Scoped};
use crate::params::HarnessParams;
use crate::probe::Probe;
use crate::producer::{ConnSpec, Inbox, ProducerStats, run_connection};
use pipesim_engine::{RngStreams, SimTime, StreamRng};
use pipesim_metrics::window_rule::report_group;
use pipesim_metrics::{Recorder, RecorderConfig, RunResults};
use pipesim_models::{
    FaultPhase, FaultSpec, ModelOutcome, PUBLISH_EVERY, ResolvedFaults, RunFailure, RunSettings,
};
use pipesim_workload::{ArrivalGen, EventMeta, WorkloadSpec};
use std::cell::{Cell, RefCell};
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// The wall-clock epoch every wire run pretends to start at (2026-01-01T00:00:00Z), so that
/// `SystemTime` inside services is the same on every run.
pub const EPOCH_UNIX_S: u64 = 1_767_225_600;

/// The TCP segments one stream direction may have in flight (turmoil's default is 64, which a
/// pipelined producer at thousands of events per second exhausts).
const TCP_CAPACITY: usize = 1 << 16;

/// A host as the harness keeps it.
pub(crate) struct Host {
    pub(crate) spec: HostSpec,
    pub(crate) ip: IpAddr,
    pub(crate) disk: Option<Rc<RefCell<DiskState>>>,
    pub(crate) restarts: Rc<Cell<u32>>,
    /// Crashed by a fault and not restarted yet.
    pub(crate) down: bool,
}

/// What a run leaves besides the recorder's results.
pub(crate) struct RunLeftovers {
    pub(crate) hosts: Vec<Host>,
    pub(crate) producers: ProducerStats,
    pub(crate) counters: Counters,
    pub(crate) steps: u64,
    pub(crate) messages: u64,
    pub(crate) notes: Vec<String>,
}

/// Everything the loop needs, built before the first step.
struct World<'a> {
    sim: turmoil::Sim<'a>,
    hosts: Vec<Host>,
    network: Network,
    probe: Probe,
    clock: Clock,
    inboxes: Vec<Rc<Inbox>>,
    producer: ProducerSpec,
    boundaries: Vec<Boundary>,
    producer_stats: Rc<RefCell<ProducerStats>>,
    counters: Counters,
}

/// Runs design `W` with `params` under the harness settings `h`.
pub(crate) fn run<W: WireDesign>(
    params: &Arc<W::Params>,
    h: &HarnessParams,
    settings: &RunSettings,
    workload: &WorkloadSpec,
    resolved: &ResolvedFaults,
) -> Result<(RunResults, RunLeftovers), RunFailure> {
    let streams = RngStreams::new(settings.seed);
    let capture = Capture::start();
    let mut w = build::<W>(params, h, &streams, &resolved.delivered);
    let mut rec = new_recorder(settings, workload, resolved);
    let mut reason_ids = Vec::new();
    let mut feed = Feed::new(workload, &streams);
    let tick = h.tick_ns();
    let end_wire = w.clock.to_wire_ns(settings.duration_ns.saturating_add(settings.drain_ns));
    let (mut next_boundary, mut steps) = (0usize, 0u64);
    loop {
        let now_wire = w.sim.elapsed().as_nanos() as u64;
        while let Some(b) = w.boundaries.get(next_boundary).filter(|b| b.at_wire <= now_wire) {
            let b = b.clone();
            apply(&mut w, &b);
            next_boundary += 1;
        }
        w.network.scan(&mut w.sim, now_wire);
        feed.send_due(&mut w, h, now_wire + tick, end_wire);
        let stepped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.sim.step()));
        steps += 1;
        let after_wire = now_wire + tick;
        let settled = w.clock.to_scenario_ns(after_wire.saturating_sub(1_000_000));
        w.probe.flush(&mut rec, &mut reason_ids, Some(settled));
        if let Some(failure) = failure_of(&mut w, &capture, stepped, after_wire) {
            return Err(failure);
        }
        if let Some(p) = &settings.progress
            && steps % (PUBLISH_EVERY / 64) == 0
        {
            p.publish(w.clock.to_scenario_ns(after_wire), feed.arrived + w.network.delivered);
        }
        let quiet = feed.next.is_none() && next_boundary >= w.boundaries.len();
        if after_wire >= end_wire || (quiet && rec.pending() == 0 && w.probe.is_empty()) {
            break;
        }
    }
    w.probe.flush(&mut rec, &mut reason_ids, None);
    let done = finish(&mut w, rec, settings, feed.arrived, steps);
    drop(capture);
    Ok(done)
}

/// The recorder of a run, with the fault windows to mark.
fn new_recorder(
    settings: &RunSettings,
    workload: &WorkloadSpec,
    resolved: &ResolvedFaults,
) -> Recorder {
    let span_ns = settings.duration_ns.saturating_add(settings.drain_ns);
    let cfg = RecorderConfig {
        warmup_ns: settings.warmup_ns,
        duration_ns: settings.duration_ns,
        window_ns: settings.window_ns,
        report_group: report_group(span_ns, settings.window_ns),
        key_count: workload.keys.count,
    };
    let mut rec = Recorder::with_sink(cfg, settings.timeline_sink.clone());
    let windows: Vec<(SimTime, SimTime)> =
        resolved.windows.iter().map(|f| (f.start_ns, f.end_ns)).collect();
    rec.set_fault_windows(&windows);
    if settings.log_visibility {
        rec.log_visibility();
    }
    rec
}

/// The workload's arrivals, handed to the producer connections' inboxes step by step.
struct Feed {
    arrivals: ArrivalGen,
    /// Which producer instance sends an event (for keys not pinned to one).
    instance_rng: StreamRng,
    /// The next arrival not sent yet; `None` once they are all made.
    next: Option<EventMeta>,
    /// Arrivals sent so far.
    arrived: u64,
}

impl Feed {
    fn new(workload: &WorkloadSpec, streams: &RngStreams) -> Self {
        let mut arrivals = ArrivalGen::new(workload, streams);
        let instance_rng = streams.stream("producers");
        let next = arrivals.next_event();
        Self { arrivals, instance_rng, next, arrived: 0 }
    }

    /// Sends the arrivals created before wire time `before_wire` to their connection's inbox;
    /// the first created after the run's end (`end_wire`) ends the arrivals.
    fn send_due(&mut self, w: &mut World<'_>, h: &HarnessParams, before_wire: u64, end_wire: u64) {
        while let Some(ev) = self.next.filter(|ev| w.clock.to_wire_ns(ev.created_ns) < before_wire)
        {
            if w.clock.to_wire_ns(ev.created_ns) > end_wire {
                self.next = None;
                break;
            }
            w.probe.created(&ev);
            let instance = h.producers.instance_of(ev.key, &mut self.instance_rng) as usize;
            let dest = w.producer.destination_of(&ev);
            w.inboxes[instance * w.producer.destinations.len() + dest].push(ev);
            self.arrived += 1;
            self.next = self.arrivals.next_event();
        }
    }
}

/// Closes a run that reached its end: the recorder's results, and what the report's design
/// tables and notes need from the world.
fn finish(
    w: &mut World<'_>,
    rec: Recorder,
    settings: &RunSettings,
    arrived: u64,
    steps: u64,
) -> (RunResults, RunLeftovers) {
    let end_ns = w.clock.to_scenario_ns(w.sim.elapsed().as_nanos() as u64);
    let end_ns = end_ns.max(settings.duration_ns).min(settings.duration_ns + settings.drain_ns);
    let events = arrived + w.network.delivered;
    if let Some(p) = &settings.progress {
        p.finish(end_ns, events);
    }
    let notes = run_notes(w, arrived);
    let results = rec.finish(end_ns, events);
    let leftovers = RunLeftovers {
        producers: *w.producer_stats.borrow(),
        counters: Rc::clone(&w.counters),
        hosts: std::mem::take(&mut w.hosts),
        steps,
        messages: w.network.delivered,
        notes,
    };
    (results, leftovers)
}

/// Notes on what the services reported that hint at a bug in them.
fn run_notes(w: &World<'_>, arrived: u64) -> Vec<String> {
    let acked_or_visible = w.probe.visible_calls();
    let mut notes = Vec::new();
    if acked_or_visible == 0 && arrived > 0 {
        notes.push(format!(
            "no service reported an event visible in {arrived} arrivals: every acknowledged event counts as lost; does the service call `ctx.probe.visible(&ev)` when an event enters its read view?"
        ));
    }
    if w.probe.folded_reasons() > 0 {
        notes.push(format!(
            "more than {} distinct drop reasons: the rest were counted under the last one (a reason should be a fixed phrase)",
            crate::probe::MAX_DROP_REASONS
        ));
    }
    notes
}

/// Builds the simulation: turmoil with a fixed epoch and seed, the design's hosts, then the
/// producers' hosts, every link held.
fn build<'a, W: WireDesign>(
    params: &Arc<W::Params>,
    h: &HarnessParams,
    streams: &RngStreams,
    faults: &[FaultSpec],
) -> World<'a> {
    let clock = Clock::new(u64::from(h.wire.dilation), h.tick_ns());
    let mut sim = new_turmoil(h, streams);
    let probe = Probe::new(clock);
    let counters: Counters = Rc::default();
    let hosts = add_hosts::<W>(&mut sim, params, h, streams, &probe, clock, &counters);
    let producer = W::producer(params);
    let producer_stats: Rc<RefCell<ProducerStats>> = Rc::default();
    let inboxes = add_producers(&mut sim, h, &producer, &probe, clock, &producer_stats);
    let roles: Vec<&str> = hosts.iter().map(|x| x.spec.role).collect();
    let fault_plan = plan(faults, &roles, clock.dilation());
    let ips = hosts.iter().map(|x| x.ip).collect();
    let delay = h.link().delay().clone();
    let network = Network::new(
        ips,
        delay,
        streams.stream("wire/network"),
        clock,
        h.tick_ns(),
        fault_plan.net,
    );
    network.hold_all(&mut sim);
    World {
        sim,
        hosts,
        network,
        probe,
        clock,
        inboxes,
        producer,
        boundaries: fault_plan.boundaries,
        producer_stats,
        counters,
    }
}

/// Turmoil with a fixed epoch and seed, zero link latency (the harness's own network delays
/// messages) and a TCP window no producer exhausts.
fn new_turmoil<'a>(h: &HarnessParams, streams: &RngStreams) -> turmoil::Sim<'a> {
    let mut turmoil_seed = streams.stream("wire/turmoil");
    let mut builder = turmoil::Builder::new();
    builder
        .epoch(UNIX_EPOCH + Duration::from_secs(EPOCH_UNIX_S))
        .rng_seed(turmoil_seed.next_u64())
        .tick_duration(Duration::from_nanos(h.tick_ns()))
        .simulation_duration(Duration::MAX / 4)
        .min_message_latency(Duration::ZERO)
        .max_message_latency(Duration::ZERO)
        .tcp_capacity(TCP_CAPACITY);
    if let Some(block) = h.wire.disk.torn_block {
        // A crash keeps a random whole-block prefix of each unsynced write.
        builder.fs().block_size(block.bytes);
    }
    builder.build()
}

/// Registers the design's service hosts, then names the producers' hosts (registered by
/// [`add_producers`]); returns every host, services first, each with its disk and restart count.
fn add_hosts<W: WireDesign>(
    sim: &mut turmoil::Sim<'_>,
    params: &Arc<W::Params>,
    h: &HarnessParams,
    streams: &RngStreams,
    probe: &Probe,
    clock: Clock,
    counters: &Counters,
) -> Vec<Host> {
    let oracles: Oracles = Rc::default();
    let mut specs = W::hosts(params);
    let services = specs.len();
    specs.extend(
        (0..h.wire.producer_hosts).map(|i| HostSpec::new(format!("producer-{i}"), NETWORK_ROLE)),
    );
    let mut hosts = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let disk = spec.disk.then(|| {
            let rng = streams.stream(&format!("wire/disk/{}", spec.name));
            Rc::new(RefCell::new(DiskState::new(h.fsync().clone(), rng)))
        });
        let restarts = Rc::new(Cell::new(0));
        if i < services {
            let index_in_role = specs[..i].iter().filter(|s| s.role == spec.role).count();
            let ctx = HostCtx {
                host: spec.clone(),
                index_in_role,
                probe: probe.clone(),
                clock,
                disk: None,
                restarts: 0,
                rngs: Rngs::default(),
                streams: *streams,
                counters: Rc::clone(counters),
                oracles: Rc::clone(&oracles),
            };
            add_service::<W>(sim, params, ctx, disk.clone(), Rc::clone(&restarts));
        }
        hosts.push(Host {
            spec: spec.clone(),
            ip: sim.lookup(spec.name.as_str()),
            disk,
            restarts,
            down: false,
        });
    }
    hosts
}

/// Registers one service host: its software is built afresh at every start.
fn add_service<W: WireDesign>(
    sim: &mut turmoil::Sim<'_>,
    params: &Arc<W::Params>,
    ctx: HostCtx,
    disk: Option<Rc<RefCell<DiskState>>>,
    restarts: Rc<Cell<u32>>,
) {
    let params = Arc::clone(params);
    let name: Rc<str> = Rc::from(ctx.host.name.as_str());
    let host_name = ctx.host.name.clone();
    sim.host(host_name.as_str(), move || {
        let mut ctx = ctx.clone();
        ctx.restarts = restarts.get();
        ctx.disk = disk.as_ref().map(|d| Disk::new(Rc::clone(d), ctx.clock));
        Scoped::new(Rc::clone(&name), W::software(&params, ctx))
    });
}

/// Registers the producers' hosts; returns the inbox of every (instance, destination)
/// connection, indexed `instance · destinations + destination`.
fn add_producers(
    sim: &mut turmoil::Sim<'_>,
    h: &HarnessParams,
    producer: &ProducerSpec,
    probe: &Probe,
    clock: Clock,
    stats: &Rc<RefCell<ProducerStats>>,
) -> Vec<Rc<Inbox>> {
    let dests = producer.destinations.len();
    let gave_up = format!("producer gave up after {} retries", h.client.retries);
    let conns: Vec<(Rc<ConnSpec>, Rc<Inbox>)> = (0..h.producers.instances as usize * dests)
        .map(|c| {
            let spec = ConnSpec {
                producer: (c / dests) as u32,
                addresses: producer.destinations[c % dests].clone(),
                retry: h.client.clone(),
                gave_up: gave_up.clone(),
                stats: Rc::clone(stats),
            };
            (Rc::new(spec), Rc::new(Inbox::default()))
        })
        .collect();
    let hosts = h.wire.producer_hosts as usize;
    for p in 0..hosts {
        let mine: Vec<(Rc<ConnSpec>, Rc<Inbox>)> = conns
            .iter()
            .enumerate()
            .filter(|(c, _)| (c / dests) % hosts == p)
            .map(|(_, (s, i))| (Rc::clone(s), Rc::clone(i)))
            .collect();
        let (probe, name) = (probe.clone(), format!("producer-{p}"));
        let scope: Rc<str> = Rc::from(name.as_str());
        sim.host(name.as_str(), move || {
            let (mine, probe) = (mine.clone(), probe.clone());
            Scoped::new(Rc::clone(&scope), async move {
                for (spec, inbox) in mine {
                    crate::panic::spawn(run_connection(spec, inbox, probe.clone(), clock));
                }
                std::future::pending::<()>().await;
                Ok(())
            })
        });
    }
    conns.into_iter().map(|(_, inbox)| inbox).collect()
}

/// Applies one fault boundary.
fn apply(w: &mut World<'_>, b: &Boundary) {
    match (&b.action, b.phase) {
        (Action::Crash(hosts), FaultPhase::Begin) => {
            for &i in hosts {
                if !w.hosts[i].down {
                    w.sim.crash(w.hosts[i].ip);
                    w.network.crashed(&mut w.sim, i);
                    w.hosts[i].down = true;
                }
            }
        }
        (Action::Crash(hosts), FaultPhase::End) => {
            for &i in hosts {
                if w.hosts[i].down {
                    let r = &w.hosts[i].restarts;
                    r.set(r.get() + 1);
                    w.network.restarted(&mut w.sim, i);
                    w.sim.bounce(w.hosts[i].ip);
                    w.hosts[i].down = false;
                }
            }
        }
        (Action::Net(i), FaultPhase::Begin) => w.network.begin(&mut w.sim, *i),
        (Action::Net(i), FaultPhase::End) => w.network.end(&mut w.sim, *i),
        (Action::Disk(hosts, effect, end_ns), FaultPhase::Begin) => {
            for &i in hosts {
                if let Some(d) = &w.hosts[i].disk {
                    d.borrow_mut().stalls.open.push((effect.clone(), *end_ns));
                }
            }
        }
        // A stall's window ends by itself: each fsync checks its end.
        (Action::Disk(..), FaultPhase::End) => {}
    }
}

/// The run's failure after a step, if any: a panic, a software that returned an error, or a
/// service host that stopped without being crashed.
fn failure_of(
    w: &mut World<'_>,
    capture: &Capture,
    stepped: std::thread::Result<turmoil::Result<bool>>,
    after_wire: u64,
) -> Option<RunFailure> {
    let at_ns = w.clock.to_scenario_ns(after_wire);
    if let Some(c) = capture.take() {
        let at_ns = c.wire_ns.map_or(at_ns, |ns| w.clock.to_scenario_ns(ns));
        return Some(RunFailure::Service { host: c.host, at_ns, message: c.message });
    }
    let mut stopped = || -> Option<String> {
        let sim = &mut w.sim;
        w.hosts.iter().find(|x| !x.down && !sim.is_host_running(x.ip)).map(|x| x.spec.name.clone())
    };
    match stepped {
        Err(_) => Some(RunFailure::Service {
            host: None,
            at_ns,
            message: "panicked inside the simulated network".to_string(),
        }),
        Ok(Err(e)) => Some(RunFailure::Service {
            host: stopped(),
            at_ns,
            message: format!("returned an error: {e}"),
        }),
        Ok(Ok(_)) => stopped().map(|host| RunFailure::Service {
            host: Some(host),
            at_ns,
            message: "its software returned: a service must run until it is crashed".to_string(),
        }),
    }
}

/// The outcome of a finished run: results, design tables and notes.
pub(crate) fn outcome(
    results: RunResults,
    left: RunLeftovers,
    resolved: ResolvedFaults,
    h: &HarnessParams,
) -> ModelOutcome {
    let details = crate::tables::tables(&left, h);
    ModelOutcome { results, details, faults: resolved.windows, notes: left.notes }
}
