//! Files of any kind in the outbox (28888, PROTOCOL §15.6): `start`, then
//! one chunk at a time, then `send`.
//!
//! The bytes never live in the engine or the cache: for each chunk the
//! engine asks the driver ([`Action::ReadChunk`]) and sends what comes back
//! ([`Engine::chunk_read`]), so a 100 MiB file costs one chunk of memory. The
//! server's offset decides where an upload goes on: after a dropped socket or
//! a reload the entry starts again with `start`, whose reply says how many
//! bytes the server already holds.

use super::links::Request;
use super::{Action, Engine, Event, SendError, encode, reply_of};
use crate::cache::{OutboxEntry, OutboxUpload};
use crate::envelope::Frame;
use crate::ids::{ClientMsgId, Peer};
use crate::packets::message::{Message, MessageType, SendAck, Sender};
use crate::packets::upload::{Upload, UploadOffset};
use crate::reply::{ErrorReply, State};
use crate::service::Service;
use crate::sorted_map::SortedMap;

/// The bytes of one chunk: the protocol's most.
pub const UPLOAD_CHUNK_BYTES: u64 = crate::limits::MAX_UPLOAD_CHUNK_BYTES as u64;

/// Where one upload stands while it is on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// `start` is on the wire.
    Starting,
    /// The driver was asked for the bytes at `offset`.
    Reading { offset: u64 },
    /// The bytes at `offset` are here, to go when the socket allows.
    Chunk { offset: u64, data: Vec<u8> },
    /// A chunk is on the wire.
    Chunking,
    /// Every byte is on the server: `send` goes when the socket allows.
    Send,
    /// `send` is on the wire.
    Sending,
}

/// The uploads under way, by cid.
#[derive(Debug, Default)]
pub(super) struct Uploads {
    phases: SortedMap<ClientMsgId, Phase>,
}

impl Uploads {
    pub(super) fn clear(&mut self) {
        self.phases.clear();
    }
}

