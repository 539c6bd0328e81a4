//! Read receipts under the user's own messages (§16): 已读/未读 in a 1:1
//! chat, "N人未读"/全部已读 in a group, and the read list a group label
//! opens, with 提醒未读的人 (加急).

use crate::i18n::{Lang, Text};
use crate::state::{AppState, use_shared};
use crate::ui::avatar::{self, Size};
use crate::ui::controls;
use penpen_core::receipts::{GroupReceipts, ReadCounts, Receipt, peer_receipt};
use penpen_core::{MessageId, UserId};
use yew::prelude::*;

/// What the chat knows about who read the user's messages.
#[derive(Debug, Clone, Copy)]
pub enum Known<'a> {
    /// Nothing to show (not a conversation with receipts).
    Nothing,
    /// A 1:1 chat: the other person's mark, or that they keep it private.
    Peer {
        /// The newest message they read.
        read: Option<MessageId>,
        /// They do not share read receipts.
        private: bool,
    },
    /// A group chat: its members' marks, once the full list came.
    Group(Option<&'a GroupReceipts>),
}

/// What a group's label says: none when nobody is counted.
pub fn group_text(lang: Lang, counts: ReadCounts) -> Option<String> {
    if counts.read + counts.unread + counts.unknown == 0 {
        return None;
    }
    Some(if counts.all_read() {
        lang.tr(Text::ReceiptsAllRead).to_owned()
    } else {
        lang.fill(Text::ReceiptsUnread, &[&counts.unread.to_string()])
    })
}

/// Whether someone has not read `id` yet (so 加急 can remind them).
pub fn anyone_unread(known: Known<'_>, id: MessageId, me: &UserId) -> bool {
    match known {
        Known::Nothing => false,
        Known::Peer { read, private } => peer_receipt(read, private, id) == Receipt::Unread,
        Known::Group(receipts) => receipts.is_some_and(|r| r.counts(id, me).unread > 0),
    }
}

/// `span.receipt[data-receipt=read|unread]` under a 1:1 message, or
/// `button.receipt.receipt--group[data-unread=N]` under a group message
/// (opening its read list); nothing when nothing can be told.
pub fn label(
    lang: Lang,
    known: Known<'_>,
    id: MessageId,
    me: &UserId,
    open_list: &Callback<MessageId>,
) -> Html {
    match known {
        Known::Nothing => html! {},
        Known::Peer { read, private } => {
            let (state, text) = match peer_receipt(read, private, id) {
                Receipt::Read => ("read", Text::ReceiptRead),
                Receipt::Unread => ("unread", Text::ReceiptUnread),
                Receipt::Unknown => return html! {},
            };
            html! {
                <span class={classes!("receipt", format!("receipt--{state}"))} data-receipt={state}>
                    { lang.tr(text) }
                </span>
            }
        }
        Known::Group(None) => html! {},
        Known::Group(Some(receipts)) => {
            let counts = receipts.counts(id, me);
            let Some(text) = group_text(lang, counts) else {
                return html! {};
            };
            let onclick = open_list.reform(move |event: MouseEvent| {
                event.stop_propagation();
                id
            });
            let state = if counts.unread > 0 { "unread" } else { "read" };
            html! {
                <button type="button" class={classes!("receipt", "receipt--group", format!("receipt--{state}"))}
                    data-receipt={state} data-unread={counts.unread.to_string()}
                    aria-haspopup="dialog" {onclick}>
                    { text }
                </button>
            }
        }
    }
}

/// What the read list needs.
#[derive(Debug, Properties, PartialEq)]
pub struct ReadListProps {
    /// The user's own group message.
    pub id: MessageId,
    /// Closes the list.
    pub on_close: Callback<()>,
    /// 提醒未读的人, after the user confirmed.
    pub on_remind: Callback<MessageId>,
}

