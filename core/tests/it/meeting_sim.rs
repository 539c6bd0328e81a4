//! A simulated world for the meeting machine: a 24888 server keeping §13's
//! meetings (`SimServer`: starts, joins that replace an earlier
//! participation, an `offer` to everyone whose media changed, answers,
//! media, leaves, ends), devices each running a `MeetingMachine` with a
//! fake WebRTC side, a network with latency and cuts on demand, and a
//! simulated clock. No sockets, no real time, no media: the SFU itself is
//! tested in penpen-server-mock.

#![allow(dead_code)]

use penpen_core::meeting::{
    MeetingAction, MeetingMachine, MeetingRtcCommand, MeetingRtcReport, MeetingView,
};
use penpen_core::packets::call::CallRequest;
use penpen_core::packets::meeting::{
    MAX_PARTICIPANTS, MeetingEndReason, MeetingJoinReply, MeetingRequest, MeetingSignal,
    MeetingSignalBody, MeetingSignalEvent, MeetingStartReply, Participant, SignallingRequest,
};
use penpen_core::{Encoding, ErrorReply, Frame, GroupId, MeetingId, State, UserId};
use std::collections::BTreeMap;

/// One hop on the network.
pub const LATENCY_MS: i64 = 20;
/// The WebRTC side's time to do what it is told.
pub const RTC_MS: i64 = 5;
/// The clock at the start.
pub const T0: i64 = 1_795_000_000_000;

type SocketId = u32;

/// The fake WebRTC side of a device: it answers commands with reports and
/// "connects" once its peer connection has its offer and the answer.
#[derive(Debug, Default)]
pub struct FakeRtc {
    /// The device has a camera to give.
    pub has_camera: bool,
    pub media: bool,
    pub mic: bool,
    pub camera: bool,
    pub peer_connection: bool,
    /// Peer connections created so far (the generation of the current one).
    pub peer_connections: u32,
    local: bool,
    remote: bool,
    pub connected: bool,
    pub offers: u32,
    pub answers: u32,
}

impl FakeRtc {
    fn handle(&mut self, name: &str, command: MeetingRtcCommand) -> Vec<MeetingRtcReport> {
        match command {
            MeetingRtcCommand::StartMedia { camera } => {
                self.media = true;
                self.mic = true;
                self.camera = camera && self.has_camera;
                vec![MeetingRtcReport::MediaStarted {
                    camera: self.camera,
                }]
            }
            MeetingRtcCommand::CreatePeerConnection { .. } => {
                self.peer_connection = true;
                self.peer_connections += 1;
                (self.local, self.remote, self.connected) = (false, false, false);
                vec![]
            }
            MeetingRtcCommand::CreateOffer => {
                self.offers += 1;
                self.local = true;
                let sdp = format!("v=0\r\no={name} offer {}\r\n", self.offers);
                vec![MeetingRtcReport::OfferCreated { sdp }]
            }
            MeetingRtcCommand::ApplyAnswer { .. } => {
                self.remote = true;
                self.connect()
            }
            MeetingRtcCommand::CreateAnswer { .. } => {
                self.answers += 1;
                let sdp = format!("v=0\r\no={name} answer {}\r\n", self.answers);
                vec![MeetingRtcReport::AnswerCreated { sdp }]
            }
            MeetingRtcCommand::SetMic(on) => {
                self.mic = on;
                vec![]
            }
            MeetingRtcCommand::SetCamera(on) => {
                self.camera = on && self.has_camera;
                vec![MeetingRtcReport::CameraChanged(self.camera)]
            }
            MeetingRtcCommand::ClosePeerConnection => {
                (self.peer_connection, self.connected) = (false, false);
                vec![]
            }
            MeetingRtcCommand::StopMedia => {
                (self.media, self.camera) = (false, false);
                vec![]
            }
        }
    }

    fn connect(&mut self) -> Vec<MeetingRtcReport> {
        if self.peer_connection && self.local && self.remote && !self.connected {
            self.connected = true;
            vec![MeetingRtcReport::Connected]
        } else {
            vec![]
        }
    }
}

