//! Bad input: command-line flags (`--set`, `--seed`, `--jobs`, `--models`, unknown flags).

use super::*;

#[test]
fn set_unknown_key() {
    check_run(
        "ratee",
        BASE,
        &["--set", "workload.ratee=5k/s"],
        &[
            "error: s.toml: --set workload.ratee=5k/s: workload.ratee: unknown key `ratee`",
            "did you mean `workload.rate`",
        ],
    );
    check(
        "servrs",
        BASE,
        &["--set", "model[0].station[0].servrs=2"],
        &[
            "s.toml: --set model[0].station[0].servrs=2: model[0].station[0].servrs: unknown key `servrs` (did you mean `servers`?)",
        ],
    );
}

#[test]
fn set_index_past_the_end() {
    check_run(
        "model[3]",
        BASE,
        &["--set", "model[3].station[0].servers=2"],
        &["--set model[3].station[0].servers=2: `model` has 1 entry, so `[3]` does not exist"],
    );
    check(
        "station[1]",
        BASE,
        &["--set", "model[0].station[1].servers=2"],
        &[
            "--set model[0].station[1].servers=2: `model[0].station` has 1 entry, so `[1]` does not exist",
        ],
    );
    check(
        "unknown name",
        BASE,
        &["--set", "model[m].station[db].servers=2"],
        &[
            "--set model[m].station[db].servers=2: `model[0].station` has no entry named \"db\" (names: s)",
        ],
    );
}

#[test]
fn set_field_under_a_scalar() {
    check_run(
        "duration.x",
        BASE,
        &["--set", "duration.x=5s"],
        &["--set duration.x=5s: `duration` is a string, not a table: it has no field `x`"],
    );
    check(
        "servers.max",
        BASE,
        &["--set", "model[0].station[0].servers.max=5"],
        &[
            "--set model[0].station[0].servers.max=5: `model[0].station[0].servers` is an integer, not a table",
        ],
    );
}

#[test]
fn set_value_that_does_not_parse() {
    check_run(
        "rate fast",
        BASE,
        &["--set", "workload.rate=fast"],
        &[
            "s.toml: --set workload.rate=fast: workload.arrivals.rate: expected a rate such as \"300k/s\", found \"fast\"",
        ],
    );
    check_run(
        "servers many",
        BASE,
        &["--set", "model[0].station[0].servers=many"],
        &[
            "--set model[0].station[0].servers=many: model[0].station[0].servers: expected an integer from 0 to 4294967295, found the string \"many\"",
        ],
    );
    check(
        "arrivals a number",
        BASE,
        &["--set", "workload.arrivals=5"],
        &["--set workload.arrivals=5: workload.arrivals: expected a table, found the integer 5"],
    );
}

#[test]
fn set_value_is_validated_like_the_file() {
    check_run(
        "servers 0",
        BASE,
        &["--set", "model[0].station[0].servers=0"],
        &[
            "s.toml: --set model[0].station[0].servers=0: model[0].station[0].servers: must be at least 1",
        ],
    );
    check(
        "rate 0/s",
        BASE,
        &["--set", "workload.rate=0/s"],
        &["--set workload.rate=0/s: workload.arrivals.rate: a rate must be positive"],
    );
}

#[test]
fn set_flag_that_is_not_path_equals_value() {
    check(
        "no =",
        BASE,
        &["--set", "workload.rate"],
        &["error: --set workload.rate: `workload.rate` is not PATH=VALUE"],
    );
    check("empty path", BASE, &["--set", "=5"], &["error: --set =5: the path is empty"]);
    check(
        "unclosed bracket",
        BASE,
        &["--set", "model[0.servers=2"],
        &["error: --set model[0.servers=2: `model[0.servers` has an unclosed `[`"],
    );
}

#[test]
fn seed_that_is_not_a_number() {
    check_run(
        "seed abc",
        BASE,
        &["--seed", "abc"],
        &["error: invalid value 'abc' for '--seed <N>'"],
    );
    check("seed=-3", BASE, &["--seed=-3"], &["invalid value '-3' for '--seed <N>'"]);
    check(
        "seed beyond u64",
        BASE,
        &["--seed", "99999999999999999999999"],
        &[
            "invalid value '99999999999999999999999' for '--seed <N>'",
            "expected a whole number from 0 to 18446744073709551615",
        ],
    );
}

/// `--seed -3` must be read as a bad seed, not as an unknown flag `-3` (clap's tip `-- -3`
/// would turn it into a scenario path).
#[test]
fn negative_seed_names_the_flag() {
    check("seed -3", BASE, &["--seed", "-3"], &["'--seed <N>'", "-3"]);
}

#[test]
fn unknown_flag_suggests_the_near_miss() {
    check(
        "--sed",
        BASE,
        &["--sed", "5"],
        &["error: unexpected argument '--sed' found", "'--seed'"],
    );
}

#[test]
fn jobs_that_is_not_a_number() {
    run_fails(
        "jobs many",
        &Input::Text(BASE),
        &["--jobs", "many"],
        &["error: invalid value 'many' for '--jobs <N>'"],
    );
}

#[test]
fn models_naming_an_unknown_model() {
    check_run(
        "--models n",
        BASE,
        &["--models", "m,n"],
        &["error: s.toml: --models: no model named \"n\"; models: m"],
    );
}
