//! The configurable limits of sessions, logins and per-user changes.
//!
//! One struct so that a deployment (or a test, with tiny values) sets them
//! in one place; [`AuthPolicy::default`] holds the production defaults.

use std::time::Duration;

/// How long sessions live, how logins are limited, how often a user may change things.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthPolicy {
    /// A session unused for this long is expired (state 14).
    pub session_idle: Duration,
    /// A session this old is expired, used or not (state 14).
    pub session_lifetime: Duration,
    /// How often the server looks for revocations made by another process
    /// (the admin commands) and for open sessions that reached a limit.
    pub revocation_poll: Duration,
    /// The longest a file ticket may still have to live when it is presented.
    pub ticket_max_lifetime: Duration,
    /// Wrong passwords of one account from one address before a lockout.
    pub login_failures_per_pair: u32,
    /// Login attempts (wrong or still being checked) from one address within
    /// [`AuthPolicy::login_window`] before that address is refused.
    pub login_attempts_per_address: u32,
    /// How far back failures count.
    pub login_window: Duration,
    /// The first lockout; each further one doubles, up to [`AuthPolicy::login_lockout_max`].
    pub login_lockout: Duration,
    /// The longest lockout.
    pub login_lockout_max: Duration,
    /// Password checks waiting for an Argon2 worker before logins get "busy" (52).
    pub password_queue: usize,
    /// (account, address) pairs and addresses the login limiter remembers at most.
    pub limiter_entries: usize,
    /// Groups one user may create per [`AuthPolicy::change_window`].
    pub group_creations: u32,
    /// Presence and signature changes one user may make per [`AuthPolicy::change_window`].
    pub profile_changes: u32,
    /// Meetings one user may start per [`AuthPolicy::change_window`] (§13).
    pub meeting_starts: u32,
    /// Reminders (加急, §16.4) one user may send per [`AuthPolicy::change_window`].
    pub dings: u32,
    /// The window of the per-user change limits.
    pub change_window: Duration,
}

impl Default for AuthPolicy {
    fn default() -> AuthPolicy {
        AuthPolicy {
            session_idle: Duration::from_secs(30 * 24 * 3600),
            session_lifetime: Duration::from_secs(90 * 24 * 3600),
            revocation_poll: Duration::from_millis(500),
            ticket_max_lifetime: Duration::from_millis(
                penpen_core::tickets::MAX_LIFETIME_MS as u64,
            ),
            login_failures_per_pair: 5,
            login_attempts_per_address: 30,
            login_window: Duration::from_secs(60),
            login_lockout: Duration::from_secs(60),
            login_lockout_max: Duration::from_secs(3600),
            password_queue: 32,
            limiter_entries: 10_000,
            group_creations: 20,
            profile_changes: 60,
            meeting_starts: penpen_core::packets::meeting::STARTS_PER_MINUTE,
            dings: 10,
            change_window: Duration::from_secs(60),
        }
    }
}
