//! Profiles: presence, signatures, passwords.

use super::presence_text;
use crate::store::StoreError;
use penpen_core::UserId;
use penpen_core::packets::profile::Presence;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;

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
