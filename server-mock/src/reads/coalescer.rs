//! Coalescing a group's moved read marks for its watchers (§16.2): a burst
//! of reads becomes one push per watched group per interval, not one per
//! read. Sans-IO: the caller says what moved and what time it is, and asks
//! when to come back; nothing here reads the clock or sends.

use penpen_core::GroupId;
use penpen_core::UserId;
use penpen_core::packets::receipts::MemberRead;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// The marks that moved per group, released at most once per interval each.
#[derive(Debug)]
pub struct Coalescer {
    interval: Duration,
    groups: HashMap<GroupId, Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    /// The newest mark of each member that moved since the last release.
    marks: BTreeMap<UserId, MemberRead>,
    /// When the first of `marks` was noted.
    since: Option<Instant>,
    /// When the group's marks were last released.
    released: Option<Instant>,
}

impl Pending {
    /// When these marks may go: at once after a quiet interval (the first
    /// read of a burst is seen without delay), else an interval after the
    /// last release.
    fn due(&self, interval: Duration) -> Option<Instant> {
        let since = self.since?;
        Some(match self.released {
            Some(released) => (released + interval).max(since),
            None => since,
        })
    }
}

impl Coalescer {
    /// A coalescer releasing each group at most once per `interval`; a zero
    /// interval coalesces nothing (every mark goes at once).
    pub fn new(interval: Duration) -> Coalescer {
        Coalescer {
            interval,
            groups: HashMap::new(),
        }
    }

    /// A member's mark in group `gid` moved at `now`. With a zero interval
    /// it is handed back to be pushed at once; otherwise it waits for
    /// [`Coalescer::release`] (a later mark of the same member replaces it).
    pub fn note(&mut self, gid: GroupId, mark: MemberRead, now: Instant) -> Option<MemberRead> {
        if self.interval.is_zero() {
            return Some(mark);
        }
        let pending = self.groups.entry(gid).or_default();
        pending.since.get_or_insert(now);
        match pending.marks.get_mut(&mark.user) {
            Some(held) => {
                held.id = held.id.max(mark.id);
                held.private = mark.private;
                if held.private {
                    held.id = None;
                }
            }
            None => {
                pending.marks.insert(mark.user.clone(), mark);
            }
        }
        None
    }

    /// When the next group is due, if any marks wait.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.groups
            .values()
            .filter_map(|p| p.due(self.interval))
            .min()
    }

    /// The groups whose marks are due at `now`, each with its moved marks.
    pub fn release(&mut self, now: Instant) -> Vec<(GroupId, Vec<MemberRead>)> {
        let interval = self.interval;
        let mut released = Vec::new();
        for (gid, pending) in &mut self.groups {
            if pending.due(interval).is_some_and(|due| due <= now) {
                let marks = std::mem::take(&mut pending.marks);
                released.push((*gid, marks.into_values().collect()));
                pending.since = None;
                pending.released = Some(now);
            }
        }
        // A group quiet for an interval starts afresh: nothing to remember.
        self.groups
            .retain(|_, p| p.since.is_some() || p.released.is_some_and(|r| now < r + interval));
        released.sort_by_key(|(gid, _)| *gid);
        released
    }

    /// Forgets what waits for group `gid` (nobody watches it any more).
    pub fn forget(&mut self, gid: GroupId) {
        self.groups.remove(&gid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use penpen_core::MessageId;

    const SECOND: Duration = Duration::from_secs(1);

    fn gid(n: u64) -> GroupId {
        GroupId::new(n).expect("a group id")
    }

    fn mark(user: u64, id: u64) -> MemberRead {
        MemberRead {
            user: UserId::parse(&format!("138{user:08}")).expect("a user id"),
            id: Some(MessageId(id)),
            joined: None,
            left: None,
            private: false,
        }
    }

    #[test]
    fn the_first_mark_goes_at_once_and_a_burst_waits_for_the_interval() {
        let start = Instant::now();
        let mut coalescer = Coalescer::new(SECOND);
        assert_eq!(coalescer.poll_timeout(), None);
        assert_eq!(coalescer.note(gid(7), mark(1, 10), start), None);
        assert_eq!(coalescer.poll_timeout(), Some(start));
        assert_eq!(coalescer.release(start), vec![(gid(7), vec![mark(1, 10)])]);

        // A burst within the next second: held, one member's marks merged.
        for (n, at) in [(11, 100), (12, 200), (13, 900)] {
            let now = start + Duration::from_millis(at);
            coalescer.note(gid(7), mark(1, n), now);
            coalescer.note(gid(7), mark(2, n), now);
            assert!(coalescer.release(now).is_empty(), "held at {at} ms");
        }
        assert_eq!(coalescer.poll_timeout(), Some(start + SECOND));
        assert_eq!(
            coalescer.release(start + SECOND),
            vec![(gid(7), vec![mark(1, 13), mark(2, 13)])]
        );
        assert_eq!(coalescer.poll_timeout(), None);
    }

    #[test]
    fn groups_are_released_apart_and_a_quiet_group_is_forgotten() {
        let start = Instant::now();
        let mut coalescer = Coalescer::new(SECOND);
        coalescer.note(gid(1), mark(1, 5), start);
        coalescer.release(start);
        coalescer.note(gid(2), mark(2, 6), start + Duration::from_millis(500));
        coalescer.note(gid(1), mark(1, 7), start + Duration::from_millis(500));
        // Group 2 never released: due at once; group 1 waits its second.
        assert_eq!(
            coalescer.release(start + Duration::from_millis(500)),
            vec![(gid(2), vec![mark(2, 6)])]
        );
        assert_eq!(coalescer.poll_timeout(), Some(start + SECOND));
        assert_eq!(
            coalescer.release(start + SECOND),
            vec![(gid(1), vec![mark(1, 7)])]
        );
        // Two seconds later both are quiet, remembered no more: at once again.
        let later = start + 3 * SECOND;
        assert!(coalescer.release(later).is_empty());
        assert!(coalescer.groups.is_empty());
        coalescer.note(gid(1), mark(1, 8), later);
        assert_eq!(coalescer.release(later), vec![(gid(1), vec![mark(1, 8)])]);
    }

    #[test]
    fn a_zero_interval_hands_every_mark_back_at_once() {
        let now = Instant::now();
        let mut coalescer = Coalescer::new(Duration::ZERO);
        assert_eq!(coalescer.note(gid(1), mark(1, 5), now), Some(mark(1, 5)));
        assert_eq!(coalescer.note(gid(1), mark(1, 6), now), Some(mark(1, 6)));
        assert_eq!(coalescer.poll_timeout(), None);
    }

    #[test]
    fn a_private_member_stays_private_in_the_change() {
        let now = Instant::now();
        let mut coalescer = Coalescer::new(SECOND);
        coalescer.note(gid(1), mark(1, 5), now);
        coalescer.release(now);
        coalescer.note(gid(1), mark(1, 6), now);
        let private = MemberRead {
            id: None,
            private: true,
            ..mark(1, 0)
        };
        coalescer.note(gid(1), private.clone(), now);
        coalescer.forget(gid(2));
        assert_eq!(
            coalescer.release(now + SECOND),
            vec![(gid(1), vec![private])]
        );
    }
}
