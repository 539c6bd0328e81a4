//! The chat's messages, virtualized: however many are loaded, at most
//! [`WINDOW`] rows are in the DOM. The window slides as the reader scrolls,
//! and every change is anchored on the first row on screen, measured before
//! the DOM changes and restored after, so nothing jumps: not when the window
//! slides, not when an older page arrives, not when a bubble changes height.

mod edges;
mod seen;

use crate::i18n::Text;
use crate::state::{Command, Shared, Update, use_shared};
use crate::ui::bubble;
use crate::ui::controls;
use crate::ui::forward::Selecting;
use crate::ui::message_menu::{MessageMenu, MessageMenuAt, Press, focus_composer};
use crate::ui::rows::{self, RowKey, WINDOW};
use edges::{Edges, first_visible};
use penpen_core::MessageId;
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use web_sys::Element;
use yew::prelude::*;

/// Closer than this to an edge of the loaded rows, more are put in the DOM
/// (or an older page is asked for) before the reader gets there.
const EDGE_PX: i32 = 400;
/// Within this of the bottom the reader is "at the bottom": new messages
/// keep them there.
const BOTTOM_SLACK_PX: i32 = 48;
/// An older page asked for and not come is asked for again after this.
const OLDER_RETRY_MS: i64 = 10_000;
/// A search hit is shown this far below the top of the messages.
const FOCUS_OFFSET_PX: i32 = 96;

/// Where the reader is, kept across renders without causing them.
#[derive(Debug)]
struct View {
    /// The first row in the DOM and its index then (the fallback when the row
    /// is gone); unused while following the bottom.
    first: Option<(RowKey, usize)>,
    /// Keep the newest message in sight.
    follow: bool,
    /// The first row on screen just before this render (its `data-key`), and
    /// how far below the viewport's top it was.
    anchor: Option<(String, i32)>,
    /// An older page was asked for while this was the oldest message, at
    /// this time. The driver does not report that it is loading.
    asked_older: Option<(Option<MessageId>, i64)>,
    /// The outbox's length at the last render: when it grows the reader has
    /// just sent something, and is taken to the bottom to see it.
    outbox_len: usize,
    /// The search hit already brought into view (it is not forced again
    /// once the reader scrolls away).
    focused: Option<MessageId>,
    /// The newest message reported seen (§16.1): only a newer one is
    /// reported again.
    seen: Option<MessageId>,
}

impl Default for View {
    fn default() -> View {
        View {
            first: None,
            follow: true,
            anchor: None,
            asked_older: None,
            outbox_len: 0,
            focused: None,
            seen: None,
        }
    }
}

/// `div.chat__messages` (the scroller) holding `ul.chat__list`; a
/// `li.chat__status[data-state=loading|complete|more]` at the top of the
/// history; `button#jump-new` when messages arrive out of sight.
#[component(Timeline)]
pub fn timeline() -> Html {
    let shared = use_shared();
    let handles = Handles {
        scroller: use_node_ref(),
        list: use_node_ref(),
        view: use_mut_ref(View::default),
        redraw: use_force_update(),
        unseen: use_state(|| false),
        menu: use_state(|| None::<MessageMenuAt>),
        problem: use_state(|| None::<Notice>),
        notices: use_mut_ref(|| 0u32),
        reads: use_state(|| None::<MessageId>),
    };
    // Coming back to the tab shows the messages: render, so the effect
    // after it reports what is on screen.
    {
        let redraw = handles.redraw.clone();
        use_effect_with((), move |_| {
            let listener = gloo::events::EventListener::new(
                &gloo::utils::document(),
                "visibilitychange",
                move |_| {
                    if seen::page_visible() {
                        redraw.force_update();
                    }
                },
            );
            move || drop(listener)
        });
    }
    let arrivals = shared
        .as_ref()
        .and_then(|s| s.state.open.as_ref().map(|open| open.arrivals));
    {
        let (view, unseen) = (handles.view.clone(), handles.unseen.clone());
        use_effect_with(arrivals, move |_| {
            if !view.borrow().follow {
                unseen.set(true);
            }
        });
    }
    let selecting = use_context::<Option<Selecting>>().flatten();
    let (html, edges) = match &shared {
        Some(shared) => render(shared, &handles, selecting.as_ref()),
        None => (html! {}, None),
    };
    use_effect(move || {
        if let Some(edges) = edges {
            edges.restore();
        }
    });
    html
}

