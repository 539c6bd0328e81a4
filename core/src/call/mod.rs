//! The 1:1 call state machine, sans-IO (PROTOCOL §12).
//!
//! One [`CallMachine`] per signed-in session carries at most one call at a
//! time, and answers `busy` for any other invitation meanwhile. The driver
//! (the browser app, a test) feeds it what happened — the user's choices,
//! the invitation and `call_ended` pushes the sync engine surfaces
//! ([`crate::sync::Event::CallInvited`], [`crate::sync::Event::CallEnded`]),
//! the 24888 socket opening, closing or bringing a frame, the WebRTC side's
//! results ([`RtcReport`]), and the clock — and carries out what it asks
//! for, in order ([`CallAction`]): open, close or send on the 24888 socket,
//! WebRTC commands ([`RtcCommand`]), the ringtone, and the screen
//! ([`CallView`]).
//!
//! It owns §12's client rules: the caller asks for the ICE servers, creates
//! the offer and invites, sending its candidates at once (the server keeps
//! the early ones); the caller cancels after [`RING_TIMEOUT_MS`](crate::packets::call::RING_TIMEOUT_MS); an
//! invitation during a call is answered `busy`; in a glare the machine
//! accepts the other party's invitation once its own invite ended `glare`,
//! whichever of the two arrives first; a dropped 24888 socket is reopened
//! with backoff and the call carried on with `rejoin` within
//! [`REJOIN_GRACE_MS`](crate::packets::call::REJOIN_GRACE_MS); the caller restarts ICE when the media drops;
//! renegotiation keeps one offer in flight per side, the caller's winning a
//! collision.
//!
//! Nothing here reads a clock, touches a socket or a browser API: time comes
//! in as `now` (ms since the epoch) and [`CallMachine::poll_timeout`] says
//! when to call back. The machine does not store call history (the server
//! does, §12 "Calls are history") nor pick devices.
//!
//! This file is the public face. The call in progress is `current`; the
//! user's inputs, pushes and WebRTC reports are handled in `flow`, the
//! 24888 traffic in `signalling` (the socket itself is the link shared with
//! the meeting machine, `crate::signalling::link`), glare in `glare`,
//! renegotiation in `negotiation`, and the deadlines in `timers` (their
//! kinds, for the shared table) and `clock` (what each does when due).

mod clock;
mod current;
mod flow;
mod glare;
mod negotiation;
mod signalling;
#[cfg(test)]
mod tests;
mod timers;
mod view;

pub use view::{CallView, EndCause};

use crate::ids::{CallId, UserId};
use crate::packets::call::{
    CallEnded, CallInvitation, CallRequest, IceCandidate, IceServer, Media,
};
use crate::signalling::ice::IceCache;
use crate::signalling::link::Link;
use crate::sync::Rng;
use current::Call;
use glare::Glare;
use std::collections::VecDeque;

/// How long the ended screen shows before the view is idle again.
pub const ENDED_SHOWN_MS: i64 = 3_000;
/// How long one half of a glare (our invite ended `glare`, or the other
/// party's invitation) waits for the other half.
pub const GLARE_WAIT_MS: i64 = 5_000;
/// How long a disconnected ICE may recover by itself before the caller
/// restarts it (a failed one is restarted at once).
pub const ICE_DISCONNECTED_GRACE_MS: i64 = 2_000;
/// An ICE restart that has not reconnected the media is tried again after this.
pub const ICE_RESTART_RETRY_MS: i64 = 10_000;
pub use crate::signalling::ice::ICE_SERVERS_FRESH_MS;

/// Something for the driver to do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallAction {
    /// Open the 24888 WebSocket (with `?token=`).
    Open,
    /// Close the 24888 WebSocket.
    Close,
    /// Send this text frame on the open 24888 WebSocket.
    Send(String),
    /// Tell the WebRTC side; it reports back with [`CallMachine::rtc`].
    Rtc(RtcCommand),
    /// Play a tone until [`CallAction::StopTone`].
    PlayTone(Tone),
    /// Stop the tone playing.
    StopTone,
    /// The call screen changed (also readable as [`CallMachine::view`]).
    Show(CallView),
}

