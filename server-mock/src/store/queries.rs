//! The SQL of the server, one function per question or change. Every
//! statement is parameterised; nothing a client sends is ever spliced into SQL.

use super::StoreError;
use penpen_core::BroadcastId;
use penpen_core::packets::broadcast::{Broadcast, BroadcastKind};
use penpen_core::packets::directory::{Contact, Directory};
use penpen_core::packets::groups::{Group, Members};
use penpen_core::packets::message::{Message, MessageType, Sender};
use penpen_core::packets::profile::Presence;
use penpen_core::{
    ClientMsgId, DepartmentId, GroupId, JobId, MessageId, Peer, Seq, State, UserId, time,
};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;

fn user_id(text: String) -> rusqlite::Result<UserId> {
    UserId::parse(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn presence_text(presence: Presence) -> &'static str {
    match presence {
        Presence::Online => "online",
        Presence::Away => "away",
        Presence::Busy => "busy",
        Presence::Offline => "offline",
    }
}

fn presence_from(text: &str) -> Presence {
    match text {
        "online" => Presence::Online,
        "away" => Presence::Away,
        "busy" => Presence::Busy,
        _ => Presence::Offline,
    }
}

// ---------------------------------------------------------------- directory

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The account.
    pub id: UserId,
    /// The display name.
    pub name: String,
    /// The department number.
    pub department: DepartmentId,
    /// The job number.
    pub job: JobId,
    /// Argon2 hash of the password digest.
    pub password_hash: String,
    /// The initial signature.
    pub signing: String,
    /// Whether the user may send broadcasts.
    pub broadcaster: bool,
}

/// Creates or renames a department.
pub fn put_department(conn: &Connection, id: DepartmentId, name: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO departments (id, name) VALUES (?1, ?2)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name",
        params![id.0 as i64, name],
    )?;
    Ok(())
}

/// Creates or renames a job.
pub fn put_job(conn: &Connection, id: JobId, name: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO jobs (id, name) VALUES (?1, ?2)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name",
        params![id.0 as i64, name],
    )?;
    Ok(())
}

/// Creates a user; refuses an account that exists or an unknown department or job.
pub fn add_user(conn: &Connection, user: &NewUser) -> Result<(), StoreError> {
    if user_exists(conn, &user.id)? {
        return Err(StoreError::refused(
            State::BAD_PACKET,
            format!("user {} already exists", user.id),
        ));
    }
    let known = |table: &str, id: u64| -> Result<bool, StoreError> {
        let sql = format!("SELECT 1 FROM {table} WHERE id = ?1");
        Ok(conn
            .query_row(&sql, params![id as i64], |_| Ok(()))
            .optional()?
            .is_some())
    };
    if !known("departments", user.department.0)? {
        return Err(StoreError::refused(
            State::BAD_PACKET,
            format!("department {} does not exist", user.department),
        ));
    }
    if !known("jobs", user.job.0)? {
        return Err(StoreError::refused(
            State::BAD_PACKET,
            format!("job {} does not exist", user.job),
        ));
    }
    conn.execute(
        "INSERT INTO users (id, name, department, job, password_hash, signing, broadcaster)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            user.id.as_str(),
            user.name,
            user.department.0 as i64,
            user.job.0 as i64,
            user.password_hash,
            user.signing,
            user.broadcaster
        ],
    )?;
    Ok(())
}

/// Whether the account exists.
pub fn user_exists(conn: &Connection, user: &UserId) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM users WHERE id = ?1")?
        .query_row([user.as_str()], |_| Ok(()))
        .optional()?
        .is_some())
}

/// How many accounts exist.
pub fn user_count(conn: &Connection) -> Result<u64, StoreError> {
    let count: i64 = conn.query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))?;
    Ok(count as u64)
}

/// What login needs to know about an account.
#[derive(Debug, Clone)]
pub struct Account {
    /// Argon2 hash of the password digest.
    pub password_hash: String,
    /// The display name.
    pub name: String,
    /// Whether the user may broadcast.
    pub broadcaster: bool,
}

/// The account, if it exists.
pub fn account(conn: &Connection, user: &UserId) -> Result<Option<Account>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT password_hash, name, broadcaster FROM users WHERE id = ?1",
            [user.as_str()],
            |row| {
                Ok(Account {
                    password_hash: row.get(0)?,
                    name: row.get(1)?,
                    broadcaster: row.get(2)?,
                })
            },
        )
        .optional()?)
}

