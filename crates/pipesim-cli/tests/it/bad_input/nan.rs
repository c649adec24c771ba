//! Bad input: NaN where a number is expected (Zipf exponent, route probability, Pareto shape).

use super::*;

#[test]
fn nan_zipf_exponent() {
    check_run(
        "exponent nan",
        &base_with("[[model]]", "keys = { popularity = \"zipf\", exponent = nan }\n[[model]]"),
        &[],
        &[
            "s.toml:5:42: workload.keys.exponent: must be a finite number greater than zero, found NaN",
        ],
    );
    check(
        "exponent inf",
        &base_with("[[model]]", "keys = { popularity = \"zipf\", exponent = inf }\n[[model]]"),
        &[],
        &[
            "s.toml:5:42: workload.keys.exponent: must be a finite number greater than zero, found inf",
        ],
    );
}

#[test]
fn nan_route_probability() {
    check(
        "p nan",
        &base_with("servers = 1", "servers = 1\nroute = [{ to = \"exit\", p = nan }]"),
        &[],
        &[
            "s.toml:11:29: model[0].station[0].route[0].p: must be a probability in (0, 1], found NaN",
        ],
    );
}

#[test]
fn nan_pareto_shape() {
    check(
        "shape nan",
        &base_with(
            "{ dist = \"exp\", mean = \"0.5ms\" }",
            "{ dist = \"pareto\", scale = \"1ms\", shape = nan }",
        ),
        &[],
        &["s.toml:11:11: model[0].station[0].service: `shape` must be a finite number, found NaN"],
    );
}
