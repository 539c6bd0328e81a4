//! The machine's transitions: the current call's state, and what each input
//! does to it.

use super::link::Step;
use super::negotiation::{Negotiation, Next};
use super::timers::{Timer, TimerTable};
use super::{
    CallAction, CallError, CallMachine, CallView, ENDED_SHOWN_MS, EndCause, GLARE_WAIT_MS,
    ICE_DISCONNECTED_GRACE_MS, ICE_RESTART_RETRY_MS, ICE_SERVERS_FRESH_MS, RtcCommand, RtcReport,
    Tone,
};
use crate::envelope::{Encoding, Frame};
use crate::ids::{CallId, UserId};
use crate::packets::call::{
    CallEnded, CallInvitation, CallRequest, CallSignal, EndReason, IceCandidate, IceServersReply,
    MAX_CANDIDATES_PER_CALL, Media, REJOIN_GRACE_MS, RING_TIMEOUT_MS, SERVER_RING_TIMEOUT_MS,
    Signal, SignalEvent,
};
use crate::reply::{ErrorReply, State};

/// How many ended calls are remembered (re-pushed invitations ignored).
const FINISHED_KEPT: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Caller,
    Callee,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Caller: the ICE servers and the offer are on their way; not invited yet.
    Preparing,
    /// Caller: invited; `ringing` once a device of the callee shows it.
    Calling { ringing: bool },
    /// Callee: this device rings.
    Ringing,
    /// Callee: the user accepted; `sent` once the `accept` went out.
    Answering { sent: bool },
    /// Accepted; ICE connecting.
    Connecting,
    /// The media flows.
    Connected,
    /// The media dropped at `since`; ICE is being restarted.
    Reconnecting { since: i64 },
}

/// The call in progress.
#[derive(Debug)]
pub(super) struct Call {
    id: CallId,
    peer: UserId,
    media: Media,
    role: Role,
    phase: Phase,
    camera: bool,
    /// Callee: the caller's offer.
    offer: Option<String>,
    /// A peer connection exists.
    peer_connection: bool,
    /// The microphone (and camera) were asked for.
    media_started: bool,
    /// A tone plays.
    tone: bool,
    /// When ringing gives up (ours: the cancel; theirs: the server's timeout).
    ring_until: Option<i64>,
    accepted_at: Option<i64>,
    /// The server knows this session as a party: a new socket must `rejoin`.
    known: bool,
    /// A `rejoin` is owed on the next socket.
    rejoin: bool,
    /// Since when the socket the call needs is gone.
    gone_since: Option<i64>,
    /// Our candidates, held until they may be sent.
    candidates: Vec<IceCandidate>,
    candidates_sent: usize,
    negotiation: Negotiation,
    /// Caller: when to restart ICE.
    restart_at: Option<i64>,
    /// The peer connection said it is connected (and has not dropped since).
    media_up: bool,
}

impl Call {
    fn new(id: CallId, peer: UserId, media: Media, role: Role, phase: Phase) -> Call {
        Call {
            id,
            peer,
            media,
            role,
            phase,
            camera: media == Media::Video,
            offer: None,
            peer_connection: false,
            media_started: false,
            tone: false,
            ring_until: None,
            accepted_at: None,
            known: false,
            rejoin: false,
            gone_since: None,
            candidates: Vec::new(),
            candidates_sent: 0,
            negotiation: Negotiation::new(),
            restart_at: None,
            media_up: false,
        }
    }

    fn view(&self) -> CallView {
        let (call, peer, media, camera) =
            (self.id.clone(), self.peer.clone(), self.media, self.camera);
        let since = self.accepted_at.unwrap_or_default();
        match self.phase {
            Phase::Preparing => CallView::Outgoing {
                call,
                peer,
                media,
                ringing: false,
            },
            Phase::Calling { ringing } => CallView::Outgoing {
                call,
                peer,
                media,
                ringing,
            },
            Phase::Ringing => CallView::Incoming { call, peer, media },
            Phase::Answering { .. } | Phase::Connecting => CallView::Connecting {
                call,
                peer,
                media,
                camera,
            },
            Phase::Connected => CallView::Connected {
                call,
                peer,
                media,
                camera,
                since,
            },
            Phase::Reconnecting { .. } => CallView::Reconnecting {
                call,
                peer,
                media,
                camera,
                since,
            },
        }
    }

