//! A user's wire design that misbehaves, through `pipesim_cli::main_with_registry` as a user's
//! own binary would call it: a service that panics, one that returns an error, one that never
//! reports visibility, one that keeps state across runs (so `--check-determinism` catches it).
//!
//! Each case runs in a child process (this test binary re-run on an ignored test), so the exit
//! code and stderr are what a user of their own `pipesim` binary would see.

use pipesim_config::{ConfigError, ParamDoc};
use pipesim_models::{BuildEnv, Registry};
use pipesim_wire::{
    HostCtx, HostSpec, ProducerSpec, Request, Response, Software, Status, WireDesign,
};
use serde::{Deserialize, Serialize};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use turmoil::net::TcpListener;

const CHILD_ARGS: &str = "PIPESIM_WIRE_USER_ARGS";
const PORT: u16 = 7100;

/// What the service does wrong.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Mode {
    /// Serves correctly.
    Correct,
    /// Panics when it serves the request of this many-th event.
    Panic,
    /// Its accept loop returns an error after the first request.
    Error,
    /// Acknowledges every request and never calls the probe.
    Silent,
    /// Makes events visible later by a process-wide counter: a run differs from the previous.
    Static,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BugConfig {
    mode: Mode,
    /// Idle hosts beside the service (to try the host limit).
    #[serde(default)]
    idle_hosts: u32,
}

#[derive(Clone, Debug, Serialize)]
struct BugParams {
    mode: Mode,
    idle_hosts: u32,
}

struct WireBug;

/// State a careless service keeps in a static: it survives from one run to the next.
static RUNS: AtomicU64 = AtomicU64::new(0);

impl WireDesign for WireBug {
    const KIND: &'static str = "wire_bug";
    const SUMMARY: &'static str = "a test service that misbehaves as told";
    type Config = BugConfig;
    type Params = BugParams;

    fn params_doc() -> Vec<ParamDoc> {
        vec![ParamDoc::required("mode", "string", "what the service does wrong")]
    }

    fn validate(config: BugConfig, _env: &BuildEnv<'_>) -> Result<BugParams, ConfigError> {
        Ok(BugParams { mode: config.mode, idle_hosts: config.idle_hosts.min(1_000) })
    }

    fn hosts(params: &BugParams) -> Vec<HostSpec> {
        let idle = (0..params.idle_hosts).map(|i| HostSpec::new(format!("idle-{i}"), "server"));
        std::iter::once(HostSpec::new("bug-0", "server")).chain(idle).collect()
    }

    fn software(params: &BugParams, ctx: HostCtx) -> Software {
        if ctx.index_in_role > 0 {
            return Box::pin(std::future::pending());
        }
        Box::pin(serve(ctx, params.mode))
    }

    fn producer(_params: &BugParams) -> ProducerSpec {
        ProducerSpec::to(format!("bug-0:{PORT}"))
    }

    fn fault_roles() -> &'static [&'static str] {
        &["server", "network"]
    }
}

async fn serve(ctx: HostCtx, mode: Mode) -> turmoil::Result {
    let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
    let shift_ns =
        if mode == Mode::Static { RUNS.fetch_add(1, Ordering::Relaxed) * 1_000 } else { 0 };
    let served = std::rc::Rc::new(std::cell::Cell::new(0u64));
    loop {
        let (stream, _) = listener.accept().await?;
        if mode == Mode::Error && served.get() > 0 {
            return Err("the listener's configuration is gone".into());
        }
        let (ctx, count) = (ctx.clone(), served.clone());
        pipesim_wire::spawn(async move {
            let (mut reader, mut writer) = stream.into_split();
            let mut buf = Vec::new();
            while let Ok(true) = pipesim_wire::read_frame(&mut reader, &mut buf).await {
                let Some(req) = Request::decode(&buf) else { break };
                count.set(count.get() + 1);
                if mode == Mode::Panic && count.get() == 100 {
                    panic!("index out of range in the bug service (request {})", req.request_id);
                }
                match mode {
                    Mode::Silent => {}
                    Mode::Static => {
                        let at_ns = ctx.clock.now_ns() + shift_ns;
                        ctx.sleep(shift_ns).await;
                        ctx.probe.visible_at(&req.ev, at_ns);
                    }
                    _ => ctx.probe.visible(&req.ev),
                }
                let answer = Response { request_id: req.request_id, status: Status::Ok };
                if answer.write_to(&mut writer).await.is_err() {
                    break;
                }
            }
        });
        if mode == Mode::Error {
            served.set(served.get().max(1));
        }
    }
}

fn registry() -> Registry {
    let mut registry = pipesim_cli::default_registry();
    pipesim_wire::register::<WireBug>(&mut registry).unwrap();
    registry
}

/// The user's binary: runs `pipesim` with the test design added, the arguments from the parent.
#[test]
#[ignore = "run in a process of its own by the tests below"]
fn user_binary() {
    let Ok(args) = std::env::var(CHILD_ARGS) else { return };
    let args: Vec<&str> = std::iter::once("pipesim").chain(args.split('\u{1f}')).collect();
    let code = pipesim_cli::main_with_registry(args, &registry());
    std::process::exit(i32::from(code));
}

