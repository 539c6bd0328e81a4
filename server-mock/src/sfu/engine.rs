//! The task that owns the media socket and every participant's `Rtc`.

use super::participant::{Happening, Participant};
use super::{Counters, ParticipantKey, RoomKey, SfuConfig, SfuError, SfuEvent};
use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use str0m::media::KeyframeRequestKind;
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Input, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

/// The largest datagram read; WebRTC keeps packets under the path MTU.
const DATAGRAM_MAX: usize = 2048;
/// How often silent participants are looked for.
const LOST_CHECK: Duration = Duration::from_millis(250);

type Reply<T> = oneshot::Sender<Result<T, SfuError>>;

/// What the handles ask of the task.
#[derive(Debug)]
pub(super) enum Command {
    Join {
        room: RoomKey,
        participant: ParticipantKey,
        offer: String,
        reply: Reply<String>,
    },
    Answer {
        participant: ParticipantKey,
        sdp: String,
        reply: Reply<()>,
    },
    Reoffer {
        participant: ParticipantKey,
        offer: String,
        reply: Reply<String>,
    },
    Leave {
        participant: ParticipantKey,
        reply: Reply<()>,
    },
    Contains {
        participant: ParticipantKey,
        reply: oneshot::Sender<bool>,
    },
    SelectLayer {
        viewer: ParticipantKey,
        sender: ParticipantKey,
        rid: String,
        reply: Reply<()>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

pub(super) struct Engine {
    socket: UdpSocket,
    local: SocketAddr,
    advertised: SocketAddr,
    max_per_room: usize,
    lost_after: Duration,
    crypto: Arc<str0m::config::CryptoProvider>,
    participants: Vec<Participant>,
    events: mpsc::UnboundedSender<SfuEvent>,
    counters: Arc<Counters>,
    next_lost_check: Instant,
}

impl Engine {
    pub(super) fn new(
        socket: UdpSocket,
        local: SocketAddr,
        advertised: SocketAddr,
        config: &SfuConfig,
        events: mpsc::UnboundedSender<SfuEvent>,
        counters: Arc<Counters>,
    ) -> Engine {
        Engine {
            socket,
            local,
            advertised,
            max_per_room: config.max_per_room,
            lost_after: config.lost_after,
            crypto: Arc::new(str0m::crypto::from_feature_flags()),
            participants: Vec::new(),
            events,
            counters,
            next_lost_check: Instant::now(),
        }
    }

    pub(super) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut buf = vec![0u8; DATAGRAM_MAX];
        loop {
            self.drive();
            let wake = self
                .participants
                .iter()
                .map(|p| p.next_timeout)
                .chain([self.next_lost_check])
                .min()
                .unwrap_or(self.next_lost_check);
            tokio::select! {
                received = self.socket.recv_from(&mut buf) => match received {
                    Ok((n, source)) => self.on_datagram(&buf[..n], source),
                    // ICMP port-unreachable from a client that went away shows up
                    // here on some systems; the lost check handles the client.
                    Err(e) => tracing::debug!(error = %e, "media socket read failed"),
                },
                command = commands.recv() => match command {
                    Some(Command::Shutdown { reply }) => {
                        self.close_all();
                        let _ = reply.send(());
                        return;
                    }
                    Some(command) => self.on_command(command),
                    None => {
                        self.close_all();
                        return;
                    }
                },
                () = tokio::time::sleep_until(wake.into()) => self.on_timeout(),
            }
        }
    }

    fn on_datagram(&mut self, data: &[u8], source: SocketAddr) {
        self.counters.datagrams_in.fetch_add(1, Ordering::Relaxed);
        let Ok(contents) = data.try_into() else {
            return;
        };
        let now = Instant::now();
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.local,
                contents,
            },
        );
        let Some(p) = self.participants.iter_mut().find(|p| p.rtc.accepts(&input)) else {
            return;
        };
        p.mark_heard(now);
        if let Err(e) = p.rtc.handle_input(input) {
            tracing::debug!(participant = %p.key, error = %e, "bad media datagram");
        }
    }

    fn on_timeout(&mut self) {
        let now = Instant::now();
        for p in &mut self.participants {
            if p.next_timeout <= now {
                if let Err(e) = p.rtc.handle_input(Input::Timeout(now)) {
                    tracing::info!(participant = %p.key, error = %e, "media connection failed");
                    p.rtc.disconnect();
                }
                p.dirty = true;
            }
        }
        if self.next_lost_check <= now {
            self.next_lost_check = now + LOST_CHECK;
            let lost_after = self.lost_after;
            let lost: Vec<ParticipantKey> = self
                .participants
                .iter()
                .filter(|p| !p.is_alive() || p.is_silent(now, lost_after))
                .map(|p| p.key.clone())
                .collect();
            for key in lost {
                if let Some(room) = self.remove(&key) {
                    tracing::info!(participant = %key, %room, "media connection lost");
                    let _ = self.events.send(SfuEvent::Lost {
                        participant: key,
                        room,
                    });
                }
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Join {
                room,
                participant,
                offer,
                reply,
            } => {
                let _ = reply.send(self.join(room, participant, &offer));
            }
            Command::Answer {
                participant,
                sdp,
                reply,
            } => {
                let _ = reply.send(self.answer(&participant, &sdp));
            }
            Command::Reoffer {
                participant,
                offer,
                reply,
            } => {
                let result = match self.find(&participant) {
                    Some(i) => self.participants[i].accept_offer(&offer),
                    None => Err(SfuError::UnknownParticipant(participant)),
                };
                let _ = reply.send(result);
            }
            Command::Leave { participant, reply } => {
                let result = match self.remove(&participant) {
                    Some(_) => Ok(()),
                    None => Err(SfuError::UnknownParticipant(participant)),
                };
                let _ = reply.send(result);
            }
            Command::Contains { participant, reply } => {
                let _ = reply.send(self.find(&participant).is_some());
            }
            Command::SelectLayer {
                viewer,
                sender,
                rid,
                reply,
            } => {
                let _ = reply.send(self.select_layer(&viewer, &sender, &rid));
            }
            Command::Shutdown { .. } => {}
        }
    }

    fn join(
        &mut self,
        room: RoomKey,
        key: ParticipantKey,
        offer: &str,
    ) -> Result<String, SfuError> {
        if self.find(&key).is_some() {
            return Err(SfuError::AlreadyJoined(key));
        }
        let in_room = self.participants.iter().filter(|p| p.room == room).count();
        if in_room >= self.max_per_room {
            return Err(SfuError::RoomFull {
                room,
                max: self.max_per_room,
            });
        }
        let now = Instant::now();
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .set_crypto_provider(self.crypto.clone())
            .build(now);
        let candidate = Candidate::host(self.advertised, "udp")
            .map_err(|_| SfuError::BadAddress(self.advertised))?;
        rtc.add_local_candidate(candidate);
        let mut newcomer = Participant::new(key, room.clone(), rtc, now);
        let answer = newcomer.accept_offer(offer)?;
        for other in self.participants.iter().filter(|p| p.room == room) {
            for track in &other.tracks_in {
                newcomer.add_track_out(
                    other.key.clone(),
                    track.mid,
                    track.kind,
                    track.default_layer(),
                );
            }
        }
        self.participants.push(newcomer);
        self.count_rooms();
        Ok(answer)
    }

    fn answer(&mut self, key: &ParticipantKey, sdp: &str) -> Result<(), SfuError> {
        let i = self
            .find(key)
            .ok_or_else(|| SfuError::UnknownParticipant(key.clone()))?;
        let opened = self.participants[i].accept_answer(sdp)?;
        for (origin, mid) in opened {
            if let Some(sender) = self.participants.iter_mut().find(|p| p.key == origin) {
                sender.want_keyframe(mid, KeyframeRequestKind::Pli);
            }
        }
        Ok(())
    }

    fn select_layer(
        &mut self,
        viewer: &ParticipantKey,
        sender: &ParticipantKey,
        rid: &str,
    ) -> Result<(), SfuError> {
        let s = self
            .find(sender)
            .ok_or_else(|| SfuError::UnknownParticipant(sender.clone()))?;
        let Some(track) = self.participants[s]
            .tracks_in
            .iter()
            .find(|t| t.layers.iter().any(|l| &**l == rid))
        else {
            return Err(SfuError::UnknownLayer {
                sender: sender.clone(),
                rid: rid.to_owned(),
            });
        };
        let (mid, layer) = (
            track.mid,
            track.layers.iter().copied().find(|l| &**l == rid),
        );
        let v = self
            .find(viewer)
            .ok_or_else(|| SfuError::UnknownParticipant(viewer.clone()))?;
        if !layer.is_some_and(|l| self.participants[v].select_layer(sender, l)) {
            return Err(SfuError::UnknownLayer {
                sender: sender.clone(),
                rid: rid.to_owned(),
            });
        }
        // The new layer's stream must start with a keyframe for this viewer.
        self.participants[s].want_keyframe(mid, KeyframeRequestKind::Pli);
        Ok(())
    }

    /// Drops a participant and withdraws its tracks from its room; returns its room.
    fn remove(&mut self, key: &ParticipantKey) -> Option<RoomKey> {
        let i = self.find(key)?;
        let mut gone = self.participants.swap_remove(i);
        gone.rtc.disconnect();
        for p in self.participants.iter_mut().filter(|p| p.room == gone.room) {
            p.remove_origin(key);
        }
        self.count_rooms();
        Some(gone.room)
    }

    fn find(&self, key: &ParticipantKey) -> Option<usize> {
        self.participants.iter().position(|p| &p.key == key)
    }

    fn count_rooms(&self) {
        let rooms: BTreeSet<&RoomKey> = self.participants.iter().map(|p| &p.room).collect();
        self.counters
            .participants
            .store(self.participants.len() as u64, Ordering::Relaxed);
        self.counters
            .rooms
            .store(rooms.len() as u64, Ordering::Relaxed);
    }

    /// Polls every participant that has work until none has, carrying what
    /// one produces (frames, new tracks, keyframe requests) to the others.
    fn drive(&mut self) {
        let mut happenings = Vec::new();
        let mut queue: VecDeque<usize> = (0..self.participants.len())
            .filter(|&i| self.participants[i].dirty)
            .collect();
        while let Some(i) = queue.pop_front() {
            let socket = &self.socket;
            let sent = &self.counters.datagrams_out;
            let p = &mut self.participants[i];
            if !p.dirty {
                continue;
            }
            p.poll(
                &mut |t| {
                    // UDP may drop; a full send buffer is one more drop.
                    if socket.try_send_to(&t.contents, t.destination).is_ok() {
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                },
                &mut happenings,
            );
            if let Some(sdp) = p.next_offer() {
                let _ = self.events.send(SfuEvent::Offer {
                    participant: p.key.clone(),
                    sdp,
                });
                p.dirty = true;
            }
            if p.dirty {
                queue.push_back(i);
            }
            for happening in happenings.drain(..) {
                self.spread(i, happening);
            }
            for (j, other) in self.participants.iter().enumerate() {
                if other.dirty && !queue.contains(&j) {
                    queue.push_back(j);
                }
            }
        }
    }

    fn spread(&mut self, from: usize, happening: Happening) {
        let origin = self.participants[from].key.clone();
        let room = self.participants[from].room.clone();
        match happening {
            Happening::TrackAdded(mid) => {
                let Some(track) = self.participants[from]
                    .tracks_in
                    .iter()
                    .find(|t| t.mid == mid)
                else {
                    return;
                };
                let (kind, layer) = (track.kind, track.default_layer());
                for p in self.participants.iter_mut() {
                    if p.room == room && p.key != origin {
                        p.add_track_out(origin.clone(), mid, kind, layer);
                    }
                }
            }
            Happening::Media(data) => {
                self.counters.received.fetch_add(1, Ordering::Relaxed);
                let mut forwarded = 0;
                for p in self.participants.iter_mut() {
                    if p.room == room && p.key != origin && p.forward(&origin, &data) {
                        forwarded += 1;
                    }
                }
                self.counters
                    .forwarded
                    .fetch_add(forwarded, Ordering::Relaxed);
            }
            Happening::KeyframeWanted(mid, kind) => {
                let Some((sender, sender_mid)) = self.participants[from].viewed_origin(mid) else {
                    return;
                };
                if let Some(s) = self.participants.iter_mut().find(|p| p.key == sender) {
                    s.want_keyframe(sender_mid, kind);
                }
            }
        }
    }

    fn close_all(&mut self) {
        for p in &mut self.participants {
            p.rtc.disconnect();
        }
        self.participants.clear();
        self.count_rooms();
    }
}
