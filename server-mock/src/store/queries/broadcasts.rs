//! Broadcasts.

use super::user_id;
use crate::store::StoreError;
use crate::store::db::{Db, Row, params};
use penpen_core::packets::broadcast::{Broadcast, BroadcastKind};
use penpen_core::{BroadcastId, ClientMsgId, UserId, time};

/// Whether the user may send broadcasts.
pub fn is_broadcaster(conn: &Db<'_>, user: &UserId) -> Result<bool, StoreError> {
    Ok(conn
        .query_opt(
            "SELECT broadcaster FROM users WHERE id = ?1",
            params![user.as_str()],
            |row| row.get(0),
        )?
        .unwrap_or(false))
}

fn broadcast_row(row: &Row<'_, '_>, utc_offset_minutes: i32) -> Result<Broadcast, StoreError> {
    let kind: u8 = row.get(2)?;
    let ts: i64 = row.get(5)?;
    Ok(Broadcast {
        id: BroadcastId(row.get::<i64>(0)? as u64),
        from: user_id(row.get(1)?)?,
        kind: BroadcastKind::try_from(kind).map_err(StoreError::corrupt)?,
        title: row.get(3)?,
        content: row.get(4)?,
        time: time::format_time(ts, utc_offset_minutes),
        ts,
    })
}

/// Stores a broadcast; a repeated (sender, cid) returns the first one.
#[allow(clippy::too_many_arguments)]
pub fn store_broadcast(
    conn: &Db<'_>,
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
        if let Some(existing) =
            conn.query_opt(&sql, params![sender.as_str(), cid.as_str()], |row| {
                broadcast_row(row, utc_offset_minutes)
            })?
        {
            return Ok(existing);
        }
    }
    super::serialize_ids(conn, super::Ordered::Broadcasts)?;
    let id: i64 = conn.query_row("INSERT INTO broadcasts (sender, kind, title, content, cid, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id", params![sender.as_str(), u8::from(kind), title, content, cid.map(ClientMsgId::as_str), ts], |row| row.get(0))?;
    let sql = format!("SELECT {COLUMNS} FROM broadcasts WHERE id = ?1");
    conn.query_row(&sql, params![id], |row| {
        broadcast_row(row, utc_offset_minutes)
    })
}

/// Broadcasts after `since`, oldest first, and whether more follow.
pub fn broadcasts_after(
    conn: &Db<'_>,
    since: Option<BroadcastId>,
    limit: u32,
    utc_offset_minutes: i32,
) -> Result<(Vec<Broadcast>, bool), StoreError> {
    let since = since.map(|b| b.0 as i64).unwrap_or(0);
    let mut found = conn.query_all(
        "SELECT id, sender, kind, title, content, ts FROM broadcasts WHERE id > ?1 ORDER BY id LIMIT ?2",
        params![since, i64::from(limit) + 1],
        |row| broadcast_row(row, utc_offset_minutes),
    )?;
    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    Ok((found, more))
}
