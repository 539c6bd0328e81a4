//! 27888: message actions. A recall (§15.1) is one write: the message is
//! emptied and marked, its file stops being served, and the type-4/14
//! message reaches every party like any message; the reply comes once that
//! write is committed, and the file leaves the disk after it. A forward
//! (§15.3) is one write too, stored and fanned out like a text send.

use super::{Reply, file_disk, files, request, send_ack};
use crate::context::{Context, now_ms};
use crate::services::text::recipients;
use crate::store::queries::{self, ForwardRequest, RecallWindows};
use penpen_core::packets::actions::{Forward, MessageAction, Recall};
use penpen_core::packets::message::MessageType;
use penpen_core::{Frame, UserId};

/// Answers one request of 27888.
pub async fn answer(context: &Context, user: &UserId, frame: &Frame) -> Reply {
    match request::<MessageAction>(frame)? {
        MessageAction::Recall(recall) => self::recall(context, user, recall).await,
        MessageAction::Forward(forward) => self::forward(context, user, forward).await,
        MessageAction::Ding(ding) => super::receipts::ding(context, user, ding).await,
    }
}

async fn forward(context: &Context, user: &UserId, forward: Forward) -> Reply {
    let request = ForwardRequest {
        ids: forward.forward.0,
        to: forward.to,
        merge: forward.merge,
        cid: forward.cid,
    };
    let (caller, offset) = (user.clone(), context.utc_offset_minutes);
    let (message, stored) = context
        .store
        .write(move |conn| {
            let people = recipients(conn, &caller, &request.to)?;
            queries::forward(conn, &caller, &request, &people, now_ms(), offset)
        })
        .await
        .map_err(|e| e.reply())?;
    super::announce(context, &message, &stored);
    let text = matches!(message.kind, MessageType::Text | MessageType::GroupText);
    let content = (!text).then(|| message.content.clone());
    send_ack(context, user, message.cid.clone(), &stored, content)
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
