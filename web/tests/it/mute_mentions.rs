//! The @mention picker, the list's mute and "[有人@我]" marks and the mute
//! switches, over the screens' fake driver (`screens`).

use crate::dom::{click, exists, js};
use crate::screens::{count, in_group, me, mount, operations, settle, signed_in, text, zhang};
use penpen_core::packets::directory::{Contact, Directory};
use penpen_core::packets::profile::Presence;
use penpen_core::sync::Operation;
use penpen_core::{DepartmentId, GroupId, JobId, Peer, State, UserId};
use penpen_web::state::{AppState, Command};
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen_test::*;

fn chen() -> UserId {
    UserId::parse("13800000005").expect("an account")
}

fn group() -> Peer {
    Peer::Group(GroupId::new(1).expect("a gid"))
}

/// 技术部 open, with the directory's names (for the picker's pinyin).
fn in_tech_group(holder: UserId) -> AppState {
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
                contact(zhang(), "张伟"),
                contact(chen(), "陈静"),
            ],
        })),
        ..in_group(holder)
    }
}

/// Types `value` into the composer with the caret at its end.
fn type_text(value: &str) {
    js(&format!(
        "(c => {{ c.value = {value:?}; c.setSelectionRange(c.value.length, c.value.length); c.dispatchEvent(new InputEvent('input', {{ bubbles: true }})); }})(document.getElementById('composer'))"
    ));
}

fn key(name: &str) {
    js(&format!(
        "document.getElementById('composer').dispatchEvent(new KeyboardEvent('keydown', {{ key: {name:?}, bubbles: true, cancelable: true }}))"
    ));
}

