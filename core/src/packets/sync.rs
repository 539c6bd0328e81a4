//! 50888: message sync — catch-up after a (re)connect, and history pages.

use crate::frame_error::FrameError;
use crate::ids::{MessageId, Peer, Seq};
use crate::limits::MAX_CATCH_UP_PAGE;
use crate::packet::{Packet, check_limit, check_page_limit, invalid};
use crate::packets::message::Message;
use serde::{Deserialize, Serialize};

/// Everything the caller received after `since`, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatchUp {
    /// The last seq the client has; `0` (or absent) for everything.
    #[serde(default)]
    pub since: Seq,
    /// The most messages to return (default 50, at most 1,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl Packet for CatchUp {
    const NAME: &'static str = "CatchUp";
    fn validate(&self) -> Result<(), FrameError> {
        check_limit(Self::NAME, self.limit, MAX_CATCH_UP_PAGE)
    }
}

/// One page of a conversation's history: the messages just before `before`
/// (or the newest ones), returned oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// The conversation: the other user, or a group the caller belongs to (or belonged to).
    pub target: Peer,
    /// Only messages with a smaller id; absent for the newest page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<MessageId>,
    /// The most messages to return (default 50, at most 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl Packet for History {
    const NAME: &'static str = "History";
    fn validate(&self) -> Result<(), FrameError> {
        check_page_limit(Self::NAME, self.limit)
    }
}

/// Search every message the caller may see (PROTOCOL §17): the hits just
/// before `before` (or the newest), newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Search {
    /// The query (base64 on the wire): a hit contains it, in any case.
    #[serde(with = "crate::text::b64")]
    pub search: String,
    /// Only this conversation; absent: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Peer>,
    /// Only hits with a smaller id; absent for the newest page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<MessageId>,
    /// The most hits to return (default 20, at most 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl Packet for Search {
    const NAME: &'static str = "Search";
    fn validate(&self) -> Result<(), FrameError> {
        let query = self.search.trim();
        if !query.chars().any(char::is_alphanumeric) {
            return Err(invalid(
                Self::NAME,
                "search has no letter or digit; expected words to look for",
            ));
        }
        let chars = query.chars().count();
        if chars > crate::limits::MAX_SEARCH_CHARS {
            return Err(invalid(
                Self::NAME,
                format!(
                    "search is {chars} characters long; expected at most {}",
                    crate::limits::MAX_SEARCH_CHARS
                ),
            ));
        }
        check_page_limit(Self::NAME, self.limit)
    }
}

/// The reply to [`Search`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    /// Always 11.
    pub state: crate::State,
    /// The hits, newest first.
    pub messages: Vec<Message>,
    /// More hits lie before the last one: ask again with its id as `before`.
    pub more: bool,
}

impl Packet for SearchPage {
    const NAME: &'static str = "SearchPage";
}

/// What a client sends on 50888.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncRequest {
    /// `{"since"}`
    CatchUp(CatchUp),
    /// `{"target"}`
    History(History),
    /// `{"reads"}`: the read marks changed since a version (§16.3).
    Reads(crate::packets::receipts::ReadsQuery),
    /// `{"search"}`: a search of all history (§17).
    Search(Search),
}

impl SyncRequest {
    /// Tells the two requests apart by their fields.
    pub fn from_frame(frame: &crate::Frame) -> Result<SyncRequest, FrameError> {
        let keys = frame.field_names()?;
        // A search may name a `target` too: it is told apart first.
        if keys.iter().any(|k| k == "search") {
            frame.packet().map(SyncRequest::Search)
        } else if keys.iter().any(|k| k == "since") {
            frame.packet().map(SyncRequest::CatchUp)
        } else if keys.iter().any(|k| k == "target") {
            frame.packet().map(SyncRequest::History)
        } else if keys.iter().any(|k| k == "reads") {
            frame.packet().map(SyncRequest::Reads)
        } else if keys.iter().all(|k| k == "limit") {
            // The document's 50888 is "sync all messages", with no fields of
            // its own: an empty request is a catch-up from the start.
            frame.packet().map(SyncRequest::CatchUp)
        } else {
            Err(invalid(
                "message sync request",
                "expected a catch-up {since}, a history page {target,before,limit}, read marks {reads} or a search {search}",
            ))
        }
    }
}

/// The reply to [`CatchUp`] and [`History`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    /// Always 11.
    pub state: crate::State,
    /// Oldest first.
    pub messages: Vec<Message>,
    /// Whether more messages lie beyond this page (ask again from its end).
    pub more: bool,
}

impl Packet for MessagePage {
    const NAME: &'static str = "MessagePage";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<SyncRequest, FrameError> {
        let text =
            crate::Frame::encode_payload(crate::envelope::Encoding::Plain, json).expect("encodes");
        let frame = crate::Frame::decode(&text).expect("frame");
        SyncRequest::from_frame(&frame)
    }

    #[test]
    fn a_search_naming_a_conversation_is_a_search_not_a_history_page() {
        let request = read(r#"{"search":"5ZGo5oql","target":"7"}"#).expect("search");
        assert!(
            matches!(&request, SyncRequest::Search(search) if search.search == "周报"),
            "{request:?}"
        );
        assert!(matches!(
            read(r#"{"target":"7"}"#).expect("history"),
            SyncRequest::History(_)
        ));
    }

    #[test]
    fn a_search_needs_a_letter_or_digit_and_at_most_100_characters() {
        // "，。" and 101 × "周", in base64.
        let err = read(r#"{"search":"77yM44CC"}"#).expect_err("no letter");
        assert!(err.to_string().contains("no letter or digit"), "{err}");
        let long = serde_json::to_string(&Search {
            search: "周".repeat(101),
            target: None,
            before: None,
            limit: None,
        })
        .expect("json");
        let err = read(&long).expect_err("too long");
        assert!(err.to_string().contains("at most 100"), "{err}");
    }
}
