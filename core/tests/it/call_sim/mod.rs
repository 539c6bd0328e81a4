//! A simulated world for the call machine: a 24888 server following §12
//! (`server`), devices each running a `CallMachine` with a fake WebRTC side,
//! pushes standing in for the 20888 stream, a network with latency and
//! faults on demand, and a simulated clock. No sockets, no real time.

#![allow(dead_code)]

pub mod server;

use penpen_core::call::{CallAction, CallMachine, CallView, RtcCommand, RtcReport, Tone};
use penpen_core::packets::call::{IceCandidate, IceServer, Media};
pub use penpen_core::testing::user;
use penpen_core::{CallId, UserId};
use server::{Out, Pushed, SimServer, SocketId};
use std::collections::BTreeMap;

/// One hop on the network.
pub const LATENCY_MS: i64 = 20;
/// The WebRTC side's time to create a description.
pub const RTC_MS: i64 = 5;
/// The clock at the start.
pub const T0: i64 = 1_795_000_000_000;

/// The fake WebRTC side of a device: it answers commands with reports and
/// "connects" once it has both descriptions and a remote candidate.
#[derive(Debug, Default)]
pub struct FakeRtc {
    /// The local media: `Some(camera)` while held.
    pub media: Option<bool>,
    pub camera: bool,
    pub peer_connection: bool,
    pub ice_servers: Vec<IceServer>,
    /// The peer connection may use only TURN relays.
    pub relay_only: bool,
    local: bool,
    remote: bool,
    pub remote_candidates: usize,
    pub connected: bool,
    /// The network under ICE failed: it needs a restart to connect again.
    broken: bool,
    restarting: bool,
    pub offers: u32,
    pub answers: u32,
    pub restarts: u32,
    /// Remote descriptions set, in order.
    pub remote_sdps: Vec<String>,
    /// The network under the media stays broken: restarts do not help.
    pub stays_broken: bool,
}

impl FakeRtc {
    fn candidates(name: &str, n: u32) -> Vec<RtcReport> {
        (0..2)
            .map(|i| {
                RtcReport::LocalCandidate(IceCandidate {
                    candidate: format!("candidate:{i} 1 udp 2122260223 {name} {n} typ host"),
                    sdp_mid: Some("0".into()),
                    sdp_mline_index: Some(0),
                })
            })
            .collect()
    }

    /// Carries out a command; the reports it produces.
    fn handle(&mut self, name: &str, command: RtcCommand) -> Vec<RtcReport> {
        let mut reports = Vec::new();
        match command {
            RtcCommand::StartMedia { camera } => {
                self.media = Some(camera);
                self.camera = camera;
            }
            RtcCommand::SetCamera(on) => self.camera = on,
            RtcCommand::CreatePeerConnection {
                ice_servers,
                relay_only,
            } => {
                *self = FakeRtc {
                    media: self.media,
                    camera: self.camera,
                    offers: self.offers,
                    answers: self.answers,
                    restarts: self.restarts,
                    remote_sdps: std::mem::take(&mut self.remote_sdps),
                    stays_broken: self.stays_broken,
                    ..FakeRtc::default()
                };
                self.peer_connection = true;
                self.ice_servers = ice_servers;
                self.relay_only = relay_only;
            }
            RtcCommand::CreateOffer { ice_restart } => {
                self.offers += 1;
                // A new peer connection gathers candidates; a renegotiation
                // on it does not (an ICE restart does).
                let first = !self.local;
                self.local = true;
                let restart = if ice_restart { " ice-restart" } else { "" };
                let video = if self.camera { " video" } else { "" };
                let sdp = format!("v=0\r\no={name} offer {}{restart}{video}\r\n", self.offers);
                reports.push(RtcReport::OfferCreated { sdp });
                if ice_restart {
                    self.restarts += 1;
                    self.restarting = true;
                }
                if first || ice_restart {
                    reports.extend(FakeRtc::candidates(name, self.offers));
                }
            }
            RtcCommand::CreateAnswer { offer } => {
                self.answers += 1;
                let first = !self.remote;
                self.remote = true;
                self.local = true;
                let restart = offer.contains("ice-restart");
                if restart {
                    self.broken = self.stays_broken;
                }
                self.remote_sdps.push(offer);
                let sdp = format!("v=0\r\no={name} answer {}\r\n", self.answers);
                reports.push(RtcReport::AnswerCreated { sdp });
                if first || restart {
                    reports.extend(FakeRtc::candidates(name, self.answers));
                }
                reports.extend(self.check());
            }
            RtcCommand::ApplyAnswer { answer } => {
                self.remote = true;
                if self.restarting {
                    self.restarting = false;
                    self.broken = self.stays_broken;
                }
                self.remote_sdps.push(answer);
                reports.extend(self.check());
            }
            RtcCommand::AddCandidate(_) => {
                self.remote_candidates += 1;
                reports.extend(self.check());
            }
            RtcCommand::ClosePeerConnection => {
                self.peer_connection = false;
                self.connected = false;
                self.local = false;
                self.remote = false;
            }
            RtcCommand::StopMedia => self.media = None,
        }
        reports
    }

