//! The fault vocabulary of scenario files, in one table: each kind's name, the `[[fault]]`
//! parameters that belong to it, how its window is given, how a table becomes the kind, and
//! how `[faults.random]` draws its parameters. Every source of faults (tables, traces, random
//! draws) and every check reads this table, so adding a kind is one [`FaultKindEntry`] here
//! (with its `FaultKind` variant in `pipesim-models` and the roles of each design that take
//! it), and adding a parameter is one [`FaultParam`] plus its field in `RawFault`.

use crate::fault_table::{
    FieldError, clock_skew, crash, disk_stall, latency_spike, packet_loss, partition, periodic,
    rolling_restart,
};
use crate::random_faults::{
    draw_disk_stall, draw_latency_spike, draw_packet_loss, draw_partition, draw_periodic,
    draw_rolling_restart,
};
use crate::raw::RawFault;
use pipesim_config::Loader;
use pipesim_engine::{SimTime, StreamRng};
use pipesim_models::FaultKind;

/// How a CSV cell of a fault trace is typed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum CellType {
    Text,
    Float,
    Int,
    Bool,
}

/// A parameter of a `[[fault]]` table beyond `kind`, `target`, `at` and `duration`.
pub(crate) struct FaultParam {
    /// Its key in a table, a JSON line and a CSV header.
    pub name: &'static str,
    /// How its CSV cell is read.
    pub cell: CellType,
    /// Whether a table sets it.
    pub given: fn(&RawFault) -> bool,
}

/// Every kind-specific parameter, in the order of a CSV header's documentation.
pub(crate) const FAULT_PARAMS: [FaultParam; 13] = [
    FaultParam { name: "direction", cell: CellType::Text, given: |f| f.direction.is_some() },
    FaultParam { name: "in_flight", cell: CellType::Text, given: |f| f.in_flight.is_some() },
    FaultParam { name: "extra", cell: CellType::Text, given: |f| f.extra.is_some() },
    FaultParam { name: "probability", cell: CellType::Float, given: |f| f.probability.is_some() },
    FaultParam { name: "rto", cell: CellType::Text, given: |f| f.rto.is_some() },
    FaultParam { name: "factor", cell: CellType::Float, given: |f| f.factor.is_some() },
    FaultParam { name: "stop", cell: CellType::Bool, given: |f| f.stop.is_some() },
    FaultParam { name: "downtime", cell: CellType::Text, given: |f| f.downtime.is_some() },
    FaultParam { name: "gap", cell: CellType::Text, given: |f| f.gap.is_some() },
    FaultParam { name: "nodes", cell: CellType::Int, given: |f| f.nodes.is_some() },
    FaultParam { name: "interval", cell: CellType::Text, given: |f| f.interval.is_some() },
    FaultParam { name: "ahead", cell: CellType::Text, given: |f| f.ahead.is_some() },
    FaultParam { name: "scope", cell: CellType::Text, given: |f| f.scope.is_some() },
];

/// The keys every fault has, before [`FAULT_PARAMS`]: their CSV cells are text.
pub(crate) const COMMON_KEYS: [&str; 4] = ["kind", "target", "at", "duration"];

/// How a kind's window is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WindowRule {
    /// By `duration`, above zero; the word names it in errors ("a downtime", "a window").
    Duration(&'static str),
    /// It follows from the kind's other parameters (a rolling restart's downtimes and gaps);
    /// `duration` is refused.
    Derived,
}

/// One fault kind.
pub(crate) struct FaultKindEntry {
    /// The `kind = "…"` name.
    pub name: &'static str,
    /// The [`FAULT_PARAMS`] it takes.
    pub params: &'static [&'static str],
    /// How its window is given.
    pub window: WindowRule,
    /// The kind from a table whose parameters belong to it, with its window's length.
    pub build: fn(&RawFault, SimTime, &dyn Loader) -> Result<FaultKind, FieldError>,
    /// Fills in a drawn fault's parameters for a window of the given length (a rolling
    /// restart's: each node's downtime); the draws come from the random-fault stream in this
    /// order, so changing one changes every later draw of a seed.
    pub draw: fn(&mut RawFault, SimTime, &mut StreamRng),
}

