//! The harness's pipelined producer: one multiplexed connection per (instance, destination).
//!
//! Each connection task sends the events routed to it open-loop, at their creation times, as
//! [`Request`] frames without waiting for answers, and matches [`Response`]s by request id.
//! The same retry parameters as the DES clients (`[model.client]`) govern it:
//!
//! - **timeout**: when the oldest unanswered request has waited `timeout`, the connection is
//!   presumed dead (a TCP stream on turmoil hangs forever on a lost segment): it is closed and
//!   every unanswered request is sent again, as a retry, on a new connection;
//! - **backoff**: a new connection after a failure waits `backoff · 2^(failures−1)`, at most
//!   `backoff_max`, where `failures` counts the connections since the last one that had an
//!   event acknowledged; a refused or broken connection, or an answer of [`Status::Retry`], moves
//!   the connection to the destination's next address;
//! - **retries**: an event sent `1 + retries` times without an answer is dropped ("producer
//!   gave up after N retries");
//! - **failed requests**: an answer of [`Status::Failed`] sends that one event again after
//!   `backoff · 2^(attempt)` on the same connection, as the DES clients do with an error
//!   answer; it counts against the same retry budget.
//!
//! Every request carries the instance ([`Request::producer`]) and the event's sequence number
//! on this connection task ([`Request::seq`]: 0, 1, 2, … in first-send order, kept by every
//! retry), so an idempotent service can tell a retry of a write it has from a new one.
//!
//! An event created while its connection is down waits in the task's inbox and is sent when
//! it is up again; its latency counts from its creation, so an outage cannot hide.

use crate::clock::Clock;
use crate::frame::{Request, Response, Status, frame_into, read_frame};
use crate::probe::Probe;
use pipesim_components::RetryParams;
use pipesim_engine::SimTime;
use pipesim_workload::EventMeta;
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Notify, mpsc};
use turmoil::net::TcpStream;
use turmoil::net::tcp::OwnedReadHalf;

/// The events waiting to be sent on one connection, filled by the harness between steps.
#[derive(Default)]
pub(crate) struct Inbox {
    events: RefCell<VecDeque<EventMeta>>,
    notify: Notify,
}

impl Inbox {
    pub(crate) fn push(&self, ev: EventMeta) {
        self.events.borrow_mut().push_back(ev);
        self.notify.notify_one();
    }

    /// The next event, once its creation time has come. Cancel-safe: the event leaves the
    /// inbox only when this returns.
    async fn next_due(&self, clock: &Clock) -> EventMeta {
        loop {
            let front = self.events.borrow().front().copied();
            match front {
                None => self.notify.notified().await,
                Some(ev) => {
                    clock.sleep_until(ev.created_ns).await;
                    let popped = self.events.borrow_mut().pop_front();
                    return popped.expect("only this task pops");
                }
            }
        }
    }
}

/// One connection's fixed settings.
pub(crate) struct ConnSpec {
    /// The producer instance (sent as [`Request::producer`]).
    pub(crate) producer: u32,
    /// The destination's addresses, tried in turn.
    pub(crate) addresses: Vec<String>,
    pub(crate) retry: RetryParams,
    pub(crate) gave_up: String,
    pub(crate) stats: Rc<RefCell<ProducerStats>>,
}

/// What the producers' connections went through, for the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProducerStats {
    /// Connections established.
    pub connections: u64,
    /// Connection attempts refused (a partition, a crashed host).
    pub refused: u64,
    /// Connections that broke (closed by the server, reset).
    pub broken: u64,
    /// Connections given up because the oldest request waited `client.timeout`.
    pub timeouts: u64,
    /// Connections moved to the next address on a `Retry` answer.
    pub moved: u64,
    /// Requests sent again.
    pub retries: u64,
    /// Events given up after the retry budget.
    pub gave_up: u64,
}

/// A request sent and not answered yet.
#[derive(Clone, Copy)]
struct Unanswered {
    ev: EventMeta,
    attempt: u32,
    seq: u64,
    sent_ns: SimTime,
}

/// Failed requests waiting for their backoff, by (due time, order of failure).
#[derive(Default)]
struct Delayed {
    waiting: BTreeMap<(SimTime, u64), (EventMeta, u32, u64)>,
    failures: u64,
}

