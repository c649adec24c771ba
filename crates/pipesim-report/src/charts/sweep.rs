//! p99 against load (or any swept parameter): one line per model, the mean across seeds with
//! its 95 % confidence interval as error bars. The knee of this curve is what capacity planning
//! looks for.

use super::axes::{LogAxis, draw_legend, draw_minor_lines, house_style, ms_tick, si};
use super::{Chart, ChartError, ChartFormat, FONT, Figure, colour, render};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One point of a line: x, the mean, and the interval's ends (equal to the mean with one seed).
pub type SweepPointXY = (f64, f64, f64, f64);

/// The chart's data.
pub struct SweepChart {
    /// What x is ("workload.rate (events/s)").
    pub x_label: String,
    /// The metric on y, in words ("end-to-end p99").
    pub y_label: String,
    /// Each line: its label and points in x order.
    pub series: Vec<(String, Vec<SweepPointXY>)>,
}

impl Figure for SweepChart {
    fn size(&self) -> (u32, u32) {
        (960, 500)
    }

    fn title(&self) -> String {
        format!(
            "{} against {} (mean of seeds, 95 % interval; lower is better)",
            self.y_label, self.x_label
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let all = self.series.iter().flat_map(|(_, p)| p.iter());
        let axis = LogAxis::fit(all.clone().flat_map(|p| [p.1, p.2, p.3]), -1);
        let (xmin, xmax) =
            all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
        let (xmin, xmax) = if xmin.is_finite() && xmax > xmin { (xmin, xmax) } else { (0.0, 1.0) };
        let pad = (xmax - xmin) * 0.04;
        let mut chart = ChartBuilder::on(root)
            .caption(self.title(), (FONT, 17))
            .margin(12)
            .margin_right(30)
            .x_label_area_size(42)
            .y_label_area_size(78)
            .build_cartesian_2d(xmin - pad..xmax + pad, axis.coord())?;
        let mut mesh = chart.configure_mesh();
        house_style(&mut mesh);
        mesh.x_desc(self.x_label.as_str())
            .y_desc(format!("{} (log scale)", self.y_label))
            .x_label_formatter(&|x| si(*x))
            .y_label_formatter(&|v| ms_tick(*v))
            .draw()?;
        draw_minor_lines(&mut chart, &axis.minor_lines())?;
        for (i, (label, pts)) in self.series.iter().enumerate() {
            let style = colour(i).stroke_width(2);
            chart
                .draw_series(LineSeries::new(pts.iter().map(|p| (p.0, axis.at(p.1))), style))?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            chart.draw_series(
                pts.iter().map(|p| Circle::new((p.0, axis.at(p.1)), 3, colour(i).filled())),
            )?;
            chart.draw_series(pts.iter().filter(|p| p.3 > p.2).map(|p| {
                PathElement::new(
                    vec![(p.0, axis.at(p.2)), (p.0, axis.at(p.3))],
                    colour(i).stroke_width(1),
                )
            }))?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

/// Renders the chart under `stem`.
pub fn sweep_chart(
    data: &SweepChart,
    stem: &str,
    format: ChartFormat,
) -> Result<Chart, ChartError> {
    render(data, stem.to_string(), format)
}
