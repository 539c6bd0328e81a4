//! Forward (§15.3) on screen, over the fake driver: the multi-select mode and
//! its bar, the target picker (sections, pinyin search, several targets, the
//! answers), and a chat record's bubble and viewer.

use crate::dom::{click, exists, js};
use crate::screens::{me, mount, opened, right_click_bubble, settle, text, until, zhang};
use penpen_core::packets::directory::{Contact, Directory};
use penpen_core::packets::groups::{Group, Members};
use penpen_core::packets::message::{ChatRecord, ChatRecordItem, Message, MessageType, Sender};
use penpen_core::packets::profile::Presence;
use penpen_core::sync::{OperationError, Outcome};
use penpen_core::{DepartmentId, GroupId, JobId, MessageId, Peer, State, UserId};
use penpen_web::config::ServerAddress;
use penpen_web::state::{AppState, Command, FileAccess, OperationFailure, OperationResult};
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen_test::*;

/// 2026-11-27 12:00 in the screens' UTC+8.
const BASE_TS: i64 = 1_795_752_000_000;

fn li() -> UserId {
    UserId::parse("13800000002").expect("an account")
}

fn liu() -> UserId {
    UserId::parse("13800000004").expect("an account")
}

fn tech() -> Peer {
    Peer::Group(GroupId::new(1).expect("a gid"))
}

fn message(id: u64, from: UserId, to: UserId, kind: MessageType, content: &str) -> Message {
    Message {
        quote: None,
        mentions: None,
        mention_all: false,
        recalled: None,
        name: None,
        size: None,
        from: Sender::User(from),
        to: Peer::User(to),
        kind,
        content: content.into(),
        time: String::new(),
        ts: BASE_TS + id as i64 * 60_000,
        id: MessageId(id),
        seq: None,
        cid: None,
        duration: None,
    }
}

/// The chat with 张伟 open, over `messages`, with the directory, 技术部 and
/// file access.
fn state(messages: Vec<Message>) -> AppState {
    let contact = |user: UserId, name: &str| Contact {
        name: name.into(),
        user,
        department: DepartmentId(1),
        job: JobId(1),
        signing: String::new(),
        presence: Presence::Online,
    };
    AppState {
        directory: Some(Rc::new(Directory {
            state: State::SUCCESS,
            departments: BTreeMap::from([(DepartmentId(1), "技术部".into())]),
            jobs: BTreeMap::from([(JobId(1), "工程师".into())]),
            contacts: vec![
                contact(me(), "王总"),
                contact(li(), "李娜"),
                contact(zhang(), "张伟"),
                contact(liu(), "刘洋"),
            ],
        })),
        groups: Rc::new(vec![Group {
            gid: GroupId::new(1).expect("a gid"),
            holder: zhang(),
            name: "技术部".into(),
            member: Members(vec![me(), zhang(), liu()]),
        }]),
        groups_known: true,
        files: Some(FileAccess {
            server: ServerAddress {
                host: "127.0.0.1".into(),
                port_offset: 0,
                tls: false,
            },
            token: "t".into(),
        }),
        ..opened(messages)
    }
}

fn three_texts() -> Vec<Message> {
    vec![
        message(1, zhang(), me(), MessageType::Text, "周五开会"),
        message(2, me(), zhang(), MessageType::Text, "好的"),
        message(3, zhang(), me(), MessageType::Text, "带上电脑"),
    ]
}

fn count(css: &str) -> usize {
    js(&format!("document.querySelectorAll('{css}').length"))
        .as_f64()
        .unwrap_or_default() as usize
}

fn tick_message(id: u64) {
    js(&format!(
        "document.querySelector('.message[data-id=\"{id}\"]').closest('.chat__pick').querySelector('.message__select').click()"
    ));
}

fn search(query: &str) {
    js(&format!(
        "(i => {{ i.value = '{query}'; i.dispatchEvent(new Event('input', {{ bubbles: true }})); }})(document.querySelector('.forward-picker__search'))"
    ));
}

/// The forwards the screens asked for: messages, targets, merged, and the
/// callback for the answers.
type Asked = (
    Vec<MessageId>,
    Vec<Peer>,
    bool,
    yew::Callback<OperationResult>,
);

fn forwards(sent: Vec<Command>) -> Vec<Asked> {
    sent.into_iter()
        .filter_map(|command| match command {
            Command::Forward {
                ids,
                targets,
                merge,
                reply,
            } => Some((ids, targets, merge, reply)),
            _ => None,
        })
        .collect()
}

