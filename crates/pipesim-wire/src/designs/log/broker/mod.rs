//! A broker: the partitions it holds, what the controller says of them, and its tasks (the
//! controller link, the listener, the follower fetchers, the flusher, the ISR check).
//!
//! State lives in one `RefCell` per host; no borrow is held across an await.

mod follower;
mod leader;

use super::WireLogParams;
use super::links::{Outbox, RECONNECT_NS, connect, fatal, post, writer};
use super::proto::{Metadata, Msg, NO_LEADER, PartState};
use super::storage::{PartitionLog, flush};
use crate::{Clock, Disk, HostCtx, Response, read_frame};
use pipesim_engine::SimTime;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use tokio::sync::{Notify, Semaphore, mpsc};
use turmoil::net::TcpListener;

/// Most records one broker holds in memory over all its partitions (48 bytes each: about
/// 200 MB); beyond it a leader refuses appends ("log full") and a follower stops copying.
pub(crate) const MAX_BROKER_RECORDS: u64 = 4 << 20;

/// An `acks = "all"` request waiting for the HW.
struct Waiter {
    request_id: u64,
    reply: mpsc::UnboundedSender<Response>,
}

/// What the leader knows of one follower in the current leader epoch.
#[derive(Clone, Copy, Debug, Default)]
struct FollowerState {
    /// Its log end as its last fetch said (0 until it fetches in this epoch).
    leo: u64,
    /// When it last had everything the leader had.
    caught_up_ns: SimTime,
}

/// One partition held by this broker.
pub(super) struct Part {
    id: u32,
    replicas: Vec<u32>,
    log: PartitionLog,
    /// What the controller last said.
    state: PartState,
    hw: u64,
    /// As leader: the log end when this leadership began.
    epoch_start: u64,
    followers: BTreeMap<u32, FollowerState>,
    /// As leader: `acks = "all"` requests by (offset the HW must pass, arrival).
    waiters: BTreeMap<(u64, u64), Waiter>,
    waiter_seq: u64,
    /// An ISR change asked of the controller and not published yet.
    isr_asked: Option<u64>,
    /// Bumped whenever this broker's fetcher for the partition must stop.
    fetcher_gen: u32,
    /// Wakes long-polled fetches: the log end, the HW or the leadership changed.
    changed: Rc<Notify>,
}

impl Part {
    fn leads(&self, me: u32) -> bool {
        self.state.leader == me
    }
}

/// The broker's state.
pub(super) struct Broker {
    me: u32,
    incarnation: u32,
    p: Rc<WireLogParams>,
    ctx: HostCtx,
    disk: Disk,
    meta_version: u64,
    parts: BTreeMap<u32, Part>,
    records: u64,
    /// The controller connection's outbox, while connected.
    controller: Option<Outbox>,
    /// Handler threads.
    io: Rc<Semaphore>,
    /// Notified at the first metadata: until then produce requests wait (a restarted Kafka
    /// broker opens its listener only once it has caught up with the metadata).
    ready: Rc<Notify>,
}

pub(super) type Shared = Rc<RefCell<Broker>>;

impl Broker {
    fn clock(&self) -> Clock {
        self.ctx.clock
    }

    fn now(&self) -> SimTime {
        self.ctx.clock.now_ns()
    }
}

/// The broker's software.
pub(super) async fn run(p: Rc<WireLogParams>, ctx: HostCtx) -> turmoil::Result {
    let me: u32 = ctx.index_in_role as u32;
    let disk = ctx.disk()?.clone();
    let mut parts = BTreeMap::new();
    let mut records = 0;
    for part in 0..p.log.partitions {
        let replicas = p.log.replicas(part);
        if !replicas.contains(&me) {
            continue;
        }
        let log = PartitionLog::recover(&disk, part)?;
        records += log.leo();
        let none = PartState { leader: NO_LEADER, epoch: 0, isr: 0 };
        parts.insert(
            part,
            Part {
                id: part,
                replicas,
                log,
                state: none,
                hw: 0,
                epoch_start: 0,
                followers: BTreeMap::new(),
                waiters: BTreeMap::new(),
                waiter_seq: 0,
                isr_asked: None,
                fetcher_gen: 0,
                changed: Rc::new(Notify::new()),
            },
        );
    }
    if ctx.restarts > 0 {
        ctx.count("recovered records", records);
    }
    let io = Rc::new(Semaphore::new(p.log.io_threads as usize));
    let listener = TcpListener::bind(("0.0.0.0", super::BROKER_PORT)).await?;
    let incarnation = ctx.restarts;
    let shared: Shared = Rc::new(RefCell::new(Broker {
        me,
        incarnation,
        p: Rc::clone(&p),
        ctx,
        disk,
        meta_version: 0,
        parts,
        records,
        controller: None,
        io,
        ready: Rc::new(Notify::new()),
    }));
    crate::spawn(controller_link(Rc::clone(&shared)));
    crate::spawn(leader::isr_check(Rc::clone(&shared)));
    if let Some(every) = p.log.flush_ms {
        crate::spawn(flush_every(Rc::clone(&shared), every.ns));
    }
    loop {
        let (stream, _) = listener.accept().await?;
        crate::spawn(leader::serve_connection(Rc::clone(&shared), stream));
    }
}

