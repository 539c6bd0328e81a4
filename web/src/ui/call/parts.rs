//! The pieces every call screen is made of: who (avatar and name), the
//! status line, and the large round buttons. One function per shape, as in
//! `ui::controls`.

use crate::calls::CallCommand;
use crate::state::Command;
use crate::ui::avatar::{self, Size};
use yew::prelude::*;

/// The other party as the screen names them.
#[derive(Debug, Clone, PartialEq)]
pub struct Party {
    /// Their name from the directory, else their account.
    pub name: String,
    /// Their account (the avatar's colour).
    pub seed: String,
}

/// The large avatar in the middle of the screen.
pub fn hero(party: &Party) -> Html {
    html! {
        <div class="call-screen__hero">
            { avatar::person(&party.name, &party.seed, Size::Call) }
        </div>
    }
}

/// The name and the status line (`#call-status`) at the top, with what
/// else the screen adds there (the quality indicator).
pub fn info(party: &Party, status: Html, extra: Html) -> Html {
    html! {
        <div class="call-screen__info">
            <h2 id="call-peer" class="call-screen__name">{ &party.name }</h2>
            <p id="call-status" class="call-screen__status" role="status">{ status }</p>
            { extra }
        </div>
    }
}

/// The bottom bar of round buttons.
pub fn bar(buttons: Html) -> Html {
    html! { <div class="call-screen__controls">{ buttons }</div> }
}

/// A round button with its icon and a label under it; `pressed` makes it a
/// toggle (`aria-pressed`).
pub fn round(
    id: &'static str,
    tone: &'static str,
    icon: &'static str,
    label: &'static str,
    pressed: Option<bool>,
    onclick: Callback<MouseEvent>,
) -> Html {
    html! {
        <button {id} type="button" class={classes!("call-button", tone)} title={label}
            aria-pressed={pressed.map(|pressed| if pressed { "true" } else { "false" })} {onclick}>
            <span class="call-button__icon" aria-hidden="true">{ icon }</span>
            <span class="call-button__label">{ label }</span>
        </button>
    }
}

/// A click that sends `call` to the driver.
pub fn sends(command: &Callback<Command>, call: CallCommand) -> Callback<MouseEvent> {
    let command = command.clone();
    Callback::from(move |_: MouseEvent| command.emit(Command::Call(call.clone())))
}