#[wasm_bindgen_test]
async fn messages_chosen_in_the_timeline_are_forwarded_merged_to_several_targets_found_by_pinyin() {
    let screen = mount(state(three_texts())).await;
    assert!(!exists(".message__select"), "no checkboxes until 多选");
    click("#chat-select");
    until("a checkbox on every message", || {
        count(".message__select") == 3
    })
    .await;
    assert!(exists("#forward-bar") && !exists("#composer"));
    assert_eq!(
        text("document.querySelector('.forward-bar__count').textContent"),
        "已选 0 条"
    );
    tick_message(3);
    tick_message(1);
    settle().await;
    assert_eq!(
        text("document.querySelector('.forward-bar__count').textContent"),
        "已选 2 条"
    );

    click("#forward-merged");
    until("the picker opens", || {
        exists("#forward-picker[data-merge=\"true\"]")
    })
    .await;
    // Recent conversations (技术部 and 张伟), then the people not among them;
    // never oneself.
    assert_eq!(
        count(".forward-picker__section[data-section=\"recent\"] .forward-picker__target"),
        2
    );
    assert_eq!(
        count(".forward-picker__section[data-section=\"people\"] .forward-picker__target"),
        2
    );
    assert!(!exists(
        ".forward-picker__target[data-peer=\"13800000001\"]"
    ));

    search("ly");
    until("刘洋 found by his initials", || {
        count(".forward-picker__target") == 1
            && exists(".forward-picker__target[data-peer=\"13800000004\"]")
    })
    .await;
    click(".forward-picker__target[data-peer=\"13800000004\"] input");
    search("技术");
    until("技术部 found by name", || {
        count(".forward-picker__target") == 1 && exists(".forward-picker__target[data-peer=\"1\"]")
    })
    .await;
    click(".forward-picker__target[data-peer=\"1\"] input");
    settle().await;
    assert_eq!(
        text("document.querySelector('#forward-send').textContent.trim()"),
        "发送 (2)"
    );
    click("#forward-send");
    settle().await;

    let asked = forwards(screen.driver.sent());
    let [(ids, targets, merge, reply)] = asked.as_slice() else {
        panic!("one forward asked: {} of them", asked.len());
    };
    assert_eq!(ids, &[MessageId(1), MessageId(3)], "oldest first");
    assert_eq!(targets, &[Peer::User(liu()), tech()]);
    assert!(*merge);
    // One record per target: the picker waits for both answers.
    reply.emit(Ok(Outcome::Forwarded(MessageId(100))));
    settle().await;
    assert!(exists("#forward-picker"), "one answer of two");
    reply.emit(Ok(Outcome::Forwarded(MessageId(101))));
    until("done: the picker and the mode close", || {
        !exists("#forward-picker") && !exists("#forward-bar") && !exists(".message__select")
    })
    .await;
    drop(screen);
}

#[wasm_bindgen_test]
async fn a_forward_one_by_one_that_is_not_sent_says_why_and_cancel_leaves_the_mode() {
    let screen = mount(state(three_texts())).await;
    click("#chat-select");
    until("checkboxes", || count(".message__select") == 3).await;
    tick_message(2);
    settle().await;
    click("#forward-one");
    until("the picker opens", || {
        exists("#forward-picker[data-merge=\"false\"]")
    })
    .await;
    click(".forward-picker__target[data-peer=\"13800000003\"] input");
    settle().await;
    click("#forward-send");
    settle().await;
    let asked = forwards(screen.driver.sent());
    let [(ids, targets, merge, reply)] = asked.as_slice() else {
        panic!("one forward asked");
    };
    assert_eq!(
        (ids.as_slice(), targets.as_slice(), *merge),
        (&[MessageId(2)][..], &[Peer::User(zhang())][..], false)
    );
    reply.emit(Err(OperationFailure::NotSent(OperationError::Offline)));
    until("the reason is shown", || exists("#forward-error")).await;
    assert!(text("document.querySelector('#forward-error').textContent").starts_with("转发失败"));
    click("#forward-picker-cancel");
    settle().await;
    assert!(
        !exists("#forward-picker") && exists("#forward-bar"),
        "still choosing"
    );
    click("#forward-cancel");
    until("the composer is back", || {
        !exists("#forward-bar") && !exists(".message__select")
    })
    .await;
    drop(screen);
}

