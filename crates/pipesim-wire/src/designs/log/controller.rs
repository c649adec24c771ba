//! The controller: the cluster's metadata (each partition's leader, leader epoch and ISR),
//! broker liveness by heartbeats, and elections. One process, no quorum: it stands in for
//! KRaft's controller quorum, whose metadata-log commit it replaces by a wait of
//! `log.election` before it publishes a change, and whose durability it keeps by writing the
//! metadata to its disk (synced) before publishing.
//!
//! - A broker is **fenced** when its last heartbeat is `log.session_timeout` old, or when it
//!   registers a new incarnation (it restarted: what it had may be gone). Fencing takes it out
//!   of every ISR it is in, unless it is a partition's last in-sync replica, and moves the
//!   leadership of its partitions to the first live in-sync replica in preference order (the
//!   leader epoch goes up); with none left the partition has no leader (no unclean election).
//! - A fenced broker whose incarnation is known is **unfenced** by its next heartbeat, and then
//!   leads every leaderless partition whose last in-sync replica it is, with what its log holds.
//! - A leader's `AlterIsr` (grow or shrink its partition's ISR) is applied if it still leads
//!   in the epoch it names and every member it adds is unfenced.

use super::WireLogParams;
use super::links::{Outbox, fatal, post, writer};
use super::proto::{Metadata, Msg, NO_LEADER, PartState};
use crate::{Cursor, Disk, HostCtx, read_frame};
use pipesim_engine::SimTime;
use std::rc::Rc;
use tokio::sync::mpsc;
use turmoil::net::{TcpListener, TcpStream};

const DIR: &str = "/controller";
const FILE: &str = "/controller/metadata";
const UNKNOWN: u32 = u32::MAX;

/// What connections tell the controller's loop.
enum Event {
    Heartbeat { broker: u32, incarnation: u32, new_link: Option<Outbox> },
    Watch(Outbox),
    AlterIsr { broker: u32, partition: u32, epoch: u32, isr: u64 },
}

struct Controller {
    p: Rc<WireLogParams>,
    ctx: HostCtx,
    disk: Disk,
    meta: Metadata,
    incarnations: Vec<u32>,
    fenced: Vec<bool>,
    last_heartbeat_ns: Vec<SimTime>,
    watchers: Vec<Outbox>,
    /// The file was written and its name synced once.
    persisted: bool,
}

/// The controller's software.
pub(super) async fn run(p: Rc<WireLogParams>, ctx: HostCtx) -> turmoil::Result {
    let disk = ctx.disk()?.clone();
    let brokers = p.log.brokers as usize;
    let (meta, incarnations, persisted) = match load(&disk, brokers) {
        Some((m, inc)) => (m, inc, true),
        None => (initial(&p), vec![UNKNOWN; brokers], false),
    };
    let now = ctx.clock.now_ns();
    let mut c = Controller {
        p,
        ctx,
        disk,
        meta,
        incarnations,
        fenced: vec![false; brokers],
        last_heartbeat_ns: vec![now; brokers],
        watchers: Vec::new(),
        persisted,
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let listener = TcpListener::bind(("0.0.0.0", super::CONTROLLER_PORT)).await?;
    crate::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            crate::spawn(serve(stream, tx.clone()));
        }
    });
    let clock = c.ctx.clock;
    loop {
        let session = c.p.log.session_timeout.ns;
        let next_expiry = (0..brokers)
            .filter(|&b| !c.fenced[b])
            .map(|b| c.last_heartbeat_ns[b].saturating_add(session).saturating_add(1))
            .min();
        let wake = clock.instant_at(next_expiry.unwrap_or(u64::MAX / 4));
        let (mut publish, mut persist) = (false, false);
        tokio::select! {
            biased;
            ev = rx.recv() => {
                let Some(ev) = ev else { continue };
                (publish, persist) = c.handle(ev);
            }
            () = tokio::time::sleep_until(wake), if next_expiry.is_some() => {}
        }
        let now = clock.now_ns();
        for b in 0..brokers {
            if !c.fenced[b] && now.saturating_sub(c.last_heartbeat_ns[b]) > session {
                c.ctx.count("fenced by session timeout", 1);
                publish |= c.fence(b as u32);
            }
        }
        if publish {
            c.meta.version += 1;
        }
        if publish || persist {
            c.persist().await;
        }
        if publish {
            clock.sleep(c.p.log.election.ns).await;
            c.publish();
        }
    }
}

/// Every partition led by its first replica, with every replica in sync.
fn initial(p: &WireLogParams) -> Metadata {
    let parts = (0..p.log.partitions)
        .map(|id| {
            let replicas = p.log.replicas(id);
            let isr = replicas.iter().fold(0u64, |isr, r| isr | (1 << r));
            PartState { leader: replicas[0], epoch: 1, isr }
        })
        .collect();
    Metadata { version: 1, parts }
}

fn load(disk: &Disk, brokers: usize) -> Option<(Metadata, Vec<u32>)> {
    let bytes = disk.read(FILE).ok()?;
    let mut c = Cursor::new(&bytes);
    let meta = Metadata::decode(&mut c)?;
    let inc = (0..brokers).map(|_| c.u32()).collect::<Option<Vec<_>>>()?;
    Some((meta, inc))
}