/// The whole directory.
pub fn directory(conn: &Connection) -> Result<Directory, StoreError> {
    let mut departments = BTreeMap::new();
    let mut statement = conn.prepare_cached("SELECT id, name FROM departments ORDER BY id")?;
    for row in statement.query_map([], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
    })? {
        let (id, name) = row?;
        departments.insert(DepartmentId(id as u64), name);
    }
    let mut jobs = BTreeMap::new();
    let mut statement = conn.prepare_cached("SELECT id, name FROM jobs ORDER BY id")?;
    for row in statement.query_map([], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
    })? {
        let (id, name) = row?;
        jobs.insert(JobId(id as u64), name);
    }
    let mut statement = conn.prepare_cached(
        "SELECT id, name, department, job, signing, presence FROM users ORDER BY department, id",
    )?;
    let contacts = statement
        .query_map([], |row| {
            Ok(Contact {
                user: user_id(row.get(0)?)?,
                name: row.get(1)?,
                department: DepartmentId(row.get::<_, i64>(2)? as u64),
                job: JobId(row.get::<_, i64>(3)? as u64),
                signing: row.get(4)?,
                presence: presence_from(&row.get::<_, String>(5)?),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Directory {
        state: State::SUCCESS,
        departments,
        jobs,
        contacts,
    })
}

/// Sets a user's presence.
pub fn set_presence(
    conn: &Connection,
    user: &UserId,
    presence: Presence,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET presence = ?2 WHERE id = ?1",
        params![user.as_str(), presence_text(presence)],
    )?;
    Ok(())
}

// ----------------------------------------------------------------- sessions

/// Records a new session under the hash of its token.
pub fn create_session(
    conn: &Connection,
    token_hash: &[u8],
    user: &UserId,
    ts: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO sessions (token_hash, user, created_ts) VALUES (?1, ?2, ?3)",
        params![token_hash, user.as_str(), ts],
    )?;
    Ok(())
}

/// Revokes one session.
pub fn revoke_session(conn: &Connection, token_hash: &[u8]) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE sessions SET revoked = 1 WHERE token_hash = ?1",
        [token_hash],
    )?;
    Ok(())
}

// ----------------------------------------------------------------- messages

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

