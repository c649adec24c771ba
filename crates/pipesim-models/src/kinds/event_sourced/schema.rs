//! Seed 004 on `event_sourced`: schema changes (a `schema_flood` on the log) and the log's
//! storage faults (`disk_stall`, `pause`). Each change adds an event type; what it costs
//! depends on the mode: a compaction on the brokers (`auto_register`), decode errors and
//! restarts of the consumer (`infer`), rejected events (`frozen`), or nothing (`schema_less`).
//! Also the report's `storage` and `schema` tables.

use super::config::EventSourcedParams;
use super::details::ratio;
use super::{Ev, EventSourced, Rec, wrap_log};
use crate::ctx::Ctx;
use crate::detail::{Cell, DetailTable};
use crate::fault::{DiskStallEffect, FaultKind, FaultPhase, FaultSpec, RoleNodes};
use crate::model::RunEnv;
use pipesim_components::kafka::KafkaLogParams;
use pipesim_components::schema::{Catalogue, SchemaMode, SchemaParams};
use pipesim_engine::{NS_PER_MS, RngStreams, SimTime};
use pipesim_workload::WorkloadSpec;

/// Schema changes and the log's storage faults (seed 004).
pub(super) struct SchemaState {
    pub(super) mode: SchemaMode,
    params: SchemaParams,
    pub(super) catalogue: Catalogue,
    /// Per change: the broker it compacts (`None`: every broker) and its fault window.
    targets: Vec<(Option<u32>, SimTime, SimTime)>,
    /// Per change: whether a flood's start has scheduled it.
    scheduled: Vec<bool>,
    /// Changes so far.
    pub(super) changes: u32,
    /// `frozen`: events whose type hash is below this are of a type the frozen schema lacks.
    pub(super) reject_below: u64,
    /// `infer`: types the consumer loaded at its last (re)start.
    loaded: u32,
    /// `infer`: after a decode error, updates of events created before this are never applied.
    discard_before: SimTime,
    /// Whether to report the store and schema tables.
    pub(super) report: bool,
    streams: RngStreams,
    decode_errors: u64,
    consumer_restarts: u64,
    discarded: u64,
    /// Events created, and those rejected, since the last change.
    pub(super) since_change: (u64, u64),
}

/// What the `log` role takes.
pub(super) const LOG_FAULT_KINDS: &[&str] =
    &["crash", "rolling_restart", "disk_stall", "pause", "schema_flood"];

/// Whether a fault acts on the log's storage or schema (the kinds this part handles).
fn is_storage_fault(f: &FaultSpec) -> bool {
    f.role == "log"
        && matches!(
            f.kind,
            FaultKind::DiskStall { .. } | FaultKind::Pause | FaultKind::SchemaFlood { .. }
        )
}

/// The schema catalogue of a run: one change at the start of each `schema_flood` window on the
/// log and every `interval` after, while in the window.
pub(super) fn schema_state(p: &EventSourcedParams, env: &RunEnv<'_>) -> SchemaState {
    let params = p.schemas.clone().unwrap_or_default();
    let mut changes = Vec::new();
    for f in env.faults.iter().filter(|f| f.role == "log") {
        if let FaultKind::SchemaFlood { interval_ns } = f.kind {
            let mut t = f.start_ns;
            while t < f.end_ns {
                changes.push((t, (f.node, f.start_ns, f.end_ns)));
                t = t.saturating_add(interval_ns.max(1));
            }
        }
    }
    changes.sort_by_key(|c| c.0);
    let salt = 0x5c4e_3a00_0000_0004;
    let catalogue =
        Catalogue::new(changes.iter().map(|c| c.0).collect(), params.new_type_share, salt);
    SchemaState {
        mode: p.schema,
        params,
        catalogue,
        scheduled: vec![false; changes.len()],
        targets: changes.into_iter().map(|c| c.1).collect(),
        changes: 0,
        reject_below: 0,
        loaded: 0,
        discard_before: 0,
        report: !p.schema.is_schema_less() || env.faults.iter().any(is_storage_fault),
        streams: *env.streams,
        decode_errors: 0,
        consumer_restarts: 0,
        discarded: 0,
        since_change: (0, 0),
    }
}

/// Whether the brokers' stores could stop writes without any fault: sizes other than the
/// defaults, or a peak write rate per broker (leader appends and follower copies) at or above
/// the flush bandwidth, when flushing no longer outpaces filling.
pub(super) fn store_can_stall(p: &EventSourcedParams, workload: &WorkloadSpec) -> bool {
    let lp = &p.log;
    let d = KafkaLogParams::default();
    if lp.memtable.bytes != d.memtable.bytes
        || lp.memtables != d.memtables
        || lp.flush_bandwidth.bytes_per_s != d.flush_bandwidth.bytes_per_s
    {
        return true;
    }
    let per_broker = workload.peak_rate_per_s()
        * f64::from(workload.payload_bytes)
        * f64::from(lp.replication_factor)
        / f64::from(lp.brokers);
    per_broker >= lp.flush_bandwidth.bytes_per_s
}

impl EventSourced {
    /// The brokers a storage fault hits: `fault.node` (modulo the brokers) or all of them.
    fn fault_brokers(&self, node: Option<u32>) -> std::ops::Range<u32> {
        RoleNodes::named_or_all(node, self.log.brokers())
    }

