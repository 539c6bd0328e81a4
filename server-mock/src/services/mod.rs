//! One module per service: each turns a request frame into exactly one reply.

pub mod actions;
pub mod broadcast;
pub mod calls;
pub mod directory;
pub mod file_disk;
pub mod files;
pub mod groups;
pub mod heartbeat;
mod login;
pub(crate) mod meetings;
pub(crate) mod presence;
pub mod profile;
pub mod receipts;
pub mod requests;
pub mod settings;
pub mod stream;
pub mod sync;
pub mod text;
pub mod uploads;

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

/// Hands a just-committed message to its recipients' live sessions.
pub fn announce(
    context: &Context,
    message: &crate::store::queries::NewMessage,
    stored: &crate::store::queries::Stored,
) {
    announce_quoting(context, message, stored, None);
}

/// [`announce`] for a reply, with its snapshot of the message it quotes.
pub fn announce_quoting(
    context: &Context,
    message: &crate::store::queries::NewMessage,
    stored: &crate::store::queries::Stored,
    quote: Option<penpen_core::packets::message::Quote>,
) {
    let message = penpen_core::packets::message::Message {
        quote,
        mentions: message.mentions.clone(),
        mention_all: message.mention_all,
        recalled: None,
        name: message.file.as_ref().map(|(name, _)| name.clone()),
        size: message.file.as_ref().map(|(_, size)| *size),
        from: message.sender.clone(),
        to: message.to.clone(),
        kind: message.kind,
        content: message.content.clone(),
        time: penpen_core::time::format_time(stored.ts, context.utc_offset_minutes),
        ts: stored.ts,
        id: stored.id,
        seq: None,
        cid: message.cid.clone(),
        duration: message.duration,
    };
    deliver(context, message, stored);
}

/// Hands a just-committed message, as its recipients see it, to their live
/// sessions (each under their own seq).
pub fn deliver(
    context: &Context,
    message: penpen_core::packets::message::Message,
    stored: &crate::store::queries::Stored,
) {
    if stored.repeated {
        return; // delivered when it was first stored
    }
    let message = std::sync::Arc::new(message);
    for (user, seq) in &stored.seqs {
        context.deliver(user, *seq, &message);
    }
}

/// The reply to a stored send: the sender's view of the message.
pub fn send_ack(
    context: &Context,
    user: &UserId,
    cid: Option<penpen_core::ClientMsgId>,
    stored: &crate::store::queries::Stored,
    content: Option<String>,
) -> Reply {
    reply(&penpen_core::packets::message::SendAck {
        state: State::SUCCESS,
        cid,
        id: stored.id,
        seq: stored.seq_of(user),
        time: penpen_core::time::format_time(stored.ts, context.utc_offset_minutes),
        ts: stored.ts,
        content,
    })
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

/// Who is asking: the session behind the connection.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The session's user, the only identity the server trusts.
    pub user: UserId,
    /// The session's token hash (to spare it when others are signed out).
    pub token_hash: Vec<u8>,
    /// The peer's address (password checks are limited per account and address).
    pub address: Option<std::net::IpAddr>,
}

/// Answers one request on a service port other than 20888.
pub async fn answer(context: &Context, service: Service, caller: &Caller, frame: &Frame) -> Reply {
    let user = &caller.user;
    match service {
        Service::Text | Service::GroupText => text::send(context, service, user, frame).await,
        Service::Image | Service::Voice => files::send(context, service, user, frame).await,
        Service::Broadcast => broadcast::send(context, user, frame).await,
        Service::Password => profile::password(context, caller, frame).await,
        Service::Signature => profile::signature(context, user, frame).await,
        Service::Presence => profile::presence(context, user, frame).await,
        Service::ConversationSettings => settings::answer(context, user, frame).await,
        Service::SyncMessages => sync::messages(context, user, frame).await,
        Service::SyncContacts => directory::directory(context, user, frame).await,
        Service::SyncSignatures => profile::signatures(context, frame).await,
        Service::SyncGroups => groups::list(context, user, frame).await,
        Service::SyncBroadcasts => broadcast::list(context, frame).await,
        Service::GroupCreate => groups::create(context, user, frame).await,
        Service::GroupRename => groups::rename(context, user, frame).await,
        Service::GroupMembers => groups::members(context, user, frame).await,
        Service::MessageActions => actions::answer(context, user, frame).await,
        Service::Files => uploads::answer(context, user, frame).await,
        other => Err(ErrorReply::new(
            State::UNAVAILABLE,
            format!("service {other} is not served by this server yet"),
        )),
    }
}

/// Calls `expire` whenever the deadline it last returned comes, or
/// `deadlines_changed` says one may have moved earlier, until the server
/// stops: the timer loop of calls and meetings.
pub(crate) async fn run_deadlines<E, EFut, C, CFut>(
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut expire: E,
    deadlines_changed: C,
) where
    E: FnMut() -> EFut,
    EFut: Future<Output = Option<std::time::Instant>>,
    C: Fn() -> CFut,
    CFut: Future<Output = ()>,
{
    loop {
        let next = expire().await;
        let wait = async {
            match next {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = wait => {}
            () = deadlines_changed() => {}
            _ = shutdown.wait_for(|stopped| *stopped) => return,
        }
    }
}
