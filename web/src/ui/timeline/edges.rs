//! After each render, the window's edges: keeping the reader's place (or the
//! bottom), sliding the window and asking for older pages as they scroll.

use super::{BOTTOM_SLACK_PX, EDGE_PX, Handles, OLDER_RETRY_MS};
use crate::state::Command;
use crate::ui::rows::RowKey;
use penpen_core::MessageId;
use std::ops::Range;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

/// What one render knows about the edges of the window, for the effect after
/// it and for scroll events until the next.
#[derive(Clone)]
pub(super) struct Edges {
    pub(super) handles: Handles,
    pub(super) command: Callback<Command>,
    /// How many rows are loaded.
    pub(super) len: usize,
    /// Which are in the DOM.
    pub(super) range: Range<usize>,
    /// The window's first row after sliding towards older rows, if it can.
    pub(super) up: Option<(RowKey, usize)>,
    /// The window's first row after sliding towards newer rows, if it can.
    pub(super) down: Option<(RowKey, usize)>,
    /// An older page may be asked for.
    pub(super) can_load_older: bool,
    /// The oldest loaded message.
    pub(super) oldest: Option<MessageId>,
    /// The conversation, for what is reported seen.
    pub(super) peer: penpen_core::Peer,
}

impl Edges {
    /// After a render: back to the bottom, or to where the reader was.
    pub(super) fn restore(&self) {
        // Taken first: a measurement is for the render just done, never a later one.
        let (follow, anchor) = {
            let mut view = self.handles.view.borrow_mut();
            (view.follow, view.anchor.take())
        };
        let Some(scroller) = self.handles.scroller.cast::<Element>() else {
            return;
        };
        if follow {
            scroller.set_scroll_top(scroller.scroll_height());
        } else if let Some((key, offset)) = anchor {
            // Keys are `m<digits>` or `c<cid>` (A-Z a-z 0-9 - _): safe to quote.
            let selector = format!("[data-key=\"{key}\"]");
            if let Some(row) = scroller
                .query_selector(&selector)
                .ok()
                .flatten()
                .and_then(|row| row.dyn_into::<HtmlElement>().ok())
            {
                scroller.set_scroll_top(row.offset_top() - offset);
            }
        }
        self.settle();
    }

    /// Whether the reader is at the bottom, and whether the window should
    /// slide or an older page be asked for.
    pub(super) fn settle(&self) {
        let Some(scroller) = self.handles.scroller.cast::<Element>() else {
            return;
        };
        let (top, height, visible) = (
            scroller.scroll_top(),
            scroller.scroll_height(),
            scroller.client_height(),
        );
        // Not laid out (hidden): nothing can be measured, and an empty
        // viewport would ask for the whole history.
        if visible <= 0 {
            return;
        }
        let from_bottom = height - top - visible;
        let edge = (visible / 2).max(EDGE_PX);
        let mut view = self.handles.view.borrow_mut();
        // A render changed the DOM and its restore has not run yet (Firefox
        // can fire a scroll event in between): this position is where the
        // browser clamped the old one, not where the reader is. The restore
        // settles once it has put the anchor back.
        if view.anchor.is_some() {
            return;
        }
        view.follow = self.range.end == self.len && from_bottom <= BOTTOM_SLACK_PX;
        // What is on screen now is read (§16.1): on every scroll, and after
        // every render (a message arriving at the bottom, the tab coming
        // back), but only while the page is visible.
        if super::seen::page_visible()
            && let Some(list) = self.handles.list.cast::<Element>()
            && let Some(shown) = super::seen::newest_shown(&list, top, visible)
            && view.seen.is_none_or(|seen| shown > seen)
        {
            view.seen = Some(shown);
            self.command.emit(Command::Seen(self.peer.clone(), shown));
        }
        if view.follow && *self.handles.unseen {
            self.handles.unseen.set(false);
        }
        if top < edge {
            if let Some(up) = self.up.clone().filter(|_| !view.follow) {
                view.first = Some(up);
                drop(view);
                self.handles.redraw.force_update();
                return;
            }
            if self.range.start == 0 && self.can_load_older {
                let now = crate::ui::now();
                let waiting = view
                    .asked_older
                    .is_some_and(|(at, when)| at == self.oldest && now - when < OLDER_RETRY_MS);
                if !waiting {
                    view.asked_older = Some((self.oldest, now));
                    drop(view);
                    self.command.emit(Command::LoadOlder);
                    // Shows the loading line.
                    self.handles.redraw.force_update();
                }
                return;
            }
        }
        if from_bottom < edge
            && let Some(down) = self.down.clone()
        {
            view.first = Some(down);
            drop(view);
            self.handles.redraw.force_update();
        }
    }
}

/// The first row whose bottom is below the viewport's top, and how far below
/// the top its own top is (negative when partly scrolled past).
pub(super) fn first_visible(list: &Element, scroll_top: i32) -> Option<(String, i32)> {
    let mut child = list.first_element_child();
    while let Some(element) = child {
        if let (Some(row), Some(key)) = (
            element.dyn_ref::<HtmlElement>(),
            element.get_attribute("data-key"),
        ) && row.offset_top() + row.offset_height() > scroll_top
        {
            return Some((key, row.offset_top() - scroll_top));
        }
        child = element.next_element_sibling();
    }
    None
}
