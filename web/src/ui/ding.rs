//! The urgent reminder banner (加急, §16.4): across the top of the app, over
//! every page, until the message is read or the banner dismissed.

use crate::i18n::Text;
use crate::state::{Command, use_shared};
use crate::ui::controls;
use crate::ui::format;
use yew::prelude::*;

/// `#ding-banner[data-id]` (role alert): "王建国 加急提醒你：…", with
/// `#ding-view` (opens the chat at the message) and `#ding-dismiss`. The
/// oldest reminder shows; the others are counted.
#[component(DingBanner)]
pub fn ding_banner() -> Html {
    let shared = use_shared();
    let Some(shared) = shared else {
        return html! {};
    };
    let (state, lang) = (&*shared.state, shared.lang);
    let Some(ding) = state.dings.first() else {
        return html! {};
    };
    let who = crate::state::person_name(state, &ding.by);
    let snippet = format::quote_snippet(lang, &ding.message);
    let id = ding.message.id;
    let view = {
        let (command, target) = (shared.command.clone(), ding.target.clone());
        Callback::from(move |_: MouseEvent| command.emit(Command::OpenAt(target.clone(), id)))
    };
    let dismiss = {
        let command = shared.command.clone();
        Callback::from(move |_: MouseEvent| command.emit(Command::DismissDing(id)))
    };
    let more = state.dings.len() - 1;
    html! {
        <div id="ding-banner" class="ding-banner" role="alert" data-id={id.to_string()}>
            <span class="ding-banner__icon" aria-hidden="true">{ "!" }</span>
            <span class="ding-banner__text">
                { lang.fill(Text::DingedBy, &[&who, &snippet]) }
                if more > 0 {
                    <span class="ding-banner__more">{ lang.fill(Text::DingMore, &[&more.to_string()]) }</span>
                }
            </span>
            { controls::button(Some("ding-view"), "button ding-banner__view", lang.tr(Text::DingView), view, false) }
            <button id="ding-dismiss" type="button" class="ding-banner__close"
                aria-label={lang.tr(Text::Dismiss)} onclick={dismiss}>{ "×" }</button>
        </div>
    }
}
