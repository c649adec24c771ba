//! `pipesim validate`: parse and check, no run.

use crate::args::{CommonArgs, ValidateArgs};
use crate::exit;
use crate::output::{err_line, error, out};
use pipesim_models::Registry;
use pipesim_scenario::{LoadOptions, Override, Scenario, load};

/// Builds load options from the shared flags, or the message for a malformed `--set`.
pub(crate) fn load_options(
    common: &CommonArgs,
    registry: &Registry,
) -> Result<LoadOptions, String> {
    let overrides = common
        .set
        .iter()
        .map(|s| Override::parse(s).map_err(|e| format!("--set {s}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LoadOptions {
        overrides,
        seed: common.seed,
        models: common.models.clone(),
        registry: registry.clone(),
    })
}

/// Loads every scenario, printing each error; `None` if any failed.
pub(crate) fn load_all(common: &CommonArgs, registry: &Registry) -> Option<Vec<Scenario>> {
    let opts = match load_options(common, registry) {
        Ok(o) => o,
        Err(e) => {
            error(e);
            return None;
        }
    };
    let mut scenarios = Vec::new();
    let mut failed = false;
    for path in &common.scenarios {
        match load(path, &opts) {
            Ok(s) => scenarios.push(s),
            Err(e) => {
                error(e);
                failed = true;
            }
        }
    }
    (!failed).then_some(scenarios)
}

pub(crate) fn run(args: ValidateArgs, registry: &Registry) -> u8 {
    let Some(scenarios) = load_all(&args.common, registry) else {
        return exit::INVALID_INPUT;
    };
    for s in &scenarios {
        for w in &s.warnings {
            err_line(&format!("warning: {}: {w}", s.path.display()));
        }
        let estimate =
            match crate::estimate::check_run(&[s], None, args.common.max_memory.as_deref()) {
                Ok(e) => e,
                Err(e) => {
                    error(format!("{}: {e}", s.path.display()));
                    return exit::INVALID_INPUT;
                }
            };
        if args.quiet {
            continue;
        }
        let names: Vec<&str> = s.models.iter().map(|m| m.name.as_str()).collect();
        out(&format!(
            "ok: {} ({}, seed {}, models: {})\n",
            s.path.display(),
            s.name,
            s.seed,
            names.join(", ")
        ));
        if !estimate.worth_a_notice() {
            out(&format!("  {}\n", estimate.line()));
        }
        for line in estimate.model_lines() {
            out(&format!("    {line}\n"));
        }
    }
    exit::SUCCESS
}
