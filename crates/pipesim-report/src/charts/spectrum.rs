//! The percentile spectrum (HdrHistogram's plot): latency against 1/(1−p) on a log axis, so
//! the tail gets as much room as the median, every model overlaid.

use super::axes::{LogAxis, Ticked, draw_legend, draw_minor_lines, house_style, ms_tick, ms_value};
use super::{ChartError, FONT, Figure, colour};
use pipesim_metrics::LatencyHistogram;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One latency metric's spectrum across models.
pub(crate) struct Spectrum {
    /// "end-to-end", "acknowledgement", "read".
    pub metric: &'static str,
    /// (series label, histogram) in legend order.
    pub series: Vec<(String, LatencyHistogram)>,
}

/// The label of x = log10(1/(1−p)): 1 → "90%", 3 → "99.9%".
fn percentile_tick(x: f64) -> String {
    let d = x.round() as i32;
    if d <= 0 {
        return "0%".to_string();
    }
    let p = 100.0 - 100.0 / 10f64.powi(d);
    format!("{:.*}%", (d - 2).max(0) as usize, p)
}

/// The points of `h`'s spectrum in (log10 1/(1−p), value ms), as HdrHistogram's percentile
/// output lists them (5 steps per halving of the distance to 100 %), capped at `x_max`.
fn points(h: &LatencyHistogram, x_max: f64) -> Vec<(f64, f64)> {
    let inner = h.inner();
    let mut out = Vec::new();
    if inner.is_empty() {
        return out;
    }
    for v in inner.iter_quantiles(5) {
        let q = v.quantile_iterated_to();
        let x = if q >= 1.0 { x_max } else { (1.0 / (1.0 - q)).log10().min(x_max) };
        let ms = inner.highest_equivalent(v.value_iterated_to()) as f64 / 1e6;
        out.push((x, ms));
        if x >= x_max {
            break;
        }
    }
    out
}

impl Spectrum {
    /// Decades of the x axis: as far into the tail as the largest sample count supports
    /// (a 99.99 % point needs ten thousand samples), at least 99.9 % and at most 99.9999 %.
    fn decades(&self) -> i32 {
        let n = self.series.iter().map(|(_, h)| h.count()).max().unwrap_or(0).max(1);
        ((n as f64).log10().floor() as i32).clamp(3, 6)
    }
}

impl Figure for Spectrum {
    fn size(&self) -> (u32, u32) {
        (960, 500)
    }

    fn title(&self) -> String {
        format!("{} latency by percentile, all models (lower is better)", self.metric)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let x_max = f64::from(self.decades());
        let all: Vec<Vec<(f64, f64)>> = self.series.iter().map(|(_, h)| points(h, x_max)).collect();
        let axis = LogAxis::fit(all.iter().flatten().map(|p| p.1), -1);
        let ticks = (0..=self.decades()).map(f64::from).collect();
        let mut chart = ChartBuilder::on(root)
            .caption(self.title(), (FONT, 18))
            .margin(12)
            .margin_right(36)
            .x_label_area_size(42)
            .y_label_area_size(78)
            .build_cartesian_2d(Ticked::new(0.0..x_max, ticks), axis.coord())?;
        let mut mesh = chart.configure_mesh();
        house_style(&mut mesh);
        mesh.x_desc("percentile (log scale of 1/(1−p): each step is ten times rarer)")
            .y_desc("latency (log scale)")
            .x_label_formatter(&|x| percentile_tick(*x))
            .y_label_formatter(&|v| ms_tick(*v))
            .draw()?;
        draw_minor_lines(&mut chart, &axis.minor_lines())?;
        for (i, ((label, h), pts)) in self.series.iter().zip(&all).enumerate() {
            if pts.is_empty() {
                continue;
            }
            let style = colour(i).stroke_width(2);
            let p99 = h.quantile_ns(0.99) as f64 / 1e6;
            let text = format!("{label} (p99 {})", ms_value(p99));
            chart
                .draw_series(LineSeries::new(pts.iter().map(|&(x, ms)| (x, axis.at(ms))), style))?
                .label(text)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_name_the_percentiles() {
        assert_eq!(percentile_tick(0.0), "0%");
        assert_eq!(percentile_tick(1.0), "90%");
        assert_eq!(percentile_tick(2.0), "99%");
        assert_eq!(percentile_tick(3.0), "99.9%");
        assert_eq!(percentile_tick(4.0), "99.99%");
    }

    #[test]
    fn points_climb_to_the_max() {
        let mut h = LatencyHistogram::new();
        for v in 1..=10_000u64 {
            h.record(v * 1_000);
        }
        let pts = points(&h, 4.0);
        assert!(pts.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1), "monotone");
        let last = pts.last().unwrap();
        assert_eq!(last.0, 4.0);
        assert!((last.1 - 10.0).abs() < 0.02, "{last:?}");
        let near_p90 = pts.iter().find(|p| p.0 >= 1.0).unwrap();
        assert!((near_p90.1 - 9.0).abs() < 0.1, "{near_p90:?}");
    }
}
