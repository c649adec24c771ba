//! Latency over time: one model's p50, p99 and max per window, or every model's p99 overlaid,
//! with fault windows shaded and labelled (Jepsen's nemesis bands).

use super::axes::{
    Band, LabelAt, LogAxis, Ticked, draw_bands, draw_legend, draw_minor_lines, house_style, ms_tick,
};
use super::envelope::envelope;
use super::set::Series;
use super::{ChartError, FONT, Figure, colour};
use crate::view::WindowView;
use plotters::coord::Shift;
use plotters::prelude::*;

/// A line of the per-model chart: name, the window's value, colour, width.
type Line = (&'static str, fn(&WindowView) -> f64, RGBColor, u32);

/// One model's latency percentiles per window.
pub(crate) struct LatencyOverTime<'a> {
    pub series: Series<'a>,
    pub window_s: f64,
    pub end_s: f64,
    pub bands: Vec<Band>,
}

/// Every model's p99 per window on one chart.
pub(crate) struct P99OverTime<'a> {
    pub series: Vec<Series<'a>>,
    pub window_s: f64,
    pub end_s: f64,
    pub bands: Vec<Band>,
}

/// Runs of consecutive windows that had events, as (mid-window time, value) points: a window
/// where nothing was created has no latency, and the line breaks there instead of dropping to 0.
fn runs(
    rows: &[WindowView],
    window_s: f64,
    end_s: f64,
    value: impl Fn(&WindowView) -> f64,
) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for w in rows.iter().filter(|w| w.t_s < end_s) {
        if w.max_ms > 0.0 {
            current.push((w.t_s + window_s / 2.0, value(w)));
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn window_words(window_s: f64) -> String {
    if window_s == 1.0 { "each second".to_string() } else { format!("each {window_s} s window") }
}

/// The shared frame: white page, caption, x in seconds, y a log latency axis, minor lines and
/// bands. Returns the chart for the series to be drawn on.
fn frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    caption: &str,
    y_desc: &str,
    end_s: f64,
    axis: LogAxis,
    bands: &[Band],
) -> Result<
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Ticked>>,
    ChartError,
>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FONT, 18))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(78)
        .build_cartesian_2d(0.0..end_s, axis.coord())?;
    let mut mesh = chart.configure_mesh();
    house_style(&mut mesh);
    mesh.x_desc("simulated time (s)")
        .y_desc(y_desc)
        .y_label_formatter(&|v| ms_tick(*v))
        .x_label_formatter(&|v| format!("{v}"))
        .draw()?;
    draw_minor_lines(&mut chart, &axis.minor_lines())?;
    draw_bands(&mut chart, bands, (f64::from(axis.lo), f64::from(axis.hi)), LabelAt::Foot)?;
    Ok(chart)
}

impl Figure for LatencyOverTime<'_> {
    fn size(&self) -> (u32, u32) {
        (960, 440)
    }

    fn title(&self) -> String {
        format!(
            "{}: end-to-end latency of the events created in {} (lower is better)",
            self.series.label,
            window_words(self.window_s)
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError>
    where
        DB::ErrorType: 'static,
    {
        let rows = &self.series.model.timeline;
        let axis = LogAxis::fit(rows.iter().flat_map(|w| [w.p50_ms, w.max_ms]), -1);
        let mut chart =
            frame(root, &self.title(), "latency (log scale)", self.end_s, axis, &self.bands)?;
        let columns = chart.plotting_area().dim_in_pixel().0;
        let lines: [Line; 3] = [
            ("max", |w| w.max_ms, RGBColor(0xe1, 0x57, 0x59), 1),
            ("p99", |w| w.p99_ms, RGBColor(0xf2, 0x8e, 0x2b), 2),
            ("p50", |w| w.p50_ms, RGBColor(0x4e, 0x79, 0xa7), 2),
        ];
        for (name, value, c, width) in lines {
            let style = c.stroke_width(width);
            let mut first = true;
            for run in runs(rows, self.window_s, self.end_s, |w| axis.at(value(w))) {
                let run = envelope(run, self.end_s, columns);
                let anno = chart.draw_series(LineSeries::new(run, style))?;
                if first {
                    anno.label(name)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
                    first = false;
                }
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

impl Figure for P99OverTime<'_> {
    fn size(&self) -> (u32, u32) {
        (960, 440)
    }

    fn title(&self) -> String {
        format!(
            "p99 end-to-end latency of the events created in {}, all models (lower is better)",
            window_words(self.window_s)
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError>
    where
        DB::ErrorType: 'static,
    {
        let axis = LogAxis::fit(
            self.series.iter().flat_map(|s| s.model.timeline.iter().map(|w| w.p99_ms)),
            -1,
        );
        let mut chart =
            frame(root, &self.title(), "p99 latency (log scale)", self.end_s, axis, &self.bands)?;
        let columns = chart.plotting_area().dim_in_pixel().0;
        for (i, s) in self.series.iter().enumerate() {
            let style = colour(i).stroke_width(2);
            let mut first = true;
            for run in runs(&s.model.timeline, self.window_s, self.end_s, |w| axis.at(w.p99_ms)) {
                let run = envelope(run, self.end_s, columns);
                let anno = chart.draw_series(LineSeries::new(run, style))?;
                if first {
                    anno.label(s.label.clone())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
                    first = false;
                }
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}
