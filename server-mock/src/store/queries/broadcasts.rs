//! Broadcasts.

use super::user_id;
use crate::store::StoreError;
use penpen_core::packets::broadcast::{Broadcast, BroadcastKind};
use penpen_core::{BroadcastId, ClientMsgId, UserId, time};
use rusqlite::{Connection, OptionalExtension, params};

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
