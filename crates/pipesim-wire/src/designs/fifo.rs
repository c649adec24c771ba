//! `wire_fifo`: one server host with a FIFO queue and `servers` workers, as a real service.
//!
//! The smallest wire design, and the one the wire backend is validated with: the same queue
//! as a one-station `stations` model (the same service-time stream, drawn in the order service
//! starts), so theory (M/M/1, M/D/1, M/M/c) and the DES both say what it must measure. Each
//! worker does its requests with [`crate::Clock::work`], so service times are exact and only
//! the network hops are rounded to ticks. A request is visible when its service ends; the answer then travels back to the producer, so
//! `ack` latency is one network hop longer than `e2e`. A retried request is served again (the
//! server is not idempotent): every retry of an event that was served shows as a duplicate.

use crate::design::{HostCtx, HostSpec, ProducerSpec, Software, WireDesign};
use crate::frame::{Request, Response, Status, read_frame};
use pipesim_config::{ConfigError, DistSpec, ParamDoc};
use pipesim_engine::{Dist, SimTime};
use pipesim_models::BuildEnv;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use tokio::sync::{Notify, mpsc};
use turmoil::net::TcpListener;

/// The port the server listens on.
pub const PORT: u16 = 7000;
/// Most workers of the server.
pub const MAX_SERVERS: u32 = 1_024;

/// `[model.server]` as written.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The station's name (its service-time stream is `station/<name>/service`, as in
    /// `stations`).
    #[serde(default = "default_name")]
    pub name: String,
    /// Workers serving the queue in parallel.
    #[serde(default = "one")]
    pub servers: u32,
    /// Service time of one request.
    pub service: DistSpec,
}

fn default_name() -> String {
    "server".to_string()
}

fn one() -> u32 {
    1
}

/// The model table (the harness's tables taken out).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FifoConfig {
    server: Option<ServerConfig>,
}

/// Validated parameters.
#[derive(Clone, Debug, Serialize)]
pub struct FifoParams {
    server: ServerConfig,
    #[serde(skip)]
    service: Dist,
}

/// The design.
pub struct WireFifo;

impl WireDesign for WireFifo {
    const KIND: &'static str = "wire_fifo";
    const SUMMARY: &'static str = "one server host, a FIFO queue and `servers` workers, as a real tokio service (the wire backend's counterpart of a one-station `stations` model)";
    type Config = FifoConfig;
    type Params = FifoParams;

    fn params_doc() -> Vec<ParamDoc> {
        vec![
            ParamDoc::new(
                "server.name",
                "string",
                "server",
                "the station's name; its service times come from the stream `station/<name>/service`, as in `stations`",
            ),
            ParamDoc::new("server.servers", "integer 1-1024", "1", "workers serving the queue"),
            ParamDoc::required("server.service", "distribution", "service time of one request"),
        ]
    }

    fn validate(config: FifoConfig, env: &BuildEnv<'_>) -> Result<FifoParams, ConfigError> {
        let Some(server) = config.server else {
            return Err(ConfigError::new(
                "server",
                "a `wire_fifo` model needs a [model.server] table with a `service` distribution",
            ));
        };
        if server.servers == 0 || server.servers > MAX_SERVERS {
            return Err(ConfigError::new(
                "server.servers",
                format!("must be from 1 to {MAX_SERVERS}, found {}", server.servers),
            ));
        }
        if server.name.is_empty()
            || !server.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(ConfigError::new("server.name", "use letters, digits, _ and -"));
        }
        let service = server
            .service
            .resolve(env.loader)
            .map_err(|m| ConfigError::new("server.service", m))?;
        Ok(FifoParams { server, service })
    }

    fn hosts(_params: &FifoParams) -> Vec<HostSpec> {
        vec![HostSpec::new("server", "server")]
    }

    fn software(params: &FifoParams, ctx: HostCtx) -> Software {
        let service = params.service.clone();
        let stream = format!("station/{}/service", params.server.name);
        Box::pin(serve(ctx, service, stream, params.server.servers))
    }

    fn producer(_params: &FifoParams) -> ProducerSpec {
        ProducerSpec::to(format!("server:{PORT}"))
    }

    fn fault_roles() -> &'static [&'static str] {
        &["server", "network"]
    }

    fn durations(params: &FifoParams) -> Vec<(&'static str, SimTime)> {
        let mean = params.service.mean_ns();
        vec![("server.service (mean)", mean as SimTime)]
    }
}

/// A request waiting for a worker, with the way back to its connection.
struct Job {
    req: Request,
    /// When it was queued.
    ready_ns: SimTime,
    reply: mpsc::UnboundedSender<Response>,
}

#[derive(Default)]
struct Queue {
    jobs: RefCell<VecDeque<Job>>,
    ready: Notify,
}

async fn serve(ctx: HostCtx, service: Dist, stream: String, servers: u32) -> turmoil::Result {
    let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
    let queue = Rc::new(Queue::default());
    let rng = ctx.rng(&stream);
    for _ in 0..servers {
        let (queue, rng, ctx, service) =
            (Rc::clone(&queue), Rc::clone(&rng), ctx.clone(), service.clone());
        crate::spawn(async move {
            let busy = std::cell::Cell::new(0);
            loop {
                let job = loop {
                    if let Some(job) = queue.jobs.borrow_mut().pop_front() {
                        break job;
                    }
                    queue.ready.notified().await;
                };
                let ns = service.sample(&mut rng.borrow_mut());
                let done = ctx.clock.work(&busy, job.ready_ns, ns).await;
                ctx.probe.visible_at(&job.req.ev, done);
                ctx.count("served", 1);
                // A closed connection: the producer will retry elsewhere.
                let _ =
                    job.reply.send(Response { request_id: job.req.request_id, status: Status::Ok });
            }
        });
    }
    loop {
        let (stream, _) = listener.accept().await?;
        let (queue, clock) = (Rc::clone(&queue), ctx.clock);
        crate::spawn(async move {
            let (mut reader, mut writer) = stream.into_split();
            let (tx, mut rx) = mpsc::unbounded_channel::<Response>();
            crate::spawn(async move {
                while let Some(r) = rx.recv().await {
                    if r.write_to(&mut writer).await.is_err() {
                        break;
                    }
                }
            });
            let mut buf = Vec::new();
            while let Ok(true) = read_frame(&mut reader, &mut buf).await {
                let Some(req) = Request::decode(&buf) else { break };
                let job = Job { req, ready_ns: clock.now_ns(), reply: tx.clone() };
                queue.jobs.borrow_mut().push_back(job);
                queue.ready.notify_one();
            }
        });
    }
}
