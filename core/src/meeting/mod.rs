//! The meeting client, sans-IO (PROTOCOL §13): what a session does to take
//! part in a group's meeting through the server's media forwarder.
//!
//! A session takes part in at most one meeting, on its own 24888 socket
//! (apart from the one a 1:1 call uses). The driver feeds the machine what
//! happened — the user's choices, the 24888 socket opening, closing or
//! bringing a frame, the WebRTC side's results ([`MeetingRtcReport`]), the
//! `meeting_ended` pushes, and the clock — and carries out what it asks for,
//! in order ([`MeetingAction`]).
//!
//! This file holds the vocabulary shared with the drivers.

use crate::ids::{GroupId, MeetingId};
use crate::packets::call::IceServer;
use crate::packets::meeting::{MeetingEndReason, Participant};
use crate::reply::ErrorReply;

/// Something for the driver to do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeetingAction {
    /// Open the meeting's 24888 WebSocket (with `?token=`).
    Open,
    /// Close the meeting's 24888 WebSocket.
    Close,
    /// Send this text frame on the open meeting WebSocket.
    Send(String),
    /// Tell the WebRTC side; it reports back with [`MeetingRtcReport`].
    Rtc(MeetingRtcCommand),
    /// The meeting screen changed (also readable from the machine's view).
    Show(MeetingView),
}

/// What the meeting's WebRTC side must do, each after the previous one
/// finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeetingRtcCommand {
    /// Get the microphone, and the camera if `camera` (kept if already
    /// held). A camera that cannot be had is not an error: the report says
    /// the media started without it, and the meeting goes on with audio.
    StartMedia {
        /// Whether to try the camera too.
        camera: bool,
    },
    /// Create the peer connection (closing any earlier one) with these ICE
    /// servers, with one `sendonly` audio transceiver (the microphone) and
    /// one `sendonly` video transceiver (the camera's track, or none).
    CreatePeerConnection {
        /// From the `ice_servers` reply; empty on a LAN.
        ice_servers: Vec<IceServer>,
        /// Use only the TURN relays (`ice_transport_policy` is `relay`).
        relay_only: bool,
    },
    /// Create the join's offer and set it as the local description; report
    /// [`MeetingRtcReport::OfferCreated`].
    CreateOffer,
    /// Set the server's answer to the join's offer.
    ApplyAnswer {
        /// The server's SDP answer.
        answer: String,
    },
    /// Set the server's offer, create the answer and set it; report
    /// [`MeetingRtcReport::AnswerCreated`].
    CreateAnswer {
        /// The server's SDP offer.
        offer: String,
    },
    /// Send the microphone or not (`track.enabled`); no renegotiation.
    SetMic(bool),
    /// Turn the camera on (getting it if not held) or off, by `replaceTrack`
    /// on the video transceiver; no renegotiation. Reports
    /// [`MeetingRtcReport::CameraChanged`].
    SetCamera(bool),
    /// Close the peer connection (the local media stays).
    ClosePeerConnection,
    /// Stop the microphone and camera.
    StopMedia,
}

/// What the meeting's WebRTC side reports. Nothing more is reported from a
/// peer connection once [`MeetingRtcCommand::ClosePeerConnection`] was
/// given for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeetingRtcReport {
    /// The local media started: the microphone, and the camera if it was
    /// asked for and could be had.
    MediaStarted {
        /// Whether a camera track is held.
        camera: bool,
    },
    /// The camera is on (`true`) or off after [`MeetingRtcCommand::SetCamera`]
    /// (off also when turning it on failed).
    CameraChanged(bool),
    /// The join's offer is the local description.
    OfferCreated {
        /// Its SDP.
        sdp: String,
    },
    /// The answer to the server's offer is the local description.
    AnswerCreated {
        /// Its SDP.
        sdp: String,
    },
    /// The peer connection is connected (media flows to and from the server).
    Connected,
    /// The peer connection is disconnected (it may recover alone).
    Disconnected,
    /// The peer connection failed: the client joins again with a new one.
    Failed,
    /// Something the meeting cannot go on without failed: the microphone
    /// refused or missing, a description refused. Says what.
    Error(String),
}

/// Why this session is not (or no longer) in the meeting, for the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeetingLeft {
    /// The user left.
    Left,
    /// The server said so (`ended` signal, `meeting_ended` push), or ended
    /// it for this socket (`removed`, `joined_elsewhere`, `lost`).
    Ended(MeetingEndReason),
    /// 38: the meeting holds as many participants as allowed.
    Full,
    /// 37: this account is in a call or another meeting.
    Busy,
    /// 36: the meeting is over (or never began).
    Gone,
    /// 33: the user is not a member of the group.
    NotMember,
    /// Any other refusal, as the server gave it.
    Refused(ErrorReply),
    /// 24888 could not be reached to join.
    Unreachable,
    /// The media side failed (microphone refused or missing, a description
    /// the browser refused); the text is the driver's.
    MediaFailed(String),
}

/// How the meeting's connection is, for the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetingLink {
    /// Joining: asking, negotiating, or waiting for the media to connect.
    Connecting,
    /// The media flows.
    Connected,
    /// The socket or the media dropped; the machine is joining again.
    Reconnecting,
}

/// What the meeting screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeetingView {
    /// Not in a meeting.
    Idle,
    /// In (or joining) a group's meeting.
    InMeeting {
        /// The group.
        gid: GroupId,
        /// The meeting, once known (a start asks the server for it first).
        meeting: Option<MeetingId>,
        /// How the connection is.
        link: MeetingLink,
        /// Everyone in the meeting, in the order they joined, oneself
        /// included, as the server last said (empty until the join's reply).
        participants: Vec<Participant>,
        /// Whether our microphone sends.
        mic: bool,
        /// Whether our camera sends.
        camera: bool,
    },
    /// The meeting is over for this session; shown briefly.
    Ended {
        /// The group.
        gid: GroupId,
        /// Why.
        why: MeetingLeft,
    },
}

/// Why a user's request about a meeting was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeetingError {
    /// This session is already in a meeting; leave it first.
    #[error("already in a meeting; leave it first")]
    InMeeting,
    /// The request needs a meeting this session is in.
    #[error("not in a meeting")]
    NotInMeeting,
}
