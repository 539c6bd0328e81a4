//! The user's inputs, the pushes and the WebRTC reports, and the helpers
//! every transition shares (sending, the peer connection, the accept, the end).

use super::current::{Call, Phase, Role};
use super::glare::Glare;
use super::negotiation::Next;
use super::{
    CallAction, CallError, CallMachine, CallView, ENDED_SHOWN_MS, EndCause, GLARE_WAIT_MS,
    ICE_DISCONNECTED_GRACE_MS, RtcCommand, RtcReport, Tone,
};
use crate::ids::{CallId, UserId};
use crate::packets::call::{
    CallEnded, CallInvitation, CallRequest, EndReason, IceCandidate, MAX_CANDIDATES_PER_CALL,
    Media, RING_TIMEOUT_MS, SERVER_RING_TIMEOUT_MS,
};
use crate::signalling::frame_of;
use crate::signalling::link::Step;

/// How many ended calls are remembered (re-pushed invitations ignored).
const FINISHED_KEPT: usize = 16;
/// A device ringing stops by itself this long after the server's own ring
/// timeout, if the server's `call_ended` never came.
const SERVER_WORD_MS: i64 = 5_000;

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
        call.ring_until = Some(now + SERVER_RING_TIMEOUT_MS + SERVER_WORD_MS);
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
            c.id != ended.call
                || !matches!(c.phase, Phase::Ringing | Phase::Answering { .. })
                // Our own accept is on its way: it reaches every session of
                // ours, this one too (tabs share a token); the accept's
                // reply decides.
                || (c.phase == Phase::Answering { sent: true }
                    && ended.reason == EndReason::AnsweredElsewhere)
        });
        if not_ours {
            return;
        }
        self.finish(EndCause::Ended(ended.reason), None, None, now);
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

    // ------------------------------------------------------------ helpers

    pub(super) fn link_needed(&self) -> bool {
        // A device that rings keeps the socket too: it is likely to accept.
        self.call.is_some() || self.glare.is_some() || self.link.has_queued()
    }

    pub(super) fn act(&mut self, action: CallAction) {
        self.actions.push_back(action);
    }

    pub(super) fn send(&mut self, request: CallRequest, now: i64) {
        match self.link.issue(request, now) {
            Step::Send(request) => self.act(CallAction::Send(frame_of(&request))),
            Step::Open => self.act(CallAction::Open),
            Step::Wait => {}
        }
    }

    pub(super) fn start_media(&mut self, camera: bool) {
        if let Some(call) = self.call.as_mut() {
            call.media_started = true;
        }
        self.act(CallAction::Rtc(RtcCommand::StartMedia { camera }));
    }

    pub(super) fn stop_tone(&mut self) {
        if let Some(call) = self.call.as_mut()
            && call.tone
        {
            call.tone = false;
            self.act(CallAction::StopTone);
        }
    }

    /// Creates the peer connection once the ICE servers are known, asking
    /// for them if they are not.
    pub(super) fn ensure_peer_connection(&mut self, now: i64) {
        let Some(call) = &self.call else { return };
        if !call.wants_peer_connection() {
            return;
        }
        let Some(ice) = self.ice.fresh(now) else {
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
            ice_servers: ice.servers,
            relay_only: ice.relay_only,
        }));
        self.act(CallAction::Rtc(next));
    }

    /// Sends the candidates held, if they may go.
    pub(super) fn send_candidates(&mut self, now: i64) {
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
    pub(super) fn accepted(&mut self, answer: Option<String>, now: i64) {
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

    pub(super) fn negotiate(&mut self, next: Next, _now: i64) {
        if let Next::CreateOffer { ice_restart } = next {
            self.act(CallAction::Rtc(RtcCommand::CreateOffer { ice_restart }));
        }
    }

    /// Ends the current call: `request` tells the server (if anything
    /// must), the media is closed, the ended screen shows.
    pub(super) fn finish(
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

    pub(super) fn show_ended(
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

    pub(super) fn remember(&mut self, id: CallId) {
        if self.finished.len() == FINISHED_KEPT {
            self.finished.pop_front();
        }
        self.finished.push_back(id);
    }
}
