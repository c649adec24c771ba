//! One Redis node: a master running the Lua guard for producers, or a replica following it,
//! with failover on the master's silence.
//!
//! A node keeps everything in memory (Redis without persistence): a restarted node comes back
//! empty, as a replica, and copies the master's state (a full sync). The master streams every
//! append to its replica asynchronously and answers the producer without waiting for it. A
//! replica that has heard nothing from a master for `failover.node_timeout` waits
//! `failover.election` and promotes itself with a higher epoch; a master that hears of a
//! master with a higher epoch (the cluster bus's gossip) steps down and follows it.

use super::ledger::Ledger;
use super::repl::{Msg, SNAPSHOT_CHUNK};
use crate::{HostCtx, Request, Response, Status, frame_into, read_frame, spawn, write_frame};
use pipesim_engine::{Dist, SimTime};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Notify, mpsc};
use turmoil::net::tcp::OwnedWriteHalf;
use turmoil::net::{TcpListener, TcpStream};

/// The port producers use.
pub(super) const CLIENT_PORT: u16 = 6379;
/// The port of replication and the cluster bus (Redis's client port + 10000).
pub(super) const BUS_PORT: u16 = 16_379;

/// What a node knows of its shard and timing.
pub(super) struct NodeCfg {
    pub(super) script: Dist,
    pub(super) heartbeat_ns: SimTime,
    pub(super) node_timeout_ns: SimTime,
    pub(super) election_ns: SimTime,
    /// The other node of the shard (`host:port` of its bus), if the shard has a replica.
    pub(super) peer: Option<String>,
    /// Whether this node is the shard's first master.
    pub(super) first_master: bool,
    pub(super) shard: usize,
}

struct State {
    master: bool,
    epoch: u64,
    offset: u64,
    /// The guard's `last` per key.
    last: BTreeMap<u32, u64>,
}

struct Job {
    req: Request,
    /// When it was queued.
    ready_ns: SimTime,
    reply: mpsc::UnboundedSender<Response>,
}

struct Node {
    ctx: HostCtx,
    cfg: Rc<NodeCfg>,
    state: RefCell<State>,
    jobs: RefCell<VecDeque<Job>>,
    ready: Notify,
    role_changed: Notify,
    /// The stream to the connected replica, while one is connected.
    replica: RefCell<Option<mpsc::UnboundedSender<Msg>>>,
    /// When a master was last heard from (replica side).
    heard_ns: Cell<SimTime>,
    ledger: Rc<RefCell<Ledger>>,
}

/// The node's software.
pub(super) async fn run(cfg: Rc<NodeCfg>, ctx: HostCtx) -> turmoil::Result {
    let first = ctx.restarts == 0 && cfg.first_master;
    let ledger = ctx.oracle::<Ledger>(&format!("lua/shard-{}", cfg.shard));
    let node = Rc::new(Node {
        state: RefCell::new(State {
            master: first || cfg.peer.is_none(),
            // The first configuration is known to both nodes (epoch 1); a restarted node
            // learns the epoch from its sync.
            epoch: u64::from(ctx.restarts == 0),
            offset: 0,
            last: BTreeMap::new(),
        }),
        heard_ns: Cell::new(ctx.clock.now_ns()),
        ctx,
        cfg,
        jobs: RefCell::default(),
        ready: Notify::new(),
        role_changed: Notify::new(),
        replica: RefCell::new(None),
        ledger,
    });
    let clients = TcpListener::bind(("0.0.0.0", CLIENT_PORT)).await?;
    let bus = TcpListener::bind(("0.0.0.0", BUS_PORT)).await?;
    spawn(Rc::clone(&node).script_worker());
    spawn(Rc::clone(&node).serve_bus(bus));
    if node.cfg.peer.is_some() {
        spawn(Rc::clone(&node).follow());
        spawn(Rc::clone(&node).watchdog());
        spawn(Rc::clone(&node).gossip());
    }
    loop {
        let (stream, _) = clients.accept().await?;
        spawn(Rc::clone(&node).serve_client(stream));
    }
}

impl Node {
    fn is_master(&self) -> bool {
        self.state.borrow().master
    }

    async fn serve_client(self: Rc<Self>, stream: TcpStream) {
        let (mut reader, writer) = stream.into_split();
        let (tx, rx) = mpsc::unbounded_channel::<Response>();
        spawn(write_responses(writer, rx));
        let mut buf = Vec::new();
        while let Ok(true) = read_frame(&mut reader, &mut buf).await {
            let Some(req) = Request::decode(&buf) else { break };
            let ready_ns = self.ctx.clock.now_ns();
            self.jobs.borrow_mut().push_back(Job { req, ready_ns, reply: tx.clone() });
            self.ready.notify_one();
        }
    }

