//! The producers of a design: how many instances, and which one sends each event.

use pipesim_config::{ConfigError, ParamDoc};
use pipesim_engine::StreamRng;
use serde::{Deserialize, Serialize};

/// How events are spread over producer instances.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Affinity {
    /// All events of a key come from the same instance, over the same connection, in order.
    Key,
    /// Any instance may send any event (a load balancer in front of stateless app servers), so
    /// two events of one key can race over different connections.
    Random,
}

/// Producer instances as a scenario writes them (`[model.producers]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FleetParams {
    /// Producer (application) instances, each with its own connection.
    pub instances: u32,
    /// Which instance sends an event; each design has its own default (see
    /// [`FleetParams::resolve`]).
    pub affinity: Option<Affinity>,
}

impl Default for FleetParams {
    fn default() -> Self {
        Self { instances: 16, affinity: None }
    }
}

impl FleetParams {
    /// Checks the parameters, with `key` as the default affinity.
    pub fn validate(&self) -> Result<FleetParams, ConfigError> {
        self.resolve(Affinity::Key)
    }

    /// Checks the parameters and fills in the design's default affinity.
    pub fn resolve(&self, default_affinity: Affinity) -> Result<FleetParams, ConfigError> {
        if self.instances == 0 {
            return Err(ConfigError::new("instances", "must be at least 1"));
        }
        pipesim_config::limits::at_most(
            "instances",
            u64::from(self.instances),
            &pipesim_config::limits::INSTANCES,
        )?;
        Ok(FleetParams {
            affinity: Some(self.affinity.unwrap_or(default_affinity)),
            ..self.clone()
        })
    }

    /// Parameter documentation, under `prefix`, with `key` as the default affinity.
    pub fn docs(prefix: &str) -> Vec<ParamDoc> {
        Self::docs_with(prefix, Affinity::Key)
    }

    /// Parameter documentation, under `prefix`, with the design's default affinity.
    pub fn docs_with(prefix: &str, default_affinity: Affinity) -> Vec<ParamDoc> {
        let default = match default_affinity {
            Affinity::Key => "\"key\"",
            Affinity::Random => "\"random\"",
        };
        vec![
            ParamDoc::new("instances", "integer >= 1", "16", "producer instances, each with its own connection"),
            ParamDoc::new(
                "affinity",
                "\"key\" or \"random\"",
                default,
                "key: a key's events all leave from one instance, in order; random: any instance (they can race)",
            ),
        ]
        .into_iter()
        .map(|d| d.under(prefix))
        .collect()
    }

    /// The instance that sends an event of `key`.
    #[inline]
    pub fn instance_of(&self, key: u32, rng: &mut StreamRng) -> u32 {
        match self.affinity.unwrap_or(Affinity::Key) {
            // A multiplicative hash spreads consecutive keys over instances.
            Affinity::Key => {
                ((u64::from(key).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32)
                    % u64::from(self.instances)) as u32
            }
            Affinity::Random => rng.below(u64::from(self.instances)) as u32,
        }
    }
}