    fn check(&mut self) -> Option<RtcReport> {
        if self.peer_connection
            && self.local
            && self.remote
            && self.remote_candidates > 0
            && !self.connected
            && !self.broken
        {
            self.connected = true;
            return Some(RtcReport::Connected);
        }
        None
    }

    /// The network under the media failed.
    fn fail(&mut self) {
        self.broken = true;
        self.connected = false;
        self.remote_candidates = 0;
    }
}

/// One signed-in session of a user: its machine, its WebRTC side, what its
/// screen showed and the tone playing.
pub struct Device {
    pub user: UserId,
    pub machine: CallMachine,
    pub rtc: FakeRtc,
    /// Every view shown, in order.
    pub shown: Vec<CallView>,
    pub tone: Option<Tone>,
    /// Every tone played.
    pub tones: Vec<Tone>,
    socket: Option<SocketId>,
    /// While false, its 24888 socket cannot open (the network is gone).
    pub online: bool,
    /// Extra delay of the 20888 pushes to this device.
    pub push_delay: i64,
    pub opens: u32,
    /// Gone for good: nothing reaches it and its clock stops.
    pub vanished: bool,
    /// Its frames to the server are lost, though its socket looks open.
    pub silent: bool,
}

impl Device {
    pub fn view(&self) -> CallView {
        self.machine.view()
    }
}

#[derive(Debug)]
enum Delivery {
    ToServer(SocketId, String),
    Frame(usize, SocketId, String),
    Opened(usize, SocketId),
    Closed(usize),
    Push(usize, Pushed),
    Rtc(usize, RtcReport),
}

/// The world: a server, devices, the network and the clock.
pub struct World {
    pub now: i64,
    pub server: SimServer,
    pub devices: Vec<Device>,
    queue: BTreeMap<(i64, u64), Delivery>,
    seq: u64,
}

impl World {
    /// A world where `users` have accounts (no device yet).
    pub fn new(users: &[u64]) -> World {
        let mut server = SimServer::default();
        for n in users {
            server.add_user(user(*n));
        }
        World {
            now: T0,
            server,
            devices: Vec::new(),
            queue: BTreeMap::new(),
            seq: 0,
        }
    }

    /// A device signed in as user `n`; its index.
    pub fn device(&mut self, n: u64) -> usize {
        let seed = 0xC411 + self.devices.len() as u64;
        self.devices.push(Device {
            user: user(n),
            machine: CallMachine::new(seed),
            rtc: FakeRtc::default(),
            shown: Vec::new(),
            tone: None,
            tones: Vec::new(),
            socket: None,
            online: true,
            push_delay: 0,
            opens: 0,
            vanished: false,
            silent: false,
        });
        self.devices.len() - 1
    }

    /// Gives device `d` an input (the user, a test's fault) and carries out
    /// what its machine asks.
    pub fn with<R>(&mut self, d: usize, input: impl FnOnce(&mut CallMachine, i64) -> R) -> R {
        let now = self.now;
        let result = input(&mut self.devices[d].machine, now);
        self.pump(d);
        result
    }

    /// Device `d` calls user `to`.
    pub fn call(&mut self, d: usize, to: u64, media: Media) -> CallId {
        self.with(d, |m, now| m.start(user(to), media, now))
            .expect("the device is free to call")
    }

    /// Runs the world for `ms`.
    pub fn run_for(&mut self, ms: i64) {
        let until = self.now + ms;
        while self.step(until) {}
        self.now = until;
    }

    /// Runs until `done` holds, for at most `max_ms` of simulated time;
    /// whether it came to hold.
    pub fn run_until(&mut self, max_ms: i64, done: impl Fn(&World) -> bool) -> bool {
        let until = self.now + max_ms;
        loop {
            if done(self) {
                return true;
            }
            if !self.step(until) {
                self.now = until;
                return done(self);
            }
        }
    }

    /// The network of device `d` drops: its 24888 socket closes on both ends
    /// and cannot open again until [`World::reconnect`].
    pub fn drop_network(&mut self, d: usize) {
        self.devices[d].online = false;
        if let Some(socket) = self.devices[d].socket.take() {
            self.server.disconnect(socket, self.now);
            self.with(d, |m, now| m.closed(now));
        }
    }

    /// The network of device `d` is back.
    pub fn reconnect(&mut self, d: usize) {
        self.devices[d].online = true;
    }

    /// The media network of both devices fails: their ICE reports `failed`.
    pub fn fail_ice(&mut self, devices: &[usize]) {
        for &d in devices {
            self.devices[d].rtc.fail();
            self.schedule(RTC_MS, Delivery::Rtc(d, RtcReport::Failed));
        }
    }

    /// Device `d` freezes (a hung tab): its socket stays open but it never
    /// acts again.
    pub fn freeze(&mut self, d: usize) {
        self.devices[d].vanished = true;
    }

    /// Device `d` vanishes: its socket goes and it never acts again.
    pub fn vanish(&mut self, d: usize) {
        self.devices[d].online = false;
        self.devices[d].vanished = true;
        if let Some(socket) = self.devices[d].socket.take() {
            self.server.disconnect(socket, self.now);
        }
    }

