//! Framed messages over a byte stream, and the harness producer's protocol.
//!
//! A frame is a little-endian `u32` length and that many bytes, at most [`MAX_FRAME_BYTES`].
//! Services use [`read_frame`] and [`write_frame`] for their own messages too (replication,
//! fetches); [`encode_event`] and [`decode_event`] put an event's identity in 32 bytes.
//!
//! The producer's protocol: a [`Request`] per attempt to write an event, answered by one
//! [`Response`] with the same `request_id`, in any order (a connection is multiplexed).

use pipesim_workload::EventMeta;
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest frame either side accepts; a longer length prefix is a protocol error (a
/// corrupted or hostile stream must not make a service allocate without bound).
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// Bytes of [`encode_event`]'s output.
pub const EVENT_BYTES: usize = 32;

/// Reads one frame into `buf` (replacing its contents). `Ok(false)` at a clean end of stream.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes is over the {MAX_FRAME_BYTES}-byte limit"),
        ));
    }
    buf.clear();
    buf.resize(len, 0);
    r.read_exact(buf).await?;
    Ok(true)
}

/// Writes `body` as one frame (one write, so one TCP segment on turmoil's network).
pub async fn write_frame<W: AsyncWrite + Unpin>(w: &mut W, body: &[u8]) -> io::Result<()> {
    let mut out = Vec::with_capacity(4 + body.len());
    frame_into(&mut out, body);
    w.write_all(&out).await
}

/// Appends `body` as one frame to `out` (to batch several frames in one write).
pub fn frame_into(out: &mut Vec<u8>, body: &[u8]) {
    debug_assert!(body.len() <= MAX_FRAME_BYTES);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
}

/// Appends the 32 bytes of `ev` to `out`.
pub fn encode_event(ev: &EventMeta, out: &mut Vec<u8>) {
    out.extend_from_slice(&ev.id.to_le_bytes());
    out.extend_from_slice(&ev.created_ns.to_le_bytes());
    out.extend_from_slice(&ev.seq.to_le_bytes());
    out.extend_from_slice(&ev.key.to_le_bytes());
    out.extend_from_slice(&ev.size_bytes.to_le_bytes());
}

/// The event at the start of `bytes`, if there are at least [`EVENT_BYTES`].
pub fn decode_event(bytes: &[u8]) -> Option<EventMeta> {
    let b = bytes.get(..EVENT_BYTES)?;
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    Some(EventMeta {
        id: u64_at(0),
        created_ns: u64_at(8),
        seq: u64_at(16),
        key: u32_at(24),
        size_bytes: u32_at(28),
    })
}

/// A little-endian reader over a frame body, for services decoding their own messages.
pub struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.bytes.get(..n)?, self.bytes.get(n..)?);
        self.bytes = rest;
        Some(head)
    }

    /// The next byte.
    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    /// The next `u16`.
    pub fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes(b.try_into().expect("2 bytes")))
    }

    /// The next `u32`.
    pub fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }

    /// The next `u64`.
    pub fn u64(&mut self) -> Option<u64> {
        self.take(8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    /// The next event ([`encode_event`]).
    pub fn event(&mut self) -> Option<EventMeta> {
        self.take(EVENT_BYTES).and_then(decode_event)
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        self.take(n)
    }

    /// What is left.
    pub fn rest(&self) -> &'a [u8] {
        self.bytes
    }
}

const REQUEST: u8 = 1;
const RESPONSE: u8 = 2;

/// One attempt to write one event, from the harness producer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Unique on its connection; the response carries it back.
    pub request_id: u64,
    /// The event, as the workload created it.
    pub ev: EventMeta,
    /// 0 for the first attempt.
    pub attempt: u32,
    /// The value the producer sends for the event (a Lua guard's `ARGV[1]`): its per-key
    /// sequence number.
    pub value: u64,
    /// The producer instance sending it (`0..producers.instances`), fixed for the run.
    pub producer: u32,
    /// The event's number among those this instance sent to this destination (0, 1, 2, … in
    /// the order first sent), the same on every retry. With `producer`, what an idempotent
    /// service needs to append a retried write once (Kafka's producer id and sequence number).
    pub seq: u64,
}

