//! The summary table: one row per model, as aligned text or Markdown.

use crate::RunReport;
use crate::numbers::{ms_text, short_rate, thousands};
use pipesim_engine::format_duration_ns;

/// A table of strings, first column left-aligned, the rest right-aligned.
pub(crate) struct TextTable {
    pub(crate) headers: Vec<String>,
    pub(crate) rows: Vec<Vec<String>>,
}

impl TextTable {
    fn widths(&self) -> Vec<usize> {
        let mut w: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, c) in row.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        w
    }

    /// Aligned plain text, two spaces between columns.
    pub(crate) fn to_text(&self) -> String {
        let w = self.widths();
        let line = |cells: &[String]| {
            let parts: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    // Padded by hand: `format!`'s width stops at 65,535.
                    let pad = " ".repeat(w[i].saturating_sub(c.chars().count()));
                    if i == 0 { format!("{c}{pad}") } else { format!("{pad}{c}") }
                })
                .collect();
            parts.join("  ").trim_end().to_string()
        };
        let mut out = line(&self.headers);
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }

    /// A GitHub-flavoured Markdown table.
    pub(crate) fn to_markdown(&self) -> String {
        let mut out = format!("| {} |\n", self.headers.join(" | "));
        let align: Vec<&str> =
            (0..self.headers.len()).map(|i| if i == 0 { ":---" } else { "---:" }).collect();
        out.push_str(&format!("| {} |\n", align.join(" | ")));
        for row in &self.rows {
            out.push_str(&format!("| {} |\n", row.join(" | ")));
        }
        out
    }
}

pub(crate) fn summary(report: &RunReport<'_>) -> TextTable {
    let headers = [
        "model",
        "kind",
        "offered",
        "delivered",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "order",
        "dup",
        "lost",
        "dropped",
    ];
    let rows = report
        .models
        .iter()
        .map(|m| {
            let r = &m.outcome.results;
            let e = r.e2e.summary();
            let inv = &r.invariants;
            vec![
                m.spec.name.clone(),
                m.spec.kind.to_string(),
                short_rate(r.throughput.offered_per_s),
                short_rate(r.throughput.delivered_per_s),
                ms_text(e.p50_ns),
                ms_text(e.p99_ns),
                ms_text(e.p999_ns),
                ms_text(e.max_ns),
                thousands(inv.ordering_violations),
                thousands(inv.duplicates),
                thousands(inv.lost),
                thousands(inv.dropped),
            ]
        })
        .collect();
    TextTable { headers: headers.iter().map(|h| h.to_string()).collect(), rows }
}

/// The summary as aligned text for stdout: a heading line, then one row per model.
pub fn summary_table(report: &RunReport<'_>) -> String {
    let s = report.scenario;
    let mut out = format!(
        "{}  (seed {})  e2e latency; order/dup/lost/dropped are event counts\n",
        s.name, s.seed
    );
    if let Some(mix) = &s.random_fault_mix {
        out.push_str(&format!(
            "fault timeline (seed {}, random mix: {}):\n",
            s.seed,
            mix.join(", ")
        ));
        for f in &s.faults {
            let length = match f.kind {
                pipesim_models::FaultKind::RollingRestart { downtime_ns, .. } => {
                    format!("each node down {}", format_duration_ns(downtime_ns))
                }
                _ => format!("for {}", format_duration_ns(f.end_ns - f.start_ns)),
            };
            out.push_str(&format!(
                "  {} on {} at {} {length}\n",
                f.kind.label(),
                f.role,
                pipesim_engine::format_time_s(f.start_ns),
            ));
        }
    }
    out.push_str(&summary(report).to_text());
    out
}
