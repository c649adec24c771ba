//! A broker as leader: produce requests, fetches from followers and the consumer, the high
//! watermark, and the ISR changes it asks of the controller.
//!
//! A connection's frames are handled one at a time: a produce request is read, waits for a
//! handler thread (`log.io_threads`), costs `log.request` plus its bytes at
//! `log.append_bandwidth`, is appended, and only then is the next frame read (Kafka mutes a
//! connection while its request is processed, so a connection's records keep their order). The
//! answer goes out after the append (`acks = "1"`) or when the HW passes it (`"all"`).

use super::{Broker, FollowerState, MAX_BROKER_RECORDS, Part, Shared, Waiter, maybe_flush};
use crate::designs::log::links::{fatal, post, writer};
use crate::designs::log::proto::{CONSUMER, FETCH_MAX_RECORDS, FetchStatus, Msg, Rec};
use crate::{Request, Response, Status, read_frame};
use pipesim_components::kafka::partition_of;
use pipesim_engine::SimTime;
use std::rc::Rc;
use tokio::sync::mpsc;
use turmoil::net::TcpStream;

/// Serves one accepted connection until it closes.
pub(super) async fn serve_connection(b: Shared, stream: TcpStream) {
    let (mut reader, w) = stream.into_split();
    let out = writer(w);
    // Produce answers go through their own channel (an `acks = "all"` answer is sent later).
    let (reply, mut replies) = mpsc::unbounded_channel::<Response>();
    {
        let out = out.clone();
        crate::spawn(async move {
            while let Some(r) = replies.recv().await {
                let mut body = Vec::with_capacity(16);
                r.encode(&mut body);
                if out.send(body).is_err() {
                    break;
                }
            }
        });
    }
    let mut buf = Vec::new();
    // Once this connection was told to go elsewhere, it is told so for every later request:
    // its producer is leaving, and appending a later request after refusing an earlier one
    // would reorder them.
    let mut refused = false;
    while let Ok(true) = read_frame(&mut reader, &mut buf).await {
        if let Some(req) = Request::decode(&buf) {
            refused = produce(&b, req, &reply, refused).await;
            continue;
        }
        match Msg::decode(&buf) {
            Some(Msg::Fetch { partition, offset, epoch, replica }) => {
                let answer = fetch(&b, partition, offset, epoch, replica).await;
                post(&out, &answer);
            }
            Some(Msg::EpochQuery { partition, last_epoch, epoch }) => {
                post(&out, &epoch_end(&b, partition, last_epoch, epoch));
            }
            _ => break,
        }
    }
}

fn answer(reply: &mpsc::UnboundedSender<Response>, request_id: u64, status: Status) {
    let _ = reply.send(Response { request_id, status });
}

/// Whether this broker leads `partition` in `epoch` (any epoch if `None`).
fn leads(s: &Broker, partition: u32, epoch: Option<u32>) -> bool {
    s.parts
        .get(&partition)
        .is_some_and(|p| p.leads(s.me) && epoch.is_none_or(|e| e == p.state.epoch))
}

/// Handles one produce request; returns whether the connection now refuses everything.
async fn produce(
    b: &Shared,
    req: Request,
    reply: &mpsc::UnboundedSender<Response>,
    refused: bool,
) -> bool {
    loop {
        let (ready, first_metadata) = {
            let s = b.borrow();
            (s.meta_version > 0, Rc::clone(&s.ready))
        };
        if ready {
            break;
        }
        first_metadata.notified().await;
    }
    let (partition, epoch, io, cost_ns, clock) = {
        let s = b.borrow_mut();
        let partition = partition_of(req.ev.key, s.p.log.partitions);
        let min_isr = s.p.log.min_insync_replicas;
        let acks_all = s.p.acks_all();
        let part = s.parts.get(&partition);
        let ok = !refused
            && part.is_some_and(|p| p.leads(s.me) && (!acks_all || p.state.isr_len() >= min_isr));
        if !ok {
            s.ctx.count(
                if refused { "refused after a refusal" } else { "not leader or too few in sync" },
                1,
            );
            drop(s);
            answer(reply, req.request_id, Status::Retry);
            return true;
        }
        let epoch = s.parts[&partition].state.epoch;
        let stream = format!("log/request/{}", s.ctx.host.name);
        let draw = super::super::dists(&s.p).0.sample(&mut s.ctx.rng(&stream).borrow_mut());
        let cost = draw.saturating_add(s.p.log.bytes_ns(req.ev.size_bytes));
        (partition, epoch, Rc::clone(&s.io), cost, s.clock())
    };
    let permit = io.acquire().await.expect("never closed");
    clock.sleep(cost_ns).await;
    let appended = append(b, partition, epoch, &req);
    let Some((offset, duplicate)) = appended else {
        drop(permit);
        answer(reply, req.request_id, Status::Retry);
        return true;
    };
    if !duplicate {
        maybe_flush(b, partition).await;
    }
    drop(permit);
    let mut s = b.borrow_mut();
    if offset == u64::MAX {
        drop(s);
        answer(reply, req.request_id, Status::Rejected("log full".to_string()));
        return false;
    }
    let acks_all = s.p.acks_all();
    let part = s.parts.get_mut(&partition).expect("held");
    if !acks_all || part.hw > offset {
        drop(s);
        answer(reply, req.request_id, Status::Ok);
    } else {
        part.waiter_seq += 1;
        let key = (offset, part.waiter_seq);
        part.waiters.insert(key, Waiter { request_id: req.request_id, reply: reply.clone() });
    }
    false
}