struct Part {
    user: UserId,
    socket: SocketId,
    mic: bool,
    camera: bool,
    /// An offer of ours waits for its answer.
    waiting: bool,
    /// The media changed again meanwhile: another offer follows the answer.
    again: bool,
}

struct Room {
    id: MeetingId,
    gid: GroupId,
    starter: UserId,
    parts: Vec<Part>,
}

/// The 24888 server's meetings, as §13 says (no grace timers: a participant
/// whose socket is gone keeps its place until it joins again or leaves).
#[derive(Default)]
pub struct SimServer {
    /// The members of each group.
    pub members: BTreeMap<GroupId, Vec<UserId>>,
    rooms: Vec<Room>,
    /// Open sockets and their users.
    sockets: BTreeMap<SocketId, UserId>,
    next_meeting: u64,
    /// Offers sent to participants so far.
    pub offers: u32,
}

fn encode<T: serde::Serialize>(packet: &T) -> String {
    Frame::encode(Encoding::Base64, packet).expect("frame")
}

fn refusal(state: State) -> String {
    encode(&ErrorReply::new(state, "refused by the simulated server"))
}

fn signal(meeting: &MeetingId, event: MeetingSignalEvent) -> String {
    encode(&MeetingSignal {
        signal: MeetingSignalBody {
            meeting: meeting.clone(),
            event,
        },
    })
}

impl Room {
    fn list(&self) -> Vec<Participant> {
        self.parts
            .iter()
            .map(|p| Participant {
                user: p.user.clone(),
                mic: p.mic,
                camera: p.camera,
            })
            .collect()
    }

    /// The index of the participant this socket carries.
    fn carried(&self, socket: SocketId) -> Option<usize> {
        self.parts.iter().position(|p| p.socket == socket)
    }
}

impl SimServer {
    fn open(&mut self, socket: SocketId, user: UserId) {
        self.sockets.insert(socket, user);
    }

    fn close(&mut self, socket: SocketId) {
        self.sockets.remove(&socket);
    }

    /// The participants a user's media reaches; how many take part now.
    pub fn participants(&self, meeting: &MeetingId) -> Option<Vec<UserId>> {
        let room = self.rooms.iter().find(|r| r.id == *meeting)?;
        Some(room.parts.iter().map(|p| p.user.clone()).collect())
    }

    /// Offers still waiting for their answers, in every meeting.
    pub fn offers_waiting(&self) -> usize {
        let parts = self.rooms.iter().flat_map(|r| r.parts.iter());
        parts.filter(|p| p.waiting || p.again).count()
    }

    /// Every participant gets a new offer (their media changed), at most
    /// one waiting for its answer at a time.
    fn offer_all(&mut self, room: usize, out: &mut Vec<(SocketId, String)>) {
        for i in 0..self.rooms[room].parts.len() {
            self.offer(room, i, out);
        }
    }

    fn offer(&mut self, room: usize, part: usize, out: &mut Vec<(SocketId, String)>) {
        let list = self.rooms[room].list();
        let id = self.rooms[room].id.clone();
        let part = &mut self.rooms[room].parts[part];
        if part.waiting {
            part.again = true;
            return;
        }
        (part.waiting, part.again) = (true, false);
        self.offers += 1;
        let event = MeetingSignalEvent::Offer {
            sdp: format!("v=0\r\no=server offer {}\r\n", self.offers),
            participants: list,
        };
        out.push((part.socket, signal(&id, event)));
    }

