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
    /// The rustc-style snippet: the line with a gutter and a caret line under the span.
    pub fn snippet(&self) -> String {
        let num = self.line.to_string();
        let pad = " ".repeat(num.len());
        // Tabs keep their width so the caret lines up.
        let lead: String = self
            .line_text
            .chars()
            .take(self.column - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let width =
            self.width.min(self.line_text.chars().count().saturating_sub(self.column - 1)).max(1);
        format!("{pad} |\n{num} | {}\n{pad} | {lead}{}", self.line_text, "^".repeat(width))
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
    fn clamps_out_of_range_spans() {
        let loc = locate("x", 10..20);
        assert_eq!((loc.line, loc.column), (1, 2));
    }
}
