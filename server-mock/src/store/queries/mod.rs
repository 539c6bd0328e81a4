//! The SQL of the server, one module per domain (mirroring `services/`), one
//! function per question or change. Every statement is parameterised;
//! nothing a client sends is ever spliced into SQL.
//!
//! Everything is re-exported here, so callers write `queries::ack` wherever
//! the function lives.

mod broadcasts;
mod directory;
mod forwards;
mod groups;
mod messages;
mod profile;
mod reads;
mod recalls;
mod search;
mod settings;

pub use super::sessions::{create_session, revoke_session};
pub use broadcasts::*;
pub use directory::*;
pub use forwards::*;
pub use groups::*;
pub use messages::*;
pub use profile::*;
pub use reads::*;
pub use recalls::*;
pub use search::*;
pub use settings::*;

use crate::store::StoreError;
use crate::store::db::Db;
use penpen_core::UserId;
use penpen_core::packets::profile::Presence;

fn user_id(text: String) -> Result<UserId, StoreError> {
    UserId::parse(&text).map_err(StoreError::corrupt)
}

/// A table whose new rows are read by others "after id n" (broadcasts by
/// clients, revocations by every node's poller).
#[derive(Debug, Clone, Copy)]
pub enum Ordered {
    /// `broadcasts`.
    Broadcasts = 1,
    /// `revocations`.
    Revocations = 2,
}

/// Makes the ids of `table`'s new rows commit in order. PostgreSQL hands
/// out identity values before commit, so two concurrent inserts may commit
/// in the other order and a reader "after id n" could step over one for
/// good; an advisory lock held until commit makes inserts into `table` take
/// turns. (SQLite's single writer never interleaves.)
pub fn serialize_ids(conn: &Db<'_>, table: Ordered) -> Result<(), StoreError> {
    if conn.dialect() == crate::store::db::Dialect::Postgres {
        conn.query_row(
            "SELECT pg_advisory_xact_lock(?1)",
            crate::params![0x6964_0000_i64 + table as i64],
            |_| Ok(()),
        )?;
    }
    Ok(())
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
