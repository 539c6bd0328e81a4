//! Why a frame could not be decoded or encoded: one error type shared by the
//! envelope (size, version, encoding) and the packets (fields and limits),
//! so that neither imports the other.

/// Why a frame could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The frame is larger than [`crate::MAX_FRAME_BYTES`].
    #[error("frame too large: {size} bytes, expected at most {max}")]
    TooLarge {
        /// The frame's size in bytes.
        size: usize,
        /// The largest size accepted.
        max: usize,
    },
    /// The frame is not valid JSON text.
    #[error(
        "frame is not JSON ({0}); expected {{\"head\":1110,\"body\":…,\"tail\":\"PENPEN 1.0\"}}"
    )]
    NotJson(String),
    /// The frame is JSON but not an envelope object, or one of its fields has the wrong type.
    #[error(
        "frame is not a PENPEN envelope ({0}); expected {{\"head\":1110,\"body\":…,\"tail\":\"PENPEN 1.0\"}}"
    )]
    NotAnEnvelope(String),
    /// The envelope lacks `head`, `body` or `tail`.
    #[error("frame has no \"{0}\" field; expected head, body and tail")]
    MissingField(&'static str),
    /// The `head` names no known encoding.
    #[error("unknown head {0}; expected 1100 (plain), 1110 (base64) or 1160 (md5)")]
    UnknownHead(String),
    /// The `tail` is not this protocol version.
    #[error("wrong protocol version {0:?}; expected \"PENPEN 1.0\"")]
    WrongVersion(String),
    /// The frame uses 1160 (md5), which is one-way and cannot carry a payload.
    #[error(
        "head 1160 (md5) is one-way and cannot carry a payload; send 1110 (base64) or 1100 (plain)"
    )]
    OneWayEncoding,
    /// A base64 text is not valid standard base64 with padding.
    #[error("{field} is not valid base64 ({reason}); expected standard base64 with padding")]
    BadBase64 {
        /// Which text: `body`, or the name of a packet field.
        field: &'static str,
        /// What the decoder found.
        reason: String,
    },
    /// Decoded base64 text is not UTF-8.
    #[error("{0} is not UTF-8 text after base64 decoding")]
    NotUtf8(&'static str),
    /// The payload is not JSON.
    #[error("body is not JSON ({0}); expected a JSON object")]
    BodyNotJson(String),
    /// The payload is JSON but not the packet the service expects.
    #[error("body is not a {packet} packet: {reason}")]
    NotExpectedPacket {
        /// The packet the service expected.
        packet: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// A field is longer than the protocol allows.
    #[error("{field} is too long: {len} characters, expected at most {max}")]
    FieldTooLong {
        /// The field's name.
        field: &'static str,
        /// Its length in characters.
        len: usize,
        /// The longest allowed.
        max: usize,
    },
}
