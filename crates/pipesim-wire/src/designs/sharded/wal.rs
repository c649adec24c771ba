//! A store's write-ahead log on its simulated disk, with group commit.
//!
//! Writers hand their transaction's record to [`Wal::commit`] and wait. One flush runs at a
//! time ([`Wal::run`]): it takes every record waiting, appends them to the active segment as
//! one frame, spends the time the frame's bytes take at `store.wal_bandwidth`, then fsyncs
//! ([`crate::Disk::sync`]: one `wire.disk.fsync` draw, stretched or held by a `disk_stall`).
//! Records that arrive during a flush wait for the next one, which starts as soon as this
//! one ends: one fsync covers every commit queued behind it, as in the DES's `GroupCommit`.
//!
//! A frame is `[len u32][crc32 u32][flush number u64][records]`. A crash loses the frame
//! being flushed (turmoil discards unsynced writes, or tears them into whole blocks), so at
//! start [`Wal::open`] scans the active segment and cuts it after the last whole frame whose
//! checksum holds. Segments are [`SEGMENT_BYTES`] long: when one fills, the next is created
//! and the old one deleted (a checkpoint is assumed to have written its rows to the table,
//! which is not modelled), so a store keeps at most two segments on its disk.

use crate::{Disk, HostCtx};
use std::cell::{Cell, RefCell};
use std::io;
use tokio::sync::{Notify, oneshot};

/// The log's directory on each store's disk.
const WAL_DIR: &str = "/wal";
/// Length at which a segment is closed and the next one started (real bytes: a record holds
/// the rows' identities, not their payload, whose bytes are charged in time only).
pub(super) const SEGMENT_BYTES: u64 = 1 << 20;
/// Bytes of a frame's header: length, checksum, flush number.
const FRAME_HEADER_BYTES: usize = 16;

/// A transaction waiting for its flush.
struct Commit {
    record: Vec<u8>,
    /// The bytes the DES charges for it: payload plus `wal_row_bytes` per row.
    charged_bytes: u64,
    durable: oneshot::Sender<()>,
}

/// What [`Wal::open`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Recovery {
    /// Whole frames in the active segment.
    pub(super) frames: u64,
    /// Bytes cut from its end (a torn or unsynced last frame).
    pub(super) truncated_bytes: u64,
}

/// The log of one store.
pub(super) struct Wal {
    ctx: HostCtx,
    disk: Disk,
    ns_per_byte: f64,
    waiting: RefCell<Vec<Commit>>,
    ready: Notify,
    segment: Cell<u64>,
    next_flush: Cell<u64>,
}

fn segment_path(n: u64) -> String {
    format!("{WAL_DIR}/{n:010}")
}

impl Wal {
    /// Opens the log: creates it on a new disk, or recovers the active segment after a crash.
    pub(super) async fn open(
        ctx: HostCtx,
        bandwidth_bytes_per_s: f64,
    ) -> io::Result<(Self, Recovery)> {
        let disk = ctx.disk()?.clone();
        if !disk.exists(WAL_DIR) {
            disk.create_dir_all(WAL_DIR)?;
        }
        let mut segments: Vec<u64> =
            disk.list(WAL_DIR)?.iter().filter_map(|name| name.parse().ok()).collect();
        segments.sort_unstable();
        let wal = Self {
            ns_per_byte: 1e9 / bandwidth_bytes_per_s,
            waiting: RefCell::default(),
            ready: Notify::new(),
            segment: Cell::new(0),
            next_flush: Cell::new(0),
            ctx,
            disk,
        };
        let Some(&active) = segments.last() else {
            // A new disk (or one whose first segment never became durable).
            wal.disk.write(segment_path(0), &[])?;
            wal.disk.sync_dir(WAL_DIR).await?;
            return Ok((wal, Recovery::default()));
        };
        wal.segment.set(active);
        let older = &segments[..segments.len() - 1];
        for n in older {
            wal.disk.remove(segment_path(*n))?;
        }
        if !older.is_empty() {
            wal.disk.sync_dir(WAL_DIR).await?;
        }
        let path = segment_path(active);
        let bytes = wal.disk.read(&path)?;
        let (valid_len, frames, last_flush) = scan(&bytes);
        wal.next_flush.set(last_flush.map_or(0, |f| f + 1));
        let truncated_bytes = (bytes.len() - valid_len) as u64;
        if truncated_bytes > 0 {
            wal.disk.write(&path, &bytes[..valid_len])?;
            wal.disk.sync(&path).await?;
        }
        Ok((wal, Recovery { frames, truncated_bytes }))
    }

