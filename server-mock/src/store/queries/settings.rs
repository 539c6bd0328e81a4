//! Conversation settings: each user's muted conversations (§15.5).

use crate::store::StoreError;
use penpen_core::{Peer, UserId};
use rusqlite::{Connection, params};

/// Mutes or unmutes `target` for `user` (setting what is set changes nothing).
pub fn set_muted(
    conn: &Connection,
    user: &UserId,
    target: &Peer,
    muted: bool,
) -> Result<(), StoreError> {
    let sql = if muted {
        "INSERT OR IGNORE INTO muted_conversations (user, target) VALUES (?1, ?2)"
    } else {
        "DELETE FROM muted_conversations WHERE user = ?1 AND target = ?2"
    };
    conn.prepare_cached(sql)?
        .execute(params![user.as_str(), target.to_string()])?;
    Ok(())
}

/// Every conversation `user` muted.
pub fn muted(conn: &Connection, user: &UserId) -> Result<Vec<Peer>, StoreError> {
    let mut statement = conn
        .prepare_cached("SELECT target FROM muted_conversations WHERE user = ?1 ORDER BY target")?;
    let targets = statement
        .query_map([user.as_str()], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    targets
        .iter()
        .map(|target| {
            Peer::parse(target).map_err(|e| {
                StoreError::Database(format!("muted conversation {target:?} is not an id: {e}"))
            })
        })
        .collect()
}
