//! 21888 and 26888: text messages, 1:1 and to groups.

use super::{Reply, must_be_self, request};
use crate::context::{Context, now_ms};
use crate::store::StoreError;
use crate::store::queries::{self, Membership, NewMessage};
use penpen_core::packets::message::{MessageType, SendText, Sender};
use penpen_core::{ErrorReply, Frame, Peer, Service, State, UserId};

/// Stores a text message, answers once it is committed, then wakes the recipients.
pub async fn send(context: &Context, service: Service, user: &UserId, frame: &Frame) -> Reply {
    let send: SendText = request(frame)?;
    must_be_self(user, &send.from, "from")?;
    let expected = MessageType::for_send(service, &send.to);
    if expected != Some(send.kind) {
        return Err(ErrorReply::new(
            State::BAD_PACKET,
            match expected {
                Some(kind) => format!(
                    "type {} cannot be sent on {service} to {}; expected type {}",
                    send.kind.code(),
                    send.to,
                    kind.code()
                ),
                None => format!(
                    "{service} does not carry messages to {}; 1:1 text goes to 21888, group text to 26888",
                    send.to
                ),
            },
        ));
    }
    let message = NewMessage {
        sender: Sender::User(user.clone()),
        to: send.to.clone(),
        kind: send.kind,
        content: send.content,
        duration: None,
        cid: send.cid.clone(),
        ts: now_ms(),
    };
    let sender = user.clone();
    let quoted = send.quote;
    let (message, stored, quote) = context
        .store
        .write(move |conn| {
            let recipients = recipients(conn, &sender, &message.to)?;
            let quote = quoted
                .map(|id| queries::quote_for(conn, &sender, &message.to, id))
                .transpose()?;
            let stored = queries::store_message(conn, &message, &recipients)?;
            if let (Some(quote), false) = (&quote, stored.repeated) {
                queries::set_quote(conn, stored.id, quote.id)?;
            }
            Ok((message, stored, quote))
        })
        .await
        .map_err(|e| e.reply())?;
    super::announce_quoting(context, &message, &stored, quote);
    super::send_ack(context, user, send.cid, &stored, None)
}

/// Who receives a message from `sender` to `to`: both people of a 1:1
/// conversation (once, for a note to oneself), or every current member.
pub fn recipients(
    conn: &rusqlite::Connection,
    sender: &UserId,
    to: &Peer,
) -> Result<Vec<UserId>, StoreError> {
    match to {
        Peer::User(other) => {
            if !queries::user_exists(conn, other)? {
                return Err(StoreError::refused(
                    State::UNKNOWN_USER,
                    format!("user {other} does not exist"),
                ));
            }
            let mut people = vec![sender.clone()];
            if other != sender {
                people.push(other.clone());
            }
            Ok(people)
        }
        Peer::Group(gid) => match queries::membership(conn, *gid, sender)? {
            Some(Membership::Current) => Ok(queries::current_members(conn, *gid)?.0),
            Some(Membership::Left(_)) => Err(StoreError::refused(
                State::NOT_A_MEMBER,
                format!("{sender} has left group {gid} and can no longer send to it"),
            )),
            None if queries::group_exists(conn, *gid)? => Err(StoreError::refused(
                State::NOT_A_MEMBER,
                format!("{sender} is not a member of group {gid}"),
            )),
            None => Err(StoreError::refused(
                State::UNKNOWN_GROUP,
                format!("group {gid} does not exist"),
            )),
        },
    }
}
