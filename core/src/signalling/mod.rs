//! What the 1:1 call machine ([`crate::call`]) and the meeting machine
//! ([`crate::meeting`]) share on their 24888 sockets: the socket with its
//! reply FIFO and reconnect backoff (`link`), the `ice_servers` cache
//! (`ice`), the deadline table (`timers`), and reading and writing frames.

pub(crate) mod ice;
pub(crate) mod link;
pub(crate) mod timers;

use crate::envelope::{Encoding, Frame};
use crate::reply::{ErrorReply, State};
use serde::Serialize;

/// The frame of a request.
pub(crate) fn frame_of<T: Serialize>(request: &T) -> String {
    Frame::encode(Encoding::Base64, request).expect("base64 frames carry any payload")
}

/// The refusal a reply carries, if it is one.
pub(crate) fn refusal_of(frame: &Frame) -> Option<ErrorReply> {
    frame
        .packet::<ErrorReply>()
        .ok()
        .filter(|r| r.state != State::SUCCESS)
}

/// Whether a frame is a signal (`{"signal":…}`) rather than a reply.
pub(crate) fn is_signal(frame: &Frame) -> bool {
    frame
        .field_names()
        .is_ok_and(|names| names.iter().any(|n| n == "signal"))
}
