//! One fault table (`[[fault]]`, a line of a fault trace, or a drawn random fault) to a
//! [`FaultSpec`], and the check that every model can take it.
//!
//! Every source of faults goes through [`build_fault`] and [`check_models`], so a fault read
//! from a trace or drawn at random is held to the same rules as one written in the scenario.
//! Which parameters belong to which kind, and which builder below makes each kind, is the
//! table in `fault_kinds.rs`.

use crate::fault_kinds::{FAULT_PARAMS, FaultKindEntry, WindowRule, entry, owners};
use crate::raw::RawFault;
use pipesim_config::{Loader, suggest};
use pipesim_engine::{SimTime, format_duration_ns};
use pipesim_models::{
    CrashScope, Direction, DiskStallEffect, FAULT_KINDS, FaultKind, FaultSpec, ModelSpec,
};

/// Linux's minimum TCP retransmission timeout.
pub(crate) const MIN_RTO_NS: SimTime = 200_000_000;

/// A problem with one field of a fault table: the field's name and what is wrong.
pub(crate) type FieldError = (&'static str, String);

/// The fault a table describes, with its window; `arrivals_end_ns` is the scenario's
/// `duration` (a fault must start before it).
pub(crate) fn build_fault(
    f: &RawFault,
    arrivals_end_ns: SimTime,
    loader: &dyn Loader,
) -> Result<FaultSpec, FieldError> {
    let entry = check_kind(f.kind.as_str())?;
    check_params(f, entry)?;
    let duration_ns = fault_window(f, entry)?;
    let kind = (entry.build)(f, duration_ns, loader)?;
    if f.at.ns >= arrivals_end_ns {
        return Err((
            "at",
            format!(
                "{} is past the end of the arrivals ({}): the fault would never happen",
                f.at,
                format_duration_ns(arrivals_end_ns)
            ),
        ));
    }
    Ok(FaultSpec::new(kind, f.target.clone(), f.at.ns, f.at.ns.saturating_add(duration_ns)))
}

/// The kind's entry in the table; an unknown name is an error with the near miss.
fn check_kind(kind_name: &str) -> Result<&'static FaultKindEntry, FieldError> {
    entry(kind_name).ok_or_else(|| {
        let mut msg = format!("unknown fault kind `{kind_name}`");
        if let Some(s) = suggest(kind_name, FAULT_KINDS.iter().copied()) {
            msg.push_str(&format!(" (did you mean `{s}`?)"));
        }
        msg.push_str(&format!("; available: {}", FAULT_KINDS.join(", ")));
        ("kind", msg)
    })
}

/// Parameters belong to kinds: one given to another kind is a mistake.
fn check_params(f: &RawFault, kind: &FaultKindEntry) -> Result<(), FieldError> {
    for p in FAULT_PARAMS.iter().filter(|p| (p.given)(f)) {
        if !kind.params.contains(&p.name) {
            return Err((
                p.name,
                format!(
                    "`{}` is a parameter of `{}`, not of `{}`",
                    p.name,
                    owners(p.name).join("` and `"),
                    kind.name
                ),
            ));
        }
    }
    Ok(())
}

/// The fault's window from `duration` (a rolling_restart's follows from its other fields: 0
/// here).
fn fault_window(f: &RawFault, kind: &FaultKindEntry) -> Result<SimTime, FieldError> {
    let kind_name = kind.name;
    Ok(match (kind.window, f.duration) {
        (WindowRule::Derived, Some(_)) => {
            return Err((
            "duration",
            "a rolling_restart's window follows from its `downtime`, `gap` and the role's node count: remove `duration` (set `nodes` to restart fewer nodes)".to_string(),
        ));
        }
        (WindowRule::Derived, None) => 0,
        (_, None) => {
            return Err(("duration", format!("a {kind_name} needs `duration`, its window")));
        }
        (WindowRule::Duration(what), Some(d)) if d.ns == 0 => {
            return Err((
                "duration",
                format!("a {kind_name} needs {what}: the duration must be greater than zero"),
            ));
        }
        (_, Some(d)) => d.ns,
    })
}