    /// A request from `socket`: the reply first, then the signals it caused.
    fn handle(&mut self, socket: SocketId, text: &str) -> Vec<(SocketId, String)> {
        let Some(user) = self.sockets.get(&socket).cloned() else {
            return Vec::new();
        };
        let request = Frame::decode(text)
            .and_then(|f| SignallingRequest::from_frame(&f))
            .expect("the machine sends valid requests");
        let mut out = Vec::new();
        let reply = match request {
            SignallingRequest::Call(CallRequest::IceServers) => {
                Frame::encode_payload(Encoding::Base64, r#"{"state":11,"ice_servers":[]}"#)
                    .expect("frame")
            }
            SignallingRequest::Call(other) => panic!("a meeting sends no {other:?}"),
            SignallingRequest::Meeting(request) => {
                self.meeting_request(socket, user, request, &mut out)
            }
        };
        out.insert(0, (socket, reply));
        out
    }

    fn member(&self, gid: &GroupId, user: &UserId) -> bool {
        self.members.get(gid).is_some_and(|m| m.contains(user))
    }

    fn meeting_request(
        &mut self,
        socket: SocketId,
        user: UserId,
        request: MeetingRequest,
        out: &mut Vec<(SocketId, String)>,
    ) -> String {
        let ok = || encode(&ErrorReply::new(State::SUCCESS, ""));
        if let MeetingRequest::Start(gid) = request {
            if !self.member(&gid, &user) {
                return refusal(State::NOT_A_MEMBER);
            }
            let meeting = match self.rooms.iter().find(|r| r.gid == gid) {
                Some(room) => room.id.clone(),
                None => {
                    self.next_meeting += 1;
                    let id = MeetingId::generated(7, self.next_meeting);
                    self.rooms.push(Room {
                        id: id.clone(),
                        gid,
                        starter: user,
                        parts: Vec::new(),
                    });
                    id
                }
            };
            return encode(&MeetingStartReply {
                state: State::SUCCESS,
                meeting,
            });
        }
        let meeting = request.meeting().expect("every other request names it");
        let Some(r) = self.rooms.iter().position(|r| r.id == *meeting) else {
            return refusal(State::CALL_GONE);
        };
        if !self.member(&self.rooms[r].gid.clone(), &user) {
            return refusal(State::NOT_A_MEMBER);
        }
        let carried = self.rooms[r].carried(socket);
        match request {
            MeetingRequest::Join { mic, camera, .. } => {
                let room = &mut self.rooms[r];
                let full = room.parts.len() >= MAX_PARTICIPANTS;
                match room.parts.iter_mut().find(|p| p.user == user) {
                    Some(part) => {
                        let old = std::mem::replace(&mut part.socket, socket);
                        (part.mic, part.camera) = (mic, camera);
                        // A new peer connection: the old one's offer is moot.
                        (part.waiting, part.again) = (false, false);
                        if old != socket && self.sockets.contains_key(&old) {
                            let ended =
                                MeetingSignalEvent::Ended(MeetingEndReason::JoinedElsewhere);
                            out.push((old, signal(&room.id, ended)));
                        }
                    }
                    None if full => {
                        return refusal(State::MEETING_FULL);
                    }
                    None => room.parts.push(Part {
                        user,
                        socket,
                        mic,
                        camera,
                        waiting: false,
                        again: false,
                    }),
                }
                let reply = encode(&MeetingJoinReply {
                    state: State::SUCCESS,
                    sdp: "v=0\r\no=server answer\r\n".into(),
                    participants: room.list(),
                });
                // Alone, the joiner has nothing to receive.
                if room.parts.len() > 1 {
                    self.offer_all(r, out);
                }
                reply
            }
            _ if carried.is_none() => refusal(State::CALL_GONE),
            MeetingRequest::Answer { .. } => {
                let me = carried.expect("checked above");
                let part = &mut self.rooms[r].parts[me];
                if !part.waiting {
                    return refusal(State::CALL_GONE);
                }
                part.waiting = false;
                if part.again {
                    self.offer(r, me, out);
                }
                ok()
            }
            MeetingRequest::Media { mic, camera, .. } => {
                let room = &mut self.rooms[r];
                let me = carried.expect("checked above");
                (room.parts[me].mic, room.parts[me].camera) = (mic, camera);
                let list = room.list();
                for part in room.parts.iter().filter(|p| p.socket != socket) {
                    let event = MeetingSignalEvent::Participants(list.clone());
                    out.push((part.socket, signal(&room.id, event)));
                }
                ok()
            }
            MeetingRequest::Leave(_) => {
                self.rooms[r].parts.remove(carried.expect("checked above"));
                if self.rooms[r].parts.is_empty() {
                    self.rooms.remove(r);
                } else {
                    self.offer_all(r, out);
                }
                ok()
            }
            MeetingRequest::End(_) => {
                let room = &self.rooms[r];
                if room.starter != user {
                    return refusal(State::FORBIDDEN);
                }
                for part in room.parts.iter().filter(|p| p.socket != socket) {
                    let ended = MeetingSignalEvent::Ended(MeetingEndReason::Ended);
                    out.push((part.socket, signal(&room.id, ended)));
                }
                self.rooms.remove(r);
                ok()
            }
            MeetingRequest::Start(_) => unreachable!("answered above"),
        }
    }
}

/// One signed-in device: its machine, its WebRTC side, its socket.
pub struct Device {
    pub user: UserId,
    pub machine: MeetingMachine,
    pub rtc: FakeRtc,
    socket: Option<SocketId>,
    /// Every view the machine showed, in order.
    pub shown: Vec<MeetingView>,
}

impl Device {
    pub fn view(&self) -> MeetingView {
        self.machine.view()
    }
}

enum Event {
    Opened(usize, SocketId),
    ToServer(SocketId, String),
    ServerClose(SocketId),
    ToDevice(usize, SocketId, String),
    /// A report of the WebRTC side, from peer connection generation `.1`.
    Rtc(usize, u32, MeetingRtcReport),
}

/// The server, the devices and the network, on one clock.
pub struct World {
    pub now: i64,
    pub server: SimServer,
    pub devices: Vec<Device>,
    queue: Vec<(i64, u64, Event)>,
    seq: u64,
    next_socket: SocketId,
}

impl World {
    /// Devices for users 1..=n (all with a camera), members of `gid`.
    pub fn new(gid: GroupId, n: u64) -> World {
        let mut server = SimServer::default();
        let users: Vec<UserId> = (1..=n).map(penpen_core::testing::user).collect();
        server.members.insert(gid, users.clone());
        let devices = users
            .into_iter()
            .enumerate()
            .map(|(i, user)| Device {
                user,
                machine: MeetingMachine::new(i as u64 + 1),
                rtc: FakeRtc {
                    has_camera: true,
                    ..FakeRtc::default()
                },
                socket: None,
                shown: Vec::new(),
            })
            .collect();
        World {
            now: T0,
            server,
            devices,
            queue: Vec::new(),
            seq: 0,
            next_socket: 1,
        }
    }

