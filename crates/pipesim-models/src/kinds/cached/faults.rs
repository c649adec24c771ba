//! Faults on `cached`, by role: `store` (the Postgres crash, which also breaks the connector's
//! replication connection), `log` (the connector crashes), `cache` (the service loses its
//! memory; its consumer rewinds to its last committed position) and `network` (an outage of the
//! client network, which the connections' TCP retransmissions ride out).

use super::{Cached, Ev, wrap_cache, wrap_store};
use crate::ctx::Ctx;
use crate::fault::{FaultKind, FaultPhase, FaultSpec};

impl Cached {
    /// `Model::on_fault`: a fault begins or ends.
    pub(super) fn fault(&mut self, ctx: &mut Ctx<Ev>, fault: &FaultSpec, phase: FaultPhase) {
        use FaultPhase::{Begin, End};
        match (&fault.kind, fault.role.as_str(), phase) {
            (&FaultKind::Crash { restart_ns, scope }, "store", Begin) => {
                let out = self.pg_out.sink();
                let scope = scope.unwrap_or_default();
                self.store.crash(&mut ctx.sim, restart_ns, scope, wrap_store, out);
                self.store_outcomes(ctx);
                // The replication connection breaks with the server; the connector resumes from
                // its last flushed position once the server is back.
                self.cdc.crash(&mut ctx.sim, restart_ns, Ev::Cdc);
            }
            (&FaultKind::Crash { restart_ns, .. }, "log", Begin) => {
                self.cdc.crash(&mut ctx.sim, restart_ns, Ev::Cdc);
            }
            (&FaultKind::Crash { restart_ns, .. }, "cache", Begin) => {
                self.cache.crash(&mut ctx.sim, restart_ns, wrap_cache, self.cache_out.sink());
                self.cache_epoch = self.cache_epoch.wrapping_add(1);
                self.topic.rewind();
                self.cache_outcomes(ctx);
            }
            (FaultKind::Crash { .. }, "network", Begin) => {
                self.outage = Some((fault.start_ns, fault.end_ns));
            }
            (FaultKind::Crash { .. }, "network", End) => self.outage = None,
            _ => {}
        }
    }
}