impl Engine {
    /// Queues a file of any kind (`size` bytes, kept by the driver) for the
    /// conversation `to`; it is uploaded in chunks and becomes a type 5 or 15
    /// message. The bytes are asked for with [`Action::ReadChunk`].
    pub fn send_upload(
        &mut self,
        to: Peer,
        name: String,
        size: u64,
        now: i64,
    ) -> Result<ClientMsgId, SendError> {
        self.advance(now);
        if self.stream.is_stopped() {
            return Err(SendError::NotLoggedIn);
        }
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(SendError::NoName);
        }
        if size == 0 {
            return Err(SendError::Empty);
        }
        let chars = name.chars().count();
        if chars > crate::limits::MAX_FILE_NAME_CHARS {
            return Err(SendError::TooLong {
                chars,
                max: crate::limits::MAX_FILE_NAME_CHARS,
            });
        }
        if size > crate::limits::MAX_FILE_BYTES {
            return Err(SendError::FileTooLarge {
                bytes: size,
                max: crate::limits::MAX_FILE_BYTES,
            });
        }
        let kind = if to.group().is_some() {
            MessageType::GroupFile
        } else {
            MessageType::File
        };
        let mut entry = self.new_entry(to, kind, name.clone(), None, now);
        entry.upload = Some(OutboxUpload {
            name,
            size,
            sent: 0,
        });
        let cid = entry.cid.clone();
        self.queue(entry, now);
        Ok(cid)
    }

    /// The bytes the driver read for [`Action::ReadChunk`]. Bytes for a
    /// chunk no longer wanted (the socket dropped meanwhile, the upload was
    /// cancelled) are ignored.
    pub fn chunk_read(&mut self, cid: &ClientMsgId, offset: u64, data: Vec<u8>, now: i64) {
        self.advance(now);
        let wanted = self.uploads.phases.get(cid) == Some(&Phase::Reading { offset });
        let size = self
            .outbox
            .entries()
            .find(|e| &e.cid == cid)
            .and_then(|e| e.upload.as_ref())
            .map(|u| u.size);
        if !wanted || size.is_none() {
            return;
        }
        let expected = size
            .unwrap_or(0)
            .saturating_sub(offset)
            .min(UPLOAD_CHUNK_BYTES);
        if data.len() as u64 != expected {
            return self.chunk_unreadable(
                cid,
                format!(
                    "the file changed on this device: {} bytes at {offset}, expected {expected}",
                    data.len()
                ),
                now,
            );
        }
        self.uploads
            .phases
            .insert(cid.clone(), Phase::Chunk { offset, data });
        self.drive(now);
    }

    /// The driver cannot read the file of `cid` any more (it was deleted
    /// from the device's storage): the entry fails with `reason`.
    pub fn chunk_unreadable(&mut self, cid: &ClientMsgId, reason: String, now: i64) {
        self.advance(now);
        self.uploads.phases.remove(cid);
        let Some(order) = self.outbox.order_of(cid) else {
            return;
        };
        self.outbox.sent(cid);
        self.send_refused(cid, order, ErrorReply::new(State::BAD_PACKET, reason), now);
    }

    /// Cancels an upload the user gave up on: the entry goes at once, the
    /// driver may forget the bytes, and the server is told to delete its
    /// partial file (if the socket is there; it deletes it after a day
    /// anyway).
    pub fn cancel_upload(&mut self, cid: &ClientMsgId, now: i64) {
        self.advance(now);
        let Some(entry) = self.outbox.remove(cid) else {
            return;
        };
        self.uploads.phases.remove(cid);
        self.writes.batch.outbox_delete.push(cid.clone());
        self.flush();
        self.act(Action::ReleaseFile(cid.clone()));
        self.notify(Event::OutboxChanged(entry.to));
        if self.stream.is_live() {
            let frame = encode(&Upload::Cancel { cid: cid.clone() });
            self.request(Service::Files, Request::UploadCancel, frame, now);
        }
        self.drive(now);
    }

    /// Sends `start` for a ready upload entry.
    pub(super) fn start_upload(&mut self, entry: &OutboxEntry, upload: &OutboxUpload, now: i64) {
        let frame = encode(&Upload::Start {
            cid: entry.cid.clone(),
            to: entry.to.clone(),
            name: upload.name.clone(),
            size: upload.size,
        });
        if self.request(
            Service::Files,
            Request::Upload(entry.cid.clone()),
            frame,
            now,
        ) {
            self.outbox.sent(&entry.cid);
            self.uploads
                .phases
                .insert(entry.cid.clone(), Phase::Starting);
        }
    }

    /// Sends the chunks and sends whose turn has come.
    pub(super) fn push_uploads(&mut self, now: i64) {
        let due: Vec<ClientMsgId> = self
            .uploads
            .phases
            .iter()
            .filter(|(_, phase)| matches!(phase, Phase::Chunk { .. } | Phase::Send))
            .map(|(cid, _)| cid.clone())
            .collect();
        for cid in due {
            let Some(phase) = self.uploads.phases.remove(&cid) else {
                continue;
            };
            let (frame, next) = match phase {
                Phase::Chunk { offset, data } => {
                    let frame = encode(&Upload::Chunk {
                        cid: cid.clone(),
                        offset,
                        data,
                    });
                    (frame, Phase::Chunking)
                }
                _ => (encode(&Upload::Send { cid: cid.clone() }), Phase::Sending),
            };
            if self.request(Service::Files, Request::Upload(cid.clone()), frame, now) {
                self.uploads.phases.insert(cid, next);
            } else {
                // The socket is opening: this step starts again once it is
                // (a chunk is read again: it is not kept meanwhile).
                self.upload_lost(&cid, now);
            }
        }
    }

    /// The socket carrying the upload dropped: it starts again with `start`
    /// from `not_before`, and the server says where it stands.
    pub(super) fn upload_lost(&mut self, cid: &ClientMsgId, not_before: i64) {
        self.uploads.phases.remove(cid);
        self.outbox.lost(cid, not_before);
    }

    /// The upload's message arrived on the stream before its ack.
    pub(super) fn upload_settled(&mut self, cid: &ClientMsgId) {
        self.uploads.phases.remove(cid);
        self.act(Action::ReleaseFile(cid.clone()));
    }

    /// The reply to `start`, a chunk or `send`.
    pub(super) fn upload_reply(&mut self, cid: &ClientMsgId, frame: &Frame, now: i64) {
        let phase = self.uploads.phases.remove(cid);
        let Some(order) = self.outbox.order_of(cid) else {
            return; // cancelled, or settled by the stream's copy
        };
        if phase.is_none() {
            return;
        }
        if let Ok(reply) = frame.packet::<UploadOffset>()
            && (reply.state == State::SUCCESS || reply.state == State::UPLOAD_OFFSET)
        {
            return self.upload_at(cid, reply.offset, now);
        }
        match reply_of::<SendAck>(frame) {
            Ok(ack) => self.upload_sent(cid, ack, now),
            Err(refusal) => self.send_refused(cid, order, refusal, now),
        }
    }

    /// The server holds `offset` bytes: ask for the next chunk, or send.
    fn upload_at(&mut self, cid: &ClientMsgId, offset: u64, now: i64) {
        let Some(entry) = self.outbox.entry_mut(cid) else {
            return;
        };
        let Some(upload) = entry.upload.as_mut() else {
            return;
        };
        let size = upload.size;
        if upload.sent != offset {
            upload.sent = offset;
            let (entry, to) = (entry.clone(), entry.to.clone());
            self.writes.batch.outbox_put.push(entry);
            // Written now: a reload shows the progress, and a later delete
            // of the entry is never undone by this put.
            self.flush();
            self.notify(Event::OutboxChanged(to));
        }
        if offset >= size {
            self.uploads.phases.insert(cid.clone(), Phase::Send);
        } else {
            self.uploads
                .phases
                .insert(cid.clone(), Phase::Reading { offset });
            self.act(Action::ReadChunk {
                cid: cid.clone(),
                offset,
                len: (size - offset).min(UPLOAD_CHUNK_BYTES),
            });
        }
        self.drive(now);
    }

    /// The file's message is committed: it joins the timeline.
    fn upload_sent(&mut self, cid: &ClientMsgId, ack: SendAck, now: i64) {
        let Some(entry) = self.outbox.remove(cid) else {
            return;
        };
        let upload = entry.upload.clone();
        let message = Message {
            quote: None,
            mentions: None,
            mention_all: false,
            recalled: None,
            name: upload.as_ref().map(|u| u.name.clone()),
            size: upload.as_ref().map(|u| u.size),
            from: Sender::User(self.meta.user.clone()),
            to: entry.to.clone(),
            kind: entry.kind,
            content: ack.content.unwrap_or_default(),
            time: ack.time,
            ts: ack.ts,
            id: ack.id,
            seq: Some(ack.seq),
            cid: Some(entry.cid.clone()),
            duration: None,
        };
        self.writes.batch.outbox_delete.push(entry.cid.clone());
        self.act(Action::ReleaseFile(entry.cid));
        self.notify(Event::OutboxChanged(entry.to));
        self.take_messages(vec![message], false, now);
        self.flush();
    }
}
