//! `[faults.random]`: a fault timeline drawn from the seed (swarm testing, after TigerBeetle's
//! VOPR): first the *mix* — which of the allowed kinds this seed uses at all, each with
//! probability ½ — then each fault's kind, target, start, window and parameters.
//!
//! Drawing from a mix rather than from every kind at once matters: a seed that draws only
//! pauses and partitions explores their interaction far more than one where they are diluted
//! among nine kinds. The draws come from their own stream (`faults/random`), so the same seed
//! draws the same faults whatever the models, and the result is a list of ordinary fault
//! tables that go through the same checks as written ones (and export as a trace).

use crate::fault_kinds::entry;
use crate::fault_table::FieldError;
use crate::raw::{RawFault, RawRandomFaults};
use pipesim_config::{DistSpec, Duration};
use pipesim_engine::{NS_PER_MS, NS_PER_S, RngStreams, SimTime, StreamRng};
use pipesim_models::{FAULT_KINDS, ModelSpec};

/// What `[faults.random]` drew.
pub(crate) struct RandomFaults {
    /// The kinds this seed's mix allows, in [`FAULT_KINDS`] order.
    pub mix: Vec<&'static str>,
    /// The faults, by start time.
    pub faults: Vec<RawFault>,
}

const DEFAULT_COUNT: u32 = 3;
const DEFAULT_DURATION_NS: [SimTime; 2] = [NS_PER_S, 5 * NS_PER_S];

/// Draws the faults `r` asks for, from the root `seed`, for `models`; arrivals run over
/// `[0, arrivals_end_ns)` and statistics start at `warmup_ns`.
pub(crate) fn draw(
    r: &RawRandomFaults,
    seed: u64,
    models: &[ModelSpec],
    warmup_ns: SimTime,
    arrivals_end_ns: SimTime,
) -> Result<RandomFaults, FieldError> {
    let count = fault_count(r)?;
    let [from, until] = start_range(r, warmup_ns, arrivals_end_ns)?;
    let [shortest, longest] = window_range(r)?;
    let targets = allowed_targets(r, models)?;
    let kinds = allowed_kinds(r)?;
    let pairs = kind_target_pairs(models, &kinds, &targets);
    let usable = usable_kinds(r, &pairs, &kinds, &targets)?;

    let mut rng = RngStreams::new(seed).stream("faults/random");
    let mix = draw_mix(&mut rng, &usable);
    let mut faults = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let kind = mix[rng.below(mix.len() as u64) as usize];
        let options: Vec<&String> = pairs.iter().filter(|(k, _)| *k == kind).map(|p| p.1).collect();
        let target = options[rng.below(options.len() as u64) as usize].clone();
        let at = round_ms(from + rng.below(until - from));
        let window = round_ms(shortest + rng.below(longest - shortest + 1)).max(NS_PER_MS);
        faults.push(fault(kind, target, at, window, &mut rng));
    }
    faults.sort_by_key(|f| f.at.ns);
    Ok(RandomFaults { mix, faults })
}

/// `count`: how many faults, 1 up to the scenario's fault limit.
fn fault_count(r: &RawRandomFaults) -> Result<u32, FieldError> {
    let count = r.count.unwrap_or(DEFAULT_COUNT);
    let most = pipesim_config::limits::FAULTS.max;
    if count == 0 || u64::from(count) > most {
        return Err(("count", format!("must be between 1 and {most}, found {count}")));
    }
    Ok(count)
}

/// `at`: the earliest and latest start, within the arrivals (by default the measured part).
fn start_range(
    r: &RawRandomFaults,
    warmup_ns: SimTime,
    arrivals_end_ns: SimTime,
) -> Result<[SimTime; 2], FieldError> {
    let [from, until] = r.at.map_or([warmup_ns, arrivals_end_ns], |[a, b]| [a.ns, b.ns]);
    if from >= until || until > arrivals_end_ns {
        return Err((
            "at",
            format!(
                "the start range must be an earliest and a later latest start, within the arrivals (0s to {}); found {} to {}",
                pipesim_engine::format_duration_ns(arrivals_end_ns),
                pipesim_engine::format_duration_ns(from),
                pipesim_engine::format_duration_ns(until)
            ),
        ));
    }
    Ok([from, until])
}

