//! Bad input: fault tables (kinds the model cannot take, parameters, unknown kinds, roles the
//! model lacks, faults past the end of the run).

use super::*;

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

#[test]
fn crash_scope_unknown_misplaced_or_not_modelled() {
    let fault = |body: &str| {
        format!(
            "name = \"t\"\nduration = \"10s\"\n[workload]\narrivals = {{ process = \"poisson\", rate = \"1k/s\" }}\n[[model]]\nname = \"m\"\nkind = \"event_sourced\"\n[[fault]]\ntarget = \"log\"\nat = \"1s\"\nduration = \"2s\"\n{body}"
        )
    };
    let cases = [
        (
            "unknown scope",
            "kind = \"crash\"\nscope = \"mashine\"\n",
            "fault[0].scope: unknown scope `mashine`; one of: process, machine",
        ),
        (
            "scope of another kind",
            "kind = \"pause\"\nscope = \"machine\"\n",
            "fault[0].scope: `scope` is a parameter of `crash`, not of `pause`",
        ),
        (
            "a scope the model does not model there",
            "kind = \"crash\"\nscope = \"machine\"\n",
            "fault[0].scope: model \"m\" (event_sourced) does not model a machine crash of `log`; it takes scope: process",
        ),
    ];
    for (name, body, want) in cases {
        check(name, &fault(body), &[], &[want]);
    }
}
