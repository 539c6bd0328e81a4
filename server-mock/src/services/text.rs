//! 21888 and 26888: text messages, 1:1 and to groups.

use super::{Reply, must_be_self, request};
use crate::context::{Context, now_ms};
use crate::store::StoreError;
use crate::store::db::Db;
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
        file: None,
        sender: Sender::User(user.clone()),
        to: send.to.clone(),
        kind: send.kind,
        content: send.content,
        duration: None,
        cid: send.cid.clone(),
        ts: now_ms(),
        mentions: send.mentions.filter(|m| !m.0.is_empty()),
        mention_all: send.mention_all,
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
            check_mentions(conn, &sender, &message, &recipients)?;
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

/// §15.4: only current members may be mentioned, and only the holder may
/// mention everyone. Checked in the write, against the members it goes to.
fn check_mentions(
    conn: &Db<'_>,
    sender: &UserId,
    message: &NewMessage,
    members: &[UserId],
) -> Result<(), StoreError> {
    if let Some(stranger) = message
        .mentions
        .iter()
        .flat_map(|m| &m.0)
        .find(|user| !members.contains(user))
    {
        return Err(StoreError::refused(
            State::BAD_PACKET,
            format!(
                "mentions names {stranger}, who is not a member of group {}; expected members only",
                message.to
            ),
        ));
    }
    if message.mention_all
        && let Peer::Group(gid) = &message.to
    {
        let holder = queries::group(conn, *gid)?.map(|group| group.holder);
        if holder.as_ref() != Some(sender) {
            return Err(StoreError::refused(
                State::FORBIDDEN,
                format!("only the holder of group {gid} may mention everyone (@所有人)"),
            ));
        }
    }
    Ok(())
}

/// Who receives a message from `sender` to `to`: both people of a 1:1
/// conversation (once, for a note to oneself), or every current member.
pub fn recipients(conn: &Db<'_>, sender: &UserId, to: &Peer) -> Result<Vec<UserId>, StoreError> {
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