/// What a render shares with the effect after it and with scroll events.
#[derive(Clone)]
struct Handles {
    /// The scrolling element.
    scroller: NodeRef,
    /// The list of rows inside it.
    list: NodeRef,
    view: Rc<RefCell<View>>,
    redraw: UseForceUpdateHandle,
    /// Messages arrived while the reader was scrolled up.
    unseen: UseStateHandle<bool>,
    /// A message's action menu, while open.
    menu: UseStateHandle<Option<MessageMenuAt>>,
    /// How the last message action went (a refused recall, a 加急 sent),
    /// until dismissed.
    problem: UseStateHandle<Option<Notice>>,
    /// How many notes were shown: a success note goes by itself only if no
    /// other replaced it meanwhile.
    notices: Rc<RefCell<u32>>,
    /// The read list open, for which of the user's group messages.
    reads: UseStateHandle<Option<MessageId>>,
}

/// What a message action says afterwards.
#[derive(Debug, Clone, PartialEq)]
struct Notice {
    /// It went through (else it was refused).
    done: bool,
    /// In words.
    text: String,
}

/// Why a 加急 was refused: for a reminder sent too soon the server's reason
/// says how long to wait (§16.4), so it is shown too.
fn ding_failure(lang: crate::i18n::Lang, failure: &crate::state::OperationFailure) -> String {
    let words = crate::ui::operation::failure_text(lang, failure);
    match failure {
        crate::state::OperationFailure::Refused(refusal)
            if refusal.state == penpen_core::State::RATE_LIMITED && !refusal.error.is_empty() =>
        {
            format!("{words}（{}）", refusal.error)
        }
        _ => words,
    }
}

/// How long a success note stays before it goes by itself.
const DONE_NOTE_MS: u32 = 3_000;

