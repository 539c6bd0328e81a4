//! The request links: one socket per service port, opened on demand,
//! carrying requests whose replies come back in order (a FIFO per socket),
//! timed out after [`REQUEST_TIMEOUT_MS`] and closed after
//! [`SERVICE_IDLE_MS`] unused.

use super::timers::{Timer, TimerTable};
use super::{
    Action, Engine, OperationId, RECONNECT_FIRST_MS, RECONNECT_MAX_MS, REQUEST_TIMEOUT_MS,
    SERVICE_IDLE_MS,
};
use crate::ids::{ClientMsgId, GroupId, Peer};
use crate::packets::profile::Presence;
use crate::reply::State;
use crate::service::Service;
use crate::sorted_map::SortedMap;
use crate::sync::timing::{Rng, backoff_ms};
use std::collections::VecDeque;

/// A request waiting for its reply on a service socket (replies come in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Request {
    Send(ClientMsgId),
    /// A request of a file upload (28888): start, chunk or send.
    Upload(ClientMsgId),
    /// A cancelled upload's `cancel`: its answer changes nothing.
    UploadCancel,
    CatchUp,
    History(Peer),
    Directory,
    /// A 53888 page, asked for with this `after`.
    Groups(Option<GroupId>),
    Broadcasts,
    Operation(OperationId),
    Presence(Presence),
    Signatures,
    /// The muted list (32888).
    Muted,
    /// A page of the catch-up of read marks (50888, §16.3).
    Reads,
    /// A search of all history (50888, §17).
    Search(super::SearchId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkState {
    Closed { retry_at: i64 },
    Opening,
    Open,
}

#[derive(Debug, Clone)]
struct Link {
    state: LinkState,
    /// Sent, in order, with when.
    pending: VecDeque<(Request, i64)>,
    last_used: i64,
    failures: u32,
}

impl Link {
    fn new() -> Link {
        Link {
            state: LinkState::Closed { retry_at: 0 },
            pending: VecDeque::new(),
            last_used: 0,
            failures: 0,
        }
    }

    /// This socket's deadline, and which kind it is.
    fn deadline(&self) -> Option<(Timer, i64)> {
        match self.state {
            LinkState::Closed { retry_at } => Some((Timer::LinkRetry, retry_at)),
            LinkState::Open => Some(match self.pending.front() {
                Some((_, sent)) => (Timer::RequestTimeout, sent + REQUEST_TIMEOUT_MS),
                None => (Timer::LinkIdle, self.last_used + SERVICE_IDLE_MS),
            }),
            LinkState::Opening => None,
        }
    }
}

/// What became of a request handed to [`Links::issue`].
pub(super) enum Issue {
    /// The socket is open and the request recorded: send its frame now.
    Send,
    /// The socket must be opened first; the request is not recorded.
    Open,
    /// The socket is opening, or waits before trying again.
    Wait,
}

/// Every service socket of the engine.
#[derive(Debug, Default)]
pub(super) struct Links(SortedMap<Service, Link>);

impl Links {
    /// Records `request` on the socket of `service` if it is open.
    pub(super) fn issue(&mut self, service: Service, request: Request, now: i64) -> Issue {
        let link = self.0.get_or_insert_with(service, Link::new);
        match link.state {
            LinkState::Open => {
                link.pending.push_back((request, now));
                link.last_used = now;
                Issue::Send
            }
            LinkState::Opening => Issue::Wait,
            LinkState::Closed { retry_at } => {
                if now >= retry_at {
                    link.state = LinkState::Opening;
                    Issue::Open
                } else {
                    Issue::Wait
                }
            }
        }
    }

    /// The socket of `service` opened.
    pub(super) fn opened(&mut self, service: Service, now: i64) {
        if let Some(link) = self.0.get_mut(&service)
            && link.state == LinkState::Opening
        {
            link.state = LinkState::Open;
            link.last_used = now;
        }
    }

    /// Whether a request is waiting for its reply on the socket of `service`.
    pub(super) fn asked(&self, service: Service) -> bool {
        self.0.get(&service).is_some_and(|l| !l.pending.is_empty())
    }

    /// Whether `request` waits for its reply on the socket of `service`.
    pub(super) fn is_pending(&self, service: Service, request: &Request) -> bool {
        self.0
            .get(&service)
            .is_some_and(|l| l.pending.iter().any(|(r, _)| r == request))
    }

    /// A reply came on the socket of `service`: the request it answers.
    pub(super) fn answered(&mut self, service: Service, now: i64) -> Option<Request> {
        let link = self.0.get_mut(&service)?;
        let (request, _) = link.pending.pop_front()?;
        link.last_used = now;
        link.failures = 0;
        Some(request)
    }

    /// The socket of `service` closed or failed: it may open again after a
    /// backoff. The requests it carried, and when they may go again.
    pub(super) fn lost(
        &mut self,
        service: Service,
        now: i64,
        rng: &mut Rng,
    ) -> Option<(Vec<Request>, i64)> {
        let link = self.0.get_mut(&service)?;
        link.failures += 1;
        let wait = backoff_ms(link.failures, RECONNECT_FIRST_MS, RECONNECT_MAX_MS, rng);
        link.state = LinkState::Closed {
            retry_at: now + wait,
        };
        let lost = link.pending.drain(..).map(|(r, _)| r).collect();
        Some((lost, now + wait))
    }

    /// Sockets whose deadline of kind `timer` has passed at `now`.
    pub(super) fn due(&self, timer: Timer, now: i64) -> Vec<Service> {
        self.0
            .iter()
            .filter(|(_, link)| {
                link.deadline()
                    .is_some_and(|(t, at)| t == timer && now >= at)
            })
            .map(|(service, _)| *service)
            .collect()
    }

    /// Closes an idle socket: it opens again as soon as it is needed.
    pub(super) fn close_idle(&mut self, service: Service, now: i64) {
        if let Some(link) = self.0.get_mut(&service) {
            link.state = LinkState::Closed { retry_at: now };
        }
    }

    /// Closed sockets may open again at once.
    pub(super) fn reconnect_now(&mut self, now: i64) {
        for link in self.0.values_mut() {
            if let LinkState::Closed { .. } = link.state {
                link.state = LinkState::Closed { retry_at: now };
            }
        }
    }

    /// The stream moved to another node: every socket that is open (or
    /// opening) is given up, to open again on the new node as soon as it is
    /// needed, and the ones that were waiting out a backoff against the old
    /// node may try the new one at once. The sockets to close, with the
    /// requests they carried.
    pub(super) fn follow_stream(&mut self, now: i64) -> Vec<(Service, Vec<Request>)> {
        let mut given_up = Vec::new();
        for (service, link) in self.0.iter_mut() {
            if !matches!(link.state, LinkState::Closed { .. }) {
                given_up.push((*service, link.pending.drain(..).map(|(r, _)| r).collect()));
            }
            link.state = LinkState::Closed { retry_at: now };
            link.failures = 0;
        }
        given_up
    }

    /// Forgets every socket; the ones to close.
    pub(super) fn close_all(&mut self) -> Vec<Service> {
        std::mem::take(&mut self.0)
            .into_iter()
            .filter(|(_, link)| !matches!(link.state, LinkState::Closed { .. }))
            .map(|(service, _)| service)
            .collect()
    }

    pub(super) fn add_deadlines(&self, table: &mut TimerTable) {
        for (timer, at) in self.0.values().filter_map(Link::deadline) {
            table.add(timer, at);
        }
    }
}

impl Engine {
    /// Sends a request if its socket is open (opening it if needed); says
    /// whether it went out.
    pub(super) fn request(
        &mut self,
        service: Service,
        request: Request,
        frame: String,
        now: i64,
    ) -> bool {
        // A catch-up page only reads: the next one may be asked for while
        // the last is still being written.
        let reads_only = matches!(request, Request::CatchUp);
        match self.links.issue(service, request, now) {
            Issue::Send => {
                // Whatever the cache still owes is written before this goes out.
                if !reads_only {
                    self.flush();
                }
                self.act(Action::Send(service, frame));
                true
            }
            Issue::Open => {
                self.act(Action::Open(service));
                false
            }
            Issue::Wait => false,
        }
    }

    /// A service socket is gone: what it carried is asked again later, or
    /// (an operation) answered as lost.
    pub(super) fn link_lost(&mut self, service: Service, now: i64) {
        let Some((lost, retry_at)) = self.links.lost(service, now, &mut self.rng) else {
            return;
        };
        self.requests_lost(lost, retry_at);
    }

    /// The stream's node could not be reached: the driver is told to use
    /// another ([`Action::SwitchNode`]), and the service sockets follow the
    /// stream there (closed here, reopened on demand), so that no request
    /// waits on a node that is gone while the stream lives on another.
    pub(super) fn switch_node(&mut self, now: i64) {
        self.act(Action::SwitchNode);
        for (service, lost) in self.links.follow_stream(now) {
            self.act(Action::Close(service));
            self.requests_lost(lost, now);
        }
    }

    /// Requests whose socket went away unanswered: asked again from
    /// `retry_at`, or (an operation) answered as lost.
    fn requests_lost(&mut self, lost: Vec<Request>, retry_at: i64) {
        for request in lost {
            match request {
                Request::Send(cid) => self.outbox.lost(&cid, retry_at),
                Request::Upload(cid) => self.upload_lost(&cid, retry_at),
                Request::UploadCancel => {}
                Request::CatchUp => self.catch_up.ask_again(),
                Request::Directory | Request::Groups(_) | Request::Broadcasts => {
                    self.roster.ask_again(&request)
                }
                // Still wanted: asked again when the link is back.
                Request::History(_) => {}
                // Whether it took effect is unknown: the user decides.
                Request::Operation(id) => self.fail_operation(
                    id,
                    State::UNAVAILABLE,
                    "the connection was lost before the answer; check whether it took effect",
                ),
                Request::Presence(_) => self.roster.presence_lost(),
                Request::Signatures => {}
                Request::Muted => self.settings.ask_again(),
                Request::Reads => self.receipts.ask_again(),
                // The user is waiting for it: they hear now, not after a
                // retry they did not ask for.
                Request::Search(id) => self.fail_search(
                    id,
                    State::UNAVAILABLE,
                    "the connection was lost before the server answered; search again",
                ),
            }
        }
    }

    /// Requests unanswered for the request timeout: their socket is taken
    /// for dead. Sockets idle for long are closed.
    pub(super) fn links_timeout(&mut self, timer: Timer, now: i64) {
        for service in self.links.due(timer, now) {
            self.act(Action::Close(service));
            if timer == Timer::RequestTimeout {
                self.link_lost(service, now);
            } else {
                self.links.close_idle(service, now);
            }
        }
    }
}
