//! Bad input to the wire backend's own tables (`[model.wire]`, faults, the run's cost), through
//! the real binary: exit 2 before anything runs, an error naming the file, line, field and
//! model, nothing written; and the warnings a wire run gives before it starts.

use crate::support::*;

const HEADER: &str = r#"name = "t"
duration = "10s"
[workload]
arrivals = { process = "poisson", rate = "1k/s" }
[[model]]
name = "w"
kind = "wire_fifo"
server = { service = { dist = "exp", mean = "2ms" } }
"#;

/// `validate` and `run` of the header plus `extra` are both rejected ([`assert_rejected_in`])
/// with every `expected` text, and write nothing.
fn refused(name: &str, extra: &str, expected: &[&str]) {
    let tmp = scratch(&format!("{HEADER}{extra}"));
    for args in [&["validate", "s.toml"][..], &["run", "s.toml", "--out", "out", "--quiet"]] {
        assert_rejected_in(name, tmp.path(), args, expected);
    }
}

#[test]
fn a_tick_under_a_millisecond_or_not_whole_milliseconds_is_refused() {
    for (tick, shown) in [("500us", "500us"), ("1500us", "1.5ms"), ("0s", "0s")] {
        refused(
            tick,
            &format!("wire = {{ tick = \"{tick}\" }}\n"),
            &[
                "s.toml:9:",
                &format!(
                    "model[0].wire.tick: {shown} is not a whole number of milliseconds from 1ms to 100ms"
                ),
                "use `wire.dilation` for finer times",
                "model \"w\", kind wire_fifo",
            ],
        );
    }
    refused("tick 101ms", "wire = { tick = \"101ms\" }\n", &["model[0].wire.tick: 101ms is not"]);
}

#[test]
fn a_dilation_of_zero_or_beyond_its_limit_is_refused() {
    refused(
        "dilation 0",
        "wire = { dilation = 0 }\n",
        &["model[0].wire.dilation: must be from 1 to 1000, found 0"],
    );
    refused(
        "dilation 1001",
        "wire = { dilation = 1001 }\n",
        &["model[0].wire.dilation: must be from 1 to 1000, found 1001"],
    );
    refused("dilation 2.5", "wire = { dilation = 2.5 }\n", &["model[0].wire.dilation"]);
}

#[test]
fn a_fault_the_wire_backend_cannot_apply_names_the_kinds_it_takes() {
    for (kind, extra) in [("disk_stall", "factor = 10\n"), ("schema_flood", "interval = \"1s\"\n")]
    {
        refused(
            kind,
            &format!(
                "[[fault]]\nkind = \"{kind}\"\n{extra}target = \"server\"\nat = \"2s\"\nduration = \"1s\"\n"
            ),
            &[
                &format!(
                    "fault[0].kind: model \"w\" (wire_fifo) cannot take a `{kind}` on `server`"
                ),
                "it takes: crash, rolling_restart, pause, partition, latency_spike, packet_loss",
            ],
        );
    }
    refused(
        "lost messages for good",
        "network = { drop = 0.01 }\n",
        &[
            "model[0].network.drop: the wire backend cannot lose one message for good",
            "packet_loss",
        ],
    );
}

#[test]
fn producer_hosts_beyond_the_limit_are_refused() {
    refused(
        "producer hosts 0",
        "wire = { producer_hosts = 0 }\n",
        &["wire.producer_hosts: must be from 1 to 16, found 0"],
    );
    refused(
        "producer hosts 17",
        "wire = { producer_hosts = 17 }\n",
        &["wire.producer_hosts: must be from 1 to 16, found 17"],
    );
}

#[test]
fn a_run_predicted_slower_than_ten_times_real_time_warns_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{HEADER}wire = {{ dilation = 1000, producer_hosts = 16 }}\n");
    std::fs::write(dir.path().join("s.toml"), text).unwrap();
    let out = pipesim(dir.path(), &["validate", "s.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("this wire run is predicted to take about")
            && stderr.contains("its simulated time: 40000000 steps of 17 hosts")
            && stderr.contains("raise wire.tick, lower wire.dilation or the duration"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("min on one core") || stdout.contains("h on one core"), "{stdout}");
}

#[test]
fn a_duration_under_twenty_ticks_warns_with_the_predicted_bias() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), HEADER).unwrap();
    let out = pipesim(dir.path(), &["validate", "s.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("server.service (mean) is 2ms but wire time resolves 1ms (tick 1ms / dilation 1): rounding up to whole ticks adds about 500us to it on average (+25 %); raise wire.dilation to at least 10"),
        "{stderr}"
    );
    std::fs::write(
        dir.path().join("s.toml"),
        format!("{HEADER}wire = {{ dilation = 200 }}\nnetwork = {{ delay = \"1ms\" }}\n"),
    )
    .unwrap();
    let out = pipesim(dir.path(), &["validate", "s.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("rounding up"), "no warning at dilation 200: {stderr}");
}

#[test]
fn a_plain_command_time_for_the_wire_cluster_is_refused() {
    // The wire cluster's commands run inside its script: a separate command time would be
    // accepted and ignored, so it is refused instead.
    let lua = HEADER.replace(
        "kind = \"wire_fifo\"\nserver = { service = { dist = \"exp\", mean = \"2ms\" } }\n",
        "kind = \"wire_lua\"\n",
    );
    assert!(lua.contains("wire_lua"), "the header's model table changed");
    let tmp = scratch(&format!("{lua}redis = {{ command = \"5us\" }}\n"));
    for args in [&["validate", "s.toml"][..], &["run", "s.toml", "--out", "out", "--quiet"]] {
        assert_rejected_in(
            "redis.command",
            tmp.path(),
            args,
            &["model[0].redis.command: refused if changed", "`redis.script`"],
        );
    }
}
