//! One row of the chat: a time line if the conversation went quiet before
//! it, then a bubble, or a centred line for a group notice.

use super::avatar::{self, Size};
use super::file_card::FileCard;
use super::format::{self, Body};
use super::forward::{ChatRecordCard, forwardable};
use super::image::{ImageThumb, LocalImage};
use super::message_menu::{MenuHandlers, MessageMenuAt, Press};
use super::rows::Row;
use super::voice::VoicePlayer;
use crate::i18n::{Lang, Text};
use crate::state::{AppState, Command, use_shared};
use crate::ui::controls;
use penpen_core::cache::OutboxState;
use penpen_core::packets::message::{Message, Quote};
use penpen_core::time::format_time;
use penpen_core::{ClientMsgId, MessageId, Peer, UserId};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// What every row of one render shares.
#[derive(Debug)]
pub struct Context<'a> {
    /// For names.
    pub state: &'a AppState,
    /// The interface language.
    pub lang: Lang,
    /// The reader.
    pub me: Option<&'a UserId>,
    /// A group conversation: others' bubbles are named.
    pub group: bool,
    /// The time now, for the time lines.
    pub now: i64,
    /// The reader's zone.
    pub utc_offset_minutes: i32,
    /// The message a search opened the chat at, marked.
    pub focus: Option<MessageId>,
    /// Messages being chosen for a forward: a checkbox on each that can be.
    pub selecting: Option<&'a super::forward::Selecting>,
    /// What a bubble can do: its menu, 重新编辑, a quote's jump.
    pub actions: &'a Actions,
    /// Who read the user's messages (§16).
    pub receipts: super::receipts::Known<'a>,
}

/// What the rows of one render can ask for.
pub struct Actions {
    /// The open conversation.
    pub peer: Peer,
    /// Opens a message's menu at a point.
    pub menu: Rc<dyn Fn(MessageMenuAt)>,
    /// The long press under way, shared by the bubbles.
    pub press: Rc<RefCell<Press>>,
    /// Puts a recalled text back in the composer.
    pub reedit: Callback<String>,
    /// Shows a quoted message (loading the history around it if needed).
    pub jump: Callback<MessageId>,
    /// Opens the read list of one of the user's group messages.
    pub reads: Callback<MessageId>,
}

impl std::fmt::Debug for Actions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actions").field("peer", &self.peer).finish()
    }
}

