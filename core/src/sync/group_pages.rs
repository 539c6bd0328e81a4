//! Fetching the user's groups a 53888 page at a time: the list is replaced
//! only once every page has arrived, so a partial list never stands in for
//! the whole.

use crate::ids::GroupId;
use crate::packets::groups::{Group, Groups, GroupsQuery};

/// The pages gathered so far of one refresh.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupPages {
    /// The `after` of the page to ask for next (`None`: the first page).
    after: Option<GroupId>,
    gathered: Vec<Group>,
}

/// What a page did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageOutcome {
    /// More pages follow: ask for the next.
    Next,
    /// The last page: every group.
    Done(Vec<Group>),
    /// The answer to a request this refresh no longer waits for (a repeat).
    Stale,
}

impl GroupPages {
    /// The request for the next page, and the `after` it asks with.
    pub fn query(&self) -> (GroupsQuery, Option<GroupId>) {
        let query = GroupsQuery {
            user: None,
            after: self.after,
            limit: None,
        };
        (query, self.after)
    }

    /// Starts over from the first page (the link dropped mid-way).
    pub fn restart(&mut self) {
        *self = GroupPages::default();
    }

    /// Takes the page asked for with `asked_after`.
    pub fn take(&mut self, asked_after: Option<GroupId>, page: Groups) -> PageOutcome {
        if asked_after.is_none() {
            // A first page starts the refresh over, whatever came before.
            self.gathered.clear();
        } else if asked_after != self.after {
            return PageOutcome::Stale;
        }
        // A page must move forward, or asking again would loop for ever.
        let progressed = page.next.filter(|next| Some(*next) > asked_after);
        self.gathered.extend(page.groups);
        match (page.more, progressed) {
            (true, Some(next)) => {
                self.after = Some(next);
                PageOutcome::Next
            }
            _ => {
                let mut all = std::mem::take(&mut self.gathered);
                self.after = None;
                crate::sorting::sort_by_key(&mut all, |g| g.gid);
                all.dedup_by_key(|g| g.gid);
                PageOutcome::Done(all)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(n: u64) -> Group {
        crate::testing::group(n, &format!("组{n}"), &[1])
    }

    fn page(gids: &[u64], next: Option<u64>) -> Groups {
        Groups {
            state: crate::State::SUCCESS,
            groups: gids.iter().map(|n| group(*n)).collect(),
            more: next.is_some(),
            next: next.and_then(GroupId::new),
        }
    }

    fn gids(outcome: PageOutcome) -> Vec<u64> {
        match outcome {
            PageOutcome::Done(all) => all.iter().map(|g| g.gid.get()).collect(),
            other => panic!("not the last page: {other:?}"),
        }
    }

    #[test]
    fn pages_are_gathered_and_repeats_ignored() {
        let mut pages = GroupPages::default();
        assert_eq!(pages.query().1, None);
        assert_eq!(pages.take(None, page(&[1, 2], Some(2))), PageOutcome::Next);
        let after = pages.query().1;
        assert_eq!(after, GroupId::new(2));
        // A second answer to the first request (asked twice) starts over.
        assert_eq!(pages.take(None, page(&[1, 2], Some(2))), PageOutcome::Next);
        assert_eq!(pages.take(after, page(&[3, 4], Some(4))), PageOutcome::Next);
        // An answer for a cursor already passed is stale.
        assert_eq!(
            pages.take(after, page(&[3, 4], Some(4))),
            PageOutcome::Stale
        );
        let done = pages.take(GroupId::new(4), page(&[5], None));
        assert_eq!(gids(done), vec![1, 2, 3, 4, 5]);
        assert_eq!(pages, GroupPages::default(), "ready for the next refresh");
    }

    #[test]
    fn a_page_that_does_not_move_forward_ends_the_refresh() {
        let mut pages = GroupPages::default();
        assert_eq!(pages.take(None, page(&[5], Some(5))), PageOutcome::Next);
        // `next` not beyond `after`: asking again would loop for ever.
        let done = pages.take(GroupId::new(5), page(&[5], Some(3)));
        assert_eq!(gids(done), vec![5]);
    }
}