/// Stores a message and gives it the next seq of every recipient. A repeated
/// (sender, cid) returns the first one and writes nothing.
pub fn store_message(
    conn: &Connection,
    message: &NewMessage,
    recipients: &[UserId],
) -> Result<Stored, StoreError> {
    let sender_text = match &message.sender {
        Sender::System => "0".to_owned(),
        Sender::User(user) => user.to_string(),
    };
    if let Some(cid) = &message.cid {
        let existing: Option<(i64, i64)> = conn
            .prepare_cached("SELECT id, ts FROM messages WHERE sender = ?1 AND cid = ?2")?
            .query_row(params![sender_text, cid.as_str()], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        if let Some((id, ts)) = existing {
            let mut statement =
                conn.prepare_cached("SELECT user, seq FROM inbox WHERE message_id = ?1")?;
            let seqs = statement
                .query_map([id], |row| {
                    Ok((user_id(row.get(0)?)?, Seq(row.get::<_, i64>(1)? as u64)))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Stored {
                id: MessageId(id as u64),
                ts,
                seqs,
                repeated: true,
            });
        }
    }
    conn.prepare_cached(
        "INSERT INTO messages (sender, target, conversation, type, content, duration, cid, ts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        sender_text,
        message.to.to_string(),
        conversation_key(&message.sender, &message.to),
        message.kind.code(),
        message.content,
        message.duration,
        message.cid.as_ref().map(ClientMsgId::as_str),
        message.ts
    ])?;
    let id = conn.last_insert_rowid();
    let mut seqs = Vec::with_capacity(recipients.len());
    for user in recipients {
        let seq: i64 = conn
            .prepare_cached(
                "UPDATE mailboxes SET last_seq = last_seq + 1 WHERE user = ?1 RETURNING last_seq",
            )?
            .query_row([user.as_str()], |row| row.get(0))?;
        conn.prepare_cached("INSERT INTO inbox (user, seq, message_id) VALUES (?1, ?2, ?3)")?
            .execute(params![user.as_str(), seq, id])?;
        seqs.push((user.clone(), Seq(seq as u64)));
    }
    Ok(Stored {
        id: MessageId(id as u64),
        ts: message.ts,
        seqs,
        repeated: false,
    })
}

const MESSAGE_COLUMNS: &str =
    "m.id, m.sender, m.target, m.type, m.content, m.duration, m.cid, m.ts";

fn message_row(
    row: &rusqlite::Row<'_>,
    seq: Option<Seq>,
    utc_offset_minutes: i32,
) -> rusqlite::Result<Message> {
    let bad = |e: penpen_core::IdError| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    };
    let sender: String = row.get(1)?;
    let target: String = row.get(2)?;
    let ts: i64 = row.get(7)?;
    let cid: Option<String> = row.get(6)?;
    Ok(Message {
        id: MessageId(row.get::<_, i64>(0)? as u64),
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
pub fn inbox_after(
    conn: &Connection,
    user: &UserId,
    since: Seq,
    limit: u32,
    utc_offset_minutes: i32,
) -> Result<(Vec<Message>, bool), StoreError> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS}, i.seq FROM inbox i JOIN messages m ON m.id = i.message_id
         WHERE i.user = ?1 AND i.seq > ?2 ORDER BY i.seq LIMIT ?3"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let mut messages = statement
        .query_map(
            params![user.as_str(), since.0 as i64, i64::from(limit) + 1],
            |row| {
                let seq = Seq(row.get::<_, i64>(8)? as u64);
                message_row(row, Some(seq), utc_offset_minutes)
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    Ok((messages, more))
}

/// A page of a conversation's history as `user` may see it, oldest first.
pub fn history(
    conn: &Connection,
    user: &UserId,
    target: &Peer,
    before: Option<MessageId>,
    limit: u32,
    utc_offset_minutes: i32,
) -> Result<(Vec<Message>, bool), StoreError> {
    // A group's history is visible to members, and to former members up to when they left.
    let mut visible_up_to = i64::MAX;
    if let Peer::Group(gid) = target {
        match membership(conn, *gid, user)? {
            Some(Membership::Current) => {}
            Some(Membership::Left(last)) => visible_up_to = last.0 as i64,
            None => {
                return Err(if group_exists(conn, *gid)? {
                    StoreError::refused(
                        State::NOT_A_MEMBER,
                        format!("{user} is not a member of group {gid}"),
                    )
                } else {
                    StoreError::refused(State::UNKNOWN_GROUP, format!("group {gid} does not exist"))
                });
            }
        }
    } else if let Peer::User(other) = target
        && !user_exists(conn, other)?
    {
        return Err(StoreError::refused(
            State::UNKNOWN_USER,
            format!("user {other} does not exist"),
        ));
    }
    let key = conversation_key(&Sender::User(user.clone()), target);
    let upper = before
        .map(|b| b.0 as i64)
        .unwrap_or(i64::MAX)
        .min(visible_up_to.saturating_add(1));
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS}, (SELECT seq FROM inbox WHERE message_id = m.id AND user = ?4)
         FROM messages m WHERE m.conversation = ?1 AND m.id < ?2 ORDER BY m.id DESC LIMIT ?3"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let mut messages = statement
        .query_map(
            params![key, upper, i64::from(limit) + 1, user.as_str()],
            |row| {
                let seq: Option<i64> = row.get(8)?;
                message_row(row, seq.map(|s| Seq(s as u64)), utc_offset_minutes)
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    messages.reverse();
    Ok((messages, more))
}

/// Records that `user` has everything up to `seq` (never beyond what exists, never backwards).
pub fn ack(conn: &Connection, user: &UserId, seq: Seq) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE mailboxes SET acked_seq = MAX(acked_seq, MIN(?2, last_seq)) WHERE user = ?1",
    )?
    .execute(params![user.as_str(), seq.0.min(i64::MAX as u64) as i64])?;
    Ok(())
}

/// The user's newest seq and the highest one they acknowledged.
pub fn seqs(conn: &Connection, user: &UserId) -> Result<(Seq, Seq), StoreError> {
    let (last, acked): (i64, i64) = conn.query_row(
        "SELECT last_seq, acked_seq FROM mailboxes WHERE user = ?1",
        [user.as_str()],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok((Seq(last as u64), Seq(acked as u64)))
}

// ------------------------------------------------------------------- groups

/// How `user` stands in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// A member now.
    Current,
    /// A former member, who may read up to this message.
    Left(MessageId),
}

/// Whether the group exists.
pub fn group_exists(conn: &Connection, gid: GroupId) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM groups WHERE gid = ?1",
            [gid.get() as i64],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// `user`'s standing in the group, if they ever belonged to it.
pub fn membership(
    conn: &Connection,
    gid: GroupId,
    user: &UserId,
) -> Result<Option<Membership>, StoreError> {
    let row: Option<Option<i64>> = conn
        .prepare_cached("SELECT left_id FROM group_members WHERE gid = ?1 AND user = ?2")?
        .query_row(params![gid.get() as i64, user.as_str()], |row| row.get(0))
        .optional()?;
    Ok(row.map(|left| match left {
        None => Membership::Current,
        Some(id) => Membership::Left(MessageId(id as u64)),
    }))
}

/// The group with its current members in join order.
pub fn group(conn: &Connection, gid: GroupId) -> Result<Option<Group>, StoreError> {
    let head: Option<(String, String)> = conn
        .query_row(
            "SELECT holder, name FROM groups WHERE gid = ?1",
            [gid.get() as i64],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((holder, name)) = head else {
        return Ok(None);
    };
    Ok(Some(Group {
        gid,
        holder: user_id(holder)?,
        name,
        member: current_members(conn, gid)?,
    }))
}

/// The group's members now, in join order.
pub fn current_members(conn: &Connection, gid: GroupId) -> Result<Members, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT user FROM group_members WHERE gid = ?1 AND left_id IS NULL ORDER BY position",
    )?;
    let users = statement
        .query_map([gid.get() as i64], |row| user_id(row.get(0)?))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Members(users))
}

