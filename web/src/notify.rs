//! Telling the user about a message they are not looking at: a short sound
//! and, when they allowed it, a browser notification. (The browser signals
//! the driver listens to are `driver::browser`'s: signals in, notifications
//! out.)

use wasm_bindgen::JsCast;
use web_sys::{NotificationOptions, NotificationPermission};

/// Whether the browser may show notifications: `None` when it has no
/// notifications at all.
pub fn permission() -> Option<NotificationPermission> {
    let supported =
        js_sys::Reflect::has(&gloo::utils::window(), &"Notification".into()).unwrap_or(false);
    supported.then(web_sys::Notification::permission)
}

/// Asks for permission to show notifications (only ever from a click).
pub fn ask_permission() {
    if permission() == Some(NotificationPermission::Default) {
        // The answer is read again through `permission()` when needed.
        let _ = web_sys::Notification::request_permission();
    }
}

/// A message arrived out of view: a sound, and a notification when allowed.
pub fn new_message(title: &str, body: &str) {
    count_alert(title, body);
    if crate::prefs::sound() {
        chime();
    }
    if permission() == Some(NotificationPermission::Granted) {
        show(title.to_owned(), body.to_owned(), "penpen-message");
    }
}

/// A call rings while the tab is hidden: a notification when allowed (the
/// ringtone is the call driver's). Its own tag, so a message arriving
/// meanwhile does not replace it.
pub fn incoming_call(title: &str, body: &str) {
    if permission() == Some(NotificationPermission::Granted) {
        show(title.to_owned(), body.to_owned(), "penpen-call");
    }
}

/// Counts the message alerts on `<html data-alerts="N" data-last-alert="title"
/// data-last-alert-body="body">`: whether a sound or a notification went out
/// is otherwise invisible to the page (and so to the end-to-end tests, whose
/// browser allows neither).
fn count_alert(title: &str, body: &str) {
    let Some(root) = gloo::utils::document().document_element() else {
        return;
    };
    let count = root
        .get_attribute("data-alerts")
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    // An attribute that cannot be set only costs the tests their view.
    let _ = root.set_attribute("data-alerts", &(count + 1).to_string());
    let _ = root.set_attribute("data-last-alert", title);
    let _ = root.set_attribute("data-last-alert-body", body);
}

/// The icon notifications carry (copied beside `index.html` by trunk).
const NOTIFICATION_ICON: &str = "icon-192.png";

/// Shows a notification through the service worker's registration where
/// there is one (the only way an installed app on a phone may show one),
/// else through the page's `Notification`.
fn show(title: String, body: String, tag: &str) {
    let options = NotificationOptions::new();
    options.set_body(&body);
    options.set_tag(tag);
    options.set_icon(NOTIFICATION_ICON);
    let navigator = gloo::utils::window().navigator();
    let has_worker = js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false);
    if !has_worker {
        // A notification the browser refuses is not worth more than the sound.
        let _ = web_sys::Notification::new_with_options(&title, &options);
        return;
    }
    let registration = navigator.service_worker().get_registration();
    wasm_bindgen_futures::spawn_local(async move {
        let registration = wasm_bindgen_futures::JsFuture::from(registration)
            .await
            .ok()
            .and_then(|r| r.dyn_into::<web_sys::ServiceWorkerRegistration>().ok());
        let shown = match registration {
            Some(registration) => registration
                .show_notification_with_options(&title, &options)
                .is_ok(),
            None => false,
        };
        if !shown {
            let _ = web_sys::Notification::new_with_options(&title, &options);
        }
    });
}

/// Two short soft tones, made on the spot: no sound file to fetch or cache.
fn chime() {
    let Ok(context) = web_sys::AudioContext::new() else {
        return;
    };
    let start = context.current_time();
    for (offset, frequency) in [(0.0, 880.0), (0.12, 1320.0)] {
        let (Ok(oscillator), Ok(gain)) = (context.create_oscillator(), context.create_gain())
        else {
            return;
        };
        oscillator.frequency().set_value(frequency);
        let volume = gain.gain();
        let _ = volume.set_value_at_time(0.0001, start + offset);
        let _ = volume.exponential_ramp_to_value_at_time(0.15, start + offset + 0.02);
        let _ = volume.exponential_ramp_to_value_at_time(0.0001, start + offset + 0.25);
        if oscillator.connect_with_audio_node(&gain).is_err()
            || gain
                .connect_with_audio_node(&context.destination())
                .is_err()
        {
            return;
        }
        let _ = oscillator.start_with_when(start + offset);
        let _ = oscillator.stop_with_when(start + offset + 0.3);
    }
    // The context closes itself once the tones are done.
    let closer = context.clone();
    gloo::timers::callback::Timeout::new(1_000, move || {
        let _ = closer.close();
    })
    .forget();
}
