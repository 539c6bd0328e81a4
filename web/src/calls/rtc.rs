//! The call machine's WebRTC side: the microphone and camera
//! (`getUserMedia`), the peer connection, and what the screen needs from
//! them (the streams, the devices, the quality).
//!
//! Browser calls are promises, and the machine wants its commands carried
//! out in order, each after the one before finished; so one task takes the
//! jobs from a queue, one at a time, and reports back on a channel. The
//! driver tags each job with the peer connection it was given for (an
//! epoch): a report of a connection the machine has since closed must not
//! reach it (a glare swaps connections, and a late candidate of the old one
//! would land in the new call).

use super::stats::{self, Counters};
use super::{Device, DeviceKind, Devices, MediaProblem, Quality};
use futures::StreamExt;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use penpen_core::call::{RtcCommand, RtcReport};
use penpen_core::packets::call::{IceCandidate, IceServer};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamConstraints, MediaStreamTrack, MediaTrackConstraints, RtcConfiguration,
    RtcIceCandidateInit, RtcIceServer, RtcIceTransportPolicy, RtcOfferOptions, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcPeerConnectionState, RtcRtpTransceiver,
    RtcRtpTransceiverDirection, RtcSdpType, RtcSessionDescriptionInit, RtcSignalingState,
};

/// What the WebRTC side tells the driver.
#[derive(Debug)]
pub enum RtcEvent {
    /// For the call machine. `epoch` is the peer connection it came from
    /// (none for the media, which outlives connections).
    Report {
        /// The connection's epoch, when the report is about one.
        epoch: Option<u64>,
        /// What happened.
        report: RtcReport,
    },
    /// The streams, devices, mute or quality changed: the screen reads them
    /// again with [`Rtc::media`].
    Changed,
}

/// One thing for the WebRTC task to do.
#[derive(Debug)]
enum Job {
    /// The call machine's command, given while `epoch` was current.
    Machine(RtcCommand, u64),
    /// Mute or unmute the microphone.
    Mute(bool),
    /// Switch to this device.
    UseDevice(DeviceKind, String),
    /// Read the connection's statistics.
    Stats,
}

/// What the screen shows of the media.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaShown {
    /// Our microphone and camera.
    pub local: Option<MediaStream>,
    /// The other party's tracks.
    pub remote: Option<MediaStream>,
    /// The microphone is muted.
    pub muted: bool,
    /// The devices.
    pub devices: Devices,
    /// The last measured quality.
    pub quality: Option<Quality>,
}

/// The driver's handle on the WebRTC task.
pub struct Rtc {
    jobs: UnboundedSender<Job>,
    state: Rc<RefCell<State>>,
    /// Bumped when a connection is created or closed: reports tagged with
    /// an older one are dropped by [`Rtc::current`].
    epoch: u64,
}

impl std::fmt::Debug for Rtc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rtc").field("epoch", &self.epoch).finish()
    }
}

impl Rtc {
    /// Starts the WebRTC task; its events come on the returned receiver.
    pub fn start() -> (Rtc, UnboundedReceiver<RtcEvent>) {
        let (jobs, queue) = unbounded();
        let (events, inbox) = unbounded();
        let state = Rc::new(RefCell::new(State::default()));
        wasm_bindgen_futures::spawn_local(work(queue, state.clone(), events));
        (
            Rtc {
                jobs,
                state,
                epoch: 0,
            },
            inbox,
        )
    }

    /// Queues the call machine's command.
    pub fn give(&mut self, command: RtcCommand) {
        if matches!(
            command,
            RtcCommand::CreatePeerConnection { .. } | RtcCommand::ClosePeerConnection
        ) {
            self.epoch += 1;
        }
        self.queue(Job::Machine(command, self.epoch));
    }

    /// Whether a report tagged `epoch` is still for the machine.
    pub fn current(&self, epoch: Option<u64>) -> bool {
        epoch.is_none_or(|e| e == self.epoch)
    }