impl Request {
    /// The frame body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(REQUEST);
        out.extend_from_slice(&self.request_id.to_le_bytes());
        encode_event(&self.ev, out);
        out.extend_from_slice(&self.attempt.to_le_bytes());
        out.extend_from_slice(&self.value.to_le_bytes());
        out.extend_from_slice(&self.producer.to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
    }

    /// A request from a frame body; `None` if it is not one.
    pub fn decode(body: &[u8]) -> Option<Self> {
        let mut c = Cursor::new(body);
        (c.u8()? == REQUEST).then_some(())?;
        let request_id = c.u64()?;
        let ev = c.event()?;
        let attempt = c.u32()?;
        let value = c.u64()?;
        let producer = c.u32()?;
        let seq = c.u64()?;
        Some(Self { request_id, ev, attempt, value, producer, seq })
    }
}

/// What a service answers a [`Request`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Accepted (written, or discarded on purpose by the service, which then reported the
    /// drop itself): the producer records the acknowledgement.
    Ok,
    /// Refused for good (load shedding, a poison event): the producer drops the event with
    /// this reason and does not retry.
    Rejected(String),
    /// Not here or not now (a replica, a node that lost leadership, an overloaded server): the
    /// producer tries the next address of its destination after its backoff.
    Retry,
    /// This attempt failed and nothing of it stands (a transaction aborted by a crash, a
    /// server behind a proxy unreachable): the producer sends the event again after its
    /// backoff, on the same connection, as one more retry (the DES clients' answer `ok =
    /// false`). Other requests on the connection are not affected.
    Failed,
}

/// The answer to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The request's id.
    pub request_id: u64,
    /// The outcome.
    pub status: Status,
}

impl Response {
    /// The frame body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(RESPONSE);
        out.extend_from_slice(&self.request_id.to_le_bytes());
        match &self.status {
            Status::Ok => out.push(0),
            Status::Retry => out.push(2),
            Status::Failed => out.push(3),
            Status::Rejected(reason) => {
                out.push(1);
                let reason = &reason.as_bytes()[..reason.len().min(256)];
                out.extend_from_slice(&(reason.len() as u16).to_le_bytes());
                out.extend_from_slice(reason);
            }
        }
    }

    /// A response from a frame body; `None` if it is not one.
    pub fn decode(body: &[u8]) -> Option<Self> {
        let mut c = Cursor::new(body);
        (c.u8()? == RESPONSE).then_some(())?;
        let request_id = c.u64()?;
        let status = match c.u8()? {
            0 => Status::Ok,
            2 => Status::Retry,
            3 => Status::Failed,
            1 => {
                let n = c.u16()?;
                Status::Rejected(String::from_utf8_lossy(c.bytes(usize::from(n))?).into_owned())
            }
            _ => return None,
        };
        Some(Self { request_id, status })
    }

    /// Writes this response as one frame.
    pub async fn write_to<W: AsyncWrite + Unpin>(&self, w: &mut W) -> io::Result<()> {
        let mut body = Vec::with_capacity(16);
        self.encode(&mut body);
        write_frame(w, &body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses_round_trip() {
        let ev = EventMeta { id: 7, created_ns: 123, seq: 4, key: 9, size_bytes: 512 };
        let req = Request { request_id: 3, ev, attempt: 1, value: 4, producer: 2, seq: 17 };
        let mut body = Vec::new();
        req.encode(&mut body);
        assert_eq!(Request::decode(&body), Some(req));
        assert_eq!(Response::decode(&body), None, "a request is not a response");
        for status in [Status::Ok, Status::Retry, Status::Failed, Status::Rejected("full".into())] {
            let r = Response { request_id: 11, status };
            let mut body = Vec::new();
            r.encode(&mut body);
            assert_eq!(Response::decode(&body), Some(r));
        }
        assert_eq!(Request::decode(&body[..10]), None, "a short body is refused");
    }
}
