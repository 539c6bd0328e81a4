//! The deadlines derived from the state, what each does when due, and what
//! follows every input (the socket opened or closed as needed, the screen).

use super::{MeetingAction, MeetingLeft, MeetingMachine, MeetingView, REJOIN_GRACE_MS};
use crate::packets::meeting::MeetingEndReason;
use crate::signalling::link::Socket;
use crate::signalling::timers::TimerTable;

/// One kind of deadline. The order is the order `handle_timeout` acts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// A request on 24888 unanswered for the request timeout: the socket is
    /// taken for dead.
    RequestTimeout,
    /// The 24888 socket may be opened again after a drop.
    LinkRetry,
    /// A disconnected peer connection did not come back: join again.
    MediaDisconnected,
    /// The meeting had no working socket and media for the server's grace.
    GiveUp,
    /// The ended screen has been shown long enough.
    EndedShown,
}

impl Timer {
    /// Every kind, in the order `handle_timeout` acts on them.
    pub(super) const ALL: [Timer; 5] = [
        Timer::RequestTimeout,
        Timer::LinkRetry,
        Timer::MediaDisconnected,
        Timer::GiveUp,
        Timer::EndedShown,
    ];
}

impl MeetingMachine {
    pub(super) fn timers(&self) -> TimerTable<Timer> {
        let mut table = TimerTable::default();
        table.add(Timer::RequestTimeout, self.link.request_deadline());
        if self.link_needed() {
            table.add(Timer::LinkRetry, self.link.retry_at());
        }
        if let Some(current) = &self.current {
            table.add(Timer::MediaDisconnected, current.disconnected_until);
            // Not while the browser asks the user for the microphone.
            if current.media_ready {
                table.add(
                    Timer::GiveUp,
                    current.down_since.map(|t| t + REJOIN_GRACE_MS),
                );
            }
        }
        table.add(
            Timer::EndedShown,
            self.ended.as_ref().map(|(_, until)| *until),
        );
        table
    }

    pub(super) fn on_timeout(&mut self, timer: Timer, now: i64) {
        match timer {
            Timer::RequestTimeout => {
                self.act(MeetingAction::Close);
                self.link_lost(now);
            }
            // `drive` opens it when it is needed and due.
            Timer::LinkRetry => {}
            Timer::MediaDisconnected => {
                let Some(current) = self.current.as_mut() else {
                    return;
                };
                current.disconnected_until = None;
                if current.carried {
                    self.rejoin(now);
                } else {
                    current.rejoin_on_open = true;
                }
            }
            Timer::GiveUp => {
                let Some(current) = &self.current else { return };
                let why = if current.joined_once {
                    MeetingLeft::Ended(MeetingEndReason::Lost)
                } else {
                    MeetingLeft::Unreachable
                };
                let request = self.leave_request();
                self.finish(why, request, now);
            }
            Timer::EndedShown => self.ended = None,
        }
    }

    pub(super) fn link_needed(&self) -> bool {
        self.current.is_some() || self.link.has_queued()
    }

    /// After every input: the socket opened or closed as needed, the screen told.
    pub(super) fn drive(&mut self, now: i64) {
        match self.link.settle(self.link_needed(), now) {
            Some(Socket::Open) => self.act(MeetingAction::Open),
            Some(Socket::Close) => self.act(MeetingAction::Close),
            None => {}
        }
        let view = self.current_view();
        if view != self.shown {
            self.shown = view.clone();
            self.act(MeetingAction::Show(view));
        }
    }

    pub(super) fn current_view(&self) -> MeetingView {
        if let Some(current) = &self.current {
            return current.view();
        }
        match &self.ended {
            Some((view, _)) => view.clone(),
            None => MeetingView::Idle,
        }
    }
}
