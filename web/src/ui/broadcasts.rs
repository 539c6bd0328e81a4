//! Company broadcasts (通知): the list, one broadcast, and the form that
//! sends one (shown only to accounts allowed to broadcast).

use super::format;
use super::operation::{Status, use_operation};
use crate::i18n::{Lang, Text};
use crate::state::{Command, Panel, person_name, use_shared};
use crate::ui::controls;
use penpen_core::BroadcastId;
use penpen_core::packets::broadcast::BroadcastKind;
use penpen_core::sync::{Operation, Outcome};
use penpen_core::time::ago;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

/// The word for a kind of broadcast.
pub fn kind_text(kind: BroadcastKind) -> Text {
    match kind {
        BroadcastKind::Notice => Text::KindNotice,
        BroadcastKind::News => Text::KindNews,
        BroadcastKind::Announcement => Text::KindAnnouncement,
    }
}

fn kind_code(kind: BroadcastKind) -> &'static str {
    match kind {
        BroadcastKind::Notice => "notice",
        BroadcastKind::News => "news",
        BroadcastKind::Announcement => "announcement",
    }
}

/// `#broadcasts`: `#new-broadcast` for broadcasters, then
/// `.broadcast[data-id][data-unread]` rows, newest first.
#[component(BroadcastList)]
pub fn broadcast_list() -> Html {
    let Some(shared) = use_shared() else {
        return html! {};
    };
    let (state, lang) = (&*shared.state, shared.lang);
    let broadcaster = state.account.as_ref().is_some_and(|a| a.broadcaster);
    let compose = {
        let panel = shared.panel.clone();
        Callback::from(move |_: MouseEvent| panel.set(Some(Panel::NewBroadcast)))
    };
    let now = super::now();
    html! {
        <div id="broadcasts" class="broadcasts">
            if broadcaster {
                <div class="list-actions">
                    <button id="new-broadcast" class="button button--ghost" type="button" onclick={compose}>
                        { "＋ " }{ lang.tr(Text::NewBroadcast) }
                    </button>
                </div>
            }
            if state.broadcasts.is_empty() {
                <p class="directory__empty">{ lang.tr(Text::NoBroadcasts) }</p>
            }
            <ul class="broadcasts__list">
                { for state.broadcasts.iter().map(|cached| {
                    let broadcast = &cached.broadcast;
                    let open = {
                        let (panel, id) = (shared.panel.clone(), broadcast.id);
                        Callback::from(move |_: MouseEvent| panel.set(Some(Panel::Broadcast(id))))
                    };
                    let active = *shared.panel == Some(Panel::Broadcast(broadcast.id));
                    html! {
                        <li key={broadcast.id.to_string()}
                            class={classes!("broadcast", active.then_some("broadcast--active"))}
                            data-id={broadcast.id.to_string()} data-unread={(!cached.read).to_string()}>
                            <button type="button" class="broadcast__open" onclick={open}>
                                <span class="broadcast__top">
                                    <span class={classes!("broadcast__kind", format!("broadcast__kind--{}", kind_code(broadcast.kind)))}>
                                        { lang.tr(kind_text(broadcast.kind)) }
                                    </span>
                                    <span class="broadcast__title">{ &broadcast.title }</span>
                                    if !cached.read { <span class="badge badge--dot" aria-label={lang.tr(Text::Unread)}></span> }
                                </span>
                                <span class="broadcast__meta">
                                    { person_name(state, &broadcast.from) }{ " · " }
                                    { format::ago_label(lang, ago(broadcast.ts, now, shared.utc_offset_minutes)) }
                                </span>
                            </button>
                        </li>
                    }
                }) }
            </ul>
        </div>
    }
}

/// What the page is about.
#[derive(Debug, Properties, PartialEq)]
pub struct BroadcastPageProps {
    /// Which broadcast.
    pub id: BroadcastId,
}

/// `#broadcast-page[data-id]`: `#broadcast-title`, its kind, sender and time,
/// `#broadcast-content`. Opening it marks it read.
#[component(BroadcastPage)]
pub fn broadcast_page(props: &BroadcastPageProps) -> Html {
    let shared = use_shared();
    {
        let command = shared.as_ref().map(|s| s.command.clone());
        use_effect_with(props.id, move |id| {
            if let Some(command) = command {
                command.emit(Command::ReadBroadcast(*id));
            }
        });
    }
    let Some(shared) = shared else {
        return html! {};
    };
    let (state, lang) = (&*shared.state, shared.lang);
    let header = super::panel::header(&shared, lang.tr(Text::TabBroadcasts));
    let Some(cached) = state.broadcasts.iter().find(|b| b.broadcast.id == props.id) else {
        return html! {
            <section id="broadcast-page" class="panel" data-id={props.id.to_string()}>
                { header }
            </section>
        };
    };
    let broadcast = &cached.broadcast;
    html! {
        <section id="broadcast-page" class="panel" data-id={broadcast.id.to_string()}>
            { header }
            <article class="panel__body">
                <p class="broadcast__top">
                    <span class={classes!("broadcast__kind", format!("broadcast__kind--{}", kind_code(broadcast.kind)))}>
                        { lang.tr(kind_text(broadcast.kind)) }
                    </span>
                </p>
                <h2 id="broadcast-title" class="panel__title">{ &broadcast.title }</h2>
                <p class="panel__sub">
                    { person_name(state, &broadcast.from) }{ " · " }
                    { format::separator_label(lang, broadcast.ts, super::now(), shared.utc_offset_minutes) }
                </p>
                <div id="broadcast-content" class="broadcast__content">{ &broadcast.content }</div>
            </article>
        </section>
    }
}

