//! A host's disk: turmoil's simulated file system with a cost for fsync, and the disk faults.
//!
//! turmoil's `unstable-fs` keeps each host's files in memory and separates what was written
//! from what was made durable: a write is pending until `sync_all`, a crash discards pending
//! writes (or tears them into whole blocks, with `wire.disk.torn_block`). It has no time cost
//! and no way to stall an fsync at run time, so this wrapper adds both: [`Disk::sync`] sleeps
//! one draw of `wire.disk.fsync` (scenario time), lengthened or held by a `disk_stall` fault
//! on the host's role, and makes the file durable when the sleep ends. A crash during that
//! sleep therefore loses what the fsync had not yet covered, as a real one would.
//!
//! Directory listings come back sorted (turmoil returns them in hash-set order).

use crate::clock::Clock;
use pipesim_engine::{Dist, SimTime, StreamRng};
use pipesim_models::DiskStallEffect;
use std::cell::RefCell;
use std::io::{self, Write};
use std::path::Path;
use std::rc::Rc;
use turmoil::fs::shim::std::fs;

/// The disk faults in force on one host, set by the harness between steps.
#[derive(Default)]
pub(crate) struct Stalls {
    /// Each open `disk_stall` window: its effect and its end (scenario ns).
    pub(crate) open: Vec<(DiskStallEffect, SimTime)>,
}

/// Counters of one host's disk, for the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskStats {
    /// fsyncs completed.
    pub fsyncs: u64,
    /// Bytes appended.
    pub bytes_written: u64,
    /// fsyncs that started during a `disk_stall` window.
    pub stalled_fsyncs: u64,
}

pub(crate) struct DiskState {
    fsync: Dist,
    rng: StreamRng,
    pub(crate) stalls: Stalls,
    pub(crate) stats: DiskStats,
}

impl DiskState {
    pub(crate) fn new(fsync: Dist, rng: StreamRng) -> Self {
        Self { fsync, rng, stalls: Stalls::default(), stats: DiskStats::default() }
    }
}

/// The disk of the host a service runs on. Clones share it; it survives the host's restarts
/// (the files do, as far as they were synced; so does its random stream).
#[derive(Clone)]
pub struct Disk {
    state: Rc<RefCell<DiskState>>,
    clock: Clock,
}

impl Disk {
    pub(crate) fn new(state: Rc<RefCell<DiskState>>, clock: Clock) -> Self {
        Self { state, clock }
    }

    /// Creates `dir` and its parents.
    pub fn create_dir_all(&self, dir: impl AsRef<Path>) -> io::Result<()> {
        fs::create_dir_all(dir)
    }

    /// Appends `bytes` to `path` (created if missing); returns the file's length after. The
    /// bytes are pending until a [`Disk::sync`] of the file completes.
    pub fn append(&self, path: impl AsRef<Path>, bytes: &[u8]) -> io::Result<u64> {
        let mut f = fs::OpenOptions::new().create(true).append(true).open(path)?;
        f.write_all(bytes)?;
        self.state.borrow_mut().stats.bytes_written += bytes.len() as u64;
        Ok(f.metadata()?.len())
    }

    /// Replaces `path`'s contents (pending until synced).
    pub fn write(&self, path: impl AsRef<Path>, bytes: &[u8]) -> io::Result<()> {
        self.state.borrow_mut().stats.bytes_written += bytes.len() as u64;
        fs::write(path, bytes)
    }

    /// The whole contents of `path` as the host sees it (pending writes included).
    pub fn read(&self, path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
        fs::read(path)
    }

    /// Whether `path` exists.
    pub fn exists(&self, path: impl AsRef<Path>) -> bool {
        fs::exists(path)
    }

    /// Removes the file at `path`.
    pub fn remove(&self, path: impl AsRef<Path>) -> io::Result<()> {
        fs::remove_file(path)
    }

    /// The names of the entries of `dir`, sorted.
    pub fn list(&self, dir: impl AsRef<Path>) -> io::Result<Vec<String>> {
        let mut names: Vec<String> = fs::read_dir(dir)?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort_unstable();
        Ok(names)
    }

    /// fsyncs `path`: waits one fsync time (stretched or held by a disk stall), then makes
    /// everything written to the file durable.
    pub async fn sync(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let wait_ns = self.fsync_ns();
        self.clock.sleep(wait_ns).await;
        let f = fs::OpenOptions::new().write(true).open(path)?;
        f.sync_all()?;
        self.state.borrow_mut().stats.fsyncs += 1;
        Ok(())
    }

    /// fsyncs directory `dir`: waits one fsync time (stretched or held by a disk stall), then
    /// makes its entries durable (files created, removed or renamed in it). A file whose data
    /// was synced but whose directory entry was not disappears in a crash, as on POSIX; a
    /// removed file's space is reclaimed only once the removal is durable.
    pub async fn sync_dir(&self, dir: impl AsRef<Path>) -> io::Result<()> {
        let wait_ns = self.fsync_ns();
        self.clock.sleep(wait_ns).await;
        fs::sync_dir(dir)?;
        self.state.borrow_mut().stats.fsyncs += 1;
        Ok(())
    }

    /// The time the fsync starting now takes.
    fn fsync_ns(&self) -> SimTime {
        let now = self.clock.now_ns();
        let mut s = self.state.borrow_mut();
        let DiskState { fsync, rng, stalls, stats } = &mut *s;
        let mut ns = fsync.sample(rng);
        stalls.open.retain(|(_, end)| *end > now);
        if !stalls.open.is_empty() {
            stats.stalled_fsyncs += 1;
        }
        for (effect, end) in &stalls.open {
            ns = effect.apply(ns, now, *end, rng);
        }
        ns
    }

    /// This disk's counters.
    pub fn stats(&self) -> DiskStats {
        self.state.borrow().stats
    }
}
