//! Joining (and joining again), leaving, ending, and the helpers every
//! transition shares: sending, the peer connection, the teardown.

use super::current::{Current, Phase};
use super::signalling::frame_of;
use super::{
    ENDED_SHOWN_MS, MeetingAction, MeetingError, MeetingLeft, MeetingMachine, MeetingRtcCommand,
    MeetingView,
};
use crate::envelope::Frame;
use crate::ids::{GroupId, MeetingId};
use crate::packets::call::CallRequest;
use crate::packets::meeting::{
    MeetingEndReason, MeetingJoinReply, MeetingRequest, MeetingStartReply, SignallingRequest,
};
use crate::reply::{ErrorReply, State};
use crate::signalling::link::Step;
use crate::signalling::refusal_of;

/// Whether `request` is a `meeting_join`.
pub(super) fn is_join(request: &SignallingRequest) -> bool {
    matches!(
        request,
        SignallingRequest::Meeting(MeetingRequest::Join { .. })
    )
}

impl MeetingMachine {
    // ------------------------------------------------------------ the user

    pub(super) fn begin(
        &mut self,
        gid: GroupId,
        meeting: Option<MeetingId>,
        camera: bool,
        now: i64,
    ) -> Result<(), MeetingError> {
        if self.current.is_some() {
            return Err(MeetingError::InMeeting);
        }
        self.ended = None;
        if meeting.is_none() {
            self.send_meeting(MeetingRequest::Start(gid), now);
        }
        let mut current = Current::new(gid, meeting, camera);
        current.media_started = true;
        self.current = Some(current);
        self.act(MeetingAction::Rtc(MeetingRtcCommand::StartMedia { camera }));
        self.prepare(now);
        Ok(())
    }

    pub(super) fn leave_meeting(&mut self, now: i64) {
        let request = self.leave_request();
        self.finish(MeetingLeft::Left, request, now);
    }

    /// The `meeting_leave` that takes us out, if the server may hold us on
    /// this socket: a join was answered on it, or will be (the leave then
    /// follows that answer, one request at a time). A join still waiting
    /// for the socket is dropped unsent instead.
    pub(super) fn leave_request(&self) -> Option<MeetingRequest> {
        let current = self.current.as_ref()?;
        let known = current.carried || self.link.awaiting(is_join);
        current
            .meeting
            .clone()
            .filter(|_| known)
            .map(MeetingRequest::Leave)
    }

    pub(super) fn end_meeting(&mut self, now: i64) {
        let Some(current) = self.current.as_mut() else {
            return;
        };
        let Some(meeting) = current.meeting.clone() else {
            return;
        };
        current.end_refused = false;
        let end =
            |r: &SignallingRequest| matches!(r, SignallingRequest::Meeting(MeetingRequest::End(_)));
        if !self.link.asked(end) {
            self.send_meeting(MeetingRequest::End(meeting), now);
        }
    }

    // ------------------------------------------------------------ the join

    /// Creates the peer connection and its offer once the local media and
    /// the ICE servers are there, asking for the servers if they are not.
    pub(super) fn prepare(&mut self, now: i64) {
        let Some(current) = &self.current else { return };
        if current.phase != Phase::Preparing {
            return;
        }
        let Some(ice) = self.ice.fresh(now) else {
            let ice_servers =
                |r: &SignallingRequest| *r == SignallingRequest::Call(CallRequest::IceServers);
            if !self.link.asked(ice_servers) {
                self.send(SignallingRequest::Call(CallRequest::IceServers), now);
            }
            return;
        };
        let Some(current) = self.current.as_mut() else {
            return;
        };
        if !current.media_ready {
            return;
        }
        current.phase = Phase::Offering;
        current.peer_connection = true;
        current.answering = 0;
        self.act(MeetingAction::Rtc(
            MeetingRtcCommand::CreatePeerConnection {
                ice_servers: ice.servers,
                relay_only: ice.relay_only,
            },
        ));
        self.act(MeetingAction::Rtc(MeetingRtcCommand::CreateOffer));
    }

    /// The offer is made: it joins once the meeting is known.
    pub(super) fn offer_created(&mut self, sdp: String, now: i64) {
        let Some(current) = self.current.as_mut() else {
            return;
        };
        if current.phase != Phase::Offering {
            return;
        }
        current.phase = Phase::Offered(sdp);
        self.join_with_offer(now);
    }

    fn join_with_offer(&mut self, now: i64) {
        let Some(current) = self.current.as_mut() else {
            return;
        };
        let (Phase::Offered(sdp), Some(meeting)) = (&current.phase, &current.meeting) else {
            return;
        };
        let join = MeetingRequest::Join {
            meeting: meeting.clone(),
            sdp: sdp.clone(),
            mic: current.mic,
            camera: current.camera,
        };
        current.told = Some((current.mic, current.camera));
        current.phase = Phase::Joining(sdp.clone());
        self.send_meeting(join, now);
    }

