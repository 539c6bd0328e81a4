//! Conversation settings: each user's muted conversations (§15.5).

use crate::store::StoreError;
use crate::store::db::{Db, params};
use penpen_core::{Peer, UserId};

/// Mutes or unmutes `target` for `user` (setting what is set changes nothing).
pub fn set_muted(
    conn: &Db<'_>,
    user: &UserId,
    target: &Peer,
    muted: bool,
) -> Result<(), StoreError> {
    let sql = if muted {
        "INSERT INTO muted_conversations (user_id, target) VALUES (?1, ?2) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM muted_conversations WHERE user_id = ?1 AND target = ?2"
    };
    conn.execute(sql, params![user.as_str(), target.to_string()])?;
    Ok(())
}

/// Every conversation `user` muted.
pub fn muted(conn: &Db<'_>, user: &UserId) -> Result<Vec<Peer>, StoreError> {
    let targets = conn.query_all(
        "SELECT target FROM muted_conversations WHERE user_id = ?1 ORDER BY target",
        params![user.as_str()],
        |row| row.get::<String>(0),
    )?;
    targets
        .iter()
        .map(|target| {
            Peer::parse(target).map_err(|e| {
                StoreError::Database(format!("muted conversation {target:?} is not an id: {e}"))
            })
        })
        .collect()
}
