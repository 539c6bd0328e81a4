//! The [`Packet`] trait every payload implements, and the limit checks the
//! packets share. It sits below both the envelope (which reads packets) and
//! the packets themselves.

use crate::frame_error::FrameError;
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
    check_limit(packet, limit, crate::limits::MAX_PAGE)
}

/// Refuses a page size of 0 or above `max`.
pub(crate) fn check_limit(
    packet: &'static str,
    limit: Option<u32>,
    max: u32,
) -> Result<(), FrameError> {
    match limit {
        Some(0) => Err(invalid(packet, "limit is 0; expected 1 or more")),
        Some(n) if n > max => Err(invalid(
            packet,
            format!("limit {n} is too large; expected at most {max}"),
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
