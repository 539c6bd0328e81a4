//! Messages: storing with per-recipient seqs, the inbox, history, acks.

use super::directory::user_exists;
use super::groups::{Membership, group_exists, membership};
use super::user_id;
use crate::store::StoreError;
use crate::store::db::{Db, Row, params};
use penpen_core::limits::MAX_PAGE_CONTENT_BYTES;
use penpen_core::packets::groups::Members;
use penpen_core::packets::message::{Message, MessageType, Quote, Recalled, Sender};
use penpen_core::{ClientMsgId, MessageId, Peer, Seq, State, UserId, time};

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Who wrote it.
    pub sender: Sender,
    /// Where it goes.
    pub to: Peer,
    /// What it is.
    pub kind: MessageType,
    /// Its decoded content.
    pub content: String,
    /// Voice length.
    pub duration: Option<u32>,
    /// The sender's id for it.
    pub cid: Option<ClientMsgId>,
    /// When it is stored.
    pub ts: i64,
    /// The members a group text @-mentions (§15.4).
    pub mentions: Option<Members>,
    /// @所有人 (§15.4).
    pub mention_all: bool,
    /// A file's original name and size in bytes (5, 15; §15.6).
    pub file: Option<(String, u64)>,
}

/// A stored message and the seq each recipient got it under.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The message's id.
    pub id: MessageId,
    /// When it was stored (the first time, for a repeated cid).
    pub ts: i64,
    /// Each recipient's seq, the sender's included.
    pub seqs: Vec<(UserId, Seq)>,
    /// Whether this cid had been stored before (nothing new was written).
    pub repeated: bool,
}

impl Stored {
    /// The seq `user` received the message under.
    pub fn seq_of(&self, user: &UserId) -> Seq {
        self.seqs
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, seq)| *seq)
            .unwrap_or_default()
    }
}

/// The conversation key of a message: the group, or the pair of users.
pub fn conversation_key(from: &Sender, to: &Peer) -> String {
    match (to, from) {
        (Peer::Group(gid), _) => format!("g:{gid}"),
        (Peer::User(to), Sender::User(from)) => {
            let (a, b) = if from <= to { (from, to) } else { (to, from) };
            format!("u:{a}:{b}")
        }
        (Peer::User(to), Sender::System) => format!("u:{to}:{to}"),
    }
}

/// The message `sender` stored before under `cid`, as stored then.
fn stored_before(
    conn: &Db<'_>,
    sender: &str,
    cid: &ClientMsgId,
) -> Result<Option<Stored>, StoreError> {
    let existing: Option<(i64, i64)> = conn.query_opt(
        "SELECT id, ts FROM messages WHERE sender = ?1 AND cid = ?2",
        params![sender, cid.as_str()],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let Some((id, ts)) = existing else {
        return Ok(None);
    };
    let seqs = conn.query_all(
        "SELECT user_id, seq FROM inbox WHERE message_id = ?1",
        params![id],
        |row| Ok((user_id(row.get(0)?)?, Seq(row.get::<u64>(1)?))),
    )?;
    Ok(Some(Stored {
        id: MessageId(id as u64),
        ts,
        seqs,
        repeated: true,
    }))
}

/// Stores a message and gives it the next seq of every recipient. A repeated
/// (sender, cid) returns the first one and writes nothing.
pub fn store_message(
    conn: &Db<'_>,
    message: &NewMessage,
    recipients: &[UserId],
) -> Result<Stored, StoreError> {
    let sender_text = match &message.sender {
        Sender::System => "0".to_owned(),
        Sender::User(user) => user.to_string(),
    };
    if let Some(cid) = &message.cid
        && let Some(earlier) = stored_before(conn, &sender_text, cid)?
    {
        return Ok(earlier);
    }
    let inserted: Option<i64> = conn.query_opt(
        "INSERT INTO messages (sender, target, conversation, type, content, duration, cid, ts,
                               mentions, mention_all, name, size)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (sender, cid) WHERE cid IS NOT NULL DO NOTHING RETURNING id",
        params![
            sender_text,
            message.to.to_string(),
            conversation_key(&message.sender, &message.to),
            message.kind.code(),
            message.content,
            message.duration,
            message.cid.as_ref().map(ClientMsgId::as_str),
            message.ts,
            message
                .mentions
                .as_ref()
                .filter(|m| !m.0.is_empty())
                .map(joined),
            message.mention_all,
            message.file.as_ref().map(|(name, _)| name),
            message.file.as_ref().map(|(_, size)| *size as i64)
        ],
        |row| row.get(0),
    )?;
    let Some(id) = inserted else {
        // Another node stored this (sender, cid) while this write ran (the
        // unique index made it wait for that commit): that one is the first.
        let earlier = match &message.cid {
            Some(cid) => stored_before(conn, &sender_text, cid)?,
            None => None,
        };
        return earlier.ok_or_else(|| {
            StoreError::Database("a message id conflicted but no earlier message has it".into())
        });
    };
    let words = super::search::searchable_text(
        message.kind,
        &message.content,
        message.file.as_ref().map(|(name, _)| name.as_str()),
    );
    if let Some(words) = words {
        super::search::index_message(conn, MessageId(id as u64), words)?;
    }
    let mut seqs = Vec::with_capacity(recipients.len());
    // Mailbox rows are locked until commit; taking them in one order makes
    // two concurrent writes (on PostgreSQL, from several nodes) wait for
    // each other instead of deadlocking.
    let mut in_order: Vec<&UserId> = recipients.iter().collect();
    in_order.sort();
    for user in in_order {
        let seq: i64 = conn.query_row(
            "UPDATE mailboxes SET last_seq = last_seq + 1 WHERE user_id = ?1 RETURNING last_seq",
            params![user.as_str()],
            |row| row.get(0),
        )?;
        conn.execute(
            "INSERT INTO inbox (user_id, seq, message_id) VALUES (?1, ?2, ?3)",
            params![user.as_str(), seq, id],
        )?;
        seqs.push((user.clone(), Seq(seq as u64)));
    }
    Ok(Stored {
        id: MessageId(id as u64),
        ts: message.ts,
        seqs,
        repeated: false,
    })
}