/// Reads one connection's frames into events.
async fn serve(stream: TcpStream, tx: mpsc::UnboundedSender<Event>) {
    let (mut reader, w) = stream.into_split();
    let mut out = Some(writer(w));
    let mut buf = Vec::new();
    while let Ok(true) = read_frame(&mut reader, &mut buf).await {
        let ev = match Msg::decode(&buf) {
            Some(Msg::Heartbeat { broker, incarnation }) => {
                Event::Heartbeat { broker, incarnation, new_link: out.take() }
            }
            Some(Msg::Watch) => match out.take() {
                Some(o) => Event::Watch(o),
                None => continue,
            },
            Some(Msg::AlterIsr { broker, partition, epoch, isr }) => {
                Event::AlterIsr { broker, partition, epoch, isr }
            }
            _ => break,
        };
        if tx.send(ev).is_err() {
            break;
        }
    }
}

impl Controller {
    /// Handles one event: (the metadata changed, something else to persist changed).
    fn handle(&mut self, ev: Event) -> (bool, bool) {
        let now = self.ctx.clock.now_ns();
        match ev {
            Event::Heartbeat { broker, incarnation, new_link } => {
                let Some(b) = (broker < self.p.log.brokers).then_some(broker as usize) else {
                    return (false, false);
                };
                self.last_heartbeat_ns[b] = now;
                let known = self.incarnations[b];
                let (mut publish, mut persist) = (false, false);
                if known != incarnation {
                    if known != UNKNOWN && !self.fenced[b] {
                        self.ctx.count("fenced on re-registration", 1);
                        publish |= self.fence(broker);
                    }
                    self.incarnations[b] = incarnation;
                    persist = true;
                } else if self.fenced[b] {
                    publish |= self.unfence(broker);
                }
                if let Some(out) = new_link {
                    self.watch(out, publish);
                }
                (publish, persist)
            }
            Event::Watch(out) => {
                self.watch(out, false);
                (false, false)
            }
            Event::AlterIsr { broker, partition, epoch, isr } => {
                (self.alter_isr(broker, partition, epoch, isr), false)
            }
        }
    }

    /// Adds a connection to those told of changes; sends it the metadata now unless a change
    /// is about to be published anyway.
    fn watch(&mut self, out: Outbox, change_coming: bool) {
        if !change_coming {
            post(&out, &Msg::Metadata(self.meta.clone()));
        }
        self.watchers.push(out);
    }

    fn fence(&mut self, broker: u32) -> bool {
        self.fenced[broker as usize] = true;
        let mut changed = false;
        for id in 0..self.meta.parts.len() {
            let replicas = self.p.log.replicas(id as u32);
            let st = &mut self.meta.parts[id];
            if !replicas.contains(&broker) {
                continue;
            }
            if st.leader == broker {
                let next = replicas
                    .iter()
                    .copied()
                    .find(|&r| r != broker && st.in_isr(r) && !self.fenced[r as usize]);
                st.leader = next.unwrap_or(NO_LEADER);
                st.epoch += 1;
                changed = true;
                self.ctx.count(
                    if next.is_some() { "elections" } else { "partitions left without a leader" },
                    1,
                );
            }
            if st.in_isr(broker) && st.isr_len() > 1 {
                st.isr &= !(1 << broker);
                changed = true;
            }
        }
        changed
    }

    fn unfence(&mut self, broker: u32) -> bool {
        self.fenced[broker as usize] = false;
        let mut changed = false;
        for st in &mut self.meta.parts {
            if st.leader == NO_LEADER && st.in_isr(broker) {
                st.leader = broker;
                st.epoch += 1;
                changed = true;
                self.ctx.count("elections of a returning last in-sync replica", 1);
            }
        }
        changed
    }

    fn alter_isr(&mut self, broker: u32, partition: u32, epoch: u32, isr: u64) -> bool {
        let Some(st) = self.meta.parts.get_mut(partition as usize) else { return false };
        let added = isr & !st.isr;
        let fenced = &self.fenced;
        let ok = st.leader == broker
            && st.epoch == epoch
            && isr & (1 << broker) != 0
            && (0..64).all(|r| added & (1 << r) == 0 || fenced.get(r).is_some_and(|f| !f));
        if ok && isr != st.isr {
            st.isr = isr;
            self.ctx.count("isr changes", 1);
        }
        ok
    }

    /// Writes the metadata and the brokers' incarnations to disk, synced.
    async fn persist(&mut self) {
        let mut bytes = Vec::new();
        self.meta.encode(&mut bytes);
        self.incarnations.iter().for_each(|i| bytes.extend_from_slice(&i.to_le_bytes()));
        let disk = self.disk.clone();
        let first = !self.persisted;
        let result = async {
            disk.create_dir_all(DIR)?;
            disk.write(FILE, &bytes)?;
            disk.sync(FILE).await?;
            if first {
                disk.sync_dir("/").await?;
                disk.sync_dir(DIR).await?;
            }
            Ok::<(), std::io::Error>(())
        }
        .await;
        result.unwrap_or_else(|e| fatal("writing the controller's metadata", e));
        self.persisted = true;
    }

    fn publish(&mut self) {
        let msg = Msg::Metadata(self.meta.clone());
        self.watchers.retain(|out| !out.is_closed());
        for out in &self.watchers {
            post(out, &msg);
        }
    }
}
