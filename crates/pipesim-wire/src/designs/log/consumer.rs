//! The consumer: fetches each partition's committed records (below the leader's high
//! watermark) and applies them to the projection; an event is visible when the statement
//! holding it returns.
//!
//! - **Fetching.** One task per partition and leader epoch, on its own connection to the
//!   leader the controller names: a fetch waits at the leader until the HW passes its position
//!   (or `log.fetch_max_wait`), takes what is there, and the next one is sent at once unless
//!   `kafka_consumer.max_poll_records` fetched records wait. After a leader change it first
//!   asks where the epoch of its last fetched record ends in the new leader's log, and goes
//!   back there if the log was cut below its position (Kafka's KIP-320): the records it had
//!   fetched beyond stay applied if they were; the new ones at those offsets are applied too.
//! - **Applying.** `projection.workers` workers, partition p on worker p mod workers; a worker
//!   takes its partitions in turn and applies up to `projection.batch` records of one partition
//!   in one statement of `projection.upsert` plus `upsert_per_row` per row.
//! - **Offsets.** Every `kafka_consumer.auto_commit` the applied positions (and their epochs)
//!   are written to the host's disk and synced; a restarted consumer resumes from them, so it
//!   applies again what it had applied since (duplicates), as an auto-committing Kafka
//!   consumer does.

use super::WireLogParams;
use super::links::{RECONNECT_NS, call, connect, fatal, post, writer};
use super::proto::{CONSUMER, FetchStatus, Metadata, Msg, NO_LEADER, PartState, Rec};
use crate::{Clock, Cursor, Disk, HostCtx, read_frame};
use pipesim_engine::SimTime;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use tokio::sync::Notify;

const DIR: &str = "/consumer";
const FILE: &str = "/consumer/offsets";

/// One partition as the consumer sees it.
#[derive(Default)]
struct Feed {
    /// The next offset to fetch.
    position: u64,
    /// The leader epoch of the last record fetched (what truncation is detected by).
    last_epoch: Option<u32>,
    /// Fetched, not applied yet.
    buffer: VecDeque<(u64, Rec)>,
    /// The next offset to apply (and to commit), with the epoch of the last applied record.
    applied: u64,
    applied_epoch: Option<u32>,
    /// Leader and epoch the running fetcher serves; bumped to stop it.
    leader: PartState,
    generation: u32,
    /// Bumped when the position goes back (a statement under way does not move `applied`).
    lineage: u32,
}

struct Consumer {
    p: Rc<WireLogParams>,
    ctx: HostCtx,
    feeds: Vec<Feed>,
    meta_version: u64,
    /// Per worker: wakes it when one of its partitions has records.
    work: Vec<Rc<Notify>>,
    /// Per partition: wakes its fetcher when the buffer has room again.
    room: Vec<Rc<Notify>>,
}

type Shared = Rc<RefCell<Consumer>>;

/// The consumer's software.
pub(super) async fn run(p: Rc<WireLogParams>, ctx: HostCtx) -> turmoil::Result {
    if ctx.restarts > 0 {
        ctx.clock.sleep(p.projection.restart_delay.ns).await;
    }
    let disk = ctx.disk()?.clone();
    let partitions = p.log.partitions as usize;
    let mut feeds: Vec<Feed> = (0..partitions).map(|_| Feed::default()).collect();
    for (f, (offset, epoch)) in feeds.iter_mut().zip(load(&disk, partitions)) {
        (f.position, f.applied) = (offset, offset);
        (f.last_epoch, f.applied_epoch) = (epoch, epoch);
    }
    let workers = p.projection.workers.min(p.log.partitions) as usize;
    let c: Shared = Rc::new(RefCell::new(Consumer {
        p: Rc::clone(&p),
        ctx: ctx.clone(),
        feeds,
        meta_version: 0,
        work: (0..workers).map(|_| Rc::new(Notify::new())).collect(),
        room: (0..partitions).map(|_| Rc::new(Notify::new())).collect(),
    }));
    for w in 0..workers {
        crate::spawn(work(Rc::clone(&c), w));
    }
    crate::spawn(commit_every(Rc::clone(&c), disk));
    watch(c, ctx.clock).await;
    Ok(())
}