impl Delayed {
    fn push(&mut self, due_ns: SimTime, ev: EventMeta, attempt: u32, seq: u64) {
        self.waiting.insert((due_ns, self.failures), (ev, attempt, seq));
        self.failures += 1;
    }

    fn next_due(&self) -> Option<SimTime> {
        self.waiting.keys().next().map(|(due, _)| *due)
    }

    /// The next request due by `now_ns`, oldest first.
    fn pop_due(&mut self, now_ns: SimTime) -> Option<(EventMeta, u32, u64)> {
        let entry = self.waiting.first_entry().filter(|e| e.key().0 <= now_ns)?;
        Some(entry.remove())
    }
}

/// Why a connection ended.
enum Ended {
    Closed,
    TimedOut,
    MovedOn,
}

/// The task of one (instance, destination) connection; runs until its host is stopped.
pub(crate) async fn run_connection(
    spec: Rc<ConnSpec>,
    inbox: Rc<Inbox>,
    probe: Probe,
    clock: Clock,
) -> turmoil::Result {
    let mut address = 0usize;
    let mut failures = 0u32;
    let (mut next_request, mut next_seq) = (0u64, 0u64);
    // Unsent retries (event, attempt, seq), in their original order; then unanswered, by
    // request id (send order).
    let mut retry_queue: VecDeque<(EventMeta, u32, u64)> = VecDeque::new();
    let mut unanswered: BTreeMap<u64, Unanswered> = BTreeMap::new();
    // Failed requests waiting out their backoff: (due, order) → (event, attempt, seq).
    let mut delayed = Delayed::default();
    loop {
        if failures > 0 {
            clock.sleep(spec.retry.backoff_ns(failures)).await;
        }
        let addr = &spec.addresses[address % spec.addresses.len()];
        // A connect to a crashed process is refused at once (network.rs); one that is never
        // answered (a hold, a cut link) times out like a request.
        let connect = TcpStream::connect(addr.as_str());
        let stream = match tokio::time::timeout(clock.wire(spec.retry.timeout.ns), connect).await {
            Ok(Ok(s)) => s,
            Ok(Err(_)) | Err(_) => {
                spec.stats.borrow_mut().refused += 1;
                failures = failures.saturating_add(1);
                address += 1;
                continue;
            }
        };
        spec.stats.borrow_mut().connections += 1;
        let (reader, mut writer) = stream.into_split();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let reading = tokio::task::spawn_local(read_responses(reader, tx));
        let mut conn = Conn {
            spec: &spec,
            probe: &probe,
            clock: &clock,
            unanswered: &mut unanswered,
            delayed: &mut delayed,
            next_request: &mut next_request,
            next_seq: &mut next_seq,
            out: Vec::new(),
            answered_ok: false,
        };
        // Everything this connection inherits goes first, in order.
        while let Some((ev, attempt, seq)) = retry_queue.pop_front() {
            conn.queue(ev, attempt, seq);
        }
        let ended = conn.serve(&mut writer, &mut rx, &inbox).await;
        // A connection that served is a success: the backoff starts over.
        if conn.answered_ok {
            failures = 0;
        }
        reading.abort();
        drop(writer);
        {
            let mut st = spec.stats.borrow_mut();
            match ended {
                Ended::Closed => st.broken += 1,
                Ended::TimedOut => st.timeouts += 1,
                Ended::MovedOn => st.moved += 1,
            }
        }
        failures = failures.saturating_add(1);
        address += 1;
        // What was sent and not answered is sent again, as a retry, or given up.
        for u in std::mem::take(&mut unanswered).into_values() {
            let attempt = u.attempt + 1;
            if attempt > spec.retry.retries {
                spec.stats.borrow_mut().gave_up += 1;
                probe.dropped(&u.ev, &spec.gave_up);
            } else {
                spec.stats.borrow_mut().retries += 1;
                retry_queue.push_back((u.ev, attempt, u.seq));
            }
        }
    }
}

/// One live connection.
struct Conn<'a> {
    spec: &'a ConnSpec,
    probe: &'a Probe,
    clock: &'a Clock,
    unanswered: &'a mut BTreeMap<u64, Unanswered>,
    delayed: &'a mut Delayed,
    next_request: &'a mut u64,
    next_seq: &'a mut u64,
    out: Vec<u8>,
    /// Whether an event was acknowledged on this connection.
    answered_ok: bool,
}

