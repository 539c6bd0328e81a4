//! Groups and their membership.

use super::directory::user_exists;
use super::messages::conversation_key;
use super::user_id;
use crate::store::StoreError;
use crate::store::db::{Db, params};
use penpen_core::packets::groups::{Group, Members};
use penpen_core::packets::message::Sender;
use penpen_core::{GroupId, MessageId, Peer, State, UserId};

/// How `user` stands in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// A member now.
    Current,
    /// A former member, who may read up to this message.
    Left(MessageId),
}

/// Whether the group exists.
pub fn group_exists(conn: &Db<'_>, gid: GroupId) -> Result<bool, StoreError> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM groups WHERE gid = ?1",
            params![gid.get() as i64],
            |_| Ok(()),
        )?
        .is_some())
}

/// `user`'s standing in the group, if they ever belonged to it.
pub fn membership(
    conn: &Db<'_>,
    gid: GroupId,
    user: &UserId,
) -> Result<Option<Membership>, StoreError> {
    let row: Option<Option<i64>> = conn.query_opt(
        "SELECT left_id FROM group_members WHERE gid = ?1 AND user_id = ?2",
        params![gid.get() as i64, user.as_str()],
        |row| row.get(0),
    )?;
    Ok(row.map(|left| match left {
        None => Membership::Current,
        Some(id) => Membership::Left(MessageId(id as u64)),
    }))
}

/// The group with its current members in join order.
pub fn group(conn: &Db<'_>, gid: GroupId) -> Result<Option<Group>, StoreError> {
    let head: Option<(String, String)> = conn.query_opt(
        "SELECT holder, name FROM groups WHERE gid = ?1",
        params![gid.get() as i64],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
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
pub fn current_members(conn: &Db<'_>, gid: GroupId) -> Result<Members, StoreError> {
    let users = conn.query_all(
        "SELECT user_id FROM group_members WHERE gid = ?1 AND left_id IS NULL ORDER BY position",
        params![gid.get() as i64],
        |row| user_id(row.get(0)?),
    )?;
    Ok(Members(users))
}

/// A page of `user`'s groups with a gid above `after`, in ascending gid, at
/// most `limit` of them; and whether more follow.
pub fn groups_page(
    conn: &Db<'_>,
    user: &UserId,
    after: Option<GroupId>,
    limit: u32,
) -> Result<(Vec<Group>, bool), StoreError> {
    let after = after.map_or(0, |g| g.get() as i64);
    let mut gids = conn.query_all(
        "SELECT gid FROM group_members WHERE user_id = ?1 AND left_id IS NULL AND gid > ?2
         ORDER BY gid LIMIT ?3",
        params![user.as_str(), after, i64::from(limit) + 1],
        |row| row.get::<i64>(0),
    )?;
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
    conn: &Db<'_>,
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
    let gid: i64 = conn.query_row(
        "INSERT INTO groups (holder, name, created_ts) VALUES (?1, ?2, ?3) RETURNING gid",
        params![holder.as_str(), name, ts],
        |row| row.get(0),
    )?;
    let gid = GroupId::new(gid as u64)
        .ok_or_else(|| StoreError::Database(format!("group id {gid} is out of range")))?;
    for (position, user) in members.0.iter().enumerate() {
        conn.execute(
            "INSERT INTO group_members (gid, user_id, position) VALUES (?1, ?2, ?3)",
            params![gid.get() as i64, user.as_str(), position as i64],
        )?;
    }
    Ok(gid)
}

/// Renames a group.
pub fn rename_group(conn: &Db<'_>, gid: GroupId, name: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE groups SET name = ?2 WHERE gid = ?1",
        params![gid.get() as i64, name],
    )?;
    Ok(())
}

/// Makes `user` a current member (again), last in join order, who has
/// joined after the group's newest message.
pub fn join_group(conn: &Db<'_>, gid: GroupId, user: &UserId) -> Result<(), StoreError> {
    let position: i64 = conn.query_row(
        "SELECT COALESCE(MAX(position), -1) + 1 FROM group_members WHERE gid = ?1",
        params![gid.get() as i64],
        |row| row.get(0),
    )?;
    // What was stored before is not theirs to read (§16.2): counted from
    // the group's newest message now, on every (re-)join.
    conn.execute(
        "INSERT INTO group_members (gid, user_id, position, joined_id)
         VALUES (?1, ?2, ?3, (SELECT MAX(id) FROM messages WHERE conversation = ?4))
         ON CONFLICT(gid, user_id) DO UPDATE SET left_id = NULL, position = excluded.position,
                                              joined_id = excluded.joined_id",
        params![
            gid.get() as i64,
            user.as_str(),
            position,
            conversation_key(&Sender::System, &Peer::Group(gid))
        ],
    )?;
    Ok(())
}

/// Ends `user`'s membership; they keep reading up to `last_visible`.
pub fn leave_group(
    conn: &Db<'_>,
    gid: GroupId,
    user: &UserId,
    last_visible: MessageId,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE group_members SET left_id = ?3 WHERE gid = ?1 AND user_id = ?2",
        params![gid.get() as i64, user.as_str(), last_visible.0 as i64],
    )?;
    Ok(())
}

/// Hands the group to another member.
pub fn set_holder(conn: &Db<'_>, gid: GroupId, holder: &UserId) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE groups SET holder = ?2 WHERE gid = ?1",
        params![gid.get() as i64, holder.as_str()],
    )?;
    Ok(())
}
