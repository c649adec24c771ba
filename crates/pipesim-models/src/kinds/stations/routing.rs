//! `stations`' routing: where customers go after a station (the cumulative tables built from the
//! written routes) and the expected visits to each station, which both validation (every
//! customer must be able to leave) and the warnings (utilisation per station) need.

use super::config::{RouteConfig, RouteOut, StationsParams};
use pipesim_config::ConfigError;

/// Cumulative probabilities and where they lead; the last entry's bound is infinite.
pub(super) type RouteTable = Vec<(f64, Target)>;

/// Where a customer goes next: another station, or out of the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Target {
    Station(u16),
    Exit,
}

/// The route target that leaves the network (no station may take the name).
pub(super) const EXIT: &str = "exit";

/// Builds a cumulative routing table from the written routes.
pub(super) fn route_table(
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
pub(super) fn visit_ratios(params: &StationsParams) -> Result<Vec<f64>, String> {
    check_every_customer_leaves(params)?;
    solve_traffic_equations(traffic_equations(params))
}

/// The probability that a customer leaving station `from` goes to station `to`.
fn route_probability(params: &StationsParams, from: usize, to: usize) -> f64 {
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
}

/// Reachability: every station reachable from the entry must reach the exit, or the traffic
/// equations have no solution (customers reaching it would stay for ever).
fn check_every_customer_leaves(params: &StationsParams) -> Result<(), String> {
    let n = params.station.len();
    let reach_exit = stations_reaching_exit(params);
    let reachable = stations_reachable_from_entry(params);
    if let Some(i) = (0..n).find(|&i| reachable[i] && !reach_exit[i]) {
        return Err(format!(
            "customers reaching station {} can never leave: no route from it leads to \"exit\"",
            params.station[i].name
        ));
    }
    Ok(())
}

/// Which stations have a path to the exit (a fixed point over the routes).
fn stations_reaching_exit(params: &StationsParams) -> Vec<bool> {
    let n = params.station.len();
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
    reach_exit
}

/// Which stations a customer entering at the first one can reach (depth-first).
fn stations_reachable_from_entry(params: &StationsParams) -> Vec<bool> {
    let mut reachable = vec![false; params.station.len()];
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
    reachable
}

/// The augmented matrix of (I − Pᵀ) v = e₀ over all stations (unreachable ones get 0 visits):
/// one row per station, its right-hand side last.
fn traffic_equations(params: &StationsParams) -> Vec<Vec<f64>> {
    let n = params.station.len();
    (0..n)
        .map(|i| {
            let mut row: Vec<f64> = (0..n).map(|j| -route_probability(params, j, i)).collect();
            row[i] += 1.0;
            row.push(if i == 0 { 1.0 } else { 0.0 });
            row
        })
        .collect()
}

/// Gauss-Jordan elimination with partial pivoting on the augmented matrix `a` (n rows of
/// n + 1); fails when the matrix is singular (the routing has no steady state).
fn solve_traffic_equations(mut a: Vec<Vec<f64>>) -> Result<Vec<f64>, String> {
    let n = a.len();
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
