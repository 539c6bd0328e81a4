//! The meeting client, sans-IO (PROTOCOL §13): what a session does to take
//! part in a group's meeting through the server's media forwarder.
//!
//! A session takes part in at most one meeting, on its own 24888 socket
//! (apart from the one a 1:1 call uses). The driver feeds the
//! [`MeetingMachine`] what happened — the user's choices, the 24888 socket
//! opening, closing or bringing a frame, the WebRTC side's results
//! ([`MeetingRtcReport`]), the `meeting_ended` pushes, and the clock — and
//! carries out what it asks for, in order ([`MeetingAction`]).
//!
//! It owns §13's client rules:
//! - **Joining**: the microphone (and the camera if wanted) and the
//!   `ice_servers` (§12, kept an hour) first, then one peer connection to
//!   the server and its offer, then `meeting_join` with it; the reply's
//!   answer is applied and its participants shown. A camera that cannot be
//!   had joins with audio only (`camera: false`). A start sends
//!   `meeting_start` first and joins the meeting its reply names.
//! - **The server's offers** are answered with `meeting_answer`; the client
//!   never offers after the join. `participants` signals update the list.
//! - **One request at a time** on the socket: the next goes once the
//!   previous one is answered, so a leave pressed while the join is being
//!   answered follows that answer (the user is never left in the meeting).
//! - **Microphone and camera**: turned on or off locally with no
//!   renegotiation, and announced with `meeting_media` once joined.
//! - **Lost and back**: a dropped socket is reopened with backoff (0.5–5 s);
//!   once it is open again, or at once when the peer connection fails, or
//!   [`MEDIA_DISCONNECTED_GRACE_MS`] after it disconnected without coming
//!   back, the machine joins again with a new peer connection and offer
//!   (the server replaces the participation). While the old peer
//!   connection still carries media, it is kept until the socket is back.
//!   If the meeting has no working socket and media for the server's grace
//!   ([`REJOIN_GRACE_MS`]), counted once the local media is held (not while
//!   the browser asks the user for the microphone), it is given up:
//!   [`MeetingLeft::Ended`] `lost` once joined, [`MeetingLeft::Unreachable`]
//!   before.
//! - **The end**: an `ended` signal, a `meeting_ended` push for the
//!   meeting, a refused join, or a media error close the peer connection,
//!   stop the media and close the socket once its last reply is in; the
//!   ended screen shows for [`ENDED_SHOWN_MS`]. A `meeting_end` refused
//!   (30: neither the starter nor the holder) leaves the user in the
//!   meeting, with the view saying so.
//!
//! Nothing here reads a clock or touches a socket or a browser API. A leave
//! while the socket is gone sends nothing (the new socket does not carry
//! the participation, §13): the server drops the participant after its
//! grace.
//!
//! This file holds the vocabulary shared with the drivers and the
//! machine's public face; the meeting in progress is `current`, the join
//! and the end in `join`, the 24888 traffic in `signalling`, the microphone,
//! camera and peer connection reports in `media`, and the deadlines in
//! `clock`.

mod clock;
mod current;
mod join;
mod media;
mod signalling;
#[cfg(test)]
mod tests;

pub use crate::call::ENDED_SHOWN_MS;
pub use crate::packets::call::REJOIN_GRACE_MS;

use crate::packets::meeting::{MeetingEnded, SignallingRequest};
use crate::reply::State;
use crate::signalling::ice::IceCache;
use crate::signalling::link::Link;
use crate::sync::Rng;
use current::Current;
use std::collections::VecDeque;

/// How long a disconnected peer connection may recover by itself before the
/// machine joins again with a new one (a failed one is replaced at once).
pub const MEDIA_DISCONNECTED_GRACE_MS: i64 = 4_000;

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

impl MeetingLeft {
    /// Why a refused `meeting_start` or `meeting_join` leaves the meeting.
    pub fn of_refusal(refusal: ErrorReply) -> MeetingLeft {
        match refusal.state {
            State::MEETING_FULL => MeetingLeft::Full,
            State::IN_ANOTHER_CALL => MeetingLeft::Busy,
            State::CALL_GONE => MeetingLeft::Gone,
            State::NOT_A_MEMBER => MeetingLeft::NotMember,
            _ => MeetingLeft::Refused(refusal),
        }
    }
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
        /// Our `meeting_end` was refused (30: only the meeting's starter or
        /// the group's holder may end it); the meeting goes on. Cleared by
        /// the next [`MeetingMachine::end`].
        end_refused: bool,
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

/// The meeting machine of one signed-in session. See the module
/// documentation.
#[derive(Debug)]
pub struct MeetingMachine {
    /// The meeting in progress (being joined or joined).
    current: Option<Current>,
    /// The last meeting's ended screen, and until when it shows.
    ended: Option<(MeetingView, i64)>,
    ice: IceCache,
    link: Link<SignallingRequest>,
    actions: VecDeque<MeetingAction>,
    /// The view last shown, to tell the driver only of changes.
    shown: MeetingView,
    rng: Rng,
    clock: i64,
}

impl MeetingMachine {
    /// A machine in no meeting. `seed` spreads the socket's retries: give it
    /// real randomness.
    pub fn new(seed: u64) -> MeetingMachine {
        MeetingMachine {
            current: None,
            ended: None,
            ice: IceCache::default(),
            link: Link::one_at_a_time(),
            actions: VecDeque::new(),
            shown: MeetingView::Idle,
            rng: Rng::new(seed),
            clock: 0,
        }
    }

