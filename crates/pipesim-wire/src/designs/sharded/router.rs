//! The router host: producers' requests in, each event hashed to its shard and forwarded over
//! that shard's persistent connection, the store's answer relayed back.
//!
//! The hash in force is chosen when a request arrives: before `switch.at` the old strategy,
//! from then on the new one, so the events of a key still queued on its old shard race the
//! ones now sent to the new shard (per-key order breaks there, as in the DES).
//!
//! A shard's connection ([`Link`]) fails its events back to their producers
//! ([`Status::Failed`]: they retry after their backoff) when it closes (the store crashed),
//! when its oldest forward has waited `router.timeout` (a partition: turmoil's TCP never
//! retransmits, so a cut connection would hang forever), and, while it is down between two
//! connection attempts, at once. A connection attempt to a crashed store is refused at once
//! (the harness answers for its kernel); one unanswered after `router.connect_timeout` (a held
//! partition) counts as refused too.

use super::RouterSpec;
use super::proto::{Done, Forward};
use crate::{Clock, HostCtx, Request, Response, Status, read_frame, write_frame};
use pipesim_engine::SimTime;
use pipesim_workload::EventMeta;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use tokio::sync::{Notify, mpsc};
use turmoil::net::{TcpListener, TcpStream};

/// An event the router owes a producer an answer for.
struct Relay {
    ev: EventMeta,
    request_id: u64,
    reply: mpsc::UnboundedSender<Response>,
}

impl Relay {
    fn answer(self, status: Status) {
        // A producer connection that is gone resends the event itself.
        let _ = self.reply.send(Response { request_id: self.request_id, status });
    }
}

/// The state of one shard's connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LinkState {
    /// Connecting, or connected: forwards are sent (or wait for the connection).
    Open,
    /// Waiting before the next attempt after a failure: forwards fail at once.
    Down,
}

/// One shard's persistent connection to its store.
struct Link {
    shard: u32,
    address: String,
    state: Cell<LinkState>,
    outbox: RefCell<VecDeque<Relay>>,
    ready: Notify,
}

impl Link {
    fn submit(&self, ctx: &HostCtx, relay: Relay) {
        match self.state.get() {
            LinkState::Open => {
                self.outbox.borrow_mut().push_back(relay);
                self.ready.notify_one();
            }
            LinkState::Down => {
                ctx.count("failed_shard_down", 1);
                relay.answer(Status::Failed);
            }
        }
    }

    fn fail_outbox(&self, ctx: &HostCtx) {
        let failed: Vec<Relay> = self.outbox.borrow_mut().drain(..).collect();
        ctx.count("failed_shard_down", failed.len() as u64);
        for r in failed {
            r.answer(Status::Failed);
        }
    }
}

/// The router's software.
pub(super) async fn serve(ctx: HostCtx, spec: Rc<RouterSpec>) -> turmoil::Result {
    let listener = TcpListener::bind(("0.0.0.0", super::ROUTER_PORT)).await?;
    let links: Rc<Vec<Link>> = Rc::new(
        (0..spec.max_shards)
            .map(|shard| Link {
                shard,
                address: format!("store-{}:{}", shard % spec.instances, super::STORE_PORT),
                state: Cell::new(LinkState::Open),
                outbox: RefCell::default(),
                ready: Notify::new(),
            })
            .collect(),
    );
    for i in 0..links.len() {
        crate::spawn(run_link(ctx.clone(), Rc::clone(&spec), Rc::clone(&links), i));
    }
    loop {
        let (stream, _) = listener.accept().await?;
        crate::spawn(producer_connection(ctx.clone(), Rc::clone(&spec), Rc::clone(&links), stream));
    }
}

/// One producer's connection: requests routed to their shards, answers written back.
async fn producer_connection(
    ctx: HostCtx,
    spec: Rc<RouterSpec>,
    links: Rc<Vec<Link>>,
    stream: TcpStream,
) {
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
        let shard = spec.strategy_at(ctx.clock.now_ns()).shard_of(req.ev.key);
        let relay = Relay { ev: req.ev, request_id: req.request_id, reply: tx.clone() };
        links[shard as usize].submit(&ctx, relay);
    }
}

