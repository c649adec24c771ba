//! The arrival generator.

use crate::event::EventMeta;
use crate::keys::KeyChooser;
use crate::profile::RateProfile;
use crate::spec::{Process, WorkloadSpec};
use crate::trace::{TraceArrivals, TraceError};
use pipesim_engine::{Dist, RngStreams, SimTime, StreamRng, u64_of};

/// Yields a scenario's events in creation order. Deterministic in (spec, seed).
///
/// Random streams: `workload/arrivals` for gaps, `workload/keys` for keys, `workload/bursts`
/// for on/off periods, so changing the key popularity does not move any arrival time.
///
/// With a trace ([`WorkloadSpec::trace`]) the events' times, keys and sizes come from the file,
/// read one line at a time, and no random number is drawn; ids and per-key sequence numbers are
/// handed out as for generated events. A trace the run cannot read as the load-time scan did
/// ends the arrivals early, and [`ArrivalGen::failure`] says why.
pub struct ArrivalGen {
    trace: Option<TraceArrivals>,
    profile: RateProfile,
    /// The rate per ns when it is one rate for the whole run and no on/off gate applies.
    single_rate: Option<f64>,
    constant: bool,
    gate: Option<Gate>,
    keys: KeyChooser,
    gap_rng: StreamRng,
    key_rng: StreamRng,
    /// Current time in ns as a float, so that gaps shorter than a nanosecond accumulate exactly.
    t: f64,
    end: f64,
    next_id: u64,
    payload_bytes: u32,
}

/// The on/off state of a bursty process.
struct Gate {
    on: bool,
    until: f64,
    on_dist: Dist,
    off_dist: Dist,
    rng: StreamRng,
}

impl Gate {
    fn toggle(&mut self) {
        self.on = !self.on;
        let d = if self.on { &self.on_dist } else { &self.off_dist };
        // A zero-length period would not move time; one nanosecond keeps the loop progressing.
        self.until += d.sample(&mut self.rng).max(1) as f64;
    }
}

impl ArrivalGen {
    /// A generator for `spec` under `streams`.
    pub fn new(spec: &WorkloadSpec, streams: &RngStreams) -> Self {
        let gate = match &spec.process {
            Process::Bursty { on, off } => {
                let mut rng = streams.stream("workload/bursts");
                let first_on = on.sample(&mut rng).max(1) as f64;
                Some(Gate {
                    on: true,
                    until: first_on,
                    on_dist: on.clone(),
                    off_dist: off.clone(),
                    rng,
                })
            }
            _ => None,
        };
        let trace = spec
            .trace
            .as_ref()
            .map(|t| TraceArrivals::new(t, spec.keys.count, spec.payload_bytes, spec.duration_ns));
        let profile = RateProfile::new(spec);
        Self {
            trace,
            single_rate: profile.single_rate().filter(|_| gate.is_none()),
            profile,
            constant: matches!(spec.process, Process::Constant),
            gate,
            keys: KeyChooser::new(&spec.keys),
            gap_rng: streams.stream("workload/arrivals"),
            key_rng: streams.stream("workload/keys"),
            t: 0.0,
            end: spec.duration_ns as f64,
            next_id: 0,
            payload_bytes: spec.payload_bytes,
        }
    }

    /// The time of the next arrival, or `None` once arrivals have stopped.
    #[inline(always)]
    fn next_time(&mut self) -> Option<SimTime> {
        let need = if self.constant { 1.0 } else { self.gap_rng.exp1() };
        if let Some(rate) = self.single_rate {
            // One rate for the whole run (no phases, no on/off): the same arithmetic as
            // `RateProfile::advance` on its single piece, without the piece search.
            if need > rate * (self.end - self.t) {
                self.t = self.end;
                return None;
            }
            let t = self.t + need / rate;
            // `f64::min` without its NaN handling: neither operand can be NaN.
            let t = if t > self.end { self.end } else { t };
            self.t = t;
            return (t < self.end).then_some(u64_of(t));
        }
        self.next_time_by_profile(need)
    }

