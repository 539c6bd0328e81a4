//! The conversation list: who, the last message, when, how many unread; a
//! menu on right-click or long press.

use super::avatar::{self, Size};
use super::format::{self, Badge};
use super::menu::{ConversationMenu, LongPress, LongPressHandlers, MenuAt, long_press};
use crate::i18n::{Lang, Text};
use crate::state::{AppState, Command, peer_name, use_shared};
use gloo::timers::callback::Interval;
use penpen_core::Peer;
use penpen_core::cache::Conversation;
use penpen_core::time::ago;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// How often relative times ("3分钟前") are brought up to date.
const TICK_MS: u32 = 30_000;

/// `<ul id="conversation-list">` of `li.conversation[data-peer]`.
#[component(ConversationList)]
pub fn conversation_list() -> Html {
    let shared = use_shared();
    let menu = use_state(|| None::<MenuAt>);
    let press = use_mut_ref(LongPress::default);
    let tick = use_state(|| 0_u32);
    {
        let tick = tick.clone();
        use_effect_with((), move |_| {
            let interval = Interval::new(TICK_MS, move || tick.set(tick.wrapping_add(1)));
            move || drop(interval)
        });
    }
    let Some(shared) = shared else {
        return html! {};
    };
    let (state, lang) = (&*shared.state, shared.lang);
    let visible: Vec<&Conversation> = state.conversations.iter().filter(|c| !c.hidden).collect();
    if visible.is_empty() {
        return empty(lang, state.caught_up);
    }
    let now = super::now();
    let open = state.open.as_ref().map(|open| &open.peer);
    let close_menu = {
        let menu = menu.clone();
        Callback::from(move |()| menu.set(None))
    };
    let rows = visible.into_iter().map(|conversation| {
        let active = open == Some(&conversation.peer);
        let handlers = Handlers::new(&conversation.peer, &shared.command, &menu, &press);
        row(
            state,
            lang,
            conversation,
            active,
            now,
            shared.utc_offset_minutes,
            handlers,
        )
    });
    html! {
        <>
            <ul id="conversation-list" class="conversations">{ for rows }</ul>
            if let Some(at) = (*menu).clone() {
                <ConversationMenu at={at} on_close={close_menu} />
            }
        </>
    }
}

fn empty(lang: Lang, caught_up: bool) -> Html {
    html! {
        <div id="conversation-empty" class="conversations__empty">
            if caught_up {
                <p class="conversations__empty-title">{ lang.tr(Text::NoConversations) }</p>
                <p class="conversations__empty-hint">{ lang.tr(Text::NoConversationsHint) }</p>
            } else {
                <p class="conversations__empty-hint">{ lang.tr(Text::SyncingConversations) }</p>
            }
        </div>
    }
}

/// What a row does when clicked, right-clicked or long-pressed.
struct Handlers {
    onclick: Callback<MouseEvent>,
    oncontextmenu: Callback<MouseEvent>,
    onpointerdown: Callback<PointerEvent>,
    onpointermove: Callback<PointerEvent>,
    onpointerend: Callback<PointerEvent>,
}

impl Handlers {
    fn new(
        peer: &Peer,
        command: &Callback<Command>,
        menu: &UseStateHandle<Option<MenuAt>>,
        press: &Rc<RefCell<LongPress>>,
    ) -> Handlers {
        let open_menu = {
            let (peer, menu) = (peer.clone(), menu.clone());
            move |x: i32, y: i32| {
                menu.set(Some(MenuAt {
                    peer: peer.clone(),
                    x,
                    y,
                }))
            }
        };
        let onclick = {
            let (peer, command, press) = (peer.clone(), command.clone(), press.clone());
            Callback::from(move |_: MouseEvent| {
                if press.borrow_mut().take_opened() {
                    return;
                }
                command.emit(Command::Open(peer.clone()));
            })
        };
        let oncontextmenu = {
            let open_menu = open_menu.clone();
            Callback::from(move |event: MouseEvent| {
                event.prevent_default();
                open_menu(event.client_x(), event.client_y());
            })
        };
        let LongPressHandlers {
            onpointerdown,
            onpointermove,
            onpointerend,
        } = long_press(press.clone(), Rc::new(open_menu));
        Handlers {
            onclick,
            oncontextmenu,
            onpointerdown,
            onpointermove,
            onpointerend,
        }
    }
}