/// `duration`: the shortest and longest fault window.
fn window_range(r: &RawRandomFaults) -> Result<[SimTime; 2], FieldError> {
    let [shortest, longest] = r.duration.map_or(DEFAULT_DURATION_NS, |[a, b]| [a.ns, b.ns]);
    if shortest == 0 || shortest > longest {
        return Err((
            "duration",
            "the window range must be a shortest above zero and a longest at least as long"
                .to_string(),
        ));
    }
    Ok([shortest, longest])
}

/// `targets`: roles every model has (by default all of them, in the first model's order).
fn allowed_targets(r: &RawRandomFaults, models: &[ModelSpec]) -> Result<Vec<String>, FieldError> {
    let shared_roles: Vec<&'static str> = models
        .first()
        .map(|m| m.fault_roles().to_vec())
        .unwrap_or_default()
        .into_iter()
        .filter(|role| models.iter().all(|m| m.fault_roles().contains(role)))
        .collect();
    let Some(t) = &r.targets else {
        return Ok(shared_roles.iter().map(|s| s.to_string()).collect());
    };
    if let Some(role) = t.iter().find(|role| !shared_roles.contains(&role.as_str())) {
        return Err((
            "targets",
            format!(
                "`{role}` is not a role of every model; the roles they share: {}",
                list(&shared_roles)
            ),
        ));
    }
    Ok(t.clone())
}

/// `kinds`: known fault kinds (by default all of them).
fn allowed_kinds(r: &RawRandomFaults) -> Result<Vec<&'static str>, FieldError> {
    let Some(k) = &r.kinds else {
        return Ok(FAULT_KINDS.to_vec());
    };
    let mut out = Vec::new();
    for name in k {
        let Some(known) = FAULT_KINDS.iter().find(|f| **f == name.as_str()) else {
            let mut msg = format!("unknown fault kind `{name}`");
            if let Some(s) = pipesim_config::suggest(name, FAULT_KINDS.iter().copied()) {
                msg.push_str(&format!(" (did you mean `{s}`?)"));
            }
            msg.push_str(&format!("; available: {}", FAULT_KINDS.join(", ")));
            return Err(("kinds", msg));
        };
        out.push(*known);
    }
    Ok(out)
}

/// The (kind, target) pairs every model can take, in [`FAULT_KINDS`] order then target order.
fn kind_target_pairs<'t>(
    models: &[ModelSpec],
    kinds: &[&'static str],
    targets: &'t [String],
) -> Vec<(&'static str, &'t String)> {
    let takes =
        |kind: &str, target: &str| models.iter().all(|m| m.fault_kinds(target).contains(&kind));
    FAULT_KINDS
        .iter()
        .filter(|k| kinds.contains(k))
        .flat_map(|k| targets.iter().filter(|t| takes(k, t)).map(move |t| (*k, t)))
        .collect()
}

