//! Which message the reader actually sees (§16.1): the newest one on screen
//! while the page is visible, reported as read.

use penpen_core::MessageId;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

/// How much of a row must be inside the viewport for it to count as shown.
const SHOWN_PX: i32 = 24;

/// Whether the page is in front: the same test the driver uses for
/// notifications (a hidden tab reads nothing).
pub(super) fn page_visible() -> bool {
    gloo::utils::document().visibility_state() == web_sys::VisibilityState::Visible
}

/// The newest stored message (`[data-id]`) whose row shows at least
/// [`SHOWN_PX`] (or all of itself) inside the scroller's viewport.
pub(super) fn newest_shown(list: &Element, scroll_top: i32, height: i32) -> Option<MessageId> {
    let bottom = scroll_top + height;
    let mut child = list.last_element_child();
    while let Some(element) = child {
        child = element.previous_element_sibling();
        let Some(row) = element.dyn_ref::<HtmlElement>() else {
            continue;
        };
        let (top, size) = (row.offset_top(), row.offset_height());
        if top + size <= scroll_top {
            // Everything before this row is above the viewport.
            return None;
        }
        if top + size.min(SHOWN_PX) > bottom {
            continue;
        }
        let id = element
            .query_selector("[data-id]")
            .ok()
            .flatten()
            .and_then(|m| m.get_attribute("data-id"))
            .and_then(|id| id.parse::<u64>().ok());
        if let Some(id) = id {
            return Some(MessageId(id));
        }
    }
    None
}