/// A page of `user`'s groups with a gid above `after`, in ascending gid, at
/// most `limit` of them; and whether more follow.
pub fn groups_page(
    conn: &Connection,
    user: &UserId,
    after: Option<GroupId>,
    limit: u32,
) -> Result<(Vec<Group>, bool), StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT gid FROM group_members WHERE user = ?1 AND left_id IS NULL AND gid > ?2
         ORDER BY gid LIMIT ?3",
    )?;
    let after = after.map_or(0, |g| g.get() as i64);
    let mut gids = statement
        .query_map(
            rusqlite::params![user.as_str(), after, i64::from(limit) + 1],
            |row| row.get::<_, i64>(0),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let more = gids.len() > limit as usize;
    gids.truncate(limit as usize);
    let mut groups = Vec::with_capacity(gids.len());
    for gid in gids {
        if let Some(group) = GroupId::new(gid as u64)
            .map(|g| group(conn, g))
            .transpose()?
            .flatten()
        {
            groups.push(group);
        }
    }
    Ok((groups, more))
}

/// Creates a group with `members` (the holder first) and returns its id.
pub fn create_group(
    conn: &Connection,
    holder: &UserId,
    name: &str,
    members: &Members,
    ts: i64,
) -> Result<GroupId, StoreError> {
    for user in &members.0 {
        if !user_exists(conn, user)? {
            return Err(StoreError::refused(
                State::UNKNOWN_USER,
                format!("user {user} does not exist"),
            ));
        }
    }
    conn.execute(
        "INSERT INTO groups (holder, name, created_ts) VALUES (?1, ?2, ?3)",
        params![holder.as_str(), name, ts],
    )?;
    let gid = conn.last_insert_rowid();
    let gid = GroupId::new(gid as u64)
        .ok_or_else(|| StoreError::Database(format!("group id {gid} is out of range")))?;
    for (position, user) in members.0.iter().enumerate() {
        conn.execute(
            "INSERT INTO group_members (gid, user, position) VALUES (?1, ?2, ?3)",
            params![gid.get() as i64, user.as_str(), position as i64],
        )?;
    }
    Ok(gid)
}

// ------------------------------------------------------------------ profile

/// Sets a user's signature.
pub fn set_signature(conn: &Connection, user: &UserId, signing: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET signing = ?2 WHERE id = ?1",
        params![user.as_str(), signing],
    )?;
    Ok(())
}

/// The signatures of those of `users` who exist.
pub fn signatures(
    conn: &Connection,
    users: &[UserId],
) -> Result<BTreeMap<UserId, String>, StoreError> {
    let mut statement = conn.prepare_cached("SELECT signing FROM users WHERE id = ?1")?;
    let mut found = BTreeMap::new();
    for user in users {
        if let Some(signing) = statement
            .query_row([user.as_str()], |row| row.get::<_, String>(0))
            .optional()?
        {
            found.insert(user.clone(), signing);
        }
    }
    Ok(found)
}

/// Replaces the password hash and revokes every session but `keep`.
pub fn change_password(
    conn: &Connection,
    user: &UserId,
    password_hash: &str,
    keep: &[u8],
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET password_hash = ?2 WHERE id = ?1",
        params![user.as_str(), password_hash],
    )?;
    conn.execute(
        "UPDATE sessions SET revoked = 1 WHERE user = ?1 AND token_hash != ?2",
        params![user.as_str(), keep],
    )?;
    Ok(())
}

