//! report.md: the summary table, then each model's details.

use crate::RunReport;
use crate::json::{model_values, resolve_claims};
use crate::numbers::{ms_text, round_to, thousands};
use crate::table::{TextTable, summary};
use pipesim_engine::{format_duration_ns, format_time_s};
use pipesim_models::Cell;

/// The Markdown report.
#[expect(clippy::too_many_lines, reason = "over the 70-line budget (clippy.toml); to be split")]
pub fn report_markdown(report: &RunReport<'_>) -> String {
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
    md.push_str("## Summary\n\nEnd-to-end latency (creation to visible) and throughput over the measured interval; ");
    md.push_str("invariant counts over the whole run.\n\n");
    md.push_str(&summary(report).to_markdown());
    let claims = resolve_claims(report, &model_values(report));
    if !claims.is_empty() {
        md.push_str("\n## What the write-up claims, beside the simulation\n\n");
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
        md.push_str(&table.to_markdown());
    }
    for m in &report.models {
        let r = &m.outcome.results;
        md.push_str(&format!("\n## {} ({})\n\n", m.spec.name, m.spec.kind));
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
        let mut add = |name: &str, h: &pipesim_metrics::LatencyHistogram| {
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
        md.push_str(&lat.to_markdown());
        let inv = &r.invariants;
        md.push_str(&format!(
            "\nOrdering violations {}, duplicates {}, lost {}, dropped {}, in flight at the end {}.\n",
            thousands(inv.ordering_violations),
            thousands(inv.duplicates),
            thousands(inv.lost),
            thousands(inv.dropped),
            thousands(inv.in_flight_at_end)
        ));
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
        if !r.phases.is_empty() {
            md.push_str(&phase_table(r, &report.scenario.faults));
        }
        for t in &m.outcome.details {
            md.push_str(&format!("\n### {}\n\n", t.name));
            let table = TextTable {
                headers: t.columns.iter().map(|c| c.to_string()).collect(),
                rows: t
                    .rows
                    .iter()
                    .map(|row| {
                        row.iter()
                            .map(|c| match c {
                                Cell::Text(s) => s.clone(),
                                Cell::Int(n) => thousands(*n),
                                Cell::Fixed(x, d) => {
                                    format!("{:.*}", usize::from(*d), round_to(*x, *d))
                                }
                            })
                            .collect()
                    })
                    .collect(),
            };
            md.push_str(&table.to_markdown());
        }
        md.push_str(&format!(
            "\nMean events in the system {:.3}; {} engine events, simulation ended at {}.\n",
            round_to(r.mean_in_system, 3),
            thousands(r.events_simulated),
            format_time_s(r.end_ns)
        ));
    }
    md
}

/// Statistics of the events created during each fault window, and outside all of them.
fn phase_table(r: &pipesim_metrics::RunResults, faults: &[pipesim_models::FaultSpec]) -> String {
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
                    Some(f) => format!("during {} {}", f.kind.name(), f.role),
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
