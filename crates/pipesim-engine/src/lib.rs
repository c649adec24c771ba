//! The deterministic core of pipesim.
//!
//! # Guarantees
//!
//! - **Simulated time only.** Time is a [`SimTime`]: a `u64` count of simulated nanoseconds.
//!   Nothing here reads a clock.
//! - **Total event order.** [`EventQueue`] pops events by time, and events scheduled for the same
//!   nanosecond in the order they were scheduled (a sequence number breaks ties).
//! - **Stable random streams.** Every component draws from its own ChaCha8 stream, derived from the
//!   root seed and a stable stream name ([`RngStreams::stream`]). Adding a component does not shift
//!   the numbers any other component sees.
//! - **Same bits on every machine.** Distributions sample with the pure-Rust `libm` crate rather
//!   than the platform's math library (exponentials and normals by ziggurats whose tables `libm`
//!   computes, the rest by inversion), so a seed gives the same samples on any machine, operating system or
//!   compiler version.
//!
//! The engine knows nothing of scenario files, serde, models or reports.

mod dist;
mod empirical;
mod normal;
mod prefetch;
mod queue;
mod rng;
mod sim;
mod time;
mod window;
mod ziggurat;
mod ziggurat_normal;
mod zipf;

pub use dist::{Dist, MAX_SAMPLE_NS};
pub use empirical::{EmpiricalError, EmpiricalTable};
pub use normal::inverse_normal_cdf;
pub use prefetch::prefetch;
pub use queue::EventQueue;
pub use rng::{RngStreams, StreamRng, stream_id};
pub use sim::Sim;
pub use time::{
    NS_PER_MS, NS_PER_S, NS_PER_US, SimTime, f64_of, format_duration_ns, format_time_s, u64_of,
};
pub use window::Window;
pub use zipf::Zipf;
