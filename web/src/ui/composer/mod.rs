//! The composer: Enter sends, Shift+Enter breaks the line, an IME's Enter
//! picks its candidate; the text is kept as the conversation's draft.

mod files;
mod text;

use crate::i18n::Text;
use crate::state::{Command, Update, use_shared};
use gloo::timers::callback::Timeout;
use std::rc::Rc;
use text::{DRAFT_AFTER_MS, Draft, outgoing, rows};
use web_sys::{HtmlTextAreaElement, KeyboardEvent};
use yew::prelude::*;

/// What the composer hands up.
#[derive(Debug, Properties, PartialEq)]
pub struct ComposerProps {
    /// Files picked or pasted (images to send).
    pub on_files: Callback<Vec<web_sys::File>>,
    /// Why an image or a recording was not sent (none: all is well).
    pub on_error: Callback<Option<String>>,
}

/// `textarea#composer` and `button#send`; `#attach-image` with its hidden
/// `#image-input`; `#composer-count` near the limit, `#composer-error` over it.
#[component(Composer)]
pub fn composer(props: &ComposerProps) -> Html {
    let picker = use_node_ref();
    let shared = use_shared();
    let peer = shared
        .as_ref()
        .and_then(|s| s.state.open.as_ref().map(|open| open.peer.clone()));
    // The conversation's draft, read once: the composer is keyed by
    // conversation, and from here on the field is the truth.
    let initial = shared
        .as_ref()
        .zip(peer.as_ref())
        .and_then(|(s, peer)| s.state.conversations.iter().find(|c| &c.peer == peer))
        .map(|c| c.draft.clone())
        .unwrap_or_default();
    let text = use_state(|| initial.clone());
    let draft = use_mut_ref(|| Draft {
        typed: initial.clone(),
        kept: initial,
        timer: None,
    });
    let field = use_node_ref();
    {
        let (draft, field, command, peer) = (
            draft.clone(),
            field.clone(),
            shared.as_ref().map(|s| s.command.clone()),
            peer.clone(),
        );
        use_effect_with((), move |_| {
            // Set once: a `value` attribute would make Yew put it back on
            // every render, over what is being typed.
            if let Some(field) = field.cast::<HtmlTextAreaElement>() {
                field.set_value(&draft.borrow().typed);
            }
            // On a desktop the reader types at once; on a phone focusing
            // would cover the conversation with the keyboard.
            if crate::ui::wide()
                && let Some(field) = field.cast::<HtmlTextAreaElement>()
            {
                // Focus is a convenience; failing to move it changes nothing.
                let _ = field.focus();
            }
            // Leaving the conversation keeps what was typed.
            move || {
                let mut draft = draft.borrow_mut();
                draft.timer = None;
                if let (Some(command), Some(peer)) = (command, peer) {
                    draft.keep(&command, &peer);
                }
            }
        });
    }
    // 重新编辑: a recalled text is put back, over what was typed.
    let fill = shared
        .as_ref()
        .and_then(|s| s.state.open.as_ref().and_then(|open| open.fill.clone()));
    {
        let (draft, field, text) = (draft.clone(), field.clone(), text.clone());
        use_effect_with(fill.as_ref().map(|(n, _)| *n), move |_| {
            if let (Some((_, fill)), Some(element)) = (fill, field.cast::<HtmlTextAreaElement>()) {
                element.set_value(&fill);
                draft.borrow_mut().typed = fill.clone();
                text.set(fill);
            }
        });
    }
    let (Some(shared), Some(peer)) = (shared, peer) else {
        return html! {};
    };
    let lang = shared.lang;
    let quoting = shared.state.open.as_ref().and_then(|o| o.quoting.clone());

    let send = {
        let (command, peer, draft, field, text) = (
            shared.command.clone(),
            peer.clone(),
            draft.clone(),
            field.clone(),
            text.clone(),
        );
        let (quoting, state) = (quoting.clone(), shared.state.clone());
        Rc::new(move || {
            let mut draft = draft.borrow_mut();
            let Ok(message) = outgoing(&draft.typed) else {
                return;
            };
            match &quoting {
                Some(quote) => {
                    command.emit(Command::SendReply(
                        peer.clone(),
                        message.to_owned(),
                        quote.clone(),
                    ));
                    state.dispatch(Update::Quoting(None));
                }
                None => command.emit(Command::SendText(peer.clone(), message.to_owned())),
            }
            draft.typed.clear();
            draft.timer = None;
            draft.keep(&command, &peer);
            if let Some(field) = field.cast::<HtmlTextAreaElement>() {
                field.set_value("");
                let _ = field.focus();
            }
            text.set(String::new());
        })
    };
    let oninput = {
        let (command, peer, draft, field, text) = (
            shared.command.clone(),
            peer.clone(),
            draft.clone(),
            field.clone(),
            text.clone(),
        );
        Callback::from(move |_: InputEvent| {
            let Some(value) = field.cast::<HtmlTextAreaElement>().map(|f| f.value()) else {
                return;
            };
            text.set(value.clone());
            let later = {
                let (draft, command, peer) = (draft.clone(), command.clone(), peer.clone());
                Timeout::new(DRAFT_AFTER_MS, move || {
                    draft.borrow_mut().keep(&command, &peer)
                })
            };
            let mut draft = draft.borrow_mut();
            draft.typed = value;
            draft.timer = Some(later);
        })
    };
    let onkeydown = {
        let send = send.clone();
        Callback::from(move |event: KeyboardEvent| {
            // 229: the key went to an IME (Safari reports no composition).
            let composing = event.is_composing() || event.key_code() == 229;
            if event.key() == "Enter" && !event.shift_key() && !composing {
                event.prevent_default();
                send();
            }
        })
    };
    let onclick = Callback::from(move |_: MouseEvent| send());
    let pick = files::pick(picker.clone());
    let picked = files::picked(props.on_files.clone());
    let onpaste = files::pasted(props.on_files.clone());

    // Phones send with their keyboard's own key; the Enter hint is for desktops.
    let placeholder = lang.tr(if crate::ui::wide() {
        Text::ComposerHint
    } else {
        Text::ComposerShortHint
    });
    let refusal = outgoing(&text).err();
    let quote_bar = quoting.map(|quote| {
        let cancel = {
            let state = shared.state.clone();
            Callback::from(move |_: MouseEvent| state.dispatch(Update::Quoting(None)))
        };
        html! {
            <div id="composer-quote" class="composer__quote" data-quote={quote.id.to_string()}>
                <span class="composer__quote-text">
                    { crate::ui::format::quote_line(lang, &quote, &*shared.state) }
                </span>
                <button type="button" class="composer__quote-cancel" data-action="cancel-quote"
                    aria-label={lang.tr(Text::CancelQuote)} title={lang.tr(Text::CancelQuote)}
                    onclick={cancel}>{ "×" }</button>
            </div>
        }
    });
    html! {
        <div class="composer">
            { quote_bar }
            <div class="composer__row">
                <button id="attach-image" class="composer__attach" type="button" onclick={pick}
                    aria-label={lang.tr(Text::AttachImage)} title={lang.tr(Text::AttachImage)}>
                    { "🖼" }
                </button>
                <crate::ui::voice::VoiceRecorder peer={peer.clone()} on_error={props.on_error.clone()} />
                <input id="image-input" ref={picker} class="visually-hidden" type="file"
                    accept="image/jpeg,image/png,image/gif,image/webp" onchange={picked} />
                <textarea id="composer" class="composer__field" ref={field}
                    rows={rows(&text).to_string()}
                    {placeholder} aria-label={lang.tr(Text::ComposerHint)}
                    {oninput} {onkeydown} {onpaste} />
                <button id="send" class="button button--primary composer__send" type="button"
                    disabled={refusal.is_some()} {onclick}>
                    { lang.tr(Text::Send) }
                </button>
            </div>
            { text::limit_notice(lang, &text) }
        </div>
    }
}
