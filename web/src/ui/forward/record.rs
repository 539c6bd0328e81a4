//! A chat record (合并转发, types 6/16): the bubble shows its title and first
//! lines, and opens a viewer listing every item with its original sender and
//! time; images, voice and files inside are shown or downloadable.

use crate::i18n::{Lang, Text};
use crate::state::{AppState, person_name, use_shared};
use crate::ui::image::ImageThumb;
use penpen_core::packets::message::{ChatRecord, ChatRecordItem, MessageType};
use penpen_core::time::format_time;
use penpen_core::{Peer, UserId};
use yew::prelude::*;

/// How many items the bubble lists.
const CARD_LINES: usize = 3;
/// How much of a text a line of the bubble shows.
const LINE_CHARS: usize = 40;

/// "张伟和李娜的聊天记录" for a 1:1 conversation (its people: the items'
/// senders, then the person it was with and the forwarder), "技术部的聊天记录"
/// for a group ("群聊的聊天记录" when the reader does not know the group).
pub fn record_title(
    lang: Lang,
    state: &AppState,
    record: &ChatRecord,
    forwarder: Option<&UserId>,
) -> String {
    match &record.source {
        Peer::Group(gid) => {
            let name = state
                .groups
                .iter()
                .find(|g| g.gid == *gid)
                .map(|g| g.name.clone())
                .unwrap_or_else(|| lang.tr(Text::AGroup).to_owned());
            lang.fill(Text::ChatRecordOf, &[&name])
        }
        Peer::User(other) => {
            let mut people: Vec<&UserId> = Vec::new();
            let candidates = record
                .items
                .iter()
                .map(|i| &i.from)
                .chain(std::iter::once(other))
                .chain(forwarder);
            for user in candidates {
                if !people.contains(&user) {
                    people.push(user);
                }
            }
            match people.as_slice() {
                [one] => lang.fill(Text::ChatRecordOf, &[&person_name(state, one)]),
                [first, second, ..] => lang.fill(
                    Text::ChatRecordOfTwo,
                    &[&person_name(state, first), &person_name(state, second)],
                ),
                [] => lang.tr(Text::ChatRecordLabel).to_owned(),
            }
        }
    }
}

/// One item as a line: `张伟：周五开会` (a text's first characters, else what
/// it is: [图片], [语音], [文件] and its name, [聊天记录]).
pub fn item_line(lang: Lang, state: &AppState, item: &ChatRecordItem) -> String {
    format!(
        "{}：{}",
        person_name(state, &item.from),
        item_summary(lang, item)
    )
}

fn item_summary(lang: Lang, item: &ChatRecordItem) -> String {
    use MessageType as T;
    match item.kind {
        T::Text | T::GroupText => {
            let mut line: String = item.content.chars().take(LINE_CHARS).collect();
            if item.content.chars().count() > LINE_CHARS {
                line.push('…');
            }
            line
        }
        T::Image | T::GroupImage => lang.tr(Text::Image).to_owned(),
        T::Voice | T::GroupVoice => match item.duration {
            Some(seconds) => lang.fill(Text::VoiceSeconds, &[&seconds.to_string()]),
            None => lang.tr(Text::Voice).to_owned(),
        },
        T::File | T::GroupFile => format!(
            "{}{}",
            lang.tr(Text::File),
            item.name.as_deref().unwrap_or_default()
        ),
        T::ChatRecord | T::GroupChatRecord => lang.tr(Text::ChatRecord).to_owned(),
        _ => lang.tr(Text::Unsupported).to_owned(),
    }
}

/// What a record's bubble needs.
#[derive(Debug, Properties, PartialEq)]
pub struct CardProps {
    /// The record's content (its JSON).
    pub content: AttrValue,
    /// Who forwarded it.
    pub forwarder: Option<UserId>,
}

