//! The 20888 stream: login or resume, reconnecting with backoff and jitter,
//! the cumulative ack, and the heartbeat that notices a connection that went
//! silent without closing (Wi-Fi dropping: no reset, nothing forwarded).

use super::timers::{Timer, TimerTable};
use super::{
    Action, Connection, Credentials, Engine, Event, HEARTBEAT_IDLE_MS, HEARTBEAT_TIMEOUT_MS,
    RECONNECT_FIRST_MS, RECONNECT_MAX_MS, REQUEST_TIMEOUT_MS, encode, reply_of,
};
use crate::envelope::Frame;
use crate::ids::{Seq, UserId};
use crate::packets::login::{Heartbeat, Login, LoginReply, Push, Resume};
use crate::reply::State;
use crate::service::Service;
use crate::sync::timing::{Rng, backoff_ms};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StreamState {
    /// Not connected; the next try is at `retry_at` (none: waiting for an
    /// event such as the browser coming online).
    Down { retry_at: Option<i64> },
    /// The socket is being opened, since then. A node that is gone without
    /// a word (a machine switched off: no reset, the connect hangs) is
    /// given up after the request timeout like an unanswered login.
    Opening { since: i64 },
    /// Login or resume sent; waiting for the reply.
    Authenticating { since: i64 },
    /// Logged in.
    Live,
    /// Signed out, logged out, or the login was refused: nothing more happens.
    Stopped,
}

/// The stream's part of the engine.
#[derive(Debug)]
pub(super) struct Stream {
    credentials: Credentials,
    state: StreamState,
    failures: u32,
    /// The server has answered a login or resume on this engine: from then
    /// on a lost connection is retried, never reported as unreachable.
    reached_server: bool,
    /// The browser says it is online.
    online: bool,
    /// What the indicator shows.
    connection: Connection,
    /// The seq the last cumulative ack named.
    acked: Seq,
    /// When the last frame arrived on the live stream.
    last_heard: i64,
    /// When the unanswered heartbeat went out.
    heartbeat_sent: Option<i64>,
}

/// What the heartbeat calls for now.
pub(super) enum Beat {
    /// Nothing yet.
    Wait,
    /// Silent for a while: ask the server for a sign of life.
    Send,
    /// The heartbeat went unanswered: the connection is gone.
    Lost,
}

impl Stream {
    pub(super) fn new(credentials: Credentials, acked: Seq) -> Stream {
        Stream {
            credentials,
            state: StreamState::Down { retry_at: Some(0) },
            failures: 0,
            reached_server: false,
            online: true,
            connection: Connection::Connecting,
            acked,
            last_heard: 0,
            heartbeat_sent: None,
        }
    }

    pub(super) fn is_live(&self) -> bool {
        self.state == StreamState::Live
    }

    /// Opening, logging in or live: a close now is a lost connection.
    pub(super) fn is_up(&self) -> bool {
        matches!(
            self.state,
            StreamState::Opening { .. } | StreamState::Authenticating { .. } | StreamState::Live
        )
    }

    pub(super) fn is_stopped(&self) -> bool {
        self.state == StreamState::Stopped
    }

    pub(super) fn connection(&self) -> Connection {
        self.connection
    }

    pub(super) fn set_online(&mut self, online: bool) {
        self.online = online;
    }

    /// The socket opened: the login or resume to send, if one is awaited.
    pub(super) fn opened(&mut self, now: i64) -> Option<String> {
        if !matches!(self.state, StreamState::Opening { .. }) {
            return None;
        }
        let frame = match &self.credentials {
            Credentials::Password { user, digest } => encode(&Login {
                user: user.clone(),
                password: digest.clone(),
            }),
            Credentials::Token { user, token } => encode(&Resume {
                user: user.clone(),
                token: token.clone(),
                // Catch-up follows every login: the backlog on the stream
                // would bring every missed message a second time.
                catch_up: true,
            }),
        };
        self.state = StreamState::Authenticating { since: now };
        Some(frame)
    }

    /// Whether to open the socket now (the reconnect is due and the browser
    /// is online); if so the stream is opening.
    pub(super) fn open_due(&mut self, now: i64) -> bool {
        if let StreamState::Down {
            retry_at: Some(retry_at),
        } = self.state
            && self.online
            && now >= retry_at
        {
            self.state = StreamState::Opening { since: now };
            return true;
        }
        false
    }

