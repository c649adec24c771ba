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

    /// A table whose columns the first row names: cells are given with their column (see
    /// [`DetailTable::row`]), so a cell cannot land under the wrong heading.
    pub fn named(name: &'static str) -> Self {
        Self { name, columns: Vec::new(), rows: Vec::new() }
    }

    /// A table with its columns declared up front (it has them even with no row).
    pub fn with_columns(name: &'static str, columns: &[&'static str]) -> Self {
        Self { name, columns: columns.to_vec(), rows: Vec::new() }
    }

    /// Adds a row, `fill` giving each cell with the name of its column. The first row of a
    /// [`DetailTable::named`] table names the columns; every other row must give the same
    /// columns in the same order (anything else is a bug in the design that builds the table,
    /// and panics naming the table and the column).
    pub fn row(&mut self, fill: impl FnOnce(&mut Row<'_>)) -> &mut Self {
        let names = self.columns.is_empty() && self.rows.is_empty();
        let mut row = Row { table: self, cells: Vec::new(), names };
        fill(&mut row);
        let cells = std::mem::take(&mut row.cells);
        assert_eq!(
            cells.len(),
            self.columns.len(),
            "table {}: a row gives {} of its {} columns",
            self.name,
            cells.len(),
            self.columns.len()
        );
        self.rows.push(cells);
        self
    }

    /// [`DetailTable::row`], by value: `DetailTable::named("store").with_row(|r| …)`.
    pub fn with_row(mut self, fill: impl FnOnce(&mut Row<'_>)) -> Self {
        self.row(fill);
        self
    }
}

/// One row of a [`DetailTable`] being built: each cell is given with its column's name.
pub struct Row<'a> {
    table: &'a mut DetailTable,
    cells: Vec<Cell>,
    /// This row names the table's columns (the first row of a `named` table).
    names: bool,
}

impl Row<'_> {
    /// The cell of `column`.
    pub fn cell(&mut self, column: &'static str, cell: Cell) -> &mut Self {
        let at = self.cells.len();
        if self.names {
            self.table.columns.push(column);
        } else {
            assert_eq!(
                self.table.columns.get(at).copied(),
                Some(column),
                "table {}: cell {at} of a row is not under its column",
                self.table.name
            );
        }
        self.cells.push(cell);
        self
    }

    /// A count.
    pub fn int(&mut self, column: &'static str, n: u64) -> &mut Self {
        self.cell(column, Cell::Int(n))
    }

    /// A number with `decimals` decimals.
    pub fn fixed(&mut self, column: &'static str, x: f64, decimals: u8) -> &mut Self {
        self.cell(column, Cell::Fixed(x, decimals))
    }

    /// Text.
    pub fn text(&mut self, column: &'static str, text: impl Into<String>) -> &mut Self {
        self.cell(column, Cell::Text(text.into()))
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

    #[test]
    fn the_builder_names_each_cell_by_its_column() {
        let mut t = DetailTable::named("stations");
        for (name, util) in [("db", 0.5), ("cache", 0.25)] {
            t.row(|r| {
                r.text("station", name).fixed("utilisation", util, 3);
            });
        }
        assert_eq!(t.columns, ["station", "utilisation"]);
        assert_eq!(t.check(), Ok(()));
        assert_eq!(t.number(1, "utilisation"), Some(0.25));
        let empty = DetailTable::with_columns("stations", &["station"]);
        assert_eq!((empty.columns.len(), empty.rows.len()), (1, 0));
    }

    #[test]
    #[should_panic(expected = "table stations: cell 1 of a row is not under its column")]
    fn a_cell_under_another_column_is_a_bug() {
        let mut t = DetailTable::named("stations");
        t.row(|r| {
            r.text("station", "db").int("servers", 1);
        });
        t.row(|r| {
            r.text("station", "cache").fixed("utilisation", 0.5, 3);
        });
    }

    #[test]
    #[should_panic(expected = "table stations: a row gives 1 of its 2 columns")]
    fn a_short_row_is_a_bug() {
        let mut t = DetailTable::named("stations");
        t.row(|r| {
            r.text("station", "db").int("servers", 1);
        });
        t.row(|r| {
            r.text("station", "cache");
        });
    }
}
