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
                all.sort_by_key(|g| g.gid);
                all.dedup_by_key(|g| g.gid);
                PageOutcome::Done(all)
            }
        }
    }
}
