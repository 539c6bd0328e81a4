//! The 24888 socket's traffic: opening, losing it, the replies (one per
//! request, in order) and the server's signals; and the 20888
//! `meeting_ended` push.

use super::current::Phase;
use super::{MeetingAction, MeetingLeft, MeetingMachine, MeetingRtcCommand};
use crate::envelope::Frame;
use crate::packets::call::CallRequest;
use crate::packets::meeting::{
    MeetingEndReason, MeetingEnded, MeetingRequest, MeetingSignal, MeetingSignalBody,
    MeetingSignalEvent, SignallingRequest,
};
use crate::signalling::is_signal;

impl MeetingMachine {
    pub(super) fn link_opened(&mut self, now: i64) {
        for request in self.link.opened(None, now) {
            self.act(MeetingAction::Send(frame_of(&request)));
        }
        let Some(current) = self.current.as_mut() else {
            return;
        };
        // A late `opened` of a socket given up meanwhile changes nothing.
        if current.rejoin_on_open && self.link.is_open() {
            current.rejoin_on_open = false;
            self.rejoin(now);
        }
    }

    pub(super) fn link_lost(&mut self, now: i64) {
        let Some(lost) = self.link.lost(now, &mut self.rng) else {
            return;
        };
        let Some(current) = self.current.as_mut() else {
            // A leave or an end the old socket did not answer cannot go on a
            // new one (it does not carry the participation).
            self.link.retain_queued(|_| false);
            return;
        };
        current.carried = false;
        current.down_since.get_or_insert(now);
        if matches!(current.phase, Phase::Joining(_) | Phase::Joined) {
            current.rejoin_on_open = true;
        }
        // A new socket joins afresh: answers, media and joins of the old
        // participation are moot. A start whose reply was lost goes again;
        // the ICE servers are asked again below if still needed.
        self.link.retain_queued(is_start);
        let start = lost.into_iter().filter(is_start).collect();
        self.link.requeue(start);
        self.prepare(now);
    }

    pub(super) fn frame(&mut self, text: &str, now: i64) {
        // A frame we cannot read is dropped: its request times out.
        let Ok(frame) = Frame::decode(text) else {
            return;
        };
        if is_signal(&frame) {
            if let Ok(MeetingSignal { signal }) = frame.packet::<MeetingSignal>() {
                self.signal(signal, now);
            }
            return;
        }
        let Some(request) = self.link.answered() else {
            return;
        };
        self.reply(request, &frame, now);
        for request in self.link.release(now) {
            self.act(MeetingAction::Send(frame_of(&request)));
        }
    }

    fn reply(&mut self, request: SignallingRequest, frame: &Frame, now: i64) {
        match request {
            SignallingRequest::Call(CallRequest::IceServers) => {
                self.ice.replied(frame, now);
                self.prepare(now);
            }
            SignallingRequest::Meeting(MeetingRequest::Start(gid)) => {
                self.start_replied(gid, frame, now)
            }
            SignallingRequest::Meeting(MeetingRequest::Join { meeting, sdp, .. }) => {
                self.join_replied(meeting, sdp, frame, now)
            }
            SignallingRequest::Meeting(MeetingRequest::End(meeting)) => {
                self.end_replied(meeting, frame, now)
            }
            // An answer or a media change refused (36: no offer waiting, not
            // carried here) changes nothing the client can mend; a leave's
            // reply only lets the socket go.
            _ => {}
        }
    }

    fn signal(&mut self, signal: MeetingSignalBody, now: i64) {
        let Some(current) = self.current.as_mut() else {
            return;
        };
        if current.meeting.as_ref() != Some(&signal.meeting) {
            return;
        }
        match signal.event {
            MeetingSignalEvent::Offer { sdp, participants } => {
                current.participants = participants;
                // An offer for a peer connection being replaced is moot: the
                // new join brings its own.
                if current.phase == Phase::Joined {
                    current.answering += 1;
                    self.act(MeetingAction::Rtc(MeetingRtcCommand::CreateAnswer {
                        offer: sdp,
                    }));
                }
            }
            MeetingSignalEvent::Participants(participants) => {
                current.participants = participants;
            }
            // The participation we are replacing was dropped: our join on
            // its way makes a new one.
            MeetingSignalEvent::Ended(MeetingEndReason::Lost) if current.phase != Phase::Joined => {
            }
            MeetingSignalEvent::Ended(reason) => self.finish(MeetingLeft::Ended(reason), None, now),
        }
    }

    pub(super) fn ended_push(&mut self, ended: MeetingEnded, now: i64) {
        let ours = self
            .current
            .as_ref()
            .is_some_and(|c| c.meeting.as_ref() == Some(&ended.meeting));
        if ours {
            self.finish(MeetingLeft::Ended(ended.reason), None, now);
        }
    }
}

fn is_start(request: &SignallingRequest) -> bool {
    matches!(
        request,
        SignallingRequest::Meeting(MeetingRequest::Start(_))
    )
}

/// The frame of a request.
pub(super) fn frame_of(request: &SignallingRequest) -> String {
    match request {
        SignallingRequest::Call(request) => crate::signalling::frame_of(request),
        SignallingRequest::Meeting(request) => crate::signalling::frame_of(request),
    }
}
