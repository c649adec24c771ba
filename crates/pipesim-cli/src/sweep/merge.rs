//! Sweep part files (`pipesim sweep --partition`) and `pipesim merge`, which trusts none of
//! them: every part is checked against what it claims to hold before anything is merged.
//!
//! A part names its sweep (the [`SweepMeta`], whose fingerprint covers the scenario text, the
//! version, the models and every point's label), its partition, its models, and a checksum of
//! its points keyed by that fingerprint. Merge refuses (exit 2) a part whose checksum does not
//! match its points (edited or corrupted), whose points are not the ones its partition takes,
//! whose point is not the sweep's point of that index (seed, combination, parameters), whose
//! models are missing, renamed, duplicated or reordered, whose metrics are missing, negative or
//! not finite, or whose histogram does not decode; and parts of other sweeps or versions.

use super::fnv1a;
use super::partition::Partition;
use super::results::{METRICS, PointResult, SweepMeta};
use pipesim_metrics::LatencyHistogram;
use pipesim_scenario::sweep::SweepPoint;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a part file holds.
#[derive(Serialize, Deserialize)]
pub(super) struct PartFile {
    pub kind: String,
    pub meta: SweepMeta,
    pub partition: String,
    /// The models of every point, in scenario order.
    pub models: Vec<String>,
    /// The label of every point of the sweep (not only this part's), in index order: which
    /// points the partition takes follows from them.
    pub labels: Vec<String>,
    /// FNV-1a of the fingerprint, the models and the points (see [`checksum`]).
    pub checksum: String,
    pub points: Vec<PointResult>,
}

pub(super) const PART_KIND: &str = "pipesim sweep part";

/// The checksum a part carries: its models, labels and points hashed with the sweep's
/// fingerprint.
pub(super) fn checksum(
    meta: &SweepMeta,
    models: &[String],
    labels: &[String],
    points: &[PointResult],
) -> String {
    // Through a JSON tree, whose objects list their keys in order, so that anyone can compute
    // it again from the file alone.
    let tree = serde_json::to_value((models, labels, points)).unwrap_or_default();
    let body = serde_json::to_string(&tree).unwrap_or_default();
    format!("{:016x}", fnv1a(format!("{}\n{body}", meta.fingerprint).as_bytes()))
}

impl PartFile {
    /// A part of `meta` holding `points`, for `partition`.
    pub(super) fn new(
        meta: SweepMeta,
        partition: &Partition,
        models: Vec<String>,
        labels: Vec<String>,
        points: Vec<PointResult>,
    ) -> Self {
        let checksum = checksum(&meta, &models, &labels, &points);
        Self {
            kind: PART_KIND.to_string(),
            meta,
            partition: partition.to_string(),
            models,
            labels,
            checksum,
            points,
        }
    }
}

/// Reads and checks the part at `path` on its own.
fn read_part(path: &Path) -> Result<PartFile, String> {
    let shown = path.display();
    let text = crate::cmd_compare::read_report_text(path)?;
    let part: PartFile = serde_json::from_str(&text).map_err(|e| {
        format!("{shown}: not a sweep part file of this pipesim ({e}); parts are written by `pipesim sweep --partition`")
    })?;
    if part.kind != PART_KIND {
        return Err(format!("{shown}: not a sweep part file"));
    }
    check_part(&part).map_err(|e| format!("{shown}: {e}"))?;
    Ok(part)
}

/// Everything a part says about itself, checked: what is wrong, in words.
fn check_part(part: &PartFile) -> Result<(), String> {
    let meta = &part.meta;
    if part.checksum != checksum(meta, &part.models, &part.labels, &part.points) {
        return Err("its checksum does not match its points: the file was edited or damaged (re-run the part)".to_string());
    }
    let partition = Partition::parse(&part.partition).map_err(|e| format!("partition {e}"))?;
    if part.models.is_empty() {
        return Err("lists no model".to_string());
    }
    if let Some(dup) = part.models.iter().enumerate().find(|(i, m)| part.models[..*i].contains(m)) {
        return Err(format!("lists model \"{}\" twice", dup.1));
    }
    let seeds = meta.seeds.len();
    if seeds == 0 || !meta.total_points.is_multiple_of(seeds) {
        return Err(format!("its sweep has {} points over {seeds} seeds", meta.total_points));
    }
    if part.labels.len() != meta.total_points {
        return Err(format!(
            "labels {} points of a sweep of {}",
            part.labels.len(),
            meta.total_points
        ));
    }
    let expected = (0..meta.total_points).filter(|&i| partition.takes(i, &part.labels[i])).count();
    if part.points.len() != expected {
        return Err(format!(
            "holds {} points where partition {} of the sweep's {} takes {expected}",
            part.points.len(),
            part.partition,
            meta.total_points
        ));
    }
    for p in &part.points {
        check_point(part, &partition, p).map_err(|e| format!("point {}: {e}", p.index))?;
    }
    Ok(())
}

