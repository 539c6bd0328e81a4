//! The header of a page shown beside the list instead of a chat.

use crate::i18n::Text;
use crate::state::Shared;
use yew::prelude::*;

/// The pane's header with its back button.
pub(super) fn header(shared: &Shared, title: &str) -> Html {
    let close = {
        let panel = shared.panel.clone();
        Callback::from(move |_: MouseEvent| panel.set(None))
    };
    let lang = shared.lang;
    html! {
        <header class="chat__header">
            <button id="panel-back" class="chat__back" type="button"
                aria-label={lang.tr(Text::Back)} title={lang.tr(Text::Back)} onclick={close}>
                <span aria-hidden="true">{ "‹" }</span>
            </button>
            <h2 class="chat__title"><span class="chat__name">{ title }</span></h2>
        </header>
    }
}
