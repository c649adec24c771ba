//! What several charts share: log axes with decade ticks, tick labels with units, shaded
//! fault and warmup bands, the legend's look.

use super::{ChartError, FONT};
use crate::view::{FaultView, ModelView};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::ops::Range;

/// A linear f64 axis whose ticks are exactly `ticks` (plotters' own `WithKeyPoints` over f64
/// cannot take a label formatter, hence this small coordinate type).
#[derive(Clone)]
pub(crate) struct Ticked {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    pub(crate) fn new(range: Range<f64>, ticks: Vec<f64>) -> Self {
        Self { inner: range.into(), ticks }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // No light (minor) points: the charts draw their own minor lines where they help.
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}

/// A base-10 log axis drawn on a linear coordinate of log10(value): whole decades from `lo` to
/// `hi`, so the ticks fall exactly on 1, 10, 100, … and carry their own labels.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LogAxis {
    pub lo: i32,
    pub hi: i32,
}

impl LogAxis {
    /// The decades that hold every positive value of `values` (values ≤ 0 are ignored); one
    /// decade from `default_lo` when there are none.
    pub(crate) fn fit(values: impl IntoIterator<Item = f64>, default_lo: i32) -> Self {
        let (mut min, mut max) = (f64::INFINITY, 0.0f64);
        for v in values.into_iter().filter(|v| *v > 0.0 && v.is_finite()) {
            min = min.min(v);
            max = max.max(v);
        }
        if max == 0.0 {
            return Self { lo: default_lo, hi: default_lo + 1 };
        }
        let lo = min.log10().floor() as i32;
        let mut hi = max.log10().ceil() as i32;
        if hi <= lo {
            hi = lo + 1;
        }
        Self { lo, hi }
    }

    /// The coordinate range, with a tick per decade.
    pub(crate) fn coord(&self) -> Ticked {
        let ticks = (self.lo..=self.hi).map(f64::from).collect();
        Ticked::new(f64::from(self.lo)..f64::from(self.hi), ticks)
    }

    /// Where `v` goes (values below the axis sit on its floor).
    pub(crate) fn at(&self, v: f64) -> f64 {
        if v > 0.0 {
            v.log10().clamp(f64::from(self.lo), f64::from(self.hi))
        } else {
            f64::from(self.lo)
        }
    }

    /// Light lines at 2…9 × each decade, so values between ticks can be read.
    pub(crate) fn minor_lines(&self) -> Vec<f64> {
        (self.lo..self.hi)
            .flat_map(|d| (2..=9).map(move |k| f64::from(d) + f64::from(k).log10()))
            .collect()
    }
}

/// A tick label for 10^`exp` milliseconds, in the unit that reads best ("100 µs", "10 s").
pub(crate) fn ms_tick(exp: f64) -> String {
    let e = exp.round() as i32;
    let (unit, shift) = match e {
        i32::MIN..=-7 => ("ns", 6),
        -6..=-4 => ("ns", 6),
        -3..=-1 => ("µs", 3),
        0..=2 => ("ms", 0),
        _ => ("s", -3),
    };
    let v = 10f64.powi(e + shift);
    format!("{} {unit}", trim_float(v))
}

/// A tick label for 10^`exp` events: "1", "10", "1k", "10M".
pub(crate) fn count_tick(exp: f64) -> String {
    let e = exp.round() as i32;
    match e {
        i32::MIN..=-1 => trim_float(10f64.powi(e)),
        0..=2 => format!("{}", 10u64.pow(e as u32)),
        3..=5 => format!("{}k", 10u64.pow(e as u32 - 3)),
        6..=8 => format!("{}M", 10u64.pow(e as u32 - 6)),
        _ => format!("{}G", 10u64.pow((e - 9).min(18) as u32)),
    }
}

/// A rate or count label on a linear axis: "950k", "1.2M".
pub(crate) fn si(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{}G", trim_float(round_sig(v / 1e9)))
    } else if a >= 1e6 {
        format!("{}M", trim_float(round_sig(v / 1e6)))
    } else if a >= 1e3 {
        format!("{}k", trim_float(round_sig(v / 1e3)))
    } else {
        trim_float(round_sig(v))
    }
}

/// A latency in milliseconds, as bars' value labels show it.
pub(crate) fn ms_value(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{} s", trim_float(round_sig(ms / 1000.0)))
    } else if ms >= 1.0 {
        format!("{} ms", trim_float(round_sig(ms)))
    } else {
        format!("{} µs", trim_float(round_sig(ms * 1000.0)))
    }
}

/// Three significant digits.
fn round_sig(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let digits = 3 - (v.abs().log10().floor() as i32 + 1);
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// A float without trailing zeros ("0.1", "10", "2.5").
fn trim_float(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_string() } else { s.to_string() }
}

/// A shaded interval of simulated time with a label: a fault window, or the warmup.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Band {
    pub start_s: f64,
    pub end_s: f64,
    pub label: String,
    pub colour: RGBColor,
}

/// The warmup band (if any) and each distinct fault window of `models`, in start order.
pub(crate) fn bands<'a>(
    models: impl IntoIterator<Item = &'a ModelView>,
    warmup_s: f64,
) -> Vec<Band> {
    let mut faults: Vec<&FaultView> = Vec::new();
    for m in models {
        for f in &m.faults {
            let same = |g: &&FaultView| {
                g.kind == f.kind
                    && g.target == f.target
                    && g.start_s == f.start_s
                    && g.end_s == f.end_s
            };
            if !faults.iter().any(same) {
                faults.push(f);
            }
        }
    }
    // Stable: windows with equal starts keep their report order.
    faults.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let mut out = Vec::new();
    if warmup_s > 0.0 {
        out.push(Band {
            start_s: 0.0,
            end_s: warmup_s,
            label: "warmup (not counted)".to_string(),
            colour: RGBColor(0x90, 0x90, 0x90),
        });
    }
    out.extend(faults.into_iter().map(|f| Band {
        start_s: f.start_s,
        end_s: f.end_s,
        label: format!("{} {}", f.kind.replace('_', " "), f.target),
        colour: fault_colour(&f.kind),
    }));
    out
}