struct Ran {
    code: Option<i32>,
    stderr: String,
    stdout: String,
}

fn scenario(dir: &std::path::Path, mode: &str, extra: &str) -> std::path::PathBuf {
    let text = format!(
        r#"name = "bug"
seed = 11
duration = "3s"
warmup = "0s"
drain = "2s"

[workload]
arrivals = {{ process = "poisson", rate = "200/s" }}
keys = {{ count = 10 }}

[[model]]
name = "user"
kind = "wire_bug"
mode = "{mode}"
{extra}
"#
    );
    let path = dir.join("bug.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn user_pipesim(args: &[&str]) -> Ran {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args(["--exact", "wire_user::user_binary", "--include-ignored", "--nocapture", "-q"])
        .env(CHILD_ARGS, args.join("\u{1f}"))
        .output()
        .unwrap();
    Ran {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

fn run_mode(mode: &str, extra_args: &[&str]) -> (tempfile::TempDir, Ran) {
    run_with(mode, "", extra_args)
}

fn run_with(mode: &str, extra: &str, extra_args: &[&str]) -> (tempfile::TempDir, Ran) {
    let tmp = tempfile::tempdir().unwrap();
    let path = scenario(tmp.path(), mode, extra);
    let out = tmp.path().join("out");
    let mut args = vec!["run", path.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra_args);
    let ran = user_pipesim(&args);
    (tmp, ran)
}

#[test]
fn a_service_that_panics_is_exit_4_with_its_host_time_seed_and_reproduce_command() {
    let (tmp, ran) = run_mode("panic", &[]);
    assert_eq!(ran.code, Some(4), "{}", ran.stderr);
    let e = &ran.stderr;
    assert!(e.contains("bug-0"), "names the host: {e}");
    assert!(e.contains("index out of range in the bug service"), "the panic message: {e}");
    assert!(e.contains("seed 11"), "the seed: {e}");
    assert!(e.contains("reproduce: pipesim run"), "the command: {e}");
    // The first hundred requests arrive within the first half second at 200/s.
    let at = e.split("failed at ").nth(1).unwrap_or("");
    let at_ms: f64 = at.split("ms").next().unwrap_or("").parse().unwrap_or(f64::NAN);
    assert!(at_ms > 300.0 && at_ms < 800.0, "the simulated time of the panic: {e}");
    assert!(!e.contains("internal error"), "not pipesim's own failure: {e}");
    assert!(!tmp.path().join("out").exists(), "no report for a failed run");
}

#[test]
fn a_service_that_returns_an_error_is_exit_4_naming_it() {
    let (tmp, ran) = run_mode("error", &[]);
    assert_eq!(ran.code, Some(4), "{}", ran.stderr);
    assert!(ran.stderr.contains("the listener's configuration is gone"), "{}", ran.stderr);
    assert!(ran.stderr.contains("bug-0"), "{}", ran.stderr);
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn a_service_that_never_reports_visibility_loses_every_acknowledged_event_with_a_hint() {
    let (tmp, ran) = run_mode("silent", &[]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("out/report.json")).unwrap())
            .unwrap();
    let m = &report["models"][0];
    let lost = m["invariants"]["lost"].as_u64().unwrap();
    let offered = m["throughput"]["offered"].as_u64().unwrap();
    assert!(offered > 400 && lost == offered, "lost {lost} of {offered}");
    assert!(
        ran.stderr.contains("does the service call `ctx.probe.visible(&ev)`"),
        "{}",
        ran.stderr
    );
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("does the service call"), "the hint is in report.json: {warnings}");
}

#[test]
fn check_determinism_catches_state_kept_across_runs_and_passes_a_correct_service() {
    let (tmp, ran) = run_mode("static", &["--check-determinism"]);
    assert_eq!(ran.code, Some(4), "{}", ran.stderr);
    let e = &ran.stderr;
    assert!(e.contains("model `user` (kind wire_bug) is not deterministic"), "{e}");
    assert!(e.contains("seed 11"), "{e}");
    assert!(e.contains("biased;"), "names the rules: {e}");
    assert!(!tmp.path().join("out").exists(), "nothing written");

    let (tmp, ran) = run_mode("correct", &["--check-determinism"]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(tmp.path().join("out/report.json").exists());
    assert!(ran.stdout.contains("user"), "{}", ran.stdout);
}

#[test]
fn a_design_with_more_hosts_than_a_wire_run_takes_is_refused_before_it_runs() {
    let (tmp, ran) = run_with("correct", "idle_hosts = 70", &[]);
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("73 hosts (71 services, 2 producers' hosts): a wire run takes at most 64"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("model \"user\", kind wire_bug"), "{}", ran.stderr);
    assert!(!tmp.path().join("out").exists());
    // Within the limit, an idle host costs steps: the run goes through.
    let (_tmp, ran) = run_with("correct", "idle_hosts = 40", &[]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
}
