//! 25888 send a broadcast, 55888 sync broadcasts.

use super::{Reply, must_be_self, reply, request};
use crate::context::{Context, now_ms};
use crate::store::{StoreError, queries};
use penpen_core::limits::DEFAULT_PAGE;
use penpen_core::packets::broadcast::{BroadcastAck, BroadcastPage, BroadcastQuery, SendBroadcast};
use penpen_core::packets::login::Push;
use penpen_core::{Frame, State, UserId};

/// Stores a broadcast from an allowed sender and pushes it to everyone online.
pub async fn send(context: &Context, user: &UserId, frame: &Frame) -> Reply {
    let send: SendBroadcast = request(frame)?;
    must_be_self(user, &send.from, "from")?;
    let offset = context.utc_offset_minutes;
    let (sender, request) = (user.clone(), send.clone());
    let broadcast = context
        .store
        .write(move |conn| {
            if !queries::is_broadcaster(conn, &sender)? {
                return Err(StoreError::refused(
                    State::FORBIDDEN,
                    format!("{sender} may not send broadcasts; the directory does not allow it"),
                ));
            }
            queries::store_broadcast(
                conn,
                &sender,
                request.kind,
                &request.title,
                &request.content,
                request.cid.as_ref(),
                now_ms(),
                offset,
            )
        })
        .await
        .map_err(|e| e.reply())?;
    context.push_everyone(&Push::Broadcast {
        broadcast: broadcast.clone(),
    });
    reply(&BroadcastAck {
        state: State::SUCCESS,
        cid: send.cid,
        broadcast,
    })
}

/// Broadcasts after `since`, oldest first.
pub async fn list(context: &Context, frame: &Frame) -> Reply {
    let query: BroadcastQuery = request(frame)?;
    let offset = context.utc_offset_minutes;
    let (broadcasts, more) = context
        .store
        .read(move |conn| {
            queries::broadcasts_after(
                conn,
                query.since,
                query.limit.unwrap_or(DEFAULT_PAGE),
                offset,
            )
        })
        .await
        .map_err(|e| e.reply())?;
    reply(&BroadcastPage {
        state: State::SUCCESS,
        broadcasts,
        more,
    })
}
