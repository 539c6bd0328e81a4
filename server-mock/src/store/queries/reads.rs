//! Read receipts (§16): read marks with their versions, a group's marks for
//! its watchers, the catch-up of marks, the receipts choice, and the
//! reminders (加急) with their replay.

use super::groups::{Membership, membership};
use super::recalls::{is_user_content, quote_for};
use super::user_id;
use crate::store::StoreError;
use crate::store::db::{Db, params};
use penpen_core::packets::message::{MessageType, Quote, Sender};
use penpen_core::packets::receipts::{DingNotice, MAX_GROUP_READS, MemberRead, PeerRead};
use penpen_core::{GroupId, MessageId, Peer, State, UserId};

/// A conversation as one of its people sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadConversation {
    /// The key of `messages.conversation`.
    pub key: String,
    /// How the reader names it: the other person, or the group.
    pub target: Peer,
    /// The other person of a 1:1 conversation (none in a group, or in a
    /// conversation with oneself).
    pub peer: Option<UserId>,
}

/// A message a user may see, with what the receipts need of it.
#[derive(Debug, Clone)]
struct Visible {
    sender: Sender,
    to: Peer,
    kind: MessageType,
    recalled: bool,
    conversation: ReadConversation,
}

fn no_such_message(user: &UserId, id: MessageId) -> StoreError {
    StoreError::refused(
        State::NO_SUCH_MESSAGE,
        format!("message {id} does not exist or is not in a conversation {user} may read"),
    )
}

fn parse_peer(text: &str) -> Result<Peer, StoreError> {
    Peer::parse(text).map_err(|e| StoreError::Database(format!("stored target {text:?}: {e}")))
}

/// Message `id` if `user` may see it: in a 1:1 conversation of theirs, or
/// in a group they are in, or were in until after it (the rule of
/// `history`); 39 otherwise.
fn visible(conn: &Db<'_>, user: &UserId, id: MessageId) -> Result<Visible, StoreError> {
    let row: Option<(String, String, String, u16, Option<String>)> = conn.query_opt(
        "SELECT sender, target, conversation, type, recalled_by FROM messages WHERE id = ?1",
        params![id.0.min(i64::MAX as u64) as i64],
        |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        },
    )?;
    let Some((sender, target, key, kind, recalled_by)) = row else {
        return Err(no_such_message(user, id));
    };
    let to = parse_peer(&target)?;
    let sender = if sender == "0" {
        Sender::System
    } else {
        Sender::User(user_id(sender)?)
    };
    let conversation = match &to {
        Peer::Group(gid) => {
            match membership(conn, *gid, user)? {
                Some(Membership::Current) => {}
                Some(Membership::Left(last)) if id <= last => {}
                _ => return Err(no_such_message(user, id)),
            }
            ReadConversation {
                key,
                target: to.clone(),
                peer: None,
            }
        }
        Peer::User(recipient) => {
            // The two parties are the sender and the recipient: the caller
            // must be one of them, and the other one names the conversation.
            let other = match &sender {
                Sender::User(from) if from == user => recipient.clone(),
                Sender::User(from) if recipient == user => from.clone(),
                _ => return Err(no_such_message(user, id)),
            };
            ReadConversation {
                key,
                target: Peer::User(other.clone()),
                peer: (&other != user).then_some(other),
            }
        }
    };
    Ok(Visible {
        sender,
        to,
        kind: MessageType::from_code(kind),
        recalled: recalled_by.is_some(),
        conversation,
    })
}

/// The next version of the marks. Only the writer bumps it, inside its
/// transaction, so versions commit in the order they are given.
fn next_version(conn: &Db<'_>) -> Result<i64, StoreError> {
    conn.query_row(
        "UPDATE read_versions SET last = last + 1 WHERE id = 1 RETURNING last",
        params![],
        |row| row.get(0),
    )
}

/// `user`'s mark in a conversation (by its key).
pub fn read_mark(conn: &Db<'_>, user: &UserId, key: &str) -> Result<Option<MessageId>, StoreError> {
    Ok(conn
        .query_opt(
            "SELECT message_id FROM read_marks WHERE user_id = ?1 AND conversation = ?2",
            params![user.as_str(), key],
            |row| row.get::<i64>(0),
        )?
        .map(|id| MessageId(id as u64)))
}

