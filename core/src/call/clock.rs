//! The deadlines derived from the state, and what each does when due.

use super::current::{Phase, Role};
use super::glare::Glare;
use super::timers::{Timer, TimerTable};
use super::{CallAction, CallMachine, CallView, EndCause, ICE_RESTART_RETRY_MS, RtcCommand};
use crate::packets::call::{CallRequest, EndReason, REJOIN_GRACE_MS};
use crate::signalling::link::Socket;

impl CallMachine {
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
        match self.link.settle(self.link_needed(), now) {
            Some(Socket::Open) => self.act(CallAction::Open),
            Some(Socket::Close) => self.act(CallAction::Close),
            None => {}
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
}
