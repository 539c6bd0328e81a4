//! Profiles: presence, signatures, passwords.

use super::presence_text;
use crate::store::StoreError;
use crate::store::db::{Db, params};
use penpen_core::UserId;
use penpen_core::packets::profile::Presence;
use std::collections::BTreeMap;

/// Sets a user's presence.
pub fn set_presence(conn: &Db<'_>, user: &UserId, presence: Presence) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET presence = ?2 WHERE id = ?1",
        params![user.as_str(), presence_text(presence)],
    )?;
    Ok(())
}

/// Sets `presence` for each of `users`, in one transaction.
pub fn set_presences(
    conn: &Db<'_>,
    users: &[UserId],
    presence: Presence,
) -> Result<(), StoreError> {
    for user in users {
        set_presence(conn, user, presence)?;
    }
    Ok(())
}

/// Everyone whose recorded presence is not offline, in id order.
pub fn present_users(conn: &Db<'_>) -> Result<Vec<UserId>, StoreError> {
    conn.query_all(
        "SELECT id FROM users WHERE presence <> ?1 ORDER BY id",
        params![presence_text(Presence::Offline)],
        |row| row.get::<String>(0),
    )?
    .into_iter()
    .map(super::user_id)
    .collect()
}

/// Sets a user's signature.
pub fn set_signature(conn: &Db<'_>, user: &UserId, signing: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET signing = ?2 WHERE id = ?1",
        params![user.as_str(), signing],
    )?;
    Ok(())
}

/// The signatures of those of `users` who exist.
pub fn signatures(conn: &Db<'_>, users: &[UserId]) -> Result<BTreeMap<UserId, String>, StoreError> {
    let mut found = BTreeMap::new();
    for user in users {
        if let Some(signing) = conn.query_opt(
            "SELECT signing FROM users WHERE id = ?1",
            params![user.as_str()],
            |row| row.get::<String>(0),
        )? {
            found.insert(user.clone(), signing);
        }
    }
    Ok(found)
}

/// Replaces the password hash and revokes every session but `keep`.
pub fn change_password(
    conn: &Db<'_>,
    user: &UserId,
    password_hash: &str,
    keep: &[u8],
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET password_hash = ?2 WHERE id = ?1",
        params![user.as_str(), password_hash],
    )?;
    conn.execute(
        "UPDATE sessions SET revoked = 1 WHERE user_id = ?1 AND token_hash != ?2",
        params![user.as_str(), keep],
    )?;
    Ok(())
}
