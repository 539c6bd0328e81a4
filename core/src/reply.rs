//! Replies: every request gets exactly one reply frame carrying a numeric `state`.

use serde::{Deserialize, Serialize};

/// The `state` of a reply: `11` is success and `12` a failed login, as in the
/// protocol document; the other codes are refusals with a reason in `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct State(pub u16);

impl State {
    /// The request succeeded.
    pub const SUCCESS: State = State(11);
    /// Login failed: unknown account or wrong password.
    pub const LOGIN_FAILED: State = State(12);
    /// The frame could not be decoded (any [`crate::FrameError`]).
    pub const BAD_FRAME: State = State(20);
    /// The service is not available on this server.
    pub const UNAVAILABLE: State = State(51);
}

/// A refusal: the `state` says which kind, `error` says what was wrong and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// Which kind of refusal.
    pub state: State,
    /// A human-readable reason.
    pub error: String,
}

impl ErrorReply {
    /// A refusal of kind `state` with the reason `error`.
    pub fn new(state: State, error: impl Into<String>) -> ErrorReply {
        ErrorReply {
            state,
            error: error.into(),
        }
    }
}

impl From<&crate::FrameError> for ErrorReply {
    fn from(err: &crate::FrameError) -> ErrorReply {
        ErrorReply::new(State::BAD_FRAME, err.to_string())
    }
}