/// Why a shard's connection ended.
enum Ended {
    Closed,
    TimedOut,
}

/// Keeps shard `i`'s connection up: connects, forwards, relays answers, and after a failure
/// fails what it owed and waits `router.backoff` (doubling up to `router.backoff_max`).
async fn run_link(ctx: HostCtx, spec: Rc<RouterSpec>, links: Rc<Vec<Link>>, i: usize) {
    let link = &links[i];
    let mut failures = 0u32;
    loop {
        if failures > 0 {
            link.state.set(LinkState::Down);
            link.fail_outbox(&ctx);
            ctx.clock.sleep(spec.backoff_ns(failures)).await;
            link.state.set(LinkState::Open);
        }
        let stream = tokio::select! {
            biased;
            r = TcpStream::connect(link.address.as_str()) => r.ok(),
            () = ctx.clock.sleep(spec.connect_timeout_ns) => {
                ctx.count("shard_connect_timeouts", 1);
                failures = failures.saturating_add(1);
                continue;
            }
        };
        let Some(stream) = stream else {
            ctx.count("shard_connects_refused", 1);
            failures = failures.saturating_add(1);
            continue;
        };
        let (mut reader, mut writer) = stream.into_split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Done>();
        let reading = crate::spawn(async move {
            let mut buf = Vec::new();
            while let Ok(true) = read_frame(&mut reader, &mut buf).await {
                let Some(d) = Done::decode(&buf) else { break };
                if tx.send(d).is_err() {
                    break;
                }
            }
        });
        let mut owed = Owed::default();
        let ended = forward(&ctx, &spec, link, &mut writer, &mut rx, &mut owed).await;
        reading.abort();
        ctx.count(
            match ended {
                Ended::Closed => "shard_connections_closed",
                Ended::TimedOut => "shard_timeouts",
            },
            1,
        );
        ctx.count("failed_in_flight", owed.waiting.len() as u64);
        for (_, (relay, _)) in std::mem::take(&mut owed.waiting) {
            relay.answer(Status::Failed);
        }
        failures = 1;
    }
}

/// The forwards of one connection still waiting for their store's answer, by id (send order).
#[derive(Default)]
struct Owed {
    waiting: BTreeMap<u64, (Relay, SimTime)>,
    next_id: u64,
}

/// Forwards and relays until the connection closes or its oldest forward times out.
async fn forward(
    ctx: &HostCtx,
    spec: &RouterSpec,
    link: &Link,
    writer: &mut turmoil::net::tcp::OwnedWriteHalf,
    rx: &mut mpsc::UnboundedReceiver<Done>,
    owed: &mut Owed,
) -> Ended {
    let clock: Clock = ctx.clock;
    let mut body = Vec::with_capacity(64);
    loop {
        let oldest = owed.waiting.values().next().map(|(_, sent)| sent + spec.timeout_ns);
        let timeout_at = clock.instant_at(oldest.unwrap_or(u64::MAX / 4));
        tokio::select! {
            biased;
            done = rx.recv() => {
                let Some(done) = done else { return Ended::Closed };
                if let Some((relay, _)) = owed.waiting.remove(&done.id) {
                    relay.answer(if done.committed { Status::Ok } else { Status::Failed });
                }
            }
            () = tokio::time::sleep_until(timeout_at), if oldest.is_some() => {
                return Ended::TimedOut;
            }
            relay = next_relay(link) => {
                let id = owed.next_id;
                owed.next_id += 1;
                body.clear();
                Forward { id, shard: link.shard, ev: relay.ev }.encode(&mut body);
                owed.waiting.insert(id, (relay, clock.now_ns()));
                if write_frame(writer, &body).await.is_err() {
                    return Ended::Closed;
                }
            }
        }
    }
}

/// The next event to forward on `link`. Cancel-safe: a relay leaves the outbox only when this
/// returns.
async fn next_relay(link: &Link) -> Relay {
    loop {
        if let Some(r) = link.outbox.borrow_mut().pop_front() {
            return r;
        }
        link.ready.notified().await;
    }
}