    /// Needs a peer connection it does not have yet.
    fn wants_peer_connection(&self) -> bool {
        !self.peer_connection
            && matches!(
                self.phase,
                Phase::Preparing | Phase::Answering { sent: false }
            )
    }

    /// Our candidates may go to the server now (the caller's early ones are
    /// kept there; the callee is a party only once its accept is answered).
    fn may_send_candidates(&self) -> bool {
        match self.role {
            Role::Caller => self.phase != Phase::Preparing,
            Role::Callee => self.accepted_at.is_some(),
        }
    }

    /// The request that leaves the call from its phase, and the reason.
    fn leaving(&self) -> (Option<CallRequest>, EndReason) {
        let id = self.id.clone();
        match self.phase {
            Phase::Preparing => (None, EndReason::Cancelled),
            Phase::Calling { .. } => (Some(CallRequest::Cancel(id)), EndReason::Cancelled),
            Phase::Ringing | Phase::Answering { sent: false } => {
                (Some(CallRequest::Decline(id)), EndReason::Declined)
            }
            Phase::Answering { sent: true }
            | Phase::Connecting
            | Phase::Connected
            | Phase::Reconnecting { .. } => (Some(CallRequest::Hangup(id)), EndReason::Hangup),
        }
    }
}

/// Half of a glare (both called each other at once), waiting for the other half.
#[derive(Debug)]
pub(super) enum Glare {
    /// An invitation from the peer we are calling, held until our invite
    /// ends `glare`.
    Held {
        invitation: Box<CallInvitation>,
        until: i64,
    },
    /// Our invite ended `glare`: the peer's invitation is on its way.
    Waiting {
        call: CallId,
        peer: UserId,
        media: Media,
        until: i64,
    },
}

impl CallMachine {
    // ------------------------------------------------------------ the user

    pub(super) fn start_call(
        &mut self,
        to: UserId,
        media: Media,
        now: i64,
    ) -> Result<CallId, CallError> {
        if self.call.is_some() || self.glare.is_some() {
            return Err(CallError::InCall);
        }
        let id = CallId::generated(self.rng.next_u64(), self.rng.next_u64());
        self.ended = None;
        let mut call = Call::new(id.clone(), to, media, Role::Caller, Phase::Preparing);
        // Counted from the user's press: preparing the offer is part of the wait.
        call.ring_until = Some(now + RING_TIMEOUT_MS);
        let camera = call.camera;
        self.call = Some(call);
        self.start_media(camera);
        self.ensure_peer_connection(now);
        Ok(id)
    }

    pub(super) fn accept_ringing(&mut self, now: i64) -> Result<(), CallError> {
        let call = self.call.as_mut().ok_or(CallError::NotRinging)?;
        if call.phase != Phase::Ringing {
            return Err(CallError::NotRinging);
        }
        call.phase = Phase::Answering { sent: false };
        let camera = call.camera;
        self.stop_tone();
        self.start_media(camera);
        self.ensure_peer_connection(now);
        Ok(())
    }

    pub(super) fn decline_ringing(&mut self, now: i64) -> Result<(), CallError> {
        match &self.call {
            Some(call) if call.phase == Phase::Ringing => {
                let request = CallRequest::Decline(call.id.clone());
                self.finish(
                    EndCause::Ended(EndReason::Declined),
                    Some(request),
                    None,
                    now,
                );
                Ok(())
            }
            _ => Err(CallError::NotRinging),
        }
    }

    pub(super) fn leave(&mut self, now: i64) {
        if let Some(Glare::Waiting {
            call, peer, media, ..
        }) = self.glare.take()
        {
            // Nothing is on the server for us: only the media to let go.
            self.act(CallAction::Rtc(RtcCommand::StopMedia));
            let cause = EndCause::Ended(EndReason::Cancelled);
            self.show_ended(call, peer, media, cause, None, now);
            return;
        }
        let Some(call) = &self.call else { return };
        let (request, reason) = call.leaving();
        self.finish(EndCause::Ended(reason), request, None, now);
    }

