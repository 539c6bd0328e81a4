//! Which of the user's seqs the cache holds: everything up to a contiguous
//! point, plus the few that arrived ahead of a gap.

use crate::ids::Seq;
use crate::sorted_map::SortedSet;

/// The received seqs. The stream's cumulative ack may only name the
/// contiguous point: a gap below a received seq is a message still owed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqTracker {
    contiguous: Seq,
    above: SortedSet<Seq>,
}

impl SeqTracker {
    /// Restores a tracker from the cached position.
    pub fn new(contiguous: Seq, above: &[Seq]) -> SeqTracker {
        let mut tracker = SeqTracker {
            contiguous,
            above: SortedSet::new(),
        };
        for seq in above {
            tracker.record(*seq);
        }
        tracker
    }

    /// Records `seq`; says whether it is new (not a duplicate).
    pub fn record(&mut self, seq: Seq) -> bool {
        if seq <= self.contiguous || !self.above.insert(seq) {
            return false;
        }
        while self.above.remove(&Seq(self.contiguous.0 + 1)) {
            self.contiguous = Seq(self.contiguous.0 + 1);
        }
        true
    }

    /// Whether `seq` was recorded.
    pub fn has(&self, seq: Seq) -> bool {
        seq <= self.contiguous || self.above.contains(&seq)
    }

    /// Every seq up to here is held.
    pub fn contiguous(&self) -> Seq {
        self.contiguous
    }

    /// The seqs held above the contiguous point, ascending.
    pub fn above(&self) -> Vec<Seq> {
        self.above.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_over_filled_gaps_and_rejects_duplicates() {
        let mut seqs = SeqTracker::new(Seq(2), &[]);
        assert!(!seqs.record(Seq(1)));
        assert!(seqs.record(Seq(5)));
        assert!(seqs.record(Seq(4)));
        assert_eq!(seqs.contiguous(), Seq(2));
        assert!(!seqs.record(Seq(5)));
        assert!(seqs.record(Seq(3)));
        assert_eq!(seqs.contiguous(), Seq(5));
        assert!(seqs.above().is_empty());
        assert!(seqs.has(Seq(4)) && !seqs.has(Seq(6)));
    }

    #[test]
    fn restores_from_the_cached_position() {
        let seqs = SeqTracker::new(Seq(3), &[Seq(5), Seq(4), Seq(9)]);
        assert_eq!(seqs.contiguous(), Seq(5));
        assert_eq!(seqs.above(), vec![Seq(9)]);
    }
}
