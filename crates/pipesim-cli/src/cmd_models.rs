//! `pipesim models`: every kind with its parameters.

use crate::exit;
use crate::output::out;
use pipesim_config::DIST_KINDS;
use pipesim_models::Registry;

pub(crate) fn run(registry: &Registry) -> u8 {
    let mut text = String::new();
    for k in registry.kinds() {
        text.push_str(&format!("{}  ({})\n  {}\n\n", k.name, backend_name(k.backend), k.summary));
        let w_name = k.params.iter().map(|p| p.name.len()).max().unwrap_or(0).max(9);
        let w_kind = k.params.iter().map(|p| p.kind.len()).max().unwrap_or(0).max(4);
        let w_def = k
            .params
            .iter()
            .map(|p| p.default.as_deref().unwrap_or("required").len())
            .max()
            .unwrap_or(0)
            .max(7);
        text.push_str(&format!(
            "  {:<w_name$}  {:<w_kind$}  {:<w_def$}  meaning\n",
            "parameter", "type", "default"
        ));
        for p in &k.params {
            text.push_str(&format!(
                "  {:<w_name$}  {:<w_kind$}  {:<w_def$}  {}\n",
                p.name,
                p.kind,
                p.default.as_deref().unwrap_or("required"),
                p.doc
            ));
        }
        text.push('\n');
    }
    text.push_str(&format!(
        "Distributions: a duration (\"120us\", a constant) or {{ dist = \"...\" }} with dist one of {}.\n\
         Durations: ns, us, ms, s, m, h. Rates: \"950k/s\", \"1.2M/s\". Sizes: \"512B\", \"4KiB\".\n\
         Every model also takes `name` (unique) and `kind`. See docs/scenario.md.\n",
        DIST_KINDS.join(", ")
    ));
    out(&text);
    exit::SUCCESS
}

/// How `pipesim models` names a backend.
fn backend_name(backend: &str) -> &str {
    match backend {
        "des" => "discrete-event model",
        "wire" => "wire-level: real services on a simulated network",
        other => other,
    }
}
