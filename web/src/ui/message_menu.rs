//! A message's action menu (撤回, 引用, 复制), opened by a right-click, a
//! long press, or the keyboard (Enter, the menu key or Shift+F10 on a
//! focused bubble), and 转发 and 多选 (forward, §15.3), which the chat's
//! [`super::forward::ForwardActions`] carry out.

use super::operation::failure_text;
use crate::i18n::Text;
use crate::state::{Command, OperationResult, Update, use_shared};
use penpen_core::packets::message::{Message, MessageType, Quote};
use penpen_core::sync::{Operation, Outcome};
use penpen_core::{MessageId, Peer, UserId};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, KeyboardEvent, PointerEvent};
use yew::prelude::*;

/// How long a sender may recall their own message: the server's default
/// (§15.1). The server decides; this only hides an item that would be refused.
pub const RECALL_WINDOW_MS: i64 = 2 * 60 * 1000;
/// How long a group's holder may recall any user's message in the group.
pub const HOLDER_RECALL_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// Room the menu needs from the viewport's edges.
const MENU_WIDTH_PX: i32 = 160;
const MENU_HEIGHT_PX: i32 = 240;

/// Whether `me` may still take `message` back at `now`: their own message
/// within the sender's window, or any user's message in a group they hold
/// within the holder's.
pub fn may_recall(message: &Message, me: &UserId, holder: Option<&UserId>, now: i64) -> bool {
    let user_content = matches!(
        message.kind,
        MessageType::Text
            | MessageType::Image
            | MessageType::Voice
            | MessageType::File
            | MessageType::ChatRecord
            | MessageType::GroupText
            | MessageType::GroupImage
            | MessageType::GroupVoice
            | MessageType::GroupFile
            | MessageType::GroupChatRecord
    );
    if !user_content || message.recalled.is_some() || message.from.user().is_none() {
        return false;
    }
    let age = now - message.ts;
    (message.from.user() == Some(me) && age <= RECALL_WINDOW_MS)
        || (holder == Some(me) && age <= HOLDER_RECALL_WINDOW_MS)
}

/// Which message the menu is for, and where it was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageMenuAt {
    /// The conversation.
    pub peer: Peer,
    /// The message.
    pub message: Message,
    /// Where, in viewport pixels.
    pub x: i32,
    /// Where, in viewport pixels.
    pub y: i32,
}

/// What the menu needs.
#[derive(Debug, Properties, PartialEq)]
pub struct MessageMenuProps {
    /// For which message, and where.
    pub at: MessageMenuAt,
    /// Closes it (after an action, an outside press or Esc).
    pub on_close: Callback<()>,
    /// Says why a recall was refused.
    pub on_error: Callback<String>,
    /// 加急 (§16.4), offered on the user's own message while someone has
    /// not read it: sends the reminder once confirmed.
    #[prop_or_default]
    pub on_ding: Option<Callback<MessageId>>,
}

