//! What the search page shows of the server's search (PROTOCOL §17), as
//! plain state: the hits the cache did not have, page by page, and whether
//! the server is being asked, could not be, or failed.

use crate::state::{OperationFailure, ServerHits};
use penpen_core::MessageId;
use penpen_core::search::Hit;
use penpen_core::sync::OperationError;

/// Pages in a row that may bring nothing new (every hit already cached)
/// before the page waits for the user's "more": the newest server hits are
/// mostly the cached ones.
const QUIET_PAGES: u32 = 5;

/// Where the server's search stands.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Phase {
    /// Nothing asked (no query, or one the server would refuse).
    #[default]
    Idle,
    /// A page is on its way.
    Searching,
    /// The pages so far are in.
    Done,
    /// Offline: only this device's messages were searched.
    Offline,
    /// The server refused, or could not be reached; why.
    Failed(String),
}

impl Phase {
    /// The `data-state` of the section.
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Searching => "searching",
            Phase::Done => "done",
            Phase::Offline => "offline",
            Phase::Failed(_) => "failed",
        }
    }
}

/// The server's side of one query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServerSearch {
    /// The query these hits answer.
    pub query: String,
    /// Hits the cache did not have, newest first.
    pub hits: Vec<Hit>,
    /// More hits lie on the server.
    pub more: bool,
    /// The next page is asked for before this id.
    pub last: Option<MessageId>,
    /// Where it stands.
    pub phase: Phase,
    /// Pages in a row that brought nothing new.
    quiet: u32,
}

impl ServerSearch {
    /// A new query, asked of the server.
    pub fn asking(query: &str) -> ServerSearch {
        ServerSearch {
            query: query.to_owned(),
            phase: Phase::Searching,
            ..ServerSearch::default()
        }
    }

    /// The next page was asked for.
    pub fn asking_more(&self) -> ServerSearch {
        ServerSearch {
            phase: Phase::Searching,
            quiet: 0,
            ..self.clone()
        }
    }

    /// A page came: its hits not among `cached` (nor already shown) are
    /// kept. Whether to ask for the next page at once (this one brought
    /// nothing new, and more lie beyond).
    pub fn page(&mut self, page: ServerHits, cached: &[Hit]) -> bool {
        let before = self.hits.len();
        for hit in page.hits {
            let known = cached.iter().chain(&self.hits).any(|h| h.id == hit.id);
            if !known {
                self.hits.push(hit);
            }
        }
        self.more = page.more && page.last.is_some();
        self.last = page.last.or(self.last);
        self.phase = Phase::Done;
        self.quiet = if self.hits.len() == before {
            self.quiet + 1
        } else {
            0
        };
        let again = self.more && self.quiet > 0 && self.quiet < QUIET_PAGES;
        if again {
            self.phase = Phase::Searching;
        }
        again
    }

    /// The server could not answer.
    pub fn failed(&mut self, failure: OperationFailure) {
        self.phase = match failure {
            OperationFailure::NotSent(OperationError::Offline) => Phase::Offline,
            // Punctuation only: the cache finds nothing either.
            OperationFailure::NotSent(OperationError::Invalid(_)) => Phase::Idle,
            OperationFailure::NotSent(err) => Phase::Failed(err.to_string()),
            OperationFailure::Refused(refusal) => Phase::Failed(refusal.error),
        };
    }

    /// The hits to show below `cached`: none already among them (the
    /// cached search may answer after the server).
    pub fn shown<'a>(&'a self, cached: &'a [Hit]) -> impl Iterator<Item = &'a Hit> {
        self.hits
            .iter()
            .filter(move |hit| !cached.iter().any(|c| c.id == hit.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use penpen_core::testing::user;
    use penpen_core::{ErrorReply, Peer, State};

    fn hit(id: u64) -> Hit {
        Hit {
            conversation: Peer::User(user(2)),
            id: MessageId(id),
            from: Some(user(2)),
            ts: id as i64,
            text: format!("周报 {id}"),
        }
    }

    fn page(ids: &[u64], more: bool) -> ServerHits {
        ServerHits {
            hits: ids.iter().map(|id| hit(*id)).collect(),
            more,
            last: ids.last().map(|id| MessageId(*id)),
        }
    }

    fn ids(hits: impl IntoIterator<Item = impl std::borrow::Borrow<Hit>>) -> Vec<u64> {
        hits.into_iter().map(|h| h.borrow().id.0).collect()
    }

    #[test]
    fn only_hits_the_cache_lacks_are_added_and_the_next_page_starts_below_the_last() {
        let cached = [hit(90), hit(80)];
        let mut search = ServerSearch::asking("周报");
        assert!(!search.page(page(&[90, 85, 80, 70], true), &cached));
        assert_eq!(ids(&search.hits), vec![85, 70]);
        assert_eq!(search.last, Some(MessageId(70)));
        assert!(search.more);
        let mut search = search.asking_more();
        assert_eq!(search.phase, Phase::Searching);
        assert!(!search.page(page(&[60, 85], false), &cached));
        assert_eq!(ids(&search.hits), vec![85, 70, 60]);
        assert!(!search.more);
        assert_eq!(search.phase, Phase::Done);
        // A cached hit known only later is not shown twice.
        assert_eq!(ids(search.shown(&[hit(70)])), vec![85, 60]);
    }

    #[test]
    fn a_page_of_cached_hits_asks_for_the_next_but_not_forever() {
        let cached: Vec<Hit> = (1..=100).map(hit).collect();
        let mut search = ServerSearch::asking("周报");
        let mut asked = 1;
        while search.page(page(&[100 - asked, 99 - asked], true), &cached) {
            asked += 1;
        }
        assert_eq!(asked, QUIET_PAGES as u64, "gave up after the quiet pages");
        assert_eq!(search.phase, Phase::Done);
        assert!(search.more, "the user may still ask for more");
        // No more on the server: nothing to ask.
        let mut search = ServerSearch::asking("周报");
        assert!(!search.page(page(&[100], false), &cached));
    }

    #[test]
    fn offline_a_refusal_and_an_unsearchable_query_are_told_apart() {
        let mut search = ServerSearch::asking("周报");
        search.failed(OperationFailure::NotSent(OperationError::Offline));
        assert_eq!(search.phase, Phase::Offline);
        search.failed(OperationFailure::Refused(ErrorReply::new(
            State::UNAVAILABLE,
            "the connection was lost",
        )));
        assert_eq!(
            search.phase,
            Phase::Failed("the connection was lost".into())
        );
        search.failed(OperationFailure::NotSent(OperationError::Invalid(
            "no letter".into(),
        )));
        assert_eq!(search.phase, Phase::Idle);
    }
}
