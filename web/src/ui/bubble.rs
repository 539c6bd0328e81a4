//! One row of the chat: a time line if the conversation went quiet before
//! it, then a bubble, or a centred line for a group notice.

use super::avatar::{self, Size};
use super::file_card::FileCard;
use super::format::{self, Body};
use super::forward::{ChatRecordCard, forwardable};
use super::image::{ImageThumb, LocalImage};
use super::rows::Row;
use super::voice::VoicePlayer;
use crate::i18n::{Lang, Text};
use crate::state::{AppState, Command, use_shared};
use crate::ui::controls;
use penpen_core::ClientMsgId;
use penpen_core::UserId;
use penpen_core::cache::OutboxState;
use penpen_core::time::format_time;
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
    pub focus: Option<penpen_core::MessageId>,
    /// Messages being chosen for a forward: a checkbox on each that can be.
    pub selecting: Option<&'a super::forward::Selecting>,
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
                bubble(context, body, media, own, author, ts, mark, Ids::Sent(id))
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
            bubble(context, body, media, true, None, ts, Some(mark), ids)
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
    html! {
        <div class={classes} data-id={data_id} data-cid={data_cid}>
            { face }
            <div class="message__main">
                { sender }
                <div class="message__line">
                    { mark }
                    <div class={bubble_classes} title={format_time(ts, context.utc_offset_minutes)}>
                        { content }
                    </div>
                </div>
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
