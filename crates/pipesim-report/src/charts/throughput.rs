//! Throughput and backlog over time: what each model delivered per second against what was
//! offered, and how many events were waiting, with the fault windows shaded.

use super::axes::{Band, LabelAt, draw_bands, draw_legend, house_style, si};
use super::envelope::envelope;
use super::set::Series;
use super::{ChartError, FONT, Figure, colour};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Delivered and offered per second (top) and backlog (bottom), every model.
pub(crate) struct ThroughputOverTime<'a> {
    pub series: Vec<Series<'a>>,
    pub window_s: f64,
    pub end_s: f64,
    pub bands: Vec<Band>,
}

/// A linear axis from 0 with a little headroom.
fn linear_top(max: f64) -> f64 {
    if max > 0.0 { max * 1.08 } else { 1.0 }
}

impl ThroughputOverTime<'_> {
    fn per_s(&self, n: u64) -> f64 {
        n as f64 / self.window_s
    }
}

impl Figure for ThroughputOverTime<'_> {
    fn size(&self) -> (u32, u32) {
        (960, 620)
    }

    fn title(&self) -> String {
        "Throughput (higher is better, up to the offered load) and backlog (lower is better)"
            .to_string()
    }

    #[expect(clippy::too_many_lines, reason = "over the 70-line budget (clippy.toml); to be split")]
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let area = root.titled(&self.title(), (FONT, 18))?;
        let (upper, lower) = area.split_vertically(330);
        let in_range = |t: f64| t < self.end_s;

        // Top: delivered per second per model, and the offered load (the same arrivals for all).
        let max_rate = self
            .series
            .iter()
            .flat_map(|s| {
                s.model
                    .timeline
                    .iter()
                    .filter(|w| in_range(w.t_s))
                    .map(|w| self.per_s(w.delivered.max(w.offered)))
            })
            .fold(0.0, f64::max);
        let top = linear_top(max_rate);
        let mut chart = ChartBuilder::on(&upper)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(78)
            .build_cartesian_2d(0.0..self.end_s, 0.0..top)?;
        let mut mesh = chart.configure_mesh();
        house_style(&mut mesh);
        mesh.y_desc("events per second")
            .y_label_formatter(&|v| si(*v))
            .x_label_formatter(&|v| format!("{v}"))
            .draw()?;
        draw_bands(&mut chart, &self.bands, (0.0, top), LabelAt::Top)?;
        let columns = chart.plotting_area().dim_in_pixel().0;
        let thin = |pts: Vec<(f64, f64)>| envelope(pts, self.end_s, columns);
        // Offered last, dashed, so it shows on top of models that keep up with it.
        for (i, s) in self.series.iter().enumerate() {
            let style = colour(i).stroke_width(2);
            let pts: Vec<(f64, f64)> = s
                .model
                .timeline
                .iter()
                .filter(|w| in_range(w.t_s))
                .map(|w| (w.t_s + self.window_s / 2.0, self.per_s(w.delivered)))
                .collect();
            chart
                .draw_series(LineSeries::new(thin(pts), style))?
                .label(format!("{} delivered", s.label))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        }
        if let Some(first) = self.series.first() {
            let style = BLACK.mix(0.7).stroke_width(1);
            let pts: Vec<(f64, f64)> = first
                .model
                .timeline
                .iter()
                .filter(|w| in_range(w.t_s))
                .map(|w| (w.t_s + self.window_s / 2.0, self.per_s(w.offered)))
                .collect();
            chart
                .draw_series(DashedLineSeries::new(thin(pts), 6, 4, style))?
                .label("offered")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;

        // Bottom: backlog (created, neither visible nor dropped) at each window's end.
        let max_backlog = self
            .series
            .iter()
            .flat_map(|s| {
                s.model.timeline.iter().filter(|w| in_range(w.t_s)).map(|w| w.backlog as f64)
            })
            .fold(0.0, f64::max);
        let top = linear_top(max_backlog);
        let mut chart = ChartBuilder::on(&lower)
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(78)
            .build_cartesian_2d(0.0..self.end_s, 0.0..top)?;
        let mut mesh = chart.configure_mesh();
        house_style(&mut mesh);
        mesh.x_desc("simulated time (s)")
            .y_desc("backlog (events)")
            .y_label_formatter(&|v| si(*v))
            .x_label_formatter(&|v| format!("{v}"))
            .draw()?;
        draw_bands(&mut chart, &self.bands, (0.0, top), LabelAt::None)?;
        let columns = chart.plotting_area().dim_in_pixel().0;
        for (i, s) in self.series.iter().enumerate() {
            let style = colour(i).stroke_width(2);
            let pts: Vec<(f64, f64)> = s
                .model
                .timeline
                .iter()
                .filter(|w| in_range(w.t_s))
                .map(|w| (w.t_s + self.window_s, w.backlog as f64))
                .collect();
            chart.draw_series(LineSeries::new(envelope(pts, self.end_s, columns), style))?;
        }
        Ok(())
    }
}
