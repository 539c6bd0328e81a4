//! The conversation menu: pin, read/unread, delete (after asking).

use crate::i18n::Text;
use crate::state::{Command, use_shared};
use gloo::events::EventListener;
use penpen_core::Peer;
use wasm_bindgen::JsCast;
use web_sys::{Element, KeyboardEvent, Node};
use yew::prelude::*;

/// Room the menu needs from the viewport's edges, so it never opens cut off.
const MENU_WIDTH_PX: i32 = 180;
const MENU_HEIGHT_PX: i32 = 200;

/// Which conversation the menu is for, and where it was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct MenuAt {
    /// The conversation.
    pub peer: Peer,
    /// Where, in viewport pixels.
    pub x: i32,
    /// Where, in viewport pixels.
    pub y: i32,
}

/// What the menu needs.
#[derive(Debug, Properties, PartialEq)]
pub struct MenuProps {
    /// For which conversation, and where.
    pub at: MenuAt,
    /// Closes it (after an action, an outside click or Esc).
    pub on_close: Callback<()>,
}

/// `id="conversation-menu"`; its buttons carry `data-action`
/// `pin|unpin|read|unread|mute|unmute|delete`, then `confirm-delete|cancel`.
#[component(ConversationMenu)]
pub fn conversation_menu(props: &MenuProps) -> Html {
    let shared = use_shared();
    let confirming = use_state(|| false);
    let node = use_node_ref();
    // Listen on the document while open: a press outside or Esc closes it.
    {
        let (node, on_close) = (node.clone(), props.on_close.clone());
        use_effect_with((), move |_| {
            let listening = close_on_outside_or_escape(node, on_close);
            move || drop(listening)
        });
    }
    // Keyboard users land on the first item.
    {
        let node = node.clone();
        use_effect_with(*confirming, move |_| {
            if let Some(first) = node
                .cast::<Element>()
                .and_then(|menu| menu.query_selector("button").ok().flatten())
                .and_then(|button| button.dyn_into::<web_sys::HtmlElement>().ok())
            {
                // Focus is a convenience; failing to move it changes nothing.
                let _ = first.focus();
            }
        });
    }
    let Some(shared) = shared else {
        return html! {};
    };
    let lang = shared.lang;
    let peer = props.at.peer.clone();
    let Some(conversation) = shared.state.conversations.iter().find(|c| c.peer == peer) else {
        return html! {};
    };
    let pinned = conversation.pinned_at.is_some();
    let muted = conversation.muted;
    // The row changes when the server has stored it (every device follows).
    let mute = {
        let (send, on_close, peer) = (shared.command.clone(), props.on_close.clone(), peer.clone());
        Callback::from(move |_: MouseEvent| {
            let operation = penpen_core::sync::Operation::SetMuted {
                peer: peer.clone(),
                muted: !muted,
            };
            send.emit(Command::Perform(operation, Callback::noop()));
            on_close.emit(());
        })
    };
    let unread = conversation.unread > 0 || conversation.marked_unread;

    let act = |command: Command| {
        let (send, on_close) = (shared.command.clone(), props.on_close.clone());
        Callback::from(move |_: MouseEvent| {
            send.emit(command.clone());
            on_close.emit(());
        })
    };
    let ask = {
        let confirming = confirming.clone();
        Callback::from(move |_: MouseEvent| confirming.set(true))
    };
    let cancel = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    let (x, y) = clamp_to_viewport(props.at.x, props.at.y);
    let style = format!("left: {x}px; top: {y}px;");

    html! {
        <div id="conversation-menu" class="menu" role="menu" ref={node} {style}
            data-peer={peer.to_string()}>
            if *confirming {
                <p class="menu__question">{ lang.tr(Text::ConfirmDelete) }</p>
                <button type="button" role="menuitem" class="menu__item menu__item--danger"
                    data-action="confirm-delete" onclick={act(Command::Delete(peer.clone()))}>
                    { lang.tr(Text::Delete) }
                </button>
                <button type="button" role="menuitem" class="menu__item" data-action="cancel"
                    onclick={cancel}>
                    { lang.tr(Text::Cancel) }
                </button>
            } else {
                if pinned {
                    <button type="button" role="menuitem" class="menu__item" data-action="unpin"
                        onclick={act(Command::Pin(peer.clone(), false))}>
                        { lang.tr(Text::Unpin) }
                    </button>
                } else {
                    <button type="button" role="menuitem" class="menu__item" data-action="pin"
                        onclick={act(Command::Pin(peer.clone(), true))}>
                        { lang.tr(Text::Pin) }
                    </button>
                }
                if unread {
                    <button type="button" role="menuitem" class="menu__item" data-action="read"
                        onclick={act(Command::MarkRead(peer.clone()))}>
                        { lang.tr(Text::MarkRead) }
                    </button>
                } else {
                    <button type="button" role="menuitem" class="menu__item" data-action="unread"
                        onclick={act(Command::MarkUnread(peer.clone()))}>
                        { lang.tr(Text::MarkUnread) }
                    </button>
                }
                <button type="button" role="menuitem" class="menu__item"
                    data-action={if muted { "unmute" } else { "mute" }} onclick={mute}>
                    { lang.tr(if muted { Text::Unmute } else { Text::Mute }) }
                </button>
                <button type="button" role="menuitem" class="menu__item menu__item--danger"
                    data-action="delete" onclick={ask}>
                    { lang.tr(Text::DeleteConversation) }
                </button>
            }
        </div>
    }
}

/// Moves the menu's corner left or up when it would open past the viewport.
fn clamp_to_viewport(x: i32, y: i32) -> (i32, i32) {
    let window = gloo::utils::window();
    let extent = |size: Result<wasm_bindgen::JsValue, _>| {
        size.ok()
            .and_then(|v| v.as_f64())
            .map_or(i32::MAX, |v| v as i32)
    };
    let (width, height) = (extent(window.inner_width()), extent(window.inner_height()));
    (
        x.min(width.saturating_sub(MENU_WIDTH_PX)).max(0),
        y.min(height.saturating_sub(MENU_HEIGHT_PX)).max(0),
    )
}

/// While a menu is open: a press outside `node`, or Esc, calls `on_close`.
/// Dropping what it returns stops listening.
pub(crate) fn close_on_outside_or_escape(
    node: NodeRef,
    on_close: Callback<()>,
) -> (EventListener, EventListener) {
    let document = gloo::utils::document();
    let outside = {
        let on_close = on_close.clone();
        EventListener::new(&document, "pointerdown", move |event| {
            let target = event.target().and_then(|t| t.dyn_into::<Node>().ok());
            let inside = node
                .cast::<Element>()
                .is_some_and(|menu| menu.contains(target.as_ref()));
            if !inside {
                on_close.emit(());
            }
        })
    };
    let escape = EventListener::new(&document, "keydown", move |event| {
        if event
            .dyn_ref::<KeyboardEvent>()
            .is_some_and(|key| key.key() == "Escape")
        {
            on_close.emit(());
        }
    });
    (outside, escape)
}
