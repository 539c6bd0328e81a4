//! A scripted media client for the SFU's tests and the load tool: a str0m
//! `Rtc` on its own UDP socket that publishes synthetic Opus-sized audio and
//! VP8-framed video and counts what it receives, per sender.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{
    Direction, Frequency, MediaKind, MediaTime, Mid, Rid, Simulcast, SimulcastLayer,
};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// What a scripted client publishes.
#[derive(Debug, Clone, Copy)]
pub struct MediaPlan {
    /// Audio frames per second (0: no audio track).
    pub audio_fps: u32,
    /// Video frames per second (0: no video track).
    pub video_fps: u32,
    /// Bytes of one video frame (str0m splits it into packets).
    pub video_frame_bytes: usize,
    /// Video as two simulcast layers, rids `h` then `l` (each frame carries
    /// its layer's letter at byte 10, so viewers can tell them apart).
    pub simulcast: bool,
}

impl MediaPlan {
    /// 50 audio frames and 15 video frames of 2500 bytes a second: a
    /// 320×240 camera at about 300 kbit/s.
    pub const SMALL_VIDEO: MediaPlan = MediaPlan {
        audio_fps: 50,
        video_fps: 15,
        video_frame_bytes: 2500,
        simulcast: false,
    };
}

/// Frames counted per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Frames {
    /// Audio frames.
    pub audio: u64,
    /// Video frames.
    pub video: u64,
}

#[derive(Debug)]
struct State {
    rtc: Rtc,
    pending: Option<SdpPendingOffer>,
    connected: bool,
    audio_mid: Option<Mid>,
    video_mid: Option<Mid>,
    sent: Frames,
    received: BTreeMap<String, Frames>,
    /// Video frames per sender and layer letter (byte 10 of the frame).
    layers: BTreeMap<(String, u8), u64>,
    keyframe_requests: u64,
    keyframe_due: bool,
    /// Mids the server offered, to tell its tracks from ours.
    offered: Vec<Mid>,
}

/// A running scripted client; its driver task stops when it is dropped.
#[derive(Debug)]
pub struct ScriptedClient {
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
    local: SocketAddr,
}

