//! Hostile input (issue 12), through the real binary: inputs that are not regular files, values
//! at and past every documented limit, messages that would echo huge values, and the smaller
//! cases: every one exit 2 with a short message naming the file or field, nothing written,
//! never a panic or an abort.

use crate::support::*;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long one run may take: a FIFO that blocks must fail the test, not hang it.
const LIMIT: Duration = Duration::from_secs(60);

const BASE: &str = r#"name = "t"
duration = "2s"
[workload]
arrivals = { process = "poisson", rate = "500/s" }
keys = { count = 100 }
[[model]]
name = "m"
kind = "stations"
[[model.station]]
name = "s"
servers = 1
service = { dist = "exp", mean = "0.5ms" }
"#;

/// The bad-input contract ([`assert_rejected`]) with every `want`, and a short message: one
/// `error:` line (plus a snippet) under 2,000 bytes.
fn invalid(what: &str, o: &Output, want: &[&str]) {
    let err = assert_rejected(what, o, want);
    assert!(err.len() < 2_000, "{what}: a {} byte message", err.len());
}

fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo").arg(path).status().map(|s| s.success()).unwrap_or(false)
}

#[test]
fn inputs_that_are_not_regular_files_are_refused_at_once() {
    let tmp = scratch(BASE);
    let dir = tmp.path();
    if !mkfifo(&dir.join("fifo")) {
        return;
    }
    // A scenario that never ends, or blocks.
    for input in ["/dev/zero", "fifo"] {
        let o = pipesim_within(dir, &["validate", input], LIMIT);
        invalid(input, &o, &[input, "not a regular file"]);
    }
    // A trace (read twice: at load time and by every run) and an .hgrm table.
    for (file, text) in [
        (
            "trace",
            BASE.replace(
                "{ process = \"poisson\", rate = \"500/s\" }",
                "{ process = \"trace\", file = \"fifo.csv\" }",
            ),
        ),
        (
            "hgrm",
            BASE.replace(
                "{ dist = \"exp\", mean = \"0.5ms\" }",
                "{ dist = \"empirical\", file = \"/dev/zero\" }",
            ),
        ),
    ] {
        if file == "trace" {
            assert!(mkfifo(&dir.join("fifo.csv")));
        }
        std::fs::write(dir.join("x.toml"), text).unwrap();
        let o = pipesim_within(dir, &["validate", "x.toml"], LIMIT);
        invalid(file, &o, &["not a regular file"]);
    }
    // Reports and sweep parts.
    for args in [
        vec!["compare", "/dev/zero", "fifo"],
        vec!["compare", "fifo", "/dev/zero"],
        vec!["merge", "/dev/zero", "--out", "m"],
        vec!["merge", "fifo", "--out", "m"],
    ] {
        let o = pipesim_within(dir, &args, LIMIT);
        invalid(&format!("{args:?}"), &o, &["not a regular file"]);
        assert!(!dir.join("m").exists());
    }
    // A baseline that is a FIFO.
    std::fs::create_dir_all(dir.join("base/t")).unwrap();
    assert!(mkfifo(&dir.join("base/t/report.json")));
    let o = pipesim_within(dir, &["gate", "s.toml", "--baseline", "base"], LIMIT);
    invalid("baseline FIFO", &o, &["report.json", "not a regular file"]);
}

