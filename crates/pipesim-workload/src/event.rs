//! The identity of one event.

use pipesim_engine::SimTime;

/// One event as its producer created it. 32 bytes, `Copy`: models carry it by value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventMeta {
    /// Global creation index, 0, 1, 2, … in creation order.
    pub id: u64,
    /// Intended creation time: the moment the open-loop producer created the event.
    pub created_ns: SimTime,
    /// Sequence number within the key, 0, 1, 2, … in creation order.
    pub seq: u64,
    /// The key (entity, user), `0..keys.count`; with Zipf popularity key 0 is the hottest.
    pub key: u32,
    /// Payload size in bytes.
    pub size_bytes: u32,
}
