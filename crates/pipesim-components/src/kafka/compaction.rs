//! The cleaner of a compacted topic (`compaction`): over closed, committed segments it keeps
//! the latest record of each key, never touching what the consumer has fetched; each unread
//! record it removes is reported ([`LogOutcome::Compacted`]).

use super::{KafkaLog, LogOutcome, Record};
use crate::int_map::IntMap;
use pipesim_engine::SimTime;

impl<R: Record> KafkaLog<R> {
    /// One pass of the cleaner over every partition's closed, committed segments.
    pub(super) fn clean(&mut self, now: SimTime, out: &mut Vec<LogOutcome<R>>) {
        let lag = self.spec.params.min_compaction_lag.ns;
        for part in &mut self.parts {
            while let Some(&(end, closed_at)) = part.closed.front() {
                if closed_at.saturating_add(lag) > now {
                    break;
                }
                part.cleanable_end = end;
                part.closed.pop_front();
            }
            let end = part.cleanable_end.min(part.hw);
            if end <= part.cleaned_end {
                continue;
            }
            let floor = part.base.max(part.read_pos);
            // The offset map of the newly closed section: its latest record per key survives.
            let dirty_from = part.cleaned_end.max(floor);
            let mut seen: IntMap<()> =
                IntMap::with_capacity(end.saturating_sub(dirty_from).min(1 << 20) as usize);
            let mut off = end;
            while off > dirty_from {
                off -= 1;
                let r = &mut part.records[(off - part.base) as usize];
                if r.is_compacted() {
                    continue;
                }
                if seen.insert(r.key(), ()).is_some() {
                    out.push(LogOutcome::Compacted(*r));
                    r.mark_compacted();
                    self.stats.compacted += 1;
                }
            }
            // Older unread records of those keys go too.
            let mut off = floor;
            while off < dirty_from {
                let r = &mut part.records[(off - part.base) as usize];
                if !r.is_compacted() && seen.get(r.key()).is_some() {
                    out.push(LogOutcome::Compacted(*r));
                    r.mark_compacted();
                    self.stats.compacted += 1;
                }
                off += 1;
            }
            self.stats.cleaned += end - part.cleaned_end;
            part.cleaned_end = end;
        }
    }
}
