//! The engine's deadlines, in one table.
//!
//! Every deadline is derived from the engine's state when it is asked for
//! (so none is ever left running after its reason went away), and both
//! [`super::Engine::poll_timeout`] and [`super::Engine::handle_timeout`] read
//! it through the same [`Timer`] kinds: the deadline the driver is told to
//! wake for is by construction the one acted on when it does.

/// One kind of deadline. The order is the order `handle_timeout` acts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// Received messages wait this long to be written together.
    Persist,
    /// A login or resume unanswered for the request timeout.
    LoginTimeout,
    /// The stream silent for a while: a heartbeat is due, or the one sent
    /// went unanswered.
    Heartbeat,
    /// A request on a service socket unanswered for the request timeout.
    RequestTimeout,
    /// A service socket with nothing to do for the idle time.
    LinkIdle,
    /// An operation that could not go out within the request timeout.
    OperationTimeout,
    /// A server search that could not go out within the request timeout.
    SearchTimeout,
    /// Catch-up is due again while connected.
    Resync,
    /// The stream's next reconnect.
    Reconnect,
    /// A closed service socket may be opened again.
    LinkRetry,
    /// A send refused for a while may go again.
    SendRetry,
    /// A read mark held back (one a second per conversation) may go.
    ReadMark,
}

impl Timer {
    /// Every kind, in the order `handle_timeout` acts on them.
    pub(super) const ALL: [Timer; 12] = [
        Timer::Persist,
        Timer::LoginTimeout,
        Timer::Heartbeat,
        Timer::RequestTimeout,
        Timer::LinkIdle,
        Timer::OperationTimeout,
        Timer::SearchTimeout,
        Timer::Resync,
        Timer::Reconnect,
        Timer::LinkRetry,
        Timer::SendRetry,
        Timer::ReadMark,
    ];

    /// Whether `handle_timeout` itself acts on this deadline once it is
    /// due. Such a deadline is reported even when already past (an event
    /// that moved the clock on must not make it forgotten). The others are
    /// only moments from which an event *may* act (a reconnect waits while
    /// the browser is offline, a retry for its socket): they are reported
    /// only while ahead, or a past one nothing acts on would wake the driver
    /// in a loop.
    pub(super) fn acted_on(self) -> bool {
        !matches!(self, Timer::Reconnect | Timer::LinkRetry | Timer::SendRetry)
    }
}

/// The earliest deadline of each [`Timer`] kind, as of the engine's clock.
#[derive(Debug, Clone)]
pub(super) struct TimerTable {
    clock: i64,
    deadlines: [Option<i64>; Timer::ALL.len()],
}

impl TimerTable {
    /// An empty table as of `clock`.
    pub(super) fn new(clock: i64) -> TimerTable {
        TimerTable {
            clock,
            deadlines: [None; Timer::ALL.len()],
        }
    }

    /// Adds one deadline of `timer` (a kind may have many: one per socket,
    /// per operation…); the earliest counts. A deadline at or before the
    /// clock of a kind [`Timer::acted_on`] says nothing acts on is left out.
    pub(super) fn add(&mut self, timer: Timer, at: i64) {
        if !timer.acted_on() && at <= self.clock {
            return;
        }
        let slot = &mut self.deadlines[timer as usize];
        *slot = Some(slot.map_or(at, |earlier| earlier.min(at)));
    }

    /// The earliest deadline of one kind.
    pub(super) fn get(&self, timer: Timer) -> Option<i64> {
        self.deadlines[timer as usize]
    }

    /// Whether `timer` is due at `now`.
    pub(super) fn is_due(&self, timer: Timer, now: i64) -> bool {
        self.get(timer).is_some_and(|at| now >= at)
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
    fn the_earliest_deadline_of_a_kind_counts() {
        let mut table = TimerTable::new(100);
        table.add(Timer::RequestTimeout, 500);
        table.add(Timer::RequestTimeout, 300);
        table.add(Timer::Persist, 400);
        assert_eq!(table.get(Timer::RequestTimeout), Some(300));
        assert_eq!(table.next_timeout(), Some(300));
        assert!(table.is_due(Timer::RequestTimeout, 300));
        assert!(!table.is_due(Timer::Persist, 300));
    }

    #[test]
    fn a_past_deadline_is_reported_only_if_something_acts_on_it() {
        let mut table = TimerTable::new(1_000);
        table.add(Timer::Reconnect, 900);
        table.add(Timer::SendRetry, 1_000);
        assert_eq!(table.next_timeout(), None);
        table.add(Timer::SendRetry, 2_000);
        assert_eq!(table.get(Timer::SendRetry), Some(2_000));
        table.add(Timer::Persist, 900);
        assert_eq!(table.next_timeout(), Some(900));
    }
}