/// A tone to play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Someone calls us: the ringtone (and a notification when hidden).
    Ringtone,
    /// Our call rings at the callee (`ringing`): the ringback tone.
    Ringback,
}

/// What the WebRTC side must do. The driver carries them out in order, each
/// after the previous one finished, and reports results with [`RtcReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcCommand {
    /// Get the microphone, and the camera if `camera` (kept if already held).
    StartMedia {
        /// Whether to capture video too.
        camera: bool,
    },
    /// Turn the camera on or off (a renegotiation follows with `CreateOffer`).
    SetCamera(bool),
    /// Create the peer connection with these ICE servers (closing any
    /// earlier one), with the local media added.
    CreatePeerConnection {
        /// From the `ice_servers` reply; empty on a LAN.
        ice_servers: Vec<IceServer>,
        /// Use only the TURN relays (`iceTransportPolicy: "relay"`): the
        /// deployment's `ice_transport_policy` is `relay`.
        relay_only: bool,
    },
    /// Create an offer and set it as the local description; report
    /// [`RtcReport::OfferCreated`].
    CreateOffer {
        /// Restart ICE (new credentials, new candidates).
        ice_restart: bool,
    },
    /// Set this remote offer (rolling back an offer of ours if one is
    /// pending), create the answer and set it; report
    /// [`RtcReport::AnswerCreated`].
    CreateAnswer {
        /// The other party's offer.
        offer: String,
    },
    /// Set the other party's answer to our offer.
    ApplyAnswer {
        /// The answer.
        answer: String,
    },
    /// Add an ICE candidate of the other party.
    AddCandidate(IceCandidate),
    /// Close the peer connection (the local media stays).
    ClosePeerConnection,
    /// Stop the microphone and camera.
    StopMedia,
}

/// What the WebRTC side reports. Nothing more is reported from a peer
/// connection once [`RtcCommand::ClosePeerConnection`] was given for it (a
/// glare swaps one for another, and a late candidate of the old one must
/// not reach the new call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcReport {
    /// The offer asked for is the local description.
    OfferCreated {
        /// Its SDP.
        sdp: String,
    },
    /// The answer asked for is the local description.
    AnswerCreated {
        /// Its SDP.
        sdp: String,
    },
    /// A local ICE candidate was gathered.
    LocalCandidate(IceCandidate),
    /// The peer connection is connected (media can flow).
    Connected,
    /// The peer connection is disconnected (it may recover alone).
    Disconnected,
    /// The peer connection failed (it needs an ICE restart).
    Failed,
    /// Something the call cannot go on without failed: the microphone or
    /// camera refused or missing, a description refused. Says what.
    Error(String),
}

/// Why a user's request was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// A call is already in progress on this session.
    #[error("already in a call; hang up first")]
    InCall,
    /// Nothing rings to accept or decline.
    #[error("no incoming call is ringing")]
    NotRinging,
}

/// The call machine of one signed-in session. See the module documentation.
#[derive(Debug)]
pub struct CallMachine {
    /// The call in progress (ours or one ringing here).
    call: Option<Call>,
    /// Half of a glare, waiting for the other half.
    glare: Option<Glare>,
    /// The last call's ended screen, and until when it shows.
    ended: Option<(CallView, i64)>,
    /// Calls over here: a re-pushed invitation for one does not ring again.
    finished: VecDeque<CallId>,
    /// The `ice_servers` reply (servers and policy), and when it came.
    ice: IceCache,
    link: Link<CallRequest>,
    actions: VecDeque<CallAction>,
    /// The view last shown, to tell the driver only of changes.
    shown: CallView,
    rng: Rng,
    clock: i64,
}

