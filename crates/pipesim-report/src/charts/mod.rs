//! Charts, drawn with plotters from a report.json ([`ReportView`](crate::ReportView)).
//!
//! Text is laid out with a font compiled into the binary (DejaVu Sans, through plotters'
//! `ab_glyph` feature), never a system font, so an SVG or PNG is the same bytes on every machine.
//! Each chart is a [`Figure`]: one drawing routine, rendered to SVG (default) or PNG.

mod axes;
mod bars;
mod envelope;
mod latency_time;
mod set;
mod spectrum;
mod sweep;
mod throughput;

pub use set::{ChartSet, compare_charts, run_charts};
pub use sweep::{SweepChart, SweepPointXY, sweep_chart};

use plotters::coord::Shift;
use plotters::prelude::*;
use std::fmt;

/// The file format of charts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ChartFormat {
    /// Scalable vector graphics (the default; inlined in index.html).
    #[default]
    Svg,
    /// PNG bitmaps (embedded in index.html as data URIs).
    Png,
}

impl ChartFormat {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Svg => "svg",
            Self::Png => "png",
        }
    }
}

/// One rendered chart.
#[derive(Clone, Debug)]
pub struct Chart {
    /// File name without extension (`spectrum_e2e`, `latency_0_postgres`).
    pub stem: String,
    /// What it shows, for the page's headings and alt text.
    pub title: String,
    /// The file's bytes (SVG text or PNG).
    pub bytes: Vec<u8>,
    /// Its format.
    pub format: ChartFormat,
}

/// A chart that could not be drawn (a bug or an impossible layout: never bad input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartError(pub String);

impl fmt::Display for ChartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot draw a chart: {}", self.0)
    }
}

impl std::error::Error for ChartError {}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for ChartError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        ChartError(e.to_string())
    }
}

/// A chart's drawing routine, independent of the backend.
pub(crate) trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// The title (also the page's heading for it).
    fn title(&self) -> String;
    /// Draws the whole chart on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError>
    where
        DB::ErrorType: 'static;
}

/// The font family every chart uses; registered once from the bundled file.
pub(crate) const FONT: &str = "sans-serif";

static FONT_BYTES: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

fn register_font() -> Result<(), ChartError> {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, FONT_BYTES).is_ok()
    });
    if ok { Ok(()) } else { Err(ChartError("the bundled font does not load".to_string())) }
}

/// Renders `fig` in `format`.
pub(crate) fn render(
    fig: &impl Figure,
    stem: String,
    format: ChartFormat,
) -> Result<Chart, ChartError> {
    register_font()?;
    let size = fig.size();
    let bytes = match format {
        ChartFormat::Svg => {
            let mut text = String::new();
            {
                let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
                fig.draw(&root)?;
                root.present()?;
            }
            text.push('\n');
            text.into_bytes()
        }
        ChartFormat::Png => {
            let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                fig.draw(&root)?;
                root.present()?;
            }
            encode_png(&rgb, size)?
        }
    };
    Ok(Chart { stem, title: fig.title(), bytes, format })
}

/// RGB pixels as a PNG file (the png crate's output is a pure function of its input).
fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| ChartError(e.to_string()))?;
    writer.write_image_data(rgb).map_err(|e| ChartError(e.to_string()))?;
    writer.finish().map_err(|e| ChartError(e.to_string()))?;
    Ok(out)
}

/// Series colours (Tableau 10: distinguishable, and readable by most colour-blind readers).
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xba, 0xb0, 0xac),
];

/// The colour of series `i`.
pub(crate) fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A file-name-safe form of a model or scenario name.
pub fn file_stem(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    if s.is_empty() { "_".to_string() } else { s }
}