/// `#new-broadcast-form`: `#broadcast-kind`, `#broadcast-title-input`,
/// `#broadcast-content-input`, `#broadcast-send`, `#broadcast-status`. Sent,
/// it shows the stored broadcast.
#[component(NewBroadcast)]
pub fn new_broadcast() -> Html {
    let shared = use_shared();
    let (kind, title, content) = (use_node_ref(), use_node_ref(), use_node_ref());
    let invalid = use_state(|| None::<Text>);
    let operation = use_operation();
    {
        let panel = shared.as_ref().map(|s| s.panel.clone());
        use_effect_with((*operation.status).clone(), move |status| {
            if let (Status::Done(Outcome::Broadcast(id)), Some(panel)) = (status, panel) {
                panel.set(Some(Panel::Broadcast(*id)));
            }
        });
    }
    let Some(shared) = shared else {
        return html! {};
    };
    let lang = shared.lang;
    let on_submit = {
        let (kind, title, content) = (kind.clone(), title.clone(), content.clone());
        let (invalid, operation) = (invalid.clone(), operation.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let chosen = kind
                .cast::<HtmlSelectElement>()
                .and_then(|s| s.value().parse::<u8>().ok())
                .and_then(|code| BroadcastKind::try_from(code).ok())
                .unwrap_or(BroadcastKind::Notice);
            let title = title
                .cast::<HtmlInputElement>()
                .map(|f| f.value().trim().to_owned())
                .unwrap_or_default();
            let content = content
                .cast::<HtmlTextAreaElement>()
                .map(|f| f.value().trim().to_owned())
                .unwrap_or_default();
            if title.is_empty() {
                invalid.set(Some(Text::ErrBroadcastTitle));
            } else if content.is_empty() {
                invalid.set(Some(Text::ErrBroadcastContent));
            } else {
                invalid.set(None);
                operation.run(Operation::SendBroadcast {
                    kind: chosen,
                    title,
                    content,
                });
            }
        })
    };
    let on_edit = {
        let invalid = invalid.clone();
        Callback::from(move |_: InputEvent| invalid.set(None))
    };
    let status = match (&*invalid, &*operation.status) {
        (Some(problem), _) => Some(lang.tr(*problem).to_owned()),
        (None, Status::Waiting) => Some(lang.tr(Text::Sending).to_owned()),
        (None, Status::Failed(why)) => Some(why.clone()),
        _ => None,
    };
    let option = |kind: BroadcastKind| {
        html! { <option value={u8::from(kind).to_string()}>{ lang.tr(kind_text(kind)) }</option> }
    };
    html! {
        <section id="new-broadcast-form" class="panel">
            { super::panel::header(&shared, lang.tr(Text::NewBroadcast)) }
            <form class="panel__body" onsubmit={on_submit}>
                <label class="field">
                    <span class="field__label">{ lang.tr(Text::BroadcastKind) }</span>
                    <select id="broadcast-kind" ref={kind} class="me__input">
                        { option(BroadcastKind::Notice) }
                        { option(BroadcastKind::News) }
                        { option(BroadcastKind::Announcement) }
                    </select>
                </label>
                <label class="field">
                    <span class="field__label">{ lang.tr(Text::BroadcastTitle) }</span>
                    <input id="broadcast-title-input" ref={title} type="text" oninput={on_edit.clone()}
                        maxlength={penpen_core::limits::MAX_BROADCAST_TITLE_CHARS.to_string()} />
                </label>
                <label class="field">
                    <span class="field__label">{ lang.tr(Text::BroadcastContent) }</span>
                    <textarea id="broadcast-content-input" ref={content} class="me__input broadcast__editor"
                        rows="8" oninput={on_edit}
                        maxlength={penpen_core::limits::MAX_BROADCAST_CHARS.to_string()} />
                </label>
                <div class="panel__actions">
                    { controls::submit("broadcast-send", "button button--primary", lang.tr(Text::Send), operation.waiting()) }
                    if let Some(status) = status {
                        <p id="broadcast-status" class="me__status me__status--failed" role="status">{ status }</p>
                    }
                </div>
            </form>
        </section>
    }
}

/// The tab's label: the unread count after the word.
pub fn tab_label(lang: Lang, unread: usize) -> String {
    if unread == 0 {
        lang.tr(Text::TabBroadcasts).to_owned()
    } else {
        format!("{} {unread}", lang.tr(Text::TabBroadcasts))
    }
}
