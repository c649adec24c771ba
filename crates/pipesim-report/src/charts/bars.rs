//! Grouped bars per model: p50/p99/p99.9 side by side, and the invariant findings, each bar
//! labelled with its exact value (a zero finding is written "0", which is the good news).

use super::axes::{
    LogAxis, Ticked, count_tick, draw_legend, draw_minor_lines, house_style, ms_tick, ms_value,
};
use super::set::Series;
use super::{ChartError, FONT, Figure, PALETTE};
use crate::numbers::thousands;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// What one group of bars shows.
#[derive(Clone, Copy)]
pub(crate) enum BarKind {
    /// End-to-end p50, p99, p99.9 in milliseconds.
    Percentiles,
    /// Ordering violations, duplicates, lost, dropped.
    Findings,
}

/// Grouped bars, one group per series.
pub(crate) struct Bars<'a> {
    pub kind: BarKind,
    pub series: Vec<Series<'a>>,
}

impl Bars<'_> {
    fn names(&self) -> &'static [&'static str] {
        match self.kind {
            BarKind::Percentiles => &["p50", "p99", "p99.9"],
            BarKind::Findings => &["ordering violations", "duplicates", "lost", "dropped"],
        }
    }

    fn values(&self, s: &Series<'_>) -> Vec<f64> {
        let m = s.model;
        match self.kind {
            BarKind::Percentiles => {
                let e = &m.latency.e2e;
                vec![e.p50_ms, e.p99_ms, e.p999_ms]
            }
            BarKind::Findings => {
                let i = &m.invariants;
                [i.ordering_violations, i.duplicates, i.lost, i.dropped]
                    .iter()
                    .map(|&n| n as f64)
                    .collect()
            }
        }
    }

    fn value_label(&self, v: f64) -> String {
        match self.kind {
            BarKind::Percentiles if v > 0.0 => ms_value(v),
            BarKind::Percentiles => "–".to_string(),
            BarKind::Findings => thousands(v as u64),
        }
    }
}

impl Figure for Bars<'_> {
    fn size(&self) -> (u32, u32) {
        let groups = self.series.len().max(1) as u32;
        (960.max(140 * groups + 160), 440)
    }

    fn title(&self) -> String {
        match self.kind {
            BarKind::Percentiles => {
                "End-to-end latency percentiles per model (lower is better)".to_string()
            }
            BarKind::Findings => {
                "Correctness findings per model (lower is better; 0 is correct)".to_string()
            }
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let values: Vec<Vec<f64>> = self.series.iter().map(|s| self.values(s)).collect();
        let default_lo = match self.kind {
            BarKind::Percentiles => -1,
            BarKind::Findings => 0,
        };
        let mut axis = LogAxis::fit(values.iter().flatten().copied(), default_lo);
        if let BarKind::Findings = self.kind {
            // Counts start at 1, and 0 has no bar.
            axis.lo = 0;
            axis.hi = axis.hi.max(1);
        }
        // The floor sits a little below the lowest tick, so a bar at the lowest tick (a count of
        // 1) still shows.
        let floor = f64::from(axis.lo) - 0.3;
        // Head room for the value labels above the tallest bar.
        let y_top = f64::from(axis.hi) + 0.25;
        let n = self.series.len().max(1);
        let labels: Vec<String> = self.series.iter().map(|s| s.label.clone()).collect();
        let ticks = (0..n).map(|i| i as f64 + 0.5).collect();
        let y_ticks = (axis.lo..=axis.hi).map(f64::from).collect();
        let mut chart = ChartBuilder::on(root)
            .caption(self.title(), (FONT, 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(78)
            .build_cartesian_2d(
                Ticked::new(0.0..n as f64, ticks),
                Ticked::new(floor..y_top, y_ticks),
            )?;
        let kind = self.kind;
        let mut mesh = chart.configure_mesh();
        house_style(&mut mesh);
        mesh.disable_x_mesh()
            .y_desc(match kind {
                BarKind::Percentiles => "latency (log scale)",
                BarKind::Findings => "events (log scale)",
            })
            .x_label_formatter(&|x| labels.get(x.floor() as usize).cloned().unwrap_or_default())
            .y_label_formatter(&|v| match kind {
                BarKind::Percentiles => ms_tick(*v),
                BarKind::Findings => count_tick(*v),
            })
            .draw()?;
        draw_minor_lines(&mut chart, &axis.minor_lines())?;
        let names = self.names();
        let width = 0.8 / names.len() as f64;
        let label_style =
            TextStyle::from((FONT, 11).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
        for (j, name) in names.iter().enumerate() {
            let c = PALETTE[j % PALETTE.len()];
            let bars = values.iter().enumerate().map(|(i, v)| {
                let x0 = i as f64 + 0.1 + width * j as f64;
                let top = if v[j] > 0.0 { axis.at(v[j]).max(floor) } else { floor };
                Rectangle::new([(x0, floor), (x0 + width * 0.92, top)], c.filled())
            });
            chart
                .draw_series(bars)?
                .label(*name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
            let texts = values.iter().enumerate().map(|(i, v)| {
                let x = i as f64 + 0.1 + width * (j as f64 + 0.46);
                let top = if v[j] > 0.0 { axis.at(v[j]).max(floor) } else { floor };
                Text::new(self.value_label(v[j]), (x, top), label_style.clone())
            });
            chart.draw_series(texts)?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}
