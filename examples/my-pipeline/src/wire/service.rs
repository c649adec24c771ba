//! The ingest server's code: connections, the committer task, and recovery from the log file.
//!
//! Determinism (the rules of `pipesim_wire`): every `select!` is `biased;`; ordered
//! containers only; time and sleeps through the host's `Clock`; tasks through
//! `pipesim_wire::spawn`.

use crate::commit::CommitParams;
use pipesim_wire::{Disk, EVENT_BYTES, HostCtx, Request, Response, Status};
use pipesim_wire::{decode_event, encode_event, read_frame};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use tokio::sync::{Notify, mpsc};
use turmoil::net::TcpListener;

/// The log file: a run of [`EVENT_BYTES`]-byte records, one per event, in commit order.
const LOG_PATH: &str = "/events.log";
/// Its directory, fsynced once when the file is created (a synced file whose entry is not
/// durable disappears in a crash, as on POSIX).
const LOG_DIR: &str = "/";

/// An event's identity for deduplication: (key, per-key sequence number).
type EventId = (u32, u64);

/// A request waiting for the fsync that covers it, with the way back to its connection.
struct Waiter {
    req: Request,
    /// Whether this request appends the event; a retry of an event already waiting does not.
    appends: bool,
    reply: mpsc::UnboundedSender<Response>,
}

/// The server's state: rebuilt from the file at every start.
struct Ingest {
    commit: CommitParams,
    /// Events whose fsync has completed (read back from the file at start).
    durable: RefCell<BTreeSet<EventId>>,
    /// Events appended to a batch whose fsync has not completed yet.
    unsynced: RefCell<BTreeSet<EventId>>,
    /// Requests since the current batch began, in arrival order.
    pending: RefCell<Vec<Waiter>>,
    /// Signalled when `pending` reaches `commit.max_batch`.
    full: Notify,
}

impl Ingest {
    /// Takes in one request: acknowledged at once if its event is durable, otherwise queued
    /// for the next fsync (appending the event unless a batch already holds it).
    fn accept(&self, ctx: &HostCtx, req: Request, reply: &mpsc::UnboundedSender<Response>) {
        let id = (req.ev.key, req.ev.seq);
        if self.durable.borrow().contains(&id) {
            // A retry whose first answer was lost (a crash after the fsync, a timeout).
            ctx.count("retries_of_durable_events", 1);
            let _ = reply.send(Response { request_id: req.request_id, status: Status::Ok });
            return;
        }
        let appends = self.unsynced.borrow_mut().insert(id);
        let mut pending = self.pending.borrow_mut();
        pending.push(Waiter { req, appends, reply: reply.clone() });
        if pending.len() >= self.commit.max_batch as usize {
            self.full.notify_one();
        }
    }
}

/// The host's software: recover, then serve until crashed.
pub(super) async fn serve(ctx: HostCtx, commit: CommitParams) -> turmoil::Result {
    // Listening before recovery: producers connecting meanwhile wait in the backlog instead
    // of being refused into their backoff; nothing is read until the log is back.
    let listener = TcpListener::bind(("0.0.0.0", super::PORT)).await?;
    let disk = ctx.disk()?.clone();
    let durable = recover(&disk).await?;
    ctx.count("recovered_events", durable.len() as u64);
    let ingest = Rc::new(Ingest {
        commit,
        durable: RefCell::new(durable),
        unsynced: RefCell::default(),
        pending: RefCell::default(),
        full: Notify::new(),
    });
    // The committer ends only on a disk error, which ends the host's software with it.
    tokio::select! {
        biased;
        done = committer(Rc::clone(&ingest), ctx.clone(), disk) => Ok(done?),
        done = accept_loop(listener, ingest, ctx) => done,
    }
}

