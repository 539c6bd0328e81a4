//! The browser's signals the driver listens to: online/offline and the
//! tab's visibility.

use super::Input;
use futures::channel::mpsc::UnboundedSender;
use gloo::events::EventListener;

/// Whether the tab is in front.
pub(super) fn tab_visible() -> bool {
    gloo::utils::document().visibility_state() == web_sys::VisibilityState::Visible
}

/// The browser's online/offline and visibility events, fed to the driver for
/// as long as the returned listeners live.
pub(super) fn watch_browser(inputs: UnboundedSender<Input>) -> Vec<EventListener> {
    let window = gloo::utils::window();
    let document = gloo::utils::document();
    let send = move |input: Input| {
        // The driver only goes away with the session, and the listeners with it.
        let _ = inputs.unbounded_send(input);
    };
    vec![
        EventListener::new(&window, "online", {
            let send = send.clone();
            move |_| send(Input::Online(true))
        }),
        EventListener::new(&window, "offline", {
            let send = send.clone();
            move |_| send(Input::Online(false))
        }),
        EventListener::new(&document, "visibilitychange", move |_| {
            send(Input::Visible(tab_visible()))
        }),
    ]
}
