//! index.html: one self-contained page per run (and per comparison).
//!
//! Everything is inline — charts as SVG elements (or PNG data URIs), the stylesheet, the tables
//! (report.md rendered, so the page and the Markdown can never disagree), the scenario file —
//! and there is no script, font, image or link that loads anything: the page reads the same
//! offline, from a CI artifact or an email attachment. The favicon is an empty data URI so that
//! browsers do not ask the network for one either.

use crate::charts::{Chart, ChartFormat, ChartSet};
use crate::view::ReportView;
use base64::Engine as _;
use pulldown_cmark::{Options, Parser, html};

/// The stylesheet: readable tables, charts that shrink with the window, print-friendly.
const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1100px;padding:1.5rem;color:#1d1d1f;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
code,pre{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:.88rem}
pre{background:#f6f8fa;padding:.8rem;overflow-x:auto;border-radius:4px}
table{border-collapse:collapse;margin:.8rem 0;font-size:.9rem;display:block;overflow-x:auto}
th,td{border:1px solid #d0d7de;padding:.25rem .55rem}th{background:#f6f8fa}
td{font-variant-numeric:tabular-nums}
figure{margin:1.2rem 0;padding:0}figcaption{font-weight:600;margin-bottom:.3rem}
figure svg,figure img{max-width:100%;height:auto;border:1px solid #eee}
nav ul{columns:2;padding-left:1.2rem}.meta{color:#555}
@media print{nav{display:none}figure{break-inside:avoid}}
";

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Markdown (with tables) as HTML. Raw HTML in the input is shown as text, never interpreted:
/// model names and descriptions come from scenario files.
fn markdown_html(md: &str) -> String {
    let events = Parser::new_ext(md, Options::ENABLE_TABLES).map(|e| match e {
        pulldown_cmark::Event::Html(t) | pulldown_cmark::Event::InlineHtml(t) => {
            pulldown_cmark::Event::Text(t)
        }
        e => e,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// report.md split at its `## ` headings: the preamble, then (heading, section) pairs.
fn sections(md: &str) -> (String, Vec<(String, String)>) {
    let mut preamble = String::new();
    let mut out: Vec<(String, String)> = Vec::new();
    for line in md.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            out.push((h.trim().to_string(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        } else if !line.starts_with("# ") {
            preamble.push_str(line);
            preamble.push('\n');
        }
    }
    (preamble, out)
}

/// An id for an anchor: lowercase letters, digits and dashes.
fn anchor(text: &str) -> String {
    let mut id = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_matches('-').to_string()
}

/// A chart as page content: the SVG element itself, or a PNG data URI.
fn chart_element(c: &Chart) -> String {
    match c.format {
        ChartFormat::Svg => {
            let text = String::from_utf8_lossy(&c.bytes);
            // Inline SVG needs no XML prolog.
            let start = text.find("<svg").unwrap_or(0);
            let svg = &text[start..];
            // The title element gives screen readers (and a hover) the chart's words.
            match svg.find('>') {
                Some(i) => format!(
                    "{}<title>{}</title>{}",
                    &svg[..=i],
                    esc(&c.title),
                    svg[i + 1..].trim_end()
                ),
                None => svg.to_string(),
            }
        }
        ChartFormat::Png => format!(
            "<img alt=\"{}\" src=\"data:image/png;base64,{}\">",
            esc(&c.title),
            base64::engine::general_purpose::STANDARD.encode(&c.bytes)
        ),
    }
}

fn figures(charts: &ChartSet) -> String {
    let mut out = String::new();
    for c in &charts.charts {
        out.push_str(&format!(
            "<figure id=\"chart-{}\" class=\"chart\">\n<figcaption>{}</figcaption>\n{}\n</figure>\n",
            esc(&c.stem),
            esc(&c.title),
            chart_element(c)
        ));
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"pipesim {}\">\n\
         <link rel=\"icon\" href=\"data:,\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(title)
    )
}

fn nav(items: &[(String, String)]) -> String {
    let mut out = String::from("<nav><ul>\n");
    for (id, text) in items {
        out.push_str(&format!("<li><a href=\"#{}\">{}</a></li>\n", esc(id), esc(text)));
    }
    out.push_str("</ul></nav>\n");
    out
}

/// The page of one run: header, summary, charts, every other report.md section, the scenario.
/// `scenario_text` is the scenario file as run (its path and text).
pub fn index_html(
    view: &ReportView,
    markdown: &str,
    charts: &ChartSet,
    scenario_text: Option<(&str, &str)>,
) -> String {
    let (preamble, secs) = sections(markdown);
    let mut body = format!("<header>\n<h1>{}</h1>\n", esc(&view.scenario));
    if !view.description.trim().is_empty() {
        body.push_str(&format!("<p>{}</p>\n", esc(view.description.trim())));
    }
    body.push_str(&format!(
        "<p class=\"meta\">Seed <b>{}</b> · pipesim {} · reproduce with:</p>\n<pre><code>{}</code></pre>\n",
        view.seed,
        esc(&view.pipesim_version),
        esc(&view.command)
    ));
    // The preamble repeats the seed and command, and holds the warnings.
    let warnings: String = preamble
        .lines()
        .skip_while(|l| !l.starts_with("**Warnings**"))
        .collect::<Vec<_>>()
        .join("\n");
    if !warnings.is_empty() {
        body.push_str(&markdown_html(&warnings));
    }
    body.push_str("</header>\n");
    let mut toc = Vec::new();
    let mut rest = String::new();
    let mut summary = String::new();
    for (heading, text) in &secs {
        let id = anchor(heading);
        let block = format!(
            "<section id=\"{id}\">\n<h2>{}</h2>\n{}</section>\n",
            esc(heading),
            markdown_html(text)
        );
        if heading == "Summary" {
            summary = block;
            toc.insert(0, (id, heading.clone()));
        } else {
            rest.push_str(&block);
            toc.push((id, heading.clone()));
        }
    }
    toc.insert(usize::from(!summary.is_empty()), ("charts".to_string(), "Charts".to_string()));
    if scenario_text.is_some() {
        toc.push(("scenario".to_string(), "Scenario file".to_string()));
    }
    body.push_str(&nav(&toc));
    body.push_str(&summary);
    body.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n");
    body.push_str(&figures(charts));
    body.push_str("</section>\n");
    body.push_str(&rest);
    if let Some((path, text)) = scenario_text {
        body.push_str(&format!(
            "<section id=\"scenario\">\n<h2>Scenario file</h2>\n<p class=\"meta\"><code>{}</code></p>\n<pre><code>{}</code></pre>\n</section>\n",
            esc(path),
            esc(text)
        ));
    }
    page(&format!("pipesim: {}", view.scenario), &body)
}

/// The page of a comparison: the comparison's Markdown, then the overlay charts.
pub fn compare_html(title: &str, markdown: &str, charts: &ChartSet) -> String {
    let mut body = format!("<h1>{}</h1>\n", esc(title));
    body.push_str(&markdown_html(markdown));
    body.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n");
    body.push_str(&figures(charts));
    body.push_str("</section>\n");
    page(title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_neutralises_html() {
        assert_eq!(esc("<a href='x'>&</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
        let html = markdown_html("| a |\n| - |\n| <script>x</script> |\n");
        assert!(html.contains("<table>"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
    }

    #[test]
    fn splits_sections_at_level_two_headings() {
        let (pre, secs) = sections("# t\n\nintro\n\n## Summary\n\nx\n\n## m (k)\n\ny\n");
        assert_eq!(pre.trim(), "intro");
        assert_eq!(secs.len(), 2);
        assert_eq!(secs[1].0, "m (k)");
        assert_eq!(anchor("pool-8 (stations)"), "pool-8-stations");
    }
}
