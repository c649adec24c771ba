//! WAL group commit: one flush at a time makes everything buffered durable.

use pipesim_engine::{Dist, Sim, SimTime, StreamRng, Window};

/// The size of a WAL page (PostgreSQL's `XLOG_BLCKSZ`, fixed when the server is built). A
/// page that fills is handed to the kernel at once (the WAL writer is woken for it), so a
/// process crash loses at most the commits of the page being filled.
pub const WAL_PAGE_BYTES: u64 = 8192;

/// A write-ahead log that flushes one batch at a time. Records appended while a flush runs wait
/// for the next one, which then takes all of them: the more load, the bigger each batch and the
/// fewer fsyncs per record (a batch server whose service time is the fsync plus the time to
/// write the batch's bytes at the disk's bandwidth).
///
/// Flush completions carry an epoch so that a crash can abandon a flush in progress: its
/// completion event then arrives stale and is ignored.
#[derive(Clone, Debug)]
pub struct GroupCommit<J> {
    fsync: Dist,
    rng: StreamRng,
    ns_per_byte: f64,
    flushing: bool,
    epoch: u32,
    in_flush: Vec<J>,
    buffer: Vec<J>,
    buffer_bytes: u64,
    /// Where each buffered record ends in the log (bytes since the log began).
    buffer_ends: Vec<u64>,
    /// The log's end: bytes appended since it began.
    end_bytes: u64,
    /// What has been handed to the kernel (`write()`) by the flushes started so far: where
    /// the running (or last) flush ends.
    written_bytes: u64,
    /// Where the last finished flush ended: durable.
    durable_bytes: u64,
    /// Counters, over the window set by [`GroupCommit::set_window`].
    pub stats: GroupCommitStats,
    window: Window,
    stall: Option<DiskStall>,
}

/// A disk stall window: every flush that starts in `[start_ns, end_ns)` takes longer, or
/// waits for the window's end (a flush already running when it opens is not slowed).
#[derive(Clone, Debug)]
pub struct DiskStall {
    /// When the disk starts misbehaving.
    pub start_ns: SimTime,
    /// When it is healthy again.
    pub end_ns: SimTime,
    /// What it does to one flush.
    pub effect: DiskEffect,
    /// Draws for an added distribution (its own stream).
    pub rng: StreamRng,
}

/// What a [`DiskStall`] does to one disk operation.
#[derive(Clone, Debug)]
pub enum DiskEffect {
    /// It takes this many times as long.
    Slow(f64),
    /// It takes an extra delay drawn from this.
    Extra(Dist),
    /// It completes only after the window ends (plus its own time).
    Stop,
}

impl DiskStall {
    /// The time an operation of `ns` takes when it starts at `now`.
    pub fn apply(&mut self, ns: SimTime, now: SimTime) -> SimTime {
        if now < self.start_ns || now >= self.end_ns {
            return ns;
        }
        match &self.effect {
            DiskEffect::Slow(factor) => (ns as f64 * factor) as SimTime,
            DiskEffect::Extra(d) => ns.saturating_add(d.sample(&mut self.rng)),
            DiskEffect::Stop => (self.end_ns - now).saturating_add(ns),
        }
    }
}

/// What the log has done.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GroupCommitStats {
    /// Flushes completed.
    pub flushes: u64,
    /// Records made durable.
    pub records: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Largest batch.
    pub max_batch: u64,
    /// Time spent flushing, ns.
    pub busy_ns: u64,
}

impl GroupCommitStats {
    /// Mean records per flush (0 before the first).
    pub fn mean_batch(&self) -> f64 {
        if self.flushes == 0 { 0.0 } else { self.records as f64 / self.flushes as f64 }
    }
}

impl<J> GroupCommit<J> {
    /// A log whose flushes take `fsync` plus bytes / `bandwidth_bytes_per_s`.
    pub fn new(fsync: Dist, bandwidth_bytes_per_s: f64, rng: StreamRng) -> Self {
        Self {
            fsync,
            rng,
            ns_per_byte: 1e9 / bandwidth_bytes_per_s,
            flushing: false,
            epoch: 0,
            in_flush: Vec::new(),
            buffer: Vec::new(),
            buffer_bytes: 0,
            buffer_ends: Vec::new(),
            end_bytes: 0,
            written_bytes: 0,
            durable_bytes: 0,
            stats: GroupCommitStats::default(),
            window: Window::ALWAYS,
            stall: None,
        }
    }

    /// Sets (or, with `None`, ends) a disk stall: flushes starting in its window are slowed or
    /// held, and the commits waiting for them with it.
    pub fn set_stall(&mut self, stall: Option<DiskStall>) {
        self.stall = stall;
    }

    /// Counts only flushes that start (bytes, busy time) or end (records) within `[from, to)`.
    pub fn set_window(&mut self, window: Window) {
        self.window = window;
    }

    fn counting(&self, now: SimTime) -> bool {
        self.window.contains(now)
    }