    fn at(&mut self, delay: i64, event: Event) {
        self.seq += 1;
        self.queue.push((self.now + delay, self.seq, event));
    }

    /// Carries out what device `d`'s machine asks for.
    pub fn pump(&mut self, d: usize) {
        while let Some(action) = self.devices[d].machine.poll_action() {
            match action {
                MeetingAction::Open => {
                    let socket = self.next_socket;
                    self.next_socket += 1;
                    self.devices[d].socket = Some(socket);
                    self.at(LATENCY_MS, Event::Opened(d, socket));
                }
                MeetingAction::Close => {
                    if let Some(socket) = self.devices[d].socket.take() {
                        self.at(LATENCY_MS, Event::ServerClose(socket));
                    }
                }
                MeetingAction::Send(text) => {
                    let socket = self.devices[d]
                        .socket
                        .expect("sends only on an open socket");
                    self.at(LATENCY_MS, Event::ToServer(socket, text));
                }
                MeetingAction::Rtc(command) => {
                    let name = self.devices[d].user.to_string();
                    let reports = self.devices[d].rtc.handle(&name, command);
                    let generation = self.devices[d].rtc.peer_connections;
                    for report in reports {
                        self.at(RTC_MS, Event::Rtc(d, generation, report));
                    }
                }
                MeetingAction::Show(view) => self.devices[d].shown.push(view),
            }
        }
    }