impl ScriptedClient {
    /// Binds a socket on `ip` and starts driving; returns the client and its
    /// first offer (sendonly audio and video as the plan asks).
    pub async fn start(
        ip: std::net::IpAddr,
        plan: MediaPlan,
    ) -> std::io::Result<(ScriptedClient, String)> {
        let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let local = socket.local_addr()?;
        let mut rtc = Rtc::builder()
            .set_crypto_provider(Arc::new(str0m::crypto::from_feature_flags()))
            .build(Instant::now());
        let candidate = Candidate::host(local, "udp").map_err(std::io::Error::other)?;
        rtc.add_local_candidate(candidate);
        let mut change = rtc.sdp_api();
        let audio_mid = (plan.audio_fps > 0)
            .then(|| change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None));
        let simulcast = plan.simulcast.then(|| {
            let mut s = Simulcast::new();
            for rid in LAYERS {
                s.add_send_layer(SimulcastLayer::new(rid));
            }
            s
        });
        let video_mid = (plan.video_fps > 0).then(|| {
            change.add_media(MediaKind::Video, Direction::SendOnly, None, None, simulcast)
        });
        let (offer, pending) = change
            .apply()
            .ok_or_else(|| std::io::Error::other("a client with nothing to publish"))?;
        let state = Arc::new(Mutex::new(State {
            rtc,
            pending: Some(pending),
            connected: false,
            audio_mid,
            video_mid,
            sent: Frames::default(),
            received: BTreeMap::new(),
            layers: BTreeMap::new(),
            keyframe_requests: 0,
            keyframe_due: true,
            offered: Vec::new(),
        }));
        let task = tokio::spawn(drive(socket, local, state.clone(), plan));
        Ok((ScriptedClient { state, task, local }, offer.to_sdp_string()))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic inside the driver leaves the counts readable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The client's UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Applies the server's answer to the join offer.
    pub fn accept_answer(&self, sdp: &str) -> Result<(), String> {
        let answer = SdpAnswer::from_sdp_string(sdp).map_err(|e| e.to_string())?;
        let mut state = self.lock();
        let pending = state.pending.take().ok_or("no offer of ours is pending")?;
        state
            .rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|e| e.to_string())
    }

    /// Answers a server offer.
    pub fn answer_offer(&self, sdp: &str) -> Result<String, String> {
        let offer = SdpOffer::from_sdp_string(sdp).map_err(|e| e.to_string())?;
        let mut state = self.lock();
        let answer = state
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| e.to_string())?;
        Ok(answer.to_sdp_string())
    }

    /// Whether ICE and DTLS are up.
    pub fn connected(&self) -> bool {
        self.lock().connected
    }

    /// Frames published so far.
    pub fn sent(&self) -> Frames {
        self.lock().sent
    }

    /// Frames received so far, per sender (the stream id the server gives a
    /// forwarded track is the sender's participant key).
    pub fn received(&self) -> BTreeMap<String, Frames> {
        self.lock().received.clone()
    }

    /// Video frames received from `sender` per simulcast layer letter.
    pub fn video_layers(&self, sender: &str) -> BTreeMap<char, u64> {
        self.lock()
            .layers
            .iter()
            .filter(|((s, _), _)| s == sender)
            .map(|((_, layer), n)| (char::from(*layer), *n))
            .collect()
    }

    /// Keyframe requests (PLI or FIR) the server sent this client.
    pub fn keyframe_requests(&self) -> u64 {
        self.lock().keyframe_requests
    }

    /// The senders whose tracks the client currently receives (negotiated, not stopped).
    pub fn viewed_senders(&self) -> Vec<String> {
        let state = self.lock();
        let mut senders: Vec<String> = state
            .offered
            .iter()
            .filter_map(|mid| state.rtc.media(*mid))
            .filter(|m| !m.stopped() && !m.disabled())
            .map(|m| m.stream_id().to_owned())
            .collect();
        senders.sort();
        senders.dedup();
        senders
    }
}

impl Drop for ScriptedClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The simulcast layers a client sends, in its SDP's order.
const LAYERS: [&str; 2] = ["h", "l"];

/// VP8 frame tag bits: bit 0 clear marks a keyframe; a keyframe also carries
/// the start code and the 320×240 size, as a decoder (or a packetizer) expects.
fn vp8_frame(bytes: usize, keyframe: bool, layer: u8) -> Vec<u8> {
    let mut frame = vec![0u8; bytes.max(11)];
    frame[10] = layer;
    if keyframe {
        frame[..10].copy_from_slice(&[0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00]);
    } else {
        frame[..3].copy_from_slice(&[0x11, 0x02, 0x00]);
    }
    frame
}

async fn drive(socket: UdpSocket, local: SocketAddr, state: Arc<Mutex<State>>, plan: MediaPlan) {
    let start = Instant::now();
    let period = |fps: u32| Duration::from_secs(1) / fps.max(1);
    let mut next_audio = start;
    let mut next_video = start;
    let mut buf = vec![0u8; 2048];
    loop {
        let wake = {
            let mut guard = state.lock().unwrap_or_else(|e| e.into_inner());
            let state = &mut *guard;
            let now = Instant::now();
            if state.connected {
                if plan.audio_fps > 0 && next_audio <= now {
                    send_audio(state, now.duration_since(start), now);
                    next_audio += period(plan.audio_fps);
                }
                if plan.video_fps > 0 && next_video <= now {
                    send_video(state, &plan, now.duration_since(start), now);
                    next_video += period(plan.video_fps);
                }
            } else {
                next_audio = now;
                next_video = now;
            }
            let mut timeout = poll(state, &socket);
            if state.connected {
                if plan.audio_fps > 0 {
                    timeout = timeout.min(next_audio);
                }
                if plan.video_fps > 0 {
                    timeout = timeout.min(next_video);
                }
            }
            // Signalling changes the Rtc from outside; look again soon.
            timeout.min(now + Duration::from_millis(20))
        };
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                let Ok((n, source)) = received else { continue };
                let Ok(contents) = buf[..n].try_into() else { continue };
                let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
                let input = Input::Receive(Instant::now(), Receive {
                    proto: Protocol::Udp, source, destination: local, contents,
                });
                if state.rtc.handle_input(input).is_err() {
                    return;
                }
            }
            () = tokio::time::sleep_until(wake.into()) => {
                let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
                if state.rtc.handle_input(Input::Timeout(Instant::now())).is_err() {
                    return;
                }
            }
        }
    }
}

