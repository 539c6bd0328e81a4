//! What the call screen shows, and why a call ended.

use crate::ids::{CallId, UserId};
use crate::packets::call::{EndReason, Media};
use crate::reply::{ErrorReply, State};

/// Why a call ended, for the UI: how §12 says it ended, or why the attempt
/// could not go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndCause {
    /// It ended as §12 names it: said by the server (`ended`, `call_ended`)
    /// or by this machine following §12's rules (`timeout` at
    /// `RING_TIMEOUT_MS`, `cancelled`, `declined`, `hangup`, `lost`).
    Ended(EndReason),
    /// 31: the user called does not exist.
    UnknownUser,
    /// 37: this account is already a party of another call (on another device).
    InAnotherCall,
    /// 36: the call is no longer there to act on (answered on another
    /// device, cancelled or ended meanwhile).
    Gone,
    /// 30: the server does not let this session act on the call (calling
    /// oneself, someone else's call).
    Forbidden,
    /// Any other refusal, as the server gave it.
    Refused(ErrorReply),
    /// 24888 could not be reached before the call was placed.
    Unreachable,
    /// The media side failed (microphone or camera refused or missing, a
    /// description the browser refused); the text is the driver's.
    MediaFailed(String),
}

impl EndCause {
    /// The cause a refusal of `state` gives.
    pub fn of_refusal(refusal: ErrorReply) -> EndCause {
        match refusal.state {
            State::UNKNOWN_USER => EndCause::UnknownUser,
            State::IN_ANOTHER_CALL => EndCause::InAnotherCall,
            State::CALL_GONE => EndCause::Gone,
            State::FORBIDDEN => EndCause::Forbidden,
            _ => EndCause::Refused(refusal),
        }
    }
}

/// What the call screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallView {
    /// No call.
    Idle,
    /// We call `peer`: preparing and calling; `ringing` once a device of the
    /// callee shows the call.
    Outgoing {
        /// The call.
        call: CallId,
        /// Whom we call.
        peer: UserId,
        /// Voice or video.
        media: Media,
        /// A device of the callee rings.
        ringing: bool,
    },
    /// `peer` calls us: this device rings.
    Incoming {
        /// The call.
        call: CallId,
        /// The caller.
        peer: UserId,
        /// Voice or video.
        media: Media,
    },
    /// Accepted; the media is connecting.
    Connecting {
        /// The call.
        call: CallId,
        /// The other party.
        peer: UserId,
        /// The call's media as invited.
        media: Media,
        /// Our camera is on.
        camera: bool,
    },
    /// The media flows.
    Connected {
        /// The call.
        call: CallId,
        /// The other party.
        peer: UserId,
        /// The call's media as invited.
        media: Media,
        /// Our camera is on.
        camera: bool,
        /// When it was accepted (ms since the epoch): the duration counts from here.
        since: i64,
    },
    /// The media was lost and is being restored (ICE restart).
    Reconnecting {
        /// The call.
        call: CallId,
        /// The other party.
        peer: UserId,
        /// The call's media as invited.
        media: Media,
        /// Our camera is on.
        camera: bool,
        /// When it was accepted.
        since: i64,
    },
    /// Over; shown for `ENDED_SHOWN_MS`, then [`CallView::Idle`].
    Ended {
        /// The call.
        call: CallId,
        /// The other party.
        peer: UserId,
        /// The call's media.
        media: Media,
        /// Why.
        cause: EndCause,
        /// Seconds from the accept to the end, when it was accepted.
        duration: Option<u32>,
    },
}

impl CallView {
    /// The call shown, if any.
    pub fn call(&self) -> Option<&CallId> {
        match self {
            CallView::Idle => None,
            CallView::Outgoing { call, .. }
            | CallView::Incoming { call, .. }
            | CallView::Connecting { call, .. }
            | CallView::Connected { call, .. }
            | CallView::Reconnecting { call, .. }
            | CallView::Ended { call, .. } => Some(call),
        }
    }
}
