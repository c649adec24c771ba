//! `stations`: a generic open network of FIFO queueing stations.
//!
//! Each station has `servers` identical servers, a `service` time distribution and an optional
//! `capacity` (the most customers it holds, those in service included; an arrival to a full
//! station is dropped). Customers enter at the first station listed and visit the stations in
//! order, unless a station's `route` sends them elsewhere with given probabilities (feedback
//! allowed). A customer is acknowledged and visible when it leaves the network: this is a
//! synchronous request/response system, so ack and e2e latency are equal.
//!
//! It exists so that textbook queues (M/M/1, M/M/c, M/D/1, tandems, M/M/1/K, Jackson networks)
//! can be written as scenarios and checked against theory.

use crate::ctx::Ctx;
use crate::detail::DetailTable;
use crate::model::{BuildEnv, Model, ModelKind, RunEnv};
use pipesim_config::{ConfigError, DistSpec, ParamDoc};
use pipesim_engine::{Dist, NS_PER_MS, NS_PER_S, SimTime, StreamRng, Window, f64_of};
use pipesim_metrics::{ReasonId, RunResults};
use pipesim_workload::{EventMeta, WorkloadSpec};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The model table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationsConfig {
    #[serde(default)]
    station: Vec<StationConfig>,
    #[serde(default)]
    timing: Option<TimingParams>,
}

/// `[model.timing]`: the wire backend's rounding rules, so that a `stations` model and a
/// `wire_fifo` model given the same service draws agree on every event's visible time.
///
/// With it, an arrival created at `c` enters the first station at
/// `(⌈c·D⌉ₘₛ + max(tick, ⌈hop·D⌉_tick)) / D`: the producer's timer fires on a whole wire
/// millisecond, and the message is delivered at the first step boundary at or after its delay,
/// at least one tick later. Service is exact (`wire_fifo` works with `Clock::work`). Times in
/// wire nanoseconds are the scenario's times `D` (= `dilation`) times.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimingParams {
    /// turmoil's step, whole milliseconds.
    pub tick: pipesim_config::Duration,
    /// Wire nanoseconds per scenario nanosecond.
    pub dilation: u32,
    /// The one-way network delay in front of the first station.
    pub hop: pipesim_config::Duration,
}

impl Default for TimingParams {
    fn default() -> Self {
        Self {
            tick: pipesim_config::Duration { ns: NS_PER_MS },
            dilation: 1,
            hop: pipesim_config::Duration { ns: 0 },
        }
    }
}

impl TimingParams {
    fn ceil_to(x: u64, grid: u64) -> u64 {
        x.div_ceil(grid).saturating_mul(grid)
    }

    /// When a customer created at `created_ns` enters the first station.
    fn entry_ns(&self, created_ns: SimTime) -> SimTime {
        let (d, tick) = (u64::from(self.dilation), self.tick.ns);
        let sent = Self::ceil_to(created_ns.saturating_mul(d), NS_PER_MS);
        let hop = Self::ceil_to(self.hop.ns.saturating_mul(d), tick).max(tick);
        (sent + hop) / d
    }
}

/// The pseudo-station of a customer still on its way into the network (timing mode).
const ENTERING: u16 = u16::MAX;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StationConfig {
    name: String,
    #[serde(default = "one")]
    servers: u32,
    service: DistSpec,
    #[serde(default)]
    capacity: Option<u32>,
    #[serde(default)]
    route: Option<Vec<RouteConfig>>,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteConfig {
    to: String,
    p: f64,
}

/// Validated parameters.
#[derive(Clone, Serialize)]
pub struct StationsParams {
    station: Vec<StationParams>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timing: Option<TimingParams>,
}

#[derive(Clone, Serialize)]
struct StationParams {
    name: String,
    servers: u32,
    service: DistSpec,
    /// `null` when unbounded.
    capacity: Option<u32>,
    /// Where customers go after this station, with probabilities (the default route is written
    /// out as the next station, or `exit`, with p = 1).
    route: Vec<RouteOut>,
    #[serde(skip)]
    dist: Dist,
    #[serde(skip)]
    targets: Vec<(f64, Target)>,
}

#[derive(Clone, Serialize)]
struct RouteOut {
    to: String,
    p: f64,
}

/// Cumulative probabilities and where they lead; the last entry's bound is infinite.
type RouteTable = Vec<(f64, Target)>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Station(u16),
    Exit,
}

const EXIT: &str = "exit";

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
    busy_area: f64,
    in_station_area: f64,
    last_t: SimTime,
}

