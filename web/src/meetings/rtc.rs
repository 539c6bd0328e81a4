//! The meeting machine's WebRTC side: the microphone and camera, one peer
//! connection to the server's media forwarder with a `sendonly` audio and
//! a `sendonly` video transceiver (§13: the camera turns on and off by
//! `replaceTrack`, never by renegotiating), the tracks the server forwards,
//! grouped by the stream they came in (the sender's user id), and each
//! sender's figures from `getStats()`.
//!
//! As for a call (`crate::calls::rtc`), one task carries out the jobs in
//! order and reports on a channel, each report of a peer connection tagged
//! with its epoch so that one the machine has closed cannot reach it. The
//! capture, the descriptions and the ICE configuration are the call's.

use super::RemoteUser;
use crate::calls::DeviceKind;
use crate::calls::rtc::media::{capture, describe, stop_tracks, stream_of, tracks};
use crate::calls::rtc::peer::{
    LinkState, apply_answer, configuration, create_answer, create_offer, watch_state,
};
use crate::calls::stats::{number, text, values};
use futures::StreamExt;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use penpen_core::meeting::{MeetingRtcCommand, MeetingRtcReport};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamTrack, MediaStreamTrackState, RtcPeerConnection, RtcRtpTransceiver,
    RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcTrackEvent,
};

/// What the meeting's WebRTC side tells the driver.
#[derive(Debug)]
pub enum MeetingRtcEvent {
    /// For the meeting machine; `epoch` is the peer connection it came
    /// from (none for the local media, which outlives connections).
    Report {
        /// The connection's epoch, when the report is about one.
        epoch: Option<u64>,
        /// What happened.
        report: MeetingRtcReport,
    },
    /// The streams or the figures changed: read them with [`MeetingRtc::media`].
    Changed,
}

#[derive(Debug)]
enum Job {
    Machine(MeetingRtcCommand, u64),
    Stats,
}

/// What the screen shows of the meeting's media.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeetingMedia {
    /// Our microphone and camera.
    pub local: Option<MediaStream>,
    /// The others' media, by participant.
    pub remotes: Vec<RemoteUser>,
    /// Our microphone's level at the last measurement, 0 to 1.
    pub local_level: f32,
}

/// The driver's handle on the meeting's WebRTC task.
pub struct MeetingRtc {
    jobs: UnboundedSender<Job>,
    state: Rc<RefCell<State>>,
    epoch: u64,
}

impl std::fmt::Debug for MeetingRtc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeetingRtc")
            .field("epoch", &self.epoch)
            .finish()
    }
}

impl MeetingRtc {
    /// Starts the task; its events come on the returned receiver.
    pub fn start() -> (MeetingRtc, UnboundedReceiver<MeetingRtcEvent>) {
        let (jobs, queue) = unbounded();
        let (events, inbox) = unbounded();
        let state = Rc::new(RefCell::new(State::default()));
        wasm_bindgen_futures::spawn_local(work(queue, state.clone(), events));
        (
            MeetingRtc {
                jobs,
                state,
                epoch: 0,
            },
            inbox,
        )
    }

    /// Queues the meeting machine's command.
    pub fn give(&mut self, command: MeetingRtcCommand) {
        if matches!(
            command,
            MeetingRtcCommand::CreatePeerConnection { .. } | MeetingRtcCommand::ClosePeerConnection
        ) {
            self.epoch += 1;
        }
        self.queue(Job::Machine(command, self.epoch));
    }

    /// Whether a report tagged `epoch` is still for the machine.
    pub fn current(&self, epoch: Option<u64>) -> bool {
        epoch.is_none_or(|e| e == self.epoch)
    }

    /// Reads the connection's statistics (reported as [`MeetingRtcEvent::Changed`]).
    pub fn measure(&self) {
        self.queue(Job::Stats);
    }

    /// What the screen shows of the media now.
    pub fn media(&self) -> MeetingMedia {
        let state = self.state.borrow();
        MeetingMedia {
            local: state.local.clone(),
            remotes: state.remotes.clone(),
            local_level: state.local_level,
        }
    }

    fn queue(&self, job: Job) {
        // The task lives as long as the sender.
        let _ = self.jobs.unbounded_send(job);
    }
}