/// `li.chat__row[data-key]` holding an optional `.time-separator` and a
/// `.message` (or a `.notice` for group notices).
pub fn row(context: &Context<'_>, row: Row<'_>, previous_ts: Option<i64>, key: String) -> Html {
    let ts = row.ts();
    let separator = format::separated(previous_ts, ts).then(|| {
        let label =
            format::separator_label(context.lang, ts, context.now, context.utc_offset_minutes);
        html! { <div class="time-separator" role="separator"><span>{ label }</span></div> }
    });
    let content = match row {
        Row::Sent(message) if message.recalled.is_some() => recalled(context, message),
        Row::Sent(message) => {
            let body = format::body(
                context.lang,
                message.kind,
                &message.content,
                message.duration,
                message.from.user(),
                context.state,
            );
            let id = message.id.to_string();
            let media = match &context.state.files {
                Some(files) if message.kind.is_image() && !message.content.is_empty() => {
                    let src = files.url(message.kind, &message.content);
                    Some(html! { <ImageThumb src={src} /> })
                }
                _ if message.kind.is_file() && !message.content.is_empty() => {
                    let name = message
                        .name
                        .clone()
                        .unwrap_or_else(|| message.content.clone());
                    Some(html! {
                        <FileCard {name} size={message.size.unwrap_or(0)}
                            stored={Some(message.content.clone())} />
                    })
                }
                Some(files) if message.kind.is_voice() && !message.content.is_empty() => {
                    let src = files.url(message.kind, &message.content);
                    let own = row.own(context.me);
                    Some(html! {
                        <VoicePlayer src={src} seconds={message.duration} id={message.id} {own} />
                    })
                }
                _ if message.kind.is_chat_record() && !message.content.is_empty() => {
                    let content = AttrValue::from(message.content.clone());
                    let forwarder = message.from.user().cloned();
                    Some(html! { <ChatRecordCard {content} {forwarder} /> })
                }
                _ => None,
            };
            if let Body::Notice(line) = body {
                html! { <div class="notice" data-id={id}>{ line }</div> }
            } else {
                let own = row.own(context.me);
                let author = message.from.user().filter(|_| !own);
                let mark = html! {
                    <span class="message__state" data-state="sent"
                        title={context.lang.tr(Text::Sent)}>{ "✓" }</span>
                };
                let mark = own.then_some(mark);
                let receipt = context.me.filter(|_| own).map(|me| {
                    super::receipts::label(
                        context.lang,
                        context.receipts,
                        message.id,
                        me,
                        &context.actions.reads,
                    )
                });
                let extras = Extras {
                    quote: message.quote.as_ref().map(|q| quote_block(context, q)),
                    handlers: Some(menu_handlers(context, message)),
                    receipt,
                };
                bubble(
                    context,
                    body,
                    media,
                    own,
                    author,
                    ts,
                    mark,
                    Ids::Sent(id),
                    extras,
                )
            }
        }
        Row::Unsent(entry) => {
            let body = format::body(
                context.lang,
                entry.kind,
                &entry.content,
                None,
                context.me,
                context.state,
            );
            let mark = match &entry.state {
                OutboxState::Queued => html! {
                    <span class="message__state" data-state="queued"
                        title={context.lang.tr(Text::Sending)}
                        aria-label={context.lang.tr(Text::Sending)}></span>
                },
                OutboxState::Failed { reason, .. } => html! {
                    <FailedMark cid={entry.cid.clone()} reason={reason.clone()} />
                },
            };
            let ids = Ids::Unsent(entry.cid.to_string());
            let media = entry
                .file
                .as_ref()
                .filter(|_| entry.kind.is_image())
                .map(|file| {
                    html! {
                        <LocalImage id={entry.cid.to_string()} data={Rc::new(file.data.clone())}
                            mime={file.mime.clone()} />
                    }
                })
                .or_else(|| {
                    entry.upload.as_ref().map(|upload| {
                        let uploading = matches!(entry.state, OutboxState::Queued)
                            .then(|| (entry.cid.clone(), upload.sent));
                        html! {
                            <FileCard name={upload.name.clone()} size={upload.size} upload={uploading} />
                        }
                    })
                });
            let extras = Extras {
                quote: entry.quote.as_ref().map(|q| quote_block(context, q)),
                handlers: None,
                receipt: None,
            };
            bubble(
                context,
                body,
                media,
                true,
                None,
                ts,
                Some(mark),
                ids,
                extras,
            )
        }
    };
    let focused = matches!(row, Row::Sent(message) if Some(message.id) == context.focus);
    let pick = match (context.selecting, row) {
        (Some(selecting), Row::Sent(message)) if forwardable(message) => {
            let id = message.id;
            let toggle = selecting.toggle.reform(move |_: Event| id);
            Some(html! {
                <input type="checkbox" class="message__select" checked={selecting.ids.contains(&id)}
                    onchange={toggle} aria-label={context.lang.tr(Text::MultiSelect)} />
            })
        }
        _ => None,
    };
    let selectable = pick.is_some();
    html! {
        <li class={classes!("chat__row", focused.then_some("chat__row--focus"), selectable.then_some("chat__row--selectable"))}
            key={key.clone()} data-key={key}>
            { separator }
            if let Some(pick) = pick {
                <label class="chat__pick">{ pick }{ content }</label>
            } else {
                { content }
            }
        </li>
    }
}

/// `div.notice.notice--recalled[data-id]` in place of a recalled message,
/// with `button.notice__reedit` when this tab recalled the text.
fn recalled(context: &Context<'_>, message: &Message) -> Html {
    let Some(recalled) = &message.recalled else {
        return html! {};
    };
    let line = format::recall_line(
        context.lang,
        &recalled.by,
        message.from.user(),
        context.state,
    );
    let reedit = context
        .state
        .reedit
        .get(&message.id)
        .filter(|_| context.me == Some(&recalled.by))
        .map(|text| {
            let (reedit, text) = (context.actions.reedit.clone(), text.clone());
            let onclick = Callback::from(move |_: MouseEvent| reedit.emit(text.clone()));
            html! {
                <button type="button" class="notice__reedit" {onclick}>
                    { context.lang.tr(Text::Reedit) }
                </button>
            }
        });
    html! {
        <div class="notice notice--recalled" data-id={message.id.to_string()}>
            { line }{ reedit }
        </div>
    }
}

/// `button.message__quote[data-quote]`: whose message this one replies to
/// and a snippet of it; clicking shows it.
fn quote_block(context: &Context<'_>, quote: &Quote) -> Html {
    let onclick = {
        let (jump, id) = (context.actions.jump.clone(), quote.id);
        Callback::from(move |event: MouseEvent| {
            event.stop_propagation();
            jump.emit(id);
        })
    };
    html! {
        <button type="button" class="message__quote" data-quote={quote.id.to_string()}
            data-recalled={quote.recalled.then_some("true")} {onclick}>
            { format::quote_line(context.lang, quote, context.state) }
        </button>
    }
}

