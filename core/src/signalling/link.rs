//! The 24888 socket: opened while a call or a meeting needs it, carrying
//! requests whose replies come back in order (one per request), reopened
//! with backoff after a drop, and timed out when a reply does not come.
//!
//! A call pipelines its requests ([`Link::pipelined`]); a meeting sends one
//! at a time ([`Link::one_at_a_time`]), so that a request that depends on
//! the previous one's answer (a leave after a join still being answered)
//! goes only once that answer is in.

use crate::sync::{REQUEST_TIMEOUT_MS, Rng, backoff_ms};
use std::collections::VecDeque;

/// The first wait before the socket is opened again after a drop: short,
/// since a call or a participant has only the server's 30 s grace to come
/// back.
pub(crate) const LINK_RETRY_FIRST_MS: i64 = 500;
/// The longest wait between two attempts to open the socket.
pub(crate) const LINK_RETRY_MAX_MS: i64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed { retry_at: i64 },
    Opening,
    Open,
}

/// What the machine must do about the socket after a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step<R> {
    /// Send this frame now.
    Send(R),
    /// Open the socket.
    Open,
    /// Nothing now (opening, waiting to retry, or a reply awaited first).
    Wait,
}

/// What to do with the socket itself after an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Socket {
    Open,
    Close,
}

/// The 24888 socket and its requests.
#[derive(Debug)]
pub(crate) struct Link<R> {
    state: State,
    /// Sent, in order, with when: the replies answer them in this order.
    pending: VecDeque<(R, i64)>,
    /// Waiting for the socket to open, or for their turn.
    queued: VecDeque<R>,
    failures: u32,
    /// How many requests may wait for their replies at once.
    window: usize,
}

impl<R: Clone> Link<R> {
    /// A link that sends every request as soon as the socket is open.
    pub(crate) fn pipelined() -> Link<R> {
        Link::with_window(usize::MAX)
    }

    /// A link that sends a request only once the previous one is answered.
    pub(crate) fn one_at_a_time() -> Link<R> {
        Link::with_window(1)
    }

    fn with_window(window: usize) -> Link<R> {
        Link {
            state: State::Closed { retry_at: 0 },
            pending: VecDeque::new(),
            queued: VecDeque::new(),
            failures: 0,
            window,
        }
    }

    /// Sends `request` if the socket is open and it is its turn; otherwise
    /// keeps it for when it is (opening the socket if it may).
    pub(crate) fn issue(&mut self, request: R, now: i64) -> Step<R> {
        if self.state == State::Open {
            if self.pending.len() < self.window && self.queued.is_empty() {
                self.pending.push_back((request.clone(), now));
                return Step::Send(request);
            }
            self.queued.push_back(request);
            return Step::Wait;
        }
        self.queued.push_back(request);
        self.open_if_due(now)
    }

    /// Opens the socket if it is closed and its retry time has come.
    pub(crate) fn open_if_due(&mut self, now: i64) -> Step<R> {
        match self.state {
            State::Closed { retry_at } if now >= retry_at => {
                self.state = State::Opening;
                Step::Open
            }
            _ => Step::Wait,
        }
    }

    /// Opens the socket if the machine `needs` it and may open it now, or
    /// closes it if not and nothing waits on it.
    pub(crate) fn settle(&mut self, needs: bool, now: i64) -> Option<Socket> {
        if needs {
            matches!(self.open_if_due(now), Step::Open).then_some(Socket::Open)
        } else {
            self.close_if_unused(now).then_some(Socket::Close)
        }
    }

    /// The socket opened: what was kept for it, in order (`first` before
    /// the rest), as far as the window lets them go.
    pub(crate) fn opened(&mut self, first: Option<R>, now: i64) -> Vec<R> {
        if self.state != State::Opening {
            return Vec::new();
        }
        self.state = State::Open;
        if let Some(first) = first {
            self.queued.push_front(first);
        }
        self.release(now)
    }

    /// A reply came: the request it answers.
    pub(crate) fn answered(&mut self) -> Option<R> {
        let (request, _) = self.pending.pop_front()?;
        self.failures = 0;
        Some(request)
    }

