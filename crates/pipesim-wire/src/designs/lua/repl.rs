//! The messages between a shard's two nodes (port 16379): replication and the cluster bus.

use crate::{Cursor, encode_event};
use pipesim_workload::EventMeta;

/// Most (key, last) pairs in one snapshot frame (12 bytes each, well inside a frame).
pub(super) const SNAPSHOT_CHUNK: usize = 50_000;

/// One message.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Msg {
    /// A replica asks to follow (REPLICAOF): a snapshot, then the stream of appends.
    Sync,
    /// Part of the master's state at `offset`; `last` says whether more chunks follow.
    Snapshot { epoch: u64, offset: u64, pairs: Vec<(u32, u64)>, last: bool },
    /// One append, in offset order.
    Append { epoch: u64, offset: u64, key: u32, value: u64, ev: EventMeta },
    /// The master is alive (sent every `failover.heartbeat`).
    Heartbeat { epoch: u64 },
    /// Gossip: the sender's epoch and whether it serves as master.
    Ping { epoch: u64, master: bool },
}

impl Msg {
    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        let u64s = |out: &mut Vec<u8>, xs: &[u64]| {
            for x in xs {
                out.extend_from_slice(&x.to_le_bytes());
            }
        };
        match self {
            Self::Sync => out.push(1),
            Self::Snapshot { epoch, offset, pairs, last } => {
                out.push(2);
                u64s(out, &[*epoch, *offset, pairs.len() as u64]);
                out.push(u8::from(*last));
                for (k, v) in pairs {
                    out.extend_from_slice(&k.to_le_bytes());
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            Self::Append { epoch, offset, key, value, ev } => {
                out.push(3);
                u64s(out, &[*epoch, *offset]);
                out.extend_from_slice(&key.to_le_bytes());
                u64s(out, &[*value]);
                encode_event(ev, out);
            }
            Self::Heartbeat { epoch } => {
                out.push(4);
                u64s(out, &[*epoch]);
            }
            Self::Ping { epoch, master } => {
                out.push(5);
                u64s(out, &[*epoch]);
                out.push(u8::from(*master));
            }
        }
    }

    pub(super) fn decode(body: &[u8]) -> Option<Self> {
        let mut c = Cursor::new(body);
        Some(match c.u8()? {
            1 => Self::Sync,
            2 => {
                let (epoch, offset, n) = (c.u64()?, c.u64()?, c.u64()? as usize);
                let last = c.u8()? == 1;
                if n > SNAPSHOT_CHUNK {
                    return None;
                }
                let mut pairs = Vec::with_capacity(n);
                for _ in 0..n {
                    pairs.push((c.u32()?, c.u64()?));
                }
                Self::Snapshot { epoch, offset, pairs, last }
            }
            3 => Self::Append {
                epoch: c.u64()?,
                offset: c.u64()?,
                key: c.u32()?,
                value: c.u64()?,
                ev: c.event()?,
            },
            4 => Self::Heartbeat { epoch: c.u64()? },
            5 => Self::Ping { epoch: c.u64()?, master: c.u8()? == 1 },
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let ev = EventMeta { id: 1, created_ns: 2, seq: 3, key: 4, size_bytes: 5 };
        for m in [
            Msg::Sync,
            Msg::Snapshot { epoch: 2, offset: 9, pairs: vec![(1, 2), (3, 4)], last: true },
            Msg::Append { epoch: 2, offset: 10, key: 4, value: 3, ev },
            Msg::Heartbeat { epoch: 7 },
            Msg::Ping { epoch: 7, master: true },
        ] {
            let mut b = Vec::new();
            m.encode(&mut b);
            assert_eq!(Msg::decode(&b), Some(m));
        }
    }
}