/// `button.chat-record` with `.chat-record__title`, up to three
/// `.chat-record__line`s and the label 聊天记录; a click opens its viewer.
/// A record that does not decode shows [聊天记录] and opens nothing.
#[component(ChatRecordCard)]
pub fn chat_record_card(props: &CardProps) -> Html {
    let shared = use_shared();
    let open = use_state(|| false);
    let record = use_memo(props.content.clone(), |content| {
        serde_json::from_str::<ChatRecord>(content).ok()
    });
    let Some(shared) = shared else {
        return html! {};
    };
    let (state, lang) = (&*shared.state, shared.lang);
    let Some(record) = record.as_ref() else {
        return html! { <span class="chat-record chat-record--broken">{ lang.tr(Text::ChatRecord) }</span> };
    };
    let title = record_title(lang, state, record, props.forwarder.as_ref());
    let toggle = |to: bool| {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(to))
    };
    let close = {
        let open = open.clone();
        Callback::from(move |()| open.set(false))
    };
    html! {
        <>
            <button type="button" class="chat-record" onclick={toggle(true)}>
                <span class="chat-record__title">{ &title }</span>
                { for record.items.iter().take(CARD_LINES).map(|item| html! {
                    <span class="chat-record__line">{ item_line(lang, state, item) }</span>
                }) }
                <span class="chat-record__label">{ lang.tr(Text::ChatRecordLabel) }</span>
            </button>
            if *open {
                <RecordViewer record={record.clone()} {title} on_close={close} />
            }
        </>
    }
}

/// What the viewer shows.
#[derive(Debug, Properties, PartialEq)]
pub struct ViewerProps {
    /// The record.
    pub record: ChatRecord,
    /// Its title.
    pub title: AttrValue,
    /// Closes it.
    pub on_close: Callback<()>,
}

/// `.record-viewer` (a dialog): the title, `.record-viewer__close`, and
/// `li.record-item[data-from]` with `.record-item__sender`,
/// `.record-item__time` and `.record-item__body` (the text, an image, a
/// voice player, a file link, or a record inside the record).
#[component(RecordViewer)]
pub fn record_viewer(props: &ViewerProps) -> Html {
    let Some(shared) = use_shared() else {
        return html! {};
    };
    let (state, lang) = (&*shared.state, shared.lang);
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    let onkeydown = {
        let on_close = props.on_close.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Escape" {
                on_close.emit(());
            }
        })
    };
    html! {
        <div class="dialog-backdrop" {onkeydown}>
            <div class="dialog record-viewer" role="dialog" aria-modal="true"
                aria-label={props.title.clone()}>
                <header class="record-viewer__header">
                    <h2 class="record-viewer__title">{ props.title.clone() }</h2>
                    <button type="button" class="record-viewer__close" onclick={close}
                        aria-label={lang.tr(Text::Close)} title={lang.tr(Text::Close)}>{ "×" }</button>
                </header>
                <ul class="record-viewer__items">
                    { for props.record.items.iter().enumerate().map(|(index, item)| html! {
                        <li key={index} class="record-item" data-from={item.from.to_string()}>
                            <div class="record-item__head">
                                <span class="record-item__sender">{ person_name(state, &item.from) }</span>
                                <span class="record-item__time">
                                    { format_time(item.ts, shared.utc_offset_minutes) }
                                </span>
                            </div>
                            <div class="record-item__body">{ item_body(lang, state, item) }</div>
                        </li>
                    }) }
                </ul>
            </div>
        </div>
    }
}

fn item_body(lang: Lang, state: &AppState, item: &ChatRecordItem) -> Html {
    use MessageType as T;
    let url = state
        .files
        .as_ref()
        .filter(|_| !item.content.is_empty())
        .map(|files| files.url(item.kind, &item.content));
    match (item.kind, url) {
        (T::Image | T::GroupImage, Some(src)) => html! { <ImageThumb src={src} /> },
        (T::Voice | T::GroupVoice, Some(src)) => html! {
            <audio class="record-item__voice" controls=true preload="none" src={src}
                title={item_summary(lang, item)}></audio>
        },
        (T::File | T::GroupFile, Some(href)) => {
            let name = item.name.clone().unwrap_or_else(|| item.content.clone());
            html! {
                <a class="record-item__file" href={href} download={name.clone()}
                    title={lang.tr(Text::Download)}>{ item_summary(lang, item) }</a>
            }
        }
        (T::ChatRecord | T::GroupChatRecord, _) => html! {
            <ChatRecordCard content={AttrValue::from(item.content.clone())} forwarder={Some(item.from.clone())} />
        },
        (T::Text | T::GroupText, _) => html! { <p class="record-item__text">{ &item.content }</p> },
        _ => html! { <span class="record-item__placeholder">{ item_summary(lang, item) }</span> },
    }
}
