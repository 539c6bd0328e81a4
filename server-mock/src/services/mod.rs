//! One module per service: each turns a request frame into exactly one reply.

pub mod directory;
pub mod groups;
pub mod stream;
pub mod sync;
pub mod text;

use crate::context::Context;
use penpen_core::packets::Packet;
use penpen_core::{ErrorReply, Frame, Service, State, UserId};
use serde::Serialize;

/// A reply payload (JSON text), or a refusal.
pub type Reply = Result<String, ErrorReply>;

/// Serializes a reply packet.
pub fn reply<T: Serialize>(packet: &T) -> Reply {
    serde_json::to_string(packet)
        .map_err(|e| ErrorReply::new(State::SERVER_ERROR, format!("cannot encode the reply: {e}")))
}

/// Reads the request packet of a service.
pub fn request<T: Packet>(frame: &Frame) -> Result<T, ErrorReply> {
    frame.packet::<T>().map_err(|e| ErrorReply::from(&e))
}

/// Refuses a packet that names someone other than the session's user.
pub fn must_be_self(session: &UserId, named: &UserId, field: &str) -> Result<(), ErrorReply> {
    if session == named {
        Ok(())
    } else {
        Err(ErrorReply::new(
            State::FORBIDDEN,
            format!("{field} is {named}, but this session belongs to {session}"),
        ))
    }
}

/// Answers one request on a service port other than 20888.
pub async fn answer(context: &Context, service: Service, user: &UserId, frame: &Frame) -> Reply {
    match service {
        Service::Text | Service::GroupText => text::send(context, service, user, frame).await,
        Service::SyncMessages => sync::messages(context, user, frame).await,
        Service::SyncContacts => directory::directory(context, user, frame).await,
        Service::SyncGroups => groups::list(context, user, frame).await,
        other => Err(ErrorReply::new(
            State::UNAVAILABLE,
            format!("service {other} is not served by this server yet"),
        )),
    }
}
