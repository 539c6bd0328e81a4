//! Presence as the store records it and everyone is told: a user is
//! offline once no node holds a session of theirs. Their last session's
//! end records it (`login::end_session`); a sweep records it for those
//! whose sessions ended without a word: the node that held them was
//! killed, or this node is starting after a crash.

use crate::bus::Holding;
use crate::context::Context;
use crate::store::queries;
use penpen_core::UserId;
use penpen_core::packets::login::{PresenceChange, Push};
use penpen_core::packets::profile::Presence;

/// The push telling everyone `user`'s presence.
pub(super) fn presence_push(user: &UserId, presence: Presence) -> Push {
    Push::Presence {
        presence: PresenceChange {
            user: user.clone(),
            presence,
        },
    }
}

/// Records `users` offline and tells everyone, but for those of them
/// whose session opened meanwhile. Asked before, no node held them; they
/// are asked again after the offline is recorded, so a session opened
/// meanwhile either answers the second question or records its online
/// after this offline. Those found are recorded online again. Returns how
/// many were recorded and announced offline.
pub(super) async fn record_offline(context: &Context, users: Vec<UserId>) -> usize {
    if users.is_empty() {
        return 0;
    }
    let written = users.clone();
    if let Err(err) = context
        .store
        .write(move |conn| queries::set_presences(conn, &written, Presence::Offline))
        .await
    {
        tracing::warn!(%err, users = users.len(), "could not record users as offline");
        return 0;
    }
    let mut back = Vec::new();
    let mut offline = Vec::new();
    for user in users {
        if context.hub.has_sessions(&user) || context.bus.held_elsewhere(&user).await {
            back.push(user);
        } else {
            offline.push(user);
        }
    }
    if !back.is_empty() {
        tracing::debug!(users = ?back, "a session opened meanwhile: online again");
        if let Err(err) = context
            .store
            .write(move |conn| queries::set_presences(conn, &back, Presence::Online))
            .await
        {
            tracing::warn!(%err, "could not record users as online again");
        }
    }
    for user in &offline {
        tracing::debug!(%user, "no session left: offline");
        context.push_everyone(&presence_push(user, Presence::Offline));
    }
    offline.len()
}

/// Records offline everyone the store shows present whom no node holds
/// (a node holding them that does not answer in time keeps them as they are).
pub(crate) async fn sweep(context: &Context) {
    let present = match context.store.read(queries::present_users).await {
        Ok(present) => present,
        Err(err) => {
            tracing::warn!(%err, "cannot read who is present to sweep the departed");
            return;
        }
    };
    let mut departed = Vec::new();
    for user in present {
        if !context.hub.has_sessions(&user)
            && context.bus.holding_elsewhere(&user).await == Holding::NotHeld
        {
            departed.push(user);
        }
    }
    let recorded = record_offline(context, departed).await;
    if recorded > 0 {
        tracing::info!(
            users = recorded,
            "recorded offline the users whose sessions ended with their node"
        );
    }
}
