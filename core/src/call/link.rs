//! The 24888 socket: opened while a call needs it, carrying requests whose
//! replies come back in order (one per request), reopened with backoff
//! after a drop, and timed out when a reply does not come.

use crate::packets::call::CallRequest;
use crate::sync::{REQUEST_TIMEOUT_MS, Rng, backoff_ms};
use std::collections::VecDeque;

/// The first wait before the socket is opened again after a drop: short,
/// since a call has only `REJOIN_GRACE_MS` to rejoin.
pub(super) const LINK_RETRY_FIRST_MS: i64 = 500;
/// The longest wait between two attempts to open the socket.
pub(super) const LINK_RETRY_MAX_MS: i64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed { retry_at: i64 },
    Opening,
    Open,
}

/// What the machine must do about the socket after a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// Send this frame now.
    Send(CallRequest),
    /// Open the socket.
    Open,
    /// Nothing now (opening, or waiting to retry).
    Wait,
}

/// The 24888 socket and its requests.
#[derive(Debug)]
pub(super) struct Link {
    state: State,
    /// Sent, in order, with when: the replies answer them in this order.
    pending: VecDeque<(CallRequest, i64)>,
    /// Waiting for the socket to open.
    queued: VecDeque<CallRequest>,
    failures: u32,
}

impl Link {
    pub(super) fn new() -> Link {
        Link {
            state: State::Closed { retry_at: 0 },
            pending: VecDeque::new(),
            queued: VecDeque::new(),
            failures: 0,
        }
    }

    /// Sends `request` if the socket is open; otherwise keeps it for when it
    /// is (opening it if it may).
    pub(super) fn issue(&mut self, request: CallRequest, now: i64) -> Step {
        if self.state == State::Open {
            self.pending.push_back((request.clone(), now));
            return Step::Send(request);
        }
        self.queued.push_back(request);
        self.open_if_due(now)
    }

    /// Opens the socket if it is closed and its retry time has come.
    pub(super) fn open_if_due(&mut self, now: i64) -> Step {
        match self.state {
            State::Closed { retry_at } if now >= retry_at => {
                self.state = State::Opening;
                Step::Open
            }
            _ => Step::Wait,
        }
    }

    /// The socket opened: what was kept for it, in order (`first` before the rest).
    pub(super) fn opened(&mut self, first: Option<CallRequest>, now: i64) -> Vec<CallRequest> {
        if self.state != State::Opening {
            return Vec::new();
        }
        self.state = State::Open;
        let mut out: Vec<CallRequest> = first.into_iter().collect();
        out.extend(self.queued.drain(..));
        for request in &out {
            self.pending.push_back((request.clone(), now));
        }
        out
    }

    /// A reply came: the request it answers.
    pub(super) fn answered(&mut self) -> Option<CallRequest> {
        let (request, _) = self.pending.pop_front()?;
        self.failures = 0;
        Some(request)
    }

    /// The socket closed or failed. Whether it was in use (open or
    /// opening), and the requests whose replies are lost.
    pub(super) fn lost(&mut self, now: i64, rng: &mut Rng) -> Option<Vec<CallRequest>> {
        if let State::Closed { .. } = self.state {
            return None;
        }
        self.failures += 1;
        let wait = backoff_ms(self.failures, LINK_RETRY_FIRST_MS, LINK_RETRY_MAX_MS, rng);
        self.state = State::Closed {
            retry_at: now + wait,
        };
        Some(self.pending.drain(..).map(|(r, _)| r).collect())
    }

    /// Puts requests whose replies were lost back, ahead of the ones waiting
    /// (in their order), to go again on the next socket.
    pub(super) fn requeue(&mut self, requests: Vec<CallRequest>) {
        for request in requests.into_iter().rev() {
            self.queued.push_front(request);
        }
    }

    /// Closes a socket nothing needs; true if it was open.
    pub(super) fn close_if_unused(&mut self, now: i64) -> bool {
        if self.state == State::Open && self.pending.is_empty() && self.queued.is_empty() {
            self.state = State::Closed { retry_at: now };
            self.failures = 0;
            return true;
        }
        false
    }

    /// Whether requests wait for the socket to open.
    pub(super) fn has_queued(&self) -> bool {
        !self.queued.is_empty()
    }

    /// Whether a request like `matches` waits for its reply or for the socket.
    pub(super) fn asked(&self, matches: impl Fn(&CallRequest) -> bool) -> bool {
        self.pending.iter().any(|(r, _)| matches(r)) || self.queued.iter().any(matches)
    }

    /// When the front request times out, if one waits.
    pub(super) fn request_deadline(&self) -> Option<i64> {
        self.pending
            .front()
            .map(|(_, sent)| sent + REQUEST_TIMEOUT_MS)
    }

    /// When a closed socket may be opened again.
    pub(super) fn retry_at(&self) -> Option<i64> {
        match self.state {
            State::Closed { retry_at } => Some(retry_at),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CallId;

    fn hangup() -> CallRequest {
        CallRequest::Hangup(CallId::generated(1, 2))
    }

    #[test]
    fn requests_wait_for_the_socket_and_go_in_order_after_the_first() {
        let mut link = Link::new();
        assert_eq!(link.issue(CallRequest::IceServers, 0), Step::Open);
        assert_eq!(link.issue(hangup(), 1), Step::Wait);
        let rejoin = CallRequest::Rejoin(CallId::generated(1, 2));
        let sent = link.opened(Some(rejoin.clone()), 5);
        assert_eq!(
            sent,
            vec![rejoin.clone(), CallRequest::IceServers, hangup()]
        );
        assert_eq!(link.request_deadline(), Some(5 + REQUEST_TIMEOUT_MS));
        assert_eq!(link.answered(), Some(rejoin));
        assert_eq!(link.issue(hangup(), 6), Step::Send(hangup()));
    }

    #[test]
    fn a_drop_loses_the_pending_replies_and_backs_off() {
        let mut rng = Rng::new(3);
        let mut link = Link::new();
        link.issue(CallRequest::IceServers, 0);
        link.opened(None, 0);
        let lost = link.lost(100, &mut rng).expect("was open");
        assert_eq!(lost, vec![CallRequest::IceServers]);
        let retry = link.retry_at().expect("closed");
        assert!((100 + LINK_RETRY_FIRST_MS / 2..=100 + LINK_RETRY_FIRST_MS).contains(&retry));
        assert_eq!(link.lost(200, &mut rng), None, "already closed");
        assert_eq!(link.issue(hangup(), retry - 1), Step::Wait);
        assert_eq!(link.open_if_due(retry), Step::Open);
    }
}
