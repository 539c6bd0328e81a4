//! 53888: the caller's discussion groups.

use super::{Reply, must_be_self, reply, request};
use crate::context::Context;
use crate::store::queries;
use penpen_core::packets::groups::{Groups, GroupsQuery};
use penpen_core::{Frame, State, UserId};

/// Answers with every group the caller belongs to now.
pub async fn list(context: &Context, user: &UserId, frame: &Frame) -> Reply {
    let query: GroupsQuery = request(frame)?;
    if let Some(named) = &query.user {
        must_be_self(user, named, "user")?;
    }
    let user = user.clone();
    let groups = context
        .store
        .read(move |conn| queries::groups_of(conn, &user))
        .await
        .map_err(|e| e.reply())?;
    reply(&Groups {
        state: State::SUCCESS,
        groups,
    })
}