/// A crash of the process (the kernel's page cache survives) or of the machine; without a
/// `scope`, each model's default for the role.
pub(crate) fn crash(f: &RawFault, window_ns: SimTime) -> Result<FaultKind, FieldError> {
    let scope = match f.scope.as_deref() {
        None => None,
        Some(name) => {
            let Some(scope) = CrashScope::from_name(name) else {
                let names = CrashScope::NAMES.join(", ");
                return Err(("scope", format!("unknown scope `{name}`; one of: {names}")));
            };
            Some(scope)
        }
    };
    Ok(FaultKind::Crash { restart_ns: window_ns, scope })
}

/// A partition: which direction, and whether messages in flight are dropped or held.
pub(crate) fn partition(f: &RawFault) -> Result<FaultKind, FieldError> {
    let direction = match f.direction.as_deref().unwrap_or("both") {
        "both" => Direction::Both,
        "requests" => Direction::Requests,
        "responses" => Direction::Responses,
        other => {
            return Err((
                "direction",
                format!("unknown direction `{other}`; one of: both, requests, responses"),
            ));
        }
    };
    let hold = match f.in_flight.as_deref().unwrap_or("drop") {
        "drop" => false,
        "hold" => true,
        other => {
            return Err(("in_flight", format!("unknown in_flight `{other}`; one of: drop, hold")));
        }
    };
    Ok(FaultKind::Partition { direction, hold })
}

/// A latency spike: the added delay.
pub(crate) fn latency_spike(f: &RawFault, loader: &dyn Loader) -> Result<FaultKind, FieldError> {
    let Some(extra) = &f.extra else {
        return Err((
            "extra",
            "a latency_spike needs `extra`, the added delay (a duration or a distribution)"
                .to_string(),
        ));
    };
    Ok(FaultKind::LatencySpike { extra: extra.resolve(loader).map_err(|m| ("extra", m))? })
}

/// Packet loss: the chance a transmission is lost, and the retransmission timeout.
pub(crate) fn packet_loss(f: &RawFault) -> Result<FaultKind, FieldError> {
    let Some(p) = f.probability else {
        return Err((
            "probability",
            "a packet_loss needs `probability`, the chance one transmission is lost".to_string(),
        ));
    };
    if !(p.is_finite() && p > 0.0 && p <= 1.0) {
        return Err((
            "probability",
            format!("must be a probability above 0 and at most 1, found {p}"),
        ));
    }
    let rto_ns = f.rto.map_or(MIN_RTO_NS, |d| d.ns);
    if rto_ns < MIN_RTO_NS {
        return Err((
            "rto",
            format!(
                "{} is below TCP's minimum retransmission timeout (200ms)",
                format_duration_ns(rto_ns)
            ),
        ));
    }
    Ok(FaultKind::PacketLoss { probability: p, rto_ns })
}

/// A disk stall: slower, delayed or stopped, exactly one of them.
pub(crate) fn disk_stall(f: &RawFault, loader: &dyn Loader) -> Result<FaultKind, FieldError> {
    let effect = match (f.factor, &f.extra, f.stop) {
        (Some(factor), None, None | Some(false)) => {
            if !(factor.is_finite() && factor > 1.0) {
                return Err((
                    "factor",
                    format!("must be a slowdown above 1 (10 = ten times slower), found {factor}"),
                ));
            }
            DiskStallEffect::Slow { factor }
        }
        (None, Some(extra), None | Some(false)) => {
            DiskStallEffect::Extra { extra: extra.resolve(loader).map_err(|m| ("extra", m))? }
        }
        (None, None, Some(true)) => DiskStallEffect::Stop,
        (None, None, _) => {
            return Err((
                "kind",
                "a disk_stall needs one of `factor` (each disk operation that many times slower), `extra` (an added delay) or `stop = true` (nothing completes until the window ends)".to_string(),
            ));
        }
        _ => {
            let field = if f.stop == Some(true) { "stop" } else { "extra" };
            return Err((
                field,
                "give a disk_stall only one of `factor`, `extra` and `stop`".to_string(),
            ));
        }
    };
    Ok(FaultKind::DiskStall { effect })
}

/// A rolling restart: each node's downtime, the gap between nodes, how many nodes.
pub(crate) fn rolling_restart(f: &RawFault) -> Result<FaultKind, FieldError> {
    let Some(downtime) = f.downtime else {
        return Err((
            "downtime",
            "a rolling_restart needs `downtime`, how long each node is down".to_string(),
        ));
    };
    if downtime.ns == 0 {
        return Err(("downtime", "must be greater than zero".to_string()));
    }
    if f.nodes == Some(0) {
        return Err(("nodes", "must be at least 1 (leave it out for every node)".to_string()));
    }
    if let Some(n) = f.nodes {
        let limit = &pipesim_config::limits::RESTART_NODES;
        pipesim_config::limits::at_most("", u64::from(n), limit)
            .map_err(|e| ("nodes", e.message))?;
    }
    Ok(FaultKind::RollingRestart {
        downtime_ns: downtime.ns,
        gap_ns: f.gap.map_or(0, |g| g.ns),
        nodes: f.nodes,
    })
}