/// Accepts connections; each reads requests and hands them to [`Ingest::accept`], and a task
/// of its own writes the answers back in the order they are ready.
async fn accept_loop(listener: TcpListener, ingest: Rc<Ingest>, ctx: HostCtx) -> turmoil::Result {
    loop {
        let (stream, _) = listener.accept().await?;
        let (ingest, ctx) = (Rc::clone(&ingest), ctx.clone());
        pipesim_wire::spawn(async move {
            let (mut reader, mut writer) = stream.into_split();
            let (tx, mut rx) = mpsc::unbounded_channel::<Response>();
            pipesim_wire::spawn(async move {
                while let Some(r) = rx.recv().await {
                    if r.write_to(&mut writer).await.is_err() {
                        break;
                    }
                }
            });
            let mut buf = Vec::new();
            while let Ok(true) = read_frame(&mut reader, &mut buf).await {
                let Some(req) = Request::decode(&buf) else { break };
                ingest.accept(&ctx, req, &tx);
            }
        });
    }
}

/// Reads the log back: the identities of the events it holds. A torn last record (a crash
/// in the middle of a write, with `wire.disk.torn_block`) is cut off.
async fn recover(disk: &Disk) -> std::io::Result<BTreeSet<EventId>> {
    if !disk.exists(LOG_PATH) {
        disk.write(LOG_PATH, &[])?;
        disk.sync_dir(LOG_DIR).await?;
        return Ok(BTreeSet::new());
    }
    let bytes = disk.read(LOG_PATH)?;
    let whole = bytes.len() / EVENT_BYTES * EVENT_BYTES;
    if whole != bytes.len() {
        disk.write(LOG_PATH, &bytes[..whole])?;
        disk.sync(LOG_PATH).await?;
    }
    Ok(bytes[..whole]
        .chunks_exact(EVENT_BYTES)
        .filter_map(decode_event)
        .map(|ev| (ev.key, ev.seq))
        .collect())
}

/// Commits batches on the schedule of [`CommitParams`] until a disk error.
async fn committer(ingest: Rc<Ingest>, ctx: HostCtx, disk: Disk) -> std::io::Result<()> {
    let clock = ctx.clock;
    let mut next_boundary_ns = ingest.commit.next_boundary_ns(clock.now_ns());
    loop {
        let now_ns = clock.now_ns();
        let full = ingest.pending.borrow().len() >= ingest.commit.max_batch as usize;
        if now_ns < next_boundary_ns && !full {
            // Wait for the boundary or a full batch, then check again: a `notify_one` stored
            // while no one waited can wake this with the batch still short.
            tokio::select! {
                biased;
                () = clock.sleep_until(next_boundary_ns) => {}
                () = ingest.full.notified() => {}
            }
            continue;
        }
        if now_ns >= next_boundary_ns {
            next_boundary_ns = ingest.commit.next_boundary_ns(now_ns);
        }
        let batch = std::mem::take(&mut *ingest.pending.borrow_mut());
        if !batch.is_empty() {
            commit_batch(&ingest, &ctx, &disk, batch).await?;
        }
    }
}

/// Writes a batch's new events, fsyncs the log, then makes them visible and answers every
/// request of the batch. A crash during the fsync drops this future: nothing is answered.
async fn commit_batch(
    ingest: &Ingest,
    ctx: &HostCtx,
    disk: &Disk,
    batch: Vec<Waiter>,
) -> std::io::Result<()> {
    let mut records = Vec::with_capacity(batch.len() * EVENT_BYTES);
    for w in batch.iter().filter(|w| w.appends) {
        encode_event(&w.req.ev, &mut records);
    }
    if !records.is_empty() {
        disk.append(LOG_PATH, &records)?;
        disk.sync(LOG_PATH).await?;
        ctx.count("fsyncs", 1);
    }
    ctx.count("batched_requests", batch.len() as u64);
    for w in batch {
        if w.appends {
            let id = (w.req.ev.key, w.req.ev.seq);
            ingest.unsynced.borrow_mut().remove(&id);
            ingest.durable.borrow_mut().insert(id);
            ctx.probe.visible(&w.req.ev);
        }
        // A closed connection: the producer sends the event again and finds it durable.
        let _ = w.reply.send(Response { request_id: w.req.request_id, status: Status::Ok });
    }
    Ok(())
}