    /// [`Self::next_time`] through the rate profile's pieces and the on/off gate, `need` being
    /// the next gap's unit-rate exponential draw.
    #[inline(never)]
    fn next_time_by_profile(&mut self, mut need: f64) -> Option<SimTime> {
        loop {
            let limit = match &mut self.gate {
                None => self.end,
                Some(g) if !g.on => {
                    self.t = g.until;
                    g.toggle();
                    if self.t >= self.end {
                        return None;
                    }
                    continue;
                }
                Some(g) => g.until.min(self.end),
            };
            match self.profile.advance(self.t, need, limit) {
                Ok(t) => {
                    self.t = t;
                    return (t < self.end).then_some(u64_of(t));
                }
                Err(left) => {
                    self.t = limit;
                    need = left;
                    match &mut self.gate {
                        Some(g) if limit < self.end => g.toggle(),
                        _ => return None,
                    }
                }
            }
        }
    }

    /// The next event, or `None` after the last arrival before the duration. Inlined into the
    /// run loop, so the event stays in registers instead of passing through memory.
    #[inline(always)]
    pub fn next_event(&mut self) -> Option<EventMeta> {
        if self.trace.is_some() {
            return self.next_trace_event();
        }
        let created_ns = self.next_time()?;
        let (key, seq) = self.keys.next(&mut self.key_rng);
        let id = self.next_id;
        self.next_id += 1;
        Some(EventMeta { id, created_ns, seq, key, size_bytes: self.payload_bytes })
    }

    /// The next event of a trace.
    #[inline(never)]
    fn next_trace_event(&mut self) -> Option<EventMeta> {
        let rec = self.trace.as_mut()?.next()?;
        let seq = self.keys.number(rec.key);
        let id = self.next_id;
        self.next_id += 1;
        Some(EventMeta {
            id,
            created_ns: rec.time_ns,
            seq,
            key: rec.key,
            size_bytes: rec.size_bytes,
        })
    }

    /// Why a trace's arrivals ended before the load-time scan said they would (the file changed
    /// or vanished meanwhile): a run that sees one has incomplete results and must fail.
    pub fn failure(&self) -> Option<&TraceError> {
        self.trace.as_ref().and_then(TraceArrivals::failure)
    }

    /// How many events have been created so far.
    pub fn created(&self) -> u64 {
        self.next_id
    }
}

impl Iterator for ArrivalGen {
    type Item = EventMeta;
    fn next(&mut self) -> Option<EventMeta> {
        self.next_event()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Keys, Phase, Popularity};
    use pipesim_engine::NS_PER_S;

    fn spec(process: Process, rate: f64, secs: u64) -> WorkloadSpec {
        WorkloadSpec {
            process,
            rate_per_s: rate,
            phases: vec![],
            keys: Keys { count: 100, popularity: Popularity::Uniform },
            payload_bytes: 512,
            duration_ns: secs * NS_PER_S,
            trace: None,
        }
    }

    fn count(spec: &WorkloadSpec, seed: u64) -> u64 {
        ArrivalGen::new(spec, &RngStreams::new(seed)).count() as u64
    }

    #[test]
    fn poisson_count_matches_rate() {
        let s = spec(Process::Poisson, 100_000.0, 10);
        let n = count(&s, 1) as f64;
        // Poisson count: mean 1e6, sd 1000; 5 sd.
        assert!((n - 1e6).abs() < 5_000.0, "{n}");
    }

    #[test]
    fn constant_spacing_is_exact() {
        let s = spec(Process::Constant, 1000.0, 1);
        let times: Vec<u64> =
            ArrivalGen::new(&s, &RngStreams::new(1)).map(|e| e.created_ns).collect();
        assert_eq!(times.len(), 999, "arrivals at 1ms, 2ms, … strictly before 1 s");
        assert_eq!(times[0], 1_000_000);
        assert!(times.windows(2).all(|w| w[1] - w[0] == 1_000_000));
    }

