//! The log's own messages (beside the harness producer's `Request`/`Response`), each one frame
//! whose first byte says what it is, and the record format shared by the wire and the disk.

use crate::{Cursor, EVENT_BYTES, decode_event, encode_event};
use pipesim_workload::EventMeta;

/// Bytes of one record, on the wire and on disk.
pub(crate) const REC_BYTES: usize = 16 + EVENT_BYTES;
/// Most records one fetch answer carries (Kafka bounds it by bytes: replica.fetch.max.bytes).
pub(crate) const FETCH_MAX_RECORDS: usize = 4_096;
/// `leader` of a partition that has none.
pub(crate) const NO_LEADER: u32 = u32::MAX;
/// `replica` of a fetch from the consumer.
pub(crate) const CONSUMER: u32 = u32::MAX;

/// One record: the event, the leader epoch it was appended in, and its producer's id and
/// sequence number (what idempotence and truncation need, as a Kafka batch header has them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rec {
    pub(crate) epoch: u32,
    pub(crate) producer: u32,
    pub(crate) seq: u64,
    pub(crate) ev: EventMeta,
}

impl Rec {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.epoch.to_le_bytes());
        out.extend_from_slice(&self.producer.to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
        encode_event(&self.ev, out);
    }

    pub(crate) fn decode(c: &mut Cursor<'_>) -> Option<Self> {
        Some(Self { epoch: c.u32()?, producer: c.u32()?, seq: c.u64()?, ev: c.event()? })
    }

    /// The whole records at the start of `bytes` (a torn tail is left out).
    pub(crate) fn decode_all(bytes: &[u8]) -> Vec<Self> {
        bytes
            .chunks_exact(REC_BYTES)
            .filter_map(|b| {
                let mut c = Cursor::new(b);
                let (epoch, producer, seq) = (c.u32()?, c.u32()?, c.u64()?);
                Some(Self { epoch, producer, seq, ev: decode_event(c.rest())? })
            })
            .collect()
    }
}

/// One partition as the controller publishes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PartState {
    /// The leading broker, or [`NO_LEADER`].
    pub(crate) leader: u32,
    /// Bumped at every leader change: requests and fetches carrying an older one are fenced.
    pub(crate) epoch: u32,
    /// The in-sync replicas, one bit per broker.
    pub(crate) isr: u64,
}

impl PartState {
    pub(crate) fn in_isr(&self, broker: u32) -> bool {
        self.isr & (1 << broker) != 0
    }

    pub(crate) fn isr_len(&self) -> u32 {
        self.isr.count_ones()
    }
}

/// The cluster's metadata: a version the controller bumps at every change, and each
/// partition's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Metadata {
    pub(crate) version: u64,
    pub(crate) parts: Vec<PartState>,
}

/// A fetch answer's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FetchStatus {
    Ok,
    /// Not the leader in the epoch the fetcher named (fenced, or not led here at all).
    NotLeader,
}

/// The log's messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Msg {
    /// Broker → controller, every `log.heartbeat`; the first of an incarnation registers it.
    Heartbeat { broker: u32, incarnation: u32 },
    /// Consumer → controller: send me the metadata.
    Watch,
    /// Controller → brokers and consumer, at every change.
    Metadata(Metadata),
    /// Leader → controller: set the partition's ISR (the leader in `epoch` asks).
    AlterIsr { broker: u32, partition: u32, epoch: u32, isr: u64 },
    /// Follower or consumer → leader: records from `offset` (a follower: "I have everything
    /// below it"), fenced by `epoch`.
    Fetch { partition: u32, offset: u64, epoch: u32, replica: u32 },
    /// Leader → fetcher.
    Fetched { partition: u32, status: FetchStatus, hw: u64, records: Vec<Rec> },
    /// Fetcher → leader: where does my last epoch end in your log? (Kafka's
    /// OffsetsForLeaderEpoch, which followers truncate by and consumers detect truncation by.)
    EpochQuery { partition: u32, last_epoch: u32, epoch: u32 },
    /// Leader → fetcher: the first offset after `last_epoch` in the leader's log.
    EpochEnd { partition: u32, status: FetchStatus, end_offset: u64 },
}

const HEARTBEAT: u8 = 10;
const WATCH: u8 = 11;
const METADATA: u8 = 12;
const ALTER_ISR: u8 = 13;
const FETCH: u8 = 20;
const FETCHED: u8 = 21;
const EPOCH_QUERY: u8 = 22;
const EPOCH_END: u8 = 23;

fn status_byte(s: FetchStatus) -> u8 {
    match s {
        FetchStatus::Ok => 0,
        FetchStatus::NotLeader => 1,
    }
}

fn status_of(b: u8) -> Option<FetchStatus> {
    match b {
        0 => Some(FetchStatus::Ok),
        1 => Some(FetchStatus::NotLeader),
        _ => None,
    }
}

