//! A configuration error tied to the field it is about.

use std::fmt;

/// A message about one field, named by its dotted path relative to where the check ran
/// (`station[1].servers` inside a model; the scenario crate prefixes `model[0].`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the field, `[i]` for array elements; empty for the enclosing table.
    pub path: String,
    /// What is wrong, lowercase, without a trailing period.
    pub message: String,
}

impl ConfigError {
    /// An error about the field at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), message: message.into() }
    }

    /// The same error seen from one level up: `prefix` is joined in front of the path.
    pub fn within(mut self, prefix: &str) -> Self {
        self.path = join_path(prefix, &self.path);
        self
    }
}

/// Joins two dotted paths, handling empty parts and array indices (`a` + `[0].b` = `a[0].b`).
pub(crate) fn join_path(prefix: &str, rest: &str) -> String {
    match (prefix.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) if rest.starts_with('[') => format!("{prefix}{rest}"),
        (false, false) => format!("{prefix}.{rest}"),
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join() {
        assert_eq!(join_path("model[0]", "station[1].servers"), "model[0].station[1].servers");
        assert_eq!(join_path("model", "[0]"), "model[0]");
        assert_eq!(join_path("", "seed"), "seed");
        assert_eq!(join_path("workload", ""), "workload");
    }
}