pub(super) const MESSAGE_COLUMNS: &str = "m.id, m.sender, m.target, m.type, m.content, m.duration, m.cid, m.ts, \
     m.name, m.size, m.mentions, m.mention_all";
/// The index of the first column after [`MESSAGE_COLUMNS`].
pub(super) const AFTER_MESSAGE_COLUMNS: usize = 12;

/// Read after the seq (column [`AFTER_MESSAGE_COLUMNS`]): the recall, and
/// the quoted message as it is now, so a quote of a message recalled later
/// reads as recalled.
pub(super) const RECALL_AND_QUOTE_COLUMNS: &str = "m.recalled_by, m.recalled_ts, q.id, q.sender, q.type, COALESCE(q.name, q.content), q.recalled_by";

/// The join the quote columns read from.
pub(super) const QUOTE_JOIN: &str = "LEFT JOIN messages q ON q.id = m.quote_id";

fn joined(members: &Members) -> String {
    let ids: Vec<&str> = members.0.iter().map(UserId::as_str).collect();
    ids.join(",")
}

pub(super) fn message_row(
    row: &Row<'_, '_>,
    seq: Option<Seq>,
    utc_offset_minutes: i32,
) -> Result<Message, StoreError> {
    let bad = StoreError::corrupt;
    let sender: String = row.get(1)?;
    let target: String = row.get(2)?;
    let ts: i64 = row.get(7)?;
    let cid: Option<String> = row.get(6)?;
    let mentions: Option<String> = row.get(10)?;
    let mentions = mentions
        .map(|text| {
            text.split(',')
                .map(|id| UserId::parse(id).map_err(bad))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .map(Members);
    // The recall and quote columns follow the seq.
    let after = AFTER_MESSAGE_COLUMNS + 1;
    let recalled_by: Option<String> = row.get(after)?;
    let recalled = match recalled_by {
        Some(by) => Some(Recalled {
            by: UserId::parse(&by).map_err(bad)?,
            ts: row.get(after + 1)?,
        }),
        None => None,
    };
    let quote = match row.get::<Option<i64>>(after + 2)? {
        Some(id) => {
            let from: String = row.get(after + 3)?;
            let kind = MessageType::from_code(row.get(after + 4)?);
            let content: String = row.get(after + 5)?;
            let recalled = row.get::<Option<String>>(after + 6)?.is_some();
            Some(Quote {
                id: MessageId(id as u64),
                from: if from == "0" {
                    Sender::System
                } else {
                    Sender::User(UserId::parse(&from).map_err(bad)?)
                },
                kind,
                content: if recalled {
                    None
                } else {
                    penpen_core::packets::message::quote_snippet(kind, &content)
                },
                recalled,
            })
        }
        None => None,
    };
    Ok(Message {
        quote,
        mentions,
        mention_all: row.get(11)?,
        recalled,
        name: row.get(8)?,
        size: row.get::<Option<i64>>(9)?.map(|size| size as u64),
        id: MessageId(row.get::<i64>(0)? as u64),
        from: if sender == "0" {
            Sender::System
        } else {
            Sender::User(UserId::parse(&sender).map_err(bad)?)
        },
        to: Peer::parse(&target).map_err(bad)?,
        kind: MessageType::from_code(row.get(3)?),
        content: row.get(4)?,
        duration: row.get(5)?,
        cid: cid
            .map(|c| ClientMsgId::parse(&c))
            .transpose()
            .map_err(bad)?,
        time: time::format_time(ts, utc_offset_minutes),
        ts,
        seq,
    })
}

/// The user's messages after `since`, oldest first, and whether more follow.
/// A page ends early rather than carry more than
/// [`penpen_core::limits::MAX_PAGE_CONTENT_BYTES`] of content (it always
/// holds at least one message), so long texts never make a frame too large.
pub fn inbox_after(
    conn: &Db<'_>,
    user: &UserId,
    since: Seq,
    limit: u32,
    utc_offset_minutes: i32,
) -> Result<(Vec<Message>, bool), StoreError> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS}, i.seq, {RECALL_AND_QUOTE_COLUMNS}
         FROM inbox i JOIN messages m ON m.id = i.message_id {QUOTE_JOIN}
         WHERE i.user_id = ?1 AND i.seq > ?2 ORDER BY i.seq LIMIT ?3"
    );
    let rows = conn.query_all(
        &sql,
        params![user.as_str(), since.0 as i64, i64::from(limit) + 1],
        |row| {
            let seq = Seq(row.get::<u64>(AFTER_MESSAGE_COLUMNS)?);
            message_row(row, Some(seq), utc_offset_minutes)
        },
    )?;
    let mut messages = Vec::new();
    let mut content_bytes = 0;
    for message in rows {
        content_bytes += message.content.len();
        let full = messages.len() == limit as usize
            || (!messages.is_empty() && content_bytes > MAX_PAGE_CONTENT_BYTES);
        if full {
            return Ok((messages, true));
        }
        messages.push(message);
    }
    Ok((messages, false))
}