    /// The requests whose turn has come on the open socket (after a reply
    /// made room), now counted as sent.
    pub(crate) fn release(&mut self, now: i64) -> Vec<R> {
        let mut out = Vec::new();
        if self.state != State::Open {
            return out;
        }
        while self.pending.len() < self.window {
            let Some(request) = self.queued.pop_front() else {
                break;
            };
            self.pending.push_back((request.clone(), now));
            out.push(request);
        }
        out
    }

    /// The socket closed or failed. Whether it was in use (open or
    /// opening), and the requests whose replies are lost.
    pub(crate) fn lost(&mut self, now: i64, rng: &mut Rng) -> Option<Vec<R>> {
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
    pub(crate) fn requeue(&mut self, requests: Vec<R>) {
        for request in requests.into_iter().rev() {
            self.queued.push_front(request);
        }
    }

    /// Drops the waiting requests that `keep` refuses (they no longer matter).
    pub(crate) fn retain_queued(&mut self, keep: impl Fn(&R) -> bool) {
        self.queued.retain(keep);
    }

    /// Closes a socket nothing needs; true if it was open.
    pub(crate) fn close_if_unused(&mut self, now: i64) -> bool {
        if self.state == State::Open && self.pending.is_empty() && self.queued.is_empty() {
            self.state = State::Closed { retry_at: now };
            self.failures = 0;
            return true;
        }
        false
    }

    /// Whether the socket is open.
    pub(crate) fn is_open(&self) -> bool {
        self.state == State::Open
    }

    /// Whether requests wait for the socket to open (or for their turn).
    pub(crate) fn has_queued(&self) -> bool {
        !self.queued.is_empty()
    }

    /// Whether a request like `matches` waits for its reply or for the socket.
    pub(crate) fn asked(&self, matches: impl Fn(&R) -> bool) -> bool {
        self.pending.iter().any(|(r, _)| matches(r)) || self.queued.iter().any(matches)
    }

    /// Whether a request like `matches` was sent and waits for its reply.
    pub(crate) fn awaiting(&self, matches: impl Fn(&R) -> bool) -> bool {
        self.pending.iter().any(|(r, _)| matches(r))
    }

    /// When the front request times out, if one waits.
    pub(crate) fn request_deadline(&self) -> Option<i64> {
        self.pending
            .front()
            .map(|(_, sent)| sent + REQUEST_TIMEOUT_MS)
    }

    /// When a closed socket may be opened again.
    pub(crate) fn retry_at(&self) -> Option<i64> {
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
    use crate::packets::call::CallRequest;

    fn hangup() -> CallRequest {
        CallRequest::Hangup(CallId::generated(1, 2))
    }

    #[test]
    fn requests_wait_for_the_socket_and_go_in_order_after_the_first() {
        let mut link = Link::pipelined();
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
    fn one_at_a_time_sends_the_next_request_only_after_a_reply() {
        let mut link = Link::one_at_a_time();
        assert_eq!(link.issue(CallRequest::IceServers, 0), Step::Open);
        assert_eq!(link.issue(hangup(), 1), Step::Wait);
        assert_eq!(link.opened(None, 5), vec![CallRequest::IceServers]);
        assert_eq!(link.issue(hangup(), 6), Step::Wait, "behind the first");
        assert!(link.awaiting(|r| *r == CallRequest::IceServers));
        assert!(!link.awaiting(|r| *r == hangup()));
        assert_eq!(link.answered(), Some(CallRequest::IceServers));
        assert_eq!(link.release(7), vec![hangup()]);
        assert_eq!(link.release(7), vec![], "one at a time");
        assert_eq!(link.answered(), Some(hangup()));
        assert_eq!(link.release(8), vec![hangup()]);
        assert_eq!(link.request_deadline(), Some(8 + REQUEST_TIMEOUT_MS));
    }

    #[test]
    fn a_drop_loses_the_pending_replies_and_backs_off() {
        let mut rng = Rng::new(3);
        let mut link = Link::pipelined();
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
