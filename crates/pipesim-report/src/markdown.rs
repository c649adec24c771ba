//! report.md: the summary table, then each model's details.

use crate::json::{model_values, resolve_claims};
use crate::numbers::{ms_text, round_to, thousands};
use crate::table::{TextTable, summary};
use crate::{ModelRun, RunReport};
use pipesim_engine::{format_duration_ns, format_time_s};
use pipesim_metrics::{Invariants, LatencyHistogram, RunResults};
use pipesim_models::{Cell, DetailTable, FaultSpec};

/// The Markdown report.
pub fn report_markdown(report: &RunReport<'_>) -> String {
    let mut md = header_text(report);
    md.push_str("## Summary\n\nEnd-to-end latency (creation to visible) and throughput over the measured interval; ");
    md.push_str("invariant counts over the whole run.\n\n");
    md.push_str(&summary(report).to_markdown());
    md.push_str(&claims_text(report));
    for m in &report.models {
        md.push_str(&model_text(m, &report.scenario.faults));
    }
    md
}

/// The title, the description, the run's settings with the command that reproduces it, and
/// the scenario's warnings.
fn header_text(report: &RunReport<'_>) -> String {
    let s = report.scenario;
    let mut md = format!("# {}\n\n", s.name);
    if !s.description.trim().is_empty() {
        md.push_str(&format!("{}\n\n", s.description.trim()));
    }
    md.push_str(&format!(
        "Seed {}, {} of arrivals ({} warmup excluded from statistics), drain {}.  \nReproduce: `{}`\n\n",
        s.seed,
        format_duration_ns(s.duration_ns),
        format_duration_ns(s.warmup_ns),
        format_duration_ns(s.drain_ns),
        report.command
    ));
    if !s.warnings.is_empty() {
        md.push_str("**Warnings**\n\n");
        for w in &s.warnings {
            md.push_str(&format!("- {w}\n"));
        }
        md.push('\n');
    }
    md
}

/// The write-up's claims beside the simulated values; empty when the scenario has none.
fn claims_text(report: &RunReport<'_>) -> String {
    let claims = resolve_claims(report, &model_values(report));
    if claims.is_empty() {
        return String::new();
    }
    let table = TextTable {
        headers: ["model", "metric", "claimed", "simulated", "simulated / claimed", "source"]
            .iter()
            .map(|h| h.to_string())
            .collect(),
        rows: claims
            .iter()
            .map(|c| {
                vec![
                    c.model.clone(),
                    format!("`{}`", c.metric),
                    short_number(c.claimed),
                    c.simulated.map_or("n/a (no such metric)".to_string(), short_number),
                    c.ratio.map_or("n/a".to_string(), |r| format!("{r:.3}")),
                    c.source.replace('|', "/"),
                ]
            })
            .collect(),
    };
    format!("\n## What the write-up claims, beside the simulation\n\n{}", table.to_markdown())
}

/// One model's section: latencies, invariants, phases, detail tables and the engine's figures.
fn model_text(m: &ModelRun<'_>, faults: &[FaultSpec]) -> String {
    let r = &m.outcome.results;
    let mut md = format!("\n## {} ({})\n\n", m.spec.name, m.spec.kind);
    md.push_str(&latency_table(r).to_markdown());
    md.push_str(&invariants_text(&r.invariants));
    if !r.phases.is_empty() {
        md.push_str(&phase_table(r, faults));
    }
    for t in &m.outcome.details {
        md.push_str(&format!("\n### {}\n\n", t.name));
        md.push_str(&detail_table(t).to_markdown());
    }
    md.push_str(&format!(
        "\nMean events in the system {:.3}; {} engine events, simulation ended at {}.\n",
        round_to(r.mean_in_system, 3),
        thousands(r.events_simulated),
        format_time_s(r.end_ns)
    ));
    md
}