/// The handlers that open `message`'s menu.
fn menu_handlers(context: &Context<'_>, message: &Message) -> MenuHandlers {
    let (menu, peer, message) = (
        context.actions.menu.clone(),
        context.actions.peer.clone(),
        message.clone(),
    );
    let open: Rc<dyn Fn(i32, i32)> = Rc::new(move |x, y| {
        menu(MessageMenuAt {
            peer: peer.clone(),
            message: message.clone(),
            x,
            y,
        })
    });
    MenuHandlers::new(open, context.actions.press.clone())
}

/// What a bubble may carry besides its body.
struct Extras {
    /// The quote block of a reply.
    quote: Option<Html>,
    /// How its menu opens (stored messages only).
    handlers: Option<MenuHandlers>,
    /// Who read it (the user's own stored messages).
    receipt: Option<Html>,
}

/// How the e2e tests and the budget tool find a bubble.
enum Ids {
    /// `data-id`: stored by the server.
    Sent(String),
    /// `data-cid`: still in the outbox.
    Unsent(String),
}

/// A bubble: others on the left with their avatar (and name, in groups), the
/// reader's own on the right with their delivery mark.
#[allow(clippy::too_many_arguments)]
fn bubble(
    context: &Context<'_>,
    body: Body,
    media: Option<Html>,
    own: bool,
    author: Option<&UserId>,
    ts: i64,
    mark: Option<Html>,
    ids: Ids,
    extras: Extras,
) -> Html {
    let (text, placeholder) = match body {
        Body::Text(text) => (text, false),
        Body::Placeholder(text) | Body::Notice(text) => (text, true),
    };
    let (data_id, data_cid) = match ids {
        Ids::Sent(id) => (Some(id), None),
        Ids::Unsent(cid) => (None, Some(cid)),
    };
    let face = author.map(|user| {
        let name = crate::state::person_name(context.state, user);
        avatar::person(&name, user.as_str(), Size::Medium)
    });
    let sender = author.filter(|_| context.group).map(|user| {
        html! {
            <span class="message__sender">{ crate::state::person_name(context.state, user) }</span>
        }
    });
    let classes = classes!("message", own.then_some("message--own"));
    let bubble_classes = classes!(
        "message__bubble",
        (placeholder && media.is_none()).then_some("message__bubble--placeholder"),
        media.is_some().then_some("message__bubble--media")
    );
    let content = match media {
        Some(media) => media,
        None => html! { text },
    };
    let title = format_time(ts, context.utc_offset_minutes);
    let bubble = match extras.handlers {
        Some(h) => html! {
            <div class={bubble_classes} {title} tabindex="0" aria-haspopup="menu"
                oncontextmenu={h.oncontextmenu} onkeydown={h.onkeydown}
                onpointerdown={h.onpointerdown} onpointermove={h.onpointermove}
                onpointerup={h.onpointerend.clone()} onpointercancel={h.onpointerend}>
                { content }
            </div>
        },
        None => html! { <div class={bubble_classes} {title}>{ content }</div> },
    };
    html! {
        <div class={classes} data-id={data_id} data-cid={data_cid}>
            { face }
            <div class="message__main">
                { sender }
                { extras.quote }
                <div class="message__line">
                    { mark }
                    { bubble }
                </div>
                { extras.receipt }
            </div>
        </div>
    }
}

/// What a failed mark needs.
#[derive(Debug, Properties, PartialEq)]
pub struct FailedProps {
    /// The unsent message.
    pub cid: ClientMsgId,
    /// Why the server refused it.
    pub reason: String,
}

/// A red "!" that, clicked, tells why and offers to send again or delete.
#[component(FailedMark)]
pub fn failed_mark(props: &FailedProps) -> Html {
    let shared = use_shared();
    let revealed = use_state(|| false);
    let Some(shared) = shared else {
        return html! {};
    };
    let lang = shared.lang;
    let toggle = {
        let revealed = revealed.clone();
        Callback::from(move |_: MouseEvent| revealed.set(!*revealed))
    };
    let send = |command: Command| {
        let (send, revealed) = (shared.command.clone(), revealed.clone());
        Callback::from(move |_: MouseEvent| {
            revealed.set(false);
            send.emit(command.clone());
        })
    };
    html! {
        <span class="message__failed">
            <button type="button" class="message__state" data-state="failed"
                title={lang.tr(Text::SendFailed)} aria-label={lang.tr(Text::SendFailed)}
                aria-expanded={revealed.to_string()} onclick={toggle}>{ "!" }</button>
            if *revealed {
                <span class="message__failure" role="alert">
                    <span class="message__reason">
                        { lang.tr(Text::SendFailed) }{ "：" }{ &props.reason }
                    </span>
                    { controls::button(None, "message__retry", lang.tr(Text::Resend), send(Command::Retry(props.cid.clone())), false) }
                    { controls::button(None, "message__discard", lang.tr(Text::Delete), send(Command::Discard(props.cid.clone())), false) }
                </span>
            }
        </span>
    }
}
