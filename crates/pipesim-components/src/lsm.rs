//! A broker's RocksDB-like write path: memtables and the background thread that flushes them.
//!
//! Every write lands in the **active memtable** (`memtable` bytes). When a write does not fit,
//! the active memtable becomes immutable and a new one opens, as long as fewer than
//! `memtables` memtables (RocksDB's `max_write_buffer_number`, the active one included) are
//! unflushed; otherwise the write **stops** until a flush frees one (RocksDB's "stopping writes
//! because we have N immutable memtables"). An immutable memtable is written out by the
//! background thread in `bytes / flush_bandwidth`. The same thread runs the compactions a
//! schema change sets off (seed 004: "every schema update triggered a compaction storm that
//! blocked the flush thread"), one job at a time in the order they were queued, so a flush
//! queued behind a compaction waits for it. With the thread free, a flush takes tens of
//! milliseconds while a memtable takes longer to fill: writes never stop and the path costs a
//! counter per write. With the thread blocked, appends keep landing until the memtables are
//! full, then stop: how long they stop depends on the load, the memtable size and the block.
//!
//! A disk stall ([`BrokerStore::set_disk_stall`]) changes the time of every job the thread
//! starts during its window; a pause ([`BrokerStore::set_frozen`]) holds a job that finishes
//! during it until the pause ends (the process does no work while frozen).
//!
//! Left out: L0 files and their slowdown (20 files) and stop (36 files) triggers — with
//! flushes this fast and L0→L1 compaction on other threads, L0 never reaches them here — the
//! write-ahead log, and reads.

use pipesim_config::{Bandwidth, ConfigError, Size};
use pipesim_engine::SimTime;
use std::collections::VecDeque;

/// How a disk stall changes one job: `(ns, now) -> ns` (a model wraps its fault's effect, and
/// a random stream of its own for it, in it).
pub type StallFn = Box<dyn FnMut(SimTime, SimTime) -> SimTime>;

/// The memtable parameters (part of `[model.log]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StoreParams {
    /// Bytes of one memtable (`write_buffer_size`).
    pub memtable: Size,
    /// Memtables per broker, the active one included (`max_write_buffer_number`).
    pub memtables: u32,
    /// Bytes per second a flush writes.
    pub flush_bandwidth: Bandwidth,
}

impl Default for StoreParams {
    fn default() -> Self {
        Self {
            memtable: Size { bytes: 64 << 20 },
            memtables: 2,
            flush_bandwidth: Bandwidth { bytes_per_s: 1e9 },
        }
    }
}

impl StoreParams {
    /// Checks the parameters (error paths relative to the log's table).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.memtable.bytes == 0 {
            return Err(ConfigError::new("memtable", "must be greater than zero"));
        }
        if self.memtables < 2 {
            return Err(ConfigError::new(
                "memtables",
                "must be at least 2: one active memtable and one being flushed (RocksDB's max_write_buffer_number)",
            ));
        }
        pipesim_config::limits::at_most(
            "memtables",
            u64::from(self.memtables),
            &pipesim_config::limits::MEMTABLES,
        )?;
        if !(self.flush_bandwidth.bytes_per_s.is_finite() && self.flush_bandwidth.bytes_per_s > 0.0)
        {
            return Err(ConfigError::new("flush_bandwidth", "must be greater than zero"));
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug)]
enum Job {
    Flush,
    /// A compaction of `ns`, queued at the time given.
    Compaction(SimTime, SimTime),
}

/// Counters for the report.
#[derive(Clone, Copy, Debug, Default)]
pub struct StoreStats {
    /// Memtables flushed.
    pub flushes: u64,
    /// Compactions run.
    pub compactions: u64,
    /// Longest compaction from when it was queued to its end, ns.
    pub max_compaction_ns: SimTime,
    /// Times writes stopped.
    pub stops: u64,
    /// Total time writes were stopped, ns.
    pub stopped_ns: SimTime,
    /// Longest stop, ns.
    pub max_stop_ns: SimTime,
}

/// One broker's memtables and background thread.
pub struct BrokerStore {
    cap: u64,
    max: u32,
    ns_per_byte: f64,
    active: u64,
    /// Full memtables not yet flushed (waiting for the thread or being flushed).
    immutable: u32,
    jobs: VecDeque<Job>,
    running: Option<Job>,
    /// The running job's end has come while the process was frozen.
    done_while_frozen: bool,
    /// Bumped when a running job is abandoned (never, today) so stale ends are ignored.
    generation: u32,
    stopped: bool,
    stopped_since: SimTime,
    frozen: bool,
    stall: Option<(SimTime, SimTime, StallFn)>,
    /// Counters.
    pub stats: StoreStats,
}

/// What a write found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteResult {
    /// It landed.
    Done,
    /// It landed and filled the active memtable, which is now immutable: the thread should
    /// look at its queue ([`BrokerStore::next_job`]).
    Switched,
    /// Every memtable is full: the write waits for a flush.
    Stopped,
}

impl BrokerStore {
    /// A broker's store.
    pub fn new(p: &StoreParams) -> Self {
        Self {
            cap: p.memtable.bytes,
            max: p.memtables,
            ns_per_byte: 1e9 / p.flush_bandwidth.bytes_per_s,
            active: 0,
            immutable: 0,
            jobs: VecDeque::new(),
            running: None,
            done_while_frozen: false,
            generation: 0,
            stopped: false,
            stopped_since: 0,
            frozen: false,
            stall: None,
            stats: StoreStats::default(),
        }
    }

