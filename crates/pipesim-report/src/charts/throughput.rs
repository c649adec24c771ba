//! Throughput and backlog over time: what each model delivered per second against what was
//! offered, and how many events were waiting, with the fault windows shaded.

use super::axes::{Band, LabelAt, draw_bands, draw_legend, house_style, si};
use super::envelope::envelope;
use super::set::Series;
use super::{ChartError, FONT, Figure, colour};
use crate::view::WindowView;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
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

/// One of the figure's two panels: a linear y axis from 0 over the chart's time range.
struct Panel<'a> {
    /// Height of the area below the plot for the x tick labels and caption.
    x_label_area_px: u32,
    /// The x axis caption (only the bottom panel has one).
    x_desc: Option<&'a str>,
    y_desc: &'a str,
    /// The top of the y axis.
    top: f64,
    /// Where the fault bands' labels go.
    band_labels: LabelAt,
}

impl ThroughputOverTime<'_> {
    fn per_s(&self, n: u64) -> f64 {
        n as f64 / self.window_s
    }

    /// A model's timeline windows that start before the chart's end.
    fn windows<'s>(&self, s: &'s Series<'_>) -> impl Iterator<Item = &'s WindowView> {
        let end_s = self.end_s;
        s.model.timeline.iter().filter(move |w| w.t_s < end_s)
    }

    /// The largest `value` of any model's window before the chart's end (0 with none).
    fn max_of(&self, value: impl Fn(&WindowView) -> f64) -> f64 {
        self.series.iter().flat_map(|s| self.windows(s).map(&value)).fold(0.0, f64::max)
    }

    /// A panel's chart on `area`: axes in the house style and the fault bands.
    fn frame<'a, DB: DrawingBackend>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
        panel: &Panel<'_>,
    ) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, ChartError>
    where
        DB::ErrorType: 'static,
    {
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(panel.x_label_area_px)
            .y_label_area_size(78)
            .build_cartesian_2d(0.0..self.end_s, 0.0..panel.top)?;
        let mut mesh = chart.configure_mesh();
        house_style(&mut mesh);
        if let Some(x_desc) = panel.x_desc {
            mesh.x_desc(x_desc);
        }
        mesh.y_desc(panel.y_desc)
            .y_label_formatter(&|v| si(*v))
            .x_label_formatter(&|v| format!("{v}"))
            .draw()?;
        draw_bands(&mut chart, &self.bands, (0.0, panel.top), panel.band_labels)?;
        Ok(chart)
    }

    /// Top: delivered per second per model, and the offered load (the same arrivals for all).
    fn draw_rates<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), ChartError>
    where
        DB::ErrorType: 'static,
    {
        let max_rate_per_s = self.max_of(|w| self.per_s(w.delivered.max(w.offered)));
        let panel = Panel {
            x_label_area_px: 30,
            x_desc: None,
            y_desc: "events per second",
            top: linear_top(max_rate_per_s),
            band_labels: LabelAt::Top,
        };
        let mut chart = self.frame(area, &panel)?;
        let columns = chart.plotting_area().dim_in_pixel().0;
        let thin = |pts: Vec<(f64, f64)>| envelope(pts, self.end_s, columns);
        // Offered last, dashed, so it shows on top of models that keep up with it.
        for (i, s) in self.series.iter().enumerate() {
            let style = colour(i).stroke_width(2);
            let pts: Vec<(f64, f64)> = self
                .windows(s)
                .map(|w| (w.t_s + self.window_s / 2.0, self.per_s(w.delivered)))
                .collect();
            chart
                .draw_series(LineSeries::new(thin(pts), style))?
                .label(format!("{} delivered", s.label))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        }
        if let Some(first) = self.series.first() {
            let style = BLACK.mix(0.7).stroke_width(1);
            let pts: Vec<(f64, f64)> = self
                .windows(first)
                .map(|w| (w.t_s + self.window_s / 2.0, self.per_s(w.offered)))
                .collect();
            chart
                .draw_series(DashedLineSeries::new(thin(pts), 6, 4, style))?
                .label("offered")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
    }

    /// Bottom: backlog (created, neither visible nor dropped) at each window's end.
    fn draw_backlog<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), ChartError>
    where
        DB::ErrorType: 'static,
    {
        let max_backlog = self.max_of(|w| w.backlog as f64);
        let panel = Panel {
            x_label_area_px: 42,
            x_desc: Some("simulated time (s)"),
            y_desc: "backlog (events)",
            top: linear_top(max_backlog),
            band_labels: LabelAt::None,
        };
        let mut chart = self.frame(area, &panel)?;
        let columns = chart.plotting_area().dim_in_pixel().0;
        for (i, s) in self.series.iter().enumerate() {
            let style = colour(i).stroke_width(2);
            let pts: Vec<(f64, f64)> =
                self.windows(s).map(|w| (w.t_s + self.window_s, w.backlog as f64)).collect();
            chart.draw_series(LineSeries::new(envelope(pts, self.end_s, columns), style))?;
        }
        Ok(())
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

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let area = root.titled(&self.title(), (FONT, 18))?;
        let (upper, lower) = area.split_vertically(330);
        self.draw_rates(&upper)?;
        self.draw_backlog(&lower)
    }
}