fn send_audio(state: &mut State, elapsed: Duration, now: Instant) {
    let Some(mid) = state.audio_mid else { return };
    let Some(writer) = state.rtc.writer(mid) else {
        return;
    };
    let Some(pt) = writer
        .payload_params()
        .find(|p| p.spec().codec == Codec::Opus)
        .map(|p| p.pt())
    else {
        return;
    };
    let time = MediaTime::new(
        elapsed.as_micros() as u64 * 48 / 1000,
        Frequency::FORTY_EIGHT_KHZ,
    );
    if writer.write(pt, now, time, vec![0xfcu8; 80]).is_ok() {
        state.sent.audio += 1;
    }
}

fn send_video(state: &mut State, plan: &MediaPlan, elapsed: Duration, now: Instant) {
    let Some(mid) = state.video_mid else { return };
    let keyframe = state.keyframe_due;
    let Some(writer) = state.rtc.writer(mid) else {
        return;
    };
    let Some(pt) = writer
        .payload_params()
        .find(|p| p.spec().codec == Codec::Vp8)
        .map(|p| p.pt())
    else {
        return;
    };
    let time = MediaTime::new(
        elapsed.as_micros() as u64 * 90 / 1000,
        Frequency::NINETY_KHZ,
    );
    let written = if plan.simulcast {
        let mut written = false;
        for rid in LAYERS {
            let Some(writer) = state.rtc.writer(mid) else {
                return;
            };
            let frame = vp8_frame(plan.video_frame_bytes, keyframe, rid.as_bytes()[0]);
            written |= writer
                .rid(Rid::from(rid))
                .write(pt, now, time, frame)
                .is_ok();
        }
        written
    } else {
        let frame = vp8_frame(plan.video_frame_bytes, keyframe, b'-');
        writer.write(pt, now, time, frame).is_ok()
    };
    if written {
        state.sent.video += 1;
        state.keyframe_due = false;
    }
}

/// Polls until a timeout; returns it.
fn poll(state: &mut State, socket: &UdpSocket) -> Instant {
    loop {
        match state.rtc.poll_output() {
            Ok(Output::Timeout(t)) => return t,
            Ok(Output::Transmit(t)) => {
                let _ = socket.try_send_to(&t.contents, t.destination);
            }
            Ok(Output::Event(event)) => match event {
                Event::Connected => state.connected = true,
                Event::MediaAdded(added) => state.offered.push(added.mid),
                Event::MediaData(data) => {
                    let sender = state
                        .rtc
                        .media(data.mid)
                        .map(|m| m.stream_id().to_owned())
                        .unwrap_or_default();
                    let frames = state.received.entry(sender.clone()).or_default();
                    if data.params.spec().codec.is_audio() {
                        frames.audio += 1;
                    } else {
                        frames.video += 1;
                        let layer = data.data.get(10).copied().unwrap_or(0);
                        *state.layers.entry((sender, layer)).or_default() += 1;
                    }
                }
                Event::KeyframeRequest(_) => {
                    state.keyframe_requests += 1;
                    state.keyframe_due = true;
                }
                _ => {}
            },
            Err(_) => return Instant::now() + Duration::from_millis(100),
        }
    }
}
