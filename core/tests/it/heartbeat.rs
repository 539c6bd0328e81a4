//! The connection tells the truth: a stream that went silent without
//! closing is noticed by the heartbeat, and the browser's offline and online
//! events show at once.

use crate::sim::{Net, user};
use penpen_core::cache::{AccountMeta, Snapshot};
use penpen_core::packets::login::{Heartbeat, LoginReply, Push};
use penpen_core::packets::message::Message;
use penpen_core::sync::{
    Action, Connection, Credentials, Engine, Event, HEARTBEAT_IDLE_MS, HEARTBEAT_TIMEOUT_MS,
};
use penpen_core::testing::message;
use penpen_core::{Encoding, Frame, Peer, Seq, Service, State};

fn frame<T: serde::Serialize>(packet: &T) -> String {
    Frame::encode(Encoding::Base64, packet).expect("encode")
}

/// One engine driven by hand: service sockets open at once and are never
/// answered; the stream is what the test says.
struct Direct {
    engine: Engine,
    now: i64,
    /// Heartbeats sent on the stream.
    heartbeats: usize,
    /// Whether the engine closed the stream.
    stream_closed: bool,
    /// Whether the engine opened the stream since the last look.
    stream_opened: bool,
}

impl Direct {
    /// Logged in as user 1 at `now` = 1,000.
    fn live() -> Direct {
        let snapshot = Snapshot {
            meta: Some(AccountMeta::new(user(1), "用户1".into(), false)),
            ..Snapshot::default()
        };
        let credentials = Credentials::Token {
            user: user(1),
            token: "t".into(),
        };
        let mut direct = Direct {
            engine: Engine::new(credentials, snapshot, 7),
            now: 1_000,
            heartbeats: 0,
            stream_closed: false,
            stream_opened: false,
        };
        direct.engine.handle_timeout(direct.now);
        direct.pump();
        assert!(direct.stream_opened, "the stream opens at start");
        direct.engine.opened(Service::Login, direct.now);
        direct.stream(&LoginReply {
            state: State::SUCCESS,
            user: user(1),
            token: "t".into(),
            name: "用户1".into(),
            broadcaster: false,
        });
        assert_eq!(direct.engine.connection(), Connection::Connected);
        direct
    }

    fn pump(&mut self) {
        while let Some(action) = self.engine.poll_action() {
            match action {
                Action::Open(Service::Login) => self.stream_opened = true,
                Action::Open(service) => self.engine.opened(service, self.now),
                Action::Close(Service::Login) => self.stream_closed = true,
                Action::Send(Service::Login, text) => {
                    let sent = Frame::decode(&text).expect("a frame");
                    if sent.packet::<Heartbeat>().is_ok() {
                        self.heartbeats += 1;
                    }
                }
                _ => {}
            }
        }
    }

    /// A frame arrives on the stream now.
    fn stream<T: serde::Serialize>(&mut self, packet: &T) {
        self.engine
            .received(Service::Login, &frame(packet), self.now);
        self.pump();
    }

    /// Time passes to `at`, waking the engine at every deadline it names
    /// on the way, as a driver would.
    fn run_to(&mut self, at: i64) {
        while let Some(next) = self.engine.poll_timeout().filter(|next| *next <= at) {
            self.now = self.now.max(next);
            self.engine.handle_timeout(self.now);
            self.pump();
        }
        self.now = at;
        self.engine.handle_timeout(self.now);
        self.pump();
    }
}

fn pushed(seq: u64) -> Push {
    Push::Message(Box::new(Message {
        seq: Some(Seq(seq)),
        ..message(100 + seq, 2, Peer::User(user(1)), "在吗")
    }))
}

#[test]
fn a_silent_stream_gets_a_heartbeat_and_is_given_up_when_nothing_answers() {
    let mut d = Direct::live();
    let start = d.now;
    d.run_to(start + HEARTBEAT_IDLE_MS - 1);
    assert_eq!(d.heartbeats, 0, "nothing is due before the silence");
    d.run_to(start + HEARTBEAT_IDLE_MS);
    assert_eq!(d.heartbeats, 1, "a heartbeat after the silence");
    assert_eq!(d.engine.connection(), Connection::Connected);
    d.run_to(start + HEARTBEAT_IDLE_MS + HEARTBEAT_TIMEOUT_MS - 1);
    assert!(!d.stream_closed, "the heartbeat still has time");
    assert_eq!(d.engine.connection(), Connection::Connected);
    d.run_to(start + HEARTBEAT_IDLE_MS + HEARTBEAT_TIMEOUT_MS);
    assert!(d.stream_closed, "an unanswered heartbeat closes the stream");
    assert_ne!(d.engine.connection(), Connection::Connected);
    assert!(
        d.now - start <= 30_000,
        "noticed after {} ms",
        d.now - start
    );
    // It reconnects with the usual backoff.
    d.stream_opened = false;
    d.run_to(start + 60_000);
    assert!(d.stream_opened, "the stream is tried again");
}