    /// Mutes or unmutes the microphone.
    pub fn mute(&self, muted: bool) {
        self.queue(Job::Mute(muted));
    }

    /// Switches the microphone, camera or speaker.
    pub fn use_device(&self, kind: DeviceKind, id: String) {
        self.queue(Job::UseDevice(kind, id));
    }

    /// Measures the connection's quality (reported as [`RtcEvent::Changed`]).
    pub fn measure(&self) {
        self.queue(Job::Stats);
    }

    /// What the screen shows of the media now.
    pub fn media(&self) -> MediaShown {
        let state = self.state.borrow();
        MediaShown {
            local: state.local.clone(),
            remote: state.remote.clone(),
            muted: state.muted,
            devices: state.devices.clone(),
            quality: state.quality,
        }
    }

    fn queue(&self, job: Job) {
        // The task lives as long as the sender; it never stops first.
        let _ = self.jobs.unbounded_send(job);
    }
}

impl Drop for Rtc {
    fn drop(&mut self) {
        // The session ended: nothing may keep the microphone or camera.
        let mut state = self.state.borrow_mut();
        state.peer = None;
        if let Some(local) = state.local.take() {
            stop_tracks(&local);
        }
    }
}

#[derive(Default)]
struct State {
    local: Option<MediaStream>,
    remote: Option<MediaStream>,
    peer: Option<Peer>,
    muted: bool,
    devices: Devices,
    quality: Option<Quality>,
    counters: Counters,
}

/// A peer connection and the handlers the browser calls on it.
struct Peer {
    connection: RtcPeerConnection,
    epoch: u64,
    _on_candidate: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    _on_state: Closure<dyn FnMut()>,
    _on_track: Closure<dyn FnMut()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        // The handlers must not run once their closures are gone.
        self.connection.set_onicecandidate(None);
        self.connection.set_onconnectionstatechange(None);
        self.connection.set_ontrack(None);
        self.connection.close();
    }
}

type Events = UnboundedSender<RtcEvent>;

fn send(events: &Events, event: RtcEvent) {
    // The driver drops the receiver only when the session ends.
    let _ = events.unbounded_send(event);
}

fn report(events: &Events, epoch: Option<u64>, report: RtcReport) {
    send(events, RtcEvent::Report { epoch, report });
}

async fn work(mut queue: UnboundedReceiver<Job>, state: Rc<RefCell<State>>, events: Events) {
    while let Some(job) = queue.next().await {
        match job {
            Job::Machine(command, epoch) => machine(command, epoch, &state, &events).await,
            Job::Mute(muted) => {
                let mut state = state.borrow_mut();
                state.muted = muted;
                if let Some(local) = &state.local {
                    for track in tracks(&local.get_audio_tracks()) {
                        track.set_enabled(!muted);
                    }
                }
                send(&events, RtcEvent::Changed);
            }
            Job::UseDevice(kind, id) => {
                if let Err(problem) = use_device(kind, id, &state).await {
                    web_sys::console::warn_1(&format!("switching device: {problem:?}").into());
                }
                list_devices(&state).await;
                send(&events, RtcEvent::Changed);
            }
            Job::Stats => {
                let connection = state.borrow().peer.as_ref().map(|p| p.connection.clone());
                if let Some(connection) = connection
                    && let Ok(report) = JsFuture::from(connection.get_stats()).await
                {
                    let mut state = state.borrow_mut();
                    let previous = state.counters;
                    let (quality, counters) = stats::read(&report, previous);
                    state.quality = Some(quality);
                    state.counters = counters;
                    send(&events, RtcEvent::Changed);
                }
            }
        }
    }
}

