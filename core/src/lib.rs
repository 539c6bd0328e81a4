//! `penpen-core`: the PENPEN 1.0 wire protocol, shared by the server and every client.
//!
//! This crate turns WebSocket text frames into typed packets and back, and owns
//! the protocol's rules (service ports, the password digest). It does no IO: no
//! sockets, no clock, no randomness and no storage engine live here, so the same
//! code runs natively and in the browser (`wasm32-unknown-unknown`) and is tested
//! without a network.

#![warn(missing_docs)]

pub mod cache;
pub mod call;
pub mod digest;
pub mod envelope;
pub mod frame_error;
#[doc(hidden)]
pub mod fuzzing;
pub mod ids;
pub mod limits;
pub mod meeting;
pub mod packet;
pub mod packets;
pub mod receipts;
pub mod reply;
pub mod search;
pub mod search_terms;
pub mod service;
mod signalling;
pub mod sniff;
pub mod sorted_map;
pub mod sorting;
pub mod sync;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;
pub mod tickets;
pub mod time;

pub use envelope::{Encoding, Frame, FrameError, MAX_FRAME_BYTES, PROTOCOL_VERSION};
pub use ids::{
    BroadcastId, CallId, ClientMsgId, DepartmentId, GroupId, IdError, JobId, MeetingId, MessageId,
    Peer, Seq, UserId,
};
pub use packets::Packet;
pub use reply::{ErrorReply, State};
pub use service::Service;
