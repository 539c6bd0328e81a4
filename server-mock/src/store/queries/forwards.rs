//! Forward (§15.3): a copy of one message, or a chat record of several, in
//! another conversation, written in one transaction. The new message names
//! the same stored files as its originals (no upload), and a row of
//! `forwarded_files` lets its parties fetch exactly those.

use super::groups::{Membership, membership};
use super::messages::{NewMessage, Stored, store_message};
use super::user_id;
use crate::store::StoreError;
use crate::store::db::{Db, params};
use penpen_core::packets::message::{ChatRecord, ChatRecordItem, MessageType, Sender};
use penpen_core::{ClientMsgId, MessageId, Peer, State, UserId, time};

/// The largest chat record content stored, in bytes: records nest (a record
/// may be forwarded into another), and a page must still fit in a frame.
pub const MAX_CHAT_RECORD_BYTES: usize = penpen_core::limits::MAX_PAGE_CONTENT_BYTES / 2;

/// What a forward asks for, once the packet is valid.
#[derive(Debug, Clone)]
pub struct ForwardRequest {
    /// The messages, as the caller listed them.
    pub ids: Vec<MessageId>,
    /// The conversation the new message goes to.
    pub to: Peer,
    /// One chat record of all of them, rather than a copy of one.
    pub merge: bool,
    /// The caller's id for the new message.
    pub cid: ClientMsgId,
}

/// One original, as the caller may see it.
struct Original {
    id: MessageId,
    sender: UserId,
    target: Peer,
    kind: MessageType,
    content: String,
    duration: Option<u32>,
    ts: i64,
    /// A file's original name and size (5, 15).
    file: Option<(String, u64)>,
}

/// Stores the message a forward makes, for `recipients` (the parties of
/// `request.to`, already checked). A repeated (caller, cid) is answered with
/// the first message and writes nothing, even if an original was recalled
/// since.
pub fn forward(
    conn: &Db<'_>,
    caller: &UserId,
    request: &ForwardRequest,
    recipients: &[UserId],
    now: i64,
    utc_offset_minutes: i32,
) -> Result<(NewMessage, Stored), StoreError> {
    /// The message a forward with this cid made before: its type, content,
    /// duration, time and file.
    type Earlier = (u16, String, Option<u32>, i64, Option<(String, u64)>);
    let earlier: Option<Earlier> = conn
        .query_opt("SELECT type, content, duration, ts, name, size FROM messages WHERE sender = ?1 AND cid = ?2", params![caller.as_str(), request.cid.as_str()], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                file_of(row.get(4)?, row.get(5)?),
            ))
        })?;
    if let Some((kind, content, duration, ts, file)) = earlier {
        let message = NewMessage {
            file,
            mention_all: false,
            mentions: None,
            sender: Sender::User(caller.clone()),
            to: request.to.clone(),
            kind: MessageType::from_code(kind),
            content,
            duration,
            cid: Some(request.cid.clone()),
            ts,
        };
        let stored = store_message(conn, &message, recipients)?;
        return Ok((message, stored));
    }
    let mut originals = request
        .ids
        .iter()
        .map(|id| original(conn, caller, *id))
        .collect::<Result<Vec<_>, _>>()?;
    let group = matches!(request.to, Peer::Group(_));
    let (kind, content, duration, file) = if request.merge {
        if let Some(other) = originals
            .iter()
            .find(|o| conversation_of(caller, o) != conversation_of(caller, &originals[0]))
        {
            return Err(StoreError::refused(
                State::BAD_PACKET,
                format!(
                    "message {} is from another conversation than message {}; a chat record holds messages of one conversation",
                    other.id, originals[0].id
                ),
            ));
        }
        originals.sort_by_key(|o| o.id);
        let record = ChatRecord {
            source: conversation_of(caller, &originals[0]),
            items: originals
                .iter()
                .map(|o| ChatRecordItem {
                    from: o.sender.clone(),
                    kind: o.kind,
                    content: o.content.clone(),
                    ts: o.ts,
                    time: time::format_time(o.ts, utc_offset_minutes),
                    duration: o.duration,
                    name: o.file.as_ref().map(|(name, _)| name.clone()),
                    size: o.file.as_ref().map(|(_, size)| *size),
                })
                .collect(),
        };
        let content = serde_json::to_string(&record)
            .map_err(|e| StoreError::Database(format!("cannot encode a chat record: {e}")))?;
        if content.len() > MAX_CHAT_RECORD_BYTES {
            return Err(StoreError::refused(
                State::TOO_LARGE,
                format!(
                    "the chat record would hold {} bytes; expected at most {MAX_CHAT_RECORD_BYTES}",
                    content.len()
                ),
            ));
        }
        (
            kind_for(MessageType::ChatRecord, group)?,
            content,
            None,
            None,
        )
    } else {
        let one = originals.remove(0);
        (
            kind_for(one.kind, group)?,
            one.content,
            one.duration,
            one.file,
        )
    };
    let message = NewMessage {
        file,
        mention_all: false,
        mentions: None,
        sender: Sender::User(caller.clone()),
        to: request.to.clone(),
        kind,
        content,
        duration,
        cid: Some(request.cid.clone()),
        ts: now,
    };
    let stored = store_message(conn, &message, recipients)?;
    let mut names = Vec::new();
    files_named(message.kind, &message.content, &mut names);
    for name in names {
        conn.execute(
            "INSERT INTO forwarded_files (name, message_id)
             SELECT name, ?2 FROM files WHERE name = ?1 ON CONFLICT DO NOTHING",
            params![name, stored.id.0 as i64],
        )?;
    }
    Ok((message, stored))
}