/// The newest message id of the conversation with `target` that `user` may
/// read: a group's history is visible to members, and to former members up
/// to when they left; a 1:1 conversation whole (`i64::MAX`). Refused for an
/// unknown user or group, and a group `user` never was in.
pub fn visible_up_to(conn: &Db<'_>, user: &UserId, target: &Peer) -> Result<i64, StoreError> {
    match target {
        Peer::Group(gid) => match membership(conn, *gid, user)? {
            Some(Membership::Current) => Ok(i64::MAX),
            Some(Membership::Left(last)) => Ok(last.0 as i64),
            None => Err(if group_exists(conn, *gid)? {
                StoreError::refused(
                    State::NOT_A_MEMBER,
                    format!("{user} is not a member of group {gid}"),
                )
            } else {
                StoreError::refused(State::UNKNOWN_GROUP, format!("group {gid} does not exist"))
            }),
        },
        Peer::User(other) if !user_exists(conn, other)? => Err(StoreError::refused(
            State::UNKNOWN_USER,
            format!("user {other} does not exist"),
        )),
        Peer::User(_) => Ok(i64::MAX),
    }
}

/// A page of a conversation's history as `user` may see it, oldest first.
pub fn history(
    conn: &Db<'_>,
    user: &UserId,
    target: &Peer,
    before: Option<MessageId>,
    limit: u32,
    utc_offset_minutes: i32,
) -> Result<(Vec<Message>, bool), StoreError> {
    let visible_up_to = visible_up_to(conn, user, target)?;
    let key = conversation_key(&Sender::User(user.clone()), target);
    let upper = before
        .map(|b| b.0 as i64)
        .unwrap_or(i64::MAX)
        .min(visible_up_to.saturating_add(1));
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS}, (SELECT seq FROM inbox WHERE message_id = m.id AND user_id = ?4),
         {RECALL_AND_QUOTE_COLUMNS} FROM messages m {QUOTE_JOIN} WHERE m.conversation = ?1 AND m.id < ?2 ORDER BY m.id DESC LIMIT ?3"
    );
    let mut messages = conn.query_all(
        &sql,
        params![key, upper, i64::from(limit) + 1, user.as_str()],
        |row| {
            let seq: Option<u64> = row.get(AFTER_MESSAGE_COLUMNS)?;
            message_row(row, seq.map(Seq), utc_offset_minutes)
        },
    )?;
    let more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    messages.reverse();
    Ok((messages, more))
}

/// Records that `user` has everything up to `seq` (never beyond what exists, never backwards).
pub fn ack(conn: &Db<'_>, user: &UserId, seq: Seq) -> Result<(), StoreError> {
    // CASE, not SQLite's two-argument MAX/MIN, which PostgreSQL lacks.
    conn.execute("UPDATE mailboxes SET acked_seq = CASE WHEN ?2 > last_seq THEN last_seq WHEN ?2 > acked_seq THEN ?2 ELSE acked_seq END WHERE user_id = ?1", params![user.as_str(), seq.0.min(i64::MAX as u64) as i64])?;
    Ok(())
}

/// The user's newest seq and the highest one they acknowledged.
pub fn seqs(conn: &Db<'_>, user: &UserId) -> Result<(Seq, Seq), StoreError> {
    let (last, acked): (i64, i64) = conn.query_row(
        "SELECT last_seq, acked_seq FROM mailboxes WHERE user_id = ?1",
        params![user.as_str()],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok((Seq(last as u64), Seq(acked as u64)))
}
