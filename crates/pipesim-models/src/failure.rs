//! Why a run could not finish.

use pipesim_engine::{SimTime, format_duration_ns};
use std::fmt;

/// A run that stopped before its end. The discrete-event designs never fail (their inputs are
/// validated before the run); a backend that runs code under test fails when that code does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunFailure {
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
        }
    }
}

impl std::error::Error for RunFailure {}