    /// Appends a record of `bytes` bytes; starts a flush at once if none is running.
    #[inline]
    pub fn append<E>(&mut self, sim: &mut Sim<E>, record: J, bytes: u64, done: impl Fn(u32) -> E) {
        self.append_quiet(record, bytes);
        if !self.flushing {
            self.start_flush(sim, done);
        }
    }

    /// Appends without starting a flush (asynchronous commit: a background writer flushes on a
    /// timer through [`GroupCommit::start_flush`]).
    #[inline]
    pub fn append_quiet(&mut self, record: J, bytes: u64) {
        self.buffer.push(record);
        self.buffer_bytes += bytes;
        self.end_bytes += bytes;
        self.buffer_ends.push(self.end_bytes);
    }

    /// Starts a flush of everything buffered, unless one is running or nothing is buffered.
    pub fn start_flush<E>(&mut self, sim: &mut Sim<E>, done: impl Fn(u32) -> E) {
        if self.flushing || self.buffer.is_empty() {
            return;
        }
        std::mem::swap(&mut self.in_flush, &mut self.buffer);
        let bytes = std::mem::take(&mut self.buffer_bytes);
        // The flush writes everything buffered to the kernel first, then fsyncs it.
        self.buffer_ends.clear();
        self.written_bytes = self.end_bytes;
        let write_ns = (bytes as f64 * self.ns_per_byte) as SimTime;
        let mut duration = self.fsync.sample(&mut self.rng).saturating_add(write_ns);
        if let Some(stall) = &mut self.stall {
            duration = stall.apply(duration, sim.now());
        }
        self.flushing = true;
        if self.counting(sim.now()) {
            self.stats.bytes += bytes;
            self.stats.busy_ns += duration;
        }
        sim.schedule_in(duration, done(self.epoch));
    }

    /// A flush completion fired. If it is current, moves the flushed records into `durable`;
    /// with `chain`, starts the next flush at once if records are waiting (group commit), else
    /// leaves them for the next [`GroupCommit::start_flush`] (a background writer). Returns
    /// `false` for a stale completion (a crash abandoned that flush).
    pub fn flush_done<E>(
        &mut self,
        sim: &mut Sim<E>,
        epoch: u32,
        durable: &mut Vec<J>,
        chain: bool,
        done: impl Fn(u32) -> E,
    ) -> bool {
        if epoch != self.epoch || !self.flushing {
            return false;
        }
        self.flushing = false;
        self.durable_bytes = self.written_bytes;
        let n = self.in_flush.len() as u64;
        if self.counting(sim.now()) {
            self.stats.flushes += 1;
            self.stats.records += n;
            self.stats.max_batch = self.stats.max_batch.max(n);
        }
        durable.append(&mut self.in_flush);
        if chain {
            self.start_flush(sim, done);
        }
        true
    }

    /// A machine crash: every record not yet durable (buffered or in the flush that was
    /// running) is moved into `lost`, and the running flush is abandoned.
    pub fn crash(&mut self, lost: &mut Vec<J>) {
        lost.append(&mut self.in_flush);
        lost.append(&mut self.buffer);
        self.restart_at(self.durable_bytes);
    }

    /// A process crash: the kernel keeps what was handed to it, so the records of the running
    /// flush survive (into `kept`: on disk once the kernel writes them back), and with
    /// `pages_written` (asynchronous commit, where a filled page wakes the WAL writer to write
    /// it) so do those of every filled page; the rest, in the process's own WAL buffers, are
    /// moved into `lost`. The running flush is abandoned.
    pub fn crash_process(&mut self, kept: &mut Vec<J>, lost: &mut Vec<J>, pages_written: bool) {
        let filled_pages_bytes = self.end_bytes - self.end_bytes % WAL_PAGE_BYTES;
        let written = if pages_written {
            self.written_bytes.max(filled_pages_bytes)
        } else {
            self.written_bytes
        };
        kept.append(&mut self.in_flush);
        let survivors = self.buffer_ends.partition_point(|&end| end <= written);
        kept.extend(self.buffer.drain(..survivors));
        lost.append(&mut self.buffer);
        self.restart_at(written);
    }

    /// After a crash: nothing buffered or running, and the log ends at `end_bytes`.
    fn restart_at(&mut self, end_bytes: u64) {
        self.buffer_bytes = 0;
        self.buffer_ends.clear();
        self.end_bytes = end_bytes;
        self.written_bytes = end_bytes;
        self.durable_bytes = end_bytes;
        self.flushing = false;
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// Bytes buffered and not yet being flushed.
    pub fn buffered_bytes(&self) -> u64 {
        self.buffer_bytes
    }

    /// Records not yet durable.
    pub fn unflushed(&self) -> usize {
        self.in_flush.len() + self.buffer.len()
    }
}

#[cfg(test)]
// Unit tests drive the component as the run loop would: they pop events and advance time.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;
    use pipesim_engine::RngStreams;

    #[derive(Clone, Copy, Debug)]
    struct Flushed(u32);