/// A row per latency the run measured (e2e and ack, then read and staleness where present).
fn latency_table(r: &RunResults) -> TextTable {
    let mut lat = TextTable {
        headers: [
            "latency", "count", "mean ms", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "p99.9 ms",
            "max ms",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        rows: Vec::new(),
    };
    let mut add = |name: &str, h: &LatencyHistogram| {
        let x = h.summary();
        lat.rows.push(vec![
            name.to_string(),
            thousands(x.count),
            format!("{:.3}", round_to(x.mean_ns / 1e6, 3)),
            ms_text(x.p50_ns),
            ms_text(x.p90_ns),
            ms_text(x.p95_ns),
            ms_text(x.p99_ns),
            ms_text(x.p999_ns),
            ms_text(x.max_ns),
        ]);
    };
    add("e2e", &r.e2e);
    add("ack", &r.ack);
    if let Some(h) = &r.read {
        add("read", h);
    }
    if let Some(h) = &r.staleness {
        add("staleness", h);
    }
    lat
}

/// The invariant counts, the drops by reason and the first findings.
fn invariants_text(inv: &Invariants) -> String {
    let mut md = format!(
        "\nOrdering violations {}, duplicates {}, lost {}, dropped {}, in flight at the end {}.\n",
        thousands(inv.ordering_violations),
        thousands(inv.duplicates),
        thousands(inv.lost),
        thousands(inv.dropped),
        thousands(inv.in_flight_at_end)
    );
    for d in inv.dropped_by_reason.iter().filter(|d| d.events + d.copies > 0) {
        md.push_str(&format!(
            "- dropped, {}: {} events, {} copies\n",
            d.reason,
            thousands(d.events),
            thousands(d.copies)
        ));
    }
    if !inv.examples.is_empty() {
        md.push_str("\nFirst findings:\n\n");
        for e in &inv.examples {
            md.push_str(&format!(
                "- {} at {}: key {} seq {}: {}\n",
                e.kind.name(),
                format_time_s(e.at_ns),
                e.key,
                e.seq,
                e.detail
            ));
        }
    }
    md
}

/// A model's detail table with its cells as the report shows them (counts with separators).
fn detail_table(t: &DetailTable) -> TextTable {
    TextTable {
        headers: t.columns.iter().map(|c| c.to_string()).collect(),
        rows: t
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| match c {
                        Cell::Text(s) => s.clone(),
                        Cell::Int(n) => thousands(*n),
                        Cell::Fixed(x, d) => format!("{:.*}", usize::from(*d), round_to(*x, *d)),
                    })
                    .collect()
            })
            .collect(),
    }
}

/// Statistics of the events created during each fault window, and outside all of them.
fn phase_table(r: &RunResults, faults: &[FaultSpec]) -> String {
    let table = TextTable {
        headers: [
            "events created",
            "from s",
            "to s",
            "created",
            "delivered",
            "e2e p50 ms",
            "e2e p99 ms",
            "e2e max ms",
            "ack p99 ms",
            "order",
            "dup",
            "lost",
            "dropped",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        rows: r
            .phases
            .iter()
            .map(|p| {
                let e2e = p.e2e.summary();
                let ack = p.ack.summary();
                let name = match p.fault.and_then(|i| faults.get(i)) {
                    Some(f) => format!("during {} {}", f.kind.label(), f.role),
                    None => "outside faults".to_string(),
                };
                vec![
                    name,
                    format_time_s(p.start_ns),
                    format_time_s(p.end_ns),
                    thousands(p.created),
                    thousands(p.delivered),
                    ms_text(e2e.p50_ns),
                    ms_text(e2e.p99_ns),
                    ms_text(e2e.max_ns),
                    ms_text(ack.p99_ns),
                    thousands(p.ordering_violations),
                    thousands(p.duplicates),
                    thousands(p.lost),
                    thousands(p.dropped),
                ]
            })
            .collect(),
    };
    format!("\nBy phase (events by their creation time):\n\n{}", table.to_markdown())
}

/// A number for a table: integers without decimals, others with up to 3.
fn short_number(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 && x >= 0.0 {
        thousands(x as u64)
    } else if x.abs() >= 0.1 || !x.is_finite() {
        format!("{}", round_to(x, 3))
    } else {
        // Small fractions (a duplicate rate of 0.002 %) keep three significant digits rather
        // than rounding to 0. Counting decimals by multiplication avoids a platform `log10`.
        let mut decimals = 3u8;
        let mut scaled = x.abs();
        while scaled < 0.1 && decimals < 15 {
            scaled *= 10.0;
            decimals += 1;
        }
        format!("{}", round_to(x, decimals))
    }
}

#[cfg(test)]
mod tests {
    use super::short_number;

    #[test]
    fn short_numbers_keep_small_fractions() {
        assert_eq!(short_number(300_000.0), "300,000");
        assert_eq!(short_number(1207.96), "1207.96");
        assert_eq!(short_number(0.94), "0.94");
        assert_eq!(short_number(0.00002), "0.00002");
        assert_eq!(short_number(0.012345), "0.0123");
        assert_eq!(short_number(0.0), "0");
    }
}
