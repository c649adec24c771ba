//! One partition's log on a broker: its records in memory (the page cache) and in segment
//! files on the host's [`Disk`], its leader-epoch cache and its producers' last sequence
//! numbers, all rebuilt from the files when the broker starts.
//!
//! A segment is `/log/p<partition>/<base offset, 20 digits>.log`, a run of fixed-size records
//! ([`REC_BYTES`]). An append goes to the page cache only: the records in memory. A flush
//! ([`flush`]) writes what the files lack and fsyncs them, then the directories whose entries
//! are new. So a crash loses what was not flushed (and, with `wire.disk.torn_block`, may keep
//! a prefix of whole blocks of a write whose fsync it interrupted). Writing at the flush rather
//! than at every append is the same thing for a crash (turmoil drops unsynced writes whole)
//! and keeps turmoil's list of pending writes short: every file operation scans it, so a
//! write per record that is never synced made each append cost time linear in the run.
//! Recovery keeps the whole records of each segment, and stops at the first segment that does
//! not start where the previous one ends.

use super::proto::{REC_BYTES, Rec};
use crate::Disk;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;

/// The files' root.
const ROOT: &str = "/log";

/// One segment file.
#[derive(Clone, Debug)]
struct Segment {
    base: u64,
    path: String,
    /// Records in the segment (in memory).
    records: u64,
    /// Records written to the file.
    written: u64,
    /// Written since its last fsync.
    dirty: bool,
    /// Its name is durable (its directory was synced after it was created).
    named: bool,
}

/// A partition's log on one broker.
#[derive(Debug)]
pub(crate) struct PartitionLog {
    dir: String,
    records: Vec<Rec>,
    segments: Vec<Segment>,
    /// The directory's own entry (and `/log`'s) is durable.
    dir_named: bool,
    /// Records appended since the last flush began (`log.flush_messages` counts them).
    pub(crate) unflushed: u64,
    /// (leader epoch, first offset appended in it), ascending.
    epochs: Vec<(u32, u64)>,
    /// Per producer id: the last sequence number appended and its offset.
    producers: BTreeMap<u32, (u64, u64)>,
}

fn segment_path(dir: &str, base: u64) -> String {
    format!("{dir}/{base:020}.log")
}

impl PartitionLog {
    /// Reads partition `p`'s log back from `disk` (an empty log if it has none).
    pub(crate) fn recover(disk: &Disk, p: u32) -> io::Result<Self> {
        let dir = format!("{ROOT}/p{p}");
        let mut log = Self {
            dir: dir.clone(),
            records: Vec::new(),
            segments: Vec::new(),
            dir_named: disk.exists(&dir),
            unflushed: 0,
            epochs: Vec::new(),
            producers: BTreeMap::new(),
        };
        if !log.dir_named {
            disk.create_dir_all(&dir)?;
            return Ok(log);
        }
        let names = disk.list(&dir)?;
        let mut broken = false;
        for name in names.iter().filter(|n| n.ends_with(".log")) {
            let path = format!("{dir}/{name}");
            let base = name.trim_end_matches(".log").parse::<u64>().ok();
            if broken || base != Some(log.records.len() as u64) {
                // A gap (a segment lost before this one): what follows cannot be trusted.
                broken = true;
                disk.remove(&path)?;
                continue;
            }
            let bytes = disk.read(&path)?;
            let recs = Rec::decode_all(&bytes);
            let whole = (recs.len() * REC_BYTES) as u64;
            let dirty = whole != bytes.len() as u64;
            if dirty {
                // A torn last record: keep the whole ones.
                disk.write(&path, &bytes[..whole as usize])?;
            }
            let base = log.records.len() as u64;
            let n = recs.len() as u64;
            log.segments.push(Segment { base, path, records: n, written: n, dirty, named: true });
            for r in recs {
                log.remember(r);
            }
        }
        Ok(log)
    }

    /// Updates the epoch cache and producer state for a record appended at the end.
    fn remember(&mut self, r: Rec) {
        let offset = self.records.len() as u64;
        if self.epochs.last().is_none_or(|&(e, _)| r.epoch > e) {
            self.epochs.push((r.epoch, offset));
        }
        self.producers.insert(r.producer, (r.seq, offset));
        self.records.push(r);
    }

    /// The log end offset: the next record's offset.
    pub(crate) fn leo(&self) -> u64 {
        self.records.len() as u64
    }

    /// Records `[from, to)`, at most `max`.
    pub(crate) fn slice(&self, from: u64, to: u64, max: usize) -> Vec<Rec> {
        let to = to.min(self.leo()).min(from.saturating_add(max as u64));
        if from >= to {
            return Vec::new();
        }
        self.records[from as usize..to as usize].to_vec()
    }

    /// The epoch of the last record, if any.
    pub(crate) fn last_epoch(&self) -> Option<u32> {
        self.epochs.last().map(|&(e, _)| e)
    }

