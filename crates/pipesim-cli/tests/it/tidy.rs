//! Tidiness rules of the source tree, checked as tests (as rust-analyzer's `tidy` does), so
//! they hold on every commit instead of by review.
//!
//! - Every Rust file opens with a module doc (`//!`): a reader who lands in a file learns what
//!   it holds before reading code.
//! - Every file a doc names exists: a Markdown link, or a path from the repository root
//!   (`crates/…`, `docs/…`, `scenarios/…`) in a Markdown page or in a comment of a Rust, TOML or
//!   shell file. A file moved or split without its mentions updated fails here.
//! - The project is self-contained: nothing cites the original contract file, whose rules live
//!   in the project's own docs (ARCHITECTURE.md, docs/).
//! - Every parameter a design accepts is documented: each key of the parameters a report echoes
//!   (which is every key the design's section accepts, defaults filled in) is in the kind's
//!   `params_doc`, which `pipesim models` and the model pages show.
//!
//! The function-length budget is not here: clippy enforces it (`too_many_lines`, clippy.toml).
//! That documented defaults equal the echoed values is `param_defaults.rs`.

use crate::support::root;
use pipesim_cli::default_registry;
use pipesim_scenario::{LoadOptions, load_str};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Folders that are not the project's sources: build output, git's, committed reports (their
/// text is generated, and names the scenario they came from).
const SKIPPED_DIRS: [&str; 3] = ["target", ".git", "reports"];

/// Paths that docs name but that exist only after a command has run (outputs, not sources).
const OUTPUTS: [&str; 1] = [
    // examples/my-pipeline/README.md: what its `cargo run` writes.
    "reports/my_pipeline",
];

/// The folders from which docs name files by a root-relative path.
const ROOT_DIRS: [&str; 6] = ["crates/", "docs/", "scenarios/", "reports/", "examples/", ".ci/"];

/// Every file of the tree under `dir`, sorted, without the skipped folders.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_str()) {
                files_under(&path, out);
            }
        } else {
            out.push(path);
        }
    }
}

fn tree() -> Vec<PathBuf> {
    let mut files = Vec::new();
    files_under(&root(), &mut files);
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_rust_file_opens_with_a_module_doc() {
    let undocumented: Vec<String> = tree()
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter(|p| !std::fs::read_to_string(p).unwrap().starts_with("//!"))
        .map(|p| relative(p))
        .collect();
    assert!(
        undocumented.is_empty(),
        "files without a `//!` module doc:\n{}",
        undocumented.join("\n")
    );
}

/// A path as a doc writes it, stopped at the first character that cannot be part of one.
fn path_at(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || "_./-".contains(c)))
        .unwrap_or(text.len());
    text[..end].trim_end_matches(['.', '/'])
}

/// A placeholder rather than a file: `scenarios/seeds/NAME.toml`, `reports/<name>/`, a glob.
fn is_placeholder(cited: &str, rest: &str) -> bool {
    let next = rest[cited.len()..].chars().next();
    matches!(next, Some('*' | '{' | '<' | '$'))
        || cited.split(['/', '.']).any(|part| {
            part.len() > 1
                && part.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                && !matches!(part, "README" | "ARCHITECTURE" | "CHANGELOG" | "LICENSE")
        })
}

/// The root-relative paths `text` names (each with the text after it, to spot placeholders).
fn rooted_paths(text: &str) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices(|c: char| {
        c == 'c' || c == 'd' || c == 's' || c == 'r' || c == 'e' || c == '.'
    }) {
        let rest = &text[at..];
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || "_./-".contains(c)) {
            continue; // inside a longer word or path (a relative link, or a path nested under another folder)
        }
        if ROOT_DIRS.iter().any(|d| rest.starts_with(d)) {
            found.push((path_at(rest), rest));
        }
    }
    found
}

/// The targets of the Markdown links in `text` that are files of this tree.
fn link_targets(text: &str) -> Vec<&str> {
    text.match_indices("](")
        .filter_map(|(at, _)| {
            let target = &text[at + 2..];
            let target = &target[..target.find([')', '#', ' '])?];
            let external =
                target.is_empty() || target.contains("://") || target.starts_with("mailto:");
            (!external).then_some(target)
        })
        .collect()
}

/// The parts of a file in which it names files: all of a Markdown page, the comments of code.
fn cited_text(path: &Path, text: &str) -> Option<String> {
    let name = path.file_name()?.to_string_lossy();
    let ext = path.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
    let comment = match ext.as_str() {
        "md" => return Some(text.to_owned()),
        "rs" => "//",
        "toml" | "sh" | "yml" => "#",
        _ if name == "run" => "#",
        _ => return None,
    };
    let comments = text.lines().filter_map(|l| l.find(comment).map(|i| &l[i..]));
    Some(comments.collect::<Vec<_>>().join("\n"))
}

