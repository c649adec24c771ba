//! The workload as the scenario describes it, in engine units.

use pipesim_engine::{Dist, NS_PER_S, SimTime};

/// How arrivals are spaced.
#[derive(Clone, Debug, PartialEq)]
pub enum Process {
    /// Exponential gaps: a (possibly time-varying) Poisson process.
    Poisson,
    /// Evenly spaced arrivals at the current rate.
    Constant,
    /// On/off: Poisson at the current rate while on, nothing while off (an interrupted Poisson
    /// process); the mean rate is `rate × E[on] / (E[on] + E[off])`.
    Bursty {
        /// Length of each on period.
        on: Dist,
        /// Length of each off period.
        off: Dist,
    },
}

/// A change of rate at a point in time, reached linearly over `ramp_ns` (0 for a step).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Phase {
    /// When the change starts.
    pub at_ns: SimTime,
    /// The rate once the ramp is over, events per second.
    pub rate_per_s: f64,
    /// How long the ramp takes.
    pub ramp_ns: SimTime,
}

/// How keys are chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Popularity {
    /// Every key equally likely.
    Uniform,
    /// Key k (0-based) with probability proportional to 1/(k+1)^exponent.
    Zipf {
        /// The Zipf exponent, > 0.
        exponent: f64,
    },
}

/// The key space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Keys {
    /// Number of distinct keys, ≥ 1.
    pub count: u32,
    /// Which keys are hot.
    pub popularity: Popularity,
}

/// Everything the arrival generator needs.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadSpec {
    /// Gap process.
    pub process: Process,
    /// Rate at time 0, events per second.
    pub rate_per_s: f64,
    /// Rate changes, sorted by time, each ramp ending before the next phase starts.
    pub phases: Vec<Phase>,
    /// Key space.
    pub keys: Keys,
    /// Payload size of every event.
    pub payload_bytes: u32,
    /// Arrivals stop at this time.
    pub duration_ns: SimTime,
    /// A trace to replay instead of generating arrivals. With a trace, `process`, `phases` and
    /// the key popularity do not shape arrivals (the popularity still describes what models'
    /// readers ask for), `rate_per_s` is the trace's mean rate (for models' sizing warnings),
    /// and `payload_bytes` is the size of events whose record gives none.
    pub trace: Option<crate::TraceSpec>,
}

impl WorkloadSpec {
    /// The highest rate the profile reaches (while on, for a bursty process).
    pub fn peak_rate_per_s(&self) -> f64 {
        self.phases.iter().map(|p| p.rate_per_s).fold(self.rate_per_s, f64::max)
    }

    /// The long-run rate once the last phase is reached, allowing for on/off duty cycle.
    pub fn final_rate_per_s(&self) -> f64 {
        let rate = self.phases.last().map_or(self.rate_per_s, |p| p.rate_per_s);
        rate * self.duty_cycle()
    }

    /// The fraction of time a bursty process is on (1 for the others).
    pub fn duty_cycle(&self) -> f64 {
        match &self.process {
            Process::Bursty { on, off } => {
                let (on, off) = (on.mean_ns(), off.mean_ns());
                if on + off > 0.0 { on / (on + off) } else { 1.0 }
            }
            _ => 1.0,
        }
    }

    /// The expected number of arrivals over the whole run.
    pub fn expected_arrivals(&self) -> f64 {
        crate::RateProfile::new(self).area_until(self.duration_ns as f64) * self.duty_cycle()
    }

    /// The duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.duration_ns as f64 / NS_PER_S as f64
    }
}
