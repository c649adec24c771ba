//! `pipesim run --check-determinism`: the run is repeated and each model's report.json entry
//! compared byte for byte with the first run's.
//!
//! A discrete-event model that differs is a bug in pipesim (exit 1). A wire-level design that
//! differs is code that breaks a rule of the wire backend (a `select!` without `biased;`,
//! `HashMap` iteration, a real thread or clock, OS randomness): exit 4, like a service that
//! panics, with the first line of the report where the two runs part.

use crate::exit;
use crate::runner::{ScenarioRun, run_scenario};
use crate::sweep::one_model_json;
use pipesim_models::Registry;
use pipesim_scenario::Scenario;

/// A model whose two runs differ: the exit code and the message.
pub(crate) struct Nondeterministic {
    pub(crate) code: u8,
    pub(crate) message: String,
}

/// Runs `s` again and compares every model with `first`.
pub(crate) fn check(
    s: &Scenario,
    first: &ScenarioRun,
    jobs: Option<usize>,
    registry: &Registry,
) -> Result<(), Nondeterministic> {
    let second = run_scenario(s, jobs).map_err(|e| Nondeterministic {
        code: e.exit_code(),
        message: format!(
            "{}: the second run of --check-determinism failed where the first did not: {e}",
            s.path.display()
        ),
    })?;
    let kinds = registry.kinds();
    for (i, (a, b)) in first.outcomes.iter().zip(&second.outcomes).enumerate() {
        let a = one_model_json(s, i, a, "check");
        let b = one_model_json(s, i, b, "check");
        let Some((line, was, now)) = first_difference(&a, &b) else { continue };
        let spec = &s.models[i];
        let wire = kinds.iter().any(|k| k.name == spec.kind && k.backend == "wire");
        let why = if wire {
            "its services break a rule of the wire backend (a select! without `biased;`, HashMap \
             iteration, a real thread, clock or random source: see docs/wire.md)"
        } else {
            "this is a bug in pipesim; please report it with the scenario"
        };
        return Err(Nondeterministic {
            code: if wire { exit::SERVICE_FAILED } else { exit::INTERNAL },
            message: format!(
                "{}: model `{}` (kind {}) is not deterministic: two runs of seed {} differ at line {line} of its report entry: `{}` then `{}`; {why}",
                s.path.display(),
                spec.name,
                spec.kind,
                s.seed,
                cut(was),
                cut(now),
            ),
        });
    }
    Ok(())
}

/// The first line (1-based) where `a` and `b` differ, with both versions of it.
fn first_difference<'t>(a: &'t str, b: &'t str) -> Option<(usize, &'t str, &'t str)> {
    let mut la = a.lines();
    let mut lb = b.lines();
    for n in 1.. {
        match (la.next(), lb.next()) {
            (None, None) => return None,
            (x, y) if x == y => {}
            (x, y) => return Some((n, x.unwrap_or("(end)").trim(), y.unwrap_or("(end)").trim())),
        }
    }
    None
}

/// A report line cut to a readable length.
fn cut(line: &str) -> String {
    const MAX_CHARS: usize = 120;
    if line.chars().count() <= MAX_CHARS {
        return line.to_string();
    }
    line.chars().take(MAX_CHARS).collect::<String>() + "…"
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    #[test]
    fn the_first_differing_line_is_found_with_both_versions() {
        assert_eq!(first_difference("a\nb\nc", "a\nb\nc"), None);
        assert_eq!(first_difference("a\n  b\nc", "a\n  x\nc"), Some((2, "b", "x")));
        assert_eq!(first_difference("a", "a\nz"), Some((2, "(end)", "z")));
    }
}
