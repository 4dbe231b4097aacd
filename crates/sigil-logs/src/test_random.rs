//! A reproducible stream of pseudo-random numbers for the damage tests (xorshift64).

/// Numbers from `seed` (which must not be zero), the same every run.
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}