async fn machine(command: RtcCommand, epoch: u64, state: &Rc<RefCell<State>>, events: &Events) {
    match command {
        RtcCommand::StartMedia { camera } => {
            match start_media(camera, state).await {
                Ok(()) => list_devices(state).await,
                Err(problem) => report(events, None, RtcReport::Error(problem.code())),
            }
            send(events, RtcEvent::Changed);
        }
        RtcCommand::SetCamera(on) => {
            if let Err(problem) = set_camera(on, state).await {
                report(events, None, RtcReport::Error(problem.code()));
            }
            send(events, RtcEvent::Changed);
        }
        RtcCommand::CreatePeerConnection {
            ice_servers,
            relay_only,
        } => {
            let created = create_peer(&ice_servers, relay_only, epoch, state, events);
            match created {
                Ok(peer) => {
                    let mut state = state.borrow_mut();
                    state.peer = Some(peer);
                    state.remote = None;
                    state.quality = None;
                    state.counters = Counters::default();
                }
                Err(problem) => report(events, Some(epoch), RtcReport::Error(problem.code())),
            }
            send(events, RtcEvent::Changed);
        }
        RtcCommand::CreateOffer { ice_restart } => {
            let Some(connection) = connection_of(state, epoch) else {
                return;
            };
            match create_offer(&connection, ice_restart).await {
                Ok(sdp) => report(events, Some(epoch), RtcReport::OfferCreated { sdp }),
                Err(problem) => report(events, Some(epoch), RtcReport::Error(problem.code())),
            }
        }
        RtcCommand::CreateAnswer { offer } => {
            let Some(connection) = connection_of(state, epoch) else {
                return;
            };
            match create_answer(&connection, &offer).await {
                Ok(sdp) => report(events, Some(epoch), RtcReport::AnswerCreated { sdp }),
                Err(problem) => report(events, Some(epoch), RtcReport::Error(problem.code())),
            }
            remote_tracks_changed(state, events);
        }
        RtcCommand::ApplyAnswer { answer } => {
            let Some(connection) = connection_of(state, epoch) else {
                return;
            };
            let description = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
            description.set_sdp(&answer);
            if let Err(err) = JsFuture::from(connection.set_remote_description(&description)).await
            {
                let problem = MediaProblem::Failed(describe(&err));
                report(events, Some(epoch), RtcReport::Error(problem.code()));
            }
            remote_tracks_changed(state, events);
        }
        RtcCommand::AddCandidate(candidate) => {
            let Some(connection) = connection_of(state, epoch) else {
                return;
            };
            // A candidate the browser cannot use (another network's, a
            // malformed one) costs that path only, not the call.
            let _ = JsFuture::from(
                connection.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(
                    &candidate_init(&candidate),
                )),
            )
            .await;
        }
        RtcCommand::ClosePeerConnection => {
            let mut state = state.borrow_mut();
            state.peer = None;
            state.remote = None;
            state.quality = None;
            send(events, RtcEvent::Changed);
        }
        RtcCommand::StopMedia => {
            let mut state = state.borrow_mut();
            if let Some(local) = state.local.take() {
                stop_tracks(&local);
            }
            state.muted = false;
            send(events, RtcEvent::Changed);
        }
    }
}

/// The current connection, if it is the one `epoch` names.
fn connection_of(state: &Rc<RefCell<State>>, epoch: u64) -> Option<RtcPeerConnection> {
    let state = state.borrow();
    let peer = state.peer.as_ref()?;
    (peer.epoch == epoch).then(|| peer.connection.clone())
}

// ------------------------------------------------------------ the media

fn media_devices() -> Result<web_sys::MediaDevices, MediaProblem> {
    let window = gloo::utils::window();
    // Outside a secure context the browser has no `mediaDevices` at all.
    if !window.is_secure_context() {
        return Err(MediaProblem::InsecureContext);
    }
    window
        .navigator()
        .media_devices()
        .map_err(|_| MediaProblem::InsecureContext)
}

/// What `getUserMedia`'s refusal means for the user.
fn media_problem(err: &JsValue) -> MediaProblem {
    let name = err
        .dyn_ref::<web_sys::DomException>()
        .map(|e| e.name())
        .unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" | "SecurityError" => MediaProblem::Refused,
        "NotFoundError" | "OverconstrainedError" => MediaProblem::Missing,
        "NotReadableError" | "AbortError" => MediaProblem::Busy,
        _ => MediaProblem::Failed(describe(err)),
    }
}

