//! Replies: every request gets exactly one reply frame carrying a numeric `state`.

use serde::{Deserialize, Serialize};

/// The `state` of a reply: `11` is success and `12` a failed login, as in the
/// protocol document; the other codes are refusals with a reason in `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct State(pub u16);

impl State {
    /// 11: the request succeeded.
    pub const SUCCESS: State = State(11);
    /// 12: login failed: unknown account or wrong password.
    pub const LOGIN_FAILED: State = State(12);
    /// 13: the session is not valid: no token, or an expired or revoked one.
    pub const SESSION_INVALID: State = State(13);
    /// 14: the session's token has expired (idle or absolute limit); log in again with the password.
    pub const SESSION_EXPIRED: State = State(14);
    /// 20: the frame could not be decoded (any [`crate::FrameError`] of the envelope).
    pub const BAD_FRAME: State = State(20);
    /// 21: the payload is not the packet this service expects, or breaks a limit.
    pub const BAD_PACKET: State = State(21);
    /// 22: a file is larger than the service accepts.
    pub const TOO_LARGE: State = State(22);
    /// 23: a file is not in a format the service accepts.
    pub const UNSUPPORTED_FORMAT: State = State(23);
    /// 30: the session may not do this (acting as someone else, not the holder, not a broadcaster).
    pub const FORBIDDEN: State = State(30);
    /// 31: no such user.
    pub const UNKNOWN_USER: State = State(31);
    /// 32: no such group.
    pub const UNKNOWN_GROUP: State = State(32);
    /// 33: the caller is not a member of the group.
    pub const NOT_A_MEMBER: State = State(33);
    /// 34: the current password given is wrong.
    pub const WRONG_PASSWORD: State = State(34);
    /// 35: too many attempts; wait and try again.
    pub const RATE_LIMITED: State = State(35);
    /// 36: the call or meeting is not in a state that allows this request
    /// (answered on another device, cancelled, ended, or not accepted yet;
    /// a meeting that is over, or that the caller is not in).
    pub const CALL_GONE: State = State(36);
    /// 37: the caller is already a party of another call, or in a meeting.
    pub const IN_ANOTHER_CALL: State = State(37);
    /// 38: the meeting already has its most participants.
    pub const MEETING_FULL: State = State(38);
    /// 39: no such message, or one the caller may not see.
    pub const NO_SUCH_MESSAGE: State = State(39);
    /// 40: the message can no longer be recalled: its time ran out, or it is
    /// not a user's message.
    pub const TOO_LATE_TO_RECALL: State = State(40);
    /// 41: the user's storage quota is full.
    pub const QUOTA_FULL: State = State(41);
    /// 42: the upload is not known, or not at the offset named.
    pub const UPLOAD_OFFSET: State = State(42);
    /// 50: the server failed to store or read; nothing was acknowledged, retry.
    pub const SERVER_ERROR: State = State(50);
    /// 51: the service is not available on this server.
    pub const UNAVAILABLE: State = State(51);
    /// 52: the server is busy (a full queue); nothing was done, retry shortly.
    pub const BUSY: State = State(52);

    /// Every state with its meaning, for documentation and clients.
    pub const TABLE: [(State, &'static str); 24] = [
        (State::SUCCESS, "success"),
        (
            State::LOGIN_FAILED,
            "login failed: unknown account or wrong password",
        ),
        (
            State::SESSION_INVALID,
            "no valid session: missing, expired or revoked token",
        ),
        (
            State::SESSION_EXPIRED,
            "the session has expired; log in again with the password",
        ),
        (State::BAD_FRAME, "the frame could not be decoded"),
        (
            State::BAD_PACKET,
            "the payload is not the expected packet or breaks a limit",
        ),
        (State::TOO_LARGE, "a file is too large"),
        (
            State::UNSUPPORTED_FORMAT,
            "a file is not in an accepted format",
        ),
        (State::FORBIDDEN, "not allowed for this session"),
        (State::UNKNOWN_USER, "no such user"),
        (State::UNKNOWN_GROUP, "no such group"),
        (State::NOT_A_MEMBER, "not a member of the group"),
        (State::WRONG_PASSWORD, "the current password is wrong"),
        (State::RATE_LIMITED, "too many attempts; retry later"),
        (
            State::CALL_GONE,
            "the call or meeting is not in a state that allows this request",
        ),
        (
            State::IN_ANOTHER_CALL,
            "already a party of another call, or in a meeting",
        ),
        (State::MEETING_FULL, "the meeting is full"),
        (
            State::NO_SUCH_MESSAGE,
            "no such message, or one the caller may not see",
        ),
        (
            State::TOO_LATE_TO_RECALL,
            "the message can no longer be recalled",
        ),
        (State::QUOTA_FULL, "the storage quota is full"),
        (
            State::UPLOAD_OFFSET,
            "the upload is not known or not at that offset",
        ),
        (
            State::SERVER_ERROR,
            "the server failed; nothing was stored, retry",
        ),
        (State::UNAVAILABLE, "the service is not available"),
        (
            State::BUSY,
            "the server is busy; nothing was done, retry shortly",
        ),
    ];

    /// Whether this is the success state.
    pub const fn is_success(self) -> bool {
        self.0 == 11
    }
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
    /// Envelope errors are [`State::BAD_FRAME`]; a file over its size limit is
    /// [`State::TOO_LARGE`]; any other payload that is not the expected packet
    /// or breaks a limit is [`State::BAD_PACKET`].
    fn from(err: &crate::FrameError) -> ErrorReply {
        use crate::FrameError as E;
        let state = match err {
            // `data` is a file: too many bytes of it is "file too large".
            E::FieldTooLong { field: "data", .. } => State::TOO_LARGE,
            E::NotExpectedPacket { .. } | E::FieldTooLong { .. } => State::BAD_PACKET,
            _ => State::BAD_FRAME,
        };
        ErrorReply::new(state, err.to_string())
    }
}
