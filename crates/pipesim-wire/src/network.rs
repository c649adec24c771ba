//! The network between hosts: delays, and the network faults, decided per message.
//!
//! turmoil's own link model draws whole-millisecond latencies from one exponential for every
//! link and can only cut links or hold them. This one plays the part of turmoil-net's rules
//! (a rule looks at a message and returns a verdict: deliver after a delay, hold, drop): every
//! link is held in turmoil from the start, and after each step the harness looks at the
//! messages sent during it and decides when each is delivered:
//!
//! - **delay**: one draw of `[model.network].delay` (scenario time), the same distribution a
//!   DES link draws from; a message is delivered at the first step boundary at or after its
//!   send time plus the delay, and never in the step it was sent in (at least one tick);
//! - **latency_spike**: the window's extra delay is added to messages sent during it;
//! - **packet_loss**: each transmission is lost with the window's probability and resent after
//!   a retransmission timeout that doubles each time (at most 15 retransmissions, each timeout
//!   at most 120 s: Linux's `tcp_retries2` and `TCP_RTO_MAX`); turmoil's TCP reassembles by
//!   sequence number, so the messages behind a late one wait for it (head-of-line blocking);
//! - **partition** with `hold = true` and **pause**: messages are held (sent during the window
//!   or still on the wire when it opens) and delivered when it closes, as TCP's retransmissions
//!   would get them through;
//! - **partition** with `hold = false`: turmoil cuts the link one way or both, so what is on
//!   the wire is lost and what is sent is dropped: a TCP stream with a lost segment hangs (the
//!   sender learns of it by its timeout), and a connection attempt is refused at once.
//!
//! A message counts as sent at the start of the step it was sent in.

use crate::clock::Clock;
use pipesim_engine::{Dist, StreamRng};
use pipesim_models::Direction;
use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;

/// Most retransmissions of one message under packet loss (Linux `tcp_retries2`).
pub const MAX_RETRANSMISSIONS: u32 = 15;
/// Longest retransmission timeout, scenario ns (Linux `TCP_RTO_MAX`).
pub const MAX_RTO_NS: u64 = 120_000_000_000;

/// What a network fault does to the messages it covers.
#[derive(Clone, Debug)]
pub(crate) enum NetEffect {
    /// Held until the window closes.
    Hold,
    /// Cut by turmoil: lost.
    Drop,
    /// An extra delay on messages sent in the window (scenario ns).
    Spike(Dist),
    /// Lost transmissions, retransmitted after doubling timeouts (first timeout, scenario ns).
    Loss { probability: f64, rto_ns: u64 },
}

/// A network fault window as it falls on the hosts.
#[derive(Clone, Debug)]
pub(crate) struct NetFault {
    pub(crate) start_wire: u64,
    pub(crate) end_wire: u64,
    /// The hosts of the fault's role (by host index).
    pub(crate) side: Vec<bool>,
    /// The role is the producers' (requests leave it) rather than a server role (requests
    /// arrive at it).
    pub(crate) client_side: bool,
    pub(crate) direction: Direction,
    pub(crate) effect: NetEffect,
}

impl NetFault {
    /// Whether a message from host `src` to host `dst` crosses the fault.
    fn covers(&self, src: usize, dst: usize) -> bool {
        if self.side[src] == self.side[dst] {
            return false;
        }
        let request = if self.client_side { self.side[src] } else { self.side[dst] };
        self.direction.covers(request)
    }

    fn active(&self, wire_ns: u64) -> bool {
        self.start_wire <= wire_ns && wire_ns < self.end_wire
    }
}

/// A message on a link, in turmoil's order, with its delivery time.
#[derive(Clone, Copy, Debug)]
struct Pending {
    src: usize,
    dst: usize,
    release_wire: u64,
}

