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
//!
//! The files: `config.rs` (the parameters, their validation and documentation), `routing.rs`
//! (route tables and the expected visits per station), `network.rs` (the running network and
//! its `Model` implementation) and `details.rs` (the report's table). This file holds the
//! `ModelKind` implementation.

mod config;
mod details;
mod network;
mod routing;

pub use config::{StationsConfig, StationsParams, TimingParams};
pub use network::{Customer, Done, StationStats, Stations};

use crate::detail::DetailTable;
use crate::model::{BuildEnv, ModelKind, RunEnv};
use pipesim_config::{ConfigError, ParamDoc};
use pipesim_engine::NS_PER_S;
use pipesim_metrics::RunResults;
use pipesim_workload::WorkloadSpec;
use routing::visit_ratios;

impl ModelKind for Stations {
    const KIND: &'static str = "stations";
    const SUMMARY: &'static str = "a generic open network of FIFO queueing stations, for textbook queues checked against theory";
    type Config = StationsConfig;
    type Params = StationsParams;

    fn params_doc() -> Vec<ParamDoc> {
        config::params_doc()
    }

    fn validate(config: StationsConfig, env: &BuildEnv<'_>) -> Result<StationsParams, ConfigError> {
        config::validate(config, env)
    }

    fn build(params: &StationsParams, env: &RunEnv<'_>) -> Self {
        Self::new(params, env)
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
        vec![self.detail_table()]
    }
}

fn show_rho(rho: f64) -> String {
    format!("{:.3}", (rho * 1000.0).round() / 1000.0)
}
