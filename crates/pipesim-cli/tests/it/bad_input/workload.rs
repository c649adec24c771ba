//! Bad input: the `[workload]` table (processes, traces, bursts, popularity, phases).

use super::*;

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
