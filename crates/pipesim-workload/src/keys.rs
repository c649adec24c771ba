//! Choosing the key of each event and numbering events per key.

use crate::spec::{Keys, Popularity};
use pipesim_engine::{StreamRng, Zipf, prefetch};

/// How many keys are drawn ahead of the event that gets them.
///
/// The keys come from their own random stream, so drawing them early changes nothing; it lets
/// the chooser prefetch each key's sequence counter several events before it is incremented,
/// which matters once the counters (8 bytes a key) outgrow the CPU caches.
const LOOKAHEAD: usize = 8;

/// Draws keys and hands out per-key sequence numbers.
#[derive(Clone, Debug)]
pub struct KeyChooser {
    zipf: Option<Zipf>,
    count: u32,
    next_seq: Vec<u64>,
    /// The next `LOOKAHEAD` keys, oldest at `head`; filled on the first draw.
    ahead: [u32; LOOKAHEAD],
    head: usize,
    primed: bool,
}

impl KeyChooser {
    /// A chooser for `keys`. Memory: 8 bytes per key for the sequence counters.
    pub fn new(keys: &Keys) -> Self {
        let zipf = match keys.popularity {
            Popularity::Uniform => None,
            Popularity::Zipf { exponent } => Some(Zipf::new(u64::from(keys.count), exponent)),
        };
        Self {
            zipf,
            count: keys.count,
            next_seq: vec![0; keys.count as usize],
            ahead: [0; LOOKAHEAD],
            head: 0,
            primed: false,
        }
    }

    #[inline]
    fn draw(&self, rng: &mut StreamRng) -> u32 {
        match &self.zipf {
            None => rng.below(u64::from(self.count)) as u32,
            Some(z) => (z.sample(rng) - 1) as u32,
        }
    }

    #[inline]
    fn prime(&mut self, rng: &mut StreamRng) {
        if !self.primed {
            for i in 0..LOOKAHEAD {
                self.ahead[i] = self.draw(rng);
                prefetch(&self.next_seq, self.ahead[i] as usize);
            }
            self.primed = true;
        }
    }

    /// The next sequence number of `key`, for events whose key is given (traces): no draw and
    /// no lookahead. `key` must be below the key count.
    #[inline]
    pub fn number(&mut self, key: u32) -> u64 {
        let slot = &mut self.next_seq[key as usize];
        let seq = *slot;
        *slot += 1;
        seq
    }

    /// The next event's key and its sequence number within that key.
    #[inline]
    pub fn next(&mut self, rng: &mut StreamRng) -> (u32, u64) {
        self.prime(rng);
        let key = self.ahead[self.head];
        let drawn = self.draw(rng);
        self.ahead[self.head] = drawn;
        self.head = (self.head + 1) % LOOKAHEAD;
        prefetch(&self.next_seq, drawn as usize);
        let slot = &mut self.next_seq[key as usize];
        let seq = *slot;
        *slot += 1;
        (key, seq)
    }
}