/// `id="message-menu"`; its buttons carry `data-action`
/// `quote|copy|forward|select|ding|recall`, and 加急 asks first
/// (`data-action="ding-confirm"`).
#[component(MessageMenu)]
pub fn message_menu(props: &MessageMenuProps) -> Html {
    let shared = use_shared();
    let node = use_node_ref();
    let confirming_ding = use_state(|| false);
    {
        let (node, on_close) = (node.clone(), props.on_close.clone());
        use_effect_with((), move |_| {
            let listening = super::menu::close_on_outside_or_escape(node.clone(), on_close);
            // Keyboard users land on the first item.
            if let Some(first) = node
                .cast::<Element>()
                .and_then(|menu| menu.query_selector("button").ok().flatten())
                .and_then(|button| button.dyn_into::<HtmlElement>().ok())
            {
                // Focus is a convenience; failing to move it changes nothing.
                let _ = first.focus();
            }
            move || drop(listening)
        });
    }
    let Some(shared) = shared else {
        return html! {};
    };
    let lang = shared.lang;
    let state = &*shared.state;
    let Some(me) = state.account.as_ref().map(|a| a.user.clone()) else {
        return html! {};
    };
    let at = &props.at;
    let message = at.message.clone();
    let holder = match &at.peer {
        Peer::Group(gid) => state
            .groups
            .iter()
            .find(|g| g.gid == *gid)
            .map(|g| g.holder.clone()),
        Peer::User(_) => None,
    };
    let text = matches!(message.kind, MessageType::Text | MessageType::GroupText);
    let recallable = may_recall(&message, &me, holder.as_ref(), super::now());

    let quote = {
        let (state, on_close, message) = (
            shared.state.clone(),
            props.on_close.clone(),
            message.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            state.dispatch(Update::Quoting(Some(Quote::of(&message))));
            on_close.emit(());
            focus_composer();
        })
    };
    let copy = {
        let (on_close, content) = (props.on_close.clone(), message.content.clone());
        Callback::from(move |_: MouseEvent| {
            copy_text(&content);
            on_close.emit(());
        })
    };
    let recall = {
        let (command, state, on_close, on_error) = (
            shared.command.clone(),
            shared.state.clone(),
            props.on_close.clone(),
            props.on_error.clone(),
        );
        let (peer, message, me) = (at.peer.clone(), message.clone(), me.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(sender) = message.from.user().cloned() else {
                return;
            };
            // Only the sender's own text can be edited again, and only here.
            let keep = (text && sender == me).then(|| message.content.clone());
            let (state, on_error, id) = (state.clone(), on_error.clone(), message.id);
            let reply = Callback::from(move |result: OperationResult| match result {
                Ok(Outcome::Recalled(_)) | Ok(_) => {
                    if let Some(text) = keep.clone() {
                        state.dispatch(Update::Reedit(id, text));
                    }
                }
                Err(failure) => on_error.emit(format!(
                    "{}：{}",
                    lang.tr(Text::RecallFailed),
                    failure_text(lang, &failure)
                )),
            });
            command.emit(Command::Perform(
                Operation::Recall {
                    conversation: peer.clone(),
                    id: message.id,
                    sender,
                },
                reply,
            ));
            on_close.emit(());
        })
    };
    let forward_actions = use_context::<super::forward::ForwardActions>()
        .filter(|_| super::forward::forwardable(&message));
    let forward = forward_actions.as_ref().map(|actions| {
        let (forward, on_close, id) = (actions.forward.clone(), props.on_close.clone(), message.id);
        Callback::from(move |_: MouseEvent| {
            on_close.emit(());
            forward.emit(id);
        })
    });
    let select = forward_actions.as_ref().map(|actions| {
        let (select, on_close, id) = (actions.select.clone(), props.on_close.clone(), message.id);
        Callback::from(move |_: MouseEvent| {
            on_close.emit(());
            select.emit(id);
        })
    });
    let (x, y) = clamp_to_viewport(at.x, at.y);
    let style = format!("left: {x}px; top: {y}px;");
    if let Some(on_ding) = props.on_ding.clone().filter(|_| *confirming_ding) {
        let send = {
            let (on_close, id) = (props.on_close.clone(), message.id);
            Callback::from(move |_: MouseEvent| {
                on_ding.emit(id);
                on_close.emit(());
            })
        };
        let cancel = props.on_close.reform(|_: MouseEvent| ());
        return html! {
            <div id="message-menu" class="menu menu--confirm" role="alertdialog" ref={node} {style}
                data-id={message.id.to_string()}>
                <p class="menu__prompt">{ lang.tr(Text::RemindUnread) }{ "？" }</p>
                <button type="button" class="menu__item menu__item--ding" data-action="ding-confirm"
                    onclick={send}>{ lang.tr(Text::DingSend) }</button>
                <button type="button" class="menu__item" data-action="cancel"
                    onclick={cancel}>{ lang.tr(Text::Cancel) }</button>
            </div>
        };
    }
    let ding = props.on_ding.as_ref().map(|_| {
        let confirming = confirming_ding.clone();
        Callback::from(move |_: MouseEvent| confirming.set(true))
    });
    html! {
        <div id="message-menu" class="menu" role="menu" ref={node} {style}
            aria-label={lang.tr(Text::MessageActions)} data-id={message.id.to_string()}>
            <button type="button" role="menuitem" class="menu__item" data-action="quote"
                onclick={quote}>{ lang.tr(Text::ActionQuote) }</button>
            if text {
                <button type="button" role="menuitem" class="menu__item" data-action="copy"
                    onclick={copy}>{ lang.tr(Text::ActionCopy) }</button>
            }
            if let Some(onclick) = forward {
                <button type="button" role="menuitem" class="menu__item" data-action="forward"
                    {onclick}>{ lang.tr(Text::Forward) }</button>
            }
            if let Some(onclick) = select {
                <button type="button" role="menuitem" class="menu__item" data-action="select"
                    {onclick}>{ lang.tr(Text::MultiSelect) }</button>
            }
            if let Some(onclick) = ding {
                <button type="button" role="menuitem" class="menu__item menu__item--ding"
                    data-action="ding" {onclick}>{ lang.tr(Text::Ding) }</button>
            }
            if recallable {
                <button type="button" role="menuitem" class="menu__item menu__item--danger"
                    data-action="recall" onclick={recall}>{ lang.tr(Text::ActionRecall) }</button>
            }
        </div>
    }
}

