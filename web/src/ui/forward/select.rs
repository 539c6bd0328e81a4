//! The timeline's multi-select mode (多选): a checkbox on every message that
//! can be forwarded, and a bar at the bottom in place of the composer.

use crate::i18n::Text;
use crate::state::use_shared;
use penpen_core::MessageId;
use std::collections::BTreeSet;
use std::rc::Rc;
use yew::prelude::*;

/// The messages ticked in the multi-select mode; `None` when not choosing.
/// A reducer, so quick ticks each apply to the one before, not to the
/// render they were clicked in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection(pub Option<Rc<BTreeSet<MessageId>>>);

/// A change of the [`Selection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectionAction {
    /// Enter the mode with nothing ticked, or leave it.
    Switch,
    /// Leave the mode.
    Stop,
    /// Tick or untick a message.
    Toggle(MessageId),
    /// Enter the mode (if not in it) with this message ticked.
    StartWith(MessageId),
}

impl Reducible for Selection {
    type Action = SelectionAction;

    fn reduce(self: Rc<Self>, action: SelectionAction) -> Rc<Self> {
        Rc::new(Selection(match (action, &self.0) {
            (SelectionAction::Switch, None) => Some(Rc::new(BTreeSet::new())),
            (SelectionAction::Switch | SelectionAction::Stop, _) => None,
            (SelectionAction::Toggle(_), None) => None,
            (SelectionAction::StartWith(id), ids) => {
                let mut next = ids.as_deref().cloned().unwrap_or_default();
                next.insert(id);
                Some(Rc::new(next))
            }
            (SelectionAction::Toggle(id), Some(ids)) => {
                let mut next = (**ids).clone();
                if !next.remove(&id) {
                    next.insert(id);
                }
                Some(Rc::new(next))
            }
        }))
    }
}

/// What the timeline reads while messages are being chosen (a context the
/// chat provides; absent when not choosing).
#[derive(Debug, Clone, PartialEq)]
pub struct Selecting {
    /// The messages ticked.
    pub ids: Rc<BTreeSet<MessageId>>,
    /// Ticks or unticks one.
    pub toggle: Callback<MessageId>,
}

/// What a message's menu may start (a context the chat provides around the
/// timeline): 转发 one message, or 多选 from it.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardActions {
    /// Opens the target picker for this message alone.
    pub forward: Callback<MessageId>,
    /// Enters the multi-select mode with this message ticked.
    pub select: Callback<MessageId>,
}

/// What the bar needs.
#[derive(Debug, Properties, PartialEq)]
pub struct BarProps {
    /// How many messages are ticked.
    pub count: usize,
    /// Forward them: `true` merged into one chat record.
    pub on_forward: Callback<bool>,
    /// Leave the mode.
    pub on_cancel: Callback<()>,
}

/// `#forward-bar`: `已选 N 条`, `#forward-one` (逐条转发), `#forward-merged`
/// (合并转发), `#forward-cancel` (取消).
#[component(ForwardBar)]
pub fn forward_bar(props: &BarProps) -> Html {
    let Some(shared) = use_shared() else {
        return html! {};
    };
    let lang = shared.lang;
    let forward = |merge: bool| {
        let on_forward = props.on_forward.clone();
        Callback::from(move |_: MouseEvent| on_forward.emit(merge))
    };
    let cancel = {
        let on_cancel = props.on_cancel.clone();
        Callback::from(move |_: MouseEvent| on_cancel.emit(()))
    };
    let none = props.count == 0;
    html! {
        <div id="forward-bar" class="forward-bar" role="toolbar">
            <span class="forward-bar__count" aria-live="polite">
                { lang.fill(Text::SelectedCount, &[&props.count.to_string()]) }
            </span>
            <button id="forward-one" type="button" class="forward-bar__button"
                disabled={none} onclick={forward(false)}>{ lang.tr(Text::ForwardOneByOne) }</button>
            <button id="forward-merged" type="button" class="forward-bar__button"
                disabled={none} onclick={forward(true)}>{ lang.tr(Text::ForwardMerged) }</button>
            <button id="forward-cancel" type="button" class="forward-bar__button forward-bar__button--quiet"
                onclick={cancel}>{ lang.tr(Text::Cancel) }</button>
        </div>
    }
}