impl Drop for MeetingRtc {
    fn drop(&mut self) {
        // The session ended: nothing may keep the microphone or camera.
        let mut state = self.state.borrow_mut();
        state.forget_connection();
        if let Some(local) = state.local.take() {
            stop_tracks(&local);
        }
    }
}

#[derive(Default)]
struct State {
    local: Option<MediaStream>,
    /// Whether the microphone sends (kept across captures).
    mic_off: bool,
    peer: Option<Peer>,
    remotes: Vec<RemoteUser>,
    /// The stream each received track came in (track id, stream id), as
    /// the `track` events said.
    stream_of_track: Vec<(String, String)>,
    local_level: f32,
}

impl State {
    fn forget_connection(&mut self) {
        self.peer = None;
        self.remotes.clear();
        self.stream_of_track.clear();
        self.local_level = 0.0;
    }

    fn local_track(&self, kind: &str) -> Option<MediaStreamTrack> {
        let local = self.local.as_ref()?;
        tracks(&local.get_tracks())
            .into_iter()
            .find(|t| t.kind() == kind)
    }
}

/// The peer connection, our two transceivers, and the handlers.
struct Peer {
    connection: RtcPeerConnection,
    epoch: u64,
    video: RtcRtpTransceiver,
    _on_state: Closure<dyn FnMut()>,
    _on_track: Closure<dyn FnMut(RtcTrackEvent)>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.connection.set_onconnectionstatechange(None);
        self.connection.set_ontrack(None);
        self.connection.close();
    }
}

type Events = UnboundedSender<MeetingRtcEvent>;

fn send(events: &Events, event: MeetingRtcEvent) {
    let _ = events.unbounded_send(event);
}

fn report(events: &Events, epoch: Option<u64>, report: MeetingRtcReport) {
    send(events, MeetingRtcEvent::Report { epoch, report });
}

async fn work(mut queue: UnboundedReceiver<Job>, state: Rc<RefCell<State>>, events: Events) {
    while let Some(job) = queue.next().await {
        match job {
            Job::Machine(command, epoch) => machine(command, epoch, &state, &events).await,
            Job::Stats => {
                let connection = state.borrow().peer.as_ref().map(|p| p.connection.clone());
                if let Some(connection) = connection
                    && let Ok(stats) = JsFuture::from(connection.get_stats()).await
                {
                    measured(&state, &connection, &stats);
                    send(&events, MeetingRtcEvent::Changed);
                }
            }
        }
    }
}

async fn machine(
    command: MeetingRtcCommand,
    epoch: u64,
    state: &Rc<RefCell<State>>,
    events: &Events,
) {
    match command {
        MeetingRtcCommand::StartMedia { camera } => {
            match start_media(camera, state).await {
                Ok(camera) => report(events, None, MeetingRtcReport::MediaStarted { camera }),
                Err(problem) => report(events, None, MeetingRtcReport::Error(problem.code())),
            }
            send(events, MeetingRtcEvent::Changed);
        }
        MeetingRtcCommand::CreatePeerConnection {
            ice_servers,
            relay_only,
        } => {
            state.borrow_mut().forget_connection();
            let connection =
                RtcPeerConnection::new_with_configuration(&configuration(&ice_servers, relay_only));
            match connection {
                Ok(connection) => {
                    let peer = peer(connection, epoch, state, events);
                    state.borrow_mut().peer = Some(peer);
                }
                Err(e) => report(events, Some(epoch), MeetingRtcReport::Error(describe(&e))),
            }
            send(events, MeetingRtcEvent::Changed);
        }
        MeetingRtcCommand::CreateOffer => {
            let Some(connection) = connection_of(state, epoch) else {
                return;
            };
            let created = match create_offer(&connection, false).await {
                Ok(sdp) => MeetingRtcReport::OfferCreated { sdp },
                Err(problem) => MeetingRtcReport::Error(problem.code()),
            };
            report(events, Some(epoch), created);
        }
        MeetingRtcCommand::ApplyAnswer { answer } => {
            let Some(connection) = connection_of(state, epoch) else {
                return;
            };
            if let Err(problem) = apply_answer(&connection, &answer).await {
                report(events, Some(epoch), MeetingRtcReport::Error(problem.code()));
            }
            regroup(state, events);
        }
        MeetingRtcCommand::CreateAnswer { offer } => {
            let Some(connection) = connection_of(state, epoch) else {
                return;
            };
            let created = match create_answer(&connection, &offer).await {
                Ok(sdp) => MeetingRtcReport::AnswerCreated { sdp },
                Err(problem) => MeetingRtcReport::Error(problem.code()),
            };
            report(events, Some(epoch), created);
            regroup(state, events);
        }
        MeetingRtcCommand::SetMic(on) => {
            let mut state = state.borrow_mut();
            state.mic_off = !on;
            if let Some(track) = state.local_track("audio") {
                track.set_enabled(on);
            }
            send(events, MeetingRtcEvent::Changed);
        }
        MeetingRtcCommand::SetCamera(on) => {
            let camera = set_camera(on, state).await;
            report(events, None, MeetingRtcReport::CameraChanged(camera));
            send(events, MeetingRtcEvent::Changed);
        }
        MeetingRtcCommand::ClosePeerConnection => {
            state.borrow_mut().forget_connection();
            send(events, MeetingRtcEvent::Changed);
        }
        MeetingRtcCommand::StopMedia => {
            let mut state = state.borrow_mut();
            if let Some(local) = state.local.take() {
                stop_tracks(&local);
            }
            state.mic_off = false;
            send(events, MeetingRtcEvent::Changed);
        }
    }
}

