//! Bad input: keys, units and values (unknown keys, wrong units, zero, negative and too-large
//! numbers, wrong types, names and sizes).

use super::*;

#[test]
fn unknown_key_suggests_the_near_miss() {
    check_run(
        "servrs",
        &base_with("servers = 1", "servrs = 1"),
        &[],
        &[
            "s.toml:10:1: model[0].station[0].servrs: unknown key `servrs` (did you mean `servers`?)",
            "known keys: name, servers, service, capacity, route",
        ],
    );
}

#[test]
fn rate_written_outside_arrivals_points_to_its_place() {
    check(
        "workload.rate in the file",
        &base_with("[[model]]", "rate = \"5k/s\"\n[[model]]"),
        &[],
        &["s.toml:5:1: workload.rate: unknown key `rate` (did you mean `workload.arrivals.rate`?)"],
    );
}

#[test]
fn wrong_unit() {
    check_run(
        "parsecs",
        &base_with("\"10s\"", "\"10 parsecs\""),
        &[],
        &[
            "s.toml:2:12: duration: unknown duration unit \"parsecs\" in \"10 parsecs\"",
            "ns, us, ms, s, m, h",
        ],
    );
    check(
        "rate without /s",
        &base_with("\"1k/s\"", "\"5k\""),
        &[],
        &["s.toml:4:42: workload.arrivals.rate: a rate needs a time unit", "\"5k\""],
    );
    check(
        "duration as a bare number",
        &base_with("\"10s\"", "10"),
        &[],
        &["s.toml:2:12: duration: 10 has no unit", "\"250ms\""],
    );
    check(
        "payload without a unit",
        &base_with("[[model]]", "payload = 512\n[[model]]"),
        &[],
        &["s.toml:5:11: workload.payload: 512 has no unit"],
    );
}

#[test]
fn zero_rate() {
    check_run(
        "0/s",
        &base_with("\"1k/s\"", "\"0/s\""),
        &[],
        &["s.toml:4:42: workload.arrivals.rate: a rate must be positive, found \"0/s\""],
    );
}

#[test]
fn negative_rate() {
    check(
        "-5/s",
        &base_with("\"1k/s\"", "\"-5/s\""),
        &[],
        &["s.toml:4:42: workload.arrivals.rate: a rate cannot be negative: \"-5/s\""],
    );
}

#[test]
fn nan_rate() {
    check_run(
        "nan/s",
        &base_with("\"1k/s\"", "\"nan/s\""),
        &[],
        &[
            "s.toml:4:42: workload.arrivals.rate: expected a rate such as \"300k/s\", found \"nan/s\"",
        ],
    );
}

#[test]
fn zero_duration() {
    check_run(
        "0s",
        &base_with("\"10s\"", "\"0s\""),
        &[],
        &["s.toml:2:12: duration: must be greater than zero"],
    );
}

#[test]
fn negative_duration() {
    check(
        "-1s drain",
        &base_with("[workload]", "drain = \"-1s\"\n[workload]"),
        &[],
        &["s.toml:3:9: drain: a duration cannot be negative: \"-1s\""],
    );
}

#[test]
fn warmup_not_shorter_than_the_duration() {
    check_run(
        "warmup 20s of 10s",
        &base_with("[workload]", "warmup = \"20s\"\n[workload]"),
        &[],
        &["s.toml:3:10: warmup: warmup (20s) must be shorter than the duration (10s)"],
    );
    check(
        "warmup equal to the duration",
        &base_with("[workload]", "warmup = \"10s\"\n[workload]"),
        &[],
        &["s.toml:3:10: warmup: warmup (10s) must be shorter than the duration (10s)"],
    );
}

#[test]
fn zero_window() {
    check(
        "window 0s",
        &base_with("[workload]", "window = \"0s\"\n[workload]"),
        &[],
        &["s.toml:3:10: window: must be greater than zero"],
    );
}

