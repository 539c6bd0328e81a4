//! The typed payloads of every service, one module per service.
//!
//! Every payload implements [`Packet`]: its name for error messages and the
//! protocol's limits on its fields, checked by [`crate::Frame::packet`] right
//! after decoding, so a packet in hand is always within the limits.

pub mod actions;
pub mod broadcast;
pub mod call;
pub mod directory;
pub mod groups;
pub mod login;
pub mod meeting;
pub mod message;
pub mod profile;
pub mod receipts;
pub mod settings;
pub mod sync;
pub mod upload;

pub use crate::packet::Packet;
use serde::Serialize;

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