fn load(disk: &Disk, partitions: usize) -> Vec<(u64, Option<u32>)> {
    let bytes = disk.read(FILE).unwrap_or_default();
    let mut c = Cursor::new(&bytes);
    (0..partitions)
        .map(|_| match (c.u64(), c.u32()) {
            (Some(o), Some(e)) => (o, (e != u32::MAX).then_some(e)),
            _ => (0, None),
        })
        .collect()
}

/// Follows the controller's metadata; starts a fetcher per partition and leader epoch.
async fn watch(c: Shared, clock: Clock) {
    let addr = super::controller_addr();
    let mut buf = Vec::new();
    loop {
        let Some(stream) = connect(&addr, &clock, || true).await else { return };
        let (mut reader, w) = stream.into_split();
        let out = writer(w);
        post(&out, &Msg::Watch);
        while let Ok(true) = read_frame(&mut reader, &mut buf).await {
            if let Some(Msg::Metadata(m)) = Msg::decode(&buf) {
                apply_metadata(&c, &m);
            }
        }
        clock.sleep(RECONNECT_NS).await;
    }
}

fn apply_metadata(c: &Shared, m: &Metadata) {
    let mut s = c.borrow_mut();
    if m.version <= s.meta_version {
        return;
    }
    s.meta_version = m.version;
    let mut start = Vec::new();
    for (id, (f, st)) in s.feeds.iter_mut().zip(&m.parts).enumerate() {
        if f.leader.leader == st.leader && f.leader.epoch == st.epoch {
            continue;
        }
        f.leader = *st;
        f.generation += 1;
        if st.leader != NO_LEADER {
            start.push((id as u32, *st, f.generation));
        }
    }
    drop(s);
    for (id, st, generation) in start {
        crate::spawn(fetch(Rc::clone(c), id, st.leader, st.epoch, generation));
    }
}

/// Fetches partition `id` from `leader` in `epoch` while `generation` is current.
async fn fetch(c: Shared, id: u32, leader: u32, epoch: u32, generation: u32) {
    let (clock, max_poll, room) = {
        let s = c.borrow();
        (s.ctx.clock, s.p.kafka_consumer.max_poll_records as usize, Rc::clone(&s.room[id as usize]))
    };
    let current = || c.borrow().feeds[id as usize].generation == generation;
    let addr = super::broker_addr(leader);
    let mut buf = Vec::new();
    let mut validated = false;
    while current() {
        let Some(mut stream) = connect(&addr, &clock, current).await else { return };
        loop {
            if !validated {
                match validate(&c, &mut stream, id, epoch, &mut buf, &current).await {
                    Some(true) => validated = true,
                    _ => break,
                }
            }
            while c.borrow().feeds[id as usize].buffer.len() >= max_poll {
                room.notified().await;
            }
            if !current() {
                return;
            }
            let offset = c.borrow().feeds[id as usize].position;
            let msg = Msg::Fetch { partition: id, offset, epoch, replica: CONSUMER };
            let Ok(Some(Msg::Fetched { status: FetchStatus::Ok, records, .. })) =
                call(&mut stream, &msg, &mut buf).await
            else {
                break;
            };
            if !current() {
                return;
            }
            take(&c, id, offset, records);
        }
        clock.sleep(RECONNECT_NS).await;
    }
}