impl CallMachine {
    /// A machine with no call. `seed` makes call ids and backoff: give it
    /// real randomness.
    pub fn new(seed: u64) -> CallMachine {
        CallMachine {
            call: None,
            glare: None,
            ended: None,
            finished: VecDeque::new(),
            ice: IceCache::default(),
            link: Link::pipelined(),
            actions: VecDeque::new(),
            shown: CallView::Idle,
            rng: Rng::new(seed),
            clock: 0,
        }
    }

    /// What the call screen shows now.
    pub fn view(&self) -> CallView {
        self.current_view()
    }

    /// The next thing to do, if any.
    pub fn poll_action(&mut self) -> Option<CallAction> {
        self.actions.pop_front()
    }

    /// When to call [`CallMachine::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<i64> {
        self.timers().next_timeout()
    }

    /// Time passed: ring timeout, rejoin grace, ICE restart, retries.
    pub fn handle_timeout(&mut self, now: i64) {
        self.advance(now);
        for timer in timers::Timer::ALL {
            // Read again before each: acting on one may settle another.
            if self.timers().is_due(timer, now) {
                self.on_timeout(timer, now);
            }
        }
        self.drive(now);
    }

    // ------------------------------------------------------------ the user

    /// Calls `to` with voice or video; the new call's id.
    pub fn start(&mut self, to: UserId, media: Media, now: i64) -> Result<CallId, CallError> {
        self.advance(now);
        let result = self.start_call(to, media, now);
        self.drive(now);
        result
    }

    /// Accepts the call ringing here.
    pub fn accept(&mut self, now: i64) -> Result<(), CallError> {
        self.advance(now);
        let result = self.accept_ringing(now);
        self.drive(now);
        result
    }

    /// Declines the call ringing here.
    pub fn decline(&mut self, now: i64) -> Result<(), CallError> {
        self.advance(now);
        let result = self.decline_ringing(now);
        self.drive(now);
        result
    }

    /// Ends the call, whatever its state: cancels our invite, declines one
    /// ringing here, hangs up an accepted call.
    pub fn hang_up(&mut self, now: i64) {
        self.advance(now);
        self.leave(now);
        self.drive(now);
    }

    /// Turns our camera on or off; an accepted call renegotiates.
    pub fn set_camera(&mut self, on: bool, now: i64) {
        self.advance(now);
        self.camera(on, now);
        self.drive(now);
    }

    // ------------------------------------------------------------ 20888 pushes

    /// The stream pushed an invitation ([`crate::sync::Event::CallInvited`]).
    pub fn call_invited(&mut self, invitation: CallInvitation, now: i64) {
        self.advance(now);
        self.invited(invitation, now);
        self.drive(now);
    }

    /// The stream pushed `call_ended` ([`crate::sync::Event::CallEnded`]):
    /// a call ringing here was answered elsewhere or ended.
    pub fn call_ended(&mut self, ended: CallEnded, now: i64) {
        self.advance(now);
        self.ended_push(ended, now);
        self.drive(now);
    }

    // ------------------------------------------------------------ 24888

    /// The 24888 socket opened.
    pub fn opened(&mut self, now: i64) {
        self.advance(now);
        self.link_opened(now);
        self.drive(now);
    }

    /// The 24888 socket closed, or could not be opened.
    pub fn closed(&mut self, now: i64) {
        self.advance(now);
        self.link_lost(now);
        self.drive(now);
    }

    /// A text frame arrived on the 24888 socket: a reply or a signal.
    pub fn received(&mut self, text: &str, now: i64) {
        self.advance(now);
        self.frame(text, now);
        self.drive(now);
    }

    // ------------------------------------------------------------ WebRTC

    /// The WebRTC side reports a result or a state change.
    pub fn rtc(&mut self, report: RtcReport, now: i64) {
        self.advance(now);
        self.rtc_report(report, now);
        self.drive(now);
    }

    /// Time enters here only; it never goes back.
    fn advance(&mut self, now: i64) {
        self.clock = self.clock.max(now);
    }
}