/// The network's state.
pub(crate) struct Network {
    ips: Vec<IpAddr>,
    index_of: BTreeMap<IpAddr, usize>,
    links: BTreeMap<(IpAddr, IpAddr), VecDeque<Pending>>,
    delay: Dist,
    rng: StreamRng,
    clock: Clock,
    tick_wire: u64,
    pub(crate) faults: Vec<NetFault>,
    /// Directed host pairs cut by open `Drop` faults, with how many.
    cut: BTreeMap<(usize, usize), u32>,
    /// Messages delivered so far.
    pub(crate) delivered: u64,
}

impl Network {
    pub(crate) fn new(
        ips: Vec<IpAddr>,
        delay: Dist,
        rng: StreamRng,
        clock: Clock,
        tick_wire: u64,
        faults: Vec<NetFault>,
    ) -> Self {
        let index_of = ips.iter().enumerate().map(|(i, ip)| (*ip, i)).collect();
        Self {
            ips,
            index_of,
            links: BTreeMap::new(),
            delay,
            rng,
            clock,
            tick_wire,
            faults,
            cut: BTreeMap::new(),
            delivered: 0,
        }
    }

    /// Holds every link, so no message moves unless this network delivers it.
    pub(crate) fn hold_all(&self, sim: &mut turmoil::Sim<'_>) {
        for (i, a) in self.ips.iter().enumerate() {
            for b in &self.ips[i + 1..] {
                sim.hold(*a, *b);
            }
        }
    }

    /// Opens fault `i`: a `Drop` fault cuts its links in turmoil.
    pub(crate) fn begin(&mut self, sim: &mut turmoil::Sim<'_>, i: usize) {
        if !matches!(self.faults[i].effect, NetEffect::Drop) {
            return;
        }
        for (src, dst) in self.covered_pairs(i) {
            self.cut_pair(sim, src, dst);
        }
    }

    /// Closes fault `i`: a `Drop` fault's links heal (and are held again, as every link is).
    pub(crate) fn end(&mut self, sim: &mut turmoil::Sim<'_>, i: usize) {
        if !matches!(self.faults[i].effect, NetEffect::Drop) {
            return;
        }
        for (src, dst) in self.covered_pairs(i) {
            self.heal_pair(sim, src, dst);
        }
    }

    /// Host `host`'s process has crashed: what is sent to it is lost, and a connection attempt
    /// to it is refused at once, as a live machine's kernel answers a SYN to a closed port
    /// with a reset. (turmoil itself keeps messages to a crashed host on the link and hands
    /// them to the restarted one, so a connect would hang until the restart.) What the
    /// crashed host sent before it died (its streams' closes) still leaves it.
    pub(crate) fn crashed(&mut self, sim: &mut turmoil::Sim<'_>, host: usize) {
        for src in (0..self.ips.len()).filter(|&s| s != host) {
            self.cut_pair(sim, src, host);
        }
    }

    /// Host `host` has restarted: messages reach it again.
    pub(crate) fn restarted(&mut self, sim: &mut turmoil::Sim<'_>, host: usize) {
        for src in (0..self.ips.len()).filter(|&s| s != host) {
            self.heal_pair(sim, src, host);
        }
    }

    /// Cuts `src → dst` in turmoil (counted: cuts by several causes nest).
    fn cut_pair(&mut self, sim: &mut turmoil::Sim<'_>, src: usize, dst: usize) {
        let n = self.cut.entry((src, dst)).or_insert(0);
        *n += 1;
        if *n == 1 {
            sim.partition_oneway(self.ips[src], self.ips[dst]);
            // turmoil dropped what was on the wire that way.
            if let Some(q) = self.links.get_mut(&pair(self.ips[src], self.ips[dst])) {
                q.retain(|p| !(p.src == src && p.dst == dst));
            }
        }
    }

