//! `stations`' parameters: the model table as written (`StationsConfig`), the wire backend's
//! timing rules (`TimingParams`), the validation into the parameters echoed in the report
//! (`StationsParams`) and the documentation of every parameter.

use super::routing::{EXIT, RouteTable, Target, route_table, visit_ratios};
use crate::model::BuildEnv;
use pipesim_config::{ConfigError, DistSpec, ParamDoc};
use pipesim_engine::{Dist, NS_PER_MS, SimTime};
use serde::{Deserialize, Serialize};

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
    pub(super) fn entry_ns(&self, created_ns: SimTime) -> SimTime {
        let (d, tick) = (u64::from(self.dilation), self.tick.ns);
        let sent = Self::ceil_to(created_ns.saturating_mul(d), NS_PER_MS);
        let hop = Self::ceil_to(self.hop.ns.saturating_mul(d), tick).max(tick);
        (sent + hop) / d
    }
}

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
pub(super) struct RouteConfig {
    pub(super) to: String,
    pub(super) p: f64,
}

/// Validated parameters.
#[derive(Clone, Serialize)]
pub struct StationsParams {
    pub(super) station: Vec<StationParams>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) timing: Option<TimingParams>,
}

#[derive(Clone, Serialize)]
pub(super) struct StationParams {
    pub(super) name: String,
    pub(super) servers: u32,
    service: DistSpec,
    /// `null` when unbounded.
    pub(super) capacity: Option<u32>,
    /// Where customers go after this station, with probabilities (the default route is written
    /// out as the next station, or `exit`, with p = 1).
    route: Vec<RouteOut>,
    #[serde(skip)]
    pub(super) dist: Dist,
    #[serde(skip)]
    pub(super) targets: RouteTable,
}

#[derive(Clone, Serialize)]
pub(super) struct RouteOut {
    pub(super) to: String,
    pub(super) p: f64,
}

/// The documentation of every parameter (`ModelKind::params_doc`).
pub(super) fn params_doc() -> Vec<ParamDoc> {
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
        ParamDoc::new("timing.dilation", "integer 1-1000", "1", "the wire model's wire.dilation"),
        ParamDoc::new(
            "timing.hop",
            "duration",
            "0",
            "the wire model's one-way network delay in front of the first station (constant)",
        ),
    ]
}

/// Checks the model table and resolves each station's service distribution and route.
pub(super) fn validate(
    config: StationsConfig,
    env: &BuildEnv<'_>,
) -> Result<StationsParams, ConfigError> {
    check_station_count(&config)?;
    if let Some(t) = &config.timing {
        check_timing(t)?;
    }
    let names: Vec<&str> = config.station.iter().map(|s| s.name.as_str()).collect();
    check_names(&names)?;
    let mut stations = Vec::with_capacity(config.station.len());
    for (i, sc) in config.station.iter().enumerate() {
        stations.push(station_params(i, sc, &names, env)?);
    }
    let params = StationsParams { station: stations, timing: config.timing };
    visit_ratios(&params).map_err(|m| ConfigError::new("station", m))?;
    Ok(params)
}

/// At least one station, and no more than the limit.
fn check_station_count(config: &StationsConfig) -> Result<(), ConfigError> {
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
    )
}

/// `[model.timing]` within what the wire backend accepts.
fn check_timing(t: &TimingParams) -> Result<(), ConfigError> {
    if t.tick.ns < NS_PER_MS || !t.tick.ns.is_multiple_of(NS_PER_MS) || t.tick.ns > 100 * NS_PER_MS
    {
        return Err(ConfigError::new(
            "timing.tick",
            "must be a whole number of milliseconds from 1ms to 100ms",
        ));
    }
    if t.dilation == 0 || t.dilation > 1_000 {
        return Err(ConfigError::new("timing.dilation", "must be from 1 to 1000"));
    }
    Ok(())
}

/// Station names are valid, unique and not `exit` (routes name their targets by them).
fn check_names(names: &[&str]) -> Result<(), ConfigError> {
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
    Ok(())
}

/// Station `i` validated: its servers and capacity checked, its service resolved, its route
/// written out (the default one too) and turned into a table.
fn station_params(
    i: usize,
    sc: &StationConfig,
    names: &[&str],
    env: &BuildEnv<'_>,
) -> Result<StationParams, ConfigError> {
    let at = |field: &str| format!("station[{i}].{field}");
    check_servers_and_capacity(sc, at)?;
    let dist = sc.service.resolve(env.loader).map_err(|m| ConfigError::new(at("service"), m))?;
    let (route, targets) = match &sc.route {
        None => default_route(i, names),
        Some(routes) => {
            route_table(routes, names).map_err(|e| e.within(&format!("station[{i}]")))?
        }
    };
    Ok(StationParams {
        name: sc.name.clone(),
        servers: sc.servers,
        service: sc.service.clone(),
        capacity: sc.capacity,
        route,
        dist,
        targets,
    })
}

/// At least one server, and a capacity (if any) that lets every server work.
fn check_servers_and_capacity(
    sc: &StationConfig,
    at: impl Fn(&str) -> String,
) -> Result<(), ConfigError> {
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
    Ok(())
}

/// Without `route`, station `i` sends everyone to the next station, or out after the last.
fn default_route(i: usize, names: &[&str]) -> (Vec<RouteOut>, RouteTable) {
    let next = if i + 1 < names.len() { Target::Station((i + 1) as u16) } else { Target::Exit };
    let to = names.get(i + 1).copied().unwrap_or(EXIT).to_string();
    (vec![RouteOut { to, p: 1.0 }], vec![(1.0, next)])
}