fn describe(err: &JsValue) -> String {
    match err.dyn_ref::<web_sys::DomException>() {
        Some(e) => format!("{}: {}", e.name(), e.message()),
        None => err.as_string().unwrap_or_else(|| format!("{err:?}")),
    }
}

fn tracks(array: &js_sys::Array) -> Vec<MediaStreamTrack> {
    array
        .iter()
        .filter_map(|t| t.dyn_into::<MediaStreamTrack>().ok())
        .collect()
}

fn stop_tracks(stream: &MediaStream) {
    for track in tracks(&stream.get_tracks()) {
        track.stop();
    }
}

/// Asks for the microphone (`audio`) or the camera, on the chosen device.
async fn capture(kind: DeviceKind, device: Option<&str>) -> Result<MediaStreamTrack, MediaProblem> {
    let devices = media_devices()?;
    let constraints = MediaStreamConstraints::new();
    let track = MediaTrackConstraints::new();
    if let Some(id) = device {
        let exact = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&exact, &"exact".into(), &id.into());
        track.set_device_id(&exact);
    }
    match kind {
        DeviceKind::Camera => {
            // The user's choice of quality (a slow uplink, an old laptop).
            let (width, height, fps) = crate::prefs::call_video().size();
            track.set_width(&JsValue::from(ideal(width)));
            track.set_height(&JsValue::from(ideal(height)));
            track.set_frame_rate(&JsValue::from(ideal(fps)));
            constraints.set_video(&track);
            constraints.set_audio_bool(false);
        }
        DeviceKind::Microphone | DeviceKind::Speaker => {
            track.set_echo_cancellation_bool(true);
            track.set_noise_suppression_bool(true);
            constraints.set_audio(&track);
            constraints.set_video_bool(false);
        }
    }
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| media_problem(&e))?;
    let stream: MediaStream = JsFuture::from(promise)
        .await
        .map_err(|e| media_problem(&e))?
        .unchecked_into();
    tracks(&stream.get_tracks())
        .into_iter()
        .next()
        .ok_or(MediaProblem::Missing)
}

fn ideal(value: i32) -> js_sys::Object {
    let object = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&object, &"ideal".into(), &value.into());
    object
}

/// A new stream object with these tracks: the screen sees a new stream
/// (and plays it again) whenever the set of tracks changes.
fn stream_of(tracks: &[MediaStreamTrack]) -> Option<MediaStream> {
    if tracks.is_empty() {
        return None;
    }
    let array = js_sys::Array::new();
    for track in tracks {
        array.push(track);
    }
    MediaStream::new_with_tracks(&array).ok()
}

async fn start_media(camera: bool, state: &Rc<RefCell<State>>) -> Result<(), MediaProblem> {
    let (held, microphone, camera_id) = {
        let state = state.borrow();
        (
            state.local.clone(),
            state.devices.microphone.clone(),
            state.devices.camera.clone(),
        )
    };
    let mut local: Vec<MediaStreamTrack> =
        held.map(|s| tracks(&s.get_tracks())).unwrap_or_default();
    if !local.iter().any(|t| t.kind() == "audio") {
        local.push(capture(DeviceKind::Microphone, microphone.as_deref()).await?);
    }
    if camera && !local.iter().any(|t| t.kind() == "video") {
        match capture(DeviceKind::Camera, camera_id.as_deref()).await {
            Ok(track) => local.push(track),
            Err(problem) => {
                for track in &local {
                    track.stop();
                }
                return Err(problem);
            }
        }
    }
    let mut state = state.borrow_mut();
    let muted = state.muted;
    for track in &local {
        if track.kind() == "audio" {
            track.set_enabled(!muted);
        }
    }
    state.local = stream_of(&local);
    Ok(())
}

