//! The tables every wire model adds to its report: hosts, producers, the simulation itself,
//! and the counters services kept.

use crate::harness::RunLeftovers;
use crate::params::HarnessParams;
use pipesim_models::{Cell, DetailTable};

pub(crate) fn tables(left: &RunLeftovers, h: &HarnessParams) -> Vec<DetailTable> {
    let mut out = vec![hosts(left), producers(left), simulation(left, h)];
    let counters = left.counters.borrow();
    if !counters.is_empty() {
        out.push(DetailTable {
            name: "wire_counters",
            columns: vec!["host", "counter", "value"],
            rows: counters
                .iter()
                .map(|((host, name), v)| {
                    vec![Cell::Text(host.clone()), Cell::Text((*name).to_string()), Cell::Int(*v)]
                })
                .collect(),
        });
    }
    out
}

fn hosts(left: &RunLeftovers) -> DetailTable {
    let rows = left
        .hosts
        .iter()
        .map(|x| {
            let d = x.disk.as_ref().map(|d| d.borrow().stats).unwrap_or_default();
            vec![
                Cell::Text(x.spec.name.clone()),
                Cell::Text(x.spec.role.to_string()),
                Cell::Int(u64::from(x.restarts.get())),
                Cell::Int(d.fsyncs),
                Cell::Int(d.stalled_fsyncs),
                Cell::Int(d.bytes_written),
            ]
        })
        .collect();
    DetailTable {
        name: "wire_hosts",
        columns: vec!["host", "role", "restarts", "fsyncs", "stalled_fsyncs", "bytes_written"],
        rows,
    }
}

fn producers(left: &RunLeftovers) -> DetailTable {
    let p = left.producers;
    DetailTable {
        name: "wire_producers",
        columns: vec![
            "connections",
            "refused",
            "broken",
            "timeouts",
            "moved",
            "retries",
            "gave_up",
        ],
        rows: vec![
            [p.connections, p.refused, p.broken, p.timeouts, p.moved, p.retries, p.gave_up]
                .into_iter()
                .map(Cell::Int)
                .collect(),
        ],
    }
}

fn simulation(left: &RunLeftovers, h: &HarnessParams) -> DetailTable {
    DetailTable::named("wire_simulation").with_row(|r| {
        r.int("steps", left.steps)
            .int("messages", left.messages)
            .int("tick_ms", h.tick_ns() / 1_000_000)
            .int("dilation", u64::from(h.wire.dilation))
            .fixed("resolution_us", h.resolution_ns() as f64 / 1_000.0, 3);
    })
}
