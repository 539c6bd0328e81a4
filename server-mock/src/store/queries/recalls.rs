//! Recall and quote (§15.1, §15.2): taking a message back in one write, and
//! the snapshot a reply carries of the message it quotes.

use super::groups::{Membership, group, membership};
use super::messages::{NewMessage, Stored, conversation_key, store_message};
use super::{current_members, user_id};
use crate::store::StoreError;
use crate::store::db::{Db, params};
use penpen_core::packets::message::{MessageType, Quote, RecallNotice, Sender, quote_snippet};
use penpen_core::{MessageId, Peer, Seq, State, UserId};

/// Whether a user wrote a message of this kind: only those may be quoted or
/// recalled (not notices, call records or recalls).
pub fn is_user_content(kind: MessageType) -> bool {
    use MessageType as T;
    matches!(
        kind,
        T::Text
            | T::Image
            | T::Voice
            | T::File
            | T::ChatRecord
            | T::GroupText
            | T::GroupImage
            | T::GroupVoice
            | T::GroupFile
            | T::GroupChatRecord
    )
}

fn sender_of(text: String) -> Result<Sender, StoreError> {
    if text == "0" {
        Ok(Sender::System)
    } else {
        user_id(text).map(Sender::User)
    }
}

/// The snapshot of message `quoted` for a reply from `sender` to `to`: it
/// must be a user's message of the same conversation (39 otherwise; the
/// sender's membership is checked by the send itself) that was not recalled
/// (21).
pub fn quote_for(
    conn: &Db<'_>,
    sender: &UserId,
    to: &Peer,
    quoted: MessageId,
) -> Result<Quote, StoreError> {
    let row: Option<(String, String, u16, String, Option<String>)> = conn
        .query_opt("SELECT sender, conversation, type, COALESCE(name, content), recalled_by FROM messages WHERE id = ?1", params![quoted.0 as i64], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        })?;
    let conversation = conversation_key(&Sender::User(sender.clone()), to);
    let Some((from, key, kind, content, recalled_by)) =
        row.filter(|(_, key, ..)| *key == conversation)
    else {
        return Err(StoreError::refused(
            State::NO_SUCH_MESSAGE,
            format!(
                "message {quoted} is not in the conversation with {to}; a reply quotes a message of its own conversation"
            ),
        ));
    };
    debug_assert_eq!(key, conversation);
    let kind = MessageType::from_code(kind);
    if !is_user_content(kind) {
        return Err(StoreError::refused(
            State::BAD_PACKET,
            format!(
                "message {quoted} is of type {}; only a user's message can be quoted",
                kind.code()
            ),
        ));
    }
    if recalled_by.is_some() {
        return Err(StoreError::refused(
            State::BAD_PACKET,
            format!("message {quoted} was recalled and can no longer be quoted"),
        ));
    }
    Ok(Quote {
        id: quoted,
        from: sender_of(from)?,
        kind,
        content: quote_snippet(kind, &content),
        recalled: false,
    })
}

/// Records that message `id` replies to `quoted`.
pub fn set_quote(conn: &Db<'_>, id: MessageId, quoted: MessageId) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE messages SET quote_id = ?2 WHERE id = ?1",
        params![id.0 as i64, quoted.0 as i64],
    )?;
    Ok(())
}

/// How long a message may be taken back, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct RecallWindows {
    /// By its sender.
    pub sender_ms: i64,
    /// By the holder of its group.
    pub holder_ms: i64,
}

/// A committed recall.
#[derive(Debug)]
pub struct RecallDone {
    /// The type-4/14 message that took it back.
    pub notice: NewMessage,
    /// Where it was stored (`repeated` for a recall made before).
    pub stored: Stored,
    /// Stored files no message names any more, to remove from disk.
    pub released_files: Vec<String>,
}

