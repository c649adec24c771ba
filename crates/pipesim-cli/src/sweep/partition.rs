//! `--partition slice:M/N` and `hash:M/N`: which points of a sweep this machine runs.
//!
//! `slice:M/N` takes the points whose index i (0-based, in point order) has i mod N = M − 1;
//! `hash:M/N` those whose label's FNV-1a hash mod N = M − 1, so a point keeps its part when
//! other points are added or removed. M runs from 1 to N, as in cargo-nextest.

use std::fmt;

/// How points are shared out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Slice,
    Hash,
}

/// One share: part `m` of `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Partition {
    kind: Kind,
    m: u64,
    n: u64,
}

impl Partition {
    /// Parses `slice:M/N` or `hash:M/N`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let usage = "write slice:M/N or hash:M/N with 1 ≤ M ≤ N (part M of N)";
        let (kind, share) = text.split_once(':').ok_or_else(|| format!("\"{text}\": {usage}"))?;
        let kind = match kind {
            "slice" => Kind::Slice,
            "hash" => Kind::Hash,
            other => return Err(format!("\"{other}\" is not a partition kind: {usage}")),
        };
        let (m, n) = share.split_once('/').ok_or_else(|| format!("\"{text}\": {usage}"))?;
        let (m, n): (u64, u64) = match (m.trim().parse(), n.trim().parse()) {
            (Ok(m), Ok(n)) => (m, n),
            _ => return Err(format!("\"{text}\": {usage}")),
        };
        if n == 0 {
            return Err(format!("\"{text}\": N must be at least 1"));
        }
        if m == 0 || m > n {
            return Err(format!("\"{text}\": M must be from 1 to {n} (parts are numbered from 1)"));
        }
        Ok(Self { kind, m, n })
    }

    /// Whether this part runs point `index` with `label`.
    pub(crate) fn takes(&self, index: usize, label: &str) -> bool {
        let key = match self.kind {
            Kind::Slice => index as u64,
            Kind::Hash => super::fnv1a(label.as_bytes()),
        };
        key % self.n == self.m - 1
    }

    /// A tag for file names: `slice-2-of-3`.
    pub(crate) fn file_tag(&self) -> String {
        let kind = match self.kind {
            Kind::Slice => "slice",
            Kind::Hash => "hash",
        };
        format!("{kind}-{}-of-{}", self.m, self.n)
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Slice => "slice",
            Kind::Hash => "hash",
        };
        write!(f, "{kind}:{}/{}", self.m, self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_every_point_once() {
        for spec in ["slice", "hash"] {
            let parts: Vec<Partition> =
                (1..=3).map(|m| Partition::parse(&format!("{spec}:{m}/3")).unwrap()).collect();
            for i in 0..50 {
                let label = format!("p={i}");
                assert_eq!(parts.iter().filter(|p| p.takes(i, &label)).count(), 1);
            }
        }
        assert!(Partition::parse("slice:2/3").unwrap().takes(4, ""));
    }

    #[test]
    fn bad_partitions_say_why() {
        for (text, words) in [
            ("slice:3/2", "from 1 to 2"),
            ("slice:0/4", "from 1 to 4"),
            ("hash:1/0", "at least 1"),
            ("foo:1/2", "not a partition kind"),
            ("slice", "slice:M/N"),
            ("slice:a/b", "slice:M/N"),
        ] {
            let e = Partition::parse(text).unwrap_err();
            assert!(e.contains(words), "{text}: {e}");
        }
    }
}
