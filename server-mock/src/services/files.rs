//! 22888 images and 23888 voice: the file travels in the send, is stored under
//! a name the server chooses, and is served over HTTP GET to sessions that may
//! see its conversation.
//!
//! Before anything is stored the bytes are sniffed: the format, an image's
//! declared canvas and a recording's length (`penpen_core::sniff`). The file
//! reaches the disk durably before its message is committed
//! ([`super::file_disk`]); a send that is not committed, or that repeats an
//! earlier cid, removes its file and the earlier file's name is answered.

use super::{Reply, file_disk, must_be_self, reply, request};
use crate::context::{Context, now_ms};
use crate::services::text::recipients;
use crate::sniff::{self, Format};
use crate::store::StoreError;
use crate::store::db::{Db, params};
use crate::store::queries::{self, Membership, NewMessage};
use penpen_core::limits::{MAX_IMAGE_BYTES, MAX_VOICE_BYTES};
use penpen_core::packets::message::{MessageType, SendAck, SendFile, Sender};
use penpen_core::{ErrorReply, Frame, Peer, Service, State, UserId, time};

use std::path::{Path, PathBuf};

/// The folder stored files live in.
pub fn folder(data_dir: &Path) -> PathBuf {
    data_dir.join("files")
}

/// Whether `name` could be a name this server gave a file (so a request can
/// never reach outside the files folder).
pub fn is_server_file_name(name: &str) -> bool {
    let Some((stem, extension)) = name.split_once('.') else {
        return false;
    };
    stem.len() == 32
        && stem.bytes().all(|b| b.is_ascii_hexdigit())
        && ["jpg", "png", "gif", "webp", "webm", "ogg", "m4a"].contains(&extension)
}

/// Stores an image or voice message with its file.
pub async fn send(context: &Context, service: Service, user: &UserId, frame: &Frame) -> Reply {
    let send: SendFile = request(frame)?;
    must_be_self(user, &send.from, "from")?;
    if MessageType::for_send(service, &send.to) != Some(send.kind) {
        return Err(ErrorReply::new(
            State::BAD_PACKET,
            format!(
                "type {} cannot be sent on {service}; images are 1 or 11 on 22888, voice 2 or 12 on 23888",
                send.kind.code()
            ),
        ));
    }
    let (format, max) = match service {
        Service::Image => (sniff::image(&send.data), MAX_IMAGE_BYTES),
        _ => (sniff::voice(&send.data), MAX_VOICE_BYTES),
    };
    if send.data.len() > max {
        return Err(ErrorReply::new(
            State::TOO_LARGE,
            format!(
                "the file has {} bytes; expected at most {max}",
                send.data.len()
            ),
        ));
    }
    let Some(format) = format else {
        return Err(ErrorReply::new(
            State::UNSUPPORTED_FORMAT,
            match service {
                Service::Image => "the file is not a JPEG, PNG, GIF or WebP image",
                _ => "the file is not WebM or Ogg audio with Opus, nor MP4/M4A audio with AAC",
            },
        ));
    };
    check_contents(service, format, &send)?;

    // A retried send must not store the file again.
    if let Some(cid) = send.cid.clone() {
        let sender = user.clone();
        let earlier = context
            .store
            .read(move |conn| earlier_file_send(conn, &sender, &cid))
            .await
            .map_err(|e| e.reply())?;
        if let Some(ack) = earlier {
            return reply(&SendAck {
                time: time::format_time(ack.ts, context.utc_offset_minutes),
                ..ack
            });
        }
    }

    let name = stored_name(format).map_err(|e| ErrorReply::new(State::SERVER_ERROR, e))?;
    let size = send.data.len();
    let path = file_disk::write_new(folder(&context.data_dir), name.clone(), send.data)
        .await
        .map_err(|e| ErrorReply::new(State::SERVER_ERROR, format!("cannot store the file: {e}")))?;

    let message = NewMessage {
        file: None,
        sender: Sender::User(user.clone()),
        to: send.to.clone(),
        kind: send.kind,
        content: name.clone(),
        duration: send.duration,
        cid: send.cid.clone(),
        ts: now_ms(),
        mentions: None,
        mention_all: false,
    };
    let (sender, file_name) = (user.clone(), name.clone());
    let stored = context
        .store
        .write(move |conn| {
            let people = recipients(conn, &sender, &message.to)?;
            let stored = queries::store_message(conn, &message, &people)?;
            let message_for_announce = message.clone();
            // A concurrent send of the same cid got there first: its file is
            // the one a message names.
            let content = if stored.repeated {
                conn.query_row(
                    "SELECT content FROM messages WHERE id = ?1",
                    params![stored.id.0 as i64],
                    |row| row.get::<String>(0),
                )?
            } else {
                conn.execute(
                    "INSERT INTO files (name, message_id, mime, size) VALUES (?1, ?2, ?3, ?4)",
                    params![file_name, stored.id.0 as i64, format.mime(), size as i64],
                )?;
                file_name
            };
            Ok((message_for_announce, stored, content))
        })
        .await;
    let (message, stored, content) = match stored {
        Ok(done) => done,
        Err(err) => {
            // Nothing refers to the file; do not keep it.
            file_disk::remove(&path).await;
            return Err(err.reply());
        }
    };
    if stored.repeated {
        file_disk::remove(&path).await;
    }
    super::announce(context, &message, &stored);
    super::send_ack(context, user, send.cid, &stored, Some(content))
}