/// Appends `req` to `partition` if this broker still leads it in `epoch`: its offset and
/// whether it was a duplicate (an idempotent retry of a record the log has: nothing appended,
/// its offset is the producer's last record's), `Some((u64::MAX, _))` if the broker's memory
/// bound is reached; `None` if leadership moved meanwhile.
fn append(b: &Shared, partition: u32, epoch: u32, req: &Request) -> Option<(u64, bool)> {
    let mut s = b.borrow_mut();
    if !leads(&s, partition, Some(epoch)) {
        return None;
    }
    let idempotent = s.p.producer.idempotence;
    let segment_bytes = s.p.log.segment_bytes.bytes;
    let full = s.records >= MAX_BROKER_RECORDS;
    let part = s.parts.get_mut(&partition).expect("held");
    if idempotent
        && let Some((last, offset)) = part.log.producer(req.producer)
        && req.seq <= last
    {
        s.ctx.count("deduplicated", 1);
        return Some((offset, true));
    }
    if full {
        return Some((u64::MAX, false));
    }
    let rec = Rec { epoch, producer: req.producer, seq: req.seq, ev: req.ev };
    let offset = part.log.leo();
    let rolled = part.log.append(rec, segment_bytes).unwrap_or_else(|e| fatal("appending", e));
    part.changed.notify_waiters();
    s.records += 1;
    drop(s);
    if rolled {
        let b = Rc::clone(b);
        crate::spawn(async move { super::flush_part(&b, partition).await });
    }
    advance_hw(b, partition);
    Some((offset, false))
}

/// Recomputes the HW of a partition this broker leads (the smallest log end among the ISR),
/// and answers the `acks = "all"` requests it passed.
pub(super) fn advance_hw(b: &Shared, partition: u32) {
    let mut s = b.borrow_mut();
    let me = s.me;
    let Some(part) = s.parts.get_mut(&partition) else { return };
    if !part.leads(me) {
        return;
    }
    let mut low = part.log.leo();
    for (&r, f) in &part.followers {
        if part.state.in_isr(r) {
            low = low.min(f.leo);
        }
    }
    if low <= part.hw {
        return;
    }
    part.hw = low;
    part.changed.notify_waiters();
    while let Some(entry) = part.waiters.first_entry() {
        if entry.key().0 >= low {
            break;
        }
        let w = entry.remove();
        let _ = w.reply.send(Response { request_id: w.request_id, status: Status::Ok });
    }
}

