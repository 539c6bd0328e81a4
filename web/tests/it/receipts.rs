//! Read receipts on screen (§16), over the screens' fake driver: the
//! 已读/未读 and "N人未读" labels follow the marks the driver reports, the
//! read list names who read, 加急 asks first and says how it went, a
//! reminder shows as a banner, what is on screen is reported read, and the
//! 发送已读回执 switch.

use crate::dom::{click, exists, js};
use crate::screens::{
    Mounted, mount, operations, right_click_bubble, settle, signed_in, text, until,
};
use penpen_core::cache::Conversation;
use penpen_core::packets::directory::{Contact, Directory};
use penpen_core::packets::message::{Message, Quote};
use penpen_core::packets::profile::Presence;
use penpen_core::packets::receipts::{DingNotice, GroupReads, MemberRead};
use penpen_core::receipts::GroupReceipts;
use penpen_core::sync::{Operation, Outcome};
use penpen_core::testing::{gid, group, message, user};
use penpen_core::{DepartmentId, ErrorReply, JobId, MessageId, Peer, State};
use penpen_web::state::{AppState, Command, OpenConversation, OperationFailure, Update};
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen_test::*;

fn tech() -> Peer {
    Peer::Group(gid(1))
}

/// The directory's names: 王总 (the user, 1), 张伟 (3), 陈静 (5).
fn directory() -> Rc<Directory> {
    let contact = |n: u64, name: &str| Contact {
        name: name.into(),
        user: user(n),
        department: DepartmentId(1),
        job: JobId(1),
        signing: String::new(),
        presence: Presence::Online,
    };
    Rc::new(Directory {
        state: State::SUCCESS,
        departments: BTreeMap::from([(DepartmentId(1), "技术部".into())]),
        jobs: BTreeMap::from([(JobId(1), "工程师".into())]),
        contacts: vec![contact(1, "王总"), contact(3, "张伟"), contact(5, "陈静")],
    })
}

/// 技术部 open: the user's message 10, then 张伟's 11.
fn group_chat() -> AppState {
    let mut open = OpenConversation::new(tech());
    open.merge(&[
        message(10, 1, tech(), "下午三点开会"),
        message(11, 3, tech(), "收到"),
    ]);
    open.loading_older = false;
    open.complete = true;
    AppState {
        open: Some(Rc::new(open)),
        groups: Rc::new(vec![group(1, "技术部", &[1, 3, 5])]),
        groups_known: true,
        directory: Some(directory()),
        ..signed_in()
    }
}

fn mark(n: u64, read: Option<u64>) -> MemberRead {
    MemberRead {
        user: user(n),
        id: read.map(MessageId),
        joined: None,
        left: None,
        private: false,
    }
}

/// Applies `marks` (a full list, or changes) and reports the result as the
/// driver does after `ReadsChanged`.
fn report(screen: &Mounted, receipts: &mut GroupReceipts, full: bool, marks: Vec<MemberRead>) {
    receipts.apply(&GroupReads {
        target: gid(1),
        full,
        marks,
    });
    screen.driver.update(Update::GroupReceipts(
        gid(1),
        Some(Rc::new(receipts.clone())),
    ));
}

fn label_of(id: u64) -> String {
    text(&format!(
        "(m => m ? m.textContent : '')(document.querySelector('#chat .message[data-id=\"{id}\"] .receipt'))"
    ))
}

