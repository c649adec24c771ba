//! A FIFO queueing station: `servers` parallel servers and one queue.

use pipesim_engine::{Sim, SimTime, Window};
use std::collections::VecDeque;

/// A FIFO station carrying jobs of type `J`: a job waits in arrival order until one of the
/// `servers` is free, holds it for the service time given when it was offered, and then the
/// completion event the caller chose fires. An optional capacity bounds the jobs held (waiting
/// and in service); an offer to a full station is refused.
///
/// The station schedules its completions on the caller's [`Sim`] through a `wrap` function, so
/// it composes into any model without its own event type.
#[derive(Clone, Debug)]
pub struct FifoServer<J> {
    servers: u32,
    busy: u32,
    capacity: u64,
    queue: VecDeque<Waiting<J>>,
    stats: ServerStats,
    /// Counters and integrals cover only this interval (the run's measured interval).
    window: Window,
}

#[derive(Clone, Copy, Debug)]
struct Waiting<J> {
    job: J,
    since: SimTime,
    service_ns: SimTime,
}

/// Counters and time integrals of a station.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ServerStats {
    /// Jobs offered.
    pub offered: u64,
    /// Jobs refused because the station was full.
    pub refused: u64,
    /// Jobs that started service.
    pub started: u64,
    /// Of those, jobs that waited at all.
    pub waited: u64,
    /// Sum of waits, ns.
    pub wait_sum_ns: u128,
    /// ∫ busy servers dt, server·ns.
    pub busy_area: f64,
    /// Longest queue seen (not counting jobs in service).
    pub max_queue: u64,
    last_t: SimTime,
}

impl<J: Copy> FifoServer<J> {
    /// A station with `servers` (≥ 1) servers holding at most `capacity` jobs (`None`: unbounded).
    pub fn new(servers: u32, capacity: Option<u32>) -> Self {
        assert!(servers >= 1, "a station needs a server");
        Self {
            servers,
            busy: 0,
            capacity: capacity.map_or(u64::MAX, u64::from),
            queue: VecDeque::new(),
            stats: ServerStats::default(),
            window: Window::ALWAYS,
        }
    }

    /// Counts and integrates only within `[from, to)` (by default: always).
    pub fn set_window(&mut self, window: Window) {
        self.window = window;
        self.stats.last_t = window.from_ns;
    }

    #[inline]
    fn counting(&self, now: SimTime) -> bool {
        self.window.contains(now)
    }

    #[inline]
    fn integrate(&mut self, now: SimTime) {
        let t = self.window.clamp(now);
        if t > self.stats.last_t {
            self.stats.busy_area += f64::from(self.busy) * (t - self.stats.last_t) as f64;
            self.stats.last_t = t;
        }
    }

    /// Offers `job`, which needs `service_ns` of a server. Returns `false` (and keeps nothing)
    /// if the station is full. When the job's service ends, `wrap(job)` is scheduled.
    #[inline]
    pub fn offer<E>(
        &mut self,
        sim: &mut Sim<E>,
        job: J,
        service_ns: SimTime,
        wrap: impl Fn(J) -> E,
    ) -> bool {
        let now = sim.now();
        let counting = self.counting(now);
        self.stats.offered += u64::from(counting);
        if self.in_system() >= self.capacity {
            self.stats.refused += u64::from(counting);
            return false;
        }
        if self.busy < self.servers {
            self.integrate(now);
            self.busy += 1;
            self.stats.started += u64::from(counting);
            sim.schedule_in(service_ns, wrap(job));
        } else {
            self.queue.push_back(Waiting { job, since: now, service_ns });
            self.stats.max_queue = self.stats.max_queue.max(self.queue.len() as u64);
        }
        true
    }

    /// Call when a completion scheduled by this station fires: frees its server and starts the
    /// next waiting job, if any.
    #[inline]
    pub fn complete<E>(&mut self, sim: &mut Sim<E>, wrap: impl Fn(J) -> E) {
        let now = sim.now();
        self.integrate(now);
        debug_assert!(self.busy > 0, "a completion without a job in service");
        self.busy -= 1;
        if let Some(next) = self.queue.pop_front() {
            self.busy += 1;
            if self.counting(now) {
                self.stats.started += 1;
                let wait = now - next.since;
                self.stats.waited += u64::from(wait > 0);
                self.stats.wait_sum_ns += u128::from(wait);
            }
            sim.schedule_in(next.service_ns, wrap(next.job));
        }
    }

    /// Jobs held: waiting and in service.
    #[inline]
    pub fn in_system(&self) -> u64 {
        u64::from(self.busy) + self.queue.len() as u64
    }

    /// Jobs waiting.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// Busy servers.
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Number of servers.
    pub fn servers(&self) -> u32 {
        self.servers
    }

    /// Removes every waiting job (a crash), oldest first, into `out`. Jobs in service still
    /// complete; the caller decides what their completions mean.
    pub fn drain_waiting(&mut self, out: &mut Vec<J>) {
        out.extend(self.queue.drain(..).map(|w| w.job));
    }

    /// A crash: every waiting job goes to `out` and every server becomes free. Completions
    /// already scheduled for jobs in service still fire; the caller must recognise them as
    /// stale (an epoch in its event) and not call [`FifoServer::complete`] for them.
    pub fn reset(&mut self, now: SimTime, out: &mut Vec<J>) {
        self.integrate(now);
        out.extend(self.queue.drain(..).map(|w| w.job));
        self.busy = 0;
    }

    /// Counters and integrals up to `now`.
    pub fn stats(&self, now: SimTime) -> ServerStats {
        let mut s = self.stats;
        let t = self.window.clamp(now);
        if t > s.last_t {
            s.busy_area += f64::from(self.busy) * (t - s.last_t) as f64;
            s.last_t = t;
        }
        s
    }
}

#[cfg(test)]
// Unit tests drive the component as the run loop would: they pop events and advance time.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Done(u32);

    #[test]
    fn serves_in_fifo_order_on_each_server() {
        let mut sim: Sim<Done> = Sim::new();
        let mut st = FifoServer::new(2, None);
        for j in 0..5 {
            assert!(st.offer(&mut sim, j, 10, Done));
        }
        let mut finished = Vec::new();
        while let Some((t, Done(j))) = sim.queue().pop() {
            sim.set_now(t);
            st.complete(&mut sim, Done);
            finished.push((t, j));
        }
        assert_eq!(finished, [(10, 0), (10, 1), (20, 2), (20, 3), (30, 4)]);
        let s = st.stats(30);
        assert_eq!((s.started, s.waited), (5, 3));
        assert_eq!(s.wait_sum_ns, 10 + 10 + 20);
        assert_eq!(s.busy_area, 50.0);
    }

    #[test]
    fn refuses_beyond_capacity() {
        let mut sim: Sim<Done> = Sim::new();
        let mut st = FifoServer::new(1, Some(2));
        assert!(st.offer(&mut sim, 0, 10, Done));
        assert!(st.offer(&mut sim, 1, 10, Done));
        assert!(!st.offer(&mut sim, 2, 10, Done));
        assert_eq!(st.stats(0).refused, 1);
    }
}
