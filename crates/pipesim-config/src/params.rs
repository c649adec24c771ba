//! Documentation of a model parameter, as `pipesim models` prints it.

/// One parameter of a model kind: its dotted name within the model table, its type and unit,
/// its default (or `None` when it is required) and what it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamDoc {
    /// Dotted name within the model table, `[]` marking arrays: `station[].servers`.
    pub name: String,
    /// Type and unit as a user writes it: `integer >= 1`, `duration`, `distribution`.
    pub kind: &'static str,
    /// The default as written in a scenario file, or `None` if the parameter is required.
    pub default: Option<String>,
    /// One line on what it means and where its default comes from.
    pub doc: &'static str,
}

impl ParamDoc {
    /// A parameter with a default.
    pub fn new(
        name: &str,
        kind: &'static str,
        default: impl Into<String>,
        doc: &'static str,
    ) -> Self {
        Self { name: name.to_string(), kind, default: Some(default.into()), doc }
    }

    /// A required parameter.
    pub fn required(name: &str, kind: &'static str, doc: &'static str) -> Self {
        Self { name: name.to_string(), kind, default: None, doc }
    }

    /// The same parameter inside a table: `store` + `fsync` = `store.fsync`.
    pub fn under(mut self, prefix: &str) -> Self {
        if !prefix.is_empty() {
            self.name = format!("{prefix}.{}", self.name);
        }
        self
    }
}