    pub(super) fn camera(&mut self, on: bool, now: i64) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if call.camera == on {
            return;
        }
        call.camera = on;
        if call.phase == Phase::Ringing {
            // Not answered yet: the answer will carry the choice.
            return;
        }
        let accepted = call.accepted_at.is_some();
        let next = call.negotiation.want(false, accepted);
        self.act(CallAction::Rtc(RtcCommand::SetCamera(on)));
        self.negotiate(next, now);
    }

    // ------------------------------------------------------------ pushes

    pub(super) fn invited(&mut self, invitation: CallInvitation, now: i64) {
        let id = invitation.call.clone();
        let held_same =
            matches!(&self.glare, Some(Glare::Held { invitation: held, .. }) if held.call == id);
        if self.finished.contains(&id)
            || self.call.as_ref().is_some_and(|c| c.id == id)
            || held_same
        {
            return;
        }
        if let Some(Glare::Waiting { peer, .. }) = &self.glare
            && *peer == invitation.from
        {
            self.glare = None;
            self.accept_glare(invitation, now);
            return;
        }
        let calling_them = self.call.as_ref().filter(|c| {
            c.role == Role::Caller
                && c.peer == invitation.from
                && matches!(c.phase, Phase::Preparing | Phase::Calling { .. })
        });
        match calling_them.map(|c| c.phase) {
            Some(Phase::Preparing) => {
                // Our invite has not gone out: the server knows only theirs.
                self.accept_glare(invitation, now);
                return;
            }
            Some(_) if self.glare.is_none() => {
                self.glare = Some(Glare::Held {
                    invitation: Box::new(invitation),
                    until: now + GLARE_WAIT_MS,
                });
                return;
            }
            _ => {}
        }
        if self.call.is_some() || self.glare.is_some() {
            self.send(CallRequest::Busy(id), now);
            return;
        }
        self.ended = None;
        let mut call = Call::new(
            id.clone(),
            invitation.from,
            invitation.media,
            Role::Callee,
            Phase::Ringing,
        );
        call.offer = Some(invitation.sdp);
        call.ring_until = Some(now + SERVER_RING_TIMEOUT_MS);
        call.tone = true;
        self.call = Some(call);
        self.act(CallAction::PlayTone(Tone::Ringtone));
        self.send(CallRequest::Ringing(id), now);
    }

    pub(super) fn ended_push(&mut self, ended: CallEnded, now: i64) {
        if let Some(Glare::Held { invitation, .. }) = &self.glare
            && invitation.call == ended.call
        {
            self.glare = None;
            return;
        }
        let not_ours = self.call.as_ref().is_none_or(|c| {
            c.id != ended.call || !matches!(c.phase, Phase::Ringing | Phase::Answering { .. })
        });
        if not_ours {
            return;
        }
        self.finish(EndCause::Ended(ended.reason), None, None, now);
    }

    // ------------------------------------------------------------ 24888

    pub(super) fn link_opened(&mut self, now: i64) {
        let mut first = None;
        if let Some(call) = self.call.as_mut() {
            if call.rejoin {
                call.rejoin = false;
                first = Some(CallRequest::Rejoin(call.id.clone()));
            } else {
                call.gone_since = None;
            }
        }
        for request in self.link.opened(first, now) {
            self.act(CallAction::Send(frame_of(&request)));
        }
    }

    pub(super) fn link_lost(&mut self, now: i64) {
        let Some(lost) = self.link.lost(now, &mut self.rng) else {
            return;
        };
        if let Some(call) = self.call.as_mut()
            && call.phase != Phase::Ringing
        {
            call.rejoin = call.known;
            call.gone_since.get_or_insert(now);
        }
        if lost.contains(&CallRequest::IceServers) {
            self.ensure_peer_connection(now);
        }
    }

    pub(super) fn frame(&mut self, text: &str, now: i64) {
        // A frame we cannot read is dropped: its request times out.
        let Ok(frame) = Frame::decode(text) else {
            return;
        };
        let is_signal = frame
            .field_names()
            .is_ok_and(|names| names.iter().any(|n| n == "signal"));
        if is_signal {
            if let Ok(CallSignal { signal }) = frame.packet::<CallSignal>() {
                self.signal(signal, now);
            }
            return;
        }
        if let Some(request) = self.link.answered() {
            self.reply(request, &frame, now);
        }
    }

    fn reply(&mut self, request: CallRequest, frame: &Frame, now: i64) {
        if request == CallRequest::IceServers {
            // A deployment that cannot give ICE servers still has host
            // candidates (§12: an empty list is normal on a LAN).
            let servers = frame
                .packet::<IceServersReply>()
                .map(|r| r.ice_servers)
                .unwrap_or_default();
            self.ice = Some((servers, now));
            self.ensure_peer_connection(now);
            return;
        }
        let refusal = refusal_of(frame);
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if request.call() != Some(&call.id) {
            return;
        }
        match (request, refusal) {
            (CallRequest::Accept { .. }, None) => self.accepted(None, now),
            (CallRequest::Rejoin(_), None) => call.gone_since = None,
            (CallRequest::Rejoin(_), Some(_)) => {
                self.finish(EndCause::Ended(EndReason::Lost), None, None, now)
            }
            (CallRequest::Offer { .. }, Some(_)) => {
                // Refused (over the limit): the media stays as it is.
                call.negotiation.answered();
                let next = call.negotiation.next();
                self.negotiate(next, now);
            }
            (
                CallRequest::Invite { .. } | CallRequest::Accept { .. } | CallRequest::Ringing(_),
                Some(refusal),
            ) => self.finish(EndCause::of_refusal(refusal), None, None, now),
            _ => {}
        }
    }

    fn signal(&mut self, signal: Signal, now: i64) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if signal.call != call.id {
            return;
        }
        match signal.event {
            SignalEvent::Ringing => {
                if let Phase::Calling { ringing: false } = call.phase {
                    call.phase = Phase::Calling { ringing: true };
                    call.tone = true;
                    self.act(CallAction::PlayTone(Tone::Ringback));
                }
            }
            SignalEvent::Accepted { sdp } => {
                if let Phase::Calling { .. } = call.phase {
                    self.accepted(Some(sdp), now);
                }
            }
            SignalEvent::Candidate(candidate) => {
                if call.peer_connection {
                    self.act(CallAction::Rtc(RtcCommand::AddCandidate(candidate)));
                }
            }
            SignalEvent::Offer { sdp } => {
                if call.accepted_at.is_some() && call.negotiation.offered(call.role == Role::Callee)
                {
                    self.act(CallAction::Rtc(RtcCommand::CreateAnswer { offer: sdp }));
                }
            }
            SignalEvent::Answer { sdp } => {
                if call.negotiation.answered() {
                    let next = call.negotiation.next();
                    self.act(CallAction::Rtc(RtcCommand::ApplyAnswer { answer: sdp }));
                    self.negotiate(next, now);
                }
            }
            SignalEvent::Ended {
                reason: EndReason::Glare,
                ..
            } if call.role == Role::Caller && call.accepted_at.is_none() => self.glared(now),
            SignalEvent::Ended { reason, duration } => {
                self.finish(EndCause::Ended(reason), None, duration, now)
            }
        }
    }

    // ------------------------------------------------------------ WebRTC

    pub(super) fn rtc_report(&mut self, report: RtcReport, now: i64) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        match report {
            RtcReport::OfferCreated { sdp } => {
                if call.phase == Phase::Preparing {
                    let invite = CallRequest::Invite {
                        call: call.id.clone(),
                        to: call.peer.clone(),
                        media: call.media,
                        sdp,
                    };
                    call.phase = Phase::Calling { ringing: false };
                    call.known = true;
                    self.send(invite, now);
                    self.send_candidates(now);
                } else if call.negotiation.offer_created() {
                    let offer = CallRequest::Offer {
                        call: call.id.clone(),
                        sdp,
                    };
                    self.send(offer, now);
                }
            }
            RtcReport::AnswerCreated { sdp } => {
                if call.phase == (Phase::Answering { sent: false }) {
                    call.phase = Phase::Answering { sent: true };
                    call.known = true;
                    let accept = CallRequest::Accept {
                        call: call.id.clone(),
                        sdp,
                    };
                    self.send(accept, now);
                } else if call.negotiation.answer_created() {
                    let answer = CallRequest::Answer {
                        call: call.id.clone(),
                        sdp,
                    };
                    let next = call.negotiation.next();
                    self.send(answer, now);
                    self.negotiate(next, now);
                }
            }
            RtcReport::LocalCandidate(candidate) => {
                call.candidates.push(candidate);
                self.send_candidates(now);
            }
            RtcReport::Connected => {
                call.media_up = true;
                if matches!(call.phase, Phase::Connecting | Phase::Reconnecting { .. }) {
                    call.phase = Phase::Connected;
                    call.restart_at = None;
                }
            }
            RtcReport::Disconnected | RtcReport::Failed => {
                call.media_up = false;
                if call.accepted_at.is_none() {
                    return;
                }
                if let Phase::Connected | Phase::Connecting = call.phase {
                    call.phase = Phase::Reconnecting { since: now };
                }
                // Only the caller restarts, so the two sides never offer a
                // restart at once.
                if call.role == Role::Caller {
                    let at = if report == RtcReport::Failed {
                        now
                    } else {
                        now + ICE_DISCONNECTED_GRACE_MS
                    };
                    call.restart_at = Some(call.restart_at.map_or(at, |t| t.min(at)));
                }
            }
            RtcReport::Error(text) => {
                let (request, _) = call.leaving();
                self.finish(EndCause::MediaFailed(text), request, None, now);
            }
        }
    }

    // ------------------------------------------------------------ the clock

    pub(super) fn timers(&self) -> TimerTable {
        let mut table = TimerTable::default();
        table.add(Timer::RequestTimeout, self.link.request_deadline());
        if self.link_needed() {
            table.add(Timer::LinkRetry, self.link.retry_at());
        }
        if let Some(call) = &self.call {
            table.add(Timer::Rejoin, call.gone_since.map(|t| t + REJOIN_GRACE_MS));
            table.add(
                Timer::Ring,
                call.ring_until.filter(|_| call.accepted_at.is_none()),
            );
            table.add(Timer::IceRestart, call.restart_at);
            if let Phase::Reconnecting { since } = call.phase {
                table.add(Timer::MediaLost, Some(since + REJOIN_GRACE_MS));
            }
        }
        table.add(
            Timer::Glare,
            self.glare.as_ref().map(|g| match g {
                Glare::Held { until, .. } | Glare::Waiting { until, .. } => *until,
            }),
        );
        table.add(
            Timer::EndedShown,
            self.ended.as_ref().map(|(_, until)| *until),
        );
        table
    }

    pub(super) fn on_timeout(&mut self, timer: Timer, now: i64) {
        match timer {
            Timer::RequestTimeout => {
                self.act(CallAction::Close);
                self.link_lost(now);
            }
            // `drive` opens it when it is needed and due.
            Timer::LinkRetry => {}
            Timer::Rejoin => {
                let Some(call) = &self.call else { return };
                let cause = if call.known {
                    EndCause::Ended(EndReason::Lost)
                } else {
                    EndCause::Unreachable
                };
                self.finish(cause, None, None, now);
            }
            Timer::Ring => {
                let Some(call) = &self.call else { return };
                let request = match call.role {
                    Role::Caller => Some(CallRequest::Cancel(call.id.clone())),
                    // The server ends it at its own timeout; nothing to say.
                    Role::Callee => None,
                };
                self.finish(EndCause::Ended(EndReason::Timeout), request, None, now);
            }
            Timer::Glare => match self.glare.take() {
                Some(Glare::Held { invitation, .. }) => {
                    // Our invite was not ended after all: we are busy.
                    self.send(CallRequest::Busy(invitation.call), now);
                }
                Some(Glare::Waiting {
                    call, peer, media, ..
                }) => {
                    self.act(CallAction::Rtc(RtcCommand::StopMedia));
                    self.show_ended(
                        call,
                        peer,
                        media,
                        EndCause::Ended(EndReason::Glare),
                        None,
                        now,
                    );
                }
                None => {}
            },
            Timer::IceRestart => {
                let Some(call) = self.call.as_mut() else {
                    return;
                };
                call.restart_at = Some(now + ICE_RESTART_RETRY_MS);
                let next = call.negotiation.want(true, true);
                self.negotiate(next, now);
            }
            Timer::MediaLost => {
                let Some(call) = &self.call else { return };
                let request = CallRequest::Hangup(call.id.clone());
                self.finish(EndCause::Ended(EndReason::Lost), Some(request), None, now);
            }
            Timer::EndedShown => self.ended = None,
        }
    }

    /// After every input: the socket opened or closed as needed, the screen told.
    pub(super) fn drive(&mut self, now: i64) {
        if self.link_needed() {
            if self.link.open_if_due(now) == Step::Open {
                self.act(CallAction::Open);
            }
        } else if self.link.close_if_unused(now) {
            self.act(CallAction::Close);
        }
        let view = self.current_view();
        if view != self.shown {
            self.shown = view.clone();
            self.act(CallAction::Show(view));
        }
    }

    pub(super) fn current_view(&self) -> CallView {
        if let Some(call) = &self.call {
            return call.view();
        }
        if let Some(Glare::Waiting {
            call, peer, media, ..
        }) = &self.glare
        {
            return CallView::Outgoing {
                call: call.clone(),
                peer: peer.clone(),
                media: *media,
                ringing: false,
            };
        }
        match &self.ended {
            Some((view, _)) => view.clone(),
            None => CallView::Idle,
        }
    }

    // ------------------------------------------------------------ helpers

    fn link_needed(&self) -> bool {
        // A device that rings keeps the socket too: it is likely to accept.
        self.call.is_some() || self.glare.is_some() || self.link.has_queued()
    }

    fn act(&mut self, action: CallAction) {
        self.actions.push_back(action);
    }

    fn send(&mut self, request: CallRequest, now: i64) {
        match self.link.issue(request, now) {
            Step::Send(request) => self.act(CallAction::Send(frame_of(&request))),
            Step::Open => self.act(CallAction::Open),
            Step::Wait => {}
        }
    }

    fn start_media(&mut self, camera: bool) {
        if let Some(call) = self.call.as_mut() {
            call.media_started = true;
        }
        self.act(CallAction::Rtc(RtcCommand::StartMedia { camera }));
    }

    fn stop_tone(&mut self) {
        if let Some(call) = self.call.as_mut()
            && call.tone
        {
            call.tone = false;
            self.act(CallAction::StopTone);
        }
    }

    /// Creates the peer connection once the ICE servers are known, asking
    /// for them if they are not.
    fn ensure_peer_connection(&mut self, now: i64) {
        let Some(call) = &self.call else { return };
        if !call.wants_peer_connection() {
            return;
        }
        let fresh = self
            .ice
            .as_ref()
            .filter(|(_, at)| now - at < ICE_SERVERS_FRESH_MS)
            .map(|(servers, _)| servers.clone());
        let Some(ice_servers) = fresh else {
            if !self.link.asked(|r| *r == CallRequest::IceServers) {
                self.send(CallRequest::IceServers, now);
            }
            return;
        };
        let Some(call) = self.call.as_mut() else {
            return;
        };
        call.peer_connection = true;
        let next = match (call.role, call.offer.clone()) {
            (Role::Callee, Some(offer)) => RtcCommand::CreateAnswer { offer },
            _ => RtcCommand::CreateOffer { ice_restart: false },
        };
        self.act(CallAction::Rtc(RtcCommand::CreatePeerConnection {
            ice_servers,
        }));
        self.act(CallAction::Rtc(next));
    }

    /// Sends the candidates held, if they may go.
    fn send_candidates(&mut self, now: i64) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if !call.may_send_candidates() {
            return;
        }
        let id = call.id.clone();
        let room = MAX_CANDIDATES_PER_CALL.saturating_sub(call.candidates_sent);
        let held = std::mem::take(&mut call.candidates);
        // Beyond the server's limit a candidate would be refused: the ones
        // sent already must do.
        let going: Vec<IceCandidate> = held.into_iter().take(room).collect();
        call.candidates_sent += going.len();
        for candidate in going {
            self.send(
                CallRequest::Candidate {
                    call: id.clone(),
                    candidate,
                },
                now,
            );
        }
    }

    /// The call was accepted: by the callee (`answer` from the `accepted`
    /// signal, for the caller) or here (our `accept` answered).
    fn accepted(&mut self, answer: Option<String>, now: i64) {
        self.stop_tone();
        let Some(call) = self.call.as_mut() else {
            return;
        };
        // The media may have connected before the accept's reply came.
        call.phase = if call.media_up {
            Phase::Connected
        } else {
            Phase::Connecting
        };
        call.accepted_at = Some(now);
        call.ring_until = None;
        if let Some(answer) = answer {
            self.act(CallAction::Rtc(RtcCommand::ApplyAnswer { answer }));
        }
        self.send_candidates(now);
        if let Some(call) = self.call.as_mut() {
            let next = call.negotiation.next();
            self.negotiate(next, now);
        }
    }

    fn negotiate(&mut self, next: Next, _now: i64) {
        if let Next::CreateOffer { ice_restart } = next {
            self.act(CallAction::Rtc(RtcCommand::CreateOffer { ice_restart }));
        }
    }

    /// Our invite ended `glare`: accept the peer's invitation, now or when it comes.
    fn glared(&mut self, now: i64) {
        let Some(call) = self.call.take() else { return };
        if call.tone {
            self.act(CallAction::StopTone);
        }
        if call.peer_connection {
            self.act(CallAction::Rtc(RtcCommand::ClosePeerConnection));
        }
        self.remember(call.id.clone());
        match self.glare.take() {
            Some(Glare::Held { invitation, .. }) if invitation.from == call.peer => {
                self.accept_glare(*invitation, now)
            }
            _ => {
                self.glare = Some(Glare::Waiting {
                    call: call.id,
                    peer: call.peer,
                    media: call.media,
                    until: now + GLARE_WAIT_MS,
                })
            }
        }
    }

    /// Both called each other: take the peer's invitation instead of ours,
    /// without ringing (the user already chose to talk to them).
    fn accept_glare(&mut self, invitation: CallInvitation, now: i64) {
        if let Some(ours) = self.call.take() {
            if ours.peer_connection {
                self.act(CallAction::Rtc(RtcCommand::ClosePeerConnection));
            }
            self.remember(ours.id);
        }
        self.ended = None;
        let mut call = Call::new(
            invitation.call,
            invitation.from,
            invitation.media,
            Role::Callee,
            Phase::Answering { sent: false },
        );
        call.offer = Some(invitation.sdp);
        let camera = call.camera;
        self.call = Some(call);
        self.start_media(camera);
        self.ensure_peer_connection(now);
    }

    /// Ends the current call: `request` tells the server (if anything
    /// must), the media is closed, the ended screen shows.
    fn finish(
        &mut self,
        cause: EndCause,
        request: Option<CallRequest>,
        duration: Option<u32>,
        now: i64,
    ) {
        let Some(call) = self.call.take() else { return };
        if let Some(request) = request {
            self.send(request, now);
        }
        if call.tone {
            self.act(CallAction::StopTone);
        }
        if call.peer_connection {
            self.act(CallAction::Rtc(RtcCommand::ClosePeerConnection));
        }
        if call.media_started {
            self.act(CallAction::Rtc(RtcCommand::StopMedia));
        }
        let duration = call.accepted_at.map(|at| {
            duration.unwrap_or_else(|| u32::try_from((now - at).max(0) / 1000).unwrap_or(u32::MAX))
        });
        self.remember(call.id.clone());
        self.show_ended(call.id, call.peer, call.media, cause, duration, now);
        // An invitation held for a glare that did not come rings now.
        if let Some(Glare::Held { invitation, .. }) = self.glare.take() {
            self.invited(*invitation, now);
        }
    }

    fn show_ended(
        &mut self,
        call: CallId,
        peer: UserId,
        media: Media,
        cause: EndCause,
        duration: Option<u32>,
        now: i64,
    ) {
        let view = CallView::Ended {
            call,
            peer,
            media,
            cause,
            duration,
        };
        self.ended = Some((view, now + ENDED_SHOWN_MS));
    }

    fn remember(&mut self, id: CallId) {
        if self.finished.len() == FINISHED_KEPT {
            self.finished.pop_front();
        }
        self.finished.push_back(id);
    }
}

/// The frame of a request.
fn frame_of(request: &CallRequest) -> String {
    Frame::encode(Encoding::Base64, request).expect("base64 frames carry any payload")
}

/// The refusal a reply carries, if it is one.
fn refusal_of(frame: &Frame) -> Option<ErrorReply> {
    frame
        .packet::<ErrorReply>()
        .ok()
        .filter(|r| r.state != State::SUCCESS)
}
