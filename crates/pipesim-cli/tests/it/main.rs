//! The integration tests of the `pipesim` binary and its library, in one test binary.
//!
//! One binary links once (24 binaries each linked the whole workspace, which dominated the test
//! build on two cores). Each module is one concern; tests that need a process of their own
//! (peak memory) re-run this binary as a child (see `memory.rs`). The harness they share (running
//! the binary, scratch folders, the one bad-input contract) is in `support.rs`.

mod bad_input;
mod browser;
mod cached;
mod cached_bad_input;
mod charts;
mod clock_skew;
mod compare;
mod crash_scope;
mod designs_bad_input;
mod determinism;
mod distributions;
mod event_sourced;
mod event_sourced_bad_input;
mod event_sourced_faults;
mod fault_sources;
mod fuzz_regressions;
mod gate;
mod hostile_input;
mod mechanisms;
mod memory;
mod network_faults;
mod param_defaults;
mod phases;
mod progress;
mod run_estimate;
mod safe_output;
mod schema_flood;
mod store_faults;
mod support;
mod sweep;
mod theory;
mod tidy;
mod timeline;
mod trace;
mod untrusted_reports;
mod wire_bad_input;
mod wire_exact;
mod wire_log;
mod wire_lua;
mod wire_sharded;
mod wire_torn;
mod wire_user;