impl Metadata {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&(self.parts.len() as u32).to_le_bytes());
        for p in &self.parts {
            out.extend_from_slice(&p.leader.to_le_bytes());
            out.extend_from_slice(&p.epoch.to_le_bytes());
            out.extend_from_slice(&p.isr.to_le_bytes());
        }
    }

    pub(crate) fn decode(c: &mut Cursor<'_>) -> Option<Self> {
        let version = c.u64()?;
        let n = c.u32()? as usize;
        let parts = (0..n.min(1 << 16))
            .map(|_| Some(PartState { leader: c.u32()?, epoch: c.u32()?, isr: c.u64()? }))
            .collect::<Option<Vec<_>>>()?;
        Some(Self { version, parts })
    }
}

impl Msg {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let u32s = |out: &mut Vec<u8>, vs: &[u32]| {
            vs.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()))
        };
        match self {
            Msg::Heartbeat { broker, incarnation } => {
                out.push(HEARTBEAT);
                u32s(out, &[*broker, *incarnation]);
            }
            Msg::Watch => out.push(WATCH),
            Msg::Metadata(m) => {
                out.push(METADATA);
                m.encode(out);
            }
            Msg::AlterIsr { broker, partition, epoch, isr } => {
                out.push(ALTER_ISR);
                u32s(out, &[*broker, *partition, *epoch]);
                out.extend_from_slice(&isr.to_le_bytes());
            }
            Msg::Fetch { partition, offset, epoch, replica } => {
                out.push(FETCH);
                u32s(out, &[*partition, *epoch, *replica]);
                out.extend_from_slice(&offset.to_le_bytes());
            }
            Msg::Fetched { partition, status, hw, records } => {
                out.push(FETCHED);
                u32s(out, &[*partition, records.len() as u32]);
                out.push(status_byte(*status));
                out.extend_from_slice(&hw.to_le_bytes());
                records.iter().for_each(|r| r.encode(out));
            }
            Msg::EpochQuery { partition, last_epoch, epoch } => {
                out.push(EPOCH_QUERY);
                u32s(out, &[*partition, *last_epoch, *epoch]);
            }
            Msg::EpochEnd { partition, status, end_offset } => {
                out.push(EPOCH_END);
                u32s(out, &[*partition]);
                out.push(status_byte(*status));
                out.extend_from_slice(&end_offset.to_le_bytes());
            }
        }
    }

    /// The message in a frame body; `None` if it is none of the log's.
    pub(crate) fn decode(body: &[u8]) -> Option<Self> {
        let mut c = Cursor::new(body);
        Some(match c.u8()? {
            HEARTBEAT => Msg::Heartbeat { broker: c.u32()?, incarnation: c.u32()? },
            WATCH => Msg::Watch,
            METADATA => Msg::Metadata(Metadata::decode(&mut c)?),
            ALTER_ISR => Msg::AlterIsr {
                broker: c.u32()?,
                partition: c.u32()?,
                epoch: c.u32()?,
                isr: c.u64()?,
            },
            FETCH => {
                let (partition, epoch, replica) = (c.u32()?, c.u32()?, c.u32()?);
                Msg::Fetch { partition, offset: c.u64()?, epoch, replica }
            }
            FETCHED => {
                let (partition, n) = (c.u32()?, c.u32()? as usize);
                let (status, hw) = (status_of(c.u8()?)?, c.u64()?);
                let records = (0..n.min(FETCH_MAX_RECORDS))
                    .map(|_| Rec::decode(&mut c))
                    .collect::<Option<Vec<_>>>()?;
                Msg::Fetched { partition, status, hw, records }
            }
            EPOCH_QUERY => {
                Msg::EpochQuery { partition: c.u32()?, last_epoch: c.u32()?, epoch: c.u32()? }
            }
            EPOCH_END => {
                let partition = c.u32()?;
                Msg::EpochEnd { partition, status: status_of(c.u8()?)?, end_offset: c.u64()? }
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_round_trips_and_a_torn_record_is_left_out() {
        let ev = EventMeta { id: 9, created_ns: 5, seq: 2, key: 7, size_bytes: 512 };
        let rec = Rec { epoch: 3, producer: 1, seq: 44, ev };
        let meta =
            Metadata { version: 4, parts: vec![PartState { leader: 2, epoch: 1, isr: 0b101 }] };
        let msgs = [
            Msg::Heartbeat { broker: 1, incarnation: 2 },
            Msg::Watch,
            Msg::Metadata(meta),
            Msg::AlterIsr { broker: 0, partition: 3, epoch: 2, isr: 0b11 },
            Msg::Fetch { partition: 1, offset: 99, epoch: 2, replica: CONSUMER },
            Msg::Fetched { partition: 1, status: FetchStatus::Ok, hw: 7, records: vec![rec, rec] },
            Msg::EpochQuery { partition: 2, last_epoch: 1, epoch: 3 },
            Msg::EpochEnd { partition: 2, status: FetchStatus::NotLeader, end_offset: 12 },
        ];
        for m in msgs {
            let mut body = Vec::new();
            m.encode(&mut body);
            assert_eq!(Msg::decode(&body), Some(m));
        }
        let mut bytes = Vec::new();
        rec.encode(&mut bytes);
        rec.encode(&mut bytes);
        assert_eq!(bytes.len(), 2 * REC_BYTES);
        assert_eq!(
            Rec::decode_all(&bytes[..REC_BYTES + 20]),
            vec![rec],
            "a torn record is dropped"
        );
    }
}