#[test]
fn an_answered_heartbeat_keeps_the_stream() {
    let mut d = Direct::live();
    let start = d.now;
    for round in 1..=6 {
        d.run_to(start + round * (HEARTBEAT_IDLE_MS + 500) - 500);
        assert_eq!(d.heartbeats as i64, round, "round {round}");
        d.now += 500;
        d.stream(&Heartbeat { heartbeat: true });
    }
    assert!(!d.stream_closed);
    assert_eq!(d.engine.connection(), Connection::Connected);
}

#[test]
fn frames_arriving_on_the_stream_postpone_the_heartbeat() {
    let mut d = Direct::live();
    let start = d.now;
    // A push every 9 s: no heartbeat is ever needed.
    for seq in 1..=5 {
        d.run_to(start + seq as i64 * 9_000);
        d.stream(&pushed(seq));
    }
    assert_eq!(d.heartbeats, 0);
    let last = d.now;
    // Any frame counts, even one the engine does not use (an error reply).
    d.run_to(last + HEARTBEAT_IDLE_MS);
    assert_eq!(d.heartbeats, 1);
    d.now += 9_000;
    d.stream(&penpen_core::ErrorReply::new(State::BAD_PACKET, "late"));
    d.run_to(last + HEARTBEAT_IDLE_MS + HEARTBEAT_TIMEOUT_MS + 5_000);
    assert!(!d.stream_closed, "the error reply proved the stream alive");
    assert_eq!(d.engine.connection(), Connection::Connected);
}

#[test]
fn a_silent_drop_is_noticed_within_30_s_and_nothing_is_lost() {
    let mut net = Net::new(3);
    let a = net.log_in(1);
    let b = net.log_in(2);
    net.run_for(5_000);
    // Quiet for a minute: the heartbeats are answered.
    net.run_for(60_000);
    assert_eq!(net.clients[a].engine.connection(), Connection::Connected);
    assert!(net.heartbeats >= 2 * 5, "{} heartbeats", net.heartbeats);

    // A's network goes silent: the sockets stay, nothing gets through.
    net.clients[a].online = false;
    let dropped_at = net.now;
    let now = net.now;
    net.clients[b]
        .engine
        .send_text(Peer::User(user(1)), "你还在吗".into(), now)
        .expect("queued");
    while net.clients[a].engine.connection() == Connection::Connected {
        assert!(
            net.now - dropped_at <= 30_000,
            "still shown connected {} ms after the drop",
            net.now - dropped_at
        );
        net.run_for(500);
    }
    // The network returns: the message arrives once.
    net.clients[a].online = true;
    net.run_for(60_000);
    assert_eq!(net.clients[a].engine.connection(), Connection::Connected);
    assert_eq!(net.clients[a].texts(&Peer::User(user(2))), vec!["你还在吗"]);
}

#[test]
fn the_browser_going_offline_shows_at_once_and_online_reconnects_at_once() {
    let mut net = Net::new(2);
    let a = net.log_in(1);
    net.run_for(5_000);
    assert_eq!(net.clients[a].engine.connection(), Connection::Connected);

    // The stream's socket still looks open, but the browser says offline.
    net.clients[a].online = false;
    let now = net.now;
    net.clients[a].engine.set_online(false, now);
    assert_eq!(net.clients[a].engine.connection(), Connection::Offline);
    // It stays offline however long it waits, and says so once.
    net.run_for(120_000);
    assert_eq!(net.clients[a].engine.connection(), Connection::Offline);
    let offline = Event::ConnectionChanged(Connection::Offline);
    assert_eq!(
        net.clients[a]
            .events
            .iter()
            .filter(|e| **e == offline)
            .count(),
        1
    );

    // Online again: connected without waiting for a backoff.
    net.clients[a].online = true;
    let now = net.now;
    net.clients[a].engine.set_online(true, now);
    net.run_for(1);
    assert_eq!(net.clients[a].engine.connection(), Connection::Connected);
}
