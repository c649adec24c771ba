//! Bad input, through the real binary: every mistake a user can make in a scenario file or on
//! the command line gets exit code 2 and one `error:` line that says what is wrong and where
//! (`s.toml:LINE:COL: dotted.path: ...`, or the flag as given), never a panic, nothing on
//! stdout, and nothing written: not by `validate`, and not by `run`, which must leave an output
//! folder that already holds a report exactly as it was.
//!
//! Each case is one call: [`check`] runs `pipesim validate`; [`check_run`] runs `validate` and
//! then `pipesim run --out out`. The scenario is written to `s.toml` in a fresh temporary
//! folder, which is also the working directory, so messages name it `s.toml`.

use crate::support::*;
use std::path::Path;

/// A minimal valid scenario; cases change one thing in it. Line numbers matter to the
/// expected locations: `servers` is on line 10, `service` on 11.
const BASE: &str = r#"name = "t"
duration = "10s"
[workload]
arrivals = { process = "poisson", rate = "1k/s" }
[[model]]
name = "m"
kind = "stations"
[[model.station]]
name = "s"
servers = 1
service = { dist = "exp", mean = "0.5ms" }
"#;

/// What `--out` holds before a run that must fail: a report from an earlier run.
const SENTINEL: &[u8] =
    b"{\"sentinel\": \"an earlier report that a failed run must not touch\"}\n\xff\x00";

/// `BASE` with `from` (which must occur exactly once) replaced by `to`.
fn base_with(from: &str, to: &str) -> String {
    assert_eq!(BASE.matches(from).count(), 1, "`{from}` must occur once in BASE");
    BASE.replacen(from, to, 1)
}

/// What the scenario argument is.
enum Input<'a> {
    /// `s.toml` with this text.
    Text(&'a str),
    /// `s.toml` with these bytes.
    Bytes(&'a [u8]),
    /// `missing.toml`, which does not exist.
    Missing,
    /// `scenarios`, a folder (holding a valid scenario).
    Directory,
}

impl Input<'_> {
    /// Creates the input in `dir`; returns the argument naming it.
    fn create(&self, dir: &Path) -> &'static str {
        let write = |bytes: &[u8]| std::fs::write(dir.join("s.toml"), bytes).unwrap();
        match self {
            Input::Text(t) => write(t.as_bytes()),
            Input::Bytes(b) => write(b),
            Input::Missing => return "missing.toml",
            Input::Directory => {
                std::fs::create_dir(dir.join("scenarios")).unwrap();
                std::fs::write(dir.join("scenarios/s.toml"), BASE).unwrap();
                return "scenarios";
            }
        }
        "s.toml"
    }
}

/// `pipesim validate INPUT ARGS...` fails with exit code 2 and `expected` in its one error,
/// and writes nothing.
fn check_input(name: &str, input: Input<'_>, args: &[&str], expected: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = input.create(tmp.path());
    let before = snapshot(tmp.path());
    let mut argv = vec!["validate", scenario];
    argv.extend_from_slice(args);
    let out = pipesim(tmp.path(), &argv);
    assert_rejected_errors(&format!("{name}: pipesim {}", argv.join(" ")), &out, 1, expected);
    assert_eq!(snapshot(tmp.path()), before, "{name}: validate wrote files");
}

/// [`check_input`] for a scenario text.
fn check(name: &str, scenario: &str, args: &[&str], expected: &[&str]) {
    check_input(name, Input::Text(scenario), args, expected);
}

/// `pipesim run INPUT --out out ARGS...` with `out/report.json` already there fails with exit
/// code 2 and `expected` in its one error, and leaves every file byte-for-byte as it was,
/// none added.
fn run_fails(name: &str, input: &Input<'_>, args: &[&str], expected: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = input.create(tmp.path());
    std::fs::create_dir(tmp.path().join("out")).unwrap();
    std::fs::write(tmp.path().join("out/report.json"), SENTINEL).unwrap();
    let before = snapshot(tmp.path());
    let mut argv = vec!["run", scenario, "--out", "out"];
    argv.extend_from_slice(args);
    let out = pipesim(tmp.path(), &argv);
    assert_rejected_errors(&format!("{name}: pipesim {}", argv.join(" ")), &out, 1, expected);
    assert_eq!(
        std::fs::read(tmp.path().join("out/report.json")).unwrap(),
        SENTINEL,
        "{name}: the earlier report.json changed"
    );
    assert_eq!(snapshot(tmp.path()), before, "{name}: run wrote files");
}

/// [`run_fails`] and [`check_input`]: `run` and `validate` give the same error.
fn check_run_input(name: &str, input: Input<'_>, args: &[&str], expected: &[&str]) {
    run_fails(name, &input, args, expected);
    check_input(name, input, args, expected);
}

