//! Byte offsets to lines and columns, and the snippet an error shows.

/// A position in a text file, 1-based, with the line's text for the snippet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// Line number, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
    /// The whole line, without its newline.
    pub line_text: String,
    /// How many characters to underline (at least 1).
    pub width: usize,
}

/// The location of byte `span.start` in `text` (clamped to the text).
pub(crate) fn locate(text: &str, span: std::ops::Range<usize>) -> Location {
    let start = floor_char_boundary(text, span.start.min(text.len()));
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = text[..start].matches('\n').count() + 1;
    let column = text[line_start..start].chars().count() + 1;
    let end = floor_char_boundary(text, span.end.clamp(start, line_end));
    let width = text[start..end].chars().count().max(1);
    Location {
        line,
        column,
        line_text: text[line_start..line_end].trim_end_matches('\r').to_string(),
        width,
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl Location {
    /// The rustc-style snippet: the line with a gutter and a caret line under the span. A
    /// line longer than 120 characters shows 120 of them around the column, `…` marking
    /// what is left out.
    pub fn snippet(&self) -> String {
        const SHOWN: usize = 120;
        let num = self.line.to_string();
        let pad = " ".repeat(num.len());
        let chars: Vec<char> = self.line_text.chars().collect();
        let col = self.column.saturating_sub(1).min(chars.len());
        let from = if chars.len() > SHOWN { col.saturating_sub(40) } else { 0 };
        let to = (from + SHOWN).min(chars.len());
        let mut line: String = if from > 0 { "…".to_string() } else { String::new() };
        line.extend(&chars[from..to]);
        if to < chars.len() {
            line.push('…');
        }
        // Tabs keep their width so the caret lines up.
        let lead: String = (if from > 0 { " " } else { "" })
            .chars()
            .chain(chars[from..col].iter().map(|&c| if c == '\t' { '\t' } else { ' ' }))
            .collect();
        let width = self.width.min(to.saturating_sub(col)).max(1);
        format!("{pad} |\n{num} | {line}\n{pad} | {lead}{}", "^".repeat(width))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_and_columns() {
        let text = "a = 1\nservers = 0\n";
        let at = text.find('0').unwrap();
        let loc = locate(text, at..at + 1);
        assert_eq!((loc.line, loc.column), (2, 11));
        assert_eq!(loc.snippet(), "  |\n2 | servers = 0\n  |           ^");
    }

    #[test]
    fn long_lines_show_the_part_around_the_column() {
        let text = format!("name = \"{}\"", "n".repeat(10_000));
        let snippet = locate(&text, 7..text.len()).snippet();
        assert!(snippet.len() < 400, "{snippet}");
        assert!(snippet.contains("name = \"nnn") && snippet.contains('…'), "{snippet}");
    }

    #[test]
    fn clamps_out_of_range_spans() {
        let loc = locate("x", 10..20);
        assert_eq!((loc.line, loc.column), (1, 2));
    }
}