/// A schema flood's or checkpoint storm's `interval`: an event every `interval` through the
/// window.
pub(crate) fn periodic(
    f: &RawFault,
    kind_name: &str,
    duration_ns: SimTime,
) -> Result<SimTime, FieldError> {
    let Some(interval) = f.interval else {
        let what = if kind_name == "schema_flood" {
            "the time between two schema changes"
        } else {
            "the time between two checkpoints during the storm"
        };
        return Err(("interval", format!("a {kind_name} needs `interval`, {what}")));
    };
    if interval.ns == 0 {
        return Err(("interval", "must be greater than zero".to_string()));
    }
    if interval.ns > duration_ns {
        return Err((
            "interval",
            format!(
                "{interval} is longer than the window ({}): nothing would happen",
                format_duration_ns(duration_ns)
            ),
        ));
    }
    let events = duration_ns / interval.ns;
    let limit = &pipesim_config::limits::FAULT_EVENTS;
    pipesim_config::limits::at_most("", events, limit)
        .map_err(|e| ("interval", format!("{interval} over the window makes {}", e.message)))?;
    Ok(interval.ns)
}

/// Checks that every model has the fault's role and can take its kind there.
pub(crate) fn check_models(f: &FaultSpec, models: &[ModelSpec]) -> Result<(), FieldError> {
    for m in models {
        let roles = m.fault_roles();
        if !roles.contains(&f.role.as_str()) {
            let mut msg = format!("model \"{}\" ({}) has no role `{}`", m.name, m.kind, f.role);
            if let Some(s) = suggest(&f.role, roles.iter().copied()) {
                msg.push_str(&format!(" (did you mean `{s}`?)"));
            }
            if roles.is_empty() {
                msg.push_str("; it takes no faults");
            } else {
                msg.push_str(&format!("; its roles: {}", roles.join(", ")));
            }
            return Err(("target", msg));
        }
        check_crash_scope(f, m)?;
        let kinds = m.fault_kinds(&f.role);
        if !kinds.contains(&f.kind.name()) {
            return Err((
                "kind",
                format!(
                    "model \"{}\" ({}) cannot take a `{}` on `{}`; it takes: {}",
                    m.name,
                    m.kind,
                    f.kind.name(),
                    f.role,
                    kinds.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Checks that a crash's `scope`, when given, is one the model takes on the fault's role.
fn check_crash_scope(f: &FaultSpec, m: &ModelSpec) -> Result<(), FieldError> {
    let FaultKind::Crash { scope: Some(scope), .. } = f.kind else { return Ok(()) };
    let scopes = m.crash_scopes(&f.role);
    if scopes.contains(&scope) {
        return Ok(());
    }
    let names: Vec<&str> = scopes.iter().map(|s| s.name()).collect();
    Err((
        "scope",
        format!(
            "model \"{}\" ({}) does not model a {} crash of `{}`; it takes scope: {}",
            m.name,
            m.kind,
            scope.name(),
            f.role,
            names.join(", ")
        ),
    ))
}

/// The most a `clock_skew` may put a clock ahead: an hour is past any clock a fleet would keep.
pub(crate) const MAX_CLOCK_AHEAD_NS: SimTime = 3_600 * pipesim_engine::NS_PER_S;

/// A clock skew: how far ahead the node's clock reads, above zero and at most an hour.
pub(crate) fn clock_skew(f: &RawFault) -> Result<FaultKind, FieldError> {
    let Some(ahead) = f.ahead else {
        return Err((
            "ahead",
            "a clock_skew needs `ahead`, how far ahead the node's clock reads".to_string(),
        ));
    };
    if ahead.ns == 0 || ahead.ns > MAX_CLOCK_AHEAD_NS {
        return Err(("ahead", format!("must be above 0s and at most 1h, found {ahead}")));
    }
    Ok(FaultKind::ClockSkew { ahead_ns: ahead.ns })
}
