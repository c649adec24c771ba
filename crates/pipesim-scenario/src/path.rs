//! Dotted field paths: `model[0].station[1].servers`.

use std::fmt;

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A table key.
    Key(String),
    /// An array element by position.
    Index(usize),
    /// An array element by its `name` field (`model[lua-two-tier]`), resolved against the file.
    Name(String),
}

/// A path to a field of the scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    /// Parses `a.b[0].c`, `a.b.0.c` or `model[name].x`. Numeric dotted segments are indices.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut segs = Vec::new();
        if text.trim().is_empty() {
            return Err("the path is empty".to_string());
        }
        for part in text.split('.') {
            let (head, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if head.is_empty() && (segs.is_empty() || rest.is_empty()) {
                return Err(format!("`{text}` has an empty segment"));
            }
            if !head.is_empty() {
                segs.push(match head.parse::<usize>() {
                    Ok(i) if !segs.is_empty() => Segment::Index(i),
                    _ => Segment::Key(head.to_string()),
                });
            }
            while let Some(body) = rest.strip_prefix('[') {
                let Some(end) = body.find(']') else {
                    return Err(format!("`{text}` has an unclosed `[`"));
                };
                let inner = &body[..end];
                if inner.is_empty() {
                    return Err(format!("`{text}` has an empty `[]`"));
                }
                segs.push(match inner.parse::<usize>() {
                    Ok(i) => Segment::Index(i),
                    Err(_) => Segment::Name(inner.trim_matches('"').to_string()),
                });
                rest = &body[end + 1..];
            }
            if !rest.is_empty() {
                return Err(format!("`{text}` has text after `]`"));
            }
        }
        Ok(Self(segs))
    }

    /// Parses the path serde_path_to_error prints (`station[0].servers`, `.` for the root).
    pub fn from_serde(text: &str) -> Self {
        if text == "." || text.is_empty() {
            return Self::default();
        }
        Self::parse(text).unwrap_or_default()
    }

    /// This path followed by `other`.
    pub fn join(&self, other: &FieldPath) -> FieldPath {
        let mut v = self.0.clone();
        v.extend(other.0.iter().cloned());
        FieldPath(v)
    }

    /// Whether this path is empty (the whole file).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `self` starts with `prefix`.
    pub fn starts_with(&self, prefix: &FieldPath) -> bool {
        self.0.len() >= prefix.0.len() && self.0[..prefix.0.len()] == prefix.0[..]
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Name(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Segment::*;

    #[test]
    fn parses_the_three_spellings() {
        let want = FieldPath(vec![
            Key("model".into()),
            Index(0),
            Key("station".into()),
            Index(1),
            Key("servers".into()),
        ]);
        assert_eq!(FieldPath::parse("model[0].station[1].servers").unwrap(), want);
        assert_eq!(FieldPath::parse("model.0.station.1.servers").unwrap(), want);
        assert_eq!(want.to_string(), "model[0].station[1].servers");
        let named = FieldPath::parse("model[lua-two-tier].shards").unwrap();
        assert_eq!(named.0[1], Name("lua-two-tier".into()));
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in ["", "a..b", "a[0", "a[]", "a[0]x", ".a"] {
            assert!(FieldPath::parse(bad).is_err(), "{bad}");
        }
    }
}