/// Every kind, in the order of `pipesim_models::FAULT_KINDS` (the random mix draws in it).
pub(crate) const FAULT_TABLE: [FaultKindEntry; 10] = [
    FaultKindEntry {
        name: "crash",
        params: &["scope"],
        window: WindowRule::Duration("a downtime"),
        build: |f, window_ns, _| crash(f, window_ns),
        draw: |_, _, _| {},
    },
    FaultKindEntry {
        name: "partition",
        params: &["direction", "in_flight"],
        window: WindowRule::Duration("a window"),
        build: |f, _, _| partition(f),
        draw: draw_partition,
    },
    FaultKindEntry {
        name: "latency_spike",
        params: &["extra"],
        window: WindowRule::Duration("a window"),
        build: |f, _, loader| latency_spike(f, loader),
        draw: draw_latency_spike,
    },
    FaultKindEntry {
        name: "packet_loss",
        params: &["probability", "rto"],
        window: WindowRule::Duration("a window"),
        build: |f, _, _| packet_loss(f),
        draw: draw_packet_loss,
    },
    FaultKindEntry {
        name: "disk_stall",
        params: &["extra", "factor", "stop"],
        window: WindowRule::Duration("a window"),
        build: |f, _, loader| disk_stall(f, loader),
        draw: draw_disk_stall,
    },
    FaultKindEntry {
        name: "pause",
        params: &[],
        window: WindowRule::Duration("a window"),
        build: |_, _, _| Ok(FaultKind::Pause),
        draw: |_, _, _| {},
    },
    FaultKindEntry {
        name: "rolling_restart",
        params: &["downtime", "gap", "nodes"],
        window: WindowRule::Derived,
        build: |f, _, _| rolling_restart(f),
        draw: draw_rolling_restart,
    },
    FaultKindEntry {
        name: "schema_flood",
        params: &["interval"],
        window: WindowRule::Duration("a window"),
        build: |f, window_ns, _| {
            let interval_ns = periodic(f, "schema_flood", window_ns)?;
            Ok(FaultKind::SchemaFlood { interval_ns })
        },
        draw: draw_periodic,
    },
    FaultKindEntry {
        name: "checkpoint_storm",
        params: &["interval"],
        window: WindowRule::Duration("a window"),
        build: |f, window_ns, _| {
            let interval_ns = periodic(f, "checkpoint_storm", window_ns)?;
            Ok(FaultKind::CheckpointStorm { interval_ns })
        },
        draw: draw_periodic,
    },
    FaultKindEntry {
        name: "clock_skew",
        params: &["ahead"],
        window: WindowRule::Duration("a window"),
        build: |f, _, _| clock_skew(f),
        // 1-500 ms: from what NTP slews away unnoticed to a step it makes after a bad sync.
        draw: |f, _, rng| {
            let ms = 1 + rng.below(500);
            f.ahead = Some(pipesim_config::Duration { ns: ms * pipesim_engine::NS_PER_MS });
        },
    },
];

/// The entry of the kind named `name`.
pub(crate) fn entry(name: &str) -> Option<&'static FaultKindEntry> {
    FAULT_TABLE.iter().find(|k| k.name == name)
}

/// The kinds that take parameter `param`, in table order.
pub(crate) fn owners(param: &str) -> Vec<&'static str> {
    FAULT_TABLE.iter().filter(|k| k.params.contains(&param)).map(|k| k.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_every_kind_the_models_know_in_their_order() {
        let names: Vec<&str> = FAULT_TABLE.iter().map(|k| k.name).collect();
        assert_eq!(names, pipesim_models::FAULT_KINDS);
    }

    #[test]
    fn every_parameter_belongs_to_a_kind_and_every_kind_parameter_exists() {
        for p in &FAULT_PARAMS {
            assert!(!owners(p.name).is_empty(), "`{}` belongs to no kind", p.name);
        }
        for k in &FAULT_TABLE {
            for p in k.params {
                assert!(FAULT_PARAMS.iter().any(|q| q.name == *p), "{}: unknown `{p}`", k.name);
            }
        }
    }
}
