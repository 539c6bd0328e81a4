//! 50888: catch-up and history pages, the catch-up of read marks, and the
//! search of all history.

use super::{Reply, reply};
use crate::context::Context;
use crate::store::queries;
use penpen_core::limits::DEFAULT_PAGE;
use penpen_core::packets::sync::{MessagePage, Search, SearchPage, SyncRequest};
use penpen_core::{ErrorReply, Frame, State, UserId};

/// A page of messages asked for.
enum Page {
    CatchUp(penpen_core::packets::sync::CatchUp),
    History(penpen_core::packets::sync::History),
}

/// Answers a catch-up or a history request, or a catch-up of read marks (§16.3).
pub async fn messages(context: &Context, user: &UserId, frame: &Frame) -> Reply {
    let page = match SyncRequest::from_frame(frame).map_err(|e| ErrorReply::from(&e))? {
        SyncRequest::CatchUp(catch_up) => Page::CatchUp(catch_up),
        SyncRequest::History(history) => Page::History(history),
        SyncRequest::Reads(query) => return super::receipts::catch_up(context, user, query).await,
        SyncRequest::Search(search) => return search_history(context, user, search).await,
    };
    let user = user.clone();
    let offset = context.utc_offset_minutes;
    let (messages, more) = context
        .store
        .read(move |conn| match page {
            Page::CatchUp(catch_up) => queries::inbox_after(
                conn,
                &user,
                catch_up.since,
                catch_up.limit.unwrap_or(DEFAULT_PAGE),
                offset,
            ),
            Page::History(history) => queries::history(
                conn,
                &user,
                &history.target,
                history.before,
                history.limit.unwrap_or(DEFAULT_PAGE),
                offset,
            ),
        })
        .await
        .map_err(|e| e.reply())?;
    reply(&MessagePage {
        state: State::SUCCESS,
        messages,
        more,
    })
}

/// Answers a search of all history (§17).
async fn search_history(context: &Context, user: &UserId, search: Search) -> Reply {
    let user = user.clone();
    let offset = context.utc_offset_minutes;
    let (messages, more) = context
        .store
        .read(move |conn| {
            queries::search(
                conn,
                &user,
                &search.search,
                search.target.as_ref(),
                search.before,
                search.limit.unwrap_or(queries::DEFAULT_SEARCH_PAGE),
                offset,
            )
        })
        .await
        .map_err(|e| e.reply())?;
    reply(&SearchPage {
        state: State::SUCCESS,
        messages,
        more,
    })
}