// --------------------------------------------------------- group membership

/// Renames a group.
pub fn rename_group(conn: &Connection, gid: GroupId, name: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE groups SET name = ?2 WHERE gid = ?1",
        params![gid.get() as i64, name],
    )?;
    Ok(())
}

/// Makes `user` a current member (again), last in join order.
pub fn join_group(conn: &Connection, gid: GroupId, user: &UserId) -> Result<(), StoreError> {
    let position: i64 = conn.query_row(
        "SELECT COALESCE(MAX(position), -1) + 1 FROM group_members WHERE gid = ?1",
        [gid.get() as i64],
        |row| row.get(0),
    )?;
    conn.execute(
        "INSERT INTO group_members (gid, user, position) VALUES (?1, ?2, ?3)
         ON CONFLICT(gid, user) DO UPDATE SET left_id = NULL, position = excluded.position",
        params![gid.get() as i64, user.as_str(), position],
    )?;
    Ok(())
}

/// Ends `user`'s membership; they keep reading up to `last_visible`.
pub fn leave_group(
    conn: &Connection,
    gid: GroupId,
    user: &UserId,
    last_visible: MessageId,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE group_members SET left_id = ?3 WHERE gid = ?1 AND user = ?2",
        params![gid.get() as i64, user.as_str(), last_visible.0 as i64],
    )?;
    Ok(())
}

/// Hands the group to another member.
pub fn set_holder(conn: &Connection, gid: GroupId, holder: &UserId) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE groups SET holder = ?2 WHERE gid = ?1",
        params![gid.get() as i64, holder.as_str()],
    )?;
    Ok(())
}

// --------------------------------------------------------------- broadcasts

/// Whether the user may send broadcasts.
pub fn is_broadcaster(conn: &Connection, user: &UserId) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT broadcaster FROM users WHERE id = ?1",
            [user.as_str()],
            |row| row.get(0),
        )
        .optional()?
        .unwrap_or(false))
}

fn broadcast_row(row: &rusqlite::Row<'_>, utc_offset_minutes: i32) -> rusqlite::Result<Broadcast> {
    let kind: u8 = row.get(2)?;
    let ts: i64 = row.get(5)?;
    Ok(Broadcast {
        id: BroadcastId(row.get::<_, i64>(0)? as u64),
        from: user_id(row.get(1)?)?,
        kind: BroadcastKind::try_from(kind).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Integer, e.into())
        })?,
        title: row.get(3)?,
        content: row.get(4)?,
        time: time::format_time(ts, utc_offset_minutes),
        ts,
    })
}

/// Stores a broadcast; a repeated (sender, cid) returns the first one.
#[allow(clippy::too_many_arguments)]
pub fn store_broadcast(
    conn: &Connection,
    sender: &UserId,
    kind: BroadcastKind,
    title: &str,
    content: &str,
    cid: Option<&ClientMsgId>,
    ts: i64,
    utc_offset_minutes: i32,
) -> Result<Broadcast, StoreError> {
    const COLUMNS: &str = "id, sender, kind, title, content, ts";
    if let Some(cid) = cid {
        let sql = format!("SELECT {COLUMNS} FROM broadcasts WHERE sender = ?1 AND cid = ?2");
        if let Some(existing) = conn
            .query_row(&sql, params![sender.as_str(), cid.as_str()], |row| {
                broadcast_row(row, utc_offset_minutes)
            })
            .optional()?
        {
            return Ok(existing);
        }
    }
    conn.execute(
        "INSERT INTO broadcasts (sender, kind, title, content, cid, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![sender.as_str(), u8::from(kind), title, content, cid.map(ClientMsgId::as_str), ts],
    )?;
    let id = conn.last_insert_rowid();
    let sql = format!("SELECT {COLUMNS} FROM broadcasts WHERE id = ?1");
    Ok(conn.query_row(&sql, [id], |row| broadcast_row(row, utc_offset_minutes))?)
}

/// Broadcasts after `since`, oldest first, and whether more follow.
pub fn broadcasts_after(
    conn: &Connection,
    since: Option<BroadcastId>,
    limit: u32,
    utc_offset_minutes: i32,
) -> Result<(Vec<Broadcast>, bool), StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT id, sender, kind, title, content, ts FROM broadcasts WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let since = since.map(|b| b.0 as i64).unwrap_or(0);
    let mut found = statement
        .query_map(params![since, i64::from(limit) + 1], |row| {
            broadcast_row(row, utc_offset_minutes)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    Ok((found, more))
}
