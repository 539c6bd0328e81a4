//! Images into the composer: the picker button's hidden file input, and
//! pasting.

use wasm_bindgen::JsCast;
use web_sys::{ClipboardEvent, HtmlInputElement};
use yew::prelude::*;

/// Opens the hidden file input.
pub(super) fn pick(picker: NodeRef) -> Callback<MouseEvent> {
    Callback::from(move |_: MouseEvent| {
        if let Some(input) = picker.cast::<HtmlInputElement>() {
            input.click();
        }
    })
}

/// Hands the files picked in the input up.
pub(super) fn picked(on_files: Callback<Vec<web_sys::File>>) -> Callback<Event> {
    Callback::from(move |event: Event| {
        if let Some(input) = event.target_dyn_into::<HtmlInputElement>() {
            on_files.emit(crate::ui::attach::files(input.files()));
            // The same file may be picked again.
            input.set_value("");
        }
    })
}

/// Hands a pasted image up; text is pasted as text.
pub(super) fn pasted(on_files: Callback<Vec<web_sys::File>>) -> Callback<Event> {
    Callback::from(move |event: Event| {
        let Some(paste) = event.dyn_ref::<ClipboardEvent>() else {
            return;
        };
        let files = crate::ui::attach::files(paste.clipboard_data().and_then(|d| d.files()));
        // Text is pasted as text; only a pasted image is sent.
        if !files.is_empty() {
            event.prevent_default();
            on_files.emit(files);
        }
    })
}
