//! A connection pool: a counting semaphore with a FIFO wait queue.

use pipesim_config::{ConfigError, Duration, ParamDoc};
use pipesim_engine::SimTime;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// A connection pool as a scenario writes it (`[model.pool]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolParams {
    /// Connections.
    pub size: u32,
    /// Probability that a read leaves its connection idle in a transaction (a client that
    /// never commits when its upstream fails), taking it out of the pool.
    pub leak: f64,
    /// How long a leaked connection stays pinned before the server kills the session
    /// (`idle_in_transaction_session_timeout`; 0 means never, Postgres's default).
    pub leak_timeout: Duration,
}

impl Default for PoolParams {
    fn default() -> Self {
        Self { size: 20, leak: 0.0, leak_timeout: Duration { ns: 0 } }
    }
}

impl PoolParams {
    /// Checks the parameters; error paths are relative to the pool's table.
    pub fn validate(&self) -> Result<PoolParams, ConfigError> {
        if self.size == 0 {
            return Err(ConfigError::new(
                "size",
                "must be at least 1: a pool of zero connections serves nothing",
            ));
        }
        pipesim_config::limits::at_most(
            "size",
            u64::from(self.size),
            &pipesim_config::limits::WORKERS,
        )?;
        crate::link::check_probability(self.leak, "leak")?;
        Ok(self.clone())
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new("size", "integer >= 1", "20", "connections (PgBouncer's default_pool_size is 20; seed 001 ran 120)"),
            ParamDoc::new("leak", "probability", "0", "chance a read leaves its connection idle in a transaction (seed 001's 503 path)"),
            ParamDoc::new(
                "leak_timeout",
                "duration",
                "\"0s\"",
                "idle_in_transaction_session_timeout: when a leaked connection is reclaimed; 0 = never (Postgres default)",
            ),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

/// `size` connections shared by jobs of type `J`. A job acquires one (or waits in FIFO order),
/// holds it for as long as its work takes, and releases it; the next waiter gets it at once.
/// Connections can be leaked (a client idle in a transaction pins one), which shrinks the pool:
/// an M/M/c queue whose c drops.
#[derive(Clone, Debug)]
pub struct Pool<J> {
    size: u32,
    in_use: u32,
    leaked: u32,
    waiting: VecDeque<(J, SimTime)>,
    /// Jobs that had to wait, and the sum of their waits.
    pub waited: u64,
    /// Sum of waits, ns.
    pub wait_sum_ns: u128,
    /// Most jobs waiting at once.
    pub max_waiting: u64,
}

impl<J> Pool<J> {
    /// A pool of `size` ≥ 1 connections.
    pub fn new(size: u32) -> Self {
        assert!(size >= 1, "a pool needs a connection");
        Self {
            size,
            in_use: 0,
            leaked: 0,
            waiting: VecDeque::new(),
            waited: 0,
            wait_sum_ns: 0,
            max_waiting: 0,
        }
    }

    fn available(&self) -> u32 {
        self.size.saturating_sub(self.in_use + self.leaked)
    }

    /// Asks for a connection for `job` at `now`: `Some(job)` if granted at once, `None` if it waits.
    #[inline]
    pub fn acquire(&mut self, job: J, now: SimTime) -> Option<J> {
        if self.available() > 0 && self.waiting.is_empty() {
            self.in_use += 1;
            Some(job)
        } else {
            self.waiting.push_back((job, now));
            self.max_waiting = self.max_waiting.max(self.waiting.len() as u64);
            None
        }
    }

    /// Returns a connection at `now`; the next waiter, if any, gets it and is returned.
    #[inline]
    pub fn release(&mut self, now: SimTime) -> Option<J> {
        debug_assert!(self.in_use > 0, "release without acquire");
        self.in_use -= 1;
        self.grant(now)
    }

    fn grant(&mut self, now: SimTime) -> Option<J> {
        if self.available() == 0 {
            return None;
        }
        let (job, since) = self.waiting.pop_front()?;
        self.in_use += 1;
        self.waited += 1;
        self.wait_sum_ns += u128::from(now - since);
        Some(job)
    }

    /// A client pins one of the connections it holds (idle in transaction): it stays in use
    /// and never comes back until [`Pool::unleak`].
    pub fn leak_one(&mut self) {
        debug_assert!(self.in_use > 0);
        self.in_use -= 1;
        self.leaked += 1;
    }

    /// A leaked connection is reclaimed (the idle transaction times out); a waiter may get it.
    pub fn unleak(&mut self, now: SimTime) -> Option<J> {
        if self.leaked == 0 {
            return None;
        }
        self.leaked -= 1;
        self.grant(now)
    }

    /// Connections in use, leaked, and jobs waiting.
    pub fn state(&self) -> (u32, u32, usize) {
        (self.in_use, self.leaked, self.waiting.len())
    }

    /// The pool size.
    pub fn size(&self) -> u32 {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_in_fifo_order_and_leaks_shrink_it() {
        let mut p = Pool::new(2);
        assert_eq!(p.acquire('a', 0), Some('a'));
        assert_eq!(p.acquire('b', 0), Some('b'));
        assert_eq!(p.acquire('c', 1), None);
        assert_eq!(p.acquire('d', 2), None);
        p.leak_one(); // 'a' goes idle in transaction: one connection is gone
        assert_eq!(p.state(), (1, 1, 2));
        assert_eq!(p.release(5), Some('c'), "b's connection goes to the first waiter");
        assert_eq!(p.release(6), Some('d'));
        assert_eq!(p.release(7), None);
        assert_eq!(p.state(), (0, 1, 0));
        assert_eq!(p.acquire('e', 8), Some('e'));
        assert_eq!(p.acquire('f', 8), None, "only one usable connection while one is leaked");
        assert_eq!(p.unleak(9), Some('f'), "reclaiming the leaked connection serves the waiter");
        assert_eq!((p.waited, p.wait_sum_ns), (3, 4 + 4 + 1));
    }
}
