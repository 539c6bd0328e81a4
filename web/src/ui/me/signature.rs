//! The signature form of the me tab.

use crate::i18n::Text;
use crate::state::use_shared;
use crate::ui::controls;
use crate::ui::operation::{Status, use_operation};
use penpen_core::sync::Operation;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
pub(super) struct SignatureFormProps {
    /// The signature the directory holds now.
    pub current: String,
}

/// `#signature-form`: `#signature-input`, `#signature-save`, `#signature-status`.
#[component(SignatureForm)]
pub(super) fn signature_form(props: &SignatureFormProps) -> Html {
    let shared = use_shared();
    let input = use_node_ref();
    let operation = use_operation();
    // The field shows the stored signature whenever that changes (loaded,
    // saved, changed on another device), unless it is being edited.
    {
        let input = input.clone();
        use_effect_with(props.current.clone(), move |current| {
            if let Some(field) = input.cast::<HtmlInputElement>() {
                let editing = gloo::utils::document()
                    .active_element()
                    .is_some_and(|active| active == **field);
                if !editing {
                    field.set_value(current);
                }
            }
        });
    }
    let Some(shared) = shared else {
        return html! {};
    };
    let lang = shared.lang;
    let on_submit = {
        let (input, operation) = (input.clone(), operation.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if let Some(field) = input.cast::<HtmlInputElement>() {
                operation.run(Operation::SetSignature(field.value().trim().to_owned()));
            }
        })
    };
    let on_input = {
        let operation = operation.clone();
        Callback::from(move |_: InputEvent| operation.reset())
    };
    let (status, text) = match &*operation.status {
        Status::Idle => ("idle", String::new()),
        Status::Waiting => ("waiting", lang.tr(Text::Saving).to_owned()),
        Status::Done(_) => ("done", lang.tr(Text::Saved).to_owned()),
        Status::Failed(why) => ("failed", why.clone()),
    };
    html! {
        <form id="signature-form" class="me__section" onsubmit={on_submit}>
            <label class="me__heading" for="signature-input">{ lang.tr(Text::Signature) }</label>
            <div class="me__row">
                <input id="signature-input" ref={input} class="me__input" type="text"
                    maxlength={penpen_core::limits::MAX_SIGNATURE_CHARS.to_string()}
                    placeholder={lang.tr(Text::SignatureHint)} oninput={on_input} />
                { controls::submit("signature-save", "button button--primary", lang.tr(Text::Save), operation.waiting()) }
            </div>
            <p id="signature-status" class={classes!("me__status", format!("me__status--{status}"))}
                data-state={status} role="status">{ text }</p>
        </form>
    }
}
