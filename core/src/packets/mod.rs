//! The typed payloads of every service, one module per service.
//!
//! Every payload implements [`Packet`]: its name for error messages and the
//! protocol's limits on its fields, checked by [`crate::Frame::packet`] right
//! after decoding, so a packet in hand is always within the limits.

pub mod broadcast;
pub mod directory;
pub mod groups;
pub mod login;
pub mod message;
pub mod profile;
pub mod sync;

use crate::envelope::FrameError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A payload of the protocol.
pub trait Packet: Serialize + DeserializeOwned {
    /// The packet's name in error messages.
    const NAME: &'static str;

    /// Checks the protocol's limits on the fields.
    fn validate(&self) -> Result<(), FrameError> {
        Ok(())
    }
}

/// Refuses `text` if it has more than `max` characters.
pub(crate) fn check_chars(field: &'static str, text: &str, max: usize) -> Result<(), FrameError> {
    // Counting stops just past the limit, so a huge field costs no more than a small one.
    let len = text.chars().take(max + 1).count();
    if len > max {
        Err(FrameError::FieldTooLong {
            field,
            len: text.chars().count(),
            max,
        })
    } else {
        Ok(())
    }
}

/// Refuses a page size of 0 or above [`crate::limits::MAX_PAGE`].
pub(crate) fn check_page_limit(packet: &'static str, limit: Option<u32>) -> Result<(), FrameError> {
    match limit {
        Some(0) => Err(invalid(packet, "limit is 0; expected 1 or more")),
        Some(n) if n > crate::limits::MAX_PAGE => Err(invalid(
            packet,
            format!(
                "limit {n} is too large; expected at most {}",
                crate::limits::MAX_PAGE
            ),
        )),
        _ => Ok(()),
    }
}

/// Refuses a field whose value breaks a rule other than length.
pub(crate) fn invalid(packet: &'static str, reason: impl Into<String>) -> FrameError {
    FrameError::NotExpectedPacket {
        packet,
        reason: reason.into(),
    }
}

/// The reply `{"state":11}` to a request that returns nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Done {
    /// Always [`crate::State::SUCCESS`].
    pub state: crate::State,
}

impl Done {
    /// The success reply.
    pub const fn new() -> Done {
        Done {
            state: crate::State::SUCCESS,
        }
    }
}

impl Default for Done {
    fn default() -> Done {
        Done::new()
    }
}

impl Packet for Done {
    const NAME: &'static str = "Done";
}

impl Packet for crate::ErrorReply {
    const NAME: &'static str = "ErrorReply";
}
