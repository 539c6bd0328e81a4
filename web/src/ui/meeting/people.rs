//! The participant list (`#meeting-participants`): names from the
//! directory, and whether each one's microphone and camera send.

use crate::i18n::Text;
use crate::state::{Shared, person_name};
use penpen_core::packets::meeting::Participant;
use yew::prelude::*;

/// One row per participant, in the order they joined.
pub fn list(shared: &Shared, participants: &[Participant]) -> Html {
    let lang = shared.lang;
    let me = shared.state.account.as_ref().map(|a| &a.user);
    let flag = |on: bool| if on { "true" } else { "false" };
    let rows = participants.iter().map(|p| {
        let mut name = person_name(&shared.state, &p.user);
        if me == Some(&p.user) {
            name.push_str(lang.tr(Text::MeetingYou));
        }
        html! {
            <li class="meeting-people__row" data-user={p.user.to_string()}
                data-mic={flag(p.mic)} data-camera={flag(p.camera)}>
                <span class="meeting-people__name">{ name }</span>
                <span class="meeting-people__icon" title={lang.tr(Text::MeetingMic)}>
                    { if p.mic { "🎙" } else { "🔇" } }
                </span>
                <span class={classes!("meeting-people__icon", (!p.camera).then_some("meeting-people__icon--off"))}
                    title={lang.tr(Text::MeetingCamera)}>
                    { "📷" }
                </span>
            </li>
        }
    });
    html! {
        <aside id="meeting-participants" class="meeting-people"
            aria-label={lang.tr(Text::MeetingParticipants)}>
            <h3 class="meeting-people__title">
                { lang.tr(Text::MeetingParticipants) }{ format!(" ({})", participants.len()) }
            </h3>
            <ul class="meeting-people__list">{ for rows }</ul>
        </aside>
    }
}
