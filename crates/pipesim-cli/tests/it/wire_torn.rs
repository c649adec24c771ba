//! `wire.disk.torn_block` reaches turmoil's file system: a crash keeps a whole-block prefix of
//! each unsynced write instead of dropping it whole.
//!
//! A test design appends 2 KiB per event to a file whose name (and empty contents) it made
//! durable at its first start, and never syncs the data again. At its restart after a crash it
//! counts the bytes that survived: none without tearing; with 512 B blocks, some (each write
//! keeps 0–4 of its blocks, so the file's length is a multiple of 512).

use pipesim_cli::runner::run_scenario;
use pipesim_config::{ConfigError, ParamDoc};
use pipesim_models::{BuildEnv, Registry};
use pipesim_scenario::{LoadOptions, load_str};
use pipesim_wire::{
    HostCtx, HostSpec, ProducerSpec, Request, Response, Software, Status, WireDesign,
};
use serde::Deserialize;
use turmoil::net::TcpListener;

const PORT: u16 = 7200;
const FILE: &str = "/data/scribble";
const WRITE_BYTES: usize = 2048;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoConfig {}

struct WireScribble;

impl WireDesign for WireScribble {
    const KIND: &'static str = "wire_scribble";
    const SUMMARY: &'static str = "a test service that writes without syncing";
    type Config = NoConfig;
    type Params = ();

    fn params_doc() -> Vec<ParamDoc> {
        Vec::new()
    }

    fn validate(_config: NoConfig, _env: &BuildEnv<'_>) -> Result<(), ConfigError> {
        Ok(())
    }

    fn hosts(_params: &()) -> Vec<HostSpec> {
        vec![HostSpec::new("scribe-0", "store").with_disk()]
    }

    fn software(_params: &(), ctx: HostCtx) -> Software {
        Box::pin(serve(ctx))
    }

    fn producer(_params: &()) -> ProducerSpec {
        ProducerSpec::to(format!("scribe-0:{PORT}"))
    }

    fn fault_roles() -> &'static [&'static str] {
        &["store", "network"]
    }
}

async fn serve(ctx: HostCtx) -> turmoil::Result {
    let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
    let disk = ctx.disk()?.clone();
    if ctx.restarts == 0 {
        disk.create_dir_all("/data")?;
        disk.write(FILE, &[])?;
        disk.sync(FILE).await?;
        disk.sync_dir("/data").await?;
    } else {
        let kept = disk.read(FILE)?.len() as u64;
        ctx.count("bytes kept after the crash", kept);
    }
    loop {
        let (stream, _) = listener.accept().await?;
        let (ctx, disk) = (ctx.clone(), disk.clone());
        pipesim_wire::spawn(async move {
            let (mut reader, mut writer) = stream.into_split();
            let mut buf = Vec::new();
            while let Ok(true) = pipesim_wire::read_frame(&mut reader, &mut buf).await {
                let Some(req) = Request::decode(&buf) else { break };
                if disk.append(FILE, &[0xA5; WRITE_BYTES]).is_err() {
                    break;
                }
                ctx.probe.visible(&req.ev);
                let answer = Response { request_id: req.request_id, status: Status::Ok };
                if answer.write_to(&mut writer).await.is_err() {
                    break;
                }
            }
        });
    }
}

fn kept_bytes(torn_block: &str) -> u64 {
    let mut registry = Registry::builtin();
    pipesim_wire::register::<WireScribble>(&mut registry).unwrap();
    let text = format!(
        r#"name = "torn"
seed = 5
duration = "2s"
warmup = "0s"
drain = "1s"

[workload]
arrivals = {{ process = "poisson", rate = "100/s" }}
keys = {{ count = 10 }}

[[model]]
name = "scribe"
kind = "wire_scribble"
wire = {{ disk = {{ fsync = "1ms" {torn_block} }} }}

[[fault]]
kind = "crash"
target = "store"
at = "1s"
duration = "100ms"
"#
    );
    let opts = LoadOptions { registry, ..Default::default() };
    let s =
        load_str(&text, std::path::Path::new("torn.toml"), &opts).unwrap_or_else(|e| panic!("{e}"));
    let run = run_scenario(&s, None).unwrap_or_else(|e| panic!("{e:?}"));
    super::wire_lua::counter(&run.outcomes[0], "scribe-0", "bytes kept after the crash")
}

#[test]
fn a_crash_drops_unsynced_writes_whole_unless_torn_block_is_set() {
    assert_eq!(kept_bytes(""), 0, "without tearing nothing unsynced survives");
    let kept = kept_bytes(r#", torn_block = "512B""#);
    eprintln!("torn at 512 B: {kept} bytes kept of about 100 writes of {WRITE_BYTES} B");
    assert!(kept > 0, "with tearing some blocks of the unsynced writes survive");
    assert_eq!(kept % 512, 0, "whole blocks only: {kept}");
    assert!(kept <= 100 * WRITE_BYTES as u64 * 2, "{kept}");
}