fn people(list: &str) -> Vec<String> {
    let joined = text(&format!(
        "Array.from(document.querySelectorAll('#{list} [data-user]')).map(p => p.dataset.user).join(',')"
    ));
    joined
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn rendered(id: u64) {
    until("the chat renders", || {
        exists(&format!("#chat .message[data-id=\"{id}\"]"))
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_group_message_counts_who_has_not_read_it_and_lists_them_live() {
    let screen = mount(group_chat()).await;
    rendered(11).await;
    assert_eq!(label_of(10), "", "nothing until the full list came");

    let mut receipts = GroupReceipts::default();
    report(
        &screen,
        &mut receipts,
        true,
        vec![mark(1, Some(10)), mark(3, None), mark(5, None)],
    );
    settle().await;
    assert_eq!(label_of(10), "2人未读");
    assert_eq!(label_of(11), "", "nothing under others' messages");

    report(&screen, &mut receipts, false, vec![mark(3, Some(11))]);
    settle().await;
    assert_eq!(label_of(10), "1人未读");

    click("#chat .message[data-id=\"10\"] .receipt");
    settle().await;
    assert!(exists("#read-list[data-id=\"10\"]"));
    assert_eq!(people("read-list-read"), [user(3).to_string()]);
    assert_eq!(people("read-list-unread"), [user(5).to_string()]);
    assert!(
        text("document.querySelector('#read-list-read').textContent").contains("张伟"),
        "named from the directory"
    );
    assert!(exists("#read-list-remind"));

    // The list follows the marks while it is open.
    report(&screen, &mut receipts, false, vec![mark(5, Some(11))]);
    settle().await;
    assert_eq!(
        people("read-list-read"),
        [user(3).to_string(), user(5).to_string()]
    );
    assert!(people("read-list-unread").is_empty());
    assert!(!exists("#read-list-remind"), "nobody left to remind");
    click("#read-list-close");
    settle().await;
    assert!(!exists("#read-list"));
    assert_eq!(label_of(10), "全部已读");
}

#[wasm_bindgen_test]
async fn a_member_without_receipts_is_unknown_and_a_late_joiner_is_not_counted() {
    let screen = mount(group_chat()).await;
    rendered(11).await;
    let mut receipts = GroupReceipts::default();
    report(
        &screen,
        &mut receipts,
        true,
        vec![
            mark(1, Some(11)),
            mark(3, Some(11)),
            MemberRead {
                private: true,
                ..mark(5, None)
            },
            MemberRead {
                joined: Some(MessageId(10)),
                ..mark(7, None)
            },
        ],
    );
    settle().await;
    assert_eq!(label_of(10), "0人未读", "not 全部已读 while one is unknown");
    click("#chat .message[data-id=\"10\"] .receipt");
    settle().await;
    assert_eq!(people("read-list-unknown"), [user(5).to_string()]);
    assert!(
        text("document.querySelector('#read-list').textContent").contains("未开启已读回执 (1)")
    );
    assert!(people("read-list-unread").is_empty(), "7 joined after it");
}

#[wasm_bindgen_test]
async fn remind_unread_asks_first_then_sends_a_ding_and_says_how_it_went() {
    let screen = mount(group_chat()).await;
    rendered(11).await;
    let mut receipts = GroupReceipts::default();
    report(
        &screen,
        &mut receipts,
        true,
        vec![mark(1, Some(11)), mark(3, Some(11)), mark(5, None)],
    );
    settle().await;
    click("#chat .message[data-id=\"10\"] .receipt");
    settle().await;
    click("#read-list-remind");
    settle().await;
    assert!(operations(&screen.driver).is_empty(), "asked first");
    click("#read-list-remind-confirm");
    settle().await;
    let sent = operations(&screen.driver);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, Operation::Ding { id: MessageId(10) });
    sent[0].1.emit(Ok(Outcome::Done));
    settle().await;
    assert_eq!(
        text("document.querySelector('#message-action-done span').textContent"),
        "已加急提醒"
    );
    // A success note goes by itself.
    gloo::timers::future::TimeoutFuture::new(3_300).await;
    settle().await;
    assert!(!exists("#message-action-done"));

    // From the bubble's menu, refused: the server's reason is shown.
    right_click_bubble(10);
    settle().await;
    click("#message-menu [data-action=\"ding\"]");
    settle().await;
    assert_eq!(operations(&screen.driver).len(), 1, "asked first");
    click("#message-menu [data-action=\"ding-confirm\"]");
    settle().await;
    let sent = operations(&screen.driver);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].0, Operation::Ding { id: MessageId(10) });
    sent[1]
        .1
        .emit(Err(OperationFailure::Refused(ErrorReply::new(
            State::RATE_LIMITED,
            "reminded less than a minute ago; wait 42 s",
        ))));
    settle().await;
    let error = text("document.querySelector('#message-action-error').textContent");
    assert!(error.contains("wait 42 s"), "{error}");

    // Once everyone read it, the menu has no 加急; others' messages never do.
    report(&screen, &mut receipts, false, vec![mark(5, Some(11))]);
    settle().await;
    right_click_bubble(10);
    settle().await;
    assert!(exists("#message-menu"));
    assert!(!exists("#message-menu [data-action=\"ding\"]"));
    js("document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))");
    settle().await;
    right_click_bubble(11);
    settle().await;
    assert!(!exists("#message-menu [data-action=\"ding\"]"));
}

fn ding(id: u64, text: &str) -> DingNotice {
    DingNotice {
        target: tech(),
        by: user(3),
        ts: 0,
        message: Quote::of(&message(id, 3, tech(), text)),
    }
}

#[wasm_bindgen_test]
async fn a_reminder_shows_a_banner_that_opens_the_message_or_is_dismissed() {
    let screen = mount(AppState {
        directory: Some(directory()),
        ..signed_in()
    })
    .await;
    assert!(!exists("#ding-banner"));
    screen.driver.update(Update::Dings(Rc::new(vec![
        ding(20, "请今天下班前回复"),
        ding(21, "在吗"),
    ])));
    settle().await;
    assert_eq!(
        text("document.querySelector('#ding-banner').dataset.id"),
        "20",
        "the oldest first"
    );
    let banner = text("document.querySelector('#ding-banner').textContent");
    assert!(
        banner.contains("张伟 加急提醒你：请今天下班前回复"),
        "{banner}"
    );
    assert!(banner.contains("另有 1 条加急"), "{banner}");
    click("#ding-view");
    click("#ding-dismiss");
    let sent = screen.driver.sent();
    assert!(sent.contains(&Command::OpenAt(tech(), MessageId(20))));
    assert!(sent.contains(&Command::DismissDing(MessageId(20))));
    screen.driver.update(Update::Dings(Rc::new(Vec::new())));
    settle().await;
    assert!(!exists("#ding-banner"));
}

/// A long 1:1 history with 张伟 (3), opened at the bottom.
fn long_chat(last: u64) -> AppState {
    let peer = Peer::User(user(3));
    let messages: Vec<Message> = (1..=last)
        .map(|id| {
            let from = if id % 2 == 0 { 1 } else { 3 };
            let to = if from == 1 { user(3) } else { user(1) };
            message(id, from, Peer::User(to), "一条消息\n第二行")
        })
        .collect();
    let mut open = OpenConversation::new(peer);
    open.merge(&messages);
    open.loading_older = false;
    open.complete = true;
    AppState {
        open: Some(Rc::new(open)),
        ..signed_in()
    }
}

fn seen(screen: &Mounted) -> Vec<u64> {
    screen
        .driver
        .sent()
        .into_iter()
        .filter_map(|c| match c {
            Command::Seen(_, id) => Some(id.0),
            _ => None,
        })
        .collect()
}

#[wasm_bindgen_test]
async fn what_is_on_screen_is_reported_read_and_nothing_scrolled_away_from() {
    let screen = mount(long_chat(60)).await;
    until("the newest message is reported seen", || {
        seen(&screen).last() == Some(&60)
    })
    .await;
    assert!(
        seen(&screen).windows(2).all(|w| w[0] < w[1]),
        "only newer ones"
    );

    // Scrolled up, a new message is not on screen: not reported.
    js("document.querySelector('#chat .chat__messages').scrollTop = 0");
    settle().await;
    let before = seen(&screen).len();
    let peer = Peer::User(user(3));
    screen.driver.update(Update::Arrived {
        peer: peer.clone(),
        messages: vec![message(61, 3, Peer::User(user(1)), "新消息")],
        live: true,
    });
    settle().await;
    assert_eq!(seen(&screen).len(), before);
    assert!(!seen(&screen).contains(&61));

    // Back at the bottom it is.
    js("(s => s.scrollTop = s.scrollHeight)(document.querySelector('#chat .chat__messages'))");
    until("the new message is reported once shown", || {
        seen(&screen).last() == Some(&61)
    })
    .await;
    assert!(
        screen
            .driver
            .sent()
            .contains(&Command::Seen(peer, MessageId(61)))
    );
}

#[wasm_bindgen_test]
async fn the_receipts_switch_shows_the_setting_and_changes_it() {
    let screen = mount(signed_in()).await;
    click("#tab-me");
    settle().await;
    assert!(
        js("document.querySelector('#receipts-toggle').disabled") == true,
        "not known yet"
    );
    screen.driver.update(Update::ReceiptsShared(Some(true)));
    settle().await;
    assert!(js("document.querySelector('#receipts-toggle').checked") == true);
    assert!(text("document.querySelector('#me').textContent").contains("未知"));
    click("#receipts-toggle");
    settle().await;
    let sent = operations(&screen.driver);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, Operation::SetReceipts { shared: false });
    sent[0].1.emit(Ok(Outcome::Done));
    screen.driver.update(Update::ReceiptsShared(Some(false)));
    settle().await;
    assert!(js("document.querySelector('#receipts-toggle').checked") == false);
}