    #[test]
    fn phases_change_the_rate() {
        let mut s = spec(Process::Poisson, 10_000.0, 20);
        s.phases = vec![Phase { at_ns: 10 * NS_PER_S, rate_per_s: 50_000.0, ramp_ns: 0 }];
        let events: Vec<EventMeta> = ArrivalGen::new(&s, &RngStreams::new(2)).collect();
        let early = events.iter().filter(|e| e.created_ns < 10 * NS_PER_S).count() as f64;
        let late = events.len() as f64 - early;
        assert!((early - 100_000.0).abs() < 2_000.0, "{early}");
        assert!((late - 500_000.0).abs() < 4_000.0, "{late}");
        assert!((s.expected_arrivals() - 600_000.0).abs() < 1e-6);
    }

    #[test]
    fn bursty_mean_rate_follows_the_duty_cycle() {
        let on = Dist::Const { ns: 100_000_000 };
        let off = Dist::Const { ns: 300_000_000 };
        let s = spec(Process::Bursty { on, off }, 40_000.0, 20);
        let events: Vec<EventMeta> = ArrivalGen::new(&s, &RngStreams::new(3)).collect();
        let n = events.len() as f64;
        // Mean 40k/s × 25 % × 20 s = 200k.
        assert!((n - 200_000.0).abs() < 3_000.0, "{n}");
        // Nothing arrives in an off period: [100ms, 400ms) of each 400 ms cycle.
        assert!(events.iter().all(|e| e.created_ns % 400_000_000 < 100_000_000));
    }

    #[test]
    fn ids_are_dense_and_seqs_count_per_key() {
        let s = spec(Process::Poisson, 10_000.0, 1);
        let events: Vec<EventMeta> = ArrivalGen::new(&s, &RngStreams::new(4)).collect();
        let mut per_key = [0u64; 100];
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e.id, i as u64);
            assert_eq!(e.seq, per_key[e.key as usize]);
            per_key[e.key as usize] += 1;
        }
    }

    #[test]
    fn same_seed_same_trace_other_seed_other_trace() {
        let s = spec(Process::Poisson, 10_000.0, 1);
        let a: Vec<EventMeta> = ArrivalGen::new(&s, &RngStreams::new(5)).collect();
        let b: Vec<EventMeta> = ArrivalGen::new(&s, &RngStreams::new(5)).collect();
        let c: Vec<EventMeta> = ArrivalGen::new(&s, &RngStreams::new(6)).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn a_trace_of_the_generated_events_replays_them() {
        use crate::trace::{OnError, TraceFormat, TraceSpec, scan};
        let s = spec(Process::Poisson, 10_000.0, 1);
        let events: Vec<EventMeta> = ArrivalGen::new(&s, &RngStreams::new(7)).collect();
        let mut text = String::from("time,key,type,size\n");
        for e in &events {
            text.push_str(&format!("{},{},event,{}\n", e.created_ns, e.key, e.size_bytes));
        }
        // Past the duration: not replayed.
        text.push_str("1000000000,1,event,1\n");
        let path =
            std::env::temp_dir().join(format!("pipesim-workload-trace-{}.csv", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let summary =
            scan(&path, TraceFormat::Csv, OnError::Stop, 100, 512, s.duration_ns).unwrap();
        assert_eq!(summary.events, events.len() as u64);
        let mut t = s.clone();
        t.trace = Some(TraceSpec::new(path.clone(), TraceFormat::Csv, OnError::Stop, summary));
        // A different seed: a trace draws no random numbers.
        let mut arrivals = ArrivalGen::new(&t, &RngStreams::new(8));
        let replayed: Vec<EventMeta> = arrivals.by_ref().collect();
        assert_eq!(replayed, events);
        assert!(arrivals.failure().is_none());
        // A trace that changed after the scan is reported, not replayed silently.
        std::fs::write(&path, "time,key\n1,1\n").unwrap();
        let mut arrivals = ArrivalGen::new(&t, &RngStreams::new(8));
        let short: Vec<EventMeta> = arrivals.by_ref().collect();
        assert_eq!(short.len(), 1);
        let failure = arrivals.failure().unwrap().to_string();
        assert!(failure.contains("changed"), "{failure}");
        let _ = std::fs::remove_file(&path);
    }
}
