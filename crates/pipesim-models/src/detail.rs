//! Design-specific tables for reports.

/// A small table a model adds to its report (one row per station, say).
#[derive(Clone, Debug, PartialEq)]
pub struct DetailTable {
    /// Table name, used as the JSON key and the Markdown heading.
    pub name: &'static str,
    /// Column names, snake_case with units last (`mean_wait_ms`).
    pub columns: Vec<&'static str>,
    /// Rows of cells, one per column.
    pub rows: Vec<Vec<Cell>>,
}

/// One cell of a [`DetailTable`].
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A count.
    Int(u64),
    /// A number printed with a fixed number of decimals (reports must not vary in formatting).
    Fixed(f64, u8),
}

impl DetailTable {
    /// The cell at `row`, column `name`, if both exist.
    pub fn cell(&self, row: usize, name: &str) -> Option<&Cell> {
        let col = self.columns.iter().position(|c| *c == name)?;
        self.rows.get(row)?.get(col)
    }

    /// A numeric cell as f64 (for tests and comparisons).
    pub fn number(&self, row: usize, name: &str) -> Option<f64> {
        match self.cell(row, name)? {
            Cell::Int(n) => Some(*n as f64),
            Cell::Fixed(x, _) => Some(*x),
            Cell::Text(_) => None,
        }
    }
}
