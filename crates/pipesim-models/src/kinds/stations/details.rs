//! `stations`' table in the report: one row per station, its counts and its measured
//! utilisation, occupancy, blocking, waits and sojourns.

use super::Stations;
use crate::detail::DetailTable;
use pipesim_engine::NS_PER_MS;

impl Stations {
    /// The `stations` table: one row per station, in the order listed.
    pub(super) fn detail_table(&self) -> DetailTable {
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
        table
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
