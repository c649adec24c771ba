//! Seeded random streams: one ChaCha8 stream per component, named.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// Derives independent random streams from one root seed.
///
/// The ChaCha key comes from the root seed (expanded with SplitMix64); the ChaCha *stream*
/// number comes from a 64-bit FNV-1a hash of the component's stable name. Streams with different
/// names are independent ChaCha streams under one key, so adding, removing or reordering
/// components never changes what another component draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RngStreams {
    root_seed: u64,
}

impl RngStreams {
    /// Streams for `root_seed`.
    pub fn new(root_seed: u64) -> Self {
        Self { root_seed }
    }

    /// The root seed.
    pub fn root_seed(&self) -> u64 {
        self.root_seed
    }

    /// The stream named `name` (for example `"workload/arrivals"` or `"station/db/service"`).
    pub fn stream(&self, name: &str) -> StreamRng {
        let mut key = [0u8; 32];
        let mut state = self.root_seed;
        for chunk in key.chunks_exact_mut(8) {
            chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
        }
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(stream_id(name));
        StreamRng { rng }
    }
}

/// The ChaCha stream number of a component name: 64-bit FNV-1a, fixed here so it never changes
/// with a Rust or crate upgrade (std's hashers make no such promise).
pub fn stream_id(name: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One component's random stream, with the few draws the simulator needs.
///
/// Every draw is defined here, bit for bit, rather than through `rand`'s distribution traits, so
/// that a crate upgrade cannot change a report.
#[derive(Clone, Debug)]
pub struct StreamRng {
    rng: ChaCha8Rng,
}

impl StreamRng {
    /// A raw 64-bit draw.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// A uniform draw from the open interval (0, 1), never exactly 0 or 1, so that inversion
    /// formulas such as `-ln(u)` stay finite.
    #[inline]
    pub fn open01(&mut self) -> f64 {
        // 53 random bits, centred in their cell: (k + 0.5) / 2^53 for k in 0..2^53.
        (crate::time::f64_of(self.next_u64() >> 11) + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `0..n` (Lemire's multiply-shift; the bias is below 2^-64 × n).
    /// Returns 0 when `n` is 0.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A standard exponential draw (mean 1), by the ziggurat method.
    #[inline]
    pub fn exp1(&mut self) -> f64 {
        crate::ziggurat::exp1(self)
    }

    /// A standard normal variate (mean 0, variance 1), by the ziggurat method.
    #[inline]
    pub fn normal(&mut self) -> f64 {
        crate::ziggurat_normal::normal(self)
    }

    /// True with probability `p` (clamped to \[0, 1\]).
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        self.open01() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_name_give_the_same_stream() {
        let a: Vec<u64> = (0..8)
            .map({
                let mut r = RngStreams::new(42).stream("x");
                move |_| r.next_u64()
            })
            .collect();
        let mut r = RngStreams::new(42).stream("x");
        let b: Vec<u64> = (0..8).map(|_| r.next_u64()).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn names_and_seeds_separate_streams() {
        let first = |seed: u64, name: &str| RngStreams::new(seed).stream(name).next_u64();
        assert_ne!(first(42, "x"), first(42, "y"));
        assert_ne!(first(42, "x"), first(43, "x"));
    }

    const PINNED_ID: u64 = 0xff44_3a42_2e5a_7027;
    const PINNED_DRAWS: [u64; 2] = [0xe4ec_7baa_33c3_b76a, 0xcb6b_67a7_7c07_f110];

    #[test]
    fn stream_values_are_pinned() {
        // A change here changes every report: it must be deliberate, with a new pipesim version.
        assert_eq!(stream_id("workload/arrivals"), PINNED_ID);
        let mut r = RngStreams::new(42).stream("workload/arrivals");
        assert_eq!([r.next_u64(), r.next_u64()], PINNED_DRAWS);
    }

    #[test]
    fn open01_stays_inside_the_interval() {
        let mut r = RngStreams::new(7).stream("u");
        for _ in 0..100_000 {
            let u = r.open01();
            assert!(u > 0.0 && u < 1.0);
        }
    }

    #[test]
    fn below_is_roughly_uniform() {
        let mut r = RngStreams::new(7).stream("b");
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[r.below(10) as usize] += 1;
        }
        // Each cell expects 10,000 with sd about 95; 6 sd is far outside chance.
        for c in counts {
            assert!((9_430..=10_570).contains(&c), "{counts:?}");
        }
    }
}
