//! The buttons every page repeats, each shape built by one function: a use
//! is a call, where an `html!` element compiles its own copy of the code that
//! builds the element, its attributes and its listener (about 250 bytes of
//! WebAssembly each).

use yew::prelude::*;

/// `<button id class type="button" onclick disabled>text</button>` (no `id`
/// attribute when `id` is `None`; `disabled` only when true).
pub(crate) fn button(
    id: Option<&'static str>,
    class: &'static str,
    text: &'static str,
    onclick: Callback<MouseEvent>,
    disabled: bool,
) -> Html {
    html! {
        <button {id} {class} type="button" {onclick} {disabled}>{ text }</button>
    }
}

/// `<button id class type="submit" disabled>text</button>`: a form's button.
pub(crate) fn submit(
    id: &'static str,
    class: &'static str,
    text: &'static str,
    disabled: bool,
) -> Html {
    html! {
        <button {id} {class} type="submit" {disabled}>{ text }</button>
    }
}
