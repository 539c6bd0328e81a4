//! 50888: catch-up and history pages.

use super::{Reply, reply};
use crate::context::Context;
use crate::store::queries;
use penpen_core::limits::DEFAULT_PAGE;
use penpen_core::packets::sync::{MessagePage, SyncRequest};
use penpen_core::{ErrorReply, Frame, State, UserId};

/// Answers a catch-up or a history request.
pub async fn messages(context: &Context, user: &UserId, frame: &Frame) -> Reply {
    let request = SyncRequest::from_frame(frame).map_err(|e| ErrorReply::from(&e))?;
    if let SyncRequest::Reads(_) = request {
        return Err(ErrorReply::new(
            State::UNAVAILABLE,
            "read receipts (§16) are not served yet",
        ));
    }
    let user = user.clone();
    let offset = context.utc_offset_minutes;
    let (messages, more) = context
        .store
        .read(move |conn| match request {
            SyncRequest::CatchUp(catch_up) => queries::inbox_after(
                conn,
                &user,
                catch_up.since,
                catch_up.limit.unwrap_or(DEFAULT_PAGE),
                offset,
            ),
            SyncRequest::History(history) => queries::history(
                conn,
                &user,
                &history.target,
                history.before,
                history.limit.unwrap_or(DEFAULT_PAGE),
                offset,
            ),
            SyncRequest::Reads(_) => Ok((Vec::new(), false)),
        })
        .await
        .map_err(|e| e.reply())?;
    reply(&MessagePage {
        state: State::SUCCESS,
        messages,
        more,
    })
}
