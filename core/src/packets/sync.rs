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

/// What a client sends on 50888.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncRequest {
    /// `{"since"}`
    CatchUp(CatchUp),
    /// `{"target"}`
    History(History),
    /// `{"reads"}`: the read marks changed since a version (§16.3).
    Reads(crate::packets::receipts::ReadsQuery),
}

impl SyncRequest {
    /// Tells the two requests apart by their fields.
    pub fn from_frame(frame: &crate::Frame) -> Result<SyncRequest, FrameError> {
        let keys = frame.field_names()?;
        if keys.iter().any(|k| k == "since") {
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
                "expected a catch-up {since}, a history page {target,before,limit} or read marks {reads}",
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