/// One colour per fault family, so a crash and a partition look different in every chart.
fn fault_colour(kind: &str) -> RGBColor {
    match kind {
        "crash" | "rolling_restart" => RGBColor(0xd6, 0x27, 0x28),
        "partition" | "packet_loss" | "latency_spike" => RGBColor(0x94, 0x67, 0xbd),
        "disk_stall" | "pause" => RGBColor(0x8c, 0x56, 0x4b),
        _ => RGBColor(0xe3, 0x77, 0xc2),
    }
}

/// Where a band's label goes: at the foot of the band (latency charts: during a fault the lines
/// are high), at its top (throughput: during a fault the lines are low), or nowhere.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum LabelAt {
    Foot,
    Top,
    None,
}

/// Draws `bands` across the full height `y` of a chart whose x is seconds, labels staggered
/// over three rows so neighbouring windows stay readable.
pub(crate) fn draw_bands<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    bands: &[Band],
    y: (f64, f64),
    labels: LabelAt,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let x_range = chart.x_range();
    for (i, b) in bands.iter().enumerate() {
        let (start, end) = (b.start_s.max(x_range.start), b.end_s.min(x_range.end));
        if end <= start {
            continue;
        }
        chart.draw_series(std::iter::once(Rectangle::new(
            [(start, y.0), (end, y.1)],
            b.colour.mix(0.14).filled(),
        )))?;
        let row = (i % 3) as f64;
        let at_y = match labels {
            LabelAt::Foot => y.0 + (y.1 - y.0) * (0.09 + 0.055 * row),
            LabelAt::Top => y.1 - (y.1 - y.0) * (0.03 + 0.07 * row),
            LabelAt::None => continue,
        };
        chart.draw_series(std::iter::once(Text::new(
            b.label.clone(),
            (start, at_y),
            (FONT, 12).into_font().color(&b.colour.mix(0.95)),
        )))?;
    }
    Ok(())
}

/// The mesh style every chart shares: the charts' font, no minor grid, a faint major grid.
pub(crate) fn house_style<X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &mut plotters::chart::MeshStyle<'_, '_, X, Y, DB>,
) {
    mesh.label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(0, 0, 0).mix(0.12));
}

/// Draws light horizontal lines at `ys` across the chart.
pub(crate) fn draw_minor_lines<DB: DrawingBackend, X: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Ticked>>,
    ys: &[f64],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let x = chart.x_range();
    let style = RGBColor(0, 0, 0).mix(0.05);
    chart.draw_series(
        ys.iter().map(|y| PathElement::new(vec![(x.start, *y), (x.end, *y)], style)),
    )?;
    Ok(())
}

/// Draws the series legend in the upper right corner, in the charts' font.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xbb, 0xbb, 0xbb))
        .label_font((FONT, 13))
        .draw()?;
    Ok(())
}

/// The x extent of a timeline, in seconds: through the last window in which an event arrived or
/// became visible. (Not the backlog: lost events stay in it until the run ends, and would
/// stretch every chart over an idle drain.)
pub(crate) fn timeline_end_s<'a>(
    models: impl IntoIterator<Item = &'a ModelView>,
    window_s: f64,
) -> f64 {
    let mut end: f64 = 0.0;
    for m in models {
        if let Some(last) = m.timeline.iter().rposition(|w| w.offered > 0 || w.delivered > 0) {
            end = end.max(m.timeline[last].t_s + window_s);
        }
    }
    if end > 0.0 { end } else { window_s.max(1.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_carry_units() {
        assert_eq!(ms_tick(-3.0), "1 µs");
        assert_eq!(ms_tick(-1.0), "100 µs");
        assert_eq!(ms_tick(0.0), "1 ms");
        assert_eq!(ms_tick(2.0), "100 ms");
        assert_eq!(ms_tick(3.0), "1 s");
        assert_eq!(ms_tick(4.0), "10 s");
        assert_eq!(ms_tick(-5.0), "10 ns");
        assert_eq!(count_tick(0.0), "1");
        assert_eq!(count_tick(4.0), "10k");
        assert_eq!(count_tick(6.0), "1M");
        assert_eq!(si(1_200_000.0), "1.2M");
        assert_eq!(si(299_871.0), "300k");
        assert_eq!(ms_value(0.552), "552 µs");
        assert_eq!(ms_value(6208.0), "6.21 s");
    }

    #[test]
    fn log_axis_covers_values_in_whole_decades() {
        let a = LogAxis::fit([0.3, 45.0, 0.0], 0);
        assert_eq!((a.lo, a.hi), (-1, 2));
        assert_eq!(a.at(0.0), -1.0);
        assert_eq!(a.at(1e9), 2.0);
        let one = LogAxis::fit([10.0], 0);
        assert_eq!((one.lo, one.hi), (1, 2));
        let none = LogAxis::fit([], -1);
        assert_eq!((none.lo, none.hi), (-1, 0));
        assert_eq!(a.minor_lines().len(), 24);
    }
}
