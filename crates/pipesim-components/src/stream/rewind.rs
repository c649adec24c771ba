//! A consumer's restart: its feeds go back to the offsets it had saved (the processor's last
//! completed checkpoint, the projection's committed offsets).

use super::fetch::Feed;
use crate::kafka::{KafkaLog, Record};

/// Puts the feed of every partition `p` back at `saved[p]`, with nothing fetched beyond it,
/// and the log's read position with it (compaction may remove unread records only, and the
/// records above `saved[p]` are unread again). Returns how many records had been processed
/// since: they are processed again.
pub(super) fn rewind_feeds<R: Record>(
    feeds: &mut [Feed],
    saved: &[u64],
    log: &mut KafkaLog<R>,
) -> u64 {
    let mut replayed = 0;
    for (p, f) in feeds.iter_mut().enumerate() {
        replayed += f.processed.saturating_sub(saved[p]);
        *f = Feed { fetched: saved[p], processed: saved[p], fetching: false };
        log.set_read_pos(p as u32, saved[p]);
    }
    replayed
}