    /// Whether writes are stopped behind full memtables.
    #[inline]
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// A write of `bytes` at `now`.
    #[inline]
    pub fn write(&mut self, bytes: u64, now: SimTime) -> WriteResult {
        if self.stopped {
            return WriteResult::Stopped;
        }
        let mut result = WriteResult::Done;
        if self.active > 0 && self.active + bytes > self.cap {
            if self.immutable + 1 >= self.max {
                self.stopped = true;
                self.stopped_since = now;
                self.stats.stops += 1;
                return WriteResult::Stopped;
            }
            self.immutable += 1;
            self.active = 0;
            self.jobs.push_back(Job::Flush);
            result = WriteResult::Switched;
        }
        self.active += bytes;
        result
    }

    /// A write that cannot wait (a follower's copy accounted when it is scheduled): it lands
    /// even in a full memtable.
    #[inline]
    pub fn write_anyway(&mut self, bytes: u64, now: SimTime) -> WriteResult {
        if self.stopped {
            self.active += bytes;
            return WriteResult::Stopped;
        }
        let r = self.write(bytes, now);
        if r == WriteResult::Stopped {
            self.active += bytes;
        }
        r
    }

    /// Queues a compaction of `ns` of work on the background thread.
    pub fn compact(&mut self, ns: SimTime, now: SimTime) {
        self.jobs.push_back(Job::Compaction(ns, now));
    }

    /// The thread's next job if it is idle: the job's duration and its generation, for the
    /// caller to schedule [`BrokerStore::job_done`].
    pub fn next_job(&mut self, now: SimTime) -> Option<(SimTime, u32)> {
        if self.running.is_some() || self.frozen {
            return None;
        }
        let job = self.jobs.pop_front()?;
        let mut ns = match job {
            Job::Flush => (self.cap as f64 * self.ns_per_byte) as SimTime,
            Job::Compaction(ns, _) => ns,
        };
        if let Some((start, end, f)) = &mut self.stall
            && now >= *start
            && now < *end
        {
            ns = f(ns, now);
        }
        self.running = Some(job);
        Some((ns.max(1), self.generation))
    }

    /// The running job of `generation` ends now. Returns whether writes were stopped and may
    /// go on (the caller re-offers the writes it held).
    pub fn job_done(&mut self, generation: u32, now: SimTime) -> bool {
        if generation != self.generation || self.running.is_none() {
            return false;
        }
        if self.frozen {
            self.done_while_frozen = true;
            return false;
        }
        self.finish(now)
    }

    fn finish(&mut self, now: SimTime) -> bool {
        match self.running.take() {
            Some(Job::Flush) => {
                self.immutable -= 1;
                self.stats.flushes += 1;
            }
            Some(Job::Compaction(_, queued)) => {
                self.stats.compactions += 1;
                self.stats.max_compaction_ns = self.stats.max_compaction_ns.max(now - queued);
            }
            None => {}
        }
        if self.stopped && self.immutable + 1 < self.max {
            self.stopped = false;
            let d = now - self.stopped_since;
            self.stats.stopped_ns += d;
            self.stats.max_stop_ns = self.stats.max_stop_ns.max(d);
            return true;
        }
        false
    }

    /// The process freezes (`true`) or thaws (`false`) at `now`. Thawing finishes a job whose
    /// end came during the freeze; returns whether writes may go on because of it.
    pub fn set_frozen(&mut self, frozen: bool, now: SimTime) -> bool {
        self.frozen = frozen;
        if !frozen && self.done_while_frozen {
            self.done_while_frozen = false;
            return self.finish(now);
        }
        false
    }

    /// Jobs started in `[start, end)` take `f(ns, now)` instead of `ns`; `None` ends it.
    pub fn set_disk_stall(&mut self, stall: Option<(SimTime, SimTime, StallFn)>) {
        self.stall = stall;
    }

    /// Stop time so far including a stop in progress at `now`, ns.
    pub fn stopped_ns(&self, now: SimTime) -> SimTime {
        self.stats.stopped_ns + if self.stopped { now - self.stopped_since } else { 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn store(mb: u64) -> BrokerStore {
        BrokerStore::new(&StoreParams {
            memtable: Size { bytes: mb << 20 },
            memtables: 2,
            flush_bandwidth: Bandwidth { bytes_per_s: 1e9 },
        })
    }

    #[test]
    fn writes_stop_once_both_memtables_are_full_and_go_on_after_a_flush() {
        let mut s = store(1);
        let kb = 1024;
        // The first memtable fills and switches; a compaction queued first blocks the flush.
        s.compact(400_000_000, 0);
        let (d, g) = s.next_job(0).expect("idle thread");
        assert_eq!(d, 400_000_000);
        let mut n = 0;
        while s.write(kb, n) != WriteResult::Stopped {
            n += 1;
        }
        // Two memtables of 1 MiB hold 2048 writes of 1 KiB, the one that stops excepted.
        assert_eq!(n, 2048);
        assert!(s.stopped());
        assert!(!s.job_done(g, 400_000_000), "the compaction frees no memtable");
        let (d, g) = s.next_job(400_000_000).expect("the flush");
        assert_eq!(d, (1u64 << 20) as SimTime, "1 MiB at 1 GB/s");
        assert!(s.job_done(g, 400_000_000 + d), "the flush frees a memtable");
        assert_eq!(s.write(kb, 401_000_000), WriteResult::Switched);
        assert_eq!(s.stats.stops, 1);
        assert_eq!(s.stats.max_stop_ns, 400_000_000 + d - 2048);
    }
}