    /// Cuts device `d`'s socket (the server sees it go at once).
    pub fn cut(&mut self, d: usize) {
        if let Some(socket) = self.devices[d].socket.take() {
            self.server.close(socket);
            self.devices[d].machine.closed(self.now);
            self.pump(d);
        }
    }

    /// Device `d`'s peer connection fails.
    pub fn fail_media(&mut self, d: usize) {
        self.devices[d].rtc.connected = false;
        self.devices[d]
            .machine
            .rtc(MeetingRtcReport::Failed, self.now);
        self.pump(d);
    }

    /// Does something with device `d`'s machine now, then carries out what
    /// it asked for.
    pub fn with<T>(&mut self, d: usize, f: impl FnOnce(&mut MeetingMachine, i64) -> T) -> T {
        let result = f(&mut self.devices[d].machine, self.now);
        self.pump(d);
        result
    }

    /// Runs the world until `until`.
    pub fn run_until(&mut self, until: i64) {
        loop {
            let next_event = self.queue.iter().map(|(at, seq, _)| (*at, *seq)).min();
            let next_timer = (0..self.devices.len())
                .filter_map(|d| self.devices[d].machine.poll_timeout().map(|t| (t, d)))
                .min();
            let event_at = next_event.map(|(at, _)| at);
            let timer_at = next_timer.map(|(at, _)| at);
            let Some(at) = [event_at, timer_at].into_iter().flatten().min() else {
                break;
            };
            if at > until {
                break;
            }
            self.now = self.now.max(at);
            match (next_event, next_timer) {
                (Some((at, seq)), _) if Some(at) <= timer_at || timer_at.is_none() => {
                    let i = self
                        .queue
                        .iter()
                        .position(|(a, s, _)| (*a, *s) == (at, seq))
                        .expect("found above");
                    let (_, _, event) = self.queue.remove(i);
                    self.deliver(event);
                }
                (_, Some((_, d))) => {
                    let now = self.now;
                    self.devices[d].machine.handle_timeout(now);
                    self.pump(d);
                }
                _ => unreachable!("one of them is due"),
            }
        }
        self.now = self.now.max(until);
    }

    /// Runs the world for `ms`.
    pub fn run(&mut self, ms: i64) {
        self.run_until(self.now + ms);
    }

    fn device_of(&self, socket: SocketId) -> Option<usize> {
        self.devices.iter().position(|d| d.socket == Some(socket))
    }

    fn deliver(&mut self, event: Event) {
        let now = self.now;
        match event {
            Event::Opened(d, socket) => {
                if self.devices[d].socket == Some(socket) {
                    let user = self.devices[d].user.clone();
                    self.server.open(socket, user);
                    self.devices[d].machine.opened(now);
                    self.pump(d);
                }
            }
            Event::ToServer(socket, text) => {
                for (to, frame) in self.server.handle(socket, &text) {
                    if let Some(d) = self.device_of(to) {
                        self.at(LATENCY_MS, Event::ToDevice(d, to, frame));
                    }
                }
            }
            Event::ServerClose(socket) => self.server.close(socket),
            Event::ToDevice(d, socket, frame) => {
                if self.devices[d].socket == Some(socket) {
                    self.devices[d].machine.received(&frame, now);
                    self.pump(d);
                }
            }
            Event::Rtc(d, generation, report) => {
                let rtc = &self.devices[d].rtc;
                let of_peer_connection = !matches!(
                    report,
                    MeetingRtcReport::MediaStarted { .. } | MeetingRtcReport::CameraChanged(_)
                );
                // Nothing is reported from a closed or replaced peer connection.
                if of_peer_connection
                    && (!rtc.peer_connection || rtc.peer_connections != generation)
                {
                    return;
                }
                self.devices[d].machine.rtc(report, now);
                self.pump(d);
            }
        }
    }
}
