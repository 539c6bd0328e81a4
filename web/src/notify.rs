//! Telling the user about a message they are not looking at: a short sound
//! and, when they allowed it, a browser notification. (The browser signals
//! the driver listens to are `driver::browser`'s: signals in, notifications
//! out.)

use penpen_core::Peer;
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use web_sys::{NotificationOptions, NotificationPermission};

thread_local! {
    /// Notifications shown through the page (no service worker), kept so
    /// the ones of a conversation read elsewhere can be closed.
    static SHOWN: RefCell<Vec<web_sys::Notification>> = const { RefCell::new(Vec::new()) };
}

/// The tag of a conversation's notifications: a newer message replaces the
/// older one's, and reading the conversation (on any device) closes them.
pub fn conversation_tag(peer: &Peer) -> String {
    match peer {
        Peer::User(user) => format!("penpen-u{user}"),
        Peer::Group(gid) => format!("penpen-g{gid}"),
    }
}

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

/// A message arrived out of view: a sound, and a notification when allowed,
/// tagged `tag` (see [`conversation_tag`]).
pub fn new_message(title: &str, body: &str, tag: &str) {
    count_alert(title, body);
    if crate::prefs::sound() {
        chime();
    }
    if permission() == Some(NotificationPermission::Granted) {
        show(title.to_owned(), body.to_owned(), tag, false);
    }
}

/// An urgent reminder (加急, §16.4): a notification that stays until acted
/// on, and a more insistent sound, even for a muted conversation (the
/// device's sound switch still silences it).
pub fn ding(title: &str, body: &str, tag: &str) {
    count_alert(title, body);
    if crate::prefs::sound() {
        chime();
        // Twice, a moment apart: harder to miss than a message's chime.
        gloo::timers::callback::Timeout::new(700, chime).forget();
    }
    if permission() == Some(NotificationPermission::Granted) {
        show(title.to_owned(), body.to_owned(), tag, true);
    }
}

/// Closes the notifications tagged `tag`: the conversation was read (here
/// or on another device, §16.1).
pub fn close(tag: &str) {
    SHOWN.with(|shown| {
        shown.borrow_mut().retain(|notification| {
            let ours = notification.tag().as_deref() == Some(tag);
            if ours {
                notification.close();
            }
            !ours
        })
    });
    let navigator = gloo::utils::window().navigator();
    let has_worker = js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false);
    if !has_worker {
        return;
    }
    let registration = navigator.service_worker().get_registration();
    let tag = tag.to_owned();
    wasm_bindgen_futures::spawn_local(async move {
        let Some(registration) = wasm_bindgen_futures::JsFuture::from(registration)
            .await
            .ok()
            .and_then(|r| r.dyn_into::<web_sys::ServiceWorkerRegistration>().ok())
        else {
            return;
        };
        let Ok(listed) = registration.get_notifications() else {
            return;
        };
        let Ok(listed) = wasm_bindgen_futures::JsFuture::from(listed).await else {
            return;
        };
        for notification in js_sys::Array::from(&listed).iter() {
            if let Ok(notification) = notification.dyn_into::<web_sys::Notification>()
                && notification.tag().as_deref() == Some(tag.as_str())
            {
                notification.close();
            }
        }
    });
}

/// A call rings while the tab is hidden: a notification when allowed (the
/// ringtone is the call driver's). Its own tag, so a message arriving
/// meanwhile does not replace it.
pub fn incoming_call(title: &str, body: &str) {
    if permission() == Some(NotificationPermission::Granted) {
        show(title.to_owned(), body.to_owned(), "penpen-call", false);
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
fn show(title: String, body: String, tag: &str, insistent: bool) {
    let options = NotificationOptions::new();
    options.set_body(&body);
    options.set_tag(tag);
    options.set_icon(NOTIFICATION_ICON);
    if insistent {
        options.set_require_interaction(true);
        options.set_renotify(true);
    }
    let navigator = gloo::utils::window().navigator();
    let has_worker = js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false);
    if !has_worker {
        page_notification(&title, &options);
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
            page_notification(&title, &options);
        }
    });
}

/// A notification of the page itself, kept for [`close`].
fn page_notification(title: &str, options: &NotificationOptions) {
    // A notification the browser refuses is not worth more than the sound.
    if let Ok(notification) = web_sys::Notification::new_with_options(title, options) {
        SHOWN.with(|shown| {
            let mut shown = shown.borrow_mut();
            // One per tag is on screen; the browser replaced the older one.
            let tag = notification.tag();
            shown.retain(|old| old.tag() != tag);
            shown.push(notification);
        });
    }
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
