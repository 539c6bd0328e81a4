//! 32888: conversation settings — mute one conversation, or list the muted
//! ones (PROTOCOL §15.5) with whether the caller shares read receipts
//! (§16.5, set in `receipts`).

use super::{Reply, reply};
use crate::context::Context;
use crate::store::StoreError;
use crate::store::db::Db;
use crate::store::queries::{self, Membership};
use penpen_core::packets::Done;
use penpen_core::packets::login::Push;
use penpen_core::packets::settings::{
    ConversationMute, Conversations, MAX_MUTED, MutedList, SettingsRequest,
};
use penpen_core::{ErrorReply, Frame, Peer, State, UserId};

/// Answers one 32888 request of `user`.
pub async fn answer(context: &Context, user: &UserId, frame: &Frame) -> Reply {
    match SettingsRequest::from_frame(frame).map_err(|e| ErrorReply::from(&e))? {
        SettingsRequest::Mute(mute) => set(context, user, mute).await,
        SettingsRequest::List(_) => list(context, user).await,
        SettingsRequest::Receipts(setting) => {
            super::receipts::set_receipts(context, user, setting).await
        }
    }
}

/// Stores the setting, answers once it is committed, and tells the user's
/// sessions.
async fn set(context: &Context, user: &UserId, mute: ConversationMute) -> Reply {
    let (who, change) = (user.clone(), mute.clone());
    context
        .store
        .write(move |conn| {
            may_set(conn, &who, &change.target)?;
            queries::set_muted(conn, &who, &change.target, change.muted)
        })
        .await
        .map_err(|e| e.reply())?;
    // Every session, the asking one included: tabs of one browser share a
    // token, so "the others" cannot be told apart by it, and applying the
    // setting twice changes nothing. A session too far behind to take the
    // push is dropped instead: it logs in again and lists the settings.
    context.push_user_or_drop(user, &Push::Conversation { conversation: mute });
    reply(&Done::new())
}

/// A conversation is the caller's to set when the other person exists, or
/// when the caller is or was a member of the group (a group one left keeps
/// its history, and its setting).
fn may_set(conn: &Db<'_>, user: &UserId, target: &Peer) -> Result<(), StoreError> {
    match target {
        Peer::User(other) if queries::user_exists(conn, other)? => Ok(()),
        Peer::User(other) => Err(StoreError::refused(
            State::UNKNOWN_USER,
            format!("user {other} does not exist"),
        )),
        Peer::Group(gid) => match queries::membership(conn, *gid, user)? {
            Some(Membership::Current | Membership::Left(_)) => Ok(()),
            None if queries::group_exists(conn, *gid)? => Err(StoreError::refused(
                State::NOT_A_MEMBER,
                format!("{user} is not a member of group {gid}, so cannot mute it"),
            )),
            None => Err(StoreError::refused(
                State::UNKNOWN_GROUP,
                format!("group {gid} does not exist"),
            )),
        },
    }
}

async fn list(context: &Context, user: &UserId) -> Reply {
    let (who, by_default) = (user.clone(), context.receipts.shared_by_default);
    let (mut muted, receipts) = context
        .store
        .read(move |conn| {
            Ok((
                queries::muted(conn, &who)?,
                queries::shares_receipts(conn, &who, by_default)?,
            ))
        })
        .await
        .map_err(|e| e.reply())?;
    // A reply a client would refuse helps nobody; the cap is far above any
    // real user's conversations.
    muted.truncate(MAX_MUTED);
    reply(&MutedList {
        state: State::SUCCESS,
        muted: Conversations(muted),
        receipts: Some(receipts),
    })
}
