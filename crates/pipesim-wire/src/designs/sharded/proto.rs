//! What the router and the stores say to each other, and how a key picks its shard.
//!
//! The router sends each event to its shard's store as a [`Forward`] and the store answers
//! with a [`Done`] carrying the same id, in whatever order its writers commit (a connection
//! carries one shard's events, so in practice in order).

use crate::{Cursor, encode_event};
use pipesim_workload::EventMeta;

const FORWARD: u8 = 11;
const DONE: u8 = 12;

/// One event for one shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Forward {
    /// The router's id of this forward, unique on its connection.
    pub(super) id: u64,
    /// The shard the router hashed the key to.
    pub(super) shard: u32,
    /// The event.
    pub(super) ev: EventMeta,
}

impl Forward {
    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        out.push(FORWARD);
        out.extend_from_slice(&self.id.to_le_bytes());
        out.extend_from_slice(&self.shard.to_le_bytes());
        encode_event(&self.ev, out);
    }

    pub(super) fn decode(body: &[u8]) -> Option<Self> {
        let mut c = Cursor::new(body);
        (c.u8()? == FORWARD).then_some(())?;
        Some(Self { id: c.u64()?, shard: c.u32()?, ev: c.event()? })
    }
}

/// A store's answer to one [`Forward`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Done {
    /// The forward's id.
    pub(super) id: u64,
    /// Committed (visible), or refused without effect (the queue is full, or the shard is not
    /// on this store).
    pub(super) committed: bool,
}

impl Done {
    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        out.push(DONE);
        out.extend_from_slice(&self.id.to_le_bytes());
        out.push(u8::from(self.committed));
    }

    pub(super) fn decode(body: &[u8]) -> Option<Self> {
        let mut c = Cursor::new(body);
        (c.u8()? == DONE).then_some(())?;
        Some(Self { id: c.u64()?, committed: c.u8()? == 1 })
    }
}

/// A sharding strategy: how many shards, and the seed of the hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Strategy {
    pub(super) shards: u32,
    pub(super) hash_seed: u64,
}

impl Strategy {
    /// The shard of `key`: SplitMix64's finaliser over the key and the seed, modulo the shard
    /// count. The DES `sharded` kind hashes with the same function, so a key lands on the same
    /// shard in both backends.
    pub(super) fn shard_of(&self, key: u32) -> u32 {
        let mut z = u64::from(key) ^ self.hash_seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % u64::from(self.shards.max(1))) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_refuse_each_other() {
        let ev = EventMeta { id: 9, created_ns: 77, seq: 3, key: 12, size_bytes: 512 };
        let f = Forward { id: 5, shard: 7, ev };
        let mut body = Vec::new();
        f.encode(&mut body);
        assert_eq!(Forward::decode(&body), Some(f));
        assert_eq!(Done::decode(&body), None);
        assert_eq!(Forward::decode(&body[..body.len() - 1]), None, "a short body is refused");
        for committed in [true, false] {
            let d = Done { id: 5, committed };
            let mut body = Vec::new();
            d.encode(&mut body);
            assert_eq!(Done::decode(&body), Some(d));
        }
    }

    #[test]
    fn a_new_seed_moves_most_keys_and_shards_stay_balanced() {
        let (old, new) =
            (Strategy { shards: 8, hash_seed: 0 }, Strategy { shards: 8, hash_seed: 1 });
        let moved = (0..8_000).filter(|k| old.shard_of(*k) != new.shard_of(*k)).count();
        assert!((6_500..7_500).contains(&moved), "about 7/8 of keys move: {moved}");
        let mut per_shard = [0u32; 8];
        for k in 0..8_000 {
            per_shard[old.shard_of(k) as usize] += 1;
        }
        assert!(per_shard.iter().all(|n| (850..1_150).contains(n)), "{per_shard:?}");
    }
}
