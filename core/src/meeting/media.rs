//! The microphone and the camera, and what the WebRTC side reports.

use super::current::Phase;
use super::{
    MEDIA_DISCONNECTED_GRACE_MS, MeetingAction, MeetingError, MeetingLeft, MeetingMachine,
    MeetingRtcCommand, MeetingRtcReport,
};
use crate::packets::meeting::MeetingRequest;

impl MeetingMachine {
    pub(super) fn mic(&mut self, on: bool, now: i64) -> Result<(), MeetingError> {
        let current = self.current.as_mut().ok_or(MeetingError::NotInMeeting)?;
        if current.mic != on {
            current.mic = on;
            self.act(MeetingAction::Rtc(MeetingRtcCommand::SetMic(on)));
            self.tell_media(now);
        }
        Ok(())
    }

    /// The camera is told to the server once the WebRTC side says whether
    /// it could be had ([`MeetingRtcReport::CameraChanged`]).
    pub(super) fn camera(&mut self, on: bool) -> Result<(), MeetingError> {
        if self.current.is_none() {
            return Err(MeetingError::NotInMeeting);
        }
        self.act(MeetingAction::Rtc(MeetingRtcCommand::SetCamera(on)));
        Ok(())
    }

    pub(super) fn rtc_report(&mut self, report: MeetingRtcReport, now: i64) {
        let Some(current) = self.current.as_mut() else {
            return;
        };
        match report {
            MeetingRtcReport::MediaStarted { camera } => {
                current.media_ready = true;
                current.camera = camera;
                // The grace counts from here: the user may have taken a
                // while to allow the microphone.
                if current.down_since.is_some() {
                    current.down_since = Some(now);
                }
                self.prepare(now);
            }
            MeetingRtcReport::CameraChanged(on) => {
                current.camera = on;
                self.tell_media(now);
            }
            MeetingRtcReport::OfferCreated { sdp } => self.offer_created(sdp, now),
            MeetingRtcReport::AnswerCreated { sdp } => {
                let Some(meeting) = current.meeting.clone() else {
                    return;
                };
                if current.phase != Phase::Joined || current.answering == 0 {
                    return;
                }
                current.answering -= 1;
                self.send_meeting(MeetingRequest::Answer { meeting, sdp }, now);
            }
            MeetingRtcReport::Connected => {
                if current.peer_connection {
                    current.media_up = true;
                    current.connected_once = true;
                    current.disconnected_until = None;
                    if current.carried {
                        current.down_since = None;
                    }
                }
            }
            MeetingRtcReport::Disconnected => {
                if current.peer_connection && current.phase == Phase::Joined {
                    current.media_up = false;
                    current.down_since.get_or_insert(now);
                    current
                        .disconnected_until
                        .get_or_insert(now + MEDIA_DISCONNECTED_GRACE_MS);
                }
            }
            MeetingRtcReport::Failed => {
                if current.peer_connection && current.phase == Phase::Joined {
                    current.media_up = false;
                    current.down_since.get_or_insert(now);
                    // With the socket gone, the join waits for it anyway.
                    if current.carried {
                        self.rejoin(now);
                    } else {
                        current.rejoin_on_open = true;
                    }
                }
            }
            MeetingRtcReport::Error(text) => {
                let request = self.leave_request();
                self.finish(MeetingLeft::MediaFailed(text), request, now);
            }
        }
    }
}