#[test]
fn a_byte_order_mark_is_skipped_in_traces_and_fault_traces() {
    let text = BASE
        .replace(
            "{ process = \"poisson\", rate = \"500/s\" }",
            "{ process = \"trace\", file = \"events.csv\" }",
        )
        .replace(
            "keys = { count = 100 }",
            "keys = { count = 100 }\n[faults]\ntrace = \"faults.csv\"",
        );
    let tmp = scratch(&text);
    let dir = tmp.path();
    std::fs::write(dir.join("events.csv"), "\u{feff}time,key\n1000,1\n2000,2\n").unwrap();
    std::fs::write(dir.join("faults.csv"), "\u{feff}kind,target,at,duration\n").unwrap();
    let o = pipesim_within(dir, &["run", "s.toml", "--out", "out", "--quiet"], LIMIT);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

/// (what, text changed from BASE, the field the error names).
fn limit_cases() -> Vec<(&'static str, String, &'static str)> {
    let with_model = |kind_and_table: &str| {
        let model = BASE.split("[[model]]").next().unwrap().to_string();
        format!("{model}[[model]]\nname = \"m\"\n{kind_and_table}\n")
    };
    vec![
        ("1 ns window", BASE.replace("duration = \"2s\"", "duration = \"2s\"\nwindow = \"1ns\""), "window"),
        ("largest key count", BASE.replace("count = 100", "count = 4294967295"), "workload.keys.count"),
        ("a rate above 1/ns", BASE.replace("\"500/s\"", "\"2G/s\""), "workload.arrivals.rate"),
        ("too many arrivals", BASE.replace("\"500/s\"", "\"1G/s\"").replace("\"2s\"", "\"100h\"\nwindow = \"1h\""), "workload.arrivals"),
        ("a 65,536-character model name", BASE.replace("name = \"m\"", &format!("name = \"{}\"", "m".repeat(65_536))), "model[0].name"),
        ("a 250-character scenario name", BASE.replace("name = \"t\"", &format!("name = \"{}\"", "t".repeat(250))), "name"),
        ("1,001 stations", BASE.replace("[[model.station]]\nname = \"s\"", &(0..1001).map(|i| format!("[[model.station]]\nname = \"s{i}\"\nservice = \"1us\"\n")).collect::<String>()).replace("servers = 1\nservice = { dist = \"exp\", mean = \"0.5ms\" }\n", ""), "station"),
        ("baseline instances", with_model("kind = \"baseline\"\n[model.producers]\ninstances = 4000000000"), "producers.instances"),
        ("baseline readers", with_model("kind = \"baseline\"\n[model.readers]\ncount = 4000000000"), "readers.count"),
        ("baseline pool", with_model("kind = \"baseline\"\n[model.pool]\nsize = 4000000000"), "pool.size"),
        ("baseline cores", with_model("kind = \"baseline\"\n[model.store]\ncores = 4000000000"), "store.cores"),
        ("lua LRU", with_model("kind = \"lua_ordered\"\n[model.lru]\ncapacity = 4000000000"), "lru.capacity"),
        ("lua batch", with_model("kind = \"lua_ordered\"\n[model.writeback]\nbatch_max = 4000000000"), "writeback.batch_max"),
        ("sharded shards", with_model("kind = \"sharded\"\n[model.router]\nshards = 4000000000"), "router.shards"),
        ("sharded instances", with_model("kind = \"sharded\"\n[model.router]\ninstances = 4000000000"), "router.instances"),
        ("event_sourced partitions", with_model("kind = \"event_sourced\"\n[model.log]\npartitions = 4000000000"), "log.partitions"),
        ("event_sourced brokers", with_model("kind = \"event_sourced\"\n[model.log]\nbrokers = 4000000000\nreplication_factor = 1\nmin_insync_replicas = 1"), "log.brokers"),
        ("event_sourced memtables", with_model("kind = \"event_sourced\"\n[model.log]\nmemtables = 4000000000"), "log.memtables"),
        ("event_sourced workers", with_model("kind = \"event_sourced\"\nconsumer = \"projection\"\n[model.projection]\nworkers = 4000000000"), "projection.workers"),
        ("event_sourced cache", with_model("kind = \"event_sourced\"\n[model.cache]\nenabled = true\ncapacity = 4000000000"), "cache.capacity"),
        ("event_sourced view", with_model("kind = \"event_sourced\"\n[model.view]\nservers = 4000000000"), "view.servers"),
        ("event_sourced poll", with_model("kind = \"event_sourced\"\n[model.kafka_consumer]\nmax_poll_records = 4000000000"), "kafka_consumer.max_poll_records"),
        ("cached entities", with_model("kind = \"cached\"\n[model.cache]\nentities = 4000000000"), "cache.entities"),
        ("cached ring", with_model("kind = \"cached\"\n[model.cache]\nring = 4000000000"), "cache.ring"),
        ("cached partitions", with_model("kind = \"cached\"\n[model.topic]\npartitions = 4000000000"), "topic.partitions"),
        ("cached connections", with_model("kind = \"cached\"\n[model.writer]\nconnections = 4000000000"), "writer.connections"),
        ("a rolling restart of 10^9 nodes", format!("{BASE}[[fault]]\nkind = \"rolling_restart\"\ntarget = \"store\"\nat = \"1s\"\ndowntime = \"1ms\"\nnodes = 1000000000\n").replace("kind = \"stations\"\n[[model.station]]\nname = \"s\"\nservers = 1\nservice = { dist = \"exp\", mean = \"0.5ms\" }\n", "kind = \"baseline\"\n"), "fault[0].nodes"),
        ("a schema flood every 1 ns", with_model("kind = \"event_sourced\"") + "[[fault]]\nkind = \"schema_flood\"\ntarget = \"log\"\nat = \"1s\"\nduration = \"500ms\"\ninterval = \"1ns\"\n", "fault[0].interval"),
        ("a million seeds", format!("{BASE}[sweep]\nseeds = 1000000\n"), "sweep.seeds"),
    ]
}

#[test]
fn every_count_has_a_limit_that_is_an_error_naming_its_field() {
    let tmp = tempfile::tempdir().unwrap();
    for (what, text, field) in limit_cases() {
        std::fs::write(tmp.path().join("s.toml"), &text).unwrap();
        let o = pipesim_within(tmp.path(), &["validate", "s.toml"], LIMIT);
        invalid(what, &o, &["s.toml", &format!("{field}:")]);
    }
}

#[test]
fn models_beyond_the_limit_are_refused_and_the_limit_validates_quickly() {
    let model = |i: usize| {
        format!(
            "[[model]]\nname = \"m{i}\"\nkind = \"stations\"\n[[model.station]]\nname = \"s\"\nservice = \"1us\"\n"
        )
    };
    let head = BASE.split("[[model]]").next().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let many: String = (0..64).map(model).collect();
    std::fs::write(tmp.path().join("s.toml"), format!("{head}{many}")).unwrap();
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let o = pipesim_within(tmp.path(), &["validate", "s.toml", "--quiet"], LIMIT);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(start.elapsed() < Duration::from_secs(10), "validate took {:?}", start.elapsed());
    std::fs::write(tmp.path().join("s.toml"), format!("{head}{many}{}", model(64))).unwrap();
    invalid(
        "65 models",
        &pipesim_within(tmp.path(), &["validate", "s.toml"], LIMIT),
        &["model:", "64 models"],
    );
}

#[test]
fn messages_cut_long_values_instead_of_echoing_them() {
    let long = "k".repeat(100_000);
    let tmp = scratch(&BASE.replace("kind = \"stations\"", &format!("kind = \"{long}\"")));
    let o = pipesim_within(tmp.path(), &["validate", "s.toml"], LIMIT);
    invalid("a 100 kB kind", &o, &["model[0].kind", "more characters"]);
    let o = pipesim_within(
        tmp.path(),
        &["validate", "s.toml", "--set", &format!("workload.rate={long}")],
        LIMIT,
    );
    invalid("a 100 kB --set", &o, &["more characters"]);
}

#[test]
fn simultaneous_schema_floods_under_a_frozen_schema_run() {
    let text = format!(
        "{}[[model]]\nname = \"frozen\"\nkind = \"event_sourced\"\nconsumer = \"projection\"\nschema = \"frozen\"\n{}",
        BASE.split("[[model]]").next().unwrap(),
        "[[fault]]\nkind = \"schema_flood\"\ntarget = \"log\"\nat = \"500ms\"\nduration = \"100ms\"\ninterval = \"50ms\"\n".repeat(2)
    );
    let tmp = scratch(&text);
    let o = pipesim_within(tmp.path(), &["run", "s.toml", "--out", "out", "--quiet"], LIMIT);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_warmup_that_leaves_nothing_measured_is_a_warning() {
    let tmp = scratch(
        &BASE
            .replace("\"500/s\"", "\"1/s\"")
            .replace("duration = \"2s\"", "duration = \"2s\"\nwarmup = \"1999ms\"\nseed = 3"),
    );
    let o = pipesim_within(tmp.path(), &["run", "s.toml", "--out", "out", "--quiet"], LIMIT);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning: s.toml: model m: no event was created in the measured interval"),
        "{err}"
    );
    let report = std::fs::read_to_string(tmp.path().join("out/report.json")).unwrap();
    assert!(report.contains("no event was created in the measured interval"));
}

#[test]
fn find_max_rate_refuses_a_precision_it_cannot_reach() {
    let tmp = scratch(BASE);
    for p in ["1e-300", "0", "1", "NaN"] {
        let o = pipesim_within(
            tmp.path(),
            &["sweep", "s.toml", "--find-max-rate", "--slo", "p99 < 50ms", "--precision", p],
            LIMIT,
        );
        invalid(p, &o, &["--precision"]);
    }
}

#[test]
fn every_command_accepts_quiet() {
    let tmp = scratch(&format!("{BASE}[sweep]\nseeds = 2\n"));
    let dir = tmp.path();
    for args in [
        vec!["validate", "s.toml", "--quiet"],
        vec!["run", "s.toml", "--out", "r", "--quiet"],
        vec!["sweep", "s.toml", "--out", "sw", "--quiet"],
        vec!["sweep", "s.toml", "--partition", "slice:1/1", "--out", "parts", "--quiet"],
        vec!["merge", "parts/sweep-part-slice-1-of-1.json", "--out", "merged", "--quiet"],
        vec!["compare", "r", "r", "--quiet"],
        vec!["gate", "s.toml", "--baseline", "b", "--bless", "--quiet"],
        vec!["trace", "export", "s.toml", "--out", "tr", "--quiet"],
    ] {
        let o = pipesim_within(dir, &args, LIMIT);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
}

/// A trace that changes after the load-time scan fails the run itself (a `Result` no caller
/// can drop): `run_scenario` (run, gate) and `run_points` (sweep) both return the error.
#[test]
fn a_trace_changed_after_the_scan_is_the_runs_error() {
    use pipesim_cli::runner::run_scenario;
    use pipesim_cli::sweep::run_points;
    use pipesim_scenario::{LoadOptions, load};
    let text = BASE.replace(
        "{ process = \"poisson\", rate = \"500/s\" }",
        "{ process = \"trace\", file = \"events.csv\" }",
    );
    let tmp = scratch(&text);
    std::fs::write(tmp.path().join("events.csv"), "time,key\n1000,1\n2000,2\n3000,3\n").unwrap();
    let s = load(&tmp.path().join("s.toml"), &LoadOptions::default()).unwrap();
    assert!(run_scenario(&s, Some(1)).is_ok());
    std::fs::write(tmp.path().join("events.csv"), "time,key\n1000,1\n").unwrap();
    let e = run_scenario(&s, Some(1)).err().expect("a changed trace is an error");
    assert!(
        e.to_string().contains("workload.arrivals.file") && e.to_string().contains("changed"),
        "{e}"
    );
    assert!(run_points(&[&s, &s], Some(2)).is_err());
}