/// The microphone (required) and the camera if asked (optional: the
/// meeting goes on with audio without it); whether a camera is held.
async fn start_media(
    camera: bool,
    state: &Rc<RefCell<State>>,
) -> Result<bool, crate::calls::MediaProblem> {
    let held = state.borrow().local.clone();
    let mut local: Vec<MediaStreamTrack> =
        held.map(|s| tracks(&s.get_tracks())).unwrap_or_default();
    if !local.iter().any(|t| t.kind() == "audio") {
        local.push(capture(DeviceKind::Microphone, None).await?);
    }
    if camera && !local.iter().any(|t| t.kind() == "video") {
        match capture(DeviceKind::Camera, None).await {
            Ok(track) => local.push(track),
            Err(problem) => {
                web_sys::console::warn_1(&format!("meeting camera: {problem:?}").into());
            }
        }
    }
    let mut state = state.borrow_mut();
    let mic_on = !state.mic_off;
    for track in local.iter().filter(|t| t.kind() == "audio") {
        track.set_enabled(mic_on);
    }
    let has_camera = local.iter().any(|t| t.kind() == "video");
    state.local = stream_of(&local);
    Ok(has_camera)
}

/// Turns the camera on (capturing it if needed) or off on the video
/// transceiver; whether it is on now.
async fn set_camera(on: bool, state: &Rc<RefCell<State>>) -> bool {
    let (held, video) = {
        let state = state.borrow();
        (
            state.local.clone(),
            state.peer.as_ref().map(|p| p.video.clone()),
        )
    };
    let mut local: Vec<MediaStreamTrack> =
        held.map(|s| tracks(&s.get_tracks())).unwrap_or_default();
    let track = if on {
        match local.iter().find(|t| t.kind() == "video") {
            Some(track) => Some(track.clone()),
            None => match capture(DeviceKind::Camera, None).await {
                Ok(track) => {
                    local.push(track.clone());
                    Some(track)
                }
                Err(problem) => {
                    web_sys::console::warn_1(&format!("meeting camera: {problem:?}").into());
                    None
                }
            },
        }
    } else {
        None
    };
    if let Some(video) = video {
        let _ = JsFuture::from(video.sender().replace_track(track.as_ref())).await;
    }
    if track.is_none() {
        for old in local.iter().filter(|t| t.kind() == "video") {
            old.stop();
        }
        local.retain(|t| t.kind() != "video");
    }
    state.borrow_mut().local = stream_of(&local);
    track.is_some()
}

/// A `sendonly` transceiver's settings, our local stream named.
fn sendonly(local: Option<&MediaStream>) -> RtcRtpTransceiverInit {
    let init = RtcRtpTransceiverInit::new();
    init.set_direction(RtcRtpTransceiverDirection::Sendonly);
    if let Some(local) = local {
        let streams = js_sys::Array::new();
        streams.push(local);
        init.set_streams(&streams);
    }
    init
}