fn row(
    state: &AppState,
    lang: Lang,
    conversation: &Conversation,
    active: bool,
    now: i64,
    utc_offset_minutes: i32,
    handlers: Handlers,
) -> Html {
    let peer = &conversation.peer;
    let name = peer_name(state, peer);
    let group = matches!(peer, Peer::Group(_));
    let face = if group {
        avatar::group(&name, Size::Large)
    } else {
        avatar::person(&name, &peer.to_string(), Size::Large)
    };
    let when = conversation
        .last
        .as_ref()
        .map(|last| format::ago_label(lang, ago(last.ts, now, utc_offset_minutes)))
        .unwrap_or_default();
    // "[有人@我]" comes before whatever the preview shows, until it is read.
    let mentioned = conversation.mentioned.then(|| {
        html! { <span class="conversation__mentioned">{ lang.tr(Text::MentionedMe) }</span> }
    });
    let preview = if conversation.draft.trim().is_empty() {
        let line = conversation
            .last
            .as_ref()
            .map(|last| format::preview_line(lang, last, group, state))
            .unwrap_or_default();
        html! { <span class="conversation__preview">{ mentioned }{ line }</span> }
    } else {
        html! {
            <span class="conversation__preview">
                { mentioned }
                <span class="conversation__draft">{ lang.tr(Text::Draft) }</span>
                { " " }{ format::one_line(&conversation.draft, 80) }
            </span>
        }
    };
    // A muted conversation's count shows as a dot: it asks for no attention.
    let badge =
        match format::badge(conversation.unread, conversation.marked_unread).map(
            |badge| match badge {
                Badge::Count(_) if conversation.muted => Badge::Dot,
                other => other,
            },
        ) {
            Some(Badge::Count(count)) => html! { <span class="badge">{ count }</span> },
            Some(Badge::Dot) => html! {
                <span class="badge badge--dot" title={lang.tr(Text::Unread)}></span>
            },
            None => html! {},
        };
    let pinned = conversation.pinned_at.is_some();
    let classes = classes!(
        "conversation",
        pinned.then_some("conversation--pinned"),
        active.then_some("conversation--active"),
    );
    html! {
        <li key={peer.to_string()} class={classes} data-peer={peer.to_string()}
            data-pinned={pinned.to_string()} data-unread={conversation.unread.to_string()}
            data-muted={conversation.muted.to_string()} data-mentioned={conversation.mentioned.to_string()}
            oncontextmenu={handlers.oncontextmenu}
            onpointerdown={handlers.onpointerdown} onpointermove={handlers.onpointermove}
            onpointerup={handlers.onpointerend.clone()} onpointercancel={handlers.onpointerend}>
            <button type="button" class="conversation__open" onclick={handlers.onclick}
                aria-current={active.then_some("true")}>
                { face }
                <span class="conversation__body">
                    <span class="conversation__top">
                        <span class="conversation__name">{ name }</span>
                        <span class="conversation__time">{ when }</span>
                    </span>
                    <span class="conversation__bottom">
                        { preview }
                        if pinned {
                            <span class="conversation__pin" title={lang.tr(Text::Pinned)}>
                                <span class="visually-hidden">{ lang.tr(Text::Pinned) }</span>
                            </span>
                        }
                        if conversation.muted {
                            <span class="conversation__muted" title={lang.tr(Text::Muted)}>
                                <span class="visually-hidden">{ lang.tr(Text::Muted) }</span>
                            </span>
                        }
                        { badge }
                    </span>
                </span>
            </button>
        </li>
    }
}