/// Heartbeats to the controller and takes its metadata, reconnecting when the link breaks.
async fn controller_link(b: Shared) {
    let clock = b.borrow().clock();
    let addr = super::controller_addr();
    let mut buf = Vec::new();
    loop {
        let Some(stream) = connect(&addr, &clock, || true).await else { return };
        let (mut reader, w) = stream.into_split();
        let out = writer(w);
        b.borrow_mut().controller = Some(out.clone());
        let (me, incarnation, every) = {
            let s = b.borrow();
            (s.me, s.incarnation, s.p.log.heartbeat.ns)
        };
        let beat = Msg::Heartbeat { broker: me, incarnation };
        let beats = {
            let out = out.clone();
            crate::spawn(async move {
                loop {
                    post(&out, &beat);
                    clock.sleep(every).await;
                }
            })
        };
        while let Ok(true) = read_frame(&mut reader, &mut buf).await {
            if let Some(Msg::Metadata(m)) = Msg::decode(&buf) {
                apply_metadata(&b, &m);
            }
        }
        beats.abort();
        b.borrow_mut().controller = None;
        clock.sleep(RECONNECT_NS).await;
    }
}

/// Takes a metadata update: each partition's role follows from who leads it.
fn apply_metadata(b: &Shared, m: &Metadata) {
    let mut s = b.borrow_mut();
    if m.version <= s.meta_version {
        return;
    }
    s.meta_version = m.version;
    s.ready.notify_waiters();
    let (me, now) = (s.me, s.now());
    let mut follow = Vec::new();
    let ids: Vec<u32> = s.parts.keys().copied().collect();
    for id in ids {
        let Some(new) = m.parts.get(id as usize).copied() else { continue };
        let part = s.parts.get_mut(&id).expect("held");
        let old = part.state;
        part.state = new;
        part.isr_asked = None;
        let epoch_changed = old.leader != new.leader || old.epoch != new.epoch;
        if old.leader == me && (epoch_changed || new.leader != me) {
            // Leadership lost: waiting producers retry elsewhere.
            for (_, w) in std::mem::take(&mut part.waiters) {
                let _ = w
                    .reply
                    .send(Response { request_id: w.request_id, status: crate::Status::Retry });
            }
        }
        if new.leader == me {
            if epoch_changed {
                part.fetcher_gen += 1;
                part.epoch_start = part.log.leo();
                part.followers = part
                    .replicas
                    .iter()
                    .filter(|&&r| r != me)
                    .map(|&r| (r, FollowerState { leo: 0, caught_up_ns: now }))
                    .collect();
            }
        } else if epoch_changed {
            part.fetcher_gen += 1;
            if new.leader != NO_LEADER {
                follow.push((id, new.leader, new.epoch, part.fetcher_gen));
            }
        }
        part.changed.notify_waiters();
    }
    let led: Vec<u32> = s.parts.values().filter(|p| p.leads(me)).map(|p| p.id).collect();
    drop(s);
    for id in led {
        leader::advance_hw(b, id);
    }
    for (id, leader, epoch, generation) in follow {
        crate::spawn(follower::follow(Rc::clone(b), id, leader, epoch, generation));
    }
}

/// Flushes partition `id`'s log.
async fn flush_part(b: &Shared, id: u32) {
    let disk = b.borrow().disk.clone();
    if let Err(e) =
        flush(&disk, b, |s: &mut Broker| &mut s.parts.get_mut(&id).expect("held").log).await
    {
        fatal("flushing a partition's log", e);
    }
}

/// `log.flush_ms`: every partition's unflushed log is fsynced this often.
async fn flush_every(b: Shared, every_ns: SimTime) {
    let clock = b.borrow().clock();
    loop {
        clock.sleep(every_ns).await;
        let ids: Vec<u32> =
            b.borrow().parts.values().filter(|p| p.log.unflushed > 0).map(|p| p.id).collect();
        for id in ids {
            flush_part(&b, id).await;
        }
    }
}

/// After an append of `id`: flushes it when `log.flush_messages` says so.
async fn maybe_flush(b: &Shared, id: u32) {
    let due = {
        let s = b.borrow();
        let unflushed = s.parts[&id].log.unflushed;
        s.p.log.flush_messages.is_some_and(|n| unflushed >= n)
    };
    if due {
        flush_part(b, id).await;
    }
}