/// Turns the camera on (adding or reusing a video sender) or off (the
/// sender stays, sending nothing, and the renegotiation that follows tells
/// the other party we no longer send video).
async fn set_camera(on: bool, state: &Rc<RefCell<State>>) -> Result<(), MediaProblem> {
    let (held, camera_id, connection) = {
        let state = state.borrow();
        (
            state.local.clone(),
            state.devices.camera.clone(),
            state.peer.as_ref().map(|p| p.connection.clone()),
        )
    };
    let mut local: Vec<MediaStreamTrack> =
        held.map(|s| tracks(&s.get_tracks())).unwrap_or_default();
    let video_transceiver = connection.as_ref().and_then(|c| transceiver_of(c, "video"));
    if on {
        if local.iter().any(|t| t.kind() == "video") {
            return Ok(());
        }
        let track = capture(DeviceKind::Camera, camera_id.as_deref()).await?;
        local.push(track.clone());
        let stream = stream_of(&local);
        if let Some(connection) = &connection {
            match &video_transceiver {
                Some(transceiver) => {
                    let _ = JsFuture::from(transceiver.sender().replace_track(Some(&track))).await;
                    transceiver.set_direction(RtcRtpTransceiverDirection::Sendrecv);
                }
                None => {
                    if let Some(stream) = &stream {
                        connection.add_track(&track, stream, &js_sys::Array::new());
                    }
                }
            }
        }
        state.borrow_mut().local = stream;
    } else {
        for track in local.iter().filter(|t| t.kind() == "video") {
            track.stop();
        }
        local.retain(|t| t.kind() != "video");
        if let Some(transceiver) = &video_transceiver {
            let _ = JsFuture::from(transceiver.sender().replace_track(None)).await;
            transceiver.set_direction(RtcRtpTransceiverDirection::Recvonly);
        }
        state.borrow_mut().local = stream_of(&local);
    }
    Ok(())
}

/// The transceiver that carries (or carried) our `kind` of media.
fn transceiver_of(connection: &RtcPeerConnection, kind: &str) -> Option<RtcRtpTransceiver> {
    connection
        .get_transceivers()
        .iter()
        .filter_map(|t| t.dyn_into::<RtcRtpTransceiver>().ok())
        .find(|t| {
            !t.stopped()
                && (t.sender().track().is_some_and(|track| track.kind() == kind)
                    || t.receiver().track().kind() == kind)
        })
}

async fn use_device(
    kind: DeviceKind,
    id: String,
    state: &Rc<RefCell<State>>,
) -> Result<(), MediaProblem> {
    let (held, connection) = {
        let mut state = state.borrow_mut();
        match kind {
            DeviceKind::Microphone => state.devices.microphone = Some(id.clone()),
            DeviceKind::Camera => state.devices.camera = Some(id.clone()),
            // The screen plays the remote media on the chosen speaker.
            DeviceKind::Speaker => {
                state.devices.speaker = Some(id);
                return Ok(());
            }
        }
        (
            state.local.clone(),
            state.peer.as_ref().map(|p| p.connection.clone()),
        )
    };
    let Some(held) = held else { return Ok(()) };
    let track_kind = if kind == DeviceKind::Camera {
        "video"
    } else {
        "audio"
    };
    let mut local = tracks(&held.get_tracks());
    let Some(at) = local.iter().position(|t| t.kind() == track_kind) else {
        // Not in use now: the choice applies from the next capture.
        return Ok(());
    };
    let track = capture(kind, Some(&id)).await?;
    if kind == DeviceKind::Microphone {
        track.set_enabled(!state.borrow().muted);
    }
    // The sender switches tracks in place: no renegotiation.
    if let Some(transceiver) = connection
        .as_ref()
        .and_then(|c| transceiver_of(c, track_kind))
    {
        let _ = JsFuture::from(transceiver.sender().replace_track(Some(&track))).await;
    }
    local[at].stop();
    local[at] = track;
    state.borrow_mut().local = stream_of(&local);
    Ok(())
}