/// After a leader change: goes back to where the last fetched epoch ends in the new leader's
/// log, if that is below the position. `Some(true)` when done.
async fn validate(
    c: &Shared,
    stream: &mut turmoil::net::TcpStream,
    id: u32,
    epoch: u32,
    buf: &mut Vec<u8>,
    current: &impl Fn() -> bool,
) -> Option<bool> {
    let Some(last_epoch) = c.borrow().feeds[id as usize].last_epoch else { return Some(true) };
    let query = Msg::EpochQuery { partition: id, last_epoch, epoch };
    let Msg::EpochEnd { status: FetchStatus::Ok, end_offset, .. } =
        call(stream, &query, buf).await.ok()??
    else {
        return Some(false);
    };
    if !current() {
        return None;
    }
    let mut s = c.borrow_mut();
    let f = &mut s.feeds[id as usize];
    if end_offset < f.position {
        let skipped = f.position - end_offset;
        f.buffer.retain(|(o, _)| *o < end_offset);
        f.position = end_offset;
        f.applied = f.applied.min(end_offset);
        f.last_epoch = f.buffer.back().map(|(_, r)| r.epoch).or(f.applied_epoch);
        f.lineage += 1;
        s.ctx.count("offsets reset after a truncation", skipped);
    }
    Some(true)
}

/// Buffers what a fetch of `id` at `offset` returned.
fn take(c: &Shared, id: u32, offset: u64, records: Vec<Rec>) {
    let mut s = c.borrow_mut();
    let workers = s.work.len();
    let f = &mut s.feeds[id as usize];
    if records.is_empty() || f.position != offset {
        return;
    }
    f.position += records.len() as u64;
    f.last_epoch = records.last().map(|r| r.epoch);
    f.buffer.extend(records.into_iter().enumerate().map(|(i, r)| (offset + i as u64, r)));
    s.work[id as usize % workers].notify_one();
}

/// Worker `w`: applies its partitions' records, a statement at a time.
async fn work(c: Shared, w: usize) {
    let (clock, notify, rng, partitions, step) = {
        let s = c.borrow();
        let rng = s.ctx.rng("projection");
        (s.ctx.clock, Rc::clone(&s.work[w]), rng, s.feeds.len(), s.work.len())
    };
    let mine: Vec<usize> = (w..partitions).step_by(step).collect();
    let mut rr = 0;
    loop {
        let batch = {
            let mut s = c.borrow_mut();
            let max = s.p.projection.batch as usize;
            let next = (0..mine.len())
                .map(|i| (rr + i) % mine.len())
                .find(|&i| !s.feeds[mine[i]].buffer.is_empty());
            next.map(|i| {
                rr = (i + 1) % mine.len();
                let f = &mut s.feeds[mine[i]];
                let n = f.buffer.len().min(max);
                (mine[i], f.lineage, f.buffer.drain(..n).collect::<Vec<_>>())
            })
        };
        let Some((id, lineage, recs)) = batch else {
            notify.notified().await;
            continue;
        };
        c.borrow().room[id].notify_one();
        let cost: SimTime = {
            let s = c.borrow();
            let (_, upsert) = super::dists(&s.p);
            let per_row = s.p.projection.upsert_per_row.ns.saturating_mul(recs.len() as u64);
            upsert.sample(&mut rng.borrow_mut()).saturating_add(per_row)
        };
        clock.sleep(cost).await;
        let mut s = c.borrow_mut();
        for (_, r) in &recs {
            s.ctx.probe.visible(&r.ev);
        }
        let f = &mut s.feeds[id];
        if f.lineage == lineage {
            let (last_offset, last) = recs.last().expect("a statement has rows");
            f.applied = last_offset + 1;
            f.applied_epoch = Some(last.epoch);
        }
    }
}

/// Every `kafka_consumer.auto_commit`: the applied positions go to disk, synced.
async fn commit_every(c: Shared, disk: Disk) {
    let (clock, every) = {
        let s = c.borrow();
        (s.ctx.clock, s.p.kafka_consumer.auto_commit.ns)
    };
    let mut first = !disk.exists(FILE);
    loop {
        clock.sleep(every).await;
        let bytes: Vec<u8> = c
            .borrow()
            .feeds
            .iter()
            .flat_map(|f| {
                let mut b = f.applied.to_le_bytes().to_vec();
                b.extend_from_slice(&f.applied_epoch.unwrap_or(u32::MAX).to_le_bytes());
                b
            })
            .collect();
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
        result.unwrap_or_else(|e| fatal("committing the consumer's offsets", e));
        first = false;
        c.borrow().ctx.count("offset commits", 1);
    }
}