    /// Where epoch `e` ends in this log: the first offset of the next higher epoch, or the
    /// log end.
    pub(crate) fn end_of_epoch(&self, e: u32) -> u64 {
        self.epochs.iter().find(|&&(x, _)| x > e).map_or(self.leo(), |&(_, start)| start)
    }

    /// The last sequence number appended for `producer`, with its offset.
    pub(crate) fn producer(&self, producer: u32) -> Option<(u64, u64)> {
        self.producers.get(&producer).copied()
    }

    /// Appends `r` at the end (to the page cache), rolling the segment at `segment_bytes`.
    /// Returns whether a segment was closed by the roll, to flush in the background as Kafka
    /// does.
    pub(crate) fn append(&mut self, r: Rec, segment_bytes: u64) -> io::Result<bool> {
        let leo = self.leo();
        let per_segment = (segment_bytes / REC_BYTES as u64).max(1);
        let roll = self.segments.last().is_none_or(|s| s.records >= per_segment);
        if roll {
            let path = segment_path(&self.dir, leo);
            let seg =
                Segment { base: leo, path, records: 0, written: 0, dirty: false, named: false };
            self.segments.push(seg);
        }
        self.segments.last_mut().expect("just ensured").records += 1;
        self.unflushed += 1;
        self.remember(r);
        Ok(roll && self.segments.len() > 1)
    }

    /// Cuts the log back to `to` records (a divergent tail), on disk too (pending until the
    /// next flush; the caller flushes).
    pub(crate) fn truncate(&mut self, disk: &Disk, to: u64) -> io::Result<u64> {
        let leo = self.leo();
        if to >= leo {
            return Ok(0);
        }
        while self.segments.last().is_some_and(|s| s.base >= to && s.base > 0) {
            let s = self.segments.pop().expect("exists");
            if disk.exists(&s.path) {
                disk.remove(&s.path)?;
            }
        }
        self.records.truncate(to as usize);
        if let Some(s) = self.segments.last_mut() {
            s.records = to - s.base;
            if s.written > s.records {
                // The file has part of the cut tail: rewrite it without.
                s.written = s.records;
                let mut bytes = Vec::with_capacity(s.written as usize * REC_BYTES);
                self.records[s.base as usize..].iter().for_each(|r| r.encode(&mut bytes));
                disk.write(&s.path, &bytes)?;
                s.dirty = true;
            }
        }
        self.epochs.retain(|&(_, start)| start < to);
        self.producers.clear();
        for (offset, r) in self.records.iter().enumerate() {
            self.producers.insert(r.producer, (r.seq, offset as u64));
        }
        Ok(leo - to)
    }

    /// Writes what the files lack; returns what the flush has to sync: (file paths, whether
    /// directory entries are new, whether the directory itself is).
    fn flush_work(&mut self, disk: &Disk) -> io::Result<(Vec<String>, bool, bool)> {
        for s in &mut self.segments {
            if s.written < s.records {
                let mut bytes = Vec::with_capacity((s.records - s.written) as usize * REC_BYTES);
                let (from, to) = ((s.base + s.written) as usize, (s.base + s.records) as usize);
                self.records[from..to].iter().for_each(|r| r.encode(&mut bytes));
                disk.append(&s.path, &bytes)?;
                s.written = s.records;
                s.dirty = true;
            }
        }
        self.unflushed = 0;
        let files = self.segments.iter().filter(|s| s.dirty).map(|s| s.path.clone()).collect();
        let names = self.segments.iter().any(|s| !s.named && s.written > 0);
        Ok((files, names, !self.dir_named))
    }

    fn flushed(&mut self, files: &[String]) {
        for s in &mut self.segments {
            if files.contains(&s.path) {
                s.dirty = false;
                s.named = true;
            }
        }
        self.dir_named = true;
    }
}

/// Flushes the log that `log_of` finds in `cell` (borrowed only between the awaits): every
/// segment written since the last flush is fsynced, then the directories whose entries are new.
/// Records appended while it runs are covered when they reach their file before its fsync ends.
pub(crate) async fn flush<T>(
    disk: &Disk,
    cell: &RefCell<T>,
    log_of: impl Fn(&mut T) -> &mut PartitionLog,
) -> io::Result<()> {
    let (files, names, dir_new) = log_of(&mut cell.borrow_mut()).flush_work(disk)?;
    if files.is_empty() && !names && !dir_new {
        return Ok(());
    }
    let dir = log_of(&mut cell.borrow_mut()).dir.clone();
    for f in &files {
        disk.sync(f).await?;
    }
    if dir_new {
        disk.sync_dir("/").await?;
        disk.sync_dir(ROOT).await?;
    }
    if names || dir_new {
        disk.sync_dir(&dir).await?;
    }
    log_of(&mut cell.borrow_mut()).flushed(&files);
    Ok(())
}
