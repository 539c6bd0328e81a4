//! 28888 on the simulated server: uploads in chunks (§15.6).

use super::messages::ack;
use super::{Net, SimUpload};
use penpen_core::packets::Done;
use penpen_core::packets::message::MessageType;
use penpen_core::packets::upload::{Upload, UploadOffset};
use penpen_core::{ClientMsgId, Peer, Seq, Service, State, UserId};

impl Net {
    pub(super) fn upload(&mut self, index: usize, me: &UserId, upload: Upload) {
        let service = Service::Files;
        let key = (me.clone(), upload.cid().to_string());
        let offset = |offset: u64| UploadOffset::stored(offset);
        match upload {
            Upload::Start {
                cid,
                to,
                name,
                size,
            } => {
                if self.server.cids.contains_key(&key) {
                    return self.repeat_ack(index, service, me, &cid);
                }
                if size > penpen_core::limits::MAX_FILE_BYTES {
                    return self.refuse(index, service, State::TOO_LARGE, "too large");
                }
                let stored = self
                    .server
                    .uploads
                    .entry(key)
                    .or_insert(SimUpload {
                        to,
                        name,
                        size,
                        data: Vec::new(),
                    })
                    .data
                    .len();
                self.reply_packet(index, service, &offset(stored as u64));
            }
            Upload::Chunk {
                offset: at, data, ..
            } => {
                self.server.largest_chunk = self.server.largest_chunk.max(data.len());
                let Some(upload) = self.server.uploads.get_mut(&key) else {
                    return self.reply_packet(
                        index,
                        service,
                        &UploadOffset {
                            state: State::UPLOAD_OFFSET,
                            error: Some("unknown".into()),
                            offset: 0,
                        },
                    );
                };
                let stored = upload.data.len() as u64;
                if at != stored {
                    return self.reply_packet(
                        index,
                        service,
                        &UploadOffset {
                            state: State::UPLOAD_OFFSET,
                            error: Some("elsewhere".into()),
                            offset: stored,
                        },
                    );
                }
                upload.data.extend_from_slice(&data);
                let stored = upload.data.len() as u64;
                self.reply_packet(index, service, &offset(stored));
            }
            Upload::Send { cid } => {
                if self.server.cids.contains_key(&key) {
                    return self.repeat_ack(index, service, me, &cid);
                }
                let Some(upload) = self.server.uploads.get(&key).cloned() else {
                    return self.reply_packet(
                        index,
                        service,
                        &UploadOffset {
                            state: State::UPLOAD_OFFSET,
                            error: Some("unknown".into()),
                            offset: 0,
                        },
                    );
                };
                if (upload.data.len() as u64) < upload.size {
                    return self.reply_packet(
                        index,
                        service,
                        &UploadOffset {
                            state: State::UPLOAD_OFFSET,
                            error: Some("more".into()),
                            offset: upload.data.len() as u64,
                        },
                    );
                }
                self.server.uploads.remove(&key);
                let stored_name = format!("{}.bin", self.server.next_id + 1);
                self.server.files.insert(stored_name.clone(), upload.data);
                let kind = if upload.to.group().is_some() {
                    MessageType::GroupFile
                } else {
                    MessageType::File
                };
                self.store_file(
                    index,
                    me,
                    upload.to,
                    kind,
                    stored_name,
                    cid,
                    (upload.name, upload.size),
                );
            }
            Upload::Cancel { .. } => {
                self.server.uploads.remove(&key);
                self.reply_packet(index, service, &Done::new());
            }
        }
    }

    /// Stores an uploaded file as a type 5/15 message and acknowledges it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn store_file(
        &mut self,
        index: usize,
        me: &UserId,
        to: Peer,
        kind: MessageType,
        stored_name: String,
        cid: ClientMsgId,
        file: (String, u64),
    ) {
        let service = Service::Files;
        let Some(recipients) = self.recipients(index, service, me, &to) else {
            return;
        };
        let (mut message, my_seq) = self.store_and_push_file(
            me,
            to,
            kind,
            stored_name.clone(),
            Some(cid.clone()),
            None,
            Some(file),
            (None, false),
            &recipients,
        );
        self.server
            .cids
            .insert((me.clone(), cid.to_string()), message.id.0);
        message.seq = Some(Seq(my_seq));
        let mut reply = ack(&cid, &message, my_seq);
        reply.content = Some(stored_name);
        self.reply_packet(index, service, &reply);
    }
}
