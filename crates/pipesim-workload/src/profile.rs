//! A piecewise-linear rate over time, with exact inversion of its integral.

use crate::spec::WorkloadSpec;

/// The arrival rate as a function of time: constant between phases, linear along ramps.
///
/// Arrival times come from inverting the integrated rate: a Poisson process at rate r(t) is a
/// unit-rate process run on the clock Λ(t) = ∫₀ᵗ r. Linear pieces have closed-form inverses,
/// so this is exact (no thinning, no rejected draws) and costs O(1) per arrival.
#[derive(Clone, Debug)]
pub struct RateProfile {
    /// Breakpoints (time ns, rate per ns); linear between consecutive points, constant after the
    /// last. Times are non-decreasing; equal times make a step.
    points: Vec<(f64, f64)>,
    /// Index of the piece the last query ended in (queries move forward in time).
    cursor: usize,
}

impl RateProfile {
    /// The profile of `spec`'s base rate and phases.
    pub fn new(spec: &WorkloadSpec) -> Self {
        let per_ns = |r: f64| r / 1e9;
        let mut points = vec![(0.0, per_ns(spec.rate_per_s))];
        let mut current = per_ns(spec.rate_per_s);
        for p in &spec.phases {
            let at = p.at_ns as f64;
            points.push((at, current));
            current = per_ns(p.rate_per_s);
            points.push((at + p.ramp_ns as f64, current));
        }
        Self { points, cursor: 0 }
    }

    /// The rate per ns when it never changes (no phases), for the arrival fast path.
    #[inline]
    pub fn single_rate(&self) -> Option<f64> {
        match self.points.as_slice() {
            [(_, rate)] => Some(*rate),
            _ => None,
        }
    }

    /// Rate (per ns) at time `t` within piece `i`, and the piece's end time.
    fn piece(&self, i: usize, t: f64) -> (f64, f64, f64) {
        let (t0, r0) = self.points[i];
        match self.points.get(i + 1) {
            Some(&(t1, r1)) if t1 > t0 => {
                let slope = (r1 - r0) / (t1 - t0);
                (r0 + slope * (t - t0), slope, t1)
            }
            Some(&(t1, r1)) => (r1, 0.0, t1),
            None => (r0, 0.0, f64::INFINITY),
        }
    }

    /// The first time after `t` at which the integrated rate has grown by `area`, unless that is
    /// past `limit`: then `Err(area left over at limit)`.
    pub fn advance(&mut self, t: f64, area: f64, limit: f64) -> Result<f64, f64> {
        let mut t = t;
        let mut need = area;
        while self.cursor + 1 < self.points.len() && self.points[self.cursor + 1].0 <= t {
            self.cursor += 1;
        }
        loop {
            let (rate, slope, end) = self.piece(self.cursor, t);
            let stop = end.min(limit);
            let rate_at_stop = rate + slope * (stop - t);
            let available = if stop.is_finite() {
                (rate + rate_at_stop) / 2.0 * (stop - t)
            } else {
                f64::INFINITY
            };
            if need <= available {
                let x = if slope == 0.0 {
                    need / rate
                } else {
                    // Root of rate·x + slope·x²/2 = need, in the form that is stable for slope < 0.
                    let disc = (rate * rate + 2.0 * slope * need).max(0.0);
                    2.0 * need / (rate + libm::sqrt(disc))
                };
                return Ok((t + x).min(stop));
            }
            need -= available;
            t = stop;
            if stop >= limit {
                return Err(need);
            }
            self.cursor += 1;
        }
    }

    /// ∫₀ᵗ r, the expected number of arrivals by time `t` (ns) with no gating.
    pub fn area_until(&self, t: f64) -> f64 {
        let mut area = 0.0;
        for i in 0..self.points.len() {
            let (t0, _) = self.points[i];
            if t0 >= t {
                break;
            }
            let (r0, slope, end) = self.piece(i, t0);
            let stop = end.min(t);
            area += (r0 + (r0 + slope * (stop - t0))) / 2.0 * (stop - t0);
        }
        area
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Keys, Phase, Popularity, Process};

    fn spec(rate: f64, phases: Vec<Phase>) -> WorkloadSpec {
        WorkloadSpec {
            process: Process::Poisson,
            rate_per_s: rate,
            phases,
            keys: Keys { count: 1, popularity: Popularity::Uniform },
            payload_bytes: 0,
            duration_ns: 10_000_000_000,
            trace: None,
        }
    }

    #[test]
    fn constant_rate_inverts_exactly() {
        let mut p = RateProfile::new(&spec(1e9, vec![]));
        assert_eq!(p.advance(0.0, 5.0, f64::INFINITY), Ok(5.0));
        assert_eq!(p.area_until(100.0), 100.0);
    }

    #[test]
    fn steps_and_ramps_integrate_exactly() {
        // 1/ns until 100, then a ramp to 3/ns over 100 ns, then flat.
        let phases = vec![Phase { at_ns: 100, rate_per_s: 3e9, ramp_ns: 100 }];
        let mut p = RateProfile::new(&spec(1e9, phases));
        assert_eq!(p.area_until(100.0), 100.0);
        assert_eq!(p.area_until(200.0), 300.0);
        assert_eq!(p.area_until(300.0), 600.0);
        // Inverse of the area function at the same points.
        let t = p.advance(0.0, 300.0, f64::INFINITY).unwrap();
        assert!((t - 200.0).abs() < 1e-9, "{t}");
        let t = p.advance(200.0, 300.0, f64::INFINITY).unwrap();
        assert!((t - 300.0).abs() < 1e-9, "{t}");
    }

    #[test]
    fn ramps_down_are_stable() {
        let phases = vec![Phase { at_ns: 0, rate_per_s: 1e6, ramp_ns: 1_000_000 }];
        let mut p = RateProfile::new(&spec(1e9, phases));
        let total = p.area_until(1_000_000.0);
        let t = p.advance(0.0, total, f64::INFINITY).unwrap();
        assert!((t - 1_000_000.0).abs() < 1e-3, "{t}");
    }

    #[test]
    fn stops_at_the_limit_with_the_remainder() {
        let mut p = RateProfile::new(&spec(1e9, vec![]));
        assert_eq!(p.advance(0.0, 10.0, 4.0), Err(6.0));
    }

    #[test]
    fn a_step_is_a_zero_length_piece() {
        let phases = vec![Phase { at_ns: 10, rate_per_s: 2e9, ramp_ns: 0 }];
        let mut p = RateProfile::new(&spec(1e9, phases));
        assert_eq!(p.area_until(20.0), 30.0);
        assert_eq!(p.advance(0.0, 30.0, f64::INFINITY), Ok(20.0));
    }
}