/// The kinds that can hit some target, in [`FAULT_KINDS`] order. None is an error, and so is a
/// kind listed in `kinds` that can hit nothing (it would silently never be drawn).
fn usable_kinds(
    r: &RawRandomFaults,
    pairs: &[(&'static str, &String)],
    kinds: &[&'static str],
    targets: &[String],
) -> Result<Vec<&'static str>, FieldError> {
    let usable: Vec<&'static str> =
        FAULT_KINDS.iter().copied().filter(|k| pairs.iter().any(|(pk, _)| pk == k)).collect();
    if usable.is_empty() {
        return Err((
            "kinds",
            format!(
                "no kind among {} can hit a target among {} on every model",
                list(kinds),
                targets.join(", ")
            ),
        ));
    }
    if let Some(k) = r.kinds.as_ref().and_then(|k| k.iter().find(|k| !usable.contains(&k.as_str())))
    {
        return Err((
            "kinds",
            format!(
                "`{k}` can hit none of the targets ({}) on every model; usable kinds: {}",
                targets.join(", "),
                list(&usable)
            ),
        ));
    }
    Ok(usable)
}

/// The mix: each usable kind with probability ½, at least one.
fn draw_mix(rng: &mut StreamRng, usable: &[&'static str]) -> Vec<&'static str> {
    let mut mix: Vec<&'static str> = usable.iter().copied().filter(|_| rng.below(2) == 1).collect();
    if mix.is_empty() {
        mix.push(usable[rng.below(usable.len() as u64) as usize]);
    }
    mix
}

/// One fault of `kind` with its parameters drawn.
fn fault(
    kind: &str,
    target: String,
    at: SimTime,
    window: SimTime,
    rng: &mut StreamRng,
) -> RawFault {
    let d = |ns: SimTime| Some(Duration { ns });
    let mut f = RawFault {
        kind: kind.to_string(),
        target,
        at: Duration { ns: at },
        duration: d(window),
        direction: None,
        in_flight: None,
        extra: None,
        probability: None,
        rto: None,
        factor: None,
        stop: None,
        downtime: None,
        gap: None,
        nodes: None,
        interval: None,
        ahead: None,
        scope: None,
    };
    if let Some(k) = entry(kind) {
        (k.draw)(&mut f, window, rng);
    }
    f
}

/// A partition's direction and what happens to messages in flight.
pub(crate) fn draw_partition(f: &mut RawFault, _window: SimTime, rng: &mut StreamRng) {
    f.direction = Some(pick(rng, &["both", "requests", "responses"]).to_string());
    f.in_flight = Some(pick(rng, &["drop", "hold"]).to_string());
}

/// A latency spike's added delay: lognormal, median 5-100 ms, p99 four times the median.
pub(crate) fn draw_latency_spike(f: &mut RawFault, _window: SimTime, rng: &mut StreamRng) {
    let p50 = (5 + rng.below(96)) * NS_PER_MS;
    f.extra =
        Some(DistSpec::LogNormal { p50: Duration { ns: p50 }, p99: Duration { ns: 4 * p50 } });
}

/// Packet loss's probability, 1-20 %.
pub(crate) fn draw_packet_loss(f: &mut RawFault, _window: SimTime, rng: &mut StreamRng) {
    f.probability = Some(*pick(rng, &[0.01, 0.02, 0.05, 0.1, 0.2]));
}

/// A disk stall: stopped one time in five, otherwise 2-50 times slower.
pub(crate) fn draw_disk_stall(f: &mut RawFault, _window: SimTime, rng: &mut StreamRng) {
    match rng.below(5) {
        0 => f.stop = Some(true),
        _ => f.factor = Some(*pick(rng, &[2.0, 5.0, 10.0, 50.0])),
    }
}

/// A rolling restart: the window range bounds each node's downtime; the gap is up to one
/// downtime.
pub(crate) fn draw_rolling_restart(f: &mut RawFault, window: SimTime, rng: &mut StreamRng) {
    f.duration = None;
    f.downtime = Some(Duration { ns: window });
    f.gap = Some(Duration { ns: round_ms(rng.below(window + 1)) });
}

/// A schema flood or checkpoint storm: two to six changes or checkpoints in the window.
pub(crate) fn draw_periodic(f: &mut RawFault, window: SimTime, rng: &mut StreamRng) {
    let k = 2 + rng.below(5);
    f.interval = Some(Duration { ns: (window / k).max(NS_PER_MS) });
}

fn pick<'a, T>(rng: &mut StreamRng, options: &'a [T]) -> &'a T {
    &options[rng.below(options.len() as u64) as usize]
}

fn round_ms(ns: SimTime) -> SimTime {
    ns / NS_PER_MS * NS_PER_MS
}

fn list(items: &[&str]) -> String {
    if items.is_empty() { "none".to_string() } else { items.join(", ") }
}
