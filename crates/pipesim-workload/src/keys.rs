//! Choosing the key of each event and numbering events per key.

use crate::spec::{Keys, Popularity};
use pipesim_engine::{StreamRng, Zipf};

/// Draws keys and hands out per-key sequence numbers.
#[derive(Clone, Debug)]
pub struct KeyChooser {
    zipf: Option<Zipf>,
    count: u32,
    next_seq: Vec<u64>,
}

impl KeyChooser {
    /// A chooser for `keys`. Memory: 8 bytes per key for the sequence counters.
    pub fn new(keys: &Keys) -> Self {
        let zipf = match keys.popularity {
            Popularity::Uniform => None,
            Popularity::Zipf { exponent } => Some(Zipf::new(u64::from(keys.count), exponent)),
        };
        Self { zipf, count: keys.count, next_seq: vec![0; keys.count as usize] }
    }

    /// The next event's key and its sequence number within that key.
    #[inline]
    pub fn next(&mut self, rng: &mut StreamRng) -> (u32, u64) {
        let key = match &self.zipf {
            None => rng.below(u64::from(self.count)) as u32,
            Some(z) => (z.sample(rng) - 1) as u32,
        };
        let slot = &mut self.next_seq[key as usize];
        let seq = *slot;
        *slot += 1;
        (key, seq)
    }
}