    /// The single thread that runs scripts, one at a time, in arrival order.
    async fn script_worker(self: Rc<Self>) {
        let rng = self.ctx.rng(&format!("redis/shard-{}/script", self.cfg.shard));
        let busy = Cell::new(0);
        loop {
            let job = loop {
                if let Some(job) = self.jobs.borrow_mut().pop_front() {
                    break job;
                }
                self.ready.notified().await;
            };
            if !self.is_master() {
                // MOVED: the producer tries the shard's other node.
                let _ = job
                    .reply
                    .send(Response { request_id: job.req.request_id, status: Status::Retry });
                continue;
            }
            let cost = self.cfg.script.sample(&mut rng.borrow_mut());
            let done = self.ctx.clock.work(&busy, job.ready_ns, cost).await;
            self.guard(&job.req, done);
            let _ = job.reply.send(Response { request_id: job.req.request_id, status: Status::Ok });
        }
    }

    /// The Lua script: append if the value is newer than the key's last, else discard.
    fn guard(&self, req: &Request, done_ns: SimTime) {
        let (ev, value) = (req.ev, req.value);
        let mut s = self.state.borrow_mut();
        let newer = s.last.get(&ev.key).is_none_or(|&last| value > last);
        if !newer {
            drop(s);
            self.ctx.probe.dropped_at(&ev, "lua guard", done_ns);
            return;
        }
        s.last.insert(ev.key, value);
        s.offset += 1;
        let (epoch, offset) = (s.epoch, s.offset);
        drop(s);
        self.ledger.borrow_mut().appended(epoch, offset, ev);
        self.ctx.probe.visible_at(&ev, done_ns);
        if let Some(tx) = self.replica.borrow().as_ref() {
            let _ = tx.send(Msg::Append { epoch, offset, key: ev.key, value, ev });
        }
    }

    /// Replication and gossip connections from the peer.
    async fn serve_bus(self: Rc<Self>, bus: TcpListener) {
        while let Ok((stream, _)) = bus.accept().await {
            spawn(Rc::clone(&self).bus_connection(stream));
        }
    }

    async fn bus_connection(self: Rc<Self>, stream: TcpStream) {
        let (mut reader, writer) = stream.into_split();
        let mut buf = Vec::new();
        let mut writer = Some(writer);
        while let Ok(true) = read_frame(&mut reader, &mut buf).await {
            match Msg::decode(&buf) {
                Some(Msg::Sync) if self.is_master() => {
                    let Some(w) = writer.take() else { return };
                    spawn(Rc::clone(&self).stream_to_replica(w));
                }
                Some(Msg::Ping { epoch, master }) => self.gossip_heard(epoch, master),
                _ => return,
            }
        }
    }

