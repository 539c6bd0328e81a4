//! 51888: the company directory.

use super::{Reply, must_be_self, reply, request};
use crate::context::Context;
use crate::store::queries;
use penpen_core::packets::directory::DirectoryQuery;
use penpen_core::{Frame, UserId};

/// Answers with every department, job and contact.
pub async fn directory(context: &Context, user: &UserId, frame: &Frame) -> Reply {
    let query: DirectoryQuery = request(frame)?;
    if let Some(named) = &query.user {
        must_be_self(user, named, "user")?;
    }
    let directory = context
        .store
        .read(queries::directory)
        .await
        .map_err(|e| e.reply())?;
    reply(&directory)
}