async fn list_devices(state: &Rc<RefCell<State>>) {
    let Ok(devices) = media_devices() else { return };
    let Ok(promise) = devices.enumerate_devices() else {
        return;
    };
    let Ok(list) = JsFuture::from(promise).await else {
        return;
    };
    let mut found = Devices::default();
    for info in js_sys::Array::from(&list).iter() {
        let Ok(info) = info.dyn_into::<web_sys::MediaDeviceInfo>() else {
            continue;
        };
        let device = Device {
            id: info.device_id(),
            label: info.label(),
        };
        match info.kind() {
            web_sys::MediaDeviceKind::Audioinput => found.microphones.push(device),
            web_sys::MediaDeviceKind::Videoinput => found.cameras.push(device),
            web_sys::MediaDeviceKind::Audiooutput => found.speakers.push(device),
            _ => {}
        }
    }
    // Where the browser cannot choose the output, offering a choice would lie.
    let can_choose_speaker =
        js_sys::Reflect::get(&gloo::utils::window(), &"HTMLMediaElement".into())
            .and_then(|class| js_sys::Reflect::get(&class, &"prototype".into()))
            .and_then(|prototype| js_sys::Reflect::has(&prototype, &"setSinkId".into()))
            .unwrap_or(false);
    if !can_choose_speaker {
        found.speakers.clear();
    }
    let mut state = state.borrow_mut();
    let in_use = |kind: &str| {
        state.local.as_ref().and_then(|s| {
            tracks(&s.get_tracks())
                .into_iter()
                .find(|t| t.kind() == kind)
                .and_then(|t| {
                    let settings = t.get_settings();
                    settings.get_device_id()
                })
        })
    };
    found.microphone = in_use("audio").or_else(|| state.devices.microphone.clone());
    found.camera = in_use("video").or_else(|| state.devices.camera.clone());
    found.speaker = state.devices.speaker.clone();
    state.devices = found;
}

// ------------------------------------------------------------ the connection

fn create_peer(
    ice_servers: &[IceServer],
    relay_only: bool,
    epoch: u64,
    state: &Rc<RefCell<State>>,
    events: &Events,
) -> Result<Peer, MediaProblem> {
    let configuration = RtcConfiguration::new();
    let servers = js_sys::Array::new();
    for server in ice_servers {
        let entry = RtcIceServer::new();
        let urls = js_sys::Array::new();
        for url in &server.urls {
            urls.push(&url.into());
        }
        entry.set_urls(&urls);
        if let Some(username) = &server.username {
            entry.set_username(username);
        }
        if let Some(credential) = &server.credential {
            entry.set_credential(credential);
        }
        servers.push(&entry);
    }
    configuration.set_ice_servers(&servers);
    if relay_only {
        configuration.set_ice_transport_policy(RtcIceTransportPolicy::Relay);
    }
    let connection = RtcPeerConnection::new_with_configuration(&configuration)
        .map_err(|e| MediaProblem::Failed(describe(&e)))?;

    let on_candidate = Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new({
        let events = events.clone();
        move |event: RtcPeerConnectionIceEvent| {
            // `null` ends the gathering: §12 has no message for it.
            if let Some(candidate) = event.candidate()
                && !candidate.candidate().is_empty()
            {
                let candidate = IceCandidate {
                    candidate: candidate.candidate(),
                    sdp_mid: candidate.sdp_mid(),
                    sdp_mline_index: candidate.sdp_m_line_index(),
                };
                report(&events, Some(epoch), RtcReport::LocalCandidate(candidate));
            }
        }
    });
    let on_state = Closure::<dyn FnMut()>::new({
        let (events, connection) = (events.clone(), connection.clone());
        move || {
            let state = match connection.connection_state() {
                RtcPeerConnectionState::Connected => RtcReport::Connected,
                RtcPeerConnectionState::Disconnected => RtcReport::Disconnected,
                RtcPeerConnectionState::Failed => RtcReport::Failed,
                _ => return,
            };
            report(&events, Some(epoch), state);
        }
    });
    let on_track = Closure::<dyn FnMut()>::new({
        let (events, state) = (events.clone(), state.clone());
        move || remote_tracks_changed(&state, &events)
    });
    connection.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
    connection.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
    connection.set_ontrack(Some(on_track.as_ref().unchecked_ref()));

    if let Some(local) = &state.borrow().local {
        for track in tracks(&local.get_tracks()) {
            connection.add_track(&track, local, &js_sys::Array::new());
        }
    }
    Ok(Peer {
        connection,
        epoch,
        _on_candidate: on_candidate,
        _on_state: on_state,
        _on_track: on_track,
    })
}