/// Puts the caret in the composer, where the reply is typed.
pub fn focus_composer() {
    if let Some(field) = gloo::utils::document()
        .get_element_by_id("composer")
        .and_then(|f| f.dyn_into::<HtmlElement>().ok())
    {
        // Focus is a convenience; failing to move it changes nothing.
        let _ = field.focus();
    }
}

/// Copies `text` with the asynchronous clipboard API (a secure page).
fn copy_text(text: &str) {
    let navigator = gloo::utils::window().navigator();
    let clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into()).ok();
    let write = clipboard.as_ref().and_then(|c| {
        js_sys::Reflect::get(c, &"writeText".into())
            .ok()?
            .dyn_into::<js_sys::Function>()
            .ok()
    });
    if let (Some(clipboard), Some(write)) = (clipboard, write) {
        // Refused without a secure context or permission: nothing to undo.
        let _ = write.call1(&clipboard, &text.into());
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

/// A finger resting on a bubble.
pub type Press = super::menu::LongPress;

/// The handlers that open a bubble's menu.
#[derive(Debug, Clone)]
pub struct MenuHandlers {
    /// Right-click.
    pub oncontextmenu: Callback<MouseEvent>,
    /// A long press starts.
    pub onpointerdown: Callback<PointerEvent>,
    /// A finger drifting (scrolling) cancels it.
    pub onpointermove: Callback<PointerEvent>,
    /// It ends early.
    pub onpointerend: Callback<PointerEvent>,
    /// Enter, the menu key or Shift+F10 on the focused bubble.
    pub onkeydown: Callback<KeyboardEvent>,
}

impl MenuHandlers {
    /// Handlers that call `open` with where the menu goes.
    pub fn new(open: Rc<dyn Fn(i32, i32)>, press: Rc<RefCell<Press>>) -> MenuHandlers {
        let oncontextmenu = {
            let open = open.clone();
            Callback::from(move |event: MouseEvent| {
                event.prevent_default();
                open(event.client_x(), event.client_y());
            })
        };
        let super::menu::LongPressHandlers {
            onpointerdown,
            onpointermove,
            onpointerend,
        } = super::menu::long_press(press, open.clone());
        let onkeydown = Callback::from(move |event: KeyboardEvent| {
            let asks = matches!(event.key().as_str(), "Enter" | "ContextMenu")
                || (event.key() == "F10" && event.shift_key());
            if !asks {
                return;
            }
            event.prevent_default();
            let Some(bubble) = event
                .current_target()
                .and_then(|t| t.dyn_into::<Element>().ok())
            else {
                return;
            };
            // Read through JS: one call does not justify web-sys's DomRect.
            let rect = js_sys::Reflect::get(&bubble, &"getBoundingClientRect".into())
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
                .and_then(|f| f.call0(&bubble).ok());
            let side = |name: &str| {
                rect.as_ref()
                    .and_then(|r| js_sys::Reflect::get(r, &name.into()).ok())
                    .and_then(|v| v.as_f64())
                    .unwrap_or(0.0) as i32
            };
            open(side("left"), side("bottom"));
        });
        MenuHandlers {
            oncontextmenu,
            onpointerdown,
            onpointermove,
            onpointerend,
            onkeydown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use penpen_core::GroupId;
    use penpen_core::testing::{message, user};

    #[test]
    fn recall_is_offered_to_the_sender_in_time_and_to_the_holder_for_a_day() {
        let sent = message(1, 1, Peer::User(user(2)), "发错了");
        let at = sent.ts;
        assert!(may_recall(&sent, &user(1), None, at + RECALL_WINDOW_MS));
        assert!(!may_recall(
            &sent,
            &user(1),
            None,
            at + RECALL_WINDOW_MS + 1
        ));
        assert!(!may_recall(&sent, &user(2), None, at), "not the sender");
        let in_group = message(2, 3, Peer::Group(GroupId::new(7).expect("gid")), "大家好");
        let holder = user(1);
        assert!(may_recall(
            &in_group,
            &holder,
            Some(&holder),
            in_group.ts + 3_600_000
        ));
        assert!(!may_recall(
            &in_group,
            &holder,
            Some(&holder),
            in_group.ts + HOLDER_RECALL_WINDOW_MS + 1
        ));
        assert!(!may_recall(&in_group, &user(2), Some(&holder), in_group.ts));
        let mut recalled = sent.clone();
        recalled.recalled = Some(penpen_core::packets::message::Recalled {
            by: user(1),
            ts: at,
        });
        assert!(
            !may_recall(&recalled, &user(1), None, at),
            "already recalled"
        );
    }
}