    /// Joins again with a new peer connection and offer: the server
    /// replaces the participation (§13 "Lost and back").
    pub(super) fn rejoin(&mut self, now: i64) {
        let Some(current) = self.current.as_mut() else {
            return;
        };
        let had = current.peer_connection;
        current.phase = Phase::Preparing;
        current.peer_connection = false;
        current.media_up = false;
        current.disconnected_until = None;
        current.answering = 0;
        if had {
            self.act(MeetingAction::Rtc(MeetingRtcCommand::ClosePeerConnection));
        }
        self.prepare(now);
    }

    pub(super) fn start_replied(&mut self, gid: GroupId, frame: &Frame, now: i64) {
        let Some(current) = self.current.as_mut() else {
            return;
        };
        if current.gid != gid || current.meeting.is_some() {
            return;
        }
        match frame.packet::<MeetingStartReply>() {
            Ok(reply) if reply.state == State::SUCCESS => {
                current.meeting = Some(reply.meeting);
                self.join_with_offer(now);
            }
            _ => {
                let why = MeetingLeft::of_refusal(refusal_or_unreadable(frame));
                self.finish(why, None, now);
            }
        }
    }

    pub(super) fn join_replied(
        &mut self,
        meeting: MeetingId,
        offer: String,
        frame: &Frame,
        now: i64,
    ) {
        let Some(current) = self.current.as_mut() else {
            return;
        };
        // The join of a peer connection replaced meanwhile, or of a meeting
        // left before: the join on its way replaces what it did.
        if current.meeting.as_ref() != Some(&meeting) || current.phase != Phase::Joining(offer) {
            return;
        }
        let reply = match frame.packet::<MeetingJoinReply>() {
            Ok(reply) if reply.state == State::SUCCESS => reply,
            _ => {
                let why = MeetingLeft::of_refusal(refusal_or_unreadable(frame));
                self.finish(why, None, now);
                return;
            }
        };
        current.phase = Phase::Joined;
        current.carried = true;
        current.joined_once = true;
        current.participants = reply.participants;
        if !current.media_up {
            current.down_since.get_or_insert(now);
        }
        self.act(MeetingAction::Rtc(MeetingRtcCommand::ApplyAnswer {
            answer: reply.sdp,
        }));
        self.tell_media(now);
    }

    pub(super) fn end_replied(&mut self, meeting: MeetingId, frame: &Frame, now: i64) {
        let Some(current) = self.current.as_mut() else {
            return;
        };
        if current.meeting.as_ref() != Some(&meeting) {
            return;
        }
        if refusal_of(frame).is_some() {
            current.end_refused = true;
        } else {
            // The ender's socket has this reply instead of `ended`.
            self.finish(MeetingLeft::Ended(MeetingEndReason::Ended), None, now);
        }
    }

    // ------------------------------------------------------------ helpers

    pub(super) fn act(&mut self, action: MeetingAction) {
        self.actions.push_back(action);
    }

    pub(super) fn send(&mut self, request: SignallingRequest, now: i64) {
        match self.link.issue(request, now) {
            Step::Send(request) => self.act(MeetingAction::Send(frame_of(&request))),
            Step::Open => self.act(MeetingAction::Open),
            Step::Wait => {}
        }
    }

    pub(super) fn send_meeting(&mut self, request: MeetingRequest, now: i64) {
        self.send(SignallingRequest::Meeting(request), now);
    }

    /// Tells the server our microphone and camera if it has not heard them.
    pub(super) fn tell_media(&mut self, now: i64) {
        let Some(current) = self.current.as_mut() else {
            return;
        };
        let (Some((mic, camera)), Some(meeting)) = (current.untold(), current.meeting.clone())
        else {
            return;
        };
        current.told = Some((mic, camera));
        self.send_meeting(
            MeetingRequest::Media {
                meeting,
                mic,
                camera,
            },
            now,
        );
    }

    /// Ends the meeting for this session: `request` tells the server (if
    /// anything must), the media is let go, the ended screen shows. The
    /// socket closes once nothing more waits for it.
    pub(super) fn finish(&mut self, why: MeetingLeft, request: Option<MeetingRequest>, now: i64) {
        let Some(current) = self.current.take() else {
            return;
        };
        // What waits for its turn was about the meeting: moot now.
        self.link.retain_queued(|_| false);
        if let Some(request) = request {
            self.send_meeting(request, now);
        }
        if current.peer_connection {
            self.act(MeetingAction::Rtc(MeetingRtcCommand::ClosePeerConnection));
        }
        if current.media_started {
            self.act(MeetingAction::Rtc(MeetingRtcCommand::StopMedia));
        }
        let view = MeetingView::Ended {
            gid: current.gid,
            why,
        };
        self.ended = Some((view, now + ENDED_SHOWN_MS));
    }
}

/// The refusal a reply carries, or a refusal saying the reply could not be
/// read (a server that answers nonsense refused all the same).
fn refusal_or_unreadable(frame: &Frame) -> ErrorReply {
    refusal_of(frame).unwrap_or_else(|| {
        ErrorReply::new(
            State::BAD_PACKET,
            "the server's reply could not be read; expected the meeting reply of §13",
        )
    })
}