fn render(
    shared: &Shared,
    handles: &Handles,
    selecting: Option<&Selecting>,
) -> (Html, Option<Edges>) {
    let (state, lang) = (&*shared.state, shared.lang);
    let Some(open) = state.open.as_ref() else {
        return (html! {}, None);
    };
    let me = state.account.as_ref().map(|account| &account.user);
    let rows = rows::rows(open, me);
    let now = super::now();

    let range = {
        let mut view = handles.view.borrow_mut();
        if open.outbox.len() > view.outbox_len {
            view.follow = true;
        }
        view.outbox_len = open.outbox.len();
        // Measured now, before this render changes the DOM. Yew may render
        // twice before the effect restores the view: the second would measure
        // the first's DOM, so a measurement waiting to be used is kept.
        if view.follow {
            view.anchor = None;
        } else if view.anchor.is_none() {
            view.anchor = handles
                .list
                .cast::<Element>()
                .zip(handles.scroller.cast::<Element>())
                .and_then(|(list, scroller)| first_visible(&list, scroller.scroll_top()));
        }
        // A search hit: the window around it, the hit a little below the top.
        if let Some(focus) = open.focus
            && view.focused != Some(focus)
            && let Some(index) = rows
                .iter()
                .position(|row| matches!(row, rows::Row::Sent(m) if m.id == focus))
        {
            view.focused = Some(focus);
            view.follow = false;
            let start = index.saturating_sub(WINDOW / 2);
            view.first = rows.get(start).map(|row| (row.key(me), start));
            view.anchor = Some((rows[index].key(me).to_string(), FOCUS_OFFSET_PX));
        }
        let start = view
            .first
            .as_ref()
            .map(|(key, index)| rows::resume(*index, rows::position(&rows, key, me)));
        let range = rows::window(rows.len(), start, view.follow, WINDOW);
        view.first = rows.get(range.start).map(|row| (row.key(me), range.start));
        range
    };

    let oldest = open.oldest();
    let asked = handles
        .view
        .borrow()
        .asked_older
        .is_some_and(|(at, when)| at == oldest && now - when < OLDER_RETRY_MS);
    let loading = !open.complete && (open.loading_older || asked);
    let slide = |start: usize| rows.get(start).map(|row| (row.key(me), start));
    let edges = Edges {
        handles: handles.clone(),
        command: shared.command.clone(),
        len: rows.len(),
        range: range.clone(),
        up: (range.start > 0)
            .then(|| slide(rows::slide_up(&range)))
            .flatten(),
        down: (range.end < rows.len())
            .then(|| slide(rows::slide_down(&range, rows.len(), WINDOW)))
            .flatten(),
        can_load_older: !open.complete && !loading,
        oldest,
        peer: open.peer.clone(),
    };

    let actions = bubble::Actions {
        peer: open.peer.clone(),
        menu: {
            let menu = handles.menu.clone();
            Rc::new(move |at| menu.set(Some(at)))
        },
        press: Rc::new(RefCell::new(Press::default())),
        reedit: {
            let dispatch = shared.state.dispatcher();
            Callback::from(move |text: String| {
                dispatch.dispatch(Update::Fill(text));
                focus_composer();
            })
        },
        jump: {
            let (command, peer) = (shared.command.clone(), open.peer.clone());
            Callback::from(move |id| command.emit(Command::OpenAt(peer.clone(), id)))
        },
        reads: {
            let reads = handles.reads.clone();
            Callback::from(move |id| reads.set(Some(id)))
        },
    };
    let context = bubble::Context {
        state,
        lang,
        me,
        group: open.peer.group().is_some(),
        now,
        utc_offset_minutes: shared.utc_offset_minutes,
        focus: open.focus,
        selecting,
        actions: &actions,
        receipts: crate::state::known_receipts(state, &open.peer),
    };
    let say = {
        let (problem, notices) = (handles.problem.clone(), handles.notices.clone());
        Callback::from(move |notice: Notice| {
            let shown = {
                let mut count = notices.borrow_mut();
                *count = count.wrapping_add(1);
                *count
            };
            let done = notice.done;
            problem.set(Some(notice));
            if done {
                let (problem, notices) = (problem.clone(), notices.clone());
                gloo::timers::callback::Timeout::new(DONE_NOTE_MS, move || {
                    if *notices.borrow() == shown {
                        problem.set(None);
                    }
                })
                .forget();
            }
        })
    };
    let ding = {
        let (command, say) = (shared.command.clone(), say.clone());
        Callback::from(move |id: MessageId| {
            let say = say.clone();
            let reply = Callback::from(move |result: crate::state::OperationResult| {
                say.emit(match result {
                    Ok(_) => Notice {
                        done: true,
                        text: lang.tr(Text::DingSent).to_owned(),
                    },
                    Err(failure) => Notice {
                        done: false,
                        text: lang.fill(Text::DingFailed, &[&ding_failure(lang, &failure)]),
                    },
                })
            });
            command.emit(Command::Perform(
                penpen_core::sync::Operation::Ding { id },
                reply,
            ));
        })
    };
    let menu = (*handles.menu).clone().map(|at| {
        let close = {
            let menu = handles.menu.clone();
            Callback::from(move |()| menu.set(None))
        };
        let on_error = say.reform(|text| Notice { done: false, text });
        let unread = me.is_some_and(|me| {
            at.message.from.user() == Some(me)
                && crate::ui::receipts::anyone_unread(context.receipts, at.message.id, me)
        });
        let on_ding = unread.then(|| ding.clone());
        html! { <MessageMenu {at} on_close={close} {on_error} {on_ding} /> }
    });
    let reads = (*handles.reads).map(|id| {
        let on_close = {
            let reads = handles.reads.clone();
            Callback::from(move |()| reads.set(None))
        };
        html! { <crate::ui::receipts::ReadList {id} {on_close} on_remind={ding.clone()} /> }
    });
    let problem = (*handles.problem).clone().map(|notice| {
        let dismiss = {
            let problem = handles.problem.clone();
            Callback::from(move |_: MouseEvent| problem.set(None))
        };
        let (id, class) = if notice.done {
            ("message-action-done", "chat__problem chat__problem--done")
        } else {
            ("message-action-error", "chat__problem")
        };
        html! {
            <div {id} {class} role={if notice.done { "status" } else { "alert" }}>
                <span>{ notice.text }</span>
                { controls::button(None, "chat__problem-close", lang.tr(Text::Dismiss), dismiss, false) }
            </div>
        }
    });
    let mut keys = HashSet::with_capacity(range.len());
    let items = range.clone().map(|index| {
        let row = rows[index];
        let previous = index.checked_sub(1).map(|before| rows[before].ts());
        let mut key = row.key(me).to_string();
        // Keys must be unique in a keyed list; a cid reused by a buggy client
        // must not take the view down.
        if !keys.insert(key.clone()) {
            key = format!("{key}-{index}");
        }
        bubble::row(&context, row, previous, key)
    });
    let status = (range.start == 0).then(|| {
        let (state, text) = if open.complete {
            ("complete", lang.tr(Text::NoOlder))
        } else if loading {
            ("loading", lang.tr(Text::LoadingOlder))
        } else {
            ("more", "")
        };
        html! { <li key="status" class="chat__status" data-state={state}>{ text }</li> }
    });
    let onscroll = {
        let edges = edges.clone();
        Callback::from(move |_: Event| edges.settle())
    };
    let jump = {
        let Handles {
            view,
            unseen,
            redraw,
            ..
        } = handles.clone();
        Callback::from(move |_: MouseEvent| {
            view.borrow_mut().follow = true;
            unseen.set(false);
            redraw.force_update();
        })
    };
    let html = html! {
        <div class="chat__body">
            <div class="chat__messages" ref={handles.scroller.clone()} {onscroll}>
                <ul class="chat__list" ref={handles.list.clone()}>
                    { status }
                    { for items }
                </ul>
            </div>
            if *handles.unseen {
                { controls::button(Some("jump-new"), "jump-new", lang.tr(Text::NewMessages), jump, false) }
            }
            { problem }
            { menu }
            { reads }
        </div>
    };
    (html, Some(edges))
}