/// The label of a point as the sweep gives it (parameters and seed).
fn label_of(p: &PointResult) -> String {
    let point = SweepPoint {
        index: p.index,
        values: p.values.clone(),
        seed: p.seed,
        combination: p.combination,
    };
    point.label()
}

fn check_point(part: &PartFile, partition: &Partition, p: &PointResult) -> Result<(), String> {
    let meta = &part.meta;
    if p.index >= meta.total_points {
        return Err(format!("the sweep has {} points", meta.total_points));
    }
    let seeds = meta.seeds.len();
    if p.seed != meta.seeds[p.index % seeds] || p.combination != p.index / seeds {
        return Err("its seed or parameter combination is not the sweep's".to_string());
    }
    let names: Vec<&str> = p.values.iter().map(|(k, _)| k.as_str()).collect();
    if names != meta.parameters.iter().map(String::as_str).collect::<Vec<_>>() {
        return Err(format!("its parameters ({}) are not the sweep's", names.join(", ")));
    }
    let label = label_of(p);
    if label != part.labels[p.index] {
        return Err(format!(
            "it is \"{label}\", where the sweep's point is \"{}\"",
            part.labels[p.index]
        ));
    }
    if !partition.takes(p.index, &label) {
        return Err(format!("partition {partition} does not take it"));
    }
    let models: Vec<&str> = p.models.iter().map(|m| m.name.as_str()).collect();
    if models != part.models.iter().map(String::as_str).collect::<Vec<_>>() {
        return Err(format!(
            "holds models {} where the part's are {}",
            models.join(", "),
            part.models.join(", ")
        ));
    }
    for m in &p.models {
        if m.metrics.len() != METRICS.len() {
            return Err(format!(
                "model \"{}\" has {} metrics, not {}",
                m.name,
                m.metrics.len(),
                METRICS.len()
            ));
        }
        for (name, _) in METRICS {
            match m.metrics.get(name) {
                Some(x) if x.is_finite() && *x >= 0.0 => {}
                Some(x) => return Err(format!("model \"{}\": {name} is {x}", m.name)),
                None => return Err(format!("model \"{}\" has no {name}", m.name)),
            }
        }
        LatencyHistogram::from_v2_base64(&m.e2e_histogram)
            .map_err(|e| format!("model \"{}\": its e2e histogram: {e}", m.name))?;
    }
    Ok(())
}

/// The parts, read, checked and put together: the sweep's meta and every point in index order.
pub(super) fn gather(paths: &[PathBuf]) -> Result<(SweepMeta, Vec<PointResult>), String> {
    let mut first: Option<(PartFile, PathBuf)> = None;
    let mut points: Vec<(PointResult, PathBuf)> = Vec::new();
    for path in paths {
        let shown = path.display();
        let mut part = read_part(path)?;
        if let Some((f, first_path)) = &first {
            let (m, fp) = (&f.meta, first_path.display());
            if m.pipesim_version != part.meta.pipesim_version {
                return Err(format!(
                    "{shown} was written by pipesim {} and {fp} by pipesim {}: merge parts of one version",
                    part.meta.pipesim_version, m.pipesim_version
                ));
            }
            if *m != part.meta || f.models != part.models || f.labels != part.labels {
                return Err(format!(
                    "{shown} is part of another sweep than {fp} (scenario \"{}\" fingerprint {} against \"{}\" {}): the scenario file, its models or its [sweep] differ",
                    part.meta.scenario, part.meta.fingerprint, m.scenario, m.fingerprint
                ));
            }
        }
        for p in std::mem::take(&mut part.points) {
            if let Some((_, other)) = points.iter().find(|(q, _)| q.index == p.index) {
                return Err(format!(
                    "point {} is in both {} and {shown}",
                    p.index,
                    other.display()
                ));
            }
            points.push((p, path.clone()));
        }
        if first.is_none() {
            first = Some((part, path.clone()));
        }
    }
    let Some((first, _)) = first else {
        return Err("no part files given".to_string());
    };
    let meta = first.meta;
    let mut present = vec![false; meta.total_points];
    for (p, _) in &points {
        present[p.index] = true;
    }
    let missing: Vec<String> =
        (0..meta.total_points).filter(|&i| !present[i]).map(|i| i.to_string()).collect();
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(10).cloned().collect();
        return Err(format!(
            "{} of the sweep's {} points are in no part (points {}{}): give every part",
            missing.len(),
            meta.total_points,
            shown.join(", "),
            if missing.len() > 10 { ", …" } else { "" }
        ));
    }
    // Points of one combination came from different machines: they must agree on its values.
    let mut results: Vec<PointResult> = points.into_iter().map(|(p, _)| p).collect();
    results.sort_by_key(|p| p.index);
    for pair in results.windows(2) {
        if pair[0].combination == pair[1].combination && pair[0].values != pair[1].values {
            return Err(format!(
                "points {} and {} are of one parameter combination but list different values",
                pair[0].index, pair[1].index
            ));
        }
    }
    Ok((meta, results))
}
