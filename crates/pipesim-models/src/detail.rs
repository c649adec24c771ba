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
    /// Checks the table's shape: every row has one cell per column, and no column name is
    /// repeated. Every table a model returns is checked after its run.
    pub fn check(&self) -> Result<(), String> {
        for (i, c) in self.columns.iter().enumerate() {
            if self.columns[..i].contains(c) {
                return Err(format!("table {}: column {c:?} appears twice", self.name));
            }
        }
        match self.rows.iter().position(|r| r.len() != self.columns.len()) {
            Some(i) => Err(format!(
                "table {}: row {i} has {} cells for {} columns ({})",
                self.name,
                self.rows[i].len(),
                self.columns.len(),
                self.columns.join(", ")
            )),
            None => Ok(()),
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: Vec<Vec<Cell>>) -> DetailTable {
        DetailTable { name: "stations", columns: vec!["station", "utilisation"], rows }
    }

    #[test]
    fn a_row_with_a_cell_missing_is_caught() {
        let ok = table(vec![vec![Cell::Text("db".into()), Cell::Fixed(0.5, 3)]]);
        assert_eq!(ok.check(), Ok(()));
        let short = table(vec![ok.rows[0].clone(), vec![Cell::Text("cache".into())]]);
        let e = short.check().unwrap_err();
        assert!(e.contains("row 1 has 1 cells for 2 columns"), "{e}");
    }

    #[test]
    fn a_repeated_column_is_caught() {
        let mut t = table(Vec::new());
        t.columns.push("station");
        assert!(t.check().unwrap_err().contains("\"station\" appears twice"));
    }
}
