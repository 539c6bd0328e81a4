//! Read receipts (已读回执, PROTOCOL §16): read marks and group watches on
//! 20888, the catch-up of marks on 50888, the urgent reminder (加急) on
//! 27888 and the privacy choice on 32888.
//!
//! A read mark is a watermark: "read up to and including this message" in
//! its conversation. Counts are never sent; a client computes them from the
//! marks (see [`crate::receipts`]).

use crate::frame_error::FrameError;
use crate::ids::{GroupId, MessageId, Peer, UserId};
use crate::packet::{Packet, invalid};
use crate::packets::message::Quote;
use serde::{Deserialize, Serialize};

/// The most marks one catch-up page carries.
pub const MAX_READS_PAGE: usize = 1_000;
/// The most members (current and former) one group's marks carry.
pub const MAX_GROUP_READS: usize = 10_000;
/// How often at most a watcher is sent a group's changed marks, and a
/// client sends its own: about once a second (§16.2).
pub const READS_COALESCE_MS: i64 = 1_000;
/// A message may be the subject of one reminder per minute (§16.4).
pub const DING_INTERVAL_MS: i64 = 60_000;
/// Reminders older than this are not pushed again at login (§16.4).
pub const DING_REPLAY_MS: i64 = 24 * 60 * 60 * 1000;

/// `{"read":"1001"}` on 20888: the caller has read this message and
/// everything before it in its conversation. No reply once stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadMark {
    /// The newest message read.
    pub read: MessageId,
}

impl Packet for ReadMark {
    const NAME: &'static str = "ReadMark";
}

/// `{"watch":"7"}` on 20888: this session has the group open and wants its
/// members' marks; `{"watch":null}` stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watch {
    /// The group, or none.
    pub watch: Option<GroupId>,
}

impl Packet for Watch {
    const NAME: &'static str = "Watch";
}

/// One person's mark on a conversation: the 20888 push `{"read":{…}}` and
/// an entry of a [`ReadsPage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerRead {
    /// The conversation, as the receiver of this frame names it: for the
    /// reader's own sessions the other person (or the group), for the
    /// other person of a 1:1 conversation the reader.
    pub target: Peer,
    /// Who read.
    pub by: UserId,
    /// The newest message they read; absent when `private`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<MessageId>,
    /// They do not share read receipts (§16.5): unknown, not unread.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub private: bool,
}

impl Packet for PeerRead {
    const NAME: &'static str = "PeerRead";
    fn validate(&self) -> Result<(), FrameError> {
        if self.private == self.id.is_some() {
            return Err(invalid(
                Self::NAME,
                "a mark has either an id or \"private\":true; expected exactly one",
            ));
        }
        Ok(())
    }
}

/// One member's mark in a group (§16.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRead {
    /// The member (or former member).
    pub user: UserId,
    /// The newest message of the group they read; absent: none yet, or
    /// `private`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<MessageId>,
    /// In a full list: the newest message stored before they joined
    /// (absent: a member from the start). Messages up to it are not theirs
    /// to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined: Option<MessageId>,
    /// In a full list: the last message they could read, once they left
    /// (absent: still a member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left: Option<MessageId>,
    /// They do not share read receipts (§16.5).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub private: bool,
}

/// The 20888 push `{"reads":{…}}`: a watched group's marks, all of them
/// (`full`, the answer to a watch) or those that moved since the last push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupReads {
    /// The group.
    pub target: GroupId,
    /// Every member and former member, with `joined` and `left`: replaces
    /// what the client held.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full: bool,
    /// The marks.
    pub marks: Vec<MemberRead>,
}

impl Packet for GroupReads {
    const NAME: &'static str = "GroupReads";
    fn validate(&self) -> Result<(), FrameError> {
        if self.marks.len() > MAX_GROUP_READS {
            return Err(invalid(
                Self::NAME,
                format!(
                    "{} marks is too many; expected at most {MAX_GROUP_READS}",
                    self.marks.len()
                ),
            ));
        }
        Ok(())
    }
}

/// `{"reads":12}` on 50888: the marks that changed after version 12 which
/// the caller may see: their own, and the other person's in each of their
/// 1:1 conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadsQuery {
    /// The `version` of the last page held; 0 for all.
    pub reads: u64,
}

impl Packet for ReadsQuery {
    const NAME: &'static str = "ReadsQuery";
}

/// The reply to [`ReadsQuery`], oldest change first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadsPage {
    /// Always 11.
    pub state: crate::State,
    /// The marks (each conversation and reader at most once).
    pub reads: Vec<PeerRead>,
    /// Ask from here next time.
    pub version: u64,
    /// More changes lie beyond this page: ask again with `version`.
    pub more: bool,
}

impl Packet for ReadsPage {
    const NAME: &'static str = "ReadsPage";
    fn validate(&self) -> Result<(), FrameError> {
        if self.reads.len() > MAX_READS_PAGE {
            return Err(invalid(
                Self::NAME,
                format!(
                    "{} marks is too many; expected at most {MAX_READS_PAGE}",
                    self.reads.len()
                ),
            ));
        }
        self.reads.iter().try_for_each(Packet::validate)
    }
}

/// `{"ding":"1001"}` on 27888: remind everyone who has not read the
/// caller's message 1001 (加急, §16.4). Answered `{"state":11}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ding {
    /// The caller's own message.
    pub ding: MessageId,
}

impl Packet for Ding {
    const NAME: &'static str = "Ding";
}

/// The 20888 push `{"ding":{…}}` to each person reminded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DingNotice {
    /// The conversation, as the person reminded names it.
    pub target: Peer,
    /// Who is reminding them (the message's sender).
    pub by: UserId,
    /// When they did (ms since the epoch).
    pub ts: i64,
    /// What the message is, like a quote's snapshot (§15.2).
    pub message: Quote,
}

impl Packet for DingNotice {
    const NAME: &'static str = "DingNotice";
}

/// `{"receipts":false}` on 32888: stop (or start) showing others what one
/// has read (§16.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptsSetting {
    /// Share read receipts.
    pub receipts: bool,
}

impl Packet for ReceiptsSetting {
    const NAME: &'static str = "ReceiptsSetting";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_mark_has_an_id_or_is_private_never_both() {
        let read = |json: &str| {
            let mark: PeerRead = serde_json::from_str(json).expect("json");
            mark.validate()
        };
        read(r#"{"target":"7","by":"13800000001","id":"1001"}"#).expect("an id");
        read(r#"{"target":"7","by":"13800000001","private":true}"#).expect("private");
        let err = read(r#"{"target":"7","by":"13800000001"}"#).expect_err("neither");
        assert!(err.to_string().contains("exactly one"), "{err}");
        read(r#"{"target":"7","by":"13800000001","id":"1","private":true}"#).expect_err("both");
    }

    #[test]
    fn watch_null_stops_watching() {
        let stop: Watch = serde_json::from_str(r#"{"watch":null}"#).expect("null");
        assert_eq!(stop.watch, None);
        assert_eq!(
            serde_json::to_string(&stop).expect("json"),
            r#"{"watch":null}"#
        );
    }
}