#[wasm_bindgen_test]
async fn a_message_s_menu_forwards_it_alone_or_starts_the_multi_select_from_it() {
    let screen = mount(state(three_texts())).await;
    until("the messages", || count("#chat .message[data-id]") == 3).await;
    right_click_bubble(1);
    until("the menu opens", || {
        exists("#message-menu [data-action=\"forward\"]")
    })
    .await;
    click("#message-menu [data-action=\"forward\"]");
    until("the picker for that message alone", || {
        exists("#forward-picker[data-merge=\"false\"]") && !exists("#message-menu")
    })
    .await;
    assert!(!exists("#forward-bar"), "no multi-select for one message");
    click(".forward-picker__target[data-peer=\"1\"] input");
    settle().await;
    click("#forward-send");
    settle().await;
    let asked = forwards(screen.driver.sent());
    let [(ids, targets, merge, reply)] = asked.as_slice() else {
        panic!("one forward asked");
    };
    assert_eq!(
        (ids.as_slice(), targets.as_slice(), *merge),
        (&[MessageId(1)][..], &[tech()][..], false)
    );
    reply.emit(Ok(Outcome::Forwarded(MessageId(100))));
    until("done", || !exists("#forward-picker")).await;

    right_click_bubble(3);
    until("the menu opens", || {
        exists("#message-menu [data-action=\"select\"]")
    })
    .await;
    click("#message-menu [data-action=\"select\"]");
    until("the mode starts with it ticked", || {
        exists("#forward-bar") && count(".message__select:checked") == 1
    })
    .await;
    assert_eq!(
        text("document.querySelector('.forward-bar__count').textContent"),
        "已选 1 条"
    );
    drop(screen);
}

fn item(from: UserId, kind: MessageType, content: &str, minute: i64) -> ChatRecordItem {
    ChatRecordItem {
        from,
        kind,
        content: content.into(),
        ts: BASE_TS + minute * 60_000,
        time: String::new(),
        duration: None,
        name: None,
        size: None,
    }
}

#[wasm_bindgen_test]
async fn a_chat_record_shows_its_title_and_lines_and_opens_a_viewer_with_senders_and_times() {
    let one_to_one = ChatRecord {
        source: Peer::User(li()),
        items: vec![
            item(li(), MessageType::Text, "方案在这", 1),
            item(
                zhang(),
                MessageType::Image,
                "0123456789abcdef0123456789abcdef.png",
                2,
            ),
            item(li(), MessageType::Text, "收到", 3),
            item(zhang(), MessageType::Text, "第四条不在气泡里", 4),
        ],
    };
    let from_group = ChatRecord {
        source: tech(),
        items: vec![item(liu(), MessageType::GroupText, "上线了", 5)],
    };
    let record = |id, record: &ChatRecord| {
        message(
            id,
            zhang(),
            me(),
            MessageType::ChatRecord,
            &serde_json::to_string(record).expect("encodes"),
        )
    };
    let screen = mount(state(vec![record(1, &one_to_one), record(2, &from_group)])).await;
    until("two record bubbles", || count(".chat-record") == 2).await;
    let title = |id: u64| {
        text(&format!(
            "document.querySelector('.message[data-id=\"{id}\"] .chat-record__title').textContent"
        ))
    };
    assert_eq!(title(1), "李娜和张伟的聊天记录");
    assert_eq!(title(2), "技术部的聊天记录");
    assert_eq!(
        count(".message[data-id=\"1\"] .chat-record__line"),
        3,
        "the first lines"
    );
    assert_eq!(
        text("document.querySelector('.message[data-id=\"1\"] .chat-record__line').textContent"),
        "李娜：方案在这"
    );

    click(".message[data-id=\"1\"] .chat-record");
    until("the viewer opens", || exists(".record-viewer")).await;
    assert_eq!(count(".record-viewer .record-item"), 4);
    let senders = text(
        "[...document.querySelectorAll('.record-viewer .record-item__sender')].map(e => e.textContent).join(',')",
    );
    assert_eq!(senders, "李娜,张伟,李娜,张伟");
    assert_eq!(
        text("document.querySelector('.record-viewer .record-item__time').textContent"),
        "2026-11-27 12:01:00",
        "the original time, in the reader's zone"
    );
    assert!(
        exists(".record-viewer .record-item[data-from=\"13800000003\"] .record-item__body img"),
        "the image inside is shown"
    );
    click(".record-viewer__close");
    until("closed", || !exists(".record-viewer")).await;
    drop(screen);
}
