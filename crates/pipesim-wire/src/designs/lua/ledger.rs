//! The shard's read-view oracle: which visible appends its replica does not have yet.
//!
//! Instrumentation, not part of the service (see `HostCtx::oracle`): readers of a Redis
//! Cluster read the current master's list, so an append the master made visible and its
//! replica never received leaves the read view when the replica takes over. The ledger keeps
//! exactly those appends (bounded by the replication lag) so that the promotion, or a stale
//! master's demotion, can report them to the checkers as retracted.

use crate::Probe;
use pipesim_workload::EventMeta;
use std::collections::VecDeque;

/// One shard's unreplicated appends, as (epoch, offset, event), in append order.
#[derive(Default)]
pub(super) struct Ledger {
    entries: VecDeque<(u64, u64, EventMeta)>,
}

impl Ledger {
    /// The master of `epoch` appended `ev` at `offset` and showed it to readers.
    pub(super) fn appended(&mut self, epoch: u64, offset: u64, ev: EventMeta) {
        self.entries.push_back((epoch, offset, ev));
    }

    /// The replica holds everything of `epoch` up to `offset`.
    pub(super) fn replicated(&mut self, epoch: u64, offset: u64) {
        self.entries.retain(|&(e, o, _)| !(e == epoch && o <= offset));
    }

    /// A master of `epoch` now serves readers: every older append it does not have leaves the
    /// view. Returns how many.
    pub(super) fn retract_before(&mut self, epoch: u64, probe: &Probe) -> u64 {
        let mut n = 0;
        self.entries.retain(|&(e, _, ev)| {
            let gone = e < epoch;
            if gone {
                probe.retracted(&ev);
                n += 1;
            }
            !gone
        });
        n
    }
}
