//! Glare: both parties call each other at once. The server ends the later
//! invite `glare`; the machine then accepts the other party's invitation,
//! whichever of the two (the end, the invitation) arrives first.

use super::current::{Call, Phase, Role};
use super::{CallAction, CallMachine, GLARE_WAIT_MS, RtcCommand};
use crate::ids::{CallId, UserId};
use crate::packets::call::{CallInvitation, Media};

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
    /// Our invite ended `glare`: accept the peer's invitation, now or when it comes.
    pub(super) fn glared(&mut self, now: i64) {
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
    pub(super) fn accept_glare(&mut self, invitation: CallInvitation, now: i64) {
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
}
