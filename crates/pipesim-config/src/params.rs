//! Documentation of a model parameter, as `pipesim models` prints it.

/// One parameter of a model kind: its dotted name within the model table, its type and unit,
/// its default (or `None` when it is required) and what it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamDoc {
    /// Dotted name within the model table, `[]` marking arrays: `station[].servers`.
    pub name: &'static str,
    /// Type and unit as a user writes it: `integer >= 1`, `duration`, `distribution`.
    pub kind: &'static str,
    /// The default as written in a scenario file, or `None` if the parameter is required.
    pub default: Option<&'static str>,
    /// One line on what it means and where its default comes from.
    pub doc: &'static str,
}
