//! Producer clients shared by designs that write over request/response connections: one
//! connection per producer instance each way, a timeout per request, retries with backoff, and
//! giving up after the retry budget.

use crate::ctx::Ctx;
use pipesim_components::{FleetParams, Link, LinkSpec, RetryParams, Ticket, TicketDeadlines};
use pipesim_engine::{RngStreams, SimTime, StreamRng};
use pipesim_metrics::ReasonId;
use pipesim_workload::EventMeta;

/// One attempt to write one event.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// The event.
    pub ev: EventMeta,
    /// 0 for the first try.
    pub attempt: u32,
    /// The producer instance (its connections).
    pub instance: u32,
    /// When this attempt was sent: its deadline is `sent_ns + timeout`.
    pub sent_ns: SimTime,
    /// The attempt's timeout, to disarm it when the answer comes.
    pub ticket: Ticket,
}

/// What a client does with an answer or a timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientStep {
    /// Acknowledged: the producer has its answer.
    Acked,
    /// A retry is scheduled.
    Retrying,
    /// The budget is spent: the event was dropped.
    GaveUp,
    /// A late answer for an attempt the client had already given up on: ignored.
    Stale,
}

/// Counters for details tables.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientStats {
    /// Attempts retried.
    pub retries: u64,
    /// Attempts that timed out.
    pub timeouts: u64,
}

/// The producers of a design.
pub struct Clients {
    /// The producer instances.
    pub fleet: FleetParams,
    /// Their retry policy.
    pub retry: RetryParams,
    up: Vec<Link>,
    down: Vec<Link>,
    /// Attempts waiting for an answer, by deadline, with the request to retry on a timeout.
    waiting: TicketDeadlines<Request>,
    expired: Vec<Request>,
    rng: StreamRng,
    /// The instance drawn for the next new event under random affinity, drawn early so that a
    /// model can prefetch that instance's state ([`Clients::next_instance`]). Draws stay in
    /// arrival order, so drawing early changes nothing.
    drawn: Option<u32>,
    gave_up: ReasonId,
    /// Counters.
    pub stats: ClientStats,
}

impl Clients {
    /// The fault role of the producers' connections (requests up, answers down).
    pub const ROLE: &'static str = "network";

    /// Producers with connections drawn from `link`, streams under `network/...`; the network
    /// faults of [`Clients::ROLE`] in `faults` act on the connections (requests on the links
    /// up, answers on the links down).
    pub fn new(
        fleet: &FleetParams,
        retry: &RetryParams,
        link: &LinkSpec,
        streams: &RngStreams,
        faults: &[crate::fault::FaultSpec],
    ) -> Self {
        let links = |dir: &str, requests: bool| -> Vec<Link> {
            let faults = crate::fault::link_faults(faults, Self::ROLE, requests);
            (0..fleet.instances)
                .map(|i| {
                    let mut l = Link::new(link, streams.stream(&format!("network/{dir}/{i}")));
                    l.set_faults(std::sync::Arc::clone(&faults));
                    l
                })
                .collect()
        };
        Self {
            fleet: fleet.clone(),
            retry: retry.clone(),
            up: links("up", true),
            down: links("down", false),
            waiting: TicketDeadlines::new(),
            expired: Vec::new(),
            rng: streams.stream("producers"),
            drawn: None,
            gave_up: ReasonId::UNSET,
            stats: ClientStats::default(),
        }
    }

    /// The fault kinds the producers' connections take on `role`: the network kinds on
    /// [`Clients::ROLE`], crashes elsewhere (for designs whose other roles only crash).
    pub fn fault_kinds(role: &str) -> &'static [&'static str] {
        if role == Self::ROLE { &crate::fault::NETWORK_FAULT_KINDS } else { &["crash"] }
    }

    /// Registers the drop reason; call from the model's `init`.
    pub fn init<E>(&mut self, ctx: &mut Ctx<E>) {
        self.gave_up = ctx
            .rec
            .register_reason(format!("producer gave up after {} retries", self.retry.retries));
    }

    /// The first attempt for a new event.
    #[inline]
    pub fn first(&mut self, ev: EventMeta, now: SimTime) -> Request {
        let instance = self.next_instance(ev.key);
        self.drawn = None;
        Request { ev, attempt: 0, instance, sent_ns: now, ticket: Ticket(u64::MAX) }
    }

    /// The instance the next new event, of `key`, will leave from.
    #[inline]
    pub fn next_instance(&mut self, key: u32) -> u32 {
        if let Some(i) = self.drawn {
            return i;
        }
        let i = self.fleet.instance_of(key, &mut self.rng);
        if self.fleet.affinity == Some(pipesim_components::Affinity::Random) {
            self.drawn = Some(i);
        }
        i
    }

    /// Sends `req` to the server: `arrive(req)` fires at the far end unless the message is
    /// lost; the request's timeout is armed either way (`check` is the model's timeout event).
    #[inline]
    pub fn send<E>(
        &mut self,
        ctx: &mut Ctx<E>,
        req: Request,
        arrive: impl Fn(Request) -> E,
        check: E,
    ) {
        let mut req = req;
        req.ticket =
            self.waiting.arm(&mut ctx.sim, req.sent_ns + self.retry.timeout.ns, req, check);
        self.up[req.instance as usize].send(&mut ctx.sim, arrive(req));
    }

    /// The server answers `req`: `answered(req, ok)` fires at the client unless lost.
    #[inline]
    pub fn answer<E>(
        &mut self,
        ctx: &mut Ctx<E>,
        req: Request,
        ok: bool,
        answered: impl Fn(Request, bool) -> E,
    ) {
        self.down[req.instance as usize].send(&mut ctx.sim, answered(req, ok));
    }

    /// An answer reached the client: acknowledges, retries or gives up. `retry(req)` is the
    /// model's event that re-sends after the backoff.
    #[inline]
    pub fn on_answer<E>(
        &mut self,
        ctx: &mut Ctx<E>,
        req: Request,
        ok: bool,
        retry: impl Fn(Request) -> E,
    ) -> ClientStep {
        if !self.waiting.disarm(req.ticket, req.sent_ns + self.retry.timeout.ns) {
            return ClientStep::Stale;
        }
        if ok {
            ctx.rec.acked(&req.ev, ctx.now());
            ClientStep::Acked
        } else {
            self.retry_or_give_up(ctx, req, retry)
        }
    }

    /// The earliest timeout is due: every expired attempt is retried or given up on.
    pub fn on_timeout_check<E: Copy>(
        &mut self,
        ctx: &mut Ctx<E>,
        check: E,
        retry: impl Fn(Request) -> E,
    ) {
        let mut expired = std::mem::take(&mut self.expired);
        self.waiting.expire(&mut ctx.sim, check, &mut expired);
        for req in expired.drain(..) {
            self.stats.timeouts += 1;
            self.retry_or_give_up(ctx, req, &retry);
        }
        self.expired = expired;
    }

    fn retry_or_give_up<E>(
        &mut self,
        ctx: &mut Ctx<E>,
        req: Request,
        retry: impl Fn(Request) -> E,
    ) -> ClientStep {
        if req.attempt < self.retry.retries {
            self.stats.retries += 1;
            let wait = self.retry.backoff_ns(req.attempt + 1);
            let next = Request { attempt: req.attempt + 1, sent_ns: ctx.now() + wait, ..req };
            ctx.schedule_in(wait, retry(next));
            ClientStep::Retrying
        } else {
            ctx.rec.dropped(&req.ev, ctx.now(), self.gave_up);
            ClientStep::GaveUp
        }
    }
}
