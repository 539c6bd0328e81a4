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

use penpen_core::UserId;
use penpen_core::packets::profile::Presence;

fn user_id(text: String) -> rusqlite::Result<UserId> {
    UserId::parse(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
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