fn kind_for(kind: MessageType, group: bool) -> Result<MessageType, StoreError> {
    kind.for_conversation(group).ok_or_else(|| {
        StoreError::Database(format!(
            "type {} has no counterpart for the new conversation",
            kind.code()
        ))
    })
}

/// The conversation of `original` as `caller` names it: the group, or the
/// other person (the caller themself for a note to oneself).
fn conversation_of(caller: &UserId, original: &Original) -> Peer {
    match &original.target {
        Peer::Group(gid) => Peer::Group(*gid),
        Peer::User(to) if to == caller => Peer::User(original.sender.clone()),
        Peer::User(to) => Peer::User(to.clone()),
    }
}

/// Message `id` if `caller` may see it (39 otherwise) and it may be
/// forwarded: a user's text, image, voice, file or chat record that was not
/// recalled (21 otherwise).
fn original(conn: &Db<'_>, caller: &UserId, id: MessageId) -> Result<Original, StoreError> {
    /// The columns read, before the caller's right to see them is checked.
    struct Row {
        sender: String,
        target: String,
        kind: u16,
        content: String,
        duration: Option<u32>,
        ts: i64,
        recalled: bool,
        file: Option<(String, u64)>,
    }
    let row = conn
        .query_opt("SELECT sender, target, type, content, duration, ts, recalled_by, name, size FROM messages WHERE id = ?1", params![id.0 as i64], |row| {
            Ok(Row {
                sender: row.get(0)?,
                target: row.get(1)?,
                kind: row.get(2)?,
                content: row.get(3)?,
                duration: row.get(4)?,
                ts: row.get(5)?,
                recalled: row.get::<Option<String>>(6)?.is_some(),
                file: file_of(row.get(7)?, row.get(8)?),
            })
        })?;
    let unknown = || {
        StoreError::refused(
            State::NO_SUCH_MESSAGE,
            format!("message {id} does not exist or is not in a conversation of {caller}"),
        )
    };
    let Some(Row {
        sender,
        target,
        kind,
        content,
        duration,
        ts,
        recalled,
        file,
    }) = row
    else {
        return Err(unknown());
    };
    let target = Peer::parse(&target).map_err(|e| StoreError::Database(e.to_string()))?;
    let visible = match &target {
        Peer::User(to) => sender == caller.as_str() || to == caller,
        Peer::Group(gid) => match membership(conn, *gid, caller)? {
            Some(Membership::Current) => true,
            Some(Membership::Left(last)) => last >= id,
            None => false,
        },
    };
    if !visible {
        return Err(unknown());
    }
    let kind = MessageType::from_code(kind);
    if sender == "0" || !super::recalls::is_user_content(kind) {
        return Err(StoreError::refused(
            State::BAD_PACKET,
            format!(
                "message {id} is of type {}; only a text, image, voice, file or chat record can be forwarded",
                kind.code()
            ),
        ));
    }
    if recalled {
        return Err(StoreError::refused(
            State::BAD_PACKET,
            format!("message {id} was recalled and can no longer be forwarded"),
        ));
    }
    Ok(Original {
        id,
        sender: user_id(sender)?,
        target,
        kind,
        content,
        duration,
        ts,
        file,
    })
}

