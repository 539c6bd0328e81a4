//! The composer: Enter sends, Shift+Enter breaks the line, an IME's Enter
//! picks its candidate; the text is kept as the conversation's draft. In a
//! group, `@` opens the mention picker (↑/↓, Enter or Tab, Esc; a click or
//! a tap).

mod files;
pub mod mention;
mod mentions;
mod text;

use crate::i18n::Text;
use crate::state::{Command, Update, use_shared};
use gloo::timers::callback::Timeout;
use mention::Candidate;
use mentions::Typing;
use std::cell::RefCell;
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
/// `#image-input`; `#attach-file` (文件, any type) with `#file-input`; `#composer-count` near the limit, `#composer-error` over it.
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
    let typing = use_state(|| None::<Typing>);
    // Everyone picked since the last send; what the text still names goes.
    let picked = use_mut_ref(Vec::<Candidate>::new);
    let initials = crate::ui::directory::use_initials(shared.as_ref());
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
    let (members, holder) = mentions::members(&shared, &peer, &initials);
    let group = matches!(peer, penpen_core::Peer::Group(_));
    let found: Rc<Vec<Candidate>> = Rc::new(
        (*typing)
            .as_ref()
            .map(|t| mention::candidates(&members, &t.query, holder))
            .unwrap_or_default(),
    );
    let choose = choose_mention(
        field.clone(),
        typing.clone(),
        picked.clone(),
        draft.clone(),
        text.clone(),
        found.clone(),
    );
    let quoting = shared.state.open.as_ref().and_then(|o| o.quoting.clone());

    let send = {
        let (command, peer, draft, field, text, picked) = (
            shared.command.clone(),
            peer.clone(),
            draft.clone(),
            field.clone(),
            text.clone(),
            picked.clone(),
        );
        let (quoting, state) = (quoting.clone(), shared.state.clone());
        Rc::new(move || {
            let mut draft = draft.borrow_mut();
            let Ok(message) = outgoing(&draft.typed) else {
                return;
            };
            let (mentions, mention_all) =
                mention::kept(message, &std::mem::take(&mut *picked.borrow_mut()));
            if quoting.is_none() && mentions.is_empty() && !mention_all {
                command.emit(Command::SendText(peer.clone(), message.to_owned()));
            } else {
                command.emit(Command::SendComposed {
                    peer: peer.clone(),
                    text: message.to_owned(),
                    quote: quoting.clone(),
                    mentions,
                    mention_all,
                });
                if quoting.is_some() {
                    state.dispatch(Update::Quoting(None));
                }
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
        let (command, peer, draft, field, text, typing) = (
            shared.command.clone(),
            peer.clone(),
            draft.clone(),
            field.clone(),
            text.clone(),
            typing.clone(),
        );
        Callback::from(move |_: InputEvent| {
            let Some(element) = field.cast::<HtmlTextAreaElement>() else {
                return;
            };
            let value = element.value();
            text.set(value.clone());
            let caret = element.selection_start().ok().flatten().unwrap_or(0) as usize;
            typing.set(
                group
                    .then(|| mention::query_at(&value, caret))
                    .flatten()
                    .map(|(at, query)| Typing {
                        at,
                        caret,
                        query,
                        highlighted: 0,
                    }),
            );
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
        let (send, typing, found, choose) =
            (send.clone(), typing.clone(), found.clone(), choose.clone());
        Callback::from(move |event: KeyboardEvent| {
            // 229: the key went to an IME (Safari reports no composition).
            let composing = event.is_composing() || event.key_code() == 229;
            if let Some(open) = (*typing)
                .clone()
                .filter(|_| !found.is_empty() && !composing)
            {
                let count = found.len();
                let moved = |highlighted| {
                    Some(Typing {
                        highlighted,
                        ..open.clone()
                    })
                };
                match event.key().as_str() {
                    "ArrowDown" => typing.set(moved((open.highlighted + 1) % count)),
                    "ArrowUp" => typing.set(moved((open.highlighted + count - 1) % count)),
                    "Enter" | "Tab" => choose.emit(open.highlighted),
                    "Escape" => typing.set(None),
                    _ => return,
                }
                event.prevent_default();
                return;
            }
            if event.key() == "Enter" && !event.shift_key() && !composing {
                event.prevent_default();
                send();
            }
        })
    };
    let onclick = Callback::from(move |_: MouseEvent| send());
    let pick = files::pick(picker.clone());
    let file_picker = use_node_ref();
    let pick_file = files::pick(file_picker.clone());
    let file_picked = {
        let (command, peer, on_error) =
            (shared.command.clone(), peer.clone(), props.on_error.clone());
        files::picked(Callback::from(move |picked: Vec<web_sys::File>| {
            for file in picked {
                crate::ui::attach::send_upload(
                    file,
                    peer.clone(),
                    command.clone(),
                    lang,
                    on_error.clone(),
                );
            }
        }))
    };
    let picked = files::picked(props.on_files.clone());
    let onpaste = files::pasted(props.on_files.clone());

    // Phones send with their keyboard's own key; the Enter hint is for desktops.
    let placeholder = lang.tr(if crate::ui::wide() {
        Text::ComposerHint
    } else {
        Text::ComposerShortHint
    });
    let refusal = outgoing(&text).err();
    let highlighted = (*typing).as_ref().map_or(0, |t| t.highlighted);
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
            if !found.is_empty() {
                { mentions::picker(lang, &found, highlighted, choose) }
            }
            { quote_bar }
            <div class="composer__row">
                <button id="attach-image" class="composer__attach" type="button" onclick={pick}
                    aria-label={lang.tr(Text::AttachImage)} title={lang.tr(Text::AttachImage)}>
                    { "🖼" }
                </button>
                <button id="attach-file" class="composer__attach composer__attach--file" type="button" onclick={pick_file}
                    aria-label={lang.tr(Text::SendFileHint)} title={lang.tr(Text::SendFileHint)}>
                    { lang.tr(Text::AttachFile) }
                </button>
                <input id="file-input" ref={file_picker} class="visually-hidden" type="file" multiple=true
                    onchange={file_picked} />
                <crate::ui::voice::VoiceRecorder peer={peer.clone()} on_error={props.on_error.clone()} />
                <input id="image-input" ref={picker} class="visually-hidden" type="file"
                    accept="image/jpeg,image/png,image/gif,image/webp" onchange={picked} />
                <textarea id="composer" class="composer__field" ref={field}
                    aria-expanded={(!found.is_empty()).to_string()}
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

/// Puts the `index`-th choice of the picker in the field as `@name `, keeps
/// whom it names for the send, and closes the picker.
fn choose_mention(
    field: NodeRef,
    typing: UseStateHandle<Option<Typing>>,
    picked: Rc<RefCell<Vec<Candidate>>>,
    draft: Rc<RefCell<Draft>>,
    text: UseStateHandle<String>,
    found: Rc<Vec<Candidate>>,
) -> Callback<usize> {
    Callback::from(move |index: usize| {
        let (Some(open), Some(candidate), Some(element)) = (
            (*typing).clone(),
            found.get(index).cloned(),
            field.cast::<HtmlTextAreaElement>(),
        ) else {
            return;
        };
        let (value, caret) =
            mention::insert(&element.value(), open.at, open.caret, candidate.name());
        element.set_value(&value);
        // Where the caret lands is a convenience; the text is right either way.
        let _ = element.set_selection_range(caret as u32, caret as u32);
        let _ = element.focus();
        picked.borrow_mut().push(candidate);
        draft.borrow_mut().typed = value.clone();
        text.set(value);
        typing.set(None);
    })
}