/// Our two transceivers on `connection` and its handlers.
fn peer(
    connection: RtcPeerConnection,
    epoch: u64,
    state: &Rc<RefCell<State>>,
    events: &Events,
) -> Peer {
    let (microphone, camera, local) = {
        let state = state.borrow();
        (
            state.local_track("audio"),
            state.local_track("video"),
            state.local.clone(),
        )
    };
    let init = sendonly(local.as_ref());
    match &microphone {
        Some(track) => connection.add_transceiver_with_media_stream_track_and_init(track, &init),
        None => connection.add_transceiver_with_str_and_init("audio", &init),
    };
    // Without a camera the section is offered all the same, with no track:
    // turning it on later is a `replaceTrack`.
    let video = match &camera {
        Some(track) => connection.add_transceiver_with_media_stream_track_and_init(track, &init),
        None => connection.add_transceiver_with_str_and_init("video", &init),
    };
    let on_state = watch_state(&connection, {
        let events = events.clone();
        move |link| {
            let state = match link {
                LinkState::Connected => MeetingRtcReport::Connected,
                LinkState::Disconnected => MeetingRtcReport::Disconnected,
                LinkState::Failed => MeetingRtcReport::Failed,
            };
            report(&events, Some(epoch), state);
        }
    });
    let on_track = Closure::<dyn FnMut(RtcTrackEvent)>::new({
        let (events, state) = (events.clone(), state.clone());
        move |event: RtcTrackEvent| {
            let track = event.track().id();
            // §13: the stream is the sender's user id.
            let stream = event
                .streams()
                .get(0)
                .dyn_into::<MediaStream>()
                .map_or_else(|_| track.clone(), |s| s.id());
            {
                let mut held = state.borrow_mut();
                held.stream_of_track.retain(|(t, _)| *t != track);
                held.stream_of_track.push((track, stream));
            }
            regroup(&state, &events);
        }
    });
    connection.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
    Peer {
        connection,
        epoch,
        video,
        _on_state: on_state,
        _on_track: on_track,
    }
}

/// The current connection, if it is the one `epoch` names.
fn connection_of(state: &Rc<RefCell<State>>, epoch: u64) -> Option<RtcPeerConnection> {
    let state = state.borrow();
    let peer = state.peer.as_ref()?;
    (peer.epoch == epoch).then(|| peer.connection.clone())
}

/// The live tracks the server sends now, from transceivers that receive.
fn receiving(connection: &RtcPeerConnection) -> Vec<MediaStreamTrack> {
    connection
        .get_transceivers()
        .iter()
        .filter_map(|t| t.dyn_into::<RtcRtpTransceiver>().ok())
        .filter(|t| {
            matches!(
                t.current_direction(),
                Some(RtcRtpTransceiverDirection::Recvonly | RtcRtpTransceiverDirection::Sendrecv)
            )
        })
        .map(|t| t.receiver().track())
        .filter(|t| t.ready_state() == MediaStreamTrackState::Live)
        .collect()
}

/// Groups what arrives by participant: a participant's stream object is
/// kept while their tracks stay the same (a tile does not restart its
/// video), a new one made when they change, and one whose tracks all
/// stopped (they left) disappears.
fn regroup(state: &Rc<RefCell<State>>, events: &Events) {
    let mut state = state.borrow_mut();
    let Some(peer) = &state.peer else { return };
    let mut groups: Vec<(String, Vec<MediaStreamTrack>)> = Vec::new();
    for track in receiving(&peer.connection) {
        let id = track.id();
        let Some(user) = state
            .stream_of_track
            .iter()
            .find(|(t, _)| *t == id)
            .map(|(_, s)| s.clone())
        else {
            // Its `track` event is yet to come, and regroups then.
            continue;
        };
        match groups.iter_mut().find(|(u, _)| *u == user) {
            Some((_, tracks)) => tracks.push(track),
            None => groups.push((user, vec![track])),
        }
    }
    // Those known keep their place; newcomers follow in arrival order.
    groups.sort_by_key(|(user, _)| {
        state
            .remotes
            .iter()
            .position(|r| r.user == *user)
            .unwrap_or(usize::MAX)
    });
    let mut remotes = Vec::with_capacity(groups.len());
    for (user, group) in groups {
        let kept = state
            .remotes
            .iter()
            .find(|r| r.user == user && ids(&tracks(&r.stream.get_tracks())) == ids(&group));
        match kept {
            Some(kept) => remotes.push(kept.clone()),
            None => {
                let Some(stream) = stream_of(&group) else {
                    continue;
                };
                let before = state.remotes.iter().find(|r| r.user == user);
                remotes.push(RemoteUser {
                    user,
                    stream,
                    video_frames_decoded: before.map_or(0, |r| r.video_frames_decoded),
                    audio_packets_received: before.map_or(0, |r| r.audio_packets_received),
                    audio_level: before.map_or(0.0, |r| r.audio_level),
                });
            }
        }
    }
    if remotes != state.remotes {
        state.remotes = remotes;
        send(events, MeetingRtcEvent::Changed);
    }
}

