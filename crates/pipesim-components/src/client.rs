//! What a client does when a request fails: retry with exponential backoff, up to a budget.

use pipesim_config::{ConfigError, Duration, ParamDoc};
use pipesim_engine::{NS_PER_MS, NS_PER_S, SimTime};
use serde::{Deserialize, Serialize};

/// Retry policy as a scenario writes it (`[model.client]`, `[model.producer]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryParams {
    /// Retries after the first attempt (0: give up at once).
    pub retries: u32,
    /// Wait before the first retry; doubles each time.
    pub backoff: Duration,
    /// Longest wait between retries.
    pub backoff_max: Duration,
    /// How long a request may go unanswered before the client treats it as failed.
    pub timeout: Duration,
}

impl Default for RetryParams {
    fn default() -> Self {
        Self {
            retries: 3,
            backoff: Duration { ns: 100 * NS_PER_MS },
            backoff_max: Duration { ns: NS_PER_S },
            timeout: Duration { ns: 30 * NS_PER_S },
        }
    }
}

impl RetryParams {
    /// Checks the parameters; error paths are relative to the table.
    pub fn validate(&self) -> Result<RetryParams, ConfigError> {
        if self.timeout.ns == 0 {
            return Err(ConfigError::new("timeout", "must be greater than zero"));
        }
        pipesim_config::limits::at_most(
            "retries",
            u64::from(self.retries),
            &pipesim_config::limits::RETRIES,
        )?;
        if self.backoff_max.ns < self.backoff.ns {
            return Err(ConfigError::new(
                "backoff_max",
                format!("{} is below backoff ({})", self.backoff_max, self.backoff),
            ));
        }
        Ok(self.clone())
    }

    /// The wait before retry number `attempt` (1 for the first retry).
    pub fn backoff_ns(&self, attempt: u32) -> SimTime {
        let doublings = attempt.saturating_sub(1).min(40);
        self.backoff.ns.saturating_mul(1u64 << doublings).min(self.backoff_max.ns)
    }

    /// Parameter documentation, under `prefix`.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        vec![
            ParamDoc::new(
                "retries",
                "integer",
                "3",
                "retries after a failed or timed-out request; then the event is dropped",
            ),
            ParamDoc::new(
                "backoff",
                "duration",
                "\"100ms\"",
                "wait before the first retry, doubling after each (Kafka retry.backoff.ms 100)",
            ),
            ParamDoc::new(
                "backoff_max",
                "duration",
                "\"1s\"",
                "longest wait between retries (Kafka retry.backoff.max.ms 1000)",
            ),
            ParamDoc::new(
                "timeout",
                "duration",
                "\"30s\"",
                "a request unanswered this long counts as failed (Kafka request.timeout.ms 30000)",
            ),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryParams::default();
        let waits: Vec<u64> = (1..=6).map(|a| p.backoff_ns(a) / NS_PER_MS).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
    }
}