/// [`check_run_input`] for a scenario text.
fn check_run(name: &str, scenario: &str, args: &[&str], expected: &[&str]) {
    check_run_input(name, Input::Text(scenario), args, expected);
}

// ---------------------------------------------------------------------------------------------
// The file as a whole

#[test]
fn missing_file() {
    check_run_input(
        "missing file",
        Input::Missing,
        &[],
        &["error: missing.toml: cannot read the scenario: no such file"],
    );
}

#[test]
fn directory_instead_of_a_file() {
    check_run_input(
        "directory",
        Input::Directory,
        &[],
        &["error: scenarios: is a directory, not a scenario file"],
    );
}

#[test]
fn empty_file() {
    check_run_input(
        "empty file",
        Input::Text(""),
        &[],
        &["error: s.toml: is empty", "`name`", "[[model]]"],
    );
    check("blank file", " \n\t\n", &[], &["s.toml: is empty"]);
}

#[test]
fn file_of_comments_only() {
    check("comments only", "# a scenario, some day\n", &[], &["s.toml:1:1: missing key `name`"]);
}

#[test]
fn binary_file() {
    check_run_input(
        "binary",
        Input::Bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00binary"),
        &[],
        &["error: s.toml: is not a text file (byte 7 is NUL)"],
    );
}

#[test]
fn file_that_is_not_utf8() {
    check_run_input(
        "latin-1",
        Input::Bytes(b"name = \"caf\xe9\"\n"),
        &[],
        &["error: s.toml: is not UTF-8 text (invalid byte at offset 11)"],
    );
}

#[test]
fn toml_syntax_error() {
    check_run(
        "key without =",
        &base_with("servers = 1", "servers 1"),
        &[],
        &["s.toml:10:9: TOML syntax error", "expected `=`", "10 | servers 1"],
    );
    check(
        "unterminated string",
        &base_with("name = \"t\"", "name = \"t"),
        &[],
        &["s.toml:1:10: TOML syntax error", "invalid basic string"],
    );
}

#[test]
fn unknown_top_level_key() {
    check(
        "top-level typo",
        &base_with("duration = \"10s\"", "duration = \"10s\"\ndurration = \"5s\""),
        &[],
        &[
            "s.toml:3:1: durration: unknown key `durration` (did you mean `duration`?)",
            "known keys: name, description, seed, duration, warmup, drain, window, workload, model, fault",
        ],
    );
    check(
        "misspelt table",
        &base_with("[workload]", "[workloads]"),
        &[],
        &["s.toml:3:2: workloads: unknown key `workloads` (did you mean `workload`?)"],
    );
}

// ---------------------------------------------------------------------------------------------
// Keys, units and values

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

// ---------------------------------------------------------------------------------------------
// NaN

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

// ---------------------------------------------------------------------------------------------
// Workload

#[test]
fn unknown_process() {
    check_run(
        "poison",
        &base_with("\"poisson\"", "\"poison\""),
        &[],
        &[
            "s.toml:4:24: workload.arrivals.process: unknown value `poison` (did you mean `poisson`?)",
            "known values: poisson, constant, bursty, trace",
        ],
    );
}

#[test]
fn trace_with_a_rate_is_refused_plainly() {
    check(
        "trace",
        &base_with("\"poisson\"", "\"trace\""),
        &[],
        &["s.toml:4:40: workload.arrivals.rate: a trace sets its own arrival times"],
    );
}

#[test]
fn bursty_without_on_and_off() {
    check(
        "bursty",
        &base_with("\"poisson\"", "\"bursty\""),
        &[],
        &["s.toml:4:12: workload.arrivals: a bursty process needs `on` and `off`"],
    );
    check(
        "on with poisson",
        &base_with("rate = \"1k/s\" }", "rate = \"1k/s\", on = \"1s\" }"),
        &[],
        &["s.toml:4:55: workload.arrivals.on: `on` and `off` apply only to process = \"bursty\""],
    );
}

#[test]
fn unknown_popularity() {
    check(
        "zipff",
        &base_with("[[model]]", "keys = { popularity = \"zipff\" }\n[[model]]"),
        &[],
        &["s.toml:5:23: workload.keys.popularity: unknown value `zipff` (did you mean `zipf`?)"],
    );
}

#[test]
fn phase_after_the_end_of_arrivals() {
    check(
        "phase at 20s",
        &base_with("[[model]]", "[[workload.phase]]\nat = \"20s\"\nrate = \"2k/s\"\n[[model]]"),
        &[],
        &["s.toml:6:6: workload.phase[0].at: 20s is not before the end of arrivals (10s)"],
    );
}

