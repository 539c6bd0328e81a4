//! The driver's call part: runs the call machine beside the sync engine,
//! carries out its actions (the 24888 socket, the WebRTC side, the tones)
//! and keeps the call screen up to date.

use super::{Driver, now};
use crate::calls::rtc::{MediaShown, RtcEvent};
use crate::calls::{CallCommand, CallScreen};
use crate::state::Update;
use penpen_core::Service;
use penpen_core::call::{CallAction, CallView};
use penpen_core::packets::call::{CallEnded, CallInvitation};

/// How often the quality is measured while the media flows.
pub const MEASURE_EVERY_MS: i64 = 2_000;

impl Driver {
    /// Carries out what the call machine asked, in order.
    pub(super) fn carry_out_calls(&mut self) {
        let mut shown = false;
        while let Some(action) = self.calls.poll_action() {
            match action {
                CallAction::Open => self.sockets.open(Service::CallSignalling),
                CallAction::Close => self.sockets.close(Service::CallSignalling),
                CallAction::Send(frame) => self.sockets.send(Service::CallSignalling, &frame),
                CallAction::Rtc(command) => self.rtc.give(command),
                CallAction::PlayTone(tone) => self.tone = crate::calls::tone::play(tone),
                CallAction::StopTone => self.tone = None,
                CallAction::Show(_) => shown = true,
            }
        }
        if shown {
            self.show_call();
        }
    }

    /// The 24888 socket opened, brought a frame or closed.
    pub(super) fn call_socket_event(&mut self, event: crate::net::SocketEvent, now: i64) {
        use crate::net::SocketEvent;
        match event {
            SocketEvent::Opened => self.calls.opened(now),
            SocketEvent::Frame(text) => self.calls.received(&text, now),
            SocketEvent::Closed => {
                self.sockets.close(Service::CallSignalling);
                self.calls.closed(now);
            }
        }
    }

    /// The stream pushed an invitation.
    pub(super) fn call_invited(&mut self, invitation: CallInvitation) {
        self.calls.call_invited(invitation, now());
    }

    /// The stream pushed that a call ended (or was answered elsewhere).
    pub(super) fn call_ended(&mut self, ended: CallEnded) {
        self.calls.call_ended(ended, now());
    }

    /// The user did something about a call.
    pub(super) fn call_command(&mut self, command: CallCommand, now: i64) {
        // The buttons offer only what the state allows; a click that raced
        // a change of state (accepting a call just cancelled) does nothing.
        let in_meeting = self.in_meeting();
        let _ = match command {
            // One call or meeting at a time (§13).
            CallCommand::Start { .. } | CallCommand::Accept if in_meeting => Ok(()),
            CallCommand::Start { to, media } => self.calls.start(to, media, now).map(drop),
            CallCommand::Accept => self.calls.accept(now),
            CallCommand::Decline => self.calls.decline(now),
            CallCommand::HangUp => {
                self.calls.hang_up(now);
                Ok(())
            }
            CallCommand::SetCamera(on) => {
                self.calls.set_camera(on, now);
                Ok(())
            }
            CallCommand::SetMuted(muted) => {
                self.rtc.mute(muted);
                Ok(())
            }
            CallCommand::UseDevice(kind, id) => {
                self.rtc.use_device(kind, id);
                Ok(())
            }
        };
    }

    /// The WebRTC side reported.
    pub(super) fn rtc_event(&mut self, event: RtcEvent) {
        match event {
            RtcEvent::Report { epoch, report } => {
                if self.rtc.current(epoch) {
                    self.calls.rtc(report, now());
                }
            }
            RtcEvent::Changed => self.show_call(),
        }
    }

    /// When the call needs the driver next: the machine's deadline, or the
    /// next quality measurement while the media flows.
    pub(super) fn call_timeout(&self) -> Option<i64> {
        let measure = self
            .measuring()
            .then_some(self.measured_at + MEASURE_EVERY_MS);
        match (self.calls.poll_timeout(), measure) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Time passed for the call.
    pub(super) fn call_time(&mut self, now: i64) {
        if self.calls.poll_timeout().is_some_and(|at| at <= now) {
            self.calls.handle_timeout(now);
        }
        if self.measuring() && self.measured_at + MEASURE_EVERY_MS <= now {
            self.measured_at = now;
            self.rtc.measure();
        }
    }

    /// Ends any call: the session is going away.
    pub(super) fn end_calls(&mut self) {
        self.calls.hang_up(now());
        self.carry_out_calls();
        self.tone = None;
    }

    fn measuring(&self) -> bool {
        matches!(
            self.calls.view(),
            CallView::Connecting { .. }
                | CallView::Connected { .. }
                | CallView::Reconnecting { .. }
        )
    }

    /// Tells the call screen what it shows now.
    fn show_call(&mut self) {
        let MediaShown {
            local,
            remote,
            muted,
            devices,
            quality,
        } = self.rtc.media();
        let screen = CallScreen {
            view: self.calls.view(),
            local,
            remote,
            muted,
            devices,
            quality,
        };
        if screen != self.call_screen {
            self.call_screen = screen.clone();
            self.update.emit(Update::Call(Box::new(screen)));
        }
    }
}
