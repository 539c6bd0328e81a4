//! The call machine's kinds of deadline, for the shared table
//! (`crate::signalling::timers`).

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

/// The call machine's table.
pub(super) type TimerTable = crate::signalling::timers::TimerTable<Timer>;
