//! Per-user limits on changes that reach everyone: creating groups (60888)
//! and changing one's presence or signature (33888, 31888), each pushed to
//! every online user; reminders (加急, 27888) pushed to everyone who has not
//! read a message. Past the limit the request gets state 35 with a reason.

use crate::policy::AuthPolicy;
use penpen_core::{ErrorReply, State, UserId};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A limited kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// Creating a group.
    GroupCreation,
    /// Changing one's presence or signature.
    Profile,
    /// Starting a meeting (every member's sessions are pushed it).
    MeetingStart,
    /// A reminder (加急) of one's message to those who have not read it (§16.4).
    Ding,
}

/// Recent changes per user and kind, over a sliding window.
#[derive(Debug)]
pub struct ChangeLimiter {
    window: Duration,
    group_creations: u32,
    profile_changes: u32,
    meeting_starts: u32,
    dings: u32,
    recent: Mutex<HashMap<(UserId, Change), VecDeque<Instant>>>,
}

impl ChangeLimiter {
    /// A limiter with the policy's limits.
    pub fn new(policy: &AuthPolicy) -> ChangeLimiter {
        ChangeLimiter {
            window: policy.change_window,
            group_creations: policy.group_creations,
            profile_changes: policy.profile_changes,
            meeting_starts: policy.meeting_starts,
            dings: policy.dings,
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a change by `user`, or refuses it (state 35) when they made
    /// their allowance of this kind within the window.
    pub fn admit(&self, user: &UserId, change: Change, now: Instant) -> Result<(), ErrorReply> {
        let (limit, what) = match change {
            Change::GroupCreation => (self.group_creations, "group creations"),
            Change::Profile => (self.profile_changes, "presence and signature changes"),
            Change::MeetingStart => (self.meeting_starts, "meeting starts"),
            Change::Ding => (self.dings, "reminders"),
        };
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let window = self.window;
        let expired = |t: &Instant| now.saturating_duration_since(*t) >= window;
        // Users are the company's accounts, so the map is bounded by the
        // directory; still, forget the idle ones now and then.
        if recent.len() > 1024 {
            recent.retain(|_, times| times.back().is_some_and(|t| !expired(t)));
        }
        let times = recent.entry((user.clone(), change)).or_default();
        while times.front().is_some_and(expired) {
            times.pop_front();
        }
        if times.len() as u64 >= u64::from(limit) {
            let wait = times
                .front()
                .map(|first| window.saturating_sub(now.saturating_duration_since(*first)))
                .unwrap_or(window);
            return Err(ErrorReply::new(
                State::RATE_LIMITED,
                format!(
                    "too many {what}: at most {limit} per {} s; try again in {} s",
                    window.as_secs().max(1),
                    wait.as_secs().max(1)
                ),
            ));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_past_the_allowance_wait_for_the_window() {
        let policy = AuthPolicy {
            group_creations: 2,
            profile_changes: 1,
            change_window: Duration::from_secs(10),
            ..AuthPolicy::default()
        };
        let limiter = ChangeLimiter::new(&policy);
        let user = UserId::parse("13800000001").expect("valid");
        let start = Instant::now();
        assert!(limiter.admit(&user, Change::GroupCreation, start).is_ok());
        assert!(limiter.admit(&user, Change::GroupCreation, start).is_ok());
        let refused = limiter
            .admit(&user, Change::GroupCreation, start)
            .expect_err("third within the window");
        assert_eq!(refused.state, State::RATE_LIMITED);
        // Kinds and users are counted apart.
        assert!(limiter.admit(&user, Change::Profile, start).is_ok());
        let other = UserId::parse("13800000002").expect("valid");
        assert!(limiter.admit(&other, Change::GroupCreation, start).is_ok());
        let later = start + Duration::from_secs(10);
        assert!(limiter.admit(&user, Change::GroupCreation, later).is_ok());
    }
}
