//! Calls in the browser: the call machine's WebRTC side (`rtc`: the
//! microphone, the camera and the peer connection), its tones (`tone`), and
//! what the call screen shows ([`CallScreen`]) and may ask ([`CallCommand`]).
//!
//! The call machine itself is `penpen_core::call`; the driver runs it beside
//! the sync engine and carries out its actions with these parts.

pub mod rtc;
pub mod stats;
pub mod tone;

use penpen_core::UserId;
use penpen_core::call::CallView;
use penpen_core::packets::call::Media;
use web_sys::MediaStream;

/// What the call screen shows: the machine's view and what the browser adds
/// to it (the streams to play, the devices, the measured quality). It
/// changes every second or two during a call, so it has its own context
/// beside the app state.
#[derive(Debug, Clone, PartialEq)]
pub struct CallScreen {
    /// The call's state as the call machine shows it.
    pub view: CallView,
    /// Our microphone (and camera) while a call holds them.
    pub local: Option<MediaStream>,
    /// What the other party sends, once it arrives.
    pub remote: Option<MediaStream>,
    /// Our microphone is muted.
    pub muted: bool,
    /// The microphones, cameras and speakers to choose from, and the chosen.
    pub devices: Devices,
    /// The call's measured quality, refreshed every two seconds while the
    /// media flows.
    pub quality: Option<Quality>,
}

impl Default for CallScreen {
    fn default() -> CallScreen {
        CallScreen {
            view: CallView::Idle,
            local: None,
            remote: None,
            muted: false,
            devices: Devices::default(),
            quality: None,
        }
    }
}

/// A microphone, camera or speaker the browser offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The browser's `deviceId`.
    pub id: String,
    /// Its name (empty until the user allowed the microphone once).
    pub label: String,
}

/// Which kind of device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// An audio input.
    Microphone,
    /// A video input.
    Camera,
    /// An audio output (where the browser can choose one).
    Speaker,
}

/// The devices to choose from during a call, and the ones in use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Devices {
    /// Audio inputs.
    pub microphones: Vec<Device>,
    /// Video inputs.
    pub cameras: Vec<Device>,
    /// Audio outputs; empty where the browser cannot choose one.
    pub speakers: Vec<Device>,
    /// The microphone in use (`deviceId`).
    pub microphone: Option<String>,
    /// The camera in use.
    pub camera: Option<String>,
    /// The speaker chosen (none: the system's default).
    pub speaker: Option<String>,
}

/// How well the media flows, from the peer connection's statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    /// The summary the screen shows.
    pub level: QualityLevel,
    /// The round trip of the connection in use, when measured.
    pub rtt_ms: Option<u32>,
    /// The share of the other party's packets lost over the last interval, in percent.
    pub loss_percent: f32,
    /// Video frames decoded from the other party so far.
    pub video_frames_decoded: u64,
    /// Audio packets received from the other party so far.
    pub audio_packets_received: u64,
    /// The other party's video as it arrives (width, height), when there is one.
    pub video_size: Option<(u32, u32)>,
    /// How our side of the connection in use reaches the other:
    /// directly (`host`), through a NAT (`srflx`, `prflx`) or a TURN relay.
    pub route: Route,
}

/// The summary of a call's quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QualityLevel {
    /// Little loss, short round trip.
    Good,
    /// Some loss or a long round trip: speech may stutter.
    Fair,
    /// Heavy loss: the call barely carries.
    Poor,
}

/// The kind of our local candidate in the connection in use (ICE's
/// `candidateType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Not known yet.
    Unknown,
    /// A local address: the same network.
    Host,
    /// An address a STUN server saw, or one the peer saw: through a NAT.
    Reflexive,
    /// Through a TURN relay.
    Relay,
}

impl Route {
    /// The name ICE gives it, as the call screen's `data-route` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Unknown => "unknown",
            Route::Host => "host",
            Route::Reflexive => "srflx",
            Route::Relay => "relay",
        }
    }
}

/// What the screens ask of the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallCommand {
    /// Call someone, with voice or video.
    Start {
        /// Whom.
        to: UserId,
        /// Voice or video.
        media: Media,
    },
    /// Accept the call ringing here.
    Accept,
    /// Decline the call ringing here.
    Decline,
    /// Cancel, decline or hang up, whatever the state.
    HangUp,
    /// Turn our camera on or off.
    SetCamera(bool),
    /// Mute or unmute our microphone.
    SetMuted(bool),
    /// Use this microphone, camera or speaker.
    UseDevice(DeviceKind, String),
}

/// Why the microphone or camera could not be used. The WebRTC side reports
/// it to the call machine as [`penpen_core::call::RtcReport::Error`] with
/// [`MediaProblem::code`]; the call ends with
/// [`penpen_core::call::EndCause::MediaFailed`] carrying that code, and the
/// call screen reads it back with [`MediaProblem::from_code`] to say what
/// went wrong in the user's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaProblem {
    /// The page is not a secure context (HTTPS or localhost): the browser
    /// offers no microphone or camera at all.
    InsecureContext,
    /// The user (or the browser's settings) refused the microphone or camera.
    Refused,
    /// There is no microphone (or no camera for a video call).
    Missing,
    /// The device exists but another program holds it.
    Busy,
    /// The browser refused a session description or the peer connection;
    /// the browser's words.
    Failed(String),
}

impl MediaProblem {
    /// The code carried in [`penpen_core::call::EndCause::MediaFailed`].
    pub fn code(&self) -> String {
        match self {
            MediaProblem::InsecureContext => "insecure-context".to_owned(),
            MediaProblem::Refused => "media-refused".to_owned(),
            MediaProblem::Missing => "media-missing".to_owned(),
            MediaProblem::Busy => "media-busy".to_owned(),
            MediaProblem::Failed(detail) => format!("failed: {detail}"),
        }
    }

    /// The problem a code names (anything unknown is a failure with those words).
    pub fn from_code(code: &str) -> MediaProblem {
        match code {
            "insecure-context" => MediaProblem::InsecureContext,
            "media-refused" => MediaProblem::Refused,
            "media-missing" => MediaProblem::Missing,
            "media-busy" => MediaProblem::Busy,
            other => {
                MediaProblem::Failed(other.strip_prefix("failed: ").unwrap_or(other).to_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MediaProblem;

    #[test]
    fn media_problems_survive_their_code() {
        for problem in [
            MediaProblem::InsecureContext,
            MediaProblem::Refused,
            MediaProblem::Missing,
            MediaProblem::Busy,
            MediaProblem::Failed("setRemoteDescription: bad m-line".to_owned()),
        ] {
            assert_eq!(MediaProblem::from_code(&problem.code()), problem);
        }
    }
}
