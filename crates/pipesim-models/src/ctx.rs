//! What a model sees of the engine while it runs.

use pipesim_engine::Sim;
use pipesim_metrics::Recorder;
use std::ops::{Deref, DerefMut};

/// The simulation context handed to every model call: the clock and event queue ([`Sim`], which
/// `Ctx` dereferences to) and the recorder.
pub struct Ctx<E> {
    /// Clock and pending events; components schedule on it.
    pub sim: Sim<E>,
    /// Where the model reports acknowledgements, visibility, drops and reads.
    pub rec: Recorder,
}

impl<E> Ctx<E> {
    pub(crate) fn new(rec: Recorder) -> Self {
        Self { sim: Sim::new(), rec }
    }
}

impl<E> Deref for Ctx<E> {
    type Target = Sim<E>;
    fn deref(&self) -> &Sim<E> {
        &self.sim
    }
}

impl<E> DerefMut for Ctx<E> {
    fn deref_mut(&mut self) -> &mut Sim<E> {
        &mut self.sim
    }
}