/// A file's original name and size, from a message row's columns.
fn file_of(name: Option<String>, size: Option<i64>) -> Option<(String, u64)> {
    Some((name?, size? as u64))
}

/// Every message that names stored file `name`: the one it was sent with,
/// and each one a forward made (a copy or a chat record), as (id, sender,
/// target). Whoever may see any of them may fetch the file.
pub fn messages_naming(
    conn: &Db<'_>,
    name: &str,
) -> Result<Vec<(i64, String, String)>, StoreError> {
    let namers = conn.query_all("SELECT m.id, m.sender, m.target FROM files f JOIN messages m ON m.id = f.message_id
         WHERE f.name = ?1
         UNION ALL
         SELECT m.id, m.sender, m.target FROM forwarded_files r JOIN messages m ON m.id = r.message_id
         WHERE r.name = ?1", params![name], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
    Ok(namers)
}

/// A recalled message names its forwarded files no more.
pub fn forget_forwarded_files(conn: &Db<'_>, id: MessageId) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM forwarded_files WHERE message_id = ?1",
        params![id.0 as i64],
    )?;
    Ok(())
}

/// A message that still names file `name` by a forward (a chat record
/// among them), to keep the file when its own message is recalled.
pub fn forwarded_heir(conn: &Db<'_>, name: &str) -> Result<Option<i64>, StoreError> {
    conn.query_opt(
        "SELECT message_id FROM forwarded_files WHERE name = ?1 LIMIT 1",
        params![name],
        |row| row.get(0),
    )
}

/// The stored files a message of `kind` names: its own for an image, voice
/// or file message; every one its items name for a chat record (records
/// nest). The server wrote every record, so its content parses.
pub fn files_named(kind: MessageType, content: &str, names: &mut Vec<String>) {
    use MessageType as T;
    match kind {
        T::Image | T::GroupImage | T::Voice | T::GroupVoice | T::File | T::GroupFile
            if !names.iter().any(|n| n == content) =>
        {
            names.push(content.to_owned());
        }
        T::ChatRecord | T::GroupChatRecord => {
            if let Ok(record) = serde_json::from_str::<ChatRecord>(content) {
                for item in &record.items {
                    files_named(item.kind, &item.content, names);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_names_the_files_of_its_items_and_of_the_records_inside() {
        let inner = ChatRecord {
            source: Peer::Group(penpen_core::GroupId::new(7).expect("gid")),
            items: vec![item(MessageType::GroupVoice, "b.ogg")],
        };
        let outer = ChatRecord {
            source: Peer::Group(penpen_core::GroupId::new(7).expect("gid")),
            items: vec![
                item(MessageType::Text, "a.png"),
                item(MessageType::Image, "a.png"),
                item(
                    MessageType::GroupChatRecord,
                    &serde_json::to_string(&inner).expect("encodes"),
                ),
                item(MessageType::Image, "a.png"),
            ],
        };
        let mut names = Vec::new();
        files_named(
            MessageType::ChatRecord,
            &serde_json::to_string(&outer).expect("encodes"),
            &mut names,
        );
        assert_eq!(names, ["a.png", "b.ogg"]);
    }

    fn item(kind: MessageType, content: &str) -> ChatRecordItem {
        ChatRecordItem {
            from: UserId::parse("13800000001").expect("user"),
            kind,
            content: content.into(),
            ts: 0,
            time: String::new(),
            duration: None,
            name: None,
            size: None,
        }
    }
}
