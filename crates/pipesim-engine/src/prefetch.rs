//! A cache-line prefetch hint, for per-key state the simulation will touch a few events later.
//!
//! Models of millions of keys keep per-key arrays (sequence counters, the highest visible
//! sequence, a guard's last append) far larger than the CPU caches, so each event's first touch
//! of its key is a trip to memory. Where the key is known a few events ahead (the arrival
//! generator draws keys ahead of time), a prefetch overlaps that trip with useful work. A hint
//! changes no result: it only warms a cache line.

/// Asks the CPU to bring `slice[index]` into cache. Out-of-range indices are ignored.
#[inline(always)]
pub fn prefetch<T>(slice: &[T], index: usize) {
    if let Some(item) = slice.get(index) {
        prefetch_ptr(item as *const T);
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code)]
fn prefetch_ptr<T>(p: *const T) {
    use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: a prefetch is a hint: it never faults and has no architectural effect, and `p`
    // points into a live slice anyway. SSE is part of the x86_64 baseline.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn prefetch_ptr<T>(_p: *const T) {}
