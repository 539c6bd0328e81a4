//! Logging out asks first whether this device keeps the account's messages:
//! on a shared computer the user removes them, with the remembered session.

use crate::i18n::Text;
use crate::state::{Command, use_shared};
use crate::ui::controls;
use gloo::events::EventListener;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// What a logout button needs.
#[derive(Debug, Properties, PartialEq)]
pub struct LogoutButtonProps {
    /// The button's id (`logout` in the bar, `me-logout` on the me tab).
    pub id: AttrValue,
    /// The button's classes.
    pub class: Classes,
}

/// A logout button; a click opens `#logout-dialog` with `#logout-keep`,
/// `#logout-remove` and `#logout-cancel` (Esc cancels too).
#[component(LogoutButton)]
pub fn logout_button(props: &LogoutButtonProps) -> Html {
    let shared = use_shared();
    let asking = use_state(|| false);
    {
        let asking = asking.clone();
        use_effect_with(*asking, move |open| {
            let listener = open.then(|| {
                EventListener::new(&gloo::utils::window(), "keydown", move |event| {
                    let escape = event
                        .dyn_ref::<KeyboardEvent>()
                        .is_some_and(|key| key.key() == "Escape");
                    if escape {
                        asking.set(false);
                    }
                })
            });
            move || drop(listener)
        });
    }
    let Some(shared) = shared else {
        return html! {};
    };
    let lang = shared.lang;
    let open = {
        let asking = asking.clone();
        Callback::from(move |_: MouseEvent| asking.set(true))
    };
    let choose = |keep_messages: bool| {
        let (command, asking) = (shared.command.clone(), asking.clone());
        Callback::from(move |_: MouseEvent| {
            asking.set(false);
            command.emit(Command::LogOut { keep_messages });
        })
    };
    let cancel = {
        let asking = asking.clone();
        Callback::from(move |_: MouseEvent| asking.set(false))
    };
    html! {
        <>
            <button id={props.id.clone()} class={props.class.clone()} type="button" onclick={open}>
                { lang.tr(Text::LogOut) }
            </button>
            if *asking {
                <div class="dialog-backdrop">
                    <div id="logout-dialog" class="dialog" role="dialog" aria-modal="true"
                        aria-labelledby="logout-question">
                        <p id="logout-question" class="dialog__text">{ lang.tr(Text::LogOutAsk) }</p>
                        <div class="dialog__actions">
                            { controls::button(Some("logout-keep"), "button button--primary", lang.tr(Text::LogOutKeep), choose(true), false) }
                            { controls::button(Some("logout-remove"), "button button--danger", lang.tr(Text::LogOutRemove), choose(false), false) }
                            { controls::button(Some("logout-cancel"), "button button--ghost", lang.tr(Text::Cancel), cancel, false) }
                        </div>
                    </div>
                </div>
            }
        </>
    }
}
