//! Where an error is: spans looked up in the parsed tree (a value's, or an unknown key's),
//! `--set` flags told apart from the file, and serde's and toml's messages made one line with
//! a hint where one helps.

use super::Loading;
use crate::error::{ErrorOrigin, ScenarioError};
use crate::location::locate;
use crate::overrides::near_alias;
use crate::path::{FieldPath, Segment};
use pipesim_config::explain_serde_message;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

impl Loading<'_> {
    /// Where the `i`-th override's values are marked: past the end of the text, one byte each.
    pub(super) fn override_span(&self, i: usize) -> Range<usize> {
        let start = self.text.len() + 1 + i;
        start..start
    }

    fn origin_of(&self, span: Option<Range<usize>>) -> ErrorOrigin {
        match span {
            Some(s) if s.start > self.text.len() => {
                let i = s.start - self.text.len() - 1;
                ErrorOrigin::Override(
                    self.opts.overrides.get(i).map(|o| o.raw.clone()).unwrap_or_default(),
                )
            }
            Some(s) => ErrorOrigin::File(Some(locate(self.text, s))),
            None => ErrorOrigin::File(None),
        }
    }

    pub(super) fn syntax_error(&self, e: &toml::de::Error) -> ScenarioError {
        ScenarioError {
            file: self.path.to_path_buf(),
            origin: self.origin_of(e.span()),
            path: None,
            message: format!("TOML syntax error: {}", one_line(e.message())),
        }
    }

    /// Like [`Self::error_at`], for a dotted path written out (`workload.arrivals.rate`).
    pub(super) fn field_error(
        &self,
        lookup: &DeTable<'_>,
        path: &str,
        message: String,
    ) -> ScenarioError {
        self.error_at(lookup, &FieldPath::parse(path).unwrap_or_default(), message)
    }

    /// An error about the field at `path`, located by looking the path up in the tree.
    pub(super) fn error_at(
        &self,
        lookup: &DeTable<'_>,
        path: &FieldPath,
        message: String,
    ) -> ScenarioError {
        ScenarioError {
            file: self.path.to_path_buf(),
            origin: self.origin_of(span_of(lookup, path)),
            path: Some(path.to_string()).filter(|p| !p.is_empty()),
            message,
        }
    }

    fn toml_error(
        &self,
        lookup: &DeTable<'_>,
        path: &FieldPath,
        e: &toml::de::Error,
    ) -> ScenarioError {
        self.message_error(lookup, path, e.span(), e.message())
    }

    /// An error serde reported about the field at `path`, located at `span` (or where the path
    /// leads).
    pub(super) fn message_error(
        &self,
        lookup: &DeTable<'_>,
        path: &FieldPath,
        span: Option<Range<usize>>,
        serde_message: &str,
    ) -> ScenarioError {
        let span = span.or_else(|| span_of(lookup, path));
        let origin = self.origin_of(span.clone());
        let mut message = explain_serde_message(&one_line(serde_message));
        if let Some(hint) = self.hint(path, &origin, span, &message) {
            // After the first clause ("unknown key `x`"), before the list of what is known.
            let at = message.find(';').unwrap_or(message.len());
            message.insert_str(at, &format!(" ({hint})"));
        }
        ScenarioError {
            file: self.path.to_path_buf(),
            origin,
            path: Some(path.to_string()).filter(|p| !p.is_empty()),
            message,
        }
    }

    /// What the user probably meant, where serde's message cannot know it: a shorthand path
    /// (`workload.rate`), or `[[model]]` written as `[model]`.
    fn hint(
        &self,
        path: &FieldPath,
        origin: &ErrorOrigin,
        span: Option<Range<usize>>,
        message: &str,
    ) -> Option<String> {
        if message.starts_with("unknown key `") && !message.contains("did you mean") {
            let (short, full) = near_alias(path)?;
            return Some(match origin {
                ErrorOrigin::Override(_) => {
                    format!("did you mean `{short}`, short for `{full}`?")
                }
                _ => format!("did you mean `{full}`?"),
            });
        }
        if message == "expected an array, found a table" {
            let text = self.text.get(span?)?;
            let header = text.strip_prefix('[').filter(|t| !t.starts_with('['))?;
            let name = header.split(']').next()?.trim();
            return Some(format!(
                "write one [[{name}]] per entry: double brackets make an array of tables"
            ));
        }
        None
    }

    pub(super) fn serde_error(
        &self,
        lookup: &DeTable<'_>,
        base: &FieldPath,
        e: serde_path_to_error::Error<toml::de::Error>,
    ) -> ScenarioError {
        let path = base.join(&FieldPath::from_serde(&e.path().to_string()));
        self.toml_error(lookup, &path, e.inner())
    }
}

/// The span of the value at `path`, or of the deepest part of the path that exists.
pub(super) fn span_of(root: &DeTable<'_>, path: &FieldPath) -> Option<Range<usize>> {
    let mut best: Option<Range<usize>> = None;
    let mut node: Option<&Spanned<DeValue<'_>>> = None;
    for seg in &path.0 {
        let next = match (node.map(|n| n.get_ref()), seg) {
            (None, Segment::Key(k)) => root.get(k.as_str()),
            (Some(DeValue::Table(t)), Segment::Key(k)) => t.get(k.as_str()),
            (Some(DeValue::Array(a)), Segment::Index(i)) => a.get(*i),
            _ => None,
        };
        match next {
            Some(n) => {
                best = Some(n.span());
                node = Some(n);
            }
            None => break,
        }
    }
    best
}

fn one_line(message: &str) -> String {
    message.trim().lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

/// The span of the key at the end of `path` (an unknown key is reported at the key, not at its
/// value), or of what the path leads to.
pub(super) fn key_span_of(root: &DeTable<'_>, path: &FieldPath) -> Option<Range<usize>> {
    let (Some(Segment::Key(last)), Some(parent)) = (path.0.last(), path.0.split_last()) else {
        return span_of(root, path);
    };
    let parent = FieldPath(parent.1.to_vec());
    let table = if parent.0.is_empty() {
        Some(root)
    } else {
        let mut node: Option<&Spanned<DeValue<'_>>> = None;
        for seg in &parent.0 {
            node = match (node.map(|n| n.get_ref()), seg) {
                (None, Segment::Key(k)) => root.get(k.as_str()),
                (Some(DeValue::Table(t)), Segment::Key(k)) => t.get(k.as_str()),
                (Some(DeValue::Array(a)), Segment::Index(i)) => a.get(*i),
                _ => None,
            };
            node?;
        }
        match node.map(|n| n.get_ref()) {
            Some(DeValue::Table(t)) => Some(t),
            _ => None,
        }
    };
    table
        .and_then(|t| t.get_key_value(last.as_str()))
        .map(|(k, _)| k.span())
        .or_else(|| span_of(root, path))
}
