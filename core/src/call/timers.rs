//! The call machine's deadlines, in one table.
//!
//! As in the sync engine, every deadline is derived from the machine's state
//! when asked for, and [`super::CallMachine::poll_timeout`] and
//! [`super::CallMachine::handle_timeout`] read the same [`Timer`] kinds, so
//! the moment the driver wakes for is the one acted on.

/// One kind of deadline. The order is the order `handle_timeout` acts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// A request on 24888 unanswered for the request timeout: the socket is
    /// taken for dead.
    RequestTimeout,
    /// The 24888 socket may be opened again after a drop.
    LinkRetry,
    /// The socket was gone too long during a call (`REJOIN_GRACE_MS`).
    Rejoin,
    /// An outgoing invitation rang `RING_TIMEOUT_MS` unanswered, or an
    /// incoming one outlived the server's own ring timeout.
    Ring,
    /// A glare's two halves (the end of our invite, the other's
    /// invitation) did not meet in time.
    Glare,
    /// The caller restarts ICE now (media disconnected or failed).
    IceRestart,
    /// The media stayed down too long: the call is given up.
    MediaLost,
    /// The ended screen has been shown long enough.
    EndedShown,
}

impl Timer {
    /// Every kind, in the order `handle_timeout` acts on them.
    pub(super) const ALL: [Timer; 8] = [
        Timer::RequestTimeout,
        Timer::LinkRetry,
        Timer::Rejoin,
        Timer::Ring,
        Timer::Glare,
        Timer::IceRestart,
        Timer::MediaLost,
        Timer::EndedShown,
    ];
}

/// The earliest deadline of each [`Timer`] kind.
#[derive(Debug, Clone, Default)]
pub(super) struct TimerTable {
    deadlines: [Option<i64>; Timer::ALL.len()],
}

impl TimerTable {
    /// Adds one deadline of `timer`; the earliest of a kind counts.
    pub(super) fn add(&mut self, timer: Timer, at: Option<i64>) {
        let Some(at) = at else { return };
        let slot = &mut self.deadlines[timer as usize];
        *slot = Some(slot.map_or(at, |earlier| earlier.min(at)));
    }

    /// Whether `timer` is due at `now`.
    pub(super) fn is_due(&self, timer: Timer, now: i64) -> bool {
        self.deadlines[timer as usize].is_some_and(|at| now >= at)
    }

    /// The earliest deadline of all.
    pub(super) fn next_timeout(&self) -> Option<i64> {
        self.deadlines.iter().flatten().min().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