/// Refuses an image whose declared canvas is absurd (a decompression bomb)
/// and a recording whose length disagrees with the declared duration.
fn check_contents(service: Service, format: Format, send: &SendFile) -> Result<(), ErrorReply> {
    match (service, send.duration) {
        (Service::Image, _) => sniff::check_image(&send.data, format)
            .map(|_| ())
            .map_err(|refusal| ErrorReply::new(State::UNSUPPORTED_FORMAT, refusal.to_string())),
        (_, Some(declared)) => sniff::check_voice(&send.data, format, declared)
            .map(|_| ())
            .map_err(|refusal| ErrorReply::new(State::BAD_PACKET, refusal.to_string())),
        // The packet check already refused voice without a duration.
        (_, None) => Ok(()),
    }
}

pub(crate) fn earlier_file_send(
    conn: &Db<'_>,
    sender: &UserId,
    cid: &penpen_core::ClientMsgId,
) -> Result<Option<SendAck>, StoreError> {
    let found: Option<(i64, i64, String)> = conn.query_opt(
        "SELECT id, ts, content FROM messages WHERE sender = ?1 AND cid = ?2",
        params![sender.as_str(), cid.as_str()],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    let Some((id, ts, content)) = found else {
        return Ok(None);
    };
    let seq: i64 = conn
        .query_opt(
            "SELECT seq FROM inbox WHERE message_id = ?1 AND user_id = ?2",
            params![id, sender.as_str()],
            |row| row.get(0),
        )?
        .unwrap_or(0);
    Ok(Some(SendAck {
        state: State::SUCCESS,
        cid: Some(cid.clone()),
        id: penpen_core::MessageId(id as u64),
        seq: penpen_core::Seq(seq as u64),
        time: String::new(),
        ts,
        content: Some(content),
    }))
}

fn stored_name(format: Format) -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a file name: {e}"))?;
    let stem: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{stem}.{}", format.extension()))
}

/// What a GET for a stored file gets.
#[derive(Debug)]
pub enum Download {
    /// The file, with its MIME type.
    File(Vec<u8>, String),
    /// No such file, or the caller may not see it (the two are not told apart).
    NotFound,
}

/// The file `name` if `user` may see the conversation it was sent in.
pub async fn download(
    context: &Context,
    user: &UserId,
    name: &str,
) -> Result<Download, StoreError> {
    if !is_server_file_name(name) {
        return Ok(Download::NotFound);
    }
    let (who, wanted) = (user.clone(), name.to_owned());
    let mime = context
        .store
        .read(move |conn| Ok(visible_file(conn, &who, &wanted)?.map(|visible| visible.mime)))
        .await?;
    let Some(mime) = mime else {
        return Ok(Download::NotFound);
    };
    match tokio::fs::read(folder(&context.data_dir).join(name)).await {
        Ok(bytes) => Ok(Download::File(bytes, mime)),
        Err(_) => Ok(Download::NotFound),
    }
}

pub(crate) fn visible_file(
    conn: &Db<'_>,
    user: &UserId,
    name: &str,
) -> Result<Option<crate::uploads::download::Visible>, StoreError> {
    // The kind, and the original name its own message gave it (§15.6).
    let stored: Option<(String, Option<String>)> = conn.query_opt(
        "SELECT f.mime, m.name FROM files f JOIN messages m ON m.id = f.message_id
             WHERE f.name = ?1",
        params![name],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let Some((mime, original)) = stored else {
        return Ok(None);
    };
    let namers = queries::messages_naming(conn, name)?;
    for (id, sender, target) in namers {
        let visible = match Peer::parse(&target) {
            Ok(Peer::User(to)) => sender == user.as_str() || &to == user,
            Ok(Peer::Group(gid)) => match queries::membership(conn, gid, user)? {
                Some(Membership::Current) => true,
                Some(Membership::Left(last)) => last.0 as i64 >= id,
                None => false,
            },
            Err(_) => false,
        };
        if visible {
            return Ok(Some(crate::uploads::download::Visible { mime, original }));
        }
    }
    Ok(None)
}
