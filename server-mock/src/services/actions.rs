//! 27888: message actions. A recall (§15.1) is one write: the message is
//! emptied and marked, its file stops being served, and the type-4/14
//! message reaches every party like any message; the reply comes once that
//! write is committed, and the file leaves the disk after it.

use super::{Reply, file_disk, files, request, send_ack};
use crate::context::{Context, now_ms};
use crate::store::queries::{self, RecallWindows};
use penpen_core::packets::actions::{MessageAction, Recall};
use penpen_core::{Frame, UserId};

/// Answers one request of 27888.
pub async fn answer(context: &Context, user: &UserId, frame: &Frame) -> Reply {
    match request::<MessageAction>(frame)? {
        MessageAction::Recall(recall) => self::recall(context, user, recall).await,
    }
}

async fn recall(context: &Context, user: &UserId, recall: Recall) -> Reply {
    let windows = RecallWindows {
        sender_ms: millis(context.recall.window),
        holder_ms: millis(context.recall.holder_window),
    };
    let caller = user.clone();
    let done = context
        .store
        .write(move |conn| queries::recall(conn, &caller, recall.recall, now_ms(), windows))
        .await
        .map_err(|e| e.reply())?;
    super::announce(context, &done.notice, &done.stored);
    let folder = files::folder(&context.data_dir);
    for name in &done.released_files {
        file_disk::remove(&folder.join(name)).await;
    }
    send_ack(context, user, None, &done.stored, None)
}

fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
