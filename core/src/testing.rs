//! Builders for tests: users, groups and messages, the same everywhere.
//!
//! Only with the `testing` feature, which crates turn on from their
//! dev-dependencies: it is never part of a release build.

use crate::ids::{GroupId, MessageId, Peer, Seq, UserId};
use crate::packets::groups::{Group, Members};
use crate::packets::message::{Message, MessageType, Sender};

/// The `ts` of message 0; message `id` is `id` ms later.
pub const BASE_TS: i64 = 1_795_000_000_000;

/// User `n`: the 11-digit account `13800000000 + n`.
pub fn user(n: u64) -> UserId {
    UserId::parse(&format!("{}", 13_800_000_000 + n)).expect("13800000000 + n is an 11-digit id")
}

/// Group `n`.
pub fn gid(n: u64) -> GroupId {
    GroupId::new(n).expect("a test gid is within the protocol's range")
}

/// Group `n` named `name`, held by the first of `members` (users by number).
pub fn group(n: u64, name: &str, members: &[u64]) -> Group {
    Group {
        gid: gid(n),
        holder: user(members[0]),
        name: name.into(),
        member: Members(members.iter().map(|m| user(*m)).collect()),
    }
}

/// A text from user `from` to `to` (a group text when `to` is a group),
/// with id and seq `id` and `ts` [`BASE_TS`] + `id`. Change what a test needs
/// with struct update syntax.
pub fn message(id: u64, from: u64, to: Peer, text: &str) -> Message {
    Message {
        quote: None,
        mentions: None,
        mention_all: false,
        recalled: None,
        name: None,
        size: None,
        from: Sender::User(user(from)),
        kind: if to.group().is_some() {
            MessageType::GroupText
        } else {
            MessageType::Text
        },
        to,
        content: text.to_owned(),
        time: "2026-11-26 10:00:00".into(),
        ts: BASE_TS + id as i64,
        id: MessageId(id),
        seq: Some(Seq(id)),
        cid: None,
        duration: None,
    }
}
