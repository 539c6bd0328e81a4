//! The buttons that start a call: icons in a 1:1 chat's header, labelled
//! buttons on a person's page.

use crate::calls::{CallCommand, CallScreen};
use crate::i18n::Text;
use crate::state::use_shared;
use penpen_core::UserId;
use penpen_core::call::CallView;
use penpen_core::packets::call::Media;
use yew::prelude::*;

/// Where the buttons sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A 1:1 chat's header: `#chat-call-voice`, `#chat-call-video`.
    ChatHeader,
    /// A person's page: `#contact-call-voice`, `#contact-call-video`.
    Contact,
}

/// What the buttons need.
#[derive(Debug, Properties, PartialEq)]
pub struct CallButtonsProps {
    /// Whom they call.
    pub to: UserId,
    /// Where they sit.
    pub place: Place,
}

/// A voice and a video call button, sending [`CallCommand::Start`]; none
/// for oneself, disabled while a call is on.
#[component(CallButtons)]
pub fn call_buttons(props: &CallButtonsProps) -> Html {
    let idle = use_call_idle();
    let Some(shared) = use_shared() else {
        return html! {};
    };
    let me = shared.state.account.as_ref().map(|account| &account.user);
    if me == Some(&props.to) {
        return html! {};
    }
    let lang = shared.lang;
    let button = |media: Media| {
        let (id, label, icon) = match (props.place, media) {
            (Place::ChatHeader, Media::Audio) => ("chat-call-voice", Text::VoiceCall, "📞"),
            (Place::ChatHeader, Media::Video) => ("chat-call-video", Text::VideoCall, "📹"),
            (Place::Contact, Media::Audio) => ("contact-call-voice", Text::VoiceCall, "📞"),
            (Place::Contact, Media::Video) => ("contact-call-video", Text::VideoCall, "📹"),
        };
        let label = lang.tr(label);
        let onclick = {
            let (shared, to) = (shared.clone(), props.to.clone());
            Callback::from(move |_: MouseEvent| {
                super::send(
                    &shared,
                    CallCommand::Start {
                        to: to.clone(),
                        media,
                    },
                )
            })
        };
        match props.place {
            Place::ChatHeader => html! {
                <button {id} class="chat__tool chat__call" type="button" aria-label={label}
                    title={label} disabled={!idle} {onclick}>
                    { icon }
                </button>
            },
            Place::Contact => html! {
                <button {id} class="button button--secondary" type="button" disabled={!idle} {onclick}>
                    <span aria-hidden="true">{ icon }</span>{ " " }{ label }
                </button>
            },
        }
    };
    html! { <>{ button(Media::Audio) }{ button(Media::Video) }</> }
}

/// Whether no call and no meeting is on (a screen without their contexts
/// has neither): one at a time (PROTOCOL §13).
#[hook]
pub fn use_call_idle() -> bool {
    let call = use_context::<CallScreen>();
    let meeting = use_context::<crate::meetings::MeetingScreen>();
    call.is_none_or(|screen| screen.view == CallView::Idle)
        && meeting.is_none_or(|screen| !crate::meetings::holds_session(&screen.view))
}
