//! 28888: files of any kind, uploaded in chunks (PROTOCOL §15.6).
//!
//! An upload is a row of `uploads` keyed by (user, cid) and a partial file.
//! A chunk is acknowledged only once its bytes are flushed *and* the new
//! offset is committed, so a reported offset is on disk even after a crash.
//! `send` renames the complete file to its stored name (flushed, folder
//! flushed) and then commits the type 5/15 message with its `files` row in
//! one transaction; a repeated `send` (or a `start` of a cid already sent)
//! gets the first message's ack.

use super::{Reply, file_disk, reply, request};
use crate::context::{Context, now_ms};
use crate::services::files::{earlier_file_send, folder};
use crate::services::text::recipients;
use crate::store::StoreError;
use crate::store::db::params;
use crate::store::queries::{self, NewMessage};
use crate::uploads::table::{self, UploadRow};
use crate::uploads::{UploadGuard, part};
use penpen_core::packets::Done;
use penpen_core::packets::message::{Message, MessageType, SendAck, Sender};
use penpen_core::packets::upload::{Upload, UploadOffset};
use penpen_core::sniff::{KIND_PREFIX_BYTES, file_kind};
use penpen_core::{ClientMsgId, ErrorReply, Frame, Peer, State, UserId, time};

/// Answers one request on 28888.
pub async fn answer(context: &Context, user: &UserId, frame: &Frame) -> Reply {
    let upload: Upload = request(frame)?;
    let guard = context.uploads.lock(user, upload.cid()).await;
    match upload {
        Upload::Start {
            cid,
            to,
            name,
            size,
        } => start(context, user, cid, to, name, size, guard).await,
        Upload::Chunk { cid, offset, data } => chunk(context, user, cid, offset, data, guard).await,
        Upload::Send { cid } => send(context, user, cid, guard).await,
        Upload::Cancel { cid } => cancel(context, user, cid, guard).await,
    }
}

fn refused(state: State, reason: impl Into<String>) -> ErrorReply {
    ErrorReply::new(state, reason)
}

fn stored_reply(offset: u64) -> Reply {
    reply(&UploadOffset::stored(offset))
}

fn offset_refusal(offset: u64, reason: String) -> Reply {
    // A refusal that still says where to go on: the reply is the offset packet.
    reply(&UploadOffset {
        state: State::UPLOAD_OFFSET,
        error: Some(reason),
        offset,
    })
}

/// The ack of the message a cid already became, if it did.
async fn already_sent(
    context: &Context,
    user: &UserId,
    cid: &ClientMsgId,
) -> Result<Option<SendAck>, ErrorReply> {
    let (sender, cid) = (user.clone(), cid.clone());
    let earlier = context
        .store
        .read(move |conn| earlier_file_send(conn, &sender, &cid))
        .await
        .map_err(|e| e.reply())?;
    Ok(earlier.map(|ack| SendAck {
        time: time::format_time(ack.ts, context.utc_offset_minutes),
        ..ack
    }))
}

async fn find(
    context: &Context,
    user: &UserId,
    cid: &ClientMsgId,
) -> Result<Option<UploadRow>, ErrorReply> {
    let (who, which) = (user.clone(), cid.clone());
    context
        .store
        .read(move |conn| table::find(conn, &who, &which))
        .await
        .map_err(|e| e.reply())
}

async fn start(
    context: &Context,
    user: &UserId,
    cid: ClientMsgId,
    to: Peer,
    name: String,
    size: u64,
    _guard: UploadGuard<'_>,
) -> Reply {
    let settings = &context.uploads.settings;
    if size > settings.max_file_bytes {
        return Err(refused(
            State::TOO_LARGE,
            format!(
                "the file has {size} bytes; expected at most {}",
                settings.max_file_bytes
            ),
        ));
    }
    if let Some(ack) = already_sent(context, user, &cid).await? {
        return reply(&ack);
    }
    let folder = folder(&context.data_dir);
    if let Some(upload) = find(context, user, &cid).await? {
        if (&upload.to, &upload.name, upload.size) != (&to, &name, size) {
            return Err(refused(
                State::BAD_PACKET,
                format!(
                    "upload {cid} was started for {} bytes of {:?} to {}; a resume must name the same file",
                    upload.size, upload.name, upload.to
                ),
            ));
        }
        return stored_reply(upload.stored);
    }
    let stem = part::new_stem().map_err(|e| refused(State::SERVER_ERROR, e.to_string()))?;
    let upload = UploadRow {
        to,
        name,
        size,
        stored: 0,
        part: format!("{stem}{}", part::PART),
    };
    // The partial file exists (durably) before any row names it; a start
    // refused below, or cut short by a crash, leaves a file the start-up
    // sweep removes.
    part::create(folder.clone(), upload.part.clone())
        .await
        .map_err(|e| {
            refused(
                State::SERVER_ERROR,
                format!("cannot create the upload's file: {e}"),
            )
        })?;
    let (who, which, row, quota) = (
        user.clone(),
        cid.clone(),
        upload.clone(),
        settings.user_quota_bytes,
    );
    let created = context
        .store
        .write(move |conn| {
            recipients(conn, &who, &row.to)?;
            let used = table::quota_used(conn, &who, None)?;
            if used.saturating_add(row.size) > quota {
                return Err(StoreError::refused(
                    State::QUOTA_FULL,
                    format!(
                        "{who} holds {used} bytes of files and uploads; {} more would pass the quota of {quota} bytes",
                        row.size
                    ),
                ));
            }
            table::insert(conn, &who, &which, &row, now_ms())
        })
        .await;
    if let Err(err) = created {
        part::remove(&folder.join(&upload.part)).await;
        return Err(err.reply());
    }
    stored_reply(0)
}