#[test]
fn duration_too_large() {
    check(
        "99999999999h",
        &base_with("\"10s\"", "\"99999999999h\""),
        &[],
        &["s.toml:2:12: duration: the duration \"99999999999h\" is too large"],
    );
}

#[test]
fn integer_beyond_u32() {
    check_run(
        "servers 5e9",
        &base_with("servers = 1", "servers = 5000000000"),
        &[],
        &["s.toml:10:11: model[0].station[0].servers: 5000000000 is out of range", "4294967295"],
    );
    check(
        "key count 1e11",
        &base_with("[[model]]", "keys = { count = 99999999999 }\n[[model]]"),
        &[],
        &["s.toml:5:18: workload.keys.count: 99999999999 is out of range"],
    );
}

#[test]
fn integer_beyond_i64() {
    let huge = "99999999999999999999";
    check_run(
        "servers beyond i64",
        &base_with("servers = 1", &format!("servers = {huge}")),
        &[],
        &[&format!("s.toml:10:11: model[0].station[0].servers: {huge} is out of range")],
    );
    check(
        "seed beyond u64",
        &base_with("[workload]", &format!("seed = {huge}\n[workload]")),
        &[],
        &[&format!("s.toml:3:8: seed: {huge} is out of range"), "18446744073709551615"],
    );
    // Fields that take a float: the integer is beyond what TOML allows at all.
    check(
        "zipf exponent beyond i64",
        &base_with(
            "[[model]]",
            &format!("keys = {{ popularity = \"zipf\", exponent = {huge} }}\n[[model]]"),
        ),
        &[],
        &[
            &format!("s.toml:5:42: workload.keys.exponent: {huge} is out of range"),
            "TOML integers go from -9223372036854775808 to 9223372036854775807",
        ],
    );
    check(
        "pareto shape beyond i64",
        &base_with(
            "{ dist = \"exp\", mean = \"0.5ms\" }",
            &format!("{{ dist = \"pareto\", scale = \"1ms\", shape = {huge} }}"),
        ),
        &[],
        &[&format!("s.toml:11:53: model[0].station[0].service.shape: {huge} is out of range")],
    );
}

#[test]
fn zero_servers() {
    check_run(
        "servers 0",
        &base_with("servers = 1", "servers = 0"),
        &[],
        &["s.toml:10:11: model[0].station[0].servers: must be at least 1", "10 | servers = 0"],
    );
}

#[test]
fn negative_servers() {
    check(
        "servers -1",
        &base_with("servers = 1", "servers = -1"),
        &[],
        &["s.toml:10:11: model[0].station[0].servers: -1 is out of range"],
    );
}

#[test]
fn wrong_types_are_named_in_scenario_words() {
    check(
        "servers quoted",
        &base_with("servers = 1", "servers = \"2\""),
        &[],
        &[
            "s.toml:10:11: model[0].station[0].servers: expected an integer",
            "found the string \"2\" (write numbers without quotes)",
        ],
    );
    check(
        "servers fractional",
        &base_with("servers = 1", "servers = 1.5"),
        &[],
        &[
            "s.toml:10:11: model[0].station[0].servers: expected an integer from 0 to 4294967295, found the number 1.5",
        ],
    );
    check(
        "name a number",
        &base_with("name = \"t\"", "name = 5"),
        &[],
        &["s.toml:1:8: name: expected a string, found the integer 5"],
    );
    check(
        "kind a number",
        &base_with("kind = \"stations\"", "kind = 3"),
        &[],
        &["s.toml:7:8: model[0].kind: must be a string"],
    );
}

#[test]
fn invalid_scenario_name() {
    check(
        "name with a space",
        &base_with("name = \"t\"", "name = \"a b\""),
        &[],
        &["s.toml:1:8: name: \"a b\" is not a valid name"],
    );
}

#[test]
fn payload_too_large() {
    check(
        "8GiB payload",
        &base_with("[[model]]", "payload = \"8GiB\"\n[[model]]"),
        &[],
        &["s.toml:5:11: workload.payload: 8GiB is too large"],
    );
}