impl Conn<'_> {
    /// Frames one attempt into the output buffer and records it as unanswered.
    fn queue(&mut self, ev: EventMeta, attempt: u32, seq: u64) {
        let request_id = *self.next_request;
        *self.next_request += 1;
        let mut body = Vec::with_capacity(64);
        let producer = self.spec.producer;
        Request { request_id, ev, attempt, value: ev.seq, producer, seq }.encode(&mut body);
        frame_into(&mut self.out, &body);
        let sent_ns = self.clock.now_ns();
        self.unanswered.insert(request_id, Unanswered { ev, attempt, seq, sent_ns });
    }

    async fn flush(&mut self, writer: &mut turmoil::net::tcp::OwnedWriteHalf) -> bool {
        if self.out.is_empty() {
            return true;
        }
        let ok = writer.write_all(&self.out).await.is_ok();
        self.out.clear();
        ok
    }

    /// Sends and receives until the connection ends.
    async fn serve(
        &mut self,
        writer: &mut turmoil::net::tcp::OwnedWriteHalf,
        rx: &mut mpsc::UnboundedReceiver<Response>,
        inbox: &Inbox,
    ) -> Ended {
        if !self.flush(writer).await {
            return Ended::Closed;
        }
        loop {
            let deadline = self
                .unanswered
                .values()
                .next()
                .map(|u| u.sent_ns.saturating_add(self.spec.retry.timeout.ns));
            let timeout_at = self.clock.instant_at(deadline.unwrap_or(u64::MAX / 4));
            let resend = self.delayed.next_due();
            let resend_at = self.clock.instant_at(resend.unwrap_or(u64::MAX / 4));
            tokio::select! {
                biased;
                answer = rx.recv() => {
                    let Some(answer) = answer else { return Ended::Closed };
                    if self.answered(answer) {
                        return Ended::MovedOn;
                    }
                }
                () = tokio::time::sleep_until(timeout_at), if deadline.is_some() => {
                    return Ended::TimedOut;
                }
                () = tokio::time::sleep_until(resend_at), if resend.is_some() => {
                    let now = self.clock.now_ns();
                    while let Some((ev, attempt, seq)) = self.delayed.pop_due(now) {
                        self.queue(ev, attempt, seq);
                    }
                    if !self.flush(writer).await {
                        return Ended::Closed;
                    }
                }
                ev = inbox.next_due(self.clock) => {
                    let seq = *self.next_seq;
                    *self.next_seq += 1;
                    self.queue(ev, 0, seq);
                    if !self.flush(writer).await {
                        return Ended::Closed;
                    }
                }
            }
        }
    }

    /// Handles an answer; true if the connection should move to the next address.
    fn answered(&mut self, answer: Response) -> bool {
        let Some(u) = self.unanswered.get(&answer.request_id).copied() else {
            return false; // an answer to nothing this connection sent: ignored
        };
        match answer.status {
            Status::Ok => {
                self.unanswered.remove(&answer.request_id);
                self.probe.acked(&u.ev);
                self.answered_ok = true;
                false
            }
            Status::Rejected(reason) => {
                self.unanswered.remove(&answer.request_id);
                self.probe.dropped(&u.ev, &reason);
                false
            }
            Status::Retry => true,
            Status::Failed => {
                self.unanswered.remove(&answer.request_id);
                let attempt = u.attempt + 1;
                if attempt > self.spec.retry.retries {
                    self.spec.stats.borrow_mut().gave_up += 1;
                    self.probe.dropped(&u.ev, &self.spec.gave_up);
                } else {
                    self.spec.stats.borrow_mut().retries += 1;
                    let due =
                        self.clock.now_ns().saturating_add(self.spec.retry.backoff_ns(attempt));
                    self.delayed.push(due, u.ev, attempt, u.seq);
                }
                false
            }
        }
    }
}

async fn read_responses(mut reader: OwnedReadHalf, tx: mpsc::UnboundedSender<Response>) {
    let mut buf = Vec::new();
    while let Ok(true) = read_frame(&mut reader, &mut buf).await {
        let Some(r) = Response::decode(&buf) else { break };
        if tx.send(r).is_err() {
            break;
        }
    }
}