/// Serves a fetch: a follower's (which also says how far it has copied) or the consumer's,
/// held until there is something to send or `log.fetch_max_wait` has passed.
async fn fetch(b: &Shared, partition: u32, offset: u64, epoch: u32, replica: u32) -> Msg {
    let (clock, wait) = {
        let s = b.borrow();
        (s.clock(), s.p.log.fetch_max_wait.ns)
    };
    let deadline = clock.instant_at(clock.now_ns() + wait);
    let mut first = true;
    loop {
        let notify = {
            let mut s = b.borrow_mut();
            let now = s.now();
            let not_leader = Msg::Fetched {
                partition,
                status: FetchStatus::NotLeader,
                hw: 0,
                records: Vec::new(),
            };
            if !leads(&s, partition, Some(epoch)) {
                return not_leader;
            }
            let part = s.parts.get_mut(&partition).expect("held");
            let leo = part.log.leo();
            if offset > leo {
                return not_leader; // a follower ahead of the leader: it must truncate first
            }
            if replica != CONSUMER && first {
                follower_fetched(part, replica, offset, now);
                let expand = !part.state.in_isr(replica)
                    && offset >= part.hw
                    && offset >= part.epoch_start
                    && part.isr_asked.is_none();
                let isr = part.state.isr | (1 << replica);
                drop(s);
                advance_hw(b, partition);
                if expand {
                    ask_isr(b, partition, isr);
                }
                s = b.borrow_mut();
            }
            let part = s.parts.get_mut(&partition).expect("held");
            let limit = if replica == CONSUMER { part.hw } else { part.log.leo() };
            if limit > offset || tokio::time::Instant::now() >= deadline {
                let records = part.log.slice(offset, limit, FETCH_MAX_RECORDS);
                return Msg::Fetched { partition, status: FetchStatus::Ok, hw: part.hw, records };
            }
            Rc::clone(&part.changed)
        };
        first = false;
        tokio::select! {
            biased;
            () = notify.notified() => {}
            () = tokio::time::sleep_until(deadline) => {}
        }
    }
}

/// A follower's fetch at `offset` says it has everything below it.
fn follower_fetched(part: &mut Part, replica: u32, offset: u64, now: SimTime) {
    let leo = part.log.leo();
    let f = part.followers.entry(replica).or_insert(FollowerState { leo: 0, caught_up_ns: now });
    f.leo = offset;
    if offset >= leo {
        f.caught_up_ns = now;
    }
}

/// Where `last_epoch` ends in this leader's log (Kafka's OffsetsForLeaderEpoch).
fn epoch_end(b: &Shared, partition: u32, last_epoch: u32, epoch: u32) -> Msg {
    let s = b.borrow();
    if !leads(&s, partition, Some(epoch)) {
        return Msg::EpochEnd { partition, status: FetchStatus::NotLeader, end_offset: 0 };
    }
    let end_offset = s.parts[&partition].log.end_of_epoch(last_epoch);
    Msg::EpochEnd { partition, status: FetchStatus::Ok, end_offset }
}

/// Asks the controller to set `partition`'s ISR to `isr` (once until it publishes a change).
fn ask_isr(b: &Shared, partition: u32, isr: u64) {
    let mut s = b.borrow_mut();
    let me = s.me;
    let Some(out) = s.controller.clone() else { return };
    let part = s.parts.get_mut(&partition).expect("held");
    if part.isr_asked.is_some() || isr == part.state.isr {
        return;
    }
    part.isr_asked = Some(isr);
    let epoch = part.state.epoch;
    post(&out, &Msg::AlterIsr { broker: me, partition, epoch, isr });
    s.ctx.count(
        if isr.count_ones() > s.parts[&partition].state.isr_len() {
            "isr expansions asked"
        } else {
            "isr shrinks asked"
        },
        1,
    );
}

/// Every `log.replica_lag_max` / 2: followers in the ISR that have not caught up for
/// `replica_lag_max` are taken out (Kafka's `isr-expiration` task).
pub(super) async fn isr_check(b: Shared) {
    let (clock, lag_max) = {
        let s = b.borrow();
        (s.clock(), s.p.log.replica_lag_max.ns)
    };
    loop {
        clock.sleep((lag_max / 2).max(1)).await;
        let now = clock.now_ns();
        let shrinks: Vec<(u32, u64)> = {
            let s = b.borrow();
            s.parts
                .values()
                .filter(|p| p.leads(s.me))
                .filter_map(|p| {
                    let late = p.followers.iter().filter(|(r, f)| {
                        p.state.in_isr(**r) && now.saturating_sub(f.caught_up_ns) > lag_max
                    });
                    let isr = late.fold(p.state.isr, |isr, (r, _)| isr & !(1 << r));
                    (isr != p.state.isr).then_some((p.id, isr))
                })
                .collect()
        };
        for (partition, isr) in shrinks {
            ask_isr(&b, partition, isr);
        }
    }
}
