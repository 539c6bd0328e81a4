//! The 24888 socket's traffic: opening, losing it, the replies (one per
//! request, in order) and the signals relayed from the other party.

use super::current::{Phase, Role};
use super::{CallAction, CallMachine, EndCause, RtcCommand, Tone};
use crate::envelope::Frame;
use crate::packets::call::{CallRequest, CallSignal, EndReason, Signal, SignalEvent};
use crate::signalling::{frame_of, is_signal, refusal_of};

impl CallMachine {
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
            // What the other party may not have had goes again after the
            // rejoin: a second copy of a candidate is harmless, a second
            // offer is answered again (and the extra answer ignored), while
            // a lost one would leave the renegotiation waiting for ever.
            let again = lost
                .iter()
                .filter(|r| {
                    r.call() == Some(&call.id)
                        && matches!(
                            r,
                            CallRequest::Offer { .. }
                                | CallRequest::Answer { .. }
                                | CallRequest::Candidate { .. }
                        )
                })
                .cloned()
                .collect();
            self.link.requeue(again);
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
        if is_signal(&frame) {
            if let Ok(CallSignal { signal }) = frame.packet::<CallSignal>() {
                self.signal(signal, now);
            }
            return;
        }
        if let Some(request) = self.link.answered() {
            self.reply(request, &frame, now);
        }
    }

    pub(super) fn reply(&mut self, request: CallRequest, frame: &Frame, now: i64) {
        if request == CallRequest::IceServers {
            self.ice.replied(frame, now);
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
            (CallRequest::Rejoin(_), None) => {
                call.gone_since = None;
                // The server rejoins a callee only to an accepted call: an
                // accept whose reply the old socket lost took effect.
                if call.phase == (Phase::Answering { sent: true }) {
                    self.accepted(None, now);
                }
            }
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

    pub(super) fn signal(&mut self, signal: Signal, now: i64) {
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
}
