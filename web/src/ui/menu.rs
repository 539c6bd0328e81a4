//! The conversation menu: pin, read/unread, delete (after asking).

use crate::i18n::Text;
use crate::state::{Command, use_shared};
use gloo::events::EventListener;
use penpen_core::Peer;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, KeyboardEvent, Node, PointerEvent};
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

/// How long a finger rests on a row or a bubble before its menu opens.
const LONG_PRESS_MS: u32 = 500;
/// How far a finger may drift during a long press (it is scrolling otherwise).
const LONG_PRESS_SLOP_PX: i32 = 10;

/// A finger resting on a row or a bubble, until it opens their menu.
#[derive(Debug, Default)]
pub struct LongPress {
    /// The spent timeout stays here until the next press replaces it: it
    /// must not be dropped while it runs.
    timer: Option<gloo::timers::callback::Timeout>,
    origin: (i32, i32),
    /// The menu opened: the click that ends the press must not act too.
    opened: bool,
}

impl LongPress {
    /// Whether the last press opened the menu; asking forgets it.
    pub fn take_opened(&mut self) -> bool {
        std::mem::take(&mut self.opened)
    }
}

/// The pointer handlers of a long press.
#[derive(Debug, Clone)]
pub struct LongPressHandlers {
    /// A press starts (fingers and pens; mice have the right button).
    pub onpointerdown: Callback<PointerEvent>,
    /// A finger drifting (scrolling) cancels it.
    pub onpointermove: Callback<PointerEvent>,
    /// It ends early.
    pub onpointerend: Callback<PointerEvent>,
}

/// Handlers that call `open` where the finger rests, once it has rested
/// [`LONG_PRESS_MS`] without drifting.
pub fn long_press(press: Rc<RefCell<LongPress>>, open: Rc<dyn Fn(i32, i32)>) -> LongPressHandlers {
    let onpointerdown = {
        let press = press.clone();
        Callback::from(move |event: PointerEvent| {
            if event.pointer_type() == "mouse" {
                return;
            }
            let (x, y) = (event.client_x(), event.client_y());
            let fired = {
                let (press, open) = (press.clone(), open.clone());
                move || {
                    press.borrow_mut().opened = true;
                    open(x, y);
                }
            };
            let mut press = press.borrow_mut();
            press.origin = (x, y);
            press.opened = false;
            press.timer = Some(gloo::timers::callback::Timeout::new(LONG_PRESS_MS, fired));
        })
    };
    let onpointermove = {
        let press = press.clone();
        Callback::from(move |event: PointerEvent| {
            let mut press = press.borrow_mut();
            let (x, y) = press.origin;
            let drift = (event.client_x() - x)
                .abs()
                .max((event.client_y() - y).abs());
            if drift > LONG_PRESS_SLOP_PX {
                press.timer = None;
            }
        })
    };
    let onpointerend = Callback::from(move |_: PointerEvent| press.borrow_mut().timer = None);
    LongPressHandlers {
        onpointerdown,
        onpointermove,
        onpointerend,
    }
}
