//! Errors that say what is wrong and where.

use crate::location::Location;
use std::fmt;
use std::path::PathBuf;

/// Where the bad value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorOrigin {
    /// The scenario file, at this location (none when the problem is the file as a whole).
    File(Option<Location>),
    /// A `--set PATH=VALUE` flag, quoted as given.
    Override(String),
    /// The `--seed` flag.
    Seed,
    /// The `--models` flag.
    Models,
}

/// An invalid scenario: exit code 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The scenario file.
    pub file: PathBuf,
    /// Where in it, or which flag.
    pub origin: ErrorOrigin,
    /// The field's dotted path, when the error is about one field.
    pub path: Option<String>,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

impl ScenarioError {
    pub(crate) fn file(file: PathBuf, message: impl Into<String>) -> Self {
        Self { file, origin: ErrorOrigin::File(None), path: None, message: message.into() }
    }
}

/// Every part of a message is cut short where it would echo a long value
/// ([`pipesim_config::limits::shorten`]).
impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use pipesim_config::limits::shorten;
        let file = self.file.display();
        let path = self
            .path
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(|p| format!("{}: ", shorten(p)))
            .unwrap_or_default();
        let message = shorten(&self.message);
        match &self.origin {
            ErrorOrigin::File(None) => write!(f, "{file}: {path}{message}"),
            ErrorOrigin::File(Some(loc)) => {
                write!(f, "{file}:{}:{}: {path}{message}\n{}", loc.line, loc.column, loc.snippet())
            }
            // The file comes first, as for errors in the file: with several scenarios, a flag
            // that fits one of them and not another must say which.
            ErrorOrigin::Override(flag) => {
                write!(f, "{file}: --set {}: {path}{message}", shorten(flag))
            }
            ErrorOrigin::Seed => write!(f, "{file}: --seed: {message}"),
            ErrorOrigin::Models => write!(f, "{file}: --models: {message}"),
        }
    }
}

impl std::error::Error for ScenarioError {}