    /// What the meeting screen shows now.
    pub fn view(&self) -> MeetingView {
        self.current_view()
    }

    /// The next thing to do, if any.
    pub fn poll_action(&mut self) -> Option<MeetingAction> {
        self.actions.pop_front()
    }

    /// When to call [`MeetingMachine::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<i64> {
        self.timers().next_timeout()
    }

    /// Time passed: request timeout, socket retry, media recovery, giving
    /// up, the ended screen.
    pub fn handle_timeout(&mut self, now: i64) {
        self.advance(now);
        for timer in clock::Timer::ALL {
            // Read again before each: acting on one may settle another.
            if self.timers().is_due(timer, now) {
                self.on_timeout(timer, now);
            }
        }
        self.drive(now);
    }

    // ------------------------------------------------------------ the user

    /// Starts the group's meeting (or finds the one running) and joins it,
    /// with the camera if `camera`.
    pub fn start(&mut self, gid: GroupId, camera: bool, now: i64) -> Result<(), MeetingError> {
        self.advance(now);
        let result = self.begin(gid, None, camera, now);
        self.drive(now);
        result
    }

    /// Joins a running meeting of the group, with the camera if `camera`.
    pub fn join(
        &mut self,
        gid: GroupId,
        meeting: MeetingId,
        camera: bool,
        now: i64,
    ) -> Result<(), MeetingError> {
        self.advance(now);
        let result = self.begin(gid, Some(meeting), camera, now);
        self.drive(now);
        result
    }

    /// Leaves the meeting (it goes on for the others); nothing if in none.
    pub fn leave(&mut self, now: i64) {
        self.advance(now);
        self.leave_meeting(now);
        self.drive(now);
    }

    /// Asks the server to end the meeting for everyone; the server decides
    /// (the view says when it refused). Nothing before the meeting is known.
    pub fn end(&mut self, now: i64) {
        self.advance(now);
        self.end_meeting(now);
        self.drive(now);
    }

    /// Turns our microphone on or off.
    pub fn set_mic(&mut self, on: bool, now: i64) -> Result<(), MeetingError> {
        self.advance(now);
        let result = self.mic(on, now);
        self.drive(now);
        result
    }

    /// Turns our camera on or off.
    pub fn set_camera(&mut self, on: bool, now: i64) -> Result<(), MeetingError> {
        self.advance(now);
        let result = self.camera(on);
        self.drive(now);
        result
    }

    // ------------------------------------------------------------ 24888

    /// The meeting's 24888 socket opened.
    pub fn opened(&mut self, now: i64) {
        self.advance(now);
        self.link_opened(now);
        self.drive(now);
    }

    /// The meeting's 24888 socket closed, or could not be opened.
    pub fn closed(&mut self, now: i64) {
        self.advance(now);
        self.link_lost(now);
        self.drive(now);
    }

    /// A text frame arrived on the meeting's 24888 socket: a reply or a
    /// signal.
    pub fn received(&mut self, text: &str, now: i64) {
        self.advance(now);
        self.frame(text, now);
        self.drive(now);
    }

    // ------------------------------------------------------------ WebRTC

    /// The WebRTC side reports a result or a state change.
    pub fn rtc(&mut self, report: MeetingRtcReport, now: i64) {
        self.advance(now);
        self.rtc_report(report, now);
        self.drive(now);
    }

    // ------------------------------------------------------------ 20888

    /// The stream pushed `meeting_ended`
    /// ([`crate::sync::Event::MeetingEnded`]): ours ends too, in case its
    /// socket missed the `ended` signal.
    pub fn meeting_ended(&mut self, ended: MeetingEnded, now: i64) {
        self.advance(now);
        self.ended_push(ended, now);
        self.drive(now);
    }

    /// Time enters here only; it never goes back.
    fn advance(&mut self, now: i64) {
        self.clock = self.clock.max(now);
    }
}
