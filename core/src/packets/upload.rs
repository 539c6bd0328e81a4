//! Files of any kind (28888, PROTOCOL §15.6): an upload in chunks, known by
//! the sender's `cid`, that becomes a type 5/15 message on `send`.

use crate::frame_error::FrameError;
use crate::ids::{ClientMsgId, Peer};
use crate::limits;
use crate::packet::{Packet, check_chars, invalid};
use crate::text;
use serde::{Deserialize, Serialize};

/// One request on 28888, named by its `upload` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "upload", rename_all = "lowercase")]
pub enum Upload {
    /// Begins an upload, or resumes the one with the same `cid`; answered
    /// with an [`UploadOffset`] saying how many bytes are already stored.
    Start {
        /// The client's id of the upload, and of the message it becomes.
        cid: ClientMsgId,
        /// The recipient or group.
        to: Peer,
        /// The file's original name (base64 on the wire).
        #[serde(with = "text::b64")]
        name: String,
        /// The whole file's size in bytes.
        size: u64,
    },
    /// The next bytes of the file, at `offset`; answered with the new offset
    /// once they are on disk.
    Chunk {
        /// The upload.
        cid: ClientMsgId,
        /// Where the bytes go: must be the stored offset.
        offset: u64,
        /// The bytes (base64 on the wire), at most [`limits::MAX_UPLOAD_CHUNK_BYTES`].
        #[serde(with = "text::b64_bytes")]
        data: Vec<u8>,
    },
    /// Every byte is there: store the file and commit its message; answered
    /// with a [`crate::packets::message::SendAck`].
    Send {
        /// The upload.
        cid: ClientMsgId,
    },
    /// Abandons the upload; answered `{"state":11}` once its partial file is gone.
    Cancel {
        /// The upload.
        cid: ClientMsgId,
    },
}

impl Upload {
    /// The upload this request is about.
    pub fn cid(&self) -> &ClientMsgId {
        match self {
            Upload::Start { cid, .. }
            | Upload::Chunk { cid, .. }
            | Upload::Send { cid }
            | Upload::Cancel { cid } => cid,
        }
    }
}

impl Packet for Upload {
    const NAME: &'static str = "Upload";
    fn validate(&self) -> Result<(), FrameError> {
        match self {
            Upload::Start { name, size, .. } => {
                if name.trim().is_empty() {
                    return Err(invalid(
                        Self::NAME,
                        "name is empty; expected the file's name",
                    ));
                }
                check_chars("name", name, limits::MAX_FILE_NAME_CHARS)?;
                if *size == 0 {
                    return Err(invalid(
                        Self::NAME,
                        "size is 0; expected a file of 1 byte or more",
                    ));
                }
                Ok(())
            }
            Upload::Chunk { data, .. } => {
                if data.is_empty() {
                    return Err(invalid(
                        Self::NAME,
                        "data is empty; expected the next bytes",
                    ));
                }
                if data.len() > limits::MAX_UPLOAD_CHUNK_BYTES {
                    return Err(invalid(
                        Self::NAME,
                        format!(
                            "a chunk of {} bytes is too large; expected at most {}",
                            data.len(),
                            limits::MAX_UPLOAD_CHUNK_BYTES
                        ),
                    ));
                }
                Ok(())
            }
            Upload::Send { .. } | Upload::Cancel { .. } => Ok(()),
        }
    }
}

/// The reply to `start` and `chunk`: how many bytes of the file the server
/// holds. With state 42 ([`crate::State::UPLOAD_OFFSET`]) it also carries the
/// reason, and `offset` is where the client must go on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadOffset {
    /// 11, or 42 when the chunk was not at the stored offset.
    pub state: crate::State,
    /// Why the chunk was refused (with 42 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The bytes stored so far.
    pub offset: u64,
}

impl UploadOffset {
    /// The success reply.
    pub const fn stored(offset: u64) -> UploadOffset {
        UploadOffset {
            state: crate::State::SUCCESS,
            error: None,
            offset,
        }
    }
}

impl Packet for UploadOffset {
    const NAME: &'static str = "UploadOffset";
}
