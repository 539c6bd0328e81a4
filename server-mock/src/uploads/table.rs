//! The `uploads` table: each upload under way, keyed by (user, cid), with the
//! bytes durably in its partial file; and the quota sums.

use crate::store::StoreError;
use crate::store::db::{Db, params};
use penpen_core::{ClientMsgId, Peer, UserId};

/// One upload under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRow {
    /// The recipient or group.
    pub to: Peer,
    /// The original name.
    pub name: String,
    /// The whole file's size.
    pub size: u64,
    /// Bytes written and flushed to the partial file.
    pub stored: u64,
    /// The partial file's name in the files folder.
    pub part: String,
}

/// The upload `cid` of `user`, if it is under way.
pub fn find(
    conn: &Db<'_>,
    user: &UserId,
    cid: &ClientMsgId,
) -> Result<Option<UploadRow>, StoreError> {
    let row = conn.query_opt(
        "SELECT target, name, size, stored, part FROM uploads WHERE user_id = ?1 AND cid = ?2",
        params![user.as_str(), cid.as_str()],
        |row| {
            Ok((
                row.get::<String>(0)?,
                row.get::<String>(1)?,
                row.get::<i64>(2)?,
                row.get::<i64>(3)?,
                row.get::<String>(4)?,
            ))
        },
    )?;
    let Some((target, name, size, stored, part)) = row else {
        return Ok(None);
    };
    let to = Peer::parse(&target)
        .map_err(|e| StoreError::Database(format!("upload {cid} names no peer: {e}")))?;
    Ok(Some(UploadRow {
        to,
        name,
        size: size as u64,
        stored: stored as u64,
        part,
    }))
}

/// Records a new upload (nothing stored yet).
pub fn insert(
    conn: &Db<'_>,
    user: &UserId,
    cid: &ClientMsgId,
    upload: &UploadRow,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO uploads (user_id, cid, target, name, size, stored, part, created_ts, updated_ts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![
            user.as_str(),
            cid.as_str(),
            upload.to.to_string(),
            upload.name,
            upload.size as i64,
            upload.stored as i64,
            upload.part,
            now
        ],
    )?;
    Ok(())
}

/// Moves the stored offset from `from` to `to`; false when another writer
/// moved it first (nothing changed).
pub fn advance(
    conn: &Db<'_>,
    user: &UserId,
    cid: &ClientMsgId,
    from: u64,
    to: u64,
    now: i64,
) -> Result<bool, StoreError> {
    let changed = conn.execute(
        "UPDATE uploads SET stored = ?4, updated_ts = ?5
             WHERE user_id = ?1 AND cid = ?2 AND stored = ?3",
        params![user.as_str(), cid.as_str(), from as i64, to as i64, now],
    )?;
    Ok(changed == 1)
}

/// Forgets an upload (sent, cancelled or expired).
pub fn remove(conn: &Db<'_>, user: &UserId, cid: &ClientMsgId) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM uploads WHERE user_id = ?1 AND cid = ?2",
        params![user.as_str(), cid.as_str()],
    )?;
    Ok(())
}

/// What `user` holds against their quota: every stored file whose `files`
/// row is theirs (a forwarded copy names the same file through
/// `forwarded_files` and costs nothing more) plus the full size of their
/// uploads under way, except `except`.
pub fn quota_used(
    conn: &Db<'_>,
    user: &UserId,
    except: Option<&ClientMsgId>,
) -> Result<u64, StoreError> {
    let stored: i64 = conn.query_row(
        "SELECT CAST(COALESCE(SUM(f.size), 0) AS BIGINT) FROM files f JOIN messages m ON m.id = f.message_id
             WHERE m.sender = ?1",
        params![user.as_str()],
        |row| row.get(0),
    )?;
    let uploading: i64 = conn.query_row(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM uploads WHERE user_id = ?1 AND cid IS DISTINCT FROM ?2",
        params![user.as_str(), except.map(ClientMsgId::as_str)],
        |row| row.get(0),
    )?;
    Ok(stored.max(0) as u64 + uploading.max(0) as u64)
}

/// Uploads not touched since `before`: (user, cid, partial file).
pub fn stale(conn: &Db<'_>, before: i64) -> Result<Vec<(UserId, ClientMsgId, String)>, StoreError> {
    let rows = conn.query_all(
        "SELECT user_id, cid, part FROM uploads WHERE updated_ts < ?1",
        params![before],
        |row| {
            Ok((
                row.get::<String>(0)?,
                row.get::<String>(1)?,
                row.get::<String>(2)?,
            ))
        },
    )?;
    Ok(rows
        .into_iter()
        .filter_map(|(user, cid, part)| {
            Some((
                UserId::parse(&user).ok()?,
                ClientMsgId::parse(&cid).ok()?,
                part,
            ))
        })
        .collect())
}

/// Every partial file an upload names (the start-up sweep keeps them).
pub fn parts(conn: &Db<'_>) -> Result<Vec<String>, StoreError> {
    let parts = conn.query_all("SELECT part FROM uploads", params![], |row| {
        row.get::<String>(0)
    })?;
    Ok(parts)
}