    /// Try again now rather than at the backoff's time.
    pub(super) fn reconnect_now(&mut self, now: i64) {
        if let StreamState::Down { .. } = self.state {
            self.state = StreamState::Down {
                retry_at: Some(now),
            };
            self.failures = 0;
        }
    }

    /// The indicator as the state now says, if it changed.
    pub(super) fn update_connection(&mut self) -> Option<Connection> {
        let now = match self.state {
            StreamState::Live => Connection::Connected,
            StreamState::Opening { .. } | StreamState::Authenticating { .. } if self.online => {
                Connection::Connecting
            }
            _ => Connection::Offline,
        };
        (now != self.connection).then(|| {
            self.connection = now;
            now
        })
    }

    /// The connection dropped (or was given up on): the next try is set
    /// with backoff. Says `false` when there is nothing to retry: a first
    /// password login that never reached the server.
    pub(super) fn lost(&mut self, now: i64, rng: &mut Rng) -> bool {
        if !self.reached_server && matches!(self.credentials, Credentials::Password { .. }) {
            return false;
        }
        if self.state == StreamState::Live {
            self.failures = 1;
        } else {
            self.failures += 1;
        }
        let wait = backoff_ms(self.failures, RECONNECT_FIRST_MS, RECONNECT_MAX_MS, rng);
        self.state = StreamState::Down {
            retry_at: Some(now + wait),
        };
        self.heartbeat_sent = None;
        true
    }

    /// The server answered a login or resume with a refusal that may pass.
    pub(super) fn refused(&mut self) {
        self.reached_server = true;
    }

    /// Logged in: the session's token is what resumes from now on.
    pub(super) fn logged_in(&mut self, user: UserId, token: String, now: i64) {
        self.state = StreamState::Live;
        self.reached_server = true;
        self.failures = 0;
        self.credentials = Credentials::Token { user, token };
        self.last_heard = now;
        self.heartbeat_sent = None;
    }

    pub(super) fn stop(&mut self) {
        self.state = StreamState::Stopped;
    }

    /// The cumulative ack to send now that `contiguous` is written, if it
    /// moved and the stream is live.
    pub(super) fn ack_due(&mut self, contiguous: Seq) -> Option<Seq> {
        if self.is_live() && contiguous > self.acked {
            self.acked = contiguous;
            return Some(contiguous);
        }
        None
    }

    /// A frame arrived on the stream: it is alive.
    pub(super) fn heard(&mut self, now: i64) {
        self.last_heard = now;
        self.heartbeat_sent = None;
    }

    /// What the heartbeat calls for at `now`; a heartbeat about to be sent
    /// is counted as sent.
    pub(super) fn beat(&mut self, now: i64) -> Beat {
        if !self.is_live() || self.heartbeat_at().is_none_or(|at| now < at) {
            return Beat::Wait;
        }
        if self.heartbeat_sent.is_some() {
            Beat::Lost
        } else {
            self.heartbeat_sent = Some(now);
            Beat::Send
        }
    }

    fn heartbeat_at(&self) -> Option<i64> {
        self.is_live().then(|| match self.heartbeat_sent {
            None => self.last_heard + HEARTBEAT_IDLE_MS,
            Some(sent) => sent + HEARTBEAT_TIMEOUT_MS,
        })
    }

    /// The login timeout (opening the socket included), whether it has
    /// passed.
    pub(super) fn login_timed_out(&self, now: i64) -> bool {
        self.login_deadline().is_some_and(|at| now >= at)
    }

    fn login_deadline(&self) -> Option<i64> {
        match self.state {
            StreamState::Opening { since } | StreamState::Authenticating { since } => {
                Some(since + REQUEST_TIMEOUT_MS)
            }
            _ => None,
        }
    }

    pub(super) fn add_deadlines(&self, table: &mut TimerTable) {
        if let StreamState::Down {
            retry_at: Some(retry_at),
        } = self.state
        {
            table.add(Timer::Reconnect, retry_at);
        }
        if let Some(at) = self.login_deadline() {
            table.add(Timer::LoginTimeout, at);
        }
        if let Some(at) = self.heartbeat_at() {
            table.add(Timer::Heartbeat, at);
        }
    }
}

