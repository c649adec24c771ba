//! `stations`' running network: the customers, the stations' queues and servers, their
//! statistics, and the `Model` implementation that moves customers from station to station.

use super::config::{StationsParams, TimingParams};
use super::routing::Target;
use crate::ctx::Ctx;
use crate::model::{Model, RunEnv};
use pipesim_engine::{Dist, SimTime, StreamRng, Window, f64_of};
use pipesim_metrics::ReasonId;
use pipesim_workload::EventMeta;
use std::collections::VecDeque;

/// The pseudo-station of a customer still on its way into the network (timing mode).
const ENTERING: u16 = u16::MAX;

/// A customer in the network: the event and when it reached its current station.
#[derive(Clone, Copy, Debug)]
pub struct Customer {
    ev: EventMeta,
    arrived_ns: SimTime,
}

/// The stations model's only event: a server at `station` finished serving `customer`.
#[derive(Clone, Copy, Debug)]
pub struct Done {
    station: u16,
    customer: Customer,
}

/// Per-station counters and time integrals over the measured interval.
#[derive(Clone, Debug, Default)]
pub struct StationStats {
    /// Customers that reached the station, whole run.
    pub arrivals: u64,
    /// Customers turned away because the station was full, whole run.
    pub dropped: u64,
    /// Customers that finished service, whole run.
    pub served: u64,
    /// Customers accepted during the measured interval.
    pub measured_accepted: u64,
    /// Arrivals during the measured interval (accepted or dropped).
    pub measured_arrivals: u64,
    /// Of the accepted measured customers that started service: how many waited at all.
    pub measured_waited: u64,
    /// Accepted measured customers that started service.
    pub measured_started: u64,
    /// Sum of their waits, ns.
    pub wait_sum_ns: u128,
    /// Accepted measured customers that left, and the sum of their times at the station.
    pub measured_left: u64,
    /// Sum of their sojourns, ns.
    pub sojourn_sum_ns: u128,
    pub(super) busy_area: f64,
    pub(super) in_station_area: f64,
    pub(super) last_t: SimTime,
}

/// One station: its servers, its queue, its draws and its statistics.
pub(super) struct Station {
    pub(super) servers: u32,
    pub(super) busy: u32,
    capacity: u32,
    queue: VecDeque<Customer>,
    service: Dist,
    service_rng: StreamRng,
    targets: Vec<(f64, Target)>,
    route_rng: StreamRng,
    full: ReasonId,
    pub(super) name: String,
    pub(super) stats: StationStats,
}

/// The running network.
pub struct Stations {
    pub(super) stations: Vec<Station>,
    timing: Option<TimingParams>,
    pub(super) measure: Window,
}

impl Station {
    #[inline]
    pub(super) fn in_station(&self) -> u64 {
        u64::from(self.busy) + self.queue.len() as u64
    }

    /// Adds the busy and occupancy integrals up to `now`, within the measured interval.
    #[inline]
    fn integrate(&mut self, now: SimTime, measure: Window) {
        let t = measure.clamp(now);
        let s = &mut self.stats;
        if t > s.last_t {
            let dt = f64_of(t - s.last_t);
            s.busy_area += f64::from(self.busy) * dt;
            s.in_station_area += f64_of(u64::from(self.busy) + self.queue.len() as u64) * dt;
            s.last_t = t;
        }
    }

    #[inline]
    fn next_target(&mut self) -> Target {
        if let [(_, only)] = self.targets.as_slice() {
            return *only;
        }
        let u = self.route_rng.open01();
        self.targets
            .iter()
            .find(|(cum, _)| u < *cum)
            .map_or(self.targets[self.targets.len() - 1].1, |t| t.1)
    }
}