/// A mark that moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkMoved {
    /// The conversation, as the reader names it.
    pub conversation: ReadConversation,
    /// The reader's new mark.
    pub id: MessageId,
    /// Whether the reader shares receipts (their choice or the default).
    pub shares: bool,
}

/// Records that `user` read message `id` and what came before it in its
/// conversation (39 when they may not see it). `None` when the stored
/// mark is already at or above it: nothing changed.
pub fn mark_read(
    conn: &Db<'_>,
    user: &UserId,
    id: MessageId,
    shared_by_default: bool,
) -> Result<Option<MarkMoved>, StoreError> {
    let conversation = visible(conn, user, id)?.conversation;
    if read_mark(conn, user, &conversation.key)?.is_some_and(|stored| stored >= id) {
        return Ok(None);
    }
    let version = next_version(conn)?;
    conn.execute(
        "INSERT INTO read_marks (user_id, conversation, target, peer, message_id, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(user_id, conversation) DO UPDATE SET message_id = excluded.message_id,
                                                       version = excluded.version",
        params![
            user.as_str(),
            conversation.key,
            conversation.target.to_string(),
            conversation.peer.as_ref().map(UserId::as_str),
            id.0 as i64,
            version
        ],
    )?;
    Ok(Some(MarkMoved {
        conversation,
        id,
        shares: shares_receipts(conn, user, shared_by_default)?,
    }))
}

/// Whether `user` shares read receipts: their choice, else the company's.
pub fn shares_receipts(
    conn: &Db<'_>,
    user: &UserId,
    shared_by_default: bool,
) -> Result<bool, StoreError> {
    let choice: Option<Option<bool>> = conn.query_opt(
        "SELECT receipts FROM users WHERE id = ?1",
        params![user.as_str()],
        |row| row.get(0),
    )?;
    Ok(choice.flatten().unwrap_or(shared_by_default))
}

/// Stores `user`'s choice to share receipts, and gives their 1:1 marks new
/// versions, so the other people's next catch-up sees them as they now are.
pub fn set_receipts(conn: &Db<'_>, user: &UserId, share: bool) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET receipts = ?2 WHERE id = ?1",
        params![user.as_str(), share],
    )?;
    let keys = conn.query_all(
        "SELECT conversation FROM read_marks WHERE user_id = ?1 AND peer IS NOT NULL
             ORDER BY version",
        params![user.as_str()],
        |row| row.get::<String>(0),
    )?;
    // One version each: a catch-up page may end between any two of them.
    for key in keys {
        let version = next_version(conn)?;
        conn.execute(
            "UPDATE read_marks SET version = ?3 WHERE user_id = ?1 AND conversation = ?2",
            params![user.as_str(), key, version],
        )?;
    }
    Ok(())
}

