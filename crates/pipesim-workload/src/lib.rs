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
//!
//! A workload may instead replay a trace file ([`TraceSpec`], module `trace`): the events'
//! times, keys and sizes come from the file, streamed one line at a time, and sequence numbers
//! are still handed out per key in creation order.

mod arrivals;
mod event;
pub mod input;
mod keys;
mod profile;
mod spec;
mod trace;

pub use arrivals::ArrivalGen;
pub use event::EventMeta;
pub use keys::KeyChooser;
pub use profile::RateProfile;
pub use spec::{Keys, Phase, Popularity, Process, WorkloadSpec};
pub use trace::{
    MAX_LINE_BYTES, OnError, TRACE_COLUMNS, TraceError, TraceFormat, TraceReader, TraceRecord,
    TraceSpec, TraceSummary, scan,
};
