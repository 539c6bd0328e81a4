//! Searching all history on the server (50888 `{"search"}`, PROTOCOL §17):
//! what a device never cached can still be found.
//!
//! A search is asked like an operation: refused at once while offline (the
//! UI says only cached messages can be searched then), otherwise answered
//! exactly once with [`Event::Searched`] — the page, the server's refusal
//! with its reason, a timeout when its socket cannot open, or a lost
//! connection. It is not retried behind the user's back: the user typed the
//! query, and sees at once that the server could not answer it.
//!
//! The hits are handed to the UI and nothing else: they are not filed into
//! the cache. A hit may lie years back in a conversation whose cached
//! history is only the newest pages; filing it would make a hole in that
//! history look closed (and a hit is not news: no unread, no alert).
//! Opening a hit loads the history down to it, page by page, like scrolling.

use super::links::Request;
use super::timers::{Timer, TimerTable};
use super::{Engine, Event, OperationError, REQUEST_TIMEOUT_MS, encode, reply_of};
use crate::envelope::Frame;
use crate::ids::{MessageId, Peer};
use crate::packet::Packet;
use crate::packets::sync::{Search, SearchPage};
use crate::reply::{ErrorReply, State};
use crate::service::Service;
use crate::sorted_map::SortedMap;

/// Hits per page asked of the server.
pub const SEARCH_PAGE: u32 = 20;

/// Names one search request, to match it with its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SearchId(pub u64);

/// A search waiting for its answer.
#[derive(Debug, Clone)]
struct PendingSearch {
    frame: String,
    /// When the user asked: one not on the wire by the request timeout fails.
    asked_at: i64,
    on_the_wire: bool,
}

/// The searches not answered yet, by id.
#[derive(Debug, Default)]
pub(super) struct Searches {
    pending: SortedMap<SearchId, PendingSearch>,
    next: u64,
}

impl Searches {
    fn deadline(pending: &PendingSearch) -> Option<i64> {
        (!pending.on_the_wire).then_some(pending.asked_at + REQUEST_TIMEOUT_MS)
    }

    /// The ones that could not go out within the request timeout.
    pub(super) fn stale(&self, now: i64) -> Vec<SearchId> {
        self.pending
            .iter()
            .filter(|(_, p)| Self::deadline(p).is_some_and(|at| now >= at))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Every one waiting.
    pub(super) fn ids(&self) -> Vec<SearchId> {
        self.pending.keys().copied().collect()
    }

    pub(super) fn add_deadlines(&self, table: &mut TimerTable) {
        for at in self.pending.values().filter_map(Self::deadline) {
            table.add(Timer::SearchTimeout, at);
        }
    }
}

impl Engine {
    /// Searches every message the user may see on the server, or those of
    /// one conversation (`within`), for `query`: the newest hits, or (with
    /// `before`, the last hit of the previous page) the next page. Refused
    /// at once when offline or when the query is not one the server takes
    /// (no letter or digit, over 100 characters); otherwise answered exactly
    /// once with [`Event::Searched`].
    pub fn search_server(
        &mut self,
        query: &str,
        within: Option<Peer>,
        before: Option<MessageId>,
        now: i64,
    ) -> Result<SearchId, OperationError> {
        self.advance(now);
        if self.stream.is_stopped() {
            return Err(OperationError::NotLoggedIn);
        }
        if !self.stream.is_live() {
            return Err(OperationError::Offline);
        }
        let search = Search {
            search: query.trim().to_owned(),
            target: within,
            before,
            limit: Some(SEARCH_PAGE),
        };
        search
            .validate()
            .map_err(|e| OperationError::Invalid(e.to_string()))?;
        let id = SearchId(self.searches.next);
        self.searches.next += 1;
        self.searches.pending.insert(
            id,
            PendingSearch {
                frame: encode(&search),
                asked_at: now,
                on_the_wire: false,
            },
        );
        self.drive(now);
        Ok(id)
    }

    /// Sends the searches not on the wire yet.
    pub(super) fn ask_searches(&mut self, now: i64) {
        let unsent: Vec<(SearchId, String)> = self
            .searches
            .pending
            .iter()
            .filter(|(_, p)| !p.on_the_wire)
            .map(|(id, p)| (*id, p.frame.clone()))
            .collect();
        for (id, frame) in unsent {
            if self.request(Service::SyncMessages, Request::Search(id), frame, now)
                && let Some(pending) = self.searches.pending.get_mut(&id)
            {
                pending.on_the_wire = true;
            }
        }
    }

    pub(super) fn search_reply(&mut self, id: SearchId, frame: &Frame) {
        if self.searches.pending.remove(&id).is_some() {
            let result = reply_of::<SearchPage>(frame);
            self.notify(Event::Searched { id, result });
        }
    }

    /// Answers a search with a failure, if it still waits.
    pub(super) fn fail_search(&mut self, id: SearchId, state: State, reason: &str) {
        if self.searches.pending.remove(&id).is_some() {
            self.notify(Event::Searched {
                id,
                result: Err(ErrorReply::new(state, reason)),
            });
        }
    }
}