impl Stations {
    /// The network of `params`, every station idle and empty, each with its own service and
    /// route streams.
    pub(super) fn new(params: &StationsParams, env: &RunEnv<'_>) -> Self {
        let stations = params
            .station
            .iter()
            .map(|p| Station {
                servers: p.servers,
                busy: 0,
                capacity: p.capacity.unwrap_or(u32::MAX),
                queue: VecDeque::new(),
                service: p.dist.clone(),
                service_rng: env.streams.stream(&format!("station/{}/service", p.name)),
                targets: p.targets.clone(),
                route_rng: env.streams.stream(&format!("station/{}/route", p.name)),
                full: ReasonId::UNSET,
                name: p.name.clone(),
                stats: StationStats { last_t: env.settings.warmup_ns, ..Default::default() },
            })
            .collect();
        Self { stations, timing: params.timing.clone(), measure: env.settings.measured() }
    }

    #[inline]
    fn measured(&self, t: SimTime) -> bool {
        self.measure.contains(t)
    }

    #[inline]
    fn start_service(&mut self, ctx: &mut Ctx<Done>, index: u16, customer: Customer) {
        let now = ctx.now();
        let measured = self.measured(customer.arrived_ns);
        let st = &mut self.stations[index as usize];
        st.busy += 1;
        if measured {
            let wait = now - customer.arrived_ns;
            st.stats.measured_started += 1;
            st.stats.measured_waited += u64::from(wait > 0);
            st.stats.wait_sum_ns += u128::from(wait);
        }
        let service = st.service.sample(&mut st.service_rng);
        ctx.schedule_in(service, Done { station: index, customer });
    }

    #[inline]
    fn arrive(&mut self, ctx: &mut Ctx<Done>, index: u16, ev: EventMeta) {
        let now = ctx.now();
        let measure = self.measure;
        let measured = self.measured(now);
        let st = &mut self.stations[index as usize];
        st.integrate(now, measure);
        st.stats.arrivals += 1;
        st.stats.measured_arrivals += u64::from(measured);
        if st.in_station() >= u64::from(st.capacity) {
            st.stats.dropped += 1;
            let reason = st.full;
            ctx.rec.dropped(&ev, now, reason);
            return;
        }
        st.stats.measured_accepted += u64::from(measured);
        let customer = Customer { ev, arrived_ns: now };
        if st.busy < st.servers {
            self.start_service(ctx, index, customer);
        } else {
            st.queue.push_back(customer);
        }
    }
}

impl Model for Stations {
    type Event = Done;

    fn init(&mut self, ctx: &mut Ctx<Done>) {
        for st in &mut self.stations {
            st.full = ctx.rec.register_reason(format!("station {} full", st.name));
        }
    }

    #[inline]
    fn on_arrival(&mut self, ctx: &mut Ctx<Done>, ev: EventMeta) {
        if let Some(t) = &self.timing {
            let customer = Customer { ev, arrived_ns: ctx.now() };
            ctx.schedule_at(t.entry_ns(ev.created_ns), Done { station: ENTERING, customer });
            return;
        }
        self.arrive(ctx, 0, ev);
    }

    #[inline]
    fn on_event(&mut self, ctx: &mut Ctx<Done>, done: Done) {
        if done.station == ENTERING {
            return self.arrive(ctx, 0, done.customer.ev);
        }
        let now = ctx.now();
        let measure = self.measure;
        let measured = self.measured(done.customer.arrived_ns);
        let st = &mut self.stations[done.station as usize];
        st.integrate(now, measure);
        st.busy -= 1;
        st.stats.served += 1;
        if measured {
            st.stats.measured_left += 1;
            st.stats.sojourn_sum_ns += u128::from(now - done.customer.arrived_ns);
        }
        let target = st.next_target();
        if let Some(next) = st.queue.pop_front() {
            self.start_service(ctx, done.station, next);
        }
        match target {
            Target::Station(i) => self.arrive(ctx, i, done.customer.ev),
            Target::Exit => ctx.rec.delivered(&done.customer.ev, now),
        }
    }
}

impl Stations {
    /// Per-station statistics, in the order listed (for tests).
    pub fn station_stats(&self) -> Vec<&StationStats> {
        self.stations.iter().map(|s| &s.stats).collect()
    }
}
