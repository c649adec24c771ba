//! Connections as the log's hosts use them: a writer task per long-lived connection, a
//! request-answer exchange on a dedicated one, and connecting with a retry.

use super::proto::Msg;
use crate::{Clock, read_frame, write_frame};
use pipesim_engine::{NS_PER_MS, SimTime};
use std::io;
use tokio::sync::mpsc;
use turmoil::net::TcpStream;
use turmoil::net::tcp::OwnedWriteHalf;

/// The wait before connecting again after a refused or broken connection (Kafka's
/// `reconnect.backoff.ms` and `retry.backoff.ms` are 50 and 100 ms).
pub(crate) const RECONNECT_NS: SimTime = 100 * NS_PER_MS;

/// Frames to write on one connection, in order. Unbounded: each holder sends at most what its
/// peer asked for (one answer a request, one metadata update a change).
pub(crate) type Outbox = mpsc::UnboundedSender<Vec<u8>>;

/// Writes what is sent to the returned outbox on `w`, in order, until the connection breaks
/// or every sender is dropped.
pub(crate) fn writer(mut w: OwnedWriteHalf) -> Outbox {
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    crate::spawn(async move {
        while let Some(body) = rx.recv().await {
            if write_frame(&mut w, &body).await.is_err() {
                break;
            }
        }
    });
    tx
}

/// Queues `msg` on `out` (a closed connection drops it: its peer will ask again).
pub(crate) fn post(out: &Outbox, msg: &Msg) {
    let mut body = Vec::with_capacity(64);
    msg.encode(&mut body);
    let _ = out.send(body);
}

/// Connects to `addr`, trying again every [`RECONNECT_NS`] while `wanted()` holds.
pub(crate) async fn connect(
    addr: &str,
    clock: &Clock,
    wanted: impl Fn() -> bool,
) -> Option<TcpStream> {
    while wanted() {
        match TcpStream::connect(addr).await {
            Ok(s) => return Some(s),
            Err(_) => clock.sleep(RECONNECT_NS).await,
        }
    }
    None
}

/// Sends `msg` on a dedicated connection and reads the answer (`None`: the connection ended or
/// the answer is not one of the log's messages).
pub(crate) async fn call(
    s: &mut TcpStream,
    msg: &Msg,
    buf: &mut Vec<u8>,
) -> io::Result<Option<Msg>> {
    let mut body = Vec::with_capacity(64);
    msg.encode(&mut body);
    write_frame(s, &body).await?;
    Ok(if read_frame(s, buf).await? { Msg::decode(buf) } else { None })
}

/// A disk error in the log's own files is a bug in this design (turmoil's file system only
/// fails on misuse): stop the host, naming it.
pub(crate) fn fatal(what: &str, e: io::Error) -> ! {
    panic!("{what}: {e}")
}