    /// Queues a transaction's record and waits until a flush has made it durable. `false` if
    /// the log stopped first (it only stops with its host).
    pub(super) async fn commit(&self, record: Vec<u8>, charged_bytes: u64) -> bool {
        let (durable, done) = oneshot::channel();
        self.waiting.borrow_mut().push(Commit { record, charged_bytes, durable });
        self.ready.notify_one();
        done.await.is_ok()
    }

    /// The flusher: one group commit after another, for as long as the host runs. Returns only
    /// with an error of the disk.
    pub(super) async fn run(&self) -> io::Result<()> {
        let mut frame = Vec::new();
        loop {
            while self.waiting.borrow().is_empty() {
                self.ready.notified().await;
            }
            let batch = std::mem::take(&mut *self.waiting.borrow_mut());
            let flush = self.next_flush.get();
            self.next_flush.set(flush + 1);
            let charged: u64 = batch.iter().map(|c| c.charged_bytes).sum();
            frame.clear();
            encode_frame(&mut frame, flush, batch.iter().map(|c| c.record.as_slice()));
            let path = segment_path(self.segment.get());
            let len = self.disk.append(&path, &frame)?;
            self.ctx.clock.sleep((charged as f64 * self.ns_per_byte) as u64).await;
            self.disk.sync(&path).await?;
            self.ctx.count("wal_flushes", 1);
            self.ctx.count("wal_records", batch.len() as u64);
            for c in batch {
                // A writer that is gone (its host crashed) cannot be told.
                let _ = c.durable.send(());
            }
            if len >= SEGMENT_BYTES {
                self.rotate().await?;
            }
        }
    }

    /// Starts the next segment and deletes the full one.
    async fn rotate(&self) -> io::Result<()> {
        let old = self.segment.get();
        self.disk.write(segment_path(old + 1), &[])?;
        self.disk.remove(segment_path(old))?;
        self.disk.sync_dir(WAL_DIR).await?;
        self.segment.set(old + 1);
        self.ctx.count("wal_segments_recycled", 1);
        Ok(())
    }
}

/// Appends one frame holding `records` to `out`.
fn encode_frame<'a>(out: &mut Vec<u8>, flush: u64, records: impl Iterator<Item = &'a [u8]>) {
    let start = out.len();
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&flush.to_le_bytes());
    for r in records {
        out.extend_from_slice(r);
    }
    let len = (out.len() - start - 8) as u32;
    let crc = crc32fast::hash(&out[start + 8..]);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// The length of the longest prefix of whole, intact frames; their count; the last one's
/// flush number.
fn scan(bytes: &[u8]) -> (usize, u64, Option<u64>) {
    let (mut at, mut frames, mut last) = (0usize, 0u64, None);
    while let Some(header) = bytes.get(at..at + 8) {
        let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
        let Some(body) = bytes.get(at + 8..at + 8 + len) else { break };
        if len < FRAME_HEADER_BYTES - 8 || crc32fast::hash(body) != crc {
            break;
        }
        last = Some(u64::from_le_bytes(body[..8].try_into().expect("8 bytes")));
        frames += 1;
        at += 8 + len;
    }
    (at, frames, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_keeps_whole_frames_and_cuts_a_torn_or_corrupt_tail() {
        let mut log = Vec::new();
        encode_frame(&mut log, 0, [&[1u8, 2, 3][..]].into_iter());
        encode_frame(&mut log, 1, [&[4u8][..], &[5u8, 6][..]].into_iter());
        let whole = log.len();
        assert_eq!(scan(&log), (whole, 2, Some(1)));
        encode_frame(&mut log, 2, [&[7u8; 40][..]].into_iter());
        for cut in [whole + 3, whole + 20, log.len() - 1] {
            assert_eq!(scan(&log[..cut]), (whole, 2, Some(1)), "cut at {cut}");
        }
        let mut corrupt = log.clone();
        *corrupt.last_mut().expect("not empty") ^= 1;
        assert_eq!(scan(&corrupt), (whole, 2, Some(1)), "a bad checksum ends the log");
        assert_eq!(scan(&[]), (0, 0, None));
    }
}
