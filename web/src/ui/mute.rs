//! The 消息免打扰 switch of the group and contact pages: `#mute-toggle`,
//! checked while the conversation is muted (as the server has it: the
//! switch moves once the server stored the change), and `#mute-status`
//! when the change did not go through.

use crate::i18n::Text;
use crate::state::use_shared;
use crate::ui::operation::{Status, use_operation};
use penpen_core::Peer;
use penpen_core::sync::Operation;
use yew::prelude::*;

/// What the switch is for.
#[derive(Debug, Properties, PartialEq)]
pub struct MuteSwitchProps {
    /// The person or the group.
    pub peer: Peer,
}

/// `label.switch` with `input#mute-toggle`.
#[component(MuteSwitch)]
pub fn mute_switch(props: &MuteSwitchProps) -> Html {
    let shared = use_shared();
    let operation = use_operation();
    let Some(shared) = shared else {
        return html! {};
    };
    let lang = shared.lang;
    let muted = shared
        .state
        .conversations
        .iter()
        .any(|c| c.peer == props.peer && c.muted);
    let toggle = {
        let (operation, peer) = (operation.clone(), props.peer.clone());
        Callback::from(move |_: Event| {
            operation.run(Operation::SetMuted {
                peer: peer.clone(),
                muted: !muted,
            })
        })
    };
    html! {
        <section class="me__section">
            <label class="switch">
                <input id="mute-toggle" type="checkbox" checked={muted}
                    disabled={operation.waiting()} onchange={toggle} />
                <span>{ lang.tr(Text::Mute) }</span>
            </label>
            if let Status::Failed(why) = &*operation.status {
                <p id="mute-status" class="me__hint" role="alert">
                    { lang.tr(Text::MuteFailed) }{ " " }{ why }
                </p>
            }
        </section>
    }
}
