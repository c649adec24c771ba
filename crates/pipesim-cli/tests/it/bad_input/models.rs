//! Bad input: `[[model]]` tables (missing, duplicated or unknown models, distributions,
//! capacities, routes, stations).

use super::*;

#[test]
fn no_model() {
    let text: String = BASE.lines().take(4).map(|l| format!("{l}\n")).collect();
    check_run(
        "no model",
        &text,
        &[],
        &["error: s.toml: has no model", "[[model]]", "pipesim models"],
    );
}

#[test]
fn model_as_a_table_instead_of_an_array() {
    check(
        "[model]",
        &base_with("[[model]]", "[model]"),
        &[],
        &["s.toml:5:1: model: expected an array, found a table", "write one [[model]] per entry"],
    );
}

#[test]
fn two_models_with_one_name() {
    let lines: Vec<&str> = BASE.lines().collect();
    let text = format!("{BASE}{}\n", lines[4..].join("\n"));
    check_run(
        "duplicate model",
        &text,
        &[],
        &["s.toml:13:8: model[1].name: two models are named \"m\" (model[0] and model[1])"],
    );
}

#[test]
fn model_without_name_or_kind() {
    check(
        "no kind",
        &base_with("kind = \"stations\"\n", ""),
        &[],
        &["s.toml:5:1: model[0]: model \"m\" needs a `kind`, one of: ", "stations"],
    );
    check(
        "no name",
        &base_with("name = \"m\"\n", ""),
        &[],
        &["s.toml:5:1: model[0]: needs a `name`"],
    );
}

#[test]
fn unknown_model_kind() {
    check_run(
        "kafka",
        &base_with("\"stations\"", "\"kafka\""),
        &[],
        &[
            "s.toml:7:8: model[0].kind: unknown model kind `kafka`; known kinds: ",
            "baseline",
            "stations",
        ],
    );
    check(
        "statons",
        &base_with("\"stations\"", "\"statons\""),
        &[],
        &["s.toml:7:8: model[0].kind: unknown model kind `statons` (did you mean `stations`?)"],
    );
}

#[test]
fn unknown_distribution() {
    check_run(
        "gamma",
        &base_with("\"exp\"", "\"gamma\""),
        &[],
        &[
            "s.toml:11:11: model[0].station[0].service: unknown distribution `gamma`",
            "known distributions: const, exp, uniform, lognormal, pareto, empirical",
        ],
    );
    check(
        "expo",
        &base_with("\"exp\"", "\"expo\""),
        &[],
        &[
            "s.toml:11:11: model[0].station[0].service: unknown distribution `expo` (did you mean `exp`?)",
        ],
    );
}

#[test]
fn impossible_distributions() {
    check(
        "exp mean 0",
        &base_with("\"0.5ms\"", "\"0ms\""),
        &[],
        &["s.toml:11:11: model[0].station[0].service: `mean` must be greater than zero"],
    );
    check(
        "uniform min > max",
        &base_with(
            "dist = \"exp\", mean = \"0.5ms\"",
            "dist = \"uniform\", min = \"3ms\", max = \"1ms\"",
        ),
        &[],
        &["s.toml:11:11: model[0].station[0].service: `min` (3ms) is above `max` (1ms)"],
    );
    check(
        "lognormal p99 < p50",
        &base_with(
            "dist = \"exp\", mean = \"0.5ms\"",
            "dist = \"lognormal\", p50 = \"5ms\", p99 = \"1ms\"",
        ),
        &[],
        &["s.toml:11:11: model[0].station[0].service: `p99` (1ms) must be above `p50` (5ms)"],
    );
    check(
        "empirical file missing",
        &base_with(
            "dist = \"exp\", mean = \"0.5ms\"",
            "dist = \"empirical\", file = \"nope.hgrm\"",
        ),
        &[],
        &["s.toml:11:11: model[0].station[0].service: cannot read", "nope.hgrm: no such file"],
    );
}

#[test]
fn capacity_below_servers() {
    check_run(
        "capacity 2 < servers 4",
        &base_with("servers = 1", "servers = 4\ncapacity = 2"),
        &[],
        &["s.toml:11:12: model[0].station[0].capacity: capacity 2 is below servers 4"],
    );
    check(
        "capacity 0",
        &base_with("servers = 1", "servers = 1\ncapacity = 0"),
        &[],
        &["s.toml:11:12: model[0].station[0].capacity: must be at least 1"],
    );
}

#[test]
fn route_probabilities_not_summing_to_one() {
    check_run(
        "0.5 + 0.4",
        &base_with(
            "servers = 1",
            "servers = 1\nroute = [{ to = \"exit\", p = 0.5 }, { to = \"s\", p = 0.4 }]",
        ),
        &[],
        &["s.toml:11:9: model[0].station[0].route: probabilities sum to 0.9, not 1"],
    );
}

#[test]
fn route_to_an_unknown_station() {
    check(
        "to sink",
        &base_with("servers = 1", "servers = 1\nroute = [{ to = \"sink\", p = 1.0 }]"),
        &[],
        &[
            "s.toml:11:17: model[0].station[0].route[0].to: no station named \"sink\"; stations: s, or \"exit\"",
        ],
    );
}

#[test]
fn route_that_never_leaves() {
    check(
        "loop",
        &base_with("servers = 1", "servers = 1\nroute = [{ to = \"s\", p = 1.0 }]"),
        &[],
        &["s.toml:8:1: model[0].station: customers reaching station s can never leave"],
    );
}

#[test]
fn bad_stations() {
    check(
        "no station",
        BASE.split("[[model.station]]").next().unwrap(),
        &[],
        &["s.toml:5:1: model[0].station: a `stations` model needs at least one [[model.station]]"],
    );
    check(
        "station named exit",
        &base_with("name = \"s\"", "name = \"exit\""),
        &[],
        &["s.toml:9:8: model[0].station[0].name: \"exit\" is reserved"],
    );
}
