//! The signed-in screens: the conversation list, the chat, the composer and
//! the bar above them.
//!
//! Every component reads [`crate::state::Shared`] from the context and sends
//! [`crate::state::Command`]s; none of them touches the network or the cache.
//! What can be computed without a browser (words, times, which rows are in the
//! DOM) lives in [`format`] and [`rows`] and is tested natively.

pub mod format;
pub mod rows;
