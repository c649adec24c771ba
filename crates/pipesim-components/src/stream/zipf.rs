//! Zipf popularity: the reference a read path's cache hit ratio is checked against.

/// The probabilities of ranks `1..=n` under Zipf popularity with `exponent`, normalised (O(n),
/// with `libm` so the same bits come out everywhere): the oracle a read path's cache hit ratio
/// is compared with ([`crate::che_hit_ratio`]).
pub fn zipf_probabilities(n: u32, exponent: f64) -> Vec<f64> {
    let w: Vec<f64> = (1..=n).map(|k| libm::pow(f64::from(k), -exponent)).collect();
    let total: f64 = w.iter().sum();
    w.into_iter().map(|x| x / total).collect()
}