impl Engine {
    /// A frame on the live stream (or the login's reply).
    pub(super) fn stream_frame(&mut self, frame: &Frame, now: i64) {
        match self.stream.state {
            StreamState::Authenticating { .. } => self.login_reply(frame, now),
            StreamState::Live => {
                self.stream.heard(now);
                match frame.packet::<Push>() {
                    Ok(Push::Message(message)) => {
                        self.take_messages(vec![*message], true, now);
                    }
                    Ok(Push::SignedOut { signed_out }) => {
                        self.stop();
                        self.notify(Event::SignedOut(signed_out));
                    }
                    Ok(push) => self.roster_push(push, now),
                    // An error reply (to an ack), a heartbeat's answer or a
                    // push this build does not know: nothing to keep.
                    Err(_) => {}
                }
            }
            _ => {}
        }
    }

    /// The heartbeat's deadline came: ask for a sign of life, or give the
    /// silent connection up.
    pub(super) fn heartbeat(&mut self, now: i64) {
        match self.stream.beat(now) {
            Beat::Wait => {}
            Beat::Send => self.act(Action::Send(
                Service::Login,
                encode(&Heartbeat { heartbeat: true }),
            )),
            Beat::Lost => {
                self.act(Action::Close(Service::Login));
                self.stream_lost(now);
            }
        }
    }

    fn login_reply(&mut self, frame: &Frame, now: i64) {
        match reply_of::<LoginReply>(frame) {
            Ok(reply) => {
                self.stream
                    .logged_in(reply.user.clone(), reply.token.clone(), now);
                if self.meta.name != reply.name || self.meta.broadcaster != reply.broadcaster {
                    self.meta.name = reply.name.clone();
                    self.meta.broadcaster = reply.broadcaster;
                    self.writes.batch.meta = Some(self.position());
                    self.flush();
                }
                self.notify(Event::LoggedIn {
                    user: reply.user,
                    token: reply.token,
                    name: reply.name,
                    broadcaster: reply.broadcaster,
                });
                self.catch_up.start(self.seqs.contiguous());
                self.roster.logged_in(self.meta.broadcasts_synced);
                self.settings.logged_in();
                self.receipts.logged_in();
                // Sends that were on the wire when the stream dropped go again.
                self.outbox.after_login(now);
                self.update_connection();
            }
            Err(refusal) => {
                let permanent = refusal.state == State::LOGIN_FAILED
                    || refusal.state == State::SESSION_INVALID
                    || refusal.state == State::SESSION_EXPIRED
                    || (refusal.state == State::RATE_LIMITED
                        && matches!(self.stream.credentials, Credentials::Password { .. }));
                if permanent {
                    let token_session = self.stream.credentials.token().is_some();
                    self.stop();
                    self.notify(if token_session {
                        Event::SignedOut(refusal.error)
                    } else {
                        Event::LoginFailed(refusal)
                    });
                } else {
                    self.act(Action::Close(Service::Login));
                    self.stream.refused();
                    self.stream_lost(now);
                }
            }
        }
    }

    pub(super) fn stream_lost(&mut self, now: i64) {
        // An attempt that failed (rather than a live stream that dropped,
        // which may be a blip and is tried once more where it was) means the
        // node is gone: the next attempt goes to another.
        let attempt_failed = !self.stream.is_live();
        if !self.stream.lost(now, &mut self.rng) {
            // A first login that cannot reach the server says so at once.
            self.stop();
            self.notify(Event::Unreachable);
            return;
        }
        if attempt_failed {
            self.switch_node(now);
        }
        // Operations not sent yet wait for no reconnect: the user is told now.
        for id in self.operations.unsent() {
            self.fail_operation(
                id,
                State::UNAVAILABLE,
                "the connection was lost; nothing was changed",
            );
        }
        self.roster.stream_lost();
        self.receipts.stream_lost();
        // The service sockets live on their own, but catch-up is redone on
        // the next connection, and nothing new is asked before it.
        self.catch_up.stream_lost();
        self.update_connection();
    }

    pub(super) fn update_connection(&mut self) {
        if let Some(connection) = self.stream.update_connection() {
            self.notify(Event::ConnectionChanged(connection));
        }
    }
}