/// Takes message `id` back for `caller` at `now`, in the caller's write:
/// empties it, marks it recalled, stops serving its file, and stores the
/// recall message for every party. A message already recalled is answered
/// with the first recall.
pub fn recall(
    conn: &Db<'_>,
    caller: &UserId,
    id: MessageId,
    now: i64,
    windows: RecallWindows,
) -> Result<RecallDone, StoreError> {
    let row: Option<(String, String, u16, i64, Option<i64>)> = conn.query_opt(
        "SELECT sender, target, type, ts, recall_id FROM messages WHERE id = ?1",
        params![id.0 as i64],
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
    let unknown = || {
        StoreError::refused(
            State::NO_SUCH_MESSAGE,
            format!("message {id} does not exist or is not in a conversation of {caller}"),
        )
    };
    let Some((sender, target, kind, ts, recall_id)) = row else {
        return Err(unknown());
    };
    let sender = sender_of(sender)?;
    let to = Peer::parse(&target).map_err(|e| StoreError::Database(e.to_string()))?;
    let holder = match &to {
        Peer::User(other) => {
            if sender != Sender::User(caller.clone()) && other != caller {
                return Err(unknown());
            }
            None
        }
        Peer::Group(gid) => {
            match membership(conn, *gid, caller)? {
                Some(Membership::Current) => {}
                Some(Membership::Left(last)) if last >= id => {
                    return Err(StoreError::refused(
                        State::NOT_A_MEMBER,
                        format!("{caller} has left group {gid} and can no longer recall in it"),
                    ));
                }
                _ => return Err(unknown()),
            }
            group(conn, *gid)?.map(|g| g.holder)
        }
    };
    let kind = MessageType::from_code(kind);
    let author = match sender {
        Sender::User(author) if is_user_content(kind) || kind.is_recall() => author,
        _ => {
            return Err(StoreError::refused(
                State::TOO_LATE_TO_RECALL,
                format!(
                    "message {id} is of type {}; only a user's message can be recalled",
                    kind.code()
                ),
            ));
        }
    };
    if kind.is_recall() {
        return Err(StoreError::refused(
            State::TOO_LATE_TO_RECALL,
            format!("message {id} is itself a recall; only a user's message can be recalled"),
        ));
    }
    let is_sender = &author == caller;
    let is_holder = holder.as_ref() == Some(caller);
    if !is_sender && !is_holder {
        return Err(StoreError::refused(
            State::FORBIDDEN,
            format!(
                "message {id} was sent by {author}; only its sender or the group's holder may recall it"
            ),
        ));
    }
    if let Some(recall_id) = recall_id {
        return earlier_recall(conn, MessageId(recall_id as u64), caller, id, &to, &author);
    }
    let age = now.saturating_sub(ts);
    let allowed =
        (is_sender && age <= windows.sender_ms) || (is_holder && age <= windows.holder_ms);
    if !allowed {
        let (window, by) = if is_holder {
            (windows.holder_ms, "the group's holder")
        } else {
            (windows.sender_ms, "its sender")
        };
        return Err(StoreError::refused(
            State::TOO_LATE_TO_RECALL,
            format!(
                "message {id} was stored {} s ago; {by} may recall it for {} s",
                age / 1000,
                window / 1000
            ),
        ));
    }
    let recipients = match &to {
        Peer::Group(gid) => current_members(conn, *gid)?.0,
        Peer::User(other) if *other == author => vec![author.clone()],
        Peer::User(other) => vec![author.clone(), other.clone()],
    };
    let content = serde_json::to_string(&RecallNotice {
        id,
        by: caller.clone(),
        sender: author.clone(),
    })
    .map_err(|e| StoreError::Database(format!("cannot encode a recall: {e}")))?;
    let notice = NewMessage {
        file: None,
        mention_all: false,
        mentions: None,
        sender: Sender::User(caller.clone()),
        // A 1:1 recall goes from the caller (the sender) to the other person.
        to: to.clone(),
        kind: recall_type(&to),
        content,
        duration: None,
        cid: None,
        ts: now,
    };
    let stored = store_message(conn, &notice, &recipients)?;
    let released_files = release_files(conn, id)?;
    conn.execute("UPDATE messages SET content = '', quote_id = NULL, recalled_by = ?2, recalled_ts = ?3, recall_id = ?4
         WHERE id = ?1", params![id.0 as i64, caller.as_str(), now, stored.id.0 as i64])?;
    Ok(RecallDone {
        notice,
        stored,
        released_files,
    })
}

fn recall_type(to: &Peer) -> MessageType {
    match to {
        Peer::Group(_) => MessageType::GroupRecall,
        Peer::User(_) => MessageType::Recall,
    }
}

/// The recall that already took message `id` back, as a repeat of it.
fn earlier_recall(
    conn: &Db<'_>,
    recall_id: MessageId,
    caller: &UserId,
    id: MessageId,
    to: &Peer,
    author: &UserId,
) -> Result<RecallDone, StoreError> {
    let (by, ts, content): (String, i64, String) = conn.query_row(
        "SELECT sender, ts, content FROM messages WHERE id = ?1",
        params![recall_id.0 as i64],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    let seqs = conn.query_all(
        "SELECT user_id, seq FROM inbox WHERE message_id = ?1",
        params![recall_id.0 as i64],
        |row| Ok((user_id(row.get(0)?)?, Seq(row.get::<i64>(1)? as u64))),
    )?;
    if !seqs.iter().any(|(user, _)| user == caller) {
        // Recalled before the caller could see it (they joined later): to
        // them it is a message they may no longer take back.
        return Err(StoreError::refused(
            State::TOO_LATE_TO_RECALL,
            format!("message {id} from {author} was already recalled"),
        ));
    }
    Ok(RecallDone {
        notice: NewMessage {
            file: None,
            mention_all: false,
            mentions: None,
            sender: sender_of(by)?,
            to: to.clone(),
            kind: recall_type(to),
            content,
            duration: None,
            cid: None,
            ts,
        },
        stored: Stored {
            id: recall_id,
            ts,
            seqs,
            repeated: true,
        },
        released_files: Vec::new(),
    })
}

/// Stops serving the files of message `id`. A file another message still
/// names (a forwarded copy) passes to that message; the names of the others
/// are returned, to be removed from disk once the write is committed.
fn release_files(conn: &Db<'_>, id: MessageId) -> Result<Vec<String>, StoreError> {
    let names = conn.query_all(
        "SELECT name FROM files WHERE message_id = ?1",
        params![id.0 as i64],
        |row| row.get::<String>(0),
    )?;
    super::forwards::forget_forwarded_files(conn, id)?;
    let mut released = Vec::new();
    for name in names {
        // Every other message naming the file is a forward's, recorded in
        // `forwarded_files` (an index lookup, not a scan of the messages).
        match super::forwards::forwarded_heir(conn, &name)? {
            Some(heir) => {
                conn.execute(
                    "UPDATE files SET message_id = ?2 WHERE name = ?1",
                    params![name, heir],
                )?;
            }
            None => {
                conn.execute("DELETE FROM files WHERE name = ?1", params![&name])?;
                released.push(name);
            }
        }
    }
    Ok(released)
}
