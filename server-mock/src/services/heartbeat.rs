//! 20888 heartbeat: a client that heard nothing for a while asks for a sign
//! of life (browsers cannot send WebSocket pings); the answer is the same
//! frame, before login as after it.

use super::{Reply, reply};
use penpen_core::packets::login::Heartbeat;

/// The answer to a heartbeat.
pub fn answer(_asked: &Heartbeat) -> Reply {
    reply(&Heartbeat { heartbeat: true })
}
