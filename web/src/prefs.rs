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
