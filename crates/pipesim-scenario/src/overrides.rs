//! `--set PATH=VALUE`: changes to the scenario tree before it is read.

use crate::path::{FieldPath, Segment};
use std::borrow::Cow;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One `--set PATH=VALUE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// The path as parsed.
    pub path: FieldPath,
    /// The value text: TOML if it parses as a TOML value (`42`, `true`, `"x"`,
    /// `{ dist = "exp", mean = "1ms" }`), otherwise taken as a string (`500k/s`, `2ms`).
    pub value: String,
    /// The flag as given, for messages.
    pub raw: String,
}

/// Shorthands accepted in paths, for the fields people change most.
const ALIASES: [(&str, &str); 1] = [("workload.rate", "workload.arrivals.rate")];

/// The shorthand a path that names an unknown key was probably meant to be, as
/// `(shorthand, full path)`: `workload.ratee` (or `workload.rate` written in the file) →
/// `("workload.rate", "workload.arrivals.rate")`. Only the last segment may differ.
pub(crate) fn near_alias(path: &FieldPath) -> Option<(&'static str, &'static str)> {
    let (Segment::Key(leaf), parent) = path.0.split_last()? else {
        return None;
    };
    let parent = FieldPath(parent.to_vec()).to_string();
    ALIASES.iter().copied().find(|(alias, _)| {
        alias.rsplit_once('.').is_some_and(|(alias_parent, alias_leaf)| {
            alias_parent == parent && pipesim_config::suggest(leaf, [alias_leaf]).is_some()
        })
    })
}

impl Override {
    /// Parses `PATH=VALUE`.
    pub fn parse(flag: &str) -> Result<Self, String> {
        let Some((path, value)) = flag.split_once('=') else {
            return Err(format!("`{flag}` is not PATH=VALUE"));
        };
        let path = path.trim();
        let path = ALIASES.iter().find(|(a, _)| *a == path).map_or(path, |(_, full)| *full);
        let path = FieldPath::parse(path)?;
        Ok(Self { path, value: value.trim().to_string(), raw: flag.to_string() })
    }
}

/// The parsed value: TOML when it parses, a string otherwise.
fn value_of(text: &str, span: std::ops::Range<usize>) -> Spanned<DeValue<'_>> {
    match DeValue::parse(text) {
        Ok(v) => Spanned::new(span, v.into_inner()),
        Err(_) => Spanned::new(span, DeValue::String(Cow::Borrowed(text))),
    }
}

fn kind_of(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a number",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn name_of<'a>(v: &'a DeValue<'_>) -> Option<&'a str> {
    match v {
        DeValue::Table(t) => match t.get("name").map(|s| s.get_ref()) {
            Some(DeValue::String(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// Applies `ov` to `root`, marking the new value with `span` so errors about it name the flag.
pub(crate) fn apply<'a>(
    root: &mut DeTable<'a>,
    ov: &'a Override,
    span: std::ops::Range<usize>,
) -> Result<(), String> {
    let segs = &ov.path.0;
    let Some(Segment::Key(first)) = segs.first() else {
        return Err("a path starts with a key, such as `workload`".to_string());
    };
    if segs.len() == 1 {
        root.insert(
            Spanned::new(span.clone(), Cow::Borrowed(first.as_str())),
            value_of(&ov.value, span),
        );
        return Ok(());
    }
    let entry = match root.get_mut(first.as_str()) {
        Some(v) => v,
        None => {
            root.insert(
                Spanned::new(span.clone(), Cow::Borrowed(first.as_str())),
                Spanned::new(span.clone(), DeValue::Table(DeTable::new())),
            );
            root.get_mut(first.as_str()).expect("just inserted")
        }
    };
    descend(entry.get_mut(), &segs[1..], first.clone(), ov, span)
}

fn descend<'a>(
    node: &mut DeValue<'a>,
    segs: &'a [Segment],
    here: String,
    ov: &'a Override,
    span: std::ops::Range<usize>,
) -> Result<(), String> {
    let (seg, rest) = segs.split_first().expect("non-empty");
    let last = rest.is_empty();
    match (node, seg) {
        (DeValue::Table(t), Segment::Key(k)) => {
            let child_path = format!("{here}.{k}");
            if last {
                t.insert(
                    Spanned::new(span.clone(), Cow::Borrowed(k.as_str())),
                    value_of(&ov.value, span),
                );
                return Ok(());
            }
            if t.get(k.as_str()).is_none() {
                t.insert(
                    Spanned::new(span.clone(), Cow::Borrowed(k.as_str())),
                    Spanned::new(span.clone(), DeValue::Table(DeTable::new())),
                );
            }
            let child = t.get_mut(k.as_str()).expect("present");
            descend(child.get_mut(), rest, child_path, ov, span)
        }
        (DeValue::Table(_), Segment::Index(i)) => {
            Err(format!("`{here}` is a table, not an array: `[{i}]` does not apply"))
        }
        (DeValue::Table(_), Segment::Name(n)) => {
            Err(format!("`{here}` is a table, not an array: `[{n}]` does not apply"))
        }
        (DeValue::Array(items), seg) => {
            let index = match seg {
                Segment::Index(i) => *i,
                Segment::Name(n) | Segment::Key(n) => {
                    let names: Vec<&str> =
                        items.iter().filter_map(|v| name_of(v.get_ref())).collect();
                    match items.iter().position(|v| name_of(v.get_ref()) == Some(n.as_str())) {
                        Some(i) => i,
                        None => {
                            return Err(format!(
                                "`{here}` has no entry named \"{n}\" (names: {})",
                                if names.is_empty() {
                                    "none".to_string()
                                } else {
                                    names.join(", ")
                                }
                            ));
                        }
                    }
                }
            };
            let count = items.len();
            let Some(item) = items.get_mut(index) else {
                let entries = if count == 1 { "entry" } else { "entries" };
                return Err(format!(
                    "`{here}` has {count} {entries}, so `[{index}]` does not exist"
                ));
            };
            let child_path = format!("{here}[{index}]");
            if last {
                *item = value_of(&ov.value, span);
                return Ok(());
            }
            descend(item.get_mut(), rest, child_path, ov, span)
        }
        (other, _) => Err(format!(
            "`{here}` is {}, not a table: it has no field `{}`",
            kind_of(other),
            seg_text(seg)
        )),
    }
}

fn seg_text(seg: &Segment) -> String {
    match seg {
        Segment::Key(k) => k.clone(),
        Segment::Index(i) => format!("[{i}]"),
        Segment::Name(n) => format!("[{n}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(text: &str, flag: &str) -> Result<String, String> {
        let mut root = DeTable::parse(text).unwrap().into_inner();
        let ov = Override::parse(flag)?;
        let ov: &'static Override = Box::leak(Box::new(ov));
        apply(&mut root, ov, 1000..1000)?;
        Ok(format!("{:?}", root))
    }

    const DOC: &str = "seed = 1\n[workload]\narrivals = { process = \"poisson\", rate = \"1k/s\" }\n[[model]]\nname = \"a\"\n[[model]]\nname = \"b\"\n";

    #[test]
    fn sets_values_at_paths() {
        assert!(applied(DOC, "seed=7").unwrap().contains("Integer"));
        assert!(applied(DOC, "workload.rate=500k/s").unwrap().contains("500k/s"));
        assert!(applied(DOC, "model[1].servers=3").is_ok());
        assert!(applied(DOC, "model.b.servers=3").is_ok());
        assert!(applied(DOC, "model[b].servers=3").is_ok());
    }

    #[test]
    fn explains_paths_that_do_not_exist() {
        let err = |flag: &str| applied(DOC, flag).unwrap_err();
        assert_eq!(err("model[5].x=1"), "`model` has 2 entries, so `[5]` does not exist");
        assert_eq!(err("model[zz].x=1"), "`model` has no entry named \"zz\" (names: a, b)");
        assert_eq!(err("seed.x=1"), "`seed` is an integer, not a table: it has no field `x`");
        assert_eq!(
            err("workload[0]=1"),
            "`workload` is a table, not an array: `[0]` does not apply"
        );
        assert_eq!(err("novalue"), "`novalue` is not PATH=VALUE");
        let one = "[[model]]\nname = \"a\"\n";
        assert_eq!(
            applied(one, "model[1].x=1").unwrap_err(),
            "`model` has 1 entry, so `[1]` does not exist"
        );
    }

    #[test]
    fn finds_the_shorthand_a_typo_meant() {
        let near = |p: &str| near_alias(&FieldPath::parse(p).unwrap());
        let rate = Some(("workload.rate", "workload.arrivals.rate"));
        assert_eq!(near("workload.ratee"), rate);
        assert_eq!(near("workload.rate"), rate);
        assert_eq!(near("workload.zzz"), None);
        assert_eq!(near("model[0].rate"), None);
        assert_eq!(near("rate"), None);
    }
}