/// `#read-list` (a dialog; a bottom sheet on a phone): `#read-list-read`,
/// `#read-list-unread` and `#read-list-unknown`, each `li[data-user]`, and
/// `#read-list-remind` then `#read-list-remind-confirm`. It follows the
/// group's marks as they move.
#[component(ReadList)]
pub fn read_list(props: &ReadListProps) -> Html {
    let shared = use_shared();
    let confirming = use_state(|| false);
    let Some(shared) = shared else {
        return html! {};
    };
    let (state, lang) = (&*shared.state, shared.lang);
    let Some(me) = state.account.as_ref().map(|a| &a.user) else {
        return html! {};
    };
    let receipts = state.group_receipts.as_ref().map(|(_, r)| &**r);
    let close = props.on_close.reform(|_: MouseEvent| ());
    let body = match receipts {
        None => html! { <p class="read-list__loading">{ lang.tr(Text::ReadListLoading) }</p> },
        Some(receipts) => {
            let status = receipts.status(props.id, me);
            let unread = status.unread.len();
            let remind = (unread > 0).then(|| {
                if *confirming {
                    let send = {
                        let (on_remind, confirming, id) =
                            (props.on_remind.clone(), confirming.clone(), props.id);
                        Callback::from(move |_: MouseEvent| {
                            confirming.set(false);
                            on_remind.emit(id);
                        })
                    };
                    let cancel = {
                        let confirming = confirming.clone();
                        Callback::from(move |_: MouseEvent| confirming.set(false))
                    };
                    html! {
                        <div class="read-list__confirm" role="alertdialog">
                            <p>{ lang.fill(Text::DingConfirm, &[&unread.to_string()]) }</p>
                            { controls::button(Some("read-list-remind-confirm"), "button button--ding", lang.tr(Text::DingSend), send, false) }
                            { controls::button(None, "button button--secondary", lang.tr(Text::Cancel), cancel, false) }
                        </div>
                    }
                } else {
                    let ask = {
                        let confirming = confirming.clone();
                        Callback::from(move |_: MouseEvent| confirming.set(true))
                    };
                    controls::button(
                        Some("read-list-remind"),
                        "button button--ding",
                        lang.tr(Text::RemindUnread),
                        ask,
                        false,
                    )
                }
            });
            html! {
                <>
                    <div class="read-list__columns">
                        { people("read-list-unread", lang.fill(Text::ReadListUnread, &[&unread.to_string()]), &status.unread, state, lang) }
                        { people("read-list-read", lang.fill(Text::ReadListRead, &[&status.read.len().to_string()]), &status.read, state, lang) }
                        if !status.unknown.is_empty() {
                            { people("read-list-unknown", lang.fill(Text::ReadListUnknown, &[&status.unknown.len().to_string()]), &status.unknown, state, lang) }
                        }
                    </div>
                    { remind }
                </>
            }
        }
    };
    html! {
        <div class="sheet" onclick={close.clone()}>
            <div id="read-list" class="sheet__body read-list" role="dialog" aria-modal="true"
                aria-labelledby="read-list-title" data-id={props.id.to_string()}
                onclick={Callback::from(|event: MouseEvent| event.stop_propagation())}>
                <header class="sheet__head">
                    <h2 id="read-list-title" class="sheet__title">{ lang.tr(Text::ReadListTitle) }</h2>
                    { controls::button(Some("read-list-close"), "sheet__close", "×", close, false) }
                </header>
                { body }
            </div>
        </div>
    }
}

/// One column of the read list: a heading with its count, then the people.
fn people(
    id: &'static str,
    heading: String,
    users: &[UserId],
    state: &AppState,
    lang: Lang,
) -> Html {
    let rows = users.iter().map(|user| {
        let name = crate::state::person_name(state, user);
        html! {
            <li class="read-list__person" key={user.to_string()} data-user={user.to_string()}>
                { avatar::person(&name, user.as_str(), Size::Small) }
                <span>{ name }</span>
            </li>
        }
    });
    html! {
        <section class="read-list__column">
            <h3 class="read-list__heading">{ heading }</h3>
            <ul {id} class="read-list__people">
                if users.is_empty() {
                    <li class="read-list__none">{ lang.tr(Text::ReadListEmpty) }</li>
                } else {
                    { for rows }
                }
            </ul>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_label_counts_the_unread_or_says_all_read() {
        let counts = |read, unread, unknown| ReadCounts {
            read,
            unread,
            unknown,
        };
        assert_eq!(
            group_text(Lang::Zh, counts(1, 2, 0)).as_deref(),
            Some("2人未读")
        );
        assert_eq!(
            group_text(Lang::En, counts(1, 2, 0)).as_deref(),
            Some("2 unread")
        );
        assert_eq!(
            group_text(Lang::Zh, counts(3, 0, 0)).as_deref(),
            Some("全部已读")
        );
        // Someone unknown: not all read, though nobody is known unread.
        assert_eq!(
            group_text(Lang::Zh, counts(2, 0, 1)).as_deref(),
            Some("0人未读")
        );
        assert_eq!(group_text(Lang::Zh, counts(0, 0, 0)), None, "nobody else");
    }
}