    fn schedule(&mut self, after: i64, delivery: Delivery) {
        self.seq += 1;
        self.queue.insert((self.now + after, self.seq), delivery);
    }

    /// Does the next thing due by `until`; false if nothing is.
    fn step(&mut self, until: i64) -> bool {
        let mut next = self.queue.keys().next().map(|(at, _)| *at);
        for at in self
            .devices
            .iter()
            .filter(|d| !d.vanished)
            .filter_map(|d| d.machine.poll_timeout())
            .chain(self.server.next_deadline())
        {
            next = Some(next.map_or(at, |n: i64| n.min(at)));
        }
        let Some(at) = next else { return false };
        if at > until {
            return false;
        }
        self.now = self.now.max(at);
        let key = self.queue.keys().next().copied();
        if let Some(key) = key
            && key.0 <= self.now
        {
            let delivery = self.queue.remove(&key).expect("the key was just read");
            self.deliver(delivery);
            return true;
        }
        let outs = self.server.tick(self.now);
        self.route(outs);
        for d in 0..self.devices.len() {
            if !self.devices[d].vanished
                && self.devices[d]
                    .machine
                    .poll_timeout()
                    .is_some_and(|t| t <= self.now)
            {
                self.with(d, |m, now| m.handle_timeout(now));
            }
        }
        true
    }

    fn deliver(&mut self, delivery: Delivery) {
        let to = match &delivery {
            Delivery::ToServer(..) => None,
            Delivery::Frame(d, ..)
            | Delivery::Opened(d, _)
            | Delivery::Closed(d)
            | Delivery::Push(d, _)
            | Delivery::Rtc(d, _) => Some(*d),
        };
        if to.is_some_and(|d| self.devices[d].vanished) {
            return;
        }
        match delivery {
            Delivery::ToServer(socket, text) => {
                let outs = self.server.handle(socket, &text, self.now);
                self.route(outs);
            }
            Delivery::Frame(d, socket, text) => {
                if self.devices[d].socket == Some(socket) {
                    self.with(d, |m, now| m.received(&text, now));
                }
            }
            Delivery::Opened(d, socket) => {
                self.devices[d].socket = Some(socket);
                self.with(d, |m, now| m.opened(now));
            }
            Delivery::Closed(d) => self.with(d, |m, now| m.closed(now)),
            Delivery::Push(d, push) => {
                if !self.devices[d].online {
                    return;
                }
                match push {
                    Pushed::Invited(invitation) => {
                        self.with(d, |m, now| m.call_invited(invitation, now))
                    }
                    Pushed::Ended(ended) => self.with(d, |m, now| m.call_ended(ended, now)),
                }
            }
            Delivery::Rtc(d, report) => self.with(d, |m, now| m.rtc(report, now)),
        }
    }

    fn route(&mut self, outs: Vec<Out>) {
        for out in outs {
            match out {
                Out::Frame(socket, text) => {
                    if let Some(d) = self.devices.iter().position(|d| d.socket == Some(socket)) {
                        self.schedule(LATENCY_MS, Delivery::Frame(d, socket, text));
                    }
                }
                Out::Push { user, except, push } => {
                    for d in 0..self.devices.len() {
                        let device = &self.devices[d];
                        if device.user == user && (except.is_none() || device.socket != except) {
                            let delay = LATENCY_MS + device.push_delay;
                            self.schedule(delay, Delivery::Push(d, push.clone()));
                        }
                    }
                }
            }
        }
    }

    /// Carries out device `d`'s actions.
    fn pump(&mut self, d: usize) {
        while let Some(action) = self.devices[d].machine.poll_action() {
            match action {
                CallAction::Open => {
                    self.devices[d].opens += 1;
                    if self.devices[d].online {
                        let socket = self.server.connect(self.devices[d].user.clone());
                        self.schedule(LATENCY_MS, Delivery::Opened(d, socket));
                    } else {
                        self.schedule(LATENCY_MS, Delivery::Closed(d));
                    }
                }
                CallAction::Close => {
                    if let Some(socket) = self.devices[d].socket.take() {
                        self.server.disconnect(socket, self.now);
                    }
                }
                CallAction::Send(text) => {
                    if self.devices[d].silent {
                        continue;
                    }
                    if let Some(socket) = self.devices[d].socket {
                        self.schedule(LATENCY_MS, Delivery::ToServer(socket, text));
                    }
                }
                CallAction::Rtc(command) => {
                    let name = self.devices[d].user.to_string();
                    for report in self.devices[d].rtc.handle(&name, command) {
                        self.schedule(RTC_MS, Delivery::Rtc(d, report));
                    }
                }
                CallAction::PlayTone(tone) => {
                    self.devices[d].tone = Some(tone);
                    self.devices[d].tones.push(tone);
                }
                CallAction::StopTone => self.devices[d].tone = None,
                CallAction::Show(view) => self.devices[d].shown.push(view),
            }
        }
    }
}