#[wasm_bindgen_test]
async fn a_one_to_one_message_shows_read_or_unread_and_nothing_when_private() {
    let mut state = long_chat(6);
    // The user's own messages are the even ones.
    let with_zhang = |peer_read: Option<u64>, private: bool| {
        let mut rows: Vec<Conversation> = (*state_conversations()).clone();
        for row in &mut rows {
            if row.peer == Peer::User(user(3)) {
                row.peer_read = peer_read.map(MessageId);
                row.peer_private = private;
            }
        }
        Update::Conversations(rows, 0)
    };
    state.conversations = state_conversations();
    let screen = mount(state).await;
    rendered(6).await;
    assert_eq!(label_of(6), "未读");
    assert_eq!(label_of(5), "", "nothing under the other person's messages");

    screen.driver.update(with_zhang(Some(4), false));
    settle().await;
    assert_eq!(label_of(4), "已读");
    assert_eq!(label_of(2), "已读");
    assert_eq!(label_of(6), "未读");
    assert!(exists("#chat .message[data-id=\"4\"] .receipt--read"));
    assert!(exists("#chat .message[data-id=\"6\"] .receipt--unread"));

    screen.driver.update(with_zhang(Some(6), false));
    settle().await;
    assert_eq!(label_of(6), "已读");

    screen.driver.update(with_zhang(None, true));
    settle().await;
    assert_eq!(label_of(6), "", "unknown, not unread");
    assert_eq!(label_of(2), "");
}

/// The list of [`signed_in`], whose 1:1 row is 张伟's.
fn state_conversations() -> Rc<Vec<Conversation>> {
    signed_in().conversations
}