#[test]
fn fault_kind_the_model_cannot_take() {
    let text = "name = \"t\"\nduration = \"10s\"\n[workload]\narrivals = { process = \"poisson\", rate = \"1k/s\" }\n[[model]]\nname = \"m\"\nkind = \"baseline\"\n[[fault]]\nkind = \"schema_flood\"\ntarget = \"network\"\nat = \"1s\"\nduration = \"5s\"\ninterval = \"1s\"\n";
    check(
        "fault kind the model cannot take",
        text,
        &[],
        &[
            "s.toml:9:8: fault[0].kind: model \"m\" (baseline) cannot take a `schema_flood` on `network`; it takes: partition, latency_spike, packet_loss",
        ],
    );
}

#[test]
fn fault_parameters_of_the_new_kinds() {
    let fault = |body: &str| format!("{BASE}[[fault]]\ntarget = \"server\"\nat = \"1s\"\n{body}");
    let cases: [(&str, &str, &str); 9] = [
        (
            "disk stall without effect",
            "kind = \"disk_stall\"\nduration = \"2s\"\n",
            "fault[0].kind: a disk_stall needs one of `factor`",
        ),
        (
            "disk stall two effects",
            "kind = \"disk_stall\"\nduration = \"2s\"\nfactor = 3\nstop = true\n",
            "fault[0].stop: give a disk_stall only one of `factor`, `extra` and `stop`",
        ),
        (
            "disk stall factor below one",
            "kind = \"disk_stall\"\nduration = \"2s\"\nfactor = 0.5\n",
            "fault[0].factor: must be a slowdown above 1",
        ),
        (
            "rolling restart with duration",
            "kind = \"rolling_restart\"\nduration = \"2s\"\ndowntime = \"1s\"\n",
            "fault[0].duration: a rolling_restart's window follows from its `downtime`",
        ),
        (
            "rolling restart without downtime",
            "kind = \"rolling_restart\"\n",
            "fault[0].downtime: a rolling_restart needs `downtime`",
        ),
        (
            "rolling restart zero nodes",
            "kind = \"rolling_restart\"\ndowntime = \"1s\"\nnodes = 0\n",
            "fault[0].nodes: must be at least 1",
        ),
        (
            "schema flood without interval",
            "kind = \"schema_flood\"\nduration = \"5s\"\n",
            "fault[0].interval: a schema_flood needs `interval`",
        ),
        (
            "checkpoint storm interval longer than window",
            "kind = \"checkpoint_storm\"\nduration = \"1s\"\ninterval = \"2s\"\n",
            "fault[0].interval: 2s is longer than the window (1s)",
        ),
        (
            "pause with a parameter of another kind",
            "kind = \"pause\"\nduration = \"1s\"\ninterval = \"2s\"\n",
            "fault[0].interval: `interval` is a parameter of `schema_flood` and `checkpoint_storm`, not of `pause`",
        ),
    ];
    for (name, body, want) in cases {
        check(name, &fault(body), &[], &[want]);
    }
}

#[test]
fn fault_kind_unknown() {
    let text = format!(
        "{BASE}[[fault]]\nkind = \"crsh\"\ntarget = \"store\"\nat = \"1s\"\nduration = \"2s\"\n"
    );
    check(
        "fault kind unknown",
        &text,
        &[],
        &["fault[0].kind: unknown fault kind `crsh` (did you mean `crash`?)"],
    );
}

#[test]
fn fault_aimed_at_a_role_the_model_lacks() {
    let text = format!(
        "{BASE}[[fault]]\nkind = \"crash\"\ntarget = \"store\"\nat = \"1s\"\nduration = \"2s\"\n"
    );
    check_run(
        "fault role",
        &text,
        &[],
        &[
            "s.toml:14:10: fault[0].target: model \"m\" (stations) has no role `store`; it takes no faults",
        ],
    );
}

#[test]
fn fault_past_the_end_of_the_run() {
    let text = format!(
        "{BASE}[[fault]]\nkind = \"crash\"\ntarget = \"store\"\nat = \"20s\"\nduration = \"2s\"\n"
    );
    check(
        "fault past end",
        &text,
        &[],
        &["fault[0].at: 20s is past the end of the arrivals (10s)"],
    );
}

// ---------------------------------------------------------------------------------------------
// Models

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

// ---------------------------------------------------------------------------------------------
// Flags

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

// ---------------------------------------------------------------------------------------------
// Several scenarios, and the output folder

/// `a.toml` (valid, model `m`) and `b.toml` (valid, model `other`) in a fresh folder.
fn two_scenarios() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.toml"), BASE).unwrap();
    let b = base_with("name = \"t\"", "name = \"u\"").replace("name = \"m\"", "name = \"other\"");
    std::fs::write(tmp.path().join("b.toml"), b).unwrap();
    tmp
}