struct Station {
    servers: u32,
    busy: u32,
    capacity: u32,
    queue: VecDeque<Customer>,
    service: Dist,
    service_rng: StreamRng,
    targets: Vec<(f64, Target)>,
    route_rng: StreamRng,
    full: ReasonId,
    name: String,
    stats: StationStats,
}

/// The running network.
pub struct Stations {
    stations: Vec<Station>,
    timing: Option<TimingParams>,
    measure: Window,
}

impl Station {
    #[inline]
    fn in_station(&self) -> u64 {
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

impl ModelKind for Stations {
    const KIND: &'static str = "stations";
    const SUMMARY: &'static str = "a generic open network of FIFO queueing stations, for textbook queues checked against theory";
    type Config = StationsConfig;
    type Params = StationsParams;

    fn params_doc() -> Vec<ParamDoc> {
        vec![
            ParamDoc::required(
                "station[]",
                "array of tables",
                "the stations; customers enter at the first and visit them in order unless `route` says otherwise",
            ),
            ParamDoc::required(
                "station[].name",
                "string",
                "unique name ([A-Za-z0-9_-]); `exit` is reserved",
            ),
            ParamDoc::new(
                "station[].servers",
                "integer >= 1",
                "1",
                "identical servers working in parallel",
            ),
            ParamDoc::required("station[].service", "distribution", "service time of one customer"),
            ParamDoc::new(
                "station[].capacity",
                "integer >= servers",
                "unbounded",
                "most customers held, those in service included; an arrival to a full station is dropped",
            ),
            ParamDoc::new(
                "station[].route",
                "array of { to, p }",
                "the next station, or exit after the last",
                "where customers go next, by probability; `to` is a station name or \"exit\"; p sums to 1",
            ),
            ParamDoc::new(
                "timing.tick",
                "duration (whole ms)",
                "none (exact times)",
                "with [model.timing]: round times as the wire backend does (tick, dilation, hop), to check a wire_fifo model event for event",
            ),
            ParamDoc::new(
                "timing.dilation",
                "integer 1-1000",
                "1",
                "the wire model's wire.dilation",
            ),
            ParamDoc::new(
                "timing.hop",
                "duration",
                "0",
                "the wire model's one-way network delay in front of the first station (constant)",
            ),
        ]
    }

    #[expect(clippy::too_many_lines, reason = "over the 70-line budget (clippy.toml); to be split")]
    fn validate(config: StationsConfig, env: &BuildEnv<'_>) -> Result<StationsParams, ConfigError> {
        if config.station.is_empty() {
            return Err(ConfigError::new(
                "station",
                "a `stations` model needs at least one [[model.station]]",
            ));
        }
        pipesim_config::limits::at_most(
            "station",
            config.station.len() as u64,
            &pipesim_config::limits::STATIONS,
        )?;
        if let Some(t) = &config.timing {
            if t.tick.ns < NS_PER_MS
                || !t.tick.ns.is_multiple_of(NS_PER_MS)
                || t.tick.ns > 100 * NS_PER_MS
            {
                return Err(ConfigError::new(
                    "timing.tick",
                    "must be a whole number of milliseconds from 1ms to 100ms",
                ));
            }
            if t.dilation == 0 || t.dilation > 1_000 {
                return Err(ConfigError::new("timing.dilation", "must be from 1 to 1000"));
            }
        }
        let names: Vec<&str> = config.station.iter().map(|s| s.name.as_str()).collect();
        for (i, name) in names.iter().enumerate() {
            let path = format!("station[{i}].name");
            if name.is_empty()
                || name.chars().count() > pipesim_config::limits::MAX_NAME_CHARS
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(ConfigError::new(
                    path,
                    format!("\"{name}\" is not a valid name (letters, digits, _ and -)"),
                ));
            }
            if *name == EXIT {
                return Err(ConfigError::new(path, "\"exit\" is reserved for leaving the network"));
            }
            if names[..i].contains(name) {
                return Err(ConfigError::new(path, format!("two stations are named \"{name}\"")));
            }
        }
        let mut stations = Vec::with_capacity(config.station.len());
        for (i, sc) in config.station.iter().enumerate() {
            let at = |field: &str| format!("station[{i}].{field}");
            if sc.servers == 0 {
                return Err(ConfigError::new(at("servers"), "must be at least 1"));
            }
            if let Some(cap) = sc.capacity {
                if cap == 0 {
                    return Err(ConfigError::new(at("capacity"), "must be at least 1"));
                }
                if cap < sc.servers {
                    return Err(ConfigError::new(
                        at("capacity"),
                        format!(
                            "capacity {cap} is below servers {}: servers beyond the capacity would never work",
                            sc.servers
                        ),
                    ));
                }
            }
            let dist =
                sc.service.resolve(env.loader).map_err(|m| ConfigError::new(at("service"), m))?;
            let (route, targets) = match &sc.route {
                None => {
                    let next = if i + 1 < names.len() {
                        Target::Station((i + 1) as u16)
                    } else {
                        Target::Exit
                    };
                    let to = names.get(i + 1).copied().unwrap_or(EXIT).to_string();
                    (vec![RouteOut { to, p: 1.0 }], vec![(1.0, next)])
                }
                Some(routes) => {
                    route_table(routes, &names).map_err(|e| e.within(&format!("station[{i}]")))?
                }
            };
            stations.push(StationParams {
                name: sc.name.clone(),
                servers: sc.servers,
                service: sc.service.clone(),
                capacity: sc.capacity,
                route,
                dist,
                targets,
            });
        }
        let params = StationsParams { station: stations, timing: config.timing };
        visit_ratios(&params).map_err(|m| ConfigError::new("station", m))?;
        Ok(params)
    }

    fn build(params: &StationsParams, env: &RunEnv<'_>) -> Self {
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

    fn work(params: &StationsParams, _workload: &WorkloadSpec) -> crate::Work {
        // An arrival and a departure per station visited (feedback routes visit more).
        crate::Work {
            events_per_arrival: 1.0 + params.station.len() as f64,
            ns_per_event: 60.0,
            in_flight_s: 0.05,
            bytes_in_flight: 100.0,
            fixed_s: 0.0,
        }
    }

    fn warnings(params: &StationsParams, workload: &WorkloadSpec) -> Vec<String> {
        let Ok(visits) = visit_ratios(params) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let final_rate = workload.final_rate_per_s();
        let peak_rate = workload.peak_rate_per_s();
        for (st, visits) in params.station.iter().zip(visits) {
            if st.capacity.is_some() {
                continue;
            }
            let per_server = |rate: f64| {
                rate * visits * st.dist.mean_ns() / NS_PER_S as f64 / f64::from(st.servers)
            };
            let (rho_final, rho_peak) = (per_server(final_rate), per_server(peak_rate));
            if rho_final >= 1.0 {
                out.push(format!(
                    "station {}: utilisation {} >= 1 with an unbounded queue: the backlog grows without bound (see the timeline)",
                    st.name,
                    show_rho(rho_final)
                ));
            } else if rho_peak >= 1.0 {
                out.push(format!(
                    "station {}: utilisation reaches {} at the peak rate: the backlog grows while it lasts",
                    st.name,
                    show_rho(rho_peak)
                ));
            }
        }
        out
    }

    fn details(&self, _results: &RunResults) -> Vec<DetailTable> {
        let measured_ns = self.measure.len_ns().max(1) as f64;
        let ms = |sum: u128, n: u64| {
            if n == 0 { 0.0 } else { sum as f64 / n as f64 / NS_PER_MS as f64 }
        };
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let mut table = DetailTable::with_columns("stations", &STATION_COLUMNS);
        for st in &self.stations {
            let s = &st.stats;
            // Integrals stop at the last change; the state held from then to the end.
            let tail = (self.measure.to_ns.saturating_sub(s.last_t)) as f64;
            let busy_area = s.busy_area + f64::from(st.busy) * tail;
            let n_area = s.in_station_area + st.in_station() as f64 * tail;
            let blocked = s.measured_arrivals - s.measured_accepted;
            table.row(|r| {
                r.text("station", st.name.clone())
                    .int("servers", u64::from(st.servers))
                    .int("arrivals", s.arrivals)
                    .int("dropped", s.dropped)
                    .int("served", s.served)
                    .fixed("p_block", ratio(blocked, s.measured_arrivals), 6)
                    .fixed("utilisation", busy_area / measured_ns / f64::from(st.servers), 6)
                    .fixed("mean_in_station", n_area / measured_ns, 6)
                    .fixed("p_wait", ratio(s.measured_waited, s.measured_started), 6)
                    .fixed("mean_wait_ms", ms(s.wait_sum_ns, s.measured_started), 6)
                    .fixed("mean_sojourn_ms", ms(s.sojourn_sum_ns, s.measured_left), 6);
            });
        }
        vec![table]
    }
}

impl Stations {
    /// Per-station statistics, in the order listed (for tests).
    pub fn station_stats(&self) -> Vec<&StationStats> {
        self.stations.iter().map(|s| &s.stats).collect()
    }
}

/// The columns of the `stations` table (a network with no station still has them).
const STATION_COLUMNS: [&str; 11] = [
    "station",
    "servers",
    "arrivals",
    "dropped",
    "served",
    "p_block",
    "utilisation",
    "mean_in_station",
    "p_wait",
    "mean_wait_ms",
    "mean_sojourn_ms",
];

fn show_rho(rho: f64) -> String {
    format!("{:.3}", (rho * 1000.0).round() / 1000.0)
}

/// Builds a cumulative routing table from the written routes.
fn route_table(
    routes: &[RouteConfig],
    names: &[&str],
) -> Result<(Vec<RouteOut>, RouteTable), ConfigError> {
    if routes.is_empty() {
        return Err(ConfigError::new(
            "route",
            "an empty route: leave `route` out to go to the next station",
        ));
    }
    let mut out = Vec::new();
    let mut table = Vec::new();
    let mut cumulative = 0.0;
    for (j, r) in routes.iter().enumerate() {
        let at = |f: &str| format!("route[{j}].{f}");
        if !(r.p.is_finite() && r.p > 0.0 && r.p <= 1.0) {
            return Err(ConfigError::new(
                at("p"),
                format!("must be a probability in (0, 1], found {}", r.p),
            ));
        }
        let target = if r.to == EXIT {
            Target::Exit
        } else if let Some(k) = names.iter().position(|n| *n == r.to) {
            Target::Station(k as u16)
        } else {
            let mut msg = format!("no station named \"{}\"", r.to);
            let candidates = names.iter().copied().chain([EXIT]);
            if let Some(s) = pipesim_config::suggest(&r.to, candidates) {
                msg.push_str(&format!(" (did you mean \"{s}\"?)"));
            }
            msg.push_str(&format!("; stations: {}, or \"exit\"", names.join(", ")));
            return Err(ConfigError::new(at("to"), msg));
        };
        cumulative += r.p;
        out.push(RouteOut { to: r.to.clone(), p: r.p });
        table.push((cumulative, target));
    }
    if (cumulative - 1.0).abs() > 1e-9 {
        return Err(ConfigError::new("route", format!("probabilities sum to {cumulative}, not 1")));
    }
    if let Some(last) = table.last_mut() {
        last.0 = f64::INFINITY;
    }
    Ok((out, table))
}

/// Expected visits to each station per customer: the solution of the traffic equations
/// v = e₀ + v·P, by Gaussian elimination. Fails when some reachable station cannot reach the
/// exit (customers would circulate for ever).
#[expect(clippy::too_many_lines, reason = "over the 70-line budget (clippy.toml); to be split")]
fn visit_ratios(params: &StationsParams) -> Result<Vec<f64>, String> {
    let n = params.station.len();
    let prob = |from: usize, to: usize| -> f64 {
        let t = &params.station[from].targets;
        let mut prev = 0.0;
        let mut p = 0.0;
        for &(cum, target) in t {
            let cum = if cum.is_infinite() { 1.0 } else { cum };
            if target == Target::Station(to as u16) {
                p += cum - prev;
            }
            prev = cum;
        }
        p
    };
    // Reachability: every station reachable from the entry must reach the exit.
    let mut reach_exit = vec![false; n];
    loop {
        let mut changed = false;
        for i in 0..n {
            if !reach_exit[i]
                && params.station[i].targets.iter().any(|&(_, t)| match t {
                    Target::Exit => true,
                    Target::Station(k) => reach_exit[k as usize],
                })
            {
                reach_exit[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut reachable = vec![false; n];
    let mut stack = vec![0usize];
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut reachable[i], true) {
            continue;
        }
        for &(_, t) in &params.station[i].targets {
            if let Target::Station(k) = t {
                stack.push(k as usize);
            }
        }
    }
    if let Some(i) = (0..n).find(|&i| reachable[i] && !reach_exit[i]) {
        return Err(format!(
            "customers reaching station {} can never leave: no route from it leads to \"exit\"",
            params.station[i].name
        ));
    }
    // (I − Pᵀ) v = e₀ over all stations (unreachable ones get 0 visits).
    let mut a: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let mut row: Vec<f64> = (0..n).map(|j| -prob(j, i)).collect();
            row[i] += 1.0;
            row.push(if i == 0 { 1.0 } else { 0.0 });
            row
        })
        .collect();
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs())).unwrap_or(col);
        a.swap(col, pivot);
        let p = a[col][col];
        if p.abs() < 1e-12 {
            return Err("the routing has no steady state".to_string());
        }
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            let f = row[col] / p;
            if r != col && f != 0.0 {
                for (x, y) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= f * y;
                }
            }
        }
    }
    Ok((0..n).map(|i| a[i][n] / a[i][i]).collect())
}
