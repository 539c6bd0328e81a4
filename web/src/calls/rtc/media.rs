//! The microphone and camera: capturing them at the chosen quality, the
//! devices to choose from, switching devices and the camera on and off in a
//! running connection.

use super::State;
use crate::calls::{Device, DeviceKind, Devices, MediaProblem};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamConstraints, MediaStreamTrack, MediaTrackConstraints,
    RtcPeerConnection, RtcRtpTransceiver, RtcRtpTransceiverDirection,
};

pub(super) fn media_devices() -> Result<web_sys::MediaDevices, MediaProblem> {
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
pub(crate) fn media_problem(err: &JsValue) -> MediaProblem {
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

pub(crate) fn describe(err: &JsValue) -> String {
    match err.dyn_ref::<web_sys::DomException>() {
        Some(e) => format!("{}: {}", e.name(), e.message()),
        None => err.as_string().unwrap_or_else(|| format!("{err:?}")),
    }
}

pub(crate) fn tracks(array: &js_sys::Array) -> Vec<MediaStreamTrack> {
    array
        .iter()
        .filter_map(|t| t.dyn_into::<MediaStreamTrack>().ok())
        .collect()
}

pub(crate) fn stop_tracks(stream: &MediaStream) {
    for track in tracks(&stream.get_tracks()) {
        track.stop();
    }
}

/// Asks for the microphone (`audio`) or the camera, on the chosen device.
pub(crate) async fn capture(
    kind: DeviceKind,
    device: Option<&str>,
) -> Result<MediaStreamTrack, MediaProblem> {
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
pub(crate) fn stream_of(tracks: &[MediaStreamTrack]) -> Option<MediaStream> {
    if tracks.is_empty() {
        return None;
    }
    let array = js_sys::Array::new();
    for track in tracks {
        array.push(track);
    }
    MediaStream::new_with_tracks(&array).ok()
}

pub(super) async fn start_media(
    camera: bool,
    state: &Rc<RefCell<State>>,
) -> Result<(), MediaProblem> {
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
pub(super) async fn set_camera(on: bool, state: &Rc<RefCell<State>>) -> Result<(), MediaProblem> {
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

pub(super) async fn use_device(
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

pub(super) async fn list_devices(state: &Rc<RefCell<State>>) {
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