/// The marks `user` may see that changed after `after`, oldest change
/// first, at most `limit`: their own, and the other person's in each of
/// their 1:1 conversations (`private` when that person does not share).
/// Also the version to ask from next (after the last page, the newest
/// version given out, so the next catch-up starts there), and whether more
/// follow.
pub fn reads_after(
    conn: &Db<'_>,
    user: &UserId,
    after: u64,
    limit: usize,
    shared_by_default: bool,
) -> Result<(Vec<PeerRead>, u64, bool), StoreError> {
    // Read before the marks: every version up to it is committed, so the
    // marks read next hold each one the caller may see.
    let newest: i64 = conn.query_row(
        "SELECT last FROM read_versions WHERE id = 1",
        params![],
        |row| row.get(0),
    )?;
    // Two index range scans (by reader, by peer), merged by version.
    let after = after.min(i64::MAX as u64) as i64;
    let rows = conn.query_all(
        "SELECT r.user_id, r.target, r.message_id, r.version, COALESCE(u.receipts, ?4), 1
           FROM read_marks r JOIN users u ON u.id = r.user_id
          WHERE r.user_id = ?1 AND r.version > ?2
         UNION ALL
         SELECT r.user_id, r.target, r.message_id, r.version, COALESCE(u.receipts, ?4), 0
           FROM read_marks r JOIN users u ON u.id = r.user_id
          WHERE r.peer = ?1 AND r.version > ?2
         ORDER BY 4 LIMIT ?3",
        params![user.as_str(), after, limit as i64 + 1, shared_by_default],
        |row| {
            Ok((
                row.get::<String>(0)?,
                row.get::<String>(1)?,
                row.get::<i64>(2)?,
                row.get::<i64>(3)?,
                row.get::<bool>(4)?,
                row.get::<bool>(5)?,
            ))
        },
    )?;
    let more = rows.len() > limit;
    let mut version = after as u64;
    let mut reads = Vec::with_capacity(rows.len().min(limit));
    for (reader, target, id, row_version, shares, own) in rows.into_iter().take(limit) {
        let reader = user_id(reader)?;
        let (target, private) = if own {
            // One's own devices always get the id.
            (parse_peer(&target)?, false)
        } else {
            // The other person's mark names the conversation by them.
            (Peer::User(reader.clone()), !shares)
        };
        reads.push(PeerRead {
            target,
            by: reader,
            id: (!private).then_some(MessageId(id as u64)),
            private,
        });
        version = row_version as u64;
    }
    if !more {
        version = version.max(newest as u64);
    }
    Ok((reads, version, more))
}

/// Every member and former member of a group with their mark, `joined`
/// and `left` (§16.2), in join order.
pub fn group_reads(
    conn: &Db<'_>,
    gid: GroupId,
    shared_by_default: bool,
) -> Result<Vec<MemberRead>, StoreError> {
    let key = super::conversation_key(&Sender::System, &Peer::Group(gid));
    let id = |value: Option<i64>| value.map(|v| MessageId(v as u64));
    let marks = conn.query_all(
        "SELECT g.user_id, g.joined_id, g.left_id, r.message_id, COALESCE(u.receipts, ?3)
           FROM group_members g JOIN users u ON u.id = g.user_id
           LEFT JOIN read_marks r ON r.user_id = g.user_id AND r.conversation = ?2
          WHERE g.gid = ?1 ORDER BY g.position LIMIT ?4",
        params![
            gid.get() as i64,
            key,
            shared_by_default,
            MAX_GROUP_READS as i64
        ],
        |row| {
            let shares: bool = row.get(4)?;
            Ok(MemberRead {
                user: user_id(row.get(0)?)?,
                joined: id(row.get(1)?),
                left: id(row.get(2)?),
                id: if shares { id(row.get(3)?) } else { None },
                private: !shares,
            })
        },
    )?;
    Ok(marks)
}

/// A reminder (加急) to send: who gets it and what they are shown.
#[derive(Debug, Clone)]
pub struct DingPlan {
    /// The people who have not read the message (never its sender).
    pub recipients: Vec<UserId>,
    /// The conversation as they name it.
    pub target: Peer,
    /// The message, as a quote shows it.
    pub message: Quote,
}

