//! Company broadcasts: send (25888) and sync (55888).

use crate::frame_error::FrameError;
use crate::ids::{BroadcastId, ClientMsgId, UserId};
use crate::limits;
use crate::packet::{Packet, check_chars, check_page_limit, invalid};
use crate::text;
use serde::{Deserialize, Serialize};

/// What kind of broadcast it is. Travels as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum BroadcastKind {
    /// 0: 通知, a notice.
    Notice,
    /// 1: 新闻, news.
    News,
    /// 2: 公告, an announcement.
    Announcement,
}

impl TryFrom<u8> for BroadcastKind {
    type Error = String;
    fn try_from(code: u8) -> Result<BroadcastKind, String> {
        match code {
            0 => Ok(BroadcastKind::Notice),
            1 => Ok(BroadcastKind::News),
            2 => Ok(BroadcastKind::Announcement),
            other => Err(format!(
                "broadcast kind {other} is unknown; expected 0 (notice), 1 (news) or 2 (announcement)"
            )),
        }
    }
}

impl From<BroadcastKind> for u8 {
    fn from(kind: BroadcastKind) -> u8 {
        match kind {
            BroadcastKind::Notice => 0,
            BroadcastKind::News => 1,
            BroadcastKind::Announcement => 2,
        }
    }
}

/// 25888: send a broadcast to everyone (only users the directory allows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendBroadcast {
    /// The sender: must be the session's own user.
    pub from: UserId,
    /// Its kind.
    pub kind: BroadcastKind,
    /// Its title (base64 on the wire).
    #[serde(with = "text::b64")]
    pub title: String,
    /// Its text (base64 on the wire).
    #[serde(with = "text::b64")]
    pub content: String,
    /// The client's id for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<ClientMsgId>,
}

impl Packet for SendBroadcast {
    const NAME: &'static str = "SendBroadcast";
    fn validate(&self) -> Result<(), FrameError> {
        if self.title.trim().is_empty() {
            return Err(invalid(Self::NAME, "title is empty; expected a title"));
        }
        if self.content.trim().is_empty() {
            return Err(invalid(Self::NAME, "content is empty; expected some text"));
        }
        check_chars("title", &self.title, limits::MAX_BROADCAST_TITLE_CHARS)?;
        check_chars("content", &self.content, limits::MAX_BROADCAST_CHARS)
    }
}

/// A stored broadcast, as pushed live and returned by 55888.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Broadcast {
    /// Its id.
    pub id: BroadcastId,
    /// Who sent it.
    pub from: UserId,
    /// Its kind.
    pub kind: BroadcastKind,
    /// Its title (base64 on the wire).
    #[serde(with = "text::b64")]
    pub title: String,
    /// Its text (base64 on the wire).
    #[serde(with = "text::b64")]
    pub content: String,
    /// When it was stored, `YYYY-MM-DD HH:MM:SS` in the server's zone.
    pub time: String,
    /// When it was stored, in milliseconds since the Unix epoch.
    pub ts: i64,
}

/// The reply to [`SendBroadcast`], once it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BroadcastAck {
    /// Always 11.
    pub state: crate::State,
    /// The client's id, when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<ClientMsgId>,
    /// The stored broadcast.
    pub broadcast: Broadcast,
}

impl Packet for BroadcastAck {
    const NAME: &'static str = "BroadcastAck";
}

/// 55888: broadcasts after `since` (all when absent), oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BroadcastQuery {
    /// The newest broadcast the client has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<BroadcastId>,
    /// The most to return (default 50, at most 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl Packet for BroadcastQuery {
    const NAME: &'static str = "BroadcastQuery";
    fn validate(&self) -> Result<(), FrameError> {
        check_page_limit(Self::NAME, self.limit)
    }
}

/// The reply to [`BroadcastQuery`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BroadcastPage {
    /// Always 11.
    pub state: crate::State,
    /// Oldest first.
    pub broadcasts: Vec<Broadcast>,
    /// Whether more lie beyond this page.
    pub more: bool,
}

impl Packet for BroadcastPage {
    const NAME: &'static str = "BroadcastPage";
}