#[test]
fn every_file_a_doc_names_exists() {
    let (root, mut checked, mut missing) = (root(), 0, Vec::new());
    for path in tree() {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Some(cited) = cited_text(&path, &text) else { continue };
        let dir = path.parent().unwrap();
        let from_here = |p: &str| dir.join(p).exists() || root.join(p).exists();
        for (p, rest) in rooted_paths(&cited) {
            if is_placeholder(p, rest) || OUTPUTS.iter().any(|o| p.starts_with(o)) {
                continue;
            }
            checked += 1;
            if !from_here(p) {
                missing.push(format!("{}: names {p}", relative(&path)));
            }
        }
        if path.extension().is_some_and(|e| e == "md") {
            for p in link_targets(&cited) {
                checked += 1;
                if !dir.join(p).exists() {
                    missing.push(format!("{}: links {p}", relative(&path)));
                }
            }
        }
    }
    eprintln!("{checked} file mentions checked");
    assert!(checked >= 200, "only {checked} mentions found: is the scan broken?");
    assert!(missing.is_empty(), "docs name files that do not exist:\n{}", missing.join("\n"));
}

#[test]
fn nothing_cites_a_contract_outside_the_repository() {
    // Built from pieces so this file does not cite it either.
    let contract = ["DESIGN", ".md"].concat();
    let citing: Vec<String> = tree()
        .iter()
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(&contract)))
        .map(|p| relative(p))
        .collect();
    assert!(
        citing.is_empty(),
        "files citing {contract}, which is not in the repository:\n{}",
        citing.join("\n")
    );
}

/// Every dotted path to a leaf of the echoed parameters (`producer.delivery_timeout`). A
/// distribution (`{ dist = … }`) and a list are leaves: they are documented as one parameter.
fn leaf_paths(prefix: &str, value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) if !map.contains_key("dist") => {
            for (key, v) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                leaf_paths(&path, v, out);
            }
        }
        _ => out.push(prefix.to_owned()),
    }
}

/// A scenario with one model of `kind`, with what the kind cannot go without.
fn one_model(kind: &str, extra: &str) -> String {
    let required = match kind {
        "stations" => "[[model.station]]\nname = \"s\"\nservice = \"1ms\"\n",
        "wire_fifo" => "server = { service = \"1ms\" }\n",
        _ => "",
    };
    format!(
        "name = \"d\"\nduration = \"1s\"\n[workload]\narrivals = {{ process = \"poisson\", rate = \"100/s\" }}\n[[model]]\nname = \"m\"\nkind = \"{kind}\"\n{required}{extra}"
    )
}

#[test]
fn every_parameter_a_design_accepts_is_documented() {
    let registry = default_registry();
    let (mut kinds_checked, mut keys_checked, mut undocumented) = (0, 0, Vec::new());
    for kind in registry.kinds() {
        // The event-sourced design's projection brings its own section into the echo.
        let variants: &[&str] =
            if kind.name == "event_sourced" { &["", "consumer = \"projection\"\n"] } else { &[""] };
        for variant in variants {
            let opts = LoadOptions { registry: default_registry(), ..Default::default() };
            let text = one_model(kind.name, variant);
            let scenario = load_str(&text, Path::new("tidy.toml"), &opts)
                .unwrap_or_else(|e| panic!("{} does not load with defaults: {e}", kind.name));
            kinds_checked += 1;
            let mut keys = Vec::new();
            leaf_paths("", &scenario.models[0].parameters(), &mut keys);
            for key in keys {
                keys_checked += 1;
                // A key is documented by its own entry, by the section that holds it, or, when
                // echoed as one leaf (a list of tables, an optional section left out), by the
                // entries of what it holds (`station[].name`, `switch.at`).
                let documented = kind.params.iter().any(|p| {
                    key == p.name
                        || key.starts_with(&format!("{}.", p.name))
                        || p.name.starts_with(&format!("{key}[]"))
                        || p.name.starts_with(&format!("{key}."))
                });
                if !documented {
                    undocumented.push(format!("{}: {key}", kind.name));
                }
            }
        }
    }
    eprintln!("{kinds_checked} kind settings, {keys_checked} echoed keys checked");
    assert!(kinds_checked >= 11, "only {kinds_checked} kind settings loaded");
    assert!(
        undocumented.is_empty(),
        "keys a design accepts that its params_doc does not document:\n{}",
        undocumented.join("\n")
    );
}