    fn log() -> GroupCommit<u32> {
        GroupCommit::new(Dist::Const { ns: 1_000 }, 1e9, RngStreams::new(1).stream("wal"))
    }

    #[test]
    fn records_arriving_during_a_flush_share_the_next_one() {
        let mut sim: Sim<Flushed> = Sim::new();
        let mut wal = log();
        wal.append(&mut sim, 0, 0, Flushed); // flush 1: [0], done at 1000
        for r in 1..=3 {
            wal.append(&mut sim, r, 0, Flushed); // wait for flush 2
        }
        let mut durable = Vec::new();
        let mut batches = Vec::new();
        while let Some((t, Flushed(epoch))) = sim.queue().pop() {
            sim.set_now(t);
            let before = durable.len();
            assert!(wal.flush_done(&mut sim, epoch, &mut durable, true, Flushed));
            batches.push((t, durable.len() - before));
        }
        assert_eq!(batches, [(1_000, 1), (2_000, 3)]);
        assert_eq!(durable, [0, 1, 2, 3]);
        assert_eq!(wal.stats.mean_batch(), 2.0);
    }

    #[test]
    fn bytes_take_time_at_the_bandwidth() {
        let mut sim: Sim<Flushed> = Sim::new();
        let mut wal =
            GroupCommit::new(Dist::Const { ns: 1_000 }, 1e6, RngStreams::new(1).stream("wal"));
        wal.append(&mut sim, 0u32, 500, Flushed); // 500 B at 1 MB/s = 500 µs
        assert_eq!(sim.queue().pop().map(|(t, _)| t), Some(501_000));
    }

    #[test]
    fn a_stall_slows_or_holds_the_flushes_that_start_in_its_window() {
        let stall = |effect| DiskStall {
            start_ns: 10_000,
            end_ns: 50_000,
            effect,
            rng: RngStreams::new(1).stream("stall"),
        };
        for (effect, at, done) in [
            (DiskEffect::Slow(10.0), 20_000, 30_000),
            (DiskEffect::Extra(Dist::Const { ns: 7_000 }), 20_000, 28_000),
            (DiskEffect::Stop, 20_000, 51_000),
            (DiskEffect::Stop, 60_000, 61_000), // after the window: untouched
            (DiskEffect::Stop, 5_000, 6_000),   // before it: untouched
        ] {
            let mut sim: Sim<Flushed> = Sim::new();
            let mut wal = log();
            wal.set_stall(Some(stall(effect)));
            sim.set_now(at);
            wal.append(&mut sim, 0, 0, Flushed);
            assert_eq!(sim.queue().pop().map(|(t, _)| t), Some(done));
        }
    }

    #[test]
    fn a_crash_loses_what_is_not_durable_and_ignores_the_old_flush() {
        let mut sim: Sim<Flushed> = Sim::new();
        let mut wal = log();
        wal.append(&mut sim, 0, 0, Flushed);
        wal.append(&mut sim, 1, 0, Flushed);
        let mut lost = Vec::new();
        wal.crash(&mut lost);
        assert_eq!(lost, [0, 1], "oldest first");
        let (t, Flushed(epoch)) = sim.queue().pop().unwrap();
        sim.set_now(t);
        let mut durable = Vec::new();
        assert!(!wal.flush_done(&mut sim, epoch, &mut durable, true, Flushed));
        assert!(durable.is_empty());
    }

    #[test]
    fn a_process_crash_keeps_what_the_kernel_has_and_loses_the_page_being_filled() {
        let mut sim: Sim<Flushed> = Sim::new();
        let mut wal = log();
        // Asynchronous commit: 100 records of 200 B, nothing flushed yet. The first 40 end in
        // the first 8 KiB page (40 x 200 = 8,000 B; the 41st crosses the boundary).
        for r in 0..100u32 {
            wal.append_quiet(r, 200);
        }
        let (mut kept, mut lost) = (Vec::new(), Vec::new());
        wal.crash_process(&mut kept, &mut lost, true);
        // Two pages filled (16,384 B): records ending at or before it survive (81 x 200 =
        // 16,200 B); the rest were in the page being filled.
        assert_eq!(kept, (0..81).collect::<Vec<_>>());
        assert_eq!(lost, (81..100).collect::<Vec<_>>());
        // A flush hands everything to the kernel: a process crash during it loses nothing;
        // a machine crash loses all of it.
        let mut wal = log();
        for r in 0..10u32 {
            wal.append_quiet(r, 200);
        }
        wal.start_flush(&mut sim, Flushed);
        wal.append_quiet(10, 200);
        let mut process = wal.clone();
        let (mut kept, mut lost) = (Vec::new(), Vec::new());
        process.crash_process(&mut kept, &mut lost, true);
        assert_eq!((kept.len(), lost.len()), (10, 1), "the record after the flush is lost");
        let mut lost = Vec::new();
        wal.crash(&mut lost);
        assert_eq!(lost.len(), 11);
    }
}
