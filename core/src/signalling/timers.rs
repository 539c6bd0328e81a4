//! A machine's deadlines, in one table.
//!
//! As in the sync engine, every deadline is derived from the machine's state
//! when asked for, and `poll_timeout` and `handle_timeout` read the same
//! table, so the moment the driver wakes for is the one acted on. Each
//! machine names its own kinds of deadline (an enum) and acts on them in
//! the order of its own list.

/// The earliest deadline of each kind `T`.
#[derive(Debug, Clone)]
pub(crate) struct TimerTable<T> {
    deadlines: Vec<(T, i64)>,
}

impl<T> Default for TimerTable<T> {
    fn default() -> Self {
        TimerTable {
            deadlines: Vec::new(),
        }
    }
}

impl<T: Copy + PartialEq> TimerTable<T> {
    /// Adds one deadline of `timer`; the earliest of a kind counts.
    pub(crate) fn add(&mut self, timer: T, at: Option<i64>) {
        let Some(at) = at else { return };
        match self.deadlines.iter_mut().find(|(t, _)| *t == timer) {
            Some((_, earlier)) => *earlier = (*earlier).min(at),
            None => self.deadlines.push((timer, at)),
        }
    }

    /// Whether `timer` is due at `now`.
    pub(crate) fn is_due(&self, timer: T, now: i64) -> bool {
        self.deadlines
            .iter()
            .any(|(t, at)| *t == timer && now >= *at)
    }

    /// The earliest deadline of all.
    pub(crate) fn next_timeout(&self) -> Option<i64> {
        self.deadlines.iter().map(|(_, at)| *at).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Timer {
        Ring,
        Glare,
        EndedShown,
    }

    #[test]
    fn the_earliest_deadline_of_a_kind_counts_and_none_adds_nothing() {
        let mut table = TimerTable::default();
        assert_eq!(table.next_timeout(), None);
        table.add(Timer::Ring, Some(45_000));
        table.add(Timer::Ring, Some(30_000));
        table.add(Timer::EndedShown, None);
        table.add(Timer::Glare, Some(40_000));
        assert_eq!(table.next_timeout(), Some(30_000));
        assert!(table.is_due(Timer::Ring, 30_000));
        assert!(!table.is_due(Timer::Glare, 30_000));
        assert!(!table.is_due(Timer::EndedShown, i64::MAX));
    }
}
