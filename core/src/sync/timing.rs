//! Retry timing: exponential backoff with jitter, from a seeded generator so
//! the engine stays deterministic under test.

/// A small, fast generator (SplitMix64). Not for secrets: it spreads retries
/// and makes cids unique per session, seeded by the caller.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Milliseconds to wait before try number `attempt` (1 = the first retry):
/// doubling from `first` up to `max`, then spread over 50–100% of that, so
/// clients that lost the server together do not return together.
pub fn backoff_ms(attempt: u32, first: i64, max: i64, rng: &mut Rng) -> i64 {
    let doubled = first.saturating_mul(1_i64 << attempt.saturating_sub(1).min(20));
    let ceiling = doubled.min(max).max(1);
    let half = ceiling / 2;
    half + (rng.next_u64() % (ceiling - half + 1) as u64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_stays_capped_and_jitters() {
        let mut rng = Rng::new(7);
        for attempt in 1..40 {
            let ceiling = (1000_i64 << (attempt - 1).min(20)).min(30_000);
            let wait = backoff_ms(attempt, 1000, 30_000, &mut rng);
            assert!(wait >= ceiling / 2 && wait <= ceiling, "{attempt}: {wait}");
        }
        let spread: std::collections::BTreeSet<i64> = (0..20)
            .map(|_| backoff_ms(10, 1000, 30_000, &mut rng))
            .collect();
        assert!(spread.len() > 5, "jitter must spread retries: {spread:?}");
    }
}