/// What a reminder of message `id` by `caller` would do (§16.4): 39 when
/// they may not see it, 30 when it is not theirs, 40 for a recalled
/// message or a notice, 35 when it was reminded of less than `interval_ms`
/// before `now`.
pub fn plan_ding(
    conn: &Db<'_>,
    caller: &UserId,
    id: MessageId,
    now: i64,
    interval_ms: i64,
) -> Result<DingPlan, StoreError> {
    let message = visible(conn, caller, id)?;
    if message.sender != Sender::User(caller.clone()) {
        return Err(StoreError::refused(
            State::FORBIDDEN,
            format!("message {id} is not {caller}'s; only its sender may remind others of it"),
        ));
    }
    if message.recalled || !is_user_content(message.kind) {
        return Err(StoreError::refused(
            State::TOO_LATE_TO_RECALL,
            format!(
                "message {id} was recalled or is a notice; only a user's message can be reminded of"
            ),
        ));
    }
    let last: Option<i64> = conn.query_row(
        "SELECT MAX(ts) FROM dings WHERE message_id = ?1",
        params![id.0 as i64],
        |row| row.get(0),
    )?;
    if let Some(last) = last.filter(|last| now.saturating_sub(*last) < interval_ms) {
        let wait = ((interval_ms - now.saturating_sub(last) + 999) / 1000).max(1);
        return Err(StoreError::refused(
            State::RATE_LIMITED,
            format!(
                "message {id} was reminded of less than {} s ago; try again in {wait} s",
                interval_ms / 1000
            ),
        ));
    }
    let key = &message.conversation.key;
    let unread = |user: &UserId| -> Result<bool, StoreError> {
        Ok(read_mark(conn, user, key)?.is_none_or(|mark| mark < id))
    };
    let (recipients, target) = match &message.to {
        Peer::Group(gid) => {
            let members = conn.query_all(
                "SELECT user_id FROM group_members
                      WHERE gid = ?1 AND user_id != ?2
                        AND (joined_id IS NULL OR joined_id < ?3)
                        AND (left_id IS NULL OR ?3 <= left_id)",
                params![gid.get() as i64, caller.as_str(), id.0 as i64],
                |row| user_id(row.get(0)?),
            )?;
            let mut unread_members = Vec::new();
            for member in members {
                if unread(&member)? {
                    unread_members.push(member);
                }
            }
            (unread_members, message.to.clone())
        }
        Peer::User(_) => {
            let other = message.conversation.peer.clone();
            let other = match other {
                Some(other) if unread(&other)? => vec![other],
                _ => Vec::new(),
            };
            (other, Peer::User(caller.clone()))
        }
    };
    Ok(DingPlan {
        recipients,
        target,
        message: quote_for(conn, caller, &message.to, id)?,
    })
}

/// Checks a reminder again inside the write and records it.
pub fn record_ding(
    conn: &Db<'_>,
    caller: &UserId,
    id: MessageId,
    now: i64,
    interval_ms: i64,
) -> Result<DingPlan, StoreError> {
    let plan = plan_ding(conn, caller, id, now, interval_ms)?;
    conn.execute(
        "INSERT INTO dings (message_id, by, ts) VALUES (?1, ?2, ?3)",
        params![id.0 as i64, caller.as_str(), now],
    )?;
    Ok(plan)
}

/// The reminders since `since` (ms) of messages meant for `user` that they
/// have still not read, newest reminder per message, oldest first.
pub fn dings_for(conn: &Db<'_>, user: &UserId, since: i64) -> Result<Vec<DingNotice>, StoreError> {
    let rows = conn.query_all(
        "SELECT d.message_id, d.by, d.ts, m.target
               FROM dings d JOIN messages m ON m.id = d.message_id
              WHERE d.ts >= ?2 AND d.by != ?1 AND m.recalled_by IS NULL
                AND d.ts = (SELECT MAX(newer.ts) FROM dings newer WHERE newer.message_id = d.message_id)
                AND (m.target = ?1 OR EXISTS (
                        SELECT 1 FROM group_members g
                         WHERE m.conversation = 'g:' || g.gid AND g.user_id = ?1
                           AND (g.joined_id IS NULL OR g.joined_id < m.id)
                           AND (g.left_id IS NULL OR m.id <= g.left_id)))
                AND NOT EXISTS (
                        SELECT 1 FROM read_marks r
                         WHERE r.user_id = ?1 AND r.conversation = m.conversation
                           AND r.message_id >= m.id)
              ORDER BY d.ts, d.message_id",
        params![user.as_str(), since],
        |row| {
            Ok((
                row.get::<i64>(0)?,
                user_id(row.get(1)?)?,
                row.get::<i64>(2)?,
                row.get::<String>(3)?,
            ))
        },
    )?;
    let mut notices: Vec<DingNotice> = Vec::with_capacity(rows.len());
    for (id, by, ts, to) in rows {
        // Two reminders of one message in the same millisecond: one notice.
        if notices.iter().any(|n| n.message.id.0 == id as u64) {
            continue;
        }
        let to = parse_peer(&to)?;
        let target = match &to {
            Peer::Group(_) => to.clone(),
            Peer::User(_) => Peer::User(by.clone()),
        };
        notices.push(DingNotice {
            message: quote_for(conn, &by, &to, MessageId(id as u64))?,
            target,
            by,
            ts,
        });
    }
    Ok(notices)
}