fn choices() -> Vec<String> {
    let joined = text(
        "Array.from(document.querySelectorAll('#mention-picker .mention-picker__item')).map(i => i.dataset.user).join(',')",
    );
    joined
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn composer() -> String {
    text("document.getElementById('composer').value")
}

#[wasm_bindgen_test]
async fn at_opens_the_member_picker_and_the_keyboard_chooses_by_pinyin() {
    let screen = mount(in_tech_group(zhang())).await;
    type_text("请看 @");
    settle().await;
    assert_eq!(
        choices(),
        [zhang().to_string(), chen().to_string()],
        "members but me, no @所有人"
    );
    type_text("请看 @cj");
    settle().await;
    assert_eq!(choices(), [chen().to_string()], "by pinyin initials");
    type_text("请看 @");
    settle().await;
    key("ArrowDown");
    settle().await;
    assert_eq!(
        text("document.querySelector('#mention-picker [aria-selected=\"true\"]').dataset.user"),
        chen().to_string()
    );
    key("ArrowUp");
    key("ArrowUp");
    settle().await;
    assert_eq!(
        text("document.querySelector('#mention-picker [aria-selected=\"true\"]').dataset.user"),
        chen().to_string(),
        "wraps around"
    );
    key("Enter");
    settle().await;
    assert!(!exists("#mention-picker"));
    assert_eq!(composer(), "请看 @陈静 ");
    assert_eq!(
        screen
            .driver
            .sent()
            .iter()
            .filter(|c| matches!(c, Command::SendText(..) | Command::SendComposed { .. }))
            .count(),
        0,
        "Enter chose; it did not send"
    );
    type_text("请看 @陈静 明天的计划");
    settle().await;
    key("Enter");
    settle().await;
    assert!(screen.driver.sent().contains(&Command::SendComposed {
        peer: group(),
        quote: None,
        text: "请看 @陈静 明天的计划".into(),
        mentions: vec![chen()],
        mention_all: false,
    }));

    // A name deleted from the text drops its mention; Esc closes the picker.
    type_text("@张");
    settle().await;
    assert_eq!(choices(), [zhang().to_string()]);
    key("Enter");
    settle().await;
    type_text("算了");
    type_text("@");
    settle().await;
    key("Escape");
    settle().await;
    assert!(!exists("#mention-picker"));
    type_text("算了");
    key("Enter");
    settle().await;
    assert!(
        screen
            .driver
            .sent()
            .contains(&Command::SendText(group(), "算了".into()))
    );
}

#[wasm_bindgen_test]
async fn the_holder_gets_everyone_first_and_a_click_chooses() {
    let screen = mount(in_tech_group(me())).await;
    type_text("@");
    settle().await;
    assert_eq!(
        choices(),
        ["all".to_owned(), zhang().to_string(), chen().to_string()]
    );
    click("#mention-picker .mention-picker__item[data-user=\"all\"]");
    settle().await;
    assert_eq!(composer(), "@所有人 ");
    type_text("@所有人 下午三点开会");
    key("Enter");
    settle().await;
    assert!(screen.driver.sent().contains(&Command::SendComposed {
        peer: group(),
        quote: None,
        text: "@所有人 下午三点开会".into(),
        mentions: vec![],
        mention_all: true,
    }));
}

#[wasm_bindgen_test]
async fn a_one_to_one_chat_has_no_picker() {
    let _screen = mount(crate::screens::opened(Vec::new())).await;
    type_text("@");
    settle().await;
    assert!(!exists("#mention-picker"));
}

#[wasm_bindgen_test]
async fn the_list_marks_muted_and_mentioned_conversations_and_the_menu_mutes() {
    let mut state = signed_in();
    {
        let rows = Rc::make_mut(&mut state.conversations);
        // The group: muted, unread, mentioned. 张伟: five unread, not muted.
        rows[0].muted = true;
        rows[0].unread = 3;
        rows[0].mentioned = true;
        rows[0].draft.clear();
        rows[1].unread = 5;
    }
    let screen = mount(state).await;
    let row = |peer: &str| format!("#conversation-list .conversation[data-peer=\"{peer}\"]");
    assert!(exists(&format!(
        "{}[data-muted=\"true\"] .conversation__muted",
        row("1")
    )));
    assert!(
        exists(&format!("{} .badge.badge--dot", row("1"))),
        "a muted count is a dot"
    );
    assert_eq!(
        count(&format!("{} .conversation__muted", row("13800000003"))),
        0
    );
    assert_eq!(
        text(&format!(
            "document.querySelector('{} .badge').textContent",
            row("13800000003")
        )),
        "5"
    );
    let preview = text(&format!(
        "document.querySelector('{} .conversation__preview').textContent",
        row("1")
    ));
    assert!(preview.starts_with("[有人@我]"), "{preview}");
    assert!(exists(&format!("{} .conversation__mentioned", row("1"))));
    assert_eq!(
        count(&format!("{} .conversation__mentioned", row("13800000003"))),
        0
    );

    js(&format!(
        "document.querySelector('{} button').dispatchEvent(new MouseEvent('contextmenu', {{ bubbles: true, clientX: 20, clientY: 20 }}))",
        row("13800000003")
    ));
    settle().await;
    click("#conversation-menu [data-action=\"mute\"]");
    settle().await;
    let sent = operations(&screen.driver);
    assert_eq!(
        sent.last().map(|(op, _)| op.clone()),
        Some(Operation::SetMuted {
            peer: Peer::User(zhang()),
            muted: true
        })
    );
    js(&format!(
        "document.querySelector('{} button').dispatchEvent(new MouseEvent('contextmenu', {{ bubbles: true, clientX: 20, clientY: 20 }}))",
        row("1")
    ));
    settle().await;
    assert!(exists("#conversation-menu [data-action=\"unmute\"]"));
}

#[wasm_bindgen_test]
async fn the_group_page_switch_follows_the_row_and_asks_the_server() {
    let mut state = in_tech_group(zhang());
    Rc::make_mut(&mut state.conversations)[0].muted = true;
    let screen = mount(state).await;
    click("#chat-details");
    settle().await;
    assert!(js("document.getElementById('mute-toggle').checked").is_truthy());
    click("#mute-toggle");
    settle().await;
    let sent = operations(&screen.driver);
    assert_eq!(
        sent.last().map(|(op, _)| op.clone()),
        Some(Operation::SetMuted {
            peer: group(),
            muted: false
        })
    );
}