#[test]
fn flag_errors_name_the_scenario_they_do_not_fit() {
    let tmp = two_scenarios();
    let before = snapshot(tmp.path());
    let out = pipesim(tmp.path(), &["validate", "a.toml", "b.toml", "--models", "m"]);
    assert_rejected_errors(
        "--models m over a and b",
        &out,
        1,
        &["error: b.toml: --models: no model named \"m\"; models: other"],
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("a.toml"));
    let argv = ["validate", "a.toml", "b.toml", "--set", "model[0].station[0].servers=0"];
    let out = pipesim(tmp.path(), &argv);
    assert_rejected_errors(
        "--set servers=0 over a and b",
        &out,
        2,
        &[
            "error: a.toml: --set model[0].station[0].servers=0:",
            "error: b.toml: --set model[0].station[0].servers=0:",
        ],
    );
    assert_eq!(snapshot(tmp.path()), before);
}

#[test]
fn a_bad_scenario_stops_the_good_ones_from_running() {
    let tmp = two_scenarios();
    std::fs::write(tmp.path().join("b.toml"), base_with("servers = 1", "servers = 0")).unwrap();
    std::fs::create_dir(tmp.path().join("out")).unwrap();
    std::fs::write(tmp.path().join("out/report.json"), SENTINEL).unwrap();
    let before = snapshot(tmp.path());
    let out = pipesim(tmp.path(), &["run", "a.toml", "b.toml", "--out", "out"]);
    assert_rejected_errors(
        "run a (good) and b (bad)",
        &out,
        1,
        &["error: b.toml:10:11: model[0].station[0].servers: must be at least 1"],
    );
    assert_eq!(snapshot(tmp.path()), before, "nothing may be written, not even for a.toml");
}

#[test]
fn output_folder_that_is_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.toml"), BASE).unwrap();
    std::fs::write(tmp.path().join("out"), SENTINEL).unwrap();
    let before = snapshot(tmp.path());
    let out = pipesim(tmp.path(), &["run", "s.toml", "--out", "out", "--quiet"]);
    assert_rejected_errors(
        "--out is a file",
        &out,
        1,
        &["error: --out: out: is a file, not a folder"],
    );
    assert_eq!(snapshot(tmp.path()), before);
}

// ---------------------------------------------------------------------------------------------
// Not an error

/// A station with utilisation 2 (500/s arrivals, 4 ms mean service, one server) and an
/// unbounded queue: a legitimate experiment, warned about, whose backlog grows by about
/// (500 − 250)/s while arrivals last and then drains.
#[test]
fn utilisation_above_one_is_a_warning_and_the_backlog_grows() {
    let text = base_with("\"10s\"", "\"4s\"")
        .replace("\"1k/s\"", "\"500/s\"")
        .replace("\"0.5ms\"", "\"4ms\"");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.toml"), &text).unwrap();

    let out = pipesim(tmp.path(), &["validate", "s.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: s.toml: model m: station s: utilisation 2.000 >= 1"),
        "{stderr}"
    );

    let out = pipesim(tmp.path(), &["run", "s.toml", "--out", "out"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("station s: utilisation 2.000 >= 1 with an unbounded queue"),
        "{stderr}"
    );
    assert!(!stderr.contains("error"), "{stderr}");
    assert_no_forbidden("run with utilisation 2", &out);

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("out/report.json")).unwrap())
            .unwrap();
    let timeline = report["models"][0]["timeline"].as_array().unwrap();
    let field = |row: &serde_json::Value, f: &str| {
        row[f].as_f64().unwrap_or_else(|| panic!("timeline row without {f}: {row}"))
    };
    let during: Vec<f64> =
        timeline.iter().filter(|r| field(r, "t_s") < 4.0).map(|r| field(r, "backlog")).collect();
    assert_eq!(during.len(), 4, "{timeline:?}");
    assert!(
        during.windows(2).all(|w| w[1] > w[0] + 100.0),
        "the backlog must grow every second of arrivals: {during:?}"
    );
    // (λ − μ)·T = (500 − 250)·4 = 1000 waiting at the end of arrivals.
    let end = *during.last().unwrap();
    assert!((700.0..1300.0).contains(&end), "backlog at 4 s: {end}");
    // Unbounded: nothing dropped, and everything offered is delivered once the queue drains.
    let sum = |f: &str| timeline.iter().map(|r| field(r, f)).sum::<f64>();
    assert_eq!(sum("dropped"), 0.0);
    assert_eq!(sum("delivered"), sum("offered"));
    assert_eq!(field(timeline.last().unwrap(), "backlog"), 0.0);
}