    /// Undoes one [`Self::cut_pair`]; the link heals when no cause is left.
    fn heal_pair(&mut self, sim: &mut turmoil::Sim<'_>, src: usize, dst: usize) {
        let n = self.cut.get_mut(&(src, dst)).expect("cut before");
        *n -= 1;
        if *n == 0 {
            self.cut.remove(&(src, dst));
            let (a, b) = (self.ips[src], self.ips[dst]);
            sim.repair_oneway(a, b);
            // `hold` holds both ways and heals neither: re-cut the other way if still cut.
            sim.hold(a, b);
            if self.cut.contains_key(&(dst, src)) {
                sim.partition_oneway(b, a);
            }
        }
    }

    fn covered_pairs(&self, i: usize) -> Vec<(usize, usize)> {
        let f = &self.faults[i];
        let n = self.ips.len();
        (0..n).flat_map(|s| (0..n).map(move |d| (s, d))).filter(|&(s, d)| f.covers(s, d)).collect()
    }

    /// The delivery time of a message sent from `src` to `dst` in the step that started at
    /// `sent_wire`.
    fn schedule(&mut self, src: usize, dst: usize, sent_wire: u64) -> u64 {
        let mut delay_ns = self.delay.sample(&mut self.rng);
        for f in self.faults.iter().filter(|f| f.active(sent_wire) && f.covers(src, dst)) {
            match &f.effect {
                NetEffect::Spike(extra) => {
                    delay_ns = delay_ns.saturating_add(extra.sample(&mut self.rng))
                }
                NetEffect::Loss { probability, rto_ns } => {
                    let mut rto = *rto_ns;
                    let mut lost = 0;
                    while lost < MAX_RETRANSMISSIONS && self.rng.open01() < *probability {
                        delay_ns = delay_ns.saturating_add(rto);
                        rto = rto.saturating_mul(2).min(MAX_RTO_NS);
                        lost += 1;
                    }
                }
                NetEffect::Hold | NetEffect::Drop => {}
            }
        }
        sent_wire.saturating_add(self.clock.to_wire_ns(delay_ns))
    }

    /// Whether an open hold covers `src → dst` at `now_wire`.
    fn held(&self, src: usize, dst: usize, now_wire: u64) -> bool {
        self.faults.iter().any(|f| {
            matches!(f.effect, NetEffect::Hold) && f.active(now_wire) && f.covers(src, dst)
        })
    }

    /// After the step that ended at `now_wire`: schedules the messages sent during it and
    /// delivers every message that is due (turmoil hands them over at the next step).
    pub(crate) fn scan(&mut self, sim: &mut turmoil::Sim<'_>, now_wire: u64) {
        let sent_wire = now_wire.saturating_sub(self.tick_wire);
        let mut due: Vec<bool> = Vec::new();
        sim.links(|links| {
            for link in links {
                let key = link.pair();
                let mut queue = self.links.remove(&key).unwrap_or_default();
                due.clear();
                for (i, msg) in link.enumerate() {
                    if i >= queue.len() {
                        let (src, dst) = msg.pair();
                        let (src, dst) = (self.index_of[&src.ip()], self.index_of[&dst.ip()]);
                        let release_wire = self.schedule(src, dst, sent_wire);
                        queue.push_back(Pending { src, dst, release_wire });
                    }
                    let p = queue[i];
                    let ready = p.release_wire <= now_wire && !self.held(p.src, p.dst, now_wire);
                    due.push(ready);
                    if ready {
                        msg.deliver();
                    }
                }
                let mut i = 0;
                queue.retain(|_| {
                    let keep = !due.get(i).copied().unwrap_or(false);
                    i += 1;
                    keep
                });
                self.delivered += due.iter().filter(|d| **d).count() as u64;
                if !queue.is_empty() {
                    self.links.insert(key, queue);
                }
            }
        });
    }
}

/// turmoil's key for the link between two hosts: the smaller address first.
fn pair(a: IpAddr, b: IpAddr) -> (IpAddr, IpAddr) {
    if a < b { (a, b) } else { (b, a) }
}
