//! The driver's meeting part: runs the meeting machine beside the call
//! machine, on its own 24888 socket ([`Channel::Meeting`]), carries out its
//! actions (the socket, the WebRTC side), feeds it the stream's
//! `meeting_ended` pushes, keeps the running meetings of the user's groups
//! in the app state, and the meeting screen up to date.

use super::{Driver, now};
use crate::meetings::rtc::{MeetingMedia, MeetingRtcEvent};
use crate::meetings::{MeetingCommand, MeetingScreen, active_speaker};
use crate::net::{Channel, SocketEvent};
use crate::state::Update;
use penpen_core::call::CallView;
use penpen_core::meeting::{MeetingAction, MeetingView};
use penpen_core::packets::meeting::{Meeting, MeetingEnded};

/// How often each participant's figures and audio level are read while
/// the media flows: the speaker follows within this.
pub const MEETING_MEASURE_EVERY_MS: i64 = 1_000;

impl Driver {
    /// Carries out what the meeting machine asked, in order.
    pub(super) fn carry_out_meetings(&mut self) {
        let mut shown = false;
        while let Some(action) = self.meetings.poll_action() {
            match action {
                MeetingAction::Open => self.sockets.open(Channel::Meeting),
                MeetingAction::Close => self.sockets.close(Channel::Meeting),
                MeetingAction::Send(frame) => self.sockets.send(Channel::Meeting, &frame),
                MeetingAction::Rtc(command) => self.meeting_rtc.give(command),
                MeetingAction::Show(_) => shown = true,
            }
        }
        if shown {
            self.show_meeting();
        }
    }

    /// The meeting's 24888 socket opened, brought a frame or closed.
    pub(super) fn meeting_socket_event(&mut self, event: SocketEvent, now: i64) {
        match event {
            SocketEvent::Opened => self.meetings.opened(now),
            SocketEvent::Frame(text) => self.meetings.received(&text, now),
            SocketEvent::Closed => {
                self.sockets.close(Channel::Meeting);
                self.meetings.closed(now);
            }
        }
    }

    /// The stream pushed a group's meeting as it is now.
    pub(super) fn meeting_changed(&mut self, meeting: Meeting) {
        self.update.emit(Update::Meeting(Box::new(meeting)));
    }

    /// The stream pushed that a group's meeting is over (for us, at least).
    pub(super) fn meeting_over(&mut self, ended: MeetingEnded) {
        self.update
            .emit(Update::MeetingOver(ended.gid, ended.meeting.clone()));
        self.meetings.meeting_ended(ended, now());
    }

    /// The user did something about a meeting. One call or meeting at a
    /// time (§13): the buttons are disabled meanwhile, and a click that
    /// raced a change of state does nothing.
    pub(super) fn meeting_command(&mut self, command: MeetingCommand, now: i64) {
        let in_call = self.calls.view() != CallView::Idle;
        let _ = match command {
            MeetingCommand::Start { gid } if !in_call => self.meetings.start(gid, true, now),
            MeetingCommand::Join { gid, meeting } if !in_call => {
                self.meetings.join(gid, meeting, true, now)
            }
            MeetingCommand::Start { .. } | MeetingCommand::Join { .. } => Ok(()),
            MeetingCommand::Leave => {
                self.meetings.leave(now);
                Ok(())
            }
            MeetingCommand::End => {
                self.meetings.end(now);
                Ok(())
            }
            MeetingCommand::SetMic(on) => self.meetings.set_mic(on, now),
            MeetingCommand::SetCamera(on) => self.meetings.set_camera(on, now),
        };
    }

    /// Whether a meeting holds this session (a call must wait).
    pub(super) fn in_meeting(&self) -> bool {
        crate::meetings::holds_session(&self.meetings.view())
    }

    /// The meeting's WebRTC side reported.
    pub(super) fn meeting_rtc_event(&mut self, event: MeetingRtcEvent) {
        match event {
            MeetingRtcEvent::Report { epoch, report } => {
                if self.meeting_rtc.current(epoch) {
                    self.meetings.rtc(report, now());
                }
            }
            MeetingRtcEvent::Changed => self.show_meeting(),
        }
    }

    /// When the meeting needs the driver next: the machine's deadline, or
    /// the next measurement while in a meeting.
    pub(super) fn meeting_timeout(&self) -> Option<i64> {
        let measure = matches!(self.meetings.view(), MeetingView::InMeeting { .. })
            .then_some(self.meeting_measured_at + MEETING_MEASURE_EVERY_MS);
        match (self.meetings.poll_timeout(), measure) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Time passed for the meeting.
    pub(super) fn meeting_time(&mut self, now: i64) {
        if self.meetings.poll_timeout().is_some_and(|at| at <= now) {
            self.meetings.handle_timeout(now);
        }
        if matches!(self.meetings.view(), MeetingView::InMeeting { .. })
            && self.meeting_measured_at + MEETING_MEASURE_EVERY_MS <= now
        {
            self.meeting_measured_at = now;
            self.meeting_rtc.measure();
        }
    }

    /// Leaves any meeting: the session is going away.
    pub(super) fn end_meetings(&mut self) {
        self.meetings.leave(now());
        self.carry_out_meetings();
    }

    /// Tells the meeting screen what it shows now.
    fn show_meeting(&mut self) {
        let MeetingMedia {
            local,
            remotes,
            local_level,
        } = self.meeting_rtc.media();
        let me = self.session.user.to_string();
        let levels = remotes
            .iter()
            .map(|r| (r.user.as_str(), r.audio_level))
            .chain(std::iter::once((me.as_str(), local_level)));
        let speaker = active_speaker(levels).map(str::to_owned);
        let screen = MeetingScreen {
            view: self.meetings.view(),
            local,
            remotes,
            speaker,
        };
        if screen != self.meeting_screen {
            self.meeting_screen = screen.clone();
            self.update.emit(Update::MeetingScreen(Box::new(screen)));
        }
    }
}
