//! The call screen, over every page while a call is on, and the buttons
//! that start a call. It reads [`CallScreen`] (its own context) and sends
//! [`CallCommand`]s; the driver runs the call.
//!
//! `words` (what it says, the tokens tests read) is pure and tested
//! natively; `parts` are the shapes every state shares; one module per
//! state or piece beside them.

mod buttons;
mod clock;
mod devices;
mod ended;
mod in_call;
pub(crate) mod media;
pub(crate) mod parts;
mod quality;
mod ringing;
pub(crate) mod words;

pub use buttons::{CallButtons, Place};

use crate::calls::{CallCommand, CallScreen};
use crate::i18n::Text;
use crate::notify;
use crate::state::{person_name, use_shared};
use in_call::{InCall, Phase};
use parts::Party;
use penpen_core::CallId;
use penpen_core::call::CallView;
use penpen_core::packets::call::Media;
use yew::prelude::*;

/// `section#call-screen[data-call-state][data-media]`, with `data-ringing`
/// while calling and `data-cause` once ended; nothing while no call is on.
#[component(CallOverlay)]
pub fn call_overlay() -> Html {
    let screen = use_context::<CallScreen>().unwrap_or_default();
    let shared = use_shared();
    let caller = use_caller(&screen.view);
    use_incoming_notification(&screen.view, shared.as_ref());
    let Some(shared) = shared else {
        return html! {};
    };
    let view = &screen.view;
    let (Some(state), Some((peer, media))) = (words::state_token(view), peer_and_media(view))
    else {
        return html! {};
    };
    let lang = shared.lang;
    let party = Party {
        name: person_name(&shared.state, peer),
        seed: peer.to_string(),
    };
    let command = &shared.command;
    let body = match view {
        CallView::Idle => html! {},
        CallView::Outgoing { ringing, .. } => {
            ringing::outgoing(lang, &party, media, *ringing, &screen, command)
        }
        CallView::Incoming { .. } => ringing::incoming(lang, &party, media, command),
        CallView::Connecting { camera, .. } => {
            in_call(&party, media, *camera, Phase::Connecting, &screen)
        }
        CallView::Connected { camera, since, .. } => {
            in_call(&party, media, *camera, Phase::Connected(*since), &screen)
        }
        CallView::Reconnecting { camera, since, .. } => {
            in_call(&party, media, *camera, Phase::Reconnecting(*since), &screen)
        }
        CallView::Ended {
            cause, duration, ..
        } => ended::ended(lang, &party, cause, *duration, caller),
    };
    let cause = match view {
        CallView::Ended { cause, .. } => Some(words::cause_token(cause)),
        _ => None,
    };
    let ringing = match view {
        CallView::Outgoing { ringing, .. } => Some(if *ringing { "true" } else { "false" }),
        _ => None,
    };
    html! {
        <section id="call-screen" class="call-screen" data-call-state={state}
            data-media={words::media_token(media)} data-cause={cause} data-ringing={ringing}
            role="dialog" aria-modal="true" aria-label={party.name.clone()}>
            <div class="call-screen__panel">{ body }</div>
        </section>
    }
}

fn in_call(party: &Party, media: Media, camera: bool, phase: Phase, screen: &CallScreen) -> Html {
    html! {
        <InCall party={party.clone()} {media} {camera} {phase} screen={screen.clone()} />
    }
}

/// The other party and the call's media, when a call is shown.
fn peer_and_media(view: &CallView) -> Option<(&penpen_core::UserId, Media)> {
    match view {
        CallView::Idle => None,
        CallView::Outgoing { peer, media, .. }
        | CallView::Incoming { peer, media, .. }
        | CallView::Connecting { peer, media, .. }
        | CallView::Connected { peer, media, .. }
        | CallView::Reconnecting { peer, media, .. }
        | CallView::Ended { peer, media, .. } => Some((peer, *media)),
    }
}

/// Whether we placed the call shown: the view of an ended call does not
/// say, so the screen remembers whether the call it showed went out or
/// came in. A call that ends before either showed (refused at once, no
/// microphone) is one we were placing.
#[hook]
fn use_caller(view: &CallView) -> bool {
    let seen = use_mut_ref(|| None::<(CallId, bool)>);
    let mut seen = seen.borrow_mut();
    match view {
        CallView::Outgoing { call, .. } => *seen = Some((call.clone(), true)),
        CallView::Incoming { call, .. } => *seen = Some((call.clone(), false)),
        _ => {}
    }
    match (&*seen, view.call()) {
        (Some((known, caller)), Some(call)) if known == call => *caller,
        _ => true,
    }
}

/// A call that starts ringing while the tab is hidden shows a notification
/// (when the user allowed them); the ringtone is the driver's.
#[hook]
fn use_incoming_notification(view: &CallView, shared: Option<&crate::state::Shared>) {
    let ringing = match view {
        CallView::Incoming { call, peer, media } => Some((call.clone(), peer.clone(), *media)),
        _ => None,
    };
    let shared = shared.cloned();
    use_effect_with(ringing.as_ref().map(|(call, ..)| call.clone()), move |_| {
        let hidden = gloo::utils::document().visibility_state() == web_sys::VisibilityState::Hidden;
        if let (Some((_, peer, media)), Some(shared), true) = (ringing, shared, hidden) {
            let lang = shared.lang;
            let body = lang.tr(match media {
                Media::Audio => Text::CallInvitesVoice,
                Media::Video => Text::CallInvitesVideo,
            });
            notify::incoming_call(&person_name(&shared.state, &peer), body);
        }
    });
}

/// Sends `call` (the call buttons and the screen share it).
fn send(shared: &crate::state::Shared, call: CallCommand) {
    shared.command.emit(crate::state::Command::Call(call));
}
