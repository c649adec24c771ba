//! A broker as follower of one partition: truncate to where its last leader epoch ends in the
//! leader's log (so a tail that only an old leader had is gone), then fetch from its log end,
//! append what comes, and fetch again at once. Each fetch tells the leader how far it has
//! copied, which is what moves the leader's high watermark: a record is in the HW one fetch
//! answer and one fetch after the leader appended it (two network delays), or later when it
//! arrives while the follower's next fetch is on its way.

use super::{MAX_BROKER_RECORDS, Shared, flush_part, maybe_flush};
use crate::designs::log::broker_addr;
use crate::designs::log::links::{RECONNECT_NS, call, connect, fatal};
use crate::designs::log::proto::{FetchStatus, Msg};
use std::rc::Rc;

/// Follows `partition` led by `leader` in `epoch`, until the broker's fetcher generation for
/// the partition moves past `generation`.
pub(super) async fn follow(b: Shared, partition: u32, leader: u32, epoch: u32, generation: u32) {
    let (clock, me) = {
        let s = b.borrow();
        (s.clock(), s.me)
    };
    let current = || b.borrow().parts[&partition].fetcher_gen == generation;
    let addr = broker_addr(leader);
    let mut buf = Vec::new();
    loop {
        let Some(mut stream) = connect(&addr, &clock, current).await else { return };
        if truncate_by_epoch(&b, &mut stream, partition, epoch, &mut buf).await != Some(true) {
            if !current() {
                return;
            }
            clock.sleep(RECONNECT_NS).await;
            continue;
        }
        loop {
            if !current() {
                return;
            }
            if b.borrow().records >= MAX_BROKER_RECORDS {
                clock.sleep(RECONNECT_NS).await;
                continue;
            }
            let offset = b.borrow().parts[&partition].log.leo();
            let fetch = Msg::Fetch { partition, offset, epoch, replica: me };
            let Ok(Some(Msg::Fetched { status: FetchStatus::Ok, hw, records, .. })) =
                call(&mut stream, &fetch, &mut buf).await
            else {
                break; // not the leader (yet, or any more), or the connection broke
            };
            if !current() {
                return;
            }
            if !records.is_empty() {
                copy(&b, partition, &records);
                maybe_flush(&b, partition).await;
            }
            let mut s = b.borrow_mut();
            let part = s.parts.get_mut(&partition).expect("held");
            part.hw = part.hw.max(hw.min(part.log.leo()));
        }
        clock.sleep(RECONNECT_NS).await;
    }
}

/// Appends what the leader sent.
fn copy(b: &Shared, partition: u32, records: &[crate::designs::log::proto::Rec]) {
    let mut s = b.borrow_mut();
    let segment_bytes = s.p.log.segment_bytes.bytes;
    let part = s.parts.get_mut(&partition).expect("held");
    let mut rolled = false;
    for r in records {
        rolled |= part.log.append(*r, segment_bytes).unwrap_or_else(|e| fatal("copying", e));
    }
    s.records += records.len() as u64;
    drop(s);
    if rolled {
        let b = Rc::clone(b);
        crate::spawn(async move { flush_part(&b, partition).await });
    }
}

/// Asks the leader where this replica's last epoch ends and cuts the log there. `Some(true)`:
/// done (or nothing to ask); `Some(false)`: the broker asked does not lead in `epoch`; `None`:
/// the connection broke.
async fn truncate_by_epoch(
    b: &Shared,
    stream: &mut turmoil::net::TcpStream,
    partition: u32,
    epoch: u32,
    buf: &mut Vec<u8>,
) -> Option<bool> {
    let Some(last_epoch) = b.borrow().parts[&partition].log.last_epoch() else { return Some(true) };
    let query = Msg::EpochQuery { partition, last_epoch, epoch };
    let Msg::EpochEnd { status, end_offset, .. } = call(stream, &query, buf).await.ok()?? else {
        return None;
    };
    if status != FetchStatus::Ok {
        return Some(false);
    }
    let cut = {
        let mut s = b.borrow_mut();
        let disk = s.disk.clone();
        let part = s.parts.get_mut(&partition).expect("held");
        let cut = part.log.truncate(&disk, end_offset).unwrap_or_else(|e| fatal("truncating", e));
        part.hw = part.hw.min(part.log.leo());
        s.records -= cut;
        if cut > 0 {
            s.ctx.count("truncated records", cut);
        }
        cut
    };
    // With a flush policy the cut is made durable at once (a crash must not bring the
    // divergent tail back); without one it reaches the disk like any other write: never.
    let policy = {
        let p = &b.borrow().p.log;
        p.flush_messages.is_some() || p.flush_ms.is_some()
    };
    if cut > 0 && policy {
        flush_part(b, partition).await;
    }
    Some(true)
}