    /// Master side of a replica's sync: a snapshot, then every append and heartbeats.
    async fn stream_to_replica(self: Rc<Self>, mut w: OwnedWriteHalf) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (epoch, offset, pairs) = {
            let s = self.state.borrow();
            let pairs: Vec<(u32, u64)> = s.last.iter().map(|(k, v)| (*k, *v)).collect();
            (s.epoch, s.offset, pairs)
        };
        // Appends from now on go to the channel; the snapshot covers everything before.
        *self.replica.borrow_mut() = Some(tx);
        let chunks: Vec<&[(u32, u64)]> =
            if pairs.is_empty() { vec![&[]] } else { pairs.chunks(SNAPSHOT_CHUNK).collect() };
        let mut out = Vec::new();
        for (i, chunk) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            let mut body = Vec::new();
            Msg::Snapshot { epoch, offset, pairs: chunk.to_vec(), last }.encode(&mut body);
            frame_into(&mut out, &body);
        }
        if w.write_all(&out).await.is_err() {
            return;
        }
        let beat = self.cfg.heartbeat_ns;
        loop {
            let mut out = Vec::new();
            tokio::select! {
                biased;
                m = rx.recv() => {
                    let Some(m) = m else { return };
                    let mut body = Vec::new();
                    m.encode(&mut body);
                    frame_into(&mut out, &body);
                    // Everything else already waiting goes in the same write.
                    while let Ok(m) = rx.try_recv() {
                        body.clear();
                        m.encode(&mut body);
                        frame_into(&mut out, &body);
                    }
                }
                () = self.ctx.clock.sleep(beat) => {
                    let mut body = Vec::new();
                    Msg::Heartbeat { epoch: self.state.borrow().epoch }.encode(&mut body);
                    frame_into(&mut out, &body);
                }
            }
            if !self.is_master() || w.write_all(&out).await.is_err() {
                return;
            }
        }
    }

    /// Replica side: follow the peer while this node is not master.
    async fn follow(self: Rc<Self>) {
        let peer = self.cfg.peer.clone().expect("a shard with a replica");
        loop {
            if self.is_master() {
                self.role_changed.notified().await;
                continue;
            }
            let connect = TcpStream::connect(peer.as_str());
            let timeout = self.ctx.clock.wire(self.cfg.node_timeout_ns);
            if let Ok(Ok(stream)) = tokio::time::timeout(timeout, connect).await {
                self.replicate(stream).await;
            }
            if !self.is_master() {
                self.ctx.clock.sleep(self.cfg.heartbeat_ns).await;
            }
        }
    }

    async fn replicate(&self, stream: TcpStream) {
        let (mut reader, mut writer) = stream.into_split();
        let mut body = Vec::new();
        Msg::Sync.encode(&mut body);
        if write_frame(&mut writer, &body).await.is_err() {
            return;
        }
        let mut buf = Vec::new();
        // A snapshot arrives in chunks and replaces the state only when whole.
        let mut incoming: BTreeMap<u32, u64> = BTreeMap::new();
        while let Ok(true) = read_frame(&mut reader, &mut buf).await {
            if self.is_master() {
                return;
            }
            self.heard_ns.set(self.ctx.clock.now_ns());
            let mut s = self.state.borrow_mut();
            match Msg::decode(&buf) {
                Some(Msg::Snapshot { epoch, offset, pairs, last }) if epoch >= s.epoch => {
                    incoming.extend(pairs);
                    if last {
                        s.last = std::mem::take(&mut incoming);
                        (s.epoch, s.offset) = (epoch, offset);
                        self.ledger.borrow_mut().replicated(epoch, offset);
                    }
                }
                Some(Msg::Append { epoch, offset, key, value, .. }) if epoch == s.epoch => {
                    s.last.insert(key, value);
                    s.offset = offset;
                    self.ledger.borrow_mut().replicated(epoch, offset);
                }
                Some(Msg::Heartbeat { .. }) => {}
                _ => return,
            }
        }
    }

    /// Replica side: promote when no master has been heard for the node timeout.
    async fn watchdog(self: Rc<Self>) {
        loop {
            self.ctx.clock.sleep(self.cfg.heartbeat_ns).await;
            if self.is_master() {
                continue;
            }
            let now = self.ctx.clock.now_ns();
            if now.saturating_sub(self.heard_ns.get()) < self.cfg.node_timeout_ns {
                continue;
            }
            self.ctx.clock.sleep(self.cfg.election_ns).await;
            let silent = self.ctx.clock.now_ns().saturating_sub(self.heard_ns.get());
            if !self.is_master() && silent >= self.cfg.node_timeout_ns {
                self.promote();
            }
        }
    }

    fn promote(&self) {
        let epoch = {
            let mut s = self.state.borrow_mut();
            s.master = true;
            s.epoch += 1;
            s.epoch
        };
        let lost = self.ledger.borrow_mut().retract_before(epoch, &self.ctx.probe);
        self.ctx.count("failovers", 1);
        self.ctx.count("appends_rolled_back", lost);
        self.role_changed.notify_waiters();
    }

    /// Gossip to the peer, every heartbeat: this node's epoch and role.
    async fn gossip(self: Rc<Self>) {
        let peer = self.cfg.peer.clone().expect("a shard with a replica");
        loop {
            let connect = TcpStream::connect(peer.as_str());
            let timeout = self.ctx.clock.wire(self.cfg.node_timeout_ns);
            if let Ok(Ok(stream)) = tokio::time::timeout(timeout, connect).await {
                let (_r, mut w) = stream.into_split();
                loop {
                    let (epoch, master) = {
                        let s = self.state.borrow();
                        (s.epoch, s.master)
                    };
                    let mut body = Vec::new();
                    Msg::Ping { epoch, master }.encode(&mut body);
                    if write_frame(&mut w, &body).await.is_err() {
                        break;
                    }
                    self.ctx.clock.sleep(self.cfg.heartbeat_ns).await;
                }
            }
            self.ctx.clock.sleep(self.cfg.heartbeat_ns).await;
        }
    }

    /// The peer says it is master at `epoch` (or not).
    fn gossip_heard(&self, epoch: u64, master: bool) {
        if !master {
            return;
        }
        let mut s = self.state.borrow_mut();
        if !s.master {
            drop(s);
            self.heard_ns.set(self.ctx.clock.now_ns());
            return;
        }
        if epoch > s.epoch {
            // A newer master: step down; what this node showed since is gone from the view.
            s.master = false;
            drop(s);
            *self.replica.borrow_mut() = None;
            let lost = self.ledger.borrow_mut().retract_before(epoch, &self.ctx.probe);
            self.ctx.count("stepped_down", 1);
            self.ctx.count("appends_rolled_back", lost);
            self.heard_ns.set(self.ctx.clock.now_ns());
            self.role_changed.notify_waiters();
        }
    }
}

async fn write_responses(mut w: OwnedWriteHalf, mut rx: mpsc::UnboundedReceiver<Response>) {
    while let Some(r) = rx.recv().await {
        let mut out = Vec::new();
        let mut body = Vec::new();
        r.encode(&mut body);
        frame_into(&mut out, &body);
        while let Ok(r) = rx.try_recv() {
            body.clear();
            r.encode(&mut body);
            frame_into(&mut out, &body);
        }
        if w.write_all(&out).await.is_err() {
            return;
        }
    }
}
