//! Every component's parameter table as a [`Section`] of a design's model table: documented
//! by its own `docs(prefix)` and checked by its own `validate`, so that a design declares
//! `pool: PoolParams` once (`pipesim_config::sections!`) and gets both, under its name.

use crate::cache::{CacheParams, CacheSpec};
use crate::cdc::{CdcParams, CdcSpec, TopicParams, TopicSpec};
use crate::kafka::{KafkaLogParams, KafkaLogSpec, KafkaProducerParams};
use crate::schema::SchemaParams;
use crate::stream::{ConsumerParams, ProjectionParams, ProjectionSpec, StreamParams, StreamSpec};
use crate::{
    Affinity, FleetParams, LinkParams, LinkSpec, PoolParams, PostgresParams, PostgresSpec,
    ReaderParams, RedisParams, RedisSpec, RetryParams,
};
use pipesim_config::{ConfigError, Loader, ParamDoc, Section};

/// `impl Section` for a table that takes no choice of the design: `$valid` is what
/// `|table, loader| check` gives.
macro_rules! section {
    ($ty:ident => $valid:ty, |$table:ident, $loader:pat_param| $check:expr) => {
        impl Section for $ty {
            type Valid = $valid;
            type Choice = ();

            fn docs(name: &str, (): ()) -> Vec<ParamDoc> {
                $ty::docs(name)
            }

            fn check(&self, $loader: &dyn Loader, (): ()) -> Result<$valid, ConfigError> {
                let $table = self;
                $check
            }
        }
    };
}

section!(LinkParams => LinkSpec, |t, loader| t.validate(loader));
section!(PoolParams => PoolParams, |t, _| t.validate());
section!(PostgresParams => PostgresSpec, |t, loader| t.validate(loader));
section!(RetryParams => RetryParams, |t, _| t.validate());
section!(ReaderParams => ReaderParams, |t, _| t.validate());
section!(RedisParams => RedisSpec, |t, loader| t.validate(loader));
section!(CacheParams => CacheSpec, |t, loader| t.validate(loader));
section!(CdcParams => CdcSpec, |t, loader| t.validate(loader));
section!(TopicParams => TopicSpec, |t, loader| t.validate(loader));
section!(KafkaLogParams => KafkaLogSpec, |t, loader| t.validate(loader));
section!(KafkaProducerParams => KafkaProducerParams, |t, _| t.validate());
section!(ConsumerParams => ConsumerParams, |t, _| t.validate());
section!(StreamParams => StreamSpec, |t, loader| t.validate(loader));
section!(ProjectionParams => ProjectionSpec, |t, loader| t.validate(loader));
section!(SchemaParams => (), |t, _| t.validate());

/// The producers: each design chooses the affinity a scenario that writes none gets
/// (`producers: FleetParams [Affinity::Key]`); the check fills it in.
impl Section for FleetParams {
    type Valid = FleetParams;
    type Choice = Affinity;

    fn docs(name: &str, default_affinity: Affinity) -> Vec<ParamDoc> {
        FleetParams::docs_with(name, default_affinity)
    }

    fn check(
        &self,
        _: &dyn Loader,
        default_affinity: Affinity,
    ) -> Result<FleetParams, ConfigError> {
        self.resolve(default_affinity)
    }
}
