//! Open-loop workload generation.
//!
//! An [`ArrivalGen`] yields the events a scenario's producers create, in creation order, each an
//! [`EventMeta`] with a global id, a key, that key's next sequence number, the creation time and
//! a payload size. The generator is a pure function of the [`WorkloadSpec`] and the root seed:
//! every model of a scenario sees the identical trace, generated lazily so memory does not grow
//! with the number of events.
//!
//! Arrivals are *open loop*: an event's creation time is fixed by the arrival process, never by
//! how fast the system under test accepts it. Latency is measured from that intended creation
//! time, so a slow system cannot hide its queueing (no coordinated omission).

mod arrivals;
mod event;
mod keys;
mod profile;
mod spec;

pub use arrivals::ArrivalGen;
pub use event::EventMeta;
pub use keys::KeyChooser;
pub use profile::RateProfile;
pub use spec::{Keys, Phase, Popularity, Process, WorkloadSpec};
