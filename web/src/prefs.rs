//! This device's preferences, kept in localStorage: they belong to the
//! browser, not to the account (the language is kept by `crate::i18n`).

const SOUND_KEY: &str = "penpen.sound";
const BUSY_KEY: &str = "penpen.busy";

fn storage() -> Option<web_sys::Storage> {
    gloo::utils::window().local_storage().ok().flatten()
}

fn load(key: &str, default: bool) -> bool {
    match storage()
        .and_then(|s| s.get_item(key).ok().flatten())
        .as_deref()
    {
        Some("1") => true,
        Some("0") => false,
        _ => default,
    }
}

fn save(key: &str, on: bool) {
    if let Some(storage) = storage() {
        // A preference that cannot be kept only lasts until the next visit.
        let _ = storage.set_item(key, if on { "1" } else { "0" });
    }
}

/// Whether a new message plays a sound (on unless turned off).
pub fn sound() -> bool {
    load(SOUND_KEY, true)
}

/// Remembers the sound choice.
pub fn set_sound(on: bool) {
    save(SOUND_KEY, on);
}

/// Whether the user chose to show as busy.
pub fn busy() -> bool {
    load(BUSY_KEY, false)
}

/// Remembers the busy choice.
pub fn set_busy(on: bool) {
    save(BUSY_KEY, on);
}

const CALL_VIDEO_KEY: &str = "penpen.call.video";

/// The camera's size and rate in calls: this device's choice, as in other
/// messengers' "video quality" setting (a slow uplink, an old laptop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallVideo {
    /// 320 × 240 at 15 frames a second: light on the network and the CPU.
    Smooth,
    /// 640 × 480 at 24: the default.
    Standard,
    /// 1280 × 720 at 30.
    High,
}

impl CallVideo {
    /// Every choice, lightest first.
    pub const ALL: [CallVideo; 3] = [CallVideo::Smooth, CallVideo::Standard, CallVideo::High];

    /// Width, height and frames per second asked of the camera.
    pub fn size(self) -> (i32, i32, i32) {
        match self {
            CallVideo::Smooth => (320, 240, 15),
            CallVideo::Standard => (640, 480, 24),
            CallVideo::High => (1280, 720, 30),
        }
    }

    /// The name kept in localStorage (and the setting's `<option value>`).
    pub fn key(self) -> &'static str {
        match self {
            CallVideo::Smooth => "smooth",
            CallVideo::Standard => "standard",
            CallVideo::High => "high",
        }
    }

    /// The choice a kept name names.
    pub fn from_key(key: &str) -> Option<CallVideo> {
        CallVideo::ALL.into_iter().find(|v| v.key() == key)
    }
}

/// The video quality chosen for calls.
pub fn call_video() -> CallVideo {
    storage()
        .and_then(|s| s.get_item(CALL_VIDEO_KEY).ok().flatten())
        .and_then(|key| CallVideo::from_key(&key))
        .unwrap_or(CallVideo::Standard)
}

/// Remembers the video quality for calls.
pub fn set_call_video(video: CallVideo) {
    if let Some(storage) = storage() {
        // Not kept: the default again at the next visit.
        let _ = storage.set_item(CALL_VIDEO_KEY, video.key());
    }
}