async fn create_offer(
    connection: &RtcPeerConnection,
    ice_restart: bool,
) -> Result<String, MediaProblem> {
    let options = RtcOfferOptions::new();
    options.set_ice_restart(ice_restart);
    let offer = JsFuture::from(connection.create_offer_with_rtc_offer_options(&options))
        .await
        .map_err(|e| MediaProblem::Failed(describe(&e)))?;
    set_local(connection, offer).await
}

async fn create_answer(
    connection: &RtcPeerConnection,
    offer: &str,
) -> Result<String, MediaProblem> {
    if connection.signaling_state() == RtcSignalingState::HaveLocalOffer {
        // A renegotiation collided with the other party's and theirs wins
        // (the machine decided): take ours back first.
        let rollback = RtcSessionDescriptionInit::new(RtcSdpType::Rollback);
        JsFuture::from(connection.set_local_description(&rollback))
            .await
            .map_err(|e| MediaProblem::Failed(describe(&e)))?;
    }
    let description = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
    description.set_sdp(offer);
    JsFuture::from(connection.set_remote_description(&description))
        .await
        .map_err(|e| MediaProblem::Failed(describe(&e)))?;
    let answer = JsFuture::from(connection.create_answer())
        .await
        .map_err(|e| MediaProblem::Failed(describe(&e)))?;
    set_local(connection, answer).await
}

/// Sets a created description as the local one; its SDP.
async fn set_local(
    connection: &RtcPeerConnection,
    created: JsValue,
) -> Result<String, MediaProblem> {
    let description: RtcSessionDescriptionInit = created.unchecked_into();
    JsFuture::from(connection.set_local_description(&description))
        .await
        .map_err(|e| MediaProblem::Failed(describe(&e)))?;
    Ok(description.get_sdp().unwrap_or_default())
}

fn candidate_init(candidate: &IceCandidate) -> RtcIceCandidateInit {
    let init = RtcIceCandidateInit::new(&candidate.candidate);
    init.set_sdp_mid(candidate.sdp_mid.as_deref());
    init.set_sdp_m_line_index(candidate.sdp_mline_index);
    init
}

/// Gathers what the other party sends now into the remote stream: a new
/// stream when the set of tracks changed (a camera turned on or off).
fn remote_tracks_changed(state: &Rc<RefCell<State>>, events: &Events) {
    let mut state = state.borrow_mut();
    let Some(peer) = &state.peer else { return };
    let receiving: Vec<MediaStreamTrack> = peer
        .connection
        .get_transceivers()
        .iter()
        .filter_map(|t| t.dyn_into::<RtcRtpTransceiver>().ok())
        .filter(|t| {
            matches!(
                t.current_direction(),
                Some(RtcRtpTransceiverDirection::Sendrecv | RtcRtpTransceiverDirection::Recvonly)
            )
        })
        .map(|t| t.receiver().track())
        .collect();
    let ids = |tracks: &[MediaStreamTrack]| {
        let mut ids: Vec<String> = tracks.iter().map(|t| t.id()).collect();
        ids.sort();
        ids
    };
    let held = state
        .remote
        .as_ref()
        .map(|s| tracks(&s.get_tracks()))
        .unwrap_or_default();
    if ids(&held) != ids(&receiving) {
        state.remote = stream_of(&receiving);
        send(events, RtcEvent::Changed);
    }
}