    /// A `disk_stall`, `pause` or `schema_flood` of the log; false for any other fault.
    pub(super) fn storage_fault(
        &mut self,
        ctx: &mut Ctx<Ev>,
        fault: &FaultSpec,
        phase: FaultPhase,
    ) -> bool {
        if !is_storage_fault(fault) {
            return false;
        }
        let (start, end) = (fault.start_ns, fault.end_ns);
        match (&fault.kind, phase) {
            (FaultKind::DiskStall { effect }, FaultPhase::Begin) => {
                for b in self.fault_brokers(fault.node) {
                    let mut rng = self.schema.streams.stream(&format!("log/disk_stall/{b}"));
                    let effect: DiskStallEffect = effect.clone();
                    let f = move |ns, now| effect.apply(ns, now, end, &mut rng);
                    self.log.set_disk_stall(b, Some((start, end, Box::new(f))));
                }
            }
            (FaultKind::DiskStall { .. }, FaultPhase::End) => {
                for b in self.fault_brokers(fault.node) {
                    self.log.set_disk_stall(b, None);
                }
            }
            (FaultKind::Pause, FaultPhase::Begin) => {
                for b in self.fault_brokers(fault.node) {
                    self.log.freeze(b, ctx.now());
                }
            }
            (FaultKind::Pause, FaultPhase::End) => {
                for b in self.fault_brokers(fault.node) {
                    self.log.thaw(&mut ctx.sim, b, wrap_log);
                }
            }
            (FaultKind::SchemaFlood { .. }, FaultPhase::Begin) => {
                // Two floods with the same node and window share their keys: each change is
                // scheduled once, by the first of them to begin.
                let key = (fault.node, start, end);
                let now = ctx.now();
                let st = &mut self.schema;
                for (i, &t) in st.catalogue.changes().iter().enumerate() {
                    if st.targets[i] == key && !st.scheduled[i] {
                        st.scheduled[i] = true;
                        ctx.schedule_at(t.max(now), Ev::SchemaChange(i as u32));
                    }
                }
            }
            _ => {}
        }
        true
    }

    /// Schema change `i` happens: the new type exists from now on; what it costs depends on
    /// the mode.
    pub(super) fn schema_change(&mut self, ctx: &mut Ctx<Ev>, i: u32) {
        let st = &mut self.schema;
        st.changes += 1;
        st.since_change = (0, 0);
        match st.mode {
            SchemaMode::AutoRegister => {
                let ns = st.params.compaction.ns;
                let node = st.targets[i as usize].0;
                for b in self.fault_brokers(node) {
                    self.log.compact(&mut ctx.sim, b, ns, wrap_log);
                }
            }
            SchemaMode::Frozen => st.reject_below = st.catalogue.new_below(st.changes),
            SchemaMode::Infer | SchemaMode::SchemaLess => {}
        }
    }

    /// `infer`: whether the consumer cannot apply `r` now. An event of a type whose
    /// descriptor it has not got (neither loaded at its last start nor arrived `learn_lag`
    /// after the change) is a decode error: the consumer crashes and is back `restart` later,
    /// at the log's end, so no update of an event created before then is ever applied.
    #[inline]
    pub(super) fn undecodable(&mut self, r: &Rec, now: SimTime) -> bool {
        let st = &mut self.schema;
        if r.0.created_ns < st.discard_before {
            st.discarded += 1;
            return true;
        }
        let learned = st.catalogue.count_at(now.saturating_sub(st.params.learn_lag.ns));
        let known = st.loaded.max(learned);
        if known >= st.changes || st.catalogue.type_of(r.0.id, r.0.created_ns) <= known {
            return false;
        }
        st.decode_errors += 1;
        st.consumer_restarts += 1;
        let back = now + st.params.restart.ns;
        st.discard_before = back;
        st.loaded = st.catalogue.count_at(back);
        st.discarded += 1;
        true
    }

    pub(super) fn storage_details(&self, tables: &mut Vec<DetailTable>) {
        let ms = |ns: SimTime| ns as f64 / NS_PER_MS as f64;
        let stores = self.log.store_stats(self.measure.to_ns.max(1));
        tables.push(DetailTable {
            name: "storage",
            columns: vec![
                "broker",
                "flushes",
                "compactions",
                "max_compaction_ms",
                "write_stops",
                "stopped_ms",
                "max_stop_ms",
            ],
            rows: stores
                .iter()
                .enumerate()
                .map(|(b, s)| {
                    vec![
                        Cell::Int(b as u64),
                        Cell::Int(s.flushes),
                        Cell::Int(s.compactions),
                        Cell::Fixed(ms(s.max_compaction_ns), 3),
                        Cell::Int(s.stops),
                        Cell::Fixed(ms(s.stopped_ns), 3),
                        Cell::Fixed(ms(s.max_stop_ns), 3),
                    ]
                })
                .collect(),
        });
        let st = &self.schema;
        tables.push(DetailTable::named("schema").with_row(|r| {
            r.int("changes", u64::from(st.changes))
                .fixed(
                    "kept_since_last_change",
                    1.0 - ratio(st.since_change.1, st.since_change.0),
                    6,
                )
                .int("decode_errors", st.decode_errors)
                .int("consumer_restarts", st.consumer_restarts)
                .int("updates_discarded", st.discarded);
        }));
    }
}
