//! Why a run could not finish.

use pipesim_engine::{SimTime, format_duration_ns};
use pipesim_workload::TraceError;
use std::fmt;

/// A run that stopped before its end. The discrete-event designs fail only when an input they
/// read while running no longer reads as it did when checked (a workload trace); a backend
/// that runs code under test also fails when that code does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunFailure {
    /// The workload trace changed, vanished or became unreadable after the load-time scan
    /// (every run reads it again): the results would be of other arrivals.
    Trace(TraceError),
    /// The service under test panicked or returned an error.
    Service {
        /// The simulated host it ran on, when known.
        host: Option<String>,
        /// Simulated time of the failure, scenario time.
        at_ns: SimTime,
        /// What it said, and where in its source.
        message: String,
    },
    /// The run could not be set up or continued for a reason that is not the user's code (a
    /// simulated network that refused a host, say).
    Backend {
        /// What went wrong.
        message: String,
    },
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Service { host, at_ns, message } => {
                let host = host.as_deref().unwrap_or("an unknown host");
                write!(
                    f,
                    "the service on {host} failed at {}: {message}",
                    format_duration_ns(*at_ns)
                )
            }
            Self::Backend { message } => write!(f, "{message}"),
            Self::Trace(e) => write!(f, "workload.arrivals.file: {e}"),
        }
    }
}

impl std::error::Error for RunFailure {}
