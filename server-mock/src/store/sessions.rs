//! The SQL of sessions: what a stored session says about its token, the
//! revocation log that the admin commands append to, and disabled accounts.

use super::StoreError;
use crate::store::db::{Db, Row, params};
use penpen_core::UserId;

/// A stored session, as the checks need it.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// Its token's hash.
    pub token_hash: Vec<u8>,
    /// Its user.
    pub user: UserId,
    /// When it was created (Unix ms).
    pub created_ts: i64,
    /// When it was last used (Unix ms).
    pub last_used_ts: i64,
    /// Logged out, or revoked by a password change or an admin.
    pub revoked: bool,
    /// Its user is disabled.
    pub disabled: bool,
    /// The key of its file tickets, when the server has seen its token since version 3.
    pub ticket_key: Option<[u8; 32]>,
}

fn row(row: &Row<'_, '_>) -> Result<SessionRow, StoreError> {
    let user: String = row.get(1)?;
    let created_ts: i64 = row.get(2)?;
    let key: Option<Vec<u8>> = row.get(6)?;
    Ok(SessionRow {
        token_hash: row.get(0)?,
        user: UserId::parse(&user).map_err(StoreError::corrupt)?,
        created_ts,
        last_used_ts: row.get::<Option<i64>>(3)?.unwrap_or(created_ts),
        revoked: row.get(4)?,
        disabled: row.get(5)?,
        ticket_key: key.and_then(|k| k.try_into().ok()),
    })
}

const SELECT: &str = "SELECT s.token_hash, s.user_id, s.created_ts, s.last_used_ts, s.revoked,
    u.disabled, s.ticket_key FROM sessions s JOIN users u ON u.id = s.user_id";

/// The session of a token hash, whatever its state.
pub fn session(conn: &Db<'_>, token_hash: &[u8]) -> Result<Option<SessionRow>, StoreError> {
    conn.query_opt(
        &format!("{SELECT} WHERE s.token_hash = ?1"),
        params![token_hash],
        row,
    )
}

/// The sessions whose token hash starts with `tag` (a file ticket's session tag).
pub fn sessions_tagged(conn: &Db<'_>, tag: &[u8; 8]) -> Result<Vec<SessionRow>, StoreError> {
    // A range on the primary key: every hash starting with `tag` sorts
    // between `tag` itself and `tag` plus one.
    let mut upper = tag.to_vec();
    while let Some(last) = upper.last_mut() {
        if *last == 0xff {
            upper.pop();
        } else {
            *last += 1;
            break;
        }
    }
    let mut found = Vec::new();
    if upper.is_empty() {
        for session in conn.query_all(
            &format!("{SELECT} WHERE s.token_hash >= ?1"),
            params![&tag[..]],
            row,
        )? {
            found.push(session);
        }
    } else {
        for session in conn.query_all(
            &format!("{SELECT} WHERE s.token_hash >= ?1 AND s.token_hash < ?2"),
            params![&tag[..], upper],
            row,
        )? {
            found.push(session);
        }
    }
    Ok(found)
}

/// Keeps a session's ticket key (learnt when its token is presented).
pub fn set_ticket_key(conn: &Db<'_>, token_hash: &[u8], key: &[u8; 32]) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE sessions SET ticket_key = ?2 WHERE token_hash = ?1",
        params![token_hash, &key[..]],
    )?;
    Ok(())
}

/// Records when sessions were last used (never moving a time back).
pub fn record_use(conn: &Db<'_>, uses: &[(Vec<u8>, i64)]) -> Result<(), StoreError> {
    for (hash, ts) in uses {
        conn.execute("UPDATE sessions SET last_used_ts = CASE WHEN COALESCE(last_used_ts, 0) > ?2 THEN last_used_ts ELSE ?2 END WHERE token_hash = ?1", params![hash, ts])?;
    }
    Ok(())
}

/// A revocation another process (or this one) recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// Its place in the log.
    pub id: i64,
    /// Whose sessions.
    pub user: UserId,
    /// One session, or all of the user's when `None`.
    pub token_hash: Option<Vec<u8>>,
    /// What the closed connections are told.
    pub reason: String,
}

/// Revokes every session of `user` and logs it for running servers.
pub fn revoke_user_sessions(
    conn: &Db<'_>,
    user: &UserId,
    reason: &str,
    ts: i64,
) -> Result<usize, StoreError> {
    let revoked = conn.execute(
        "UPDATE sessions SET revoked = 1 WHERE user_id = ?1 AND revoked = 0",
        params![user.as_str()],
    )?;
    super::queries::serialize_ids(conn, super::queries::Ordered::Revocations)?;
    conn.execute(
        "INSERT INTO revocations (user_id, token_hash, reason, ts) VALUES (?1, NULL, ?2, ?3)",
        params![user.as_str(), reason, ts],
    )?;
    Ok(revoked as usize)
}

/// Disables or enables an account; returns whether the account exists.
pub fn set_disabled(conn: &Db<'_>, user: &UserId, disabled: bool) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE users SET disabled = ?2 WHERE id = ?1",
        params![user.as_str(), disabled],
    )? == 1)
}

/// Whether an account is disabled (`None`: no such account).
pub fn is_disabled(conn: &Db<'_>, user: &UserId) -> Result<Option<bool>, StoreError> {
    conn.query_opt(
        "SELECT disabled FROM users WHERE id = ?1",
        params![user.as_str()],
        |r| r.get(0),
    )
}

/// The newest entry of the revocation log (0 when empty).
pub fn last_revocation(conn: &Db<'_>) -> Result<i64, StoreError> {
    conn.query_row(
        "SELECT coalesce(max(id), 0) FROM revocations",
        params![],
        |r| r.get(0),
    )
}

/// The revocations logged after `after`, oldest first.
pub fn revocations_after(conn: &Db<'_>, after: i64) -> Result<Vec<Revocation>, StoreError> {
    let rows = conn.query_all(
        "SELECT id, user_id, token_hash, reason FROM revocations WHERE id > ?1 ORDER BY id LIMIT 1000",
        params![after],
        |r| {
            Ok((
                r.get::<i64>(0)?,
                r.get::<String>(1)?,
                r.get::<Option<Vec<u8>>>(2)?,
                r.get::<String>(3)?,
            ))
        },
    )?;
    let mut found = Vec::new();
    for (id, user, token_hash, reason) in rows {
        // A malformed user id cannot come from the admin commands; skip it.
        if let Ok(user) = UserId::parse(&user) {
            found.push(Revocation {
                id,
                user,
                token_hash,
                reason,
            });
        }
    }
    Ok(found)
}

/// Records a new session under the hash of its token.
pub fn create_session(
    conn: &Db<'_>,
    token_hash: &[u8],
    user: &UserId,
    ts: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, created_ts) VALUES (?1, ?2, ?3)",
        params![token_hash, user.as_str(), ts],
    )?;
    Ok(())
}

/// Revokes one session.
pub fn revoke_session(conn: &Db<'_>, token_hash: &[u8]) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE sessions SET revoked = 1 WHERE token_hash = ?1",
        params![token_hash],
    )?;
    Ok(())
}
