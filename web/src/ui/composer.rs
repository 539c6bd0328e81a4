//! The composer: Enter sends, Shift+Enter breaks the line, an IME's Enter
//! picks its candidate; the text is kept as the conversation's draft.

use crate::i18n::Text;
use crate::state::{Command, Shared};
use gloo::timers::callback::Timeout;
use penpen_core::Peer;
use penpen_core::limits::MAX_TEXT_CHARS;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{ClipboardEvent, HtmlInputElement, HtmlTextAreaElement, KeyboardEvent};
use yew::prelude::*;

/// The draft is kept after this long without typing (not on every key).
const DRAFT_AFTER_MS: u32 = 1_000;
/// The counter appears this close to the limit.
const COUNT_FROM: usize = MAX_TEXT_CHARS - 500;
/// The field grows up to this many lines, then scrolls.
const MAX_ROWS: usize = 5;

/// Why a text is not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing but spaces.
    Empty,
    /// Over [`MAX_TEXT_CHARS`]; this many characters.
    TooLong(usize),
}

/// The text to send: `text` without surrounding spaces and line breaks, if
/// there is some and it fits in one message.
pub fn outgoing(text: &str) -> Result<&str, Refusal> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars == 0 {
        Err(Refusal::Empty)
    } else if chars > MAX_TEXT_CHARS {
        Err(Refusal::TooLong(chars))
    } else {
        Ok(text)
    }
}

/// How many lines the field shows for `text` (browsers without
/// `field-sizing: content` only grow on line breaks).
fn rows(text: &str) -> usize {
    (text.matches('\n').count() + 1).clamp(1, MAX_ROWS)
}

/// The text as typed and as the driver last kept it as a draft.
#[derive(Debug, Default)]
struct Draft {
    typed: String,
    kept: String,
    timer: Option<Timeout>,
}

impl Draft {
    /// Hands the typed text to the driver, if it changed since last time.
    /// It leaves the timer alone: the timer's own callback calls this, and a
    /// timeout must not be dropped while it runs.
    fn keep(&mut self, command: &Callback<Command>, peer: &Peer) {
        if self.typed != self.kept {
            self.kept = self.typed.clone();
            command.emit(Command::Draft(peer.clone(), self.kept.clone()));
        }
    }
}

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
    let shared = use_context::<Shared>();
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
            if super::wide()
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
    let (Some(shared), Some(peer)) = (shared, peer) else {
        return html! {};
    };
    let lang = shared.lang;

    let send = {
        let (command, peer, draft, field, text) = (
            shared.command.clone(),
            peer.clone(),
            draft.clone(),
            field.clone(),
            text.clone(),
        );
        Rc::new(move || {
            let mut draft = draft.borrow_mut();
            let Ok(message) = outgoing(&draft.typed) else {
                return;
            };
            command.emit(Command::SendText(peer.clone(), message.to_owned()));
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
    let pick = {
        let picker = picker.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(input) = picker.cast::<HtmlInputElement>() {
                input.click();
            }
        })
    };
    let picked = {
        let on_files = props.on_files.clone();
        Callback::from(move |event: Event| {
            if let Some(input) = event.target_dyn_into::<HtmlInputElement>() {
                on_files.emit(super::attach::files(input.files()));
                // The same file may be picked again.
                input.set_value("");
            }
        })
    };
    let onpaste = {
        let on_files = props.on_files.clone();
        Callback::from(move |event: Event| {
            let Some(paste) = event.dyn_ref::<ClipboardEvent>() else {
                return;
            };
            let files = super::attach::files(paste.clipboard_data().and_then(|d| d.files()));
            // Text is pasted as text; only a pasted image is sent.
            if !files.is_empty() {
                event.prevent_default();
                on_files.emit(files);
            }
        })
    };

    // Phones send with their keyboard's own key; the Enter hint is for desktops.
    let placeholder = lang.tr(if super::wide() {
        Text::ComposerHint
    } else {
        Text::ComposerShortHint
    });
    let refusal = outgoing(&text).err();
    let count = text.trim().chars().count();
    html! {
        <div class="composer">
            <div class="composer__row">
                <button id="attach-image" class="composer__attach" type="button" onclick={pick}
                    aria-label={lang.tr(Text::AttachImage)} title={lang.tr(Text::AttachImage)}>
                    { "🖼" }
                </button>
                <super::voice::VoiceRecorder peer={peer.clone()} on_error={props.on_error.clone()} />
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
            if count >= COUNT_FROM {
                <span id="composer-count"
                    class={classes!("composer__count", (count > MAX_TEXT_CHARS).then_some("composer__count--over"))}>
                    { format!("{count}/{MAX_TEXT_CHARS}") }
                </span>
            }
            if let Some(Refusal::TooLong(_)) = refusal {
                <p id="composer-error" class="composer__error" role="alert">
                    { lang.fill(Text::TooLong, &[&MAX_TEXT_CHARS.to_string()]) }
                </p>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_trimmed_text_and_refuses_empty_or_too_long() {
        assert_eq!(outgoing("  你好\n"), Ok("你好"));
        assert_eq!(outgoing(" \n\t"), Err(Refusal::Empty));
        let longest = "字".repeat(MAX_TEXT_CHARS);
        assert_eq!(outgoing(&longest), Ok(longest.as_str()));
        let over = format!("{longest}字");
        assert_eq!(outgoing(&over), Err(Refusal::TooLong(MAX_TEXT_CHARS + 1)));
        // Spaces around do not count against the limit.
        assert_eq!(outgoing(&format!("  {longest}  ")), Ok(longest.as_str()));
    }

    #[test]
    fn the_field_grows_with_line_breaks_up_to_five() {
        assert_eq!(rows(""), 1);
        assert_eq!(rows("a\nb"), 2);
        assert_eq!(rows("\n\n\n\n\n\n\n"), 5);
    }
}