async fn chunk(
    context: &Context,
    user: &UserId,
    cid: ClientMsgId,
    offset: u64,
    data: Vec<u8>,
    _guard: UploadGuard<'_>,
) -> Reply {
    let Some(upload) = find(context, user, &cid).await? else {
        return offset_refusal(0, format!("no upload {cid} is under way; start it first"));
    };
    if offset != upload.stored {
        return offset_refusal(
            upload.stored,
            format!(
                "upload {cid} holds {} bytes; the chunk starts at {offset}",
                upload.stored
            ),
        );
    }
    let end = offset + data.len() as u64;
    if end > upload.size {
        return Err(refused(
            State::BAD_PACKET,
            format!(
                "the chunk ends at byte {end}, past the file's {} bytes",
                upload.size
            ),
        ));
    }
    let path = folder(&context.data_dir).join(&upload.part);
    part::write_at(path, offset, data)
        .await
        .map_err(|e| refused(State::SERVER_ERROR, format!("cannot store the chunk: {e}")))?;
    let (who, which) = (user.clone(), cid.clone());
    let moved = context
        .store
        .write(move |conn| table::advance(conn, &who, &which, offset, end, now_ms()))
        .await
        .map_err(|e| e.reply())?;
    if !moved {
        // Expired or cancelled meanwhile; say what is known now.
        let stored = find(context, user, &cid).await?.map_or(0, |u| u.stored);
        return offset_refusal(
            stored,
            format!("upload {cid} changed while the chunk was written"),
        );
    }
    stored_reply(end)
}

async fn send(
    context: &Context,
    user: &UserId,
    cid: ClientMsgId,
    _guard: UploadGuard<'_>,
) -> Reply {
    if let Some(ack) = already_sent(context, user, &cid).await? {
        return reply(&ack);
    }
    let Some(upload) = find(context, user, &cid).await? else {
        return offset_refusal(0, format!("no upload {cid} is under way; start it first"));
    };
    if upload.stored < upload.size {
        return offset_refusal(
            upload.stored,
            format!(
                "upload {cid} holds {} of its {} bytes; send the rest first",
                upload.stored, upload.size
            ),
        );
    }
    let folder = folder(&context.data_dir);
    part::recover(folder.clone(), upload.part.clone()).await;
    let head = part::head(folder.join(&upload.part), KIND_PREFIX_BYTES)
        .await
        .map_err(|e| {
            refused(
                State::SERVER_ERROR,
                format!("cannot read the upload's file: {e}"),
            )
        })?;
    let kind = file_kind(&head);
    let stored_name = format!("{}.{}", part::stem(&upload.part), kind.extension());
    let path = part::promote(folder.clone(), upload.part.clone(), stored_name.clone())
        .await
        .map_err(|e| refused(State::SERVER_ERROR, format!("cannot store the file: {e}")))?;

    let group = matches!(upload.to, Peer::Group(_));
    let message = NewMessage {
        file: None,
        mention_all: false,
        mentions: None,
        sender: Sender::User(user.clone()),
        to: upload.to.clone(),
        kind: if group {
            MessageType::GroupFile
        } else {
            MessageType::File
        },
        content: stored_name.clone(),
        duration: None,
        cid: Some(cid.clone()),
        ts: now_ms(),
    };
    let (who, which, row, file_name) = (
        user.clone(),
        cid.clone(),
        upload.clone(),
        stored_name.clone(),
    );
    let committed = context
        .store
        .write(move |conn| {
            let people = recipients(conn, &who, &message.to)?;
            let stored = queries::store_message(conn, &message, &people)?;
            if !stored.repeated {
                conn.execute(
                    "UPDATE messages SET name = ?2, size = ?3 WHERE id = ?1",
                    params![stored.id.0 as i64, row.name, row.size as i64],
                )?;
                conn.execute(
                    "INSERT INTO files (name, message_id, mime, size) VALUES (?1, ?2, ?3, ?4)",
                    params![file_name, stored.id.0 as i64, kind.mime(), row.size as i64],
                )?;
            }
            table::remove(conn, &who, &which)?;
            Ok((message, stored))
        })
        .await;
    let (message, stored) = match committed {
        Ok(done) => done,
        Err(err) => {
            // Back under its partial name: the upload can be sent again.
            part::demote(folder, stored_name, upload.part).await;
            return Err(err.reply());
        }
    };
    if stored.repeated {
        file_disk::remove(&path).await;
        return reply(&already_sent(context, user, &cid).await?.ok_or_else(|| {
            refused(
                State::SERVER_ERROR,
                "the earlier message of this cid is gone",
            )
        })?);
    }
    super::deliver(
        context,
        Message {
            quote: None,
            mentions: None,
            mention_all: false,
            recalled: None,
            name: Some(upload.name),
            size: Some(upload.size),
            from: message.sender.clone(),
            to: message.to.clone(),
            kind: message.kind,
            content: message.content.clone(),
            time: time::format_time(stored.ts, context.utc_offset_minutes),
            ts: stored.ts,
            id: stored.id,
            seq: None,
            cid: message.cid.clone(),
            duration: None,
        },
        &stored,
    );
    super::send_ack(context, user, Some(cid), &stored, Some(stored_name))
}

async fn cancel(
    context: &Context,
    user: &UserId,
    cid: ClientMsgId,
    _guard: UploadGuard<'_>,
) -> Reply {
    let (who, which) = (user.clone(), cid.clone());
    let gone = context
        .store
        .write(move |conn| {
            let found = table::find(conn, &who, &which)?;
            table::remove(conn, &who, &which)?;
            Ok(found)
        })
        .await
        .map_err(|e| e.reply())?;
    if let Some(upload) = gone {
        part::remove(&folder(&context.data_dir).join(&upload.part)).await;
    }
    reply(&Done::new())
}