/// The tracks' ids, sorted: two sets of tracks compare by them.
fn ids(tracks: &[MediaStreamTrack]) -> Vec<String> {
    let mut ids: Vec<String> = tracks.iter().map(|t| t.id()).collect();
    ids.sort();
    ids
}

/// Files a `getStats()` report: per participant, the video frames decoded,
/// the audio packets received and the audio level; our microphone's level.
fn measured(
    state: &Rc<RefCell<State>>,
    connection: &RtcPeerConnection,
    stats: &wasm_bindgen::JsValue,
) {
    // A report names a received track by its id, or only by its section
    // (`mid`): both lead to the track, and the track to its sender.
    let by_mid: Vec<(String, String)> = connection
        .get_transceivers()
        .iter()
        .filter_map(|t| t.dyn_into::<RtcRtpTransceiver>().ok())
        .filter_map(|t| Some((t.mid()?, t.receiver().track().id())))
        .collect();
    let mut state = state.borrow_mut();
    let mut figures: Vec<(String, u64, u64, f32)> = Vec::new();
    let mut local_level = 0.0;
    for entry in values(stats) {
        match text(&entry, "type").as_deref() {
            Some("inbound-rtp") => {
                let track = text(&entry, "trackIdentifier").or_else(|| {
                    let mid = text(&entry, "mid")?;
                    by_mid
                        .iter()
                        .find(|(m, _)| *m == mid)
                        .map(|(_, t)| t.clone())
                });
                let Some(user) = track.and_then(|track| {
                    state
                        .stream_of_track
                        .iter()
                        .find(|(t, _)| *t == track)
                        .map(|(_, s)| s.clone())
                }) else {
                    continue;
                };
                let at = match figures.iter().position(|(u, ..)| *u == user) {
                    Some(at) => at,
                    None => {
                        figures.push((user, 0, 0, 0.0));
                        figures.len() - 1
                    }
                };
                let figure = &mut figures[at];
                match text(&entry, "kind").as_deref() {
                    Some("video") => {
                        figure.1 += number(&entry, "framesDecoded").unwrap_or(0.0) as u64;
                    }
                    Some("audio") => {
                        figure.2 += number(&entry, "packetsReceived").unwrap_or(0.0) as u64;
                        figure.3 = figure
                            .3
                            .max(number(&entry, "audioLevel").unwrap_or(0.0) as f32);
                    }
                    _ => {}
                }
            }
            Some("media-source") if text(&entry, "kind").as_deref() == Some("audio") => {
                local_level = number(&entry, "audioLevel").unwrap_or(0.0) as f32;
            }
            _ => {}
        }
    }
    for remote in &mut state.remotes {
        if let Some((_, frames, packets, level)) = figures.iter().find(|(u, ..)| *u == remote.user)
        {
            // Counts never go back: a renegotiated section starts at zero.
            remote.video_frames_decoded = remote.video_frames_decoded.max(*frames);
            remote.audio_packets_received = remote.audio_packets_received.max(*packets);
            remote.audio_level = *level;
        } else {
            remote.audio_level = 0.0;
        }
    }
    state.local_level = if state.mic_off { 0.0 } else { local_level };
}
