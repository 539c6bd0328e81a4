//! The chat screens in headless Chromium, over a fake driver: the state is
//! set up by hand, updates are dispatched as the driver would, and the
//! commands the screens send are recorded. No server, no cache. The call
//! screens' tests (`calls`) use the same harness.

use crate::dom::{click, exists, js};
use penpen_core::cache::{
    AccountMeta, Conversation, OutboxEntry, OutboxFile, OutboxState, Preview,
};
use penpen_core::digest::password_digest;
use penpen_core::packets::groups::{Group, Members, MembersAction};
use penpen_core::packets::message::{Message, MessageType, Sender};
use penpen_core::sync::{Connection, Operation, OperationError, Outcome};
use penpen_core::{ClientMsgId, ErrorReply, GroupId, MessageId, Peer, State, UserId};
use penpen_web::calls::CallScreen;
use penpen_web::config::ServerAddress;
use penpen_web::i18n::Lang;
use penpen_web::meetings::MeetingScreen;
use penpen_web::state::{
    AppState, Command, FileAccess, OpenConversation, OperationFailure, OperationResult, Shared,
    Update, UpdateSink, Upload,
};
use penpen_web::ui::Main;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen_test::*;
use yew::prelude::*;

/// 2026-11-27 12:00 UTC: the history's clock (the screens read the real one).
const BASE_TS: i64 = 1_795_752_000_000;

/// The fake driver: what the screens asked for, and a way to report updates.
#[derive(Clone, Default)]
pub(crate) struct Driver {
    commands: Rc<RefCell<Vec<Command>>>,
    dispatch: Rc<RefCell<Option<UpdateSink>>>,
}

impl PartialEq for Driver {
    fn eq(&self, other: &Driver) -> bool {
        Rc::ptr_eq(&self.commands, &other.commands)
    }
}

impl Driver {
    pub(crate) fn update(&self, update: Update) {
        if let Some(sink) = &*self.dispatch.borrow() {
            sink.emit(update);
        }
    }

    pub(crate) fn sent(&self) -> Vec<Command> {
        self.commands.borrow().clone()
    }

    /// Shows `screen` as the call screen, as the driver's call side would.
    pub(crate) fn show_call(&self, screen: CallScreen) {
        self.update(Update::Call(Box::new(screen)));
    }

    fn count(&self, wanted: impl Fn(&Command) -> bool) -> usize {
        self.commands.borrow().iter().filter(|c| wanted(c)).count()
    }
}

#[derive(Properties, PartialEq)]
struct HarnessProps {
    driver: Driver,
    initial: Rc<AppState>,
}

#[component(Harness)]
fn harness(props: &HarnessProps) -> Html {
    let initial = props.initial.clone();
    let state = use_reducer(move || (*initial).clone());
    let upload = use_state(Upload::default);
    let call = use_state(CallScreen::default);
    let meeting = use_state(MeetingScreen::default);
    *props.driver.dispatch.borrow_mut() = Some(UpdateSink {
        state: state.dispatcher(),
        upload: upload.setter(),
        call: call.setter(),
        meeting: meeting.setter(),
    });
    let commands = props.driver.commands.clone();
    let panel = use_state(|| None);
    let shared = Shared {
        state,
        command: Callback::from(move |command| commands.borrow_mut().push(command)),
        lang: Lang::Zh,
        utc_offset_minutes: 480,
        panel,
    };
    html! {
        <ContextProvider<Shared> context={shared}>
            <ContextProvider<Upload> context={*upload}>
            <ContextProvider<CallScreen> context={(*call).clone()}>
            <ContextProvider<MeetingScreen> context={(*meeting).clone()}>
                <Main on_switch_language={Callback::noop()} />
            </ContextProvider<MeetingScreen>>
            </ContextProvider<CallScreen>>
            </ContextProvider<Upload>>
        </ContextProvider<Shared>>
    }
}

pub(crate) struct Mounted {
    pub(crate) driver: Driver,
    app: Option<AppHandle<Harness>>,
    root: web_sys::Element,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
        self.root.remove();
    }
}

pub(crate) async fn mount(state: AppState) -> Mounted {
    let document = gloo::utils::document();
    if document.get_element_by_id("penpen-style").is_none() {
        let style = document.create_element("style").expect("a style element");
        style.set_id("penpen-style");
        style.set_text_content(Some(include_str!("../../style.css")));
        document
            .head()
            .expect("a head")
            .append_child(&style)
            .expect("styles");
    }
    // A failed test panics before its screen is dropped: clear what it left,
    // so the next test's queries see only its own screen.
    js("document.querySelectorAll('body > .app').forEach(old => old.remove())");
    let root = document.create_element("div").expect("a root element");
    root.set_class_name("app");
    document
        .body()
        .expect("a body")
        .append_child(&root)
        .expect("the root");
    let driver = Driver::default();
    let props = HarnessProps {
        driver: driver.clone(),
        initial: Rc::new(state),
    };
    let app = yew::Renderer::<Harness>::with_root_and_props(root.clone(), props).render();
    settle().await;
    Mounted {
        driver,
        app: Some(app),
        root,
    }
}

/// Lets the browser fire scroll events, then Yew render and run its effects.
/// Firefox fires a scroll event at the next frame, which may come later than
/// any fixed pause, so two frames are waited for first.
pub(crate) async fn settle() {
    for _ in 0..2 {
        next_frame().await;
    }
    gloo::timers::future::TimeoutFuture::new(120).await;
}

async fn next_frame() {
    let frame = js_sys::Promise::new(&mut |resolve, _| {
        gloo::utils::window()
            .request_animation_frame(&resolve)
            .expect("an animation frame");
    });
    wasm_bindgen_futures::JsFuture::from(frame)
        .await
        .expect("an animation frame");
}

/// Waits (up to 3 s: a loaded test machine renders slowly) until `holds`.
pub(crate) async fn until(what: &str, holds: impl Fn() -> bool) {
    for _ in 0..60 {
        if holds() {
            return;
        }
        gloo::timers::future::TimeoutFuture::new(50).await;
    }
    panic!("{what}: not within 3 s");
}

fn number(code: &str) -> f64 {
    js(code)
        .as_f64()
        .unwrap_or_else(|| panic!("{code} is not a number"))
}

pub(crate) fn text(code: &str) -> String {
    js(code)
        .as_string()
        .unwrap_or_else(|| panic!("{code} is not a string"))
}

pub(crate) fn count(css: &str) -> usize {
    number(&format!("document.querySelectorAll('{css}').length")) as usize
}

const SCROLLER: &str = "document.querySelector('#chat .chat__messages')";

fn from_bottom() -> f64 {
    number(&format!(
        "(s => s.scrollHeight - s.scrollTop - s.clientHeight)({SCROLLER})"
    ))
}

/// Scrolls the chat to `top` and says which row was first on screen then,
/// and where it was.
fn scroll_to(top: &str) -> (String, f64) {
    let probe = format!(
        "(s => {{
            s.scrollTop = {top};
            const box = s.getBoundingClientRect();
            const row = [...s.querySelectorAll('.chat__row')]
                .find(r => r.getBoundingClientRect().bottom > box.top);
            return row.dataset.key + ' ' + (row.getBoundingClientRect().top - box.top);
        }})({SCROLLER})"
    );
    let found = text(&probe);
    let (key, at) = found.split_once(' ').expect("a key and a position");
    (key.to_owned(), at.parse().expect("a position"))
}

fn position_of(key: &str) -> f64 {
    number(&format!(
        "(s => s.querySelector('[data-key=\"{key}\"]').getBoundingClientRect().top
            - s.getBoundingClientRect().top)({SCROLLER})"
    ))
}

pub(crate) fn me() -> UserId {
    UserId::parse("13800000001").expect("an account")
}

pub(crate) fn zhang() -> UserId {
    UserId::parse("13800000003").expect("an account")
}

fn li() -> UserId {
    UserId::parse("13800000005").expect("an account")
}

fn group() -> Peer {
    Peer::Group(GroupId::new(1).expect("a gid"))
}

/// Messages with `ids` between me and 张伟, of varied heights, a quiet
/// spell (and so a time line) every ten.
fn history(ids: std::ops::RangeInclusive<u64>) -> Vec<Message> {
    ids.map(|id| {
        let mut content = format!("消息 {id}");
        if id % 3 == 0 {
            content.push_str("\n第二行");
        }
        if id % 7 == 0 {
            content.push_str(&" 一段比较长的文字，会在气泡里折成好几行。".repeat(6));
        }
        let (from, to) = if id % 2 == 0 {
            (me(), zhang())
        } else {
            (zhang(), me())
        };
        Message {
            quote: None,
            mentions: None,
            mention_all: false,
            recalled: None,
            name: None,
            size: None,
            from: Sender::User(from),
            to: Peer::User(to),
            kind: MessageType::Text,
            content,
            time: String::new(),
            ts: BASE_TS + id as i64 * 60_000 + (id / 10) as i64 * 600_000,
            id: MessageId(id),
            seq: None,
            cid: None,
            duration: None,
        }
    })
    .collect()
}

pub(crate) fn signed_in() -> AppState {
    let with_zhang = Conversation {
        last: Some(Preview {
            id: Some(MessageId(9)),
            from: Some(zhang()),
            kind: MessageType::Text,
            content: "下午开会".into(),
            ts: BASE_TS,
        }),
        unread: 120,
        ..Conversation::new(Peer::User(zhang()))
    };
    let in_group = Conversation {
        last: Some(Preview {
            id: Some(MessageId(8)),
            from: Some(li()),
            kind: MessageType::GroupImage,
            content: "a.png".into(),
            ts: BASE_TS - 1,
        }),
        marked_unread: true,
        pinned_at: Some(BASE_TS),
        draft: "还没写完".into(),
        ..Conversation::new(group())
    };
    AppState {
        account: Some(AccountMeta::new(me(), "王总".into(), false)),
        connection: Connection::Connected,
        conversations: Rc::new(vec![in_group, with_zhang]),
        unread_total: 120,
        caught_up: true,
        ..AppState::default()
    }
}

pub(crate) fn opened(messages: Vec<Message>) -> AppState {
    let mut open = OpenConversation::new(Peer::User(zhang()));
    open.merge(&messages);
    open.loading_older = false;
    AppState {
        open: Some(Rc::new(open)),
        ..signed_in()
    }
}

#[wasm_bindgen_test]
async fn a_long_history_keeps_a_window_in_the_dom_and_never_jumps() {
    let screen = mount(opened(history(1..=10_000))).await;
    until("the newest window renders", || {
        count("#chat .message") == 100 && exists("#chat .message[data-id=\"10000\"]")
    })
    .await;
    until("opens at the bottom", || from_bottom() <= 2.0).await;

    for _ in 0..4 {
        let (key, before) = scroll_to("0");
        settle().await;
        let after = position_of(&key);
        assert!(
            (after - before).abs() <= 1.0,
            "row {key} moved from {before} to {after} when the window slid"
        );
        assert!(count("#chat .message") <= 120);
    }
    assert!(
        exists("#chat .message[data-id=\"9750\"]"),
        "the window slid up"
    );
    assert!(!exists("#chat .message[data-id=\"10000\"]"));

    // Back down: the window slides the other way, still anchored.
    for _ in 0..8 {
        let (key, before) = scroll_to("s.scrollHeight");
        settle().await;
        let after = position_of(&key);
        assert!(
            (after - before).abs() <= 1.0,
            "row {key} moved from {before} to {after} going down"
        );
    }
    assert!(exists("#chat .message[data-id=\"10000\"]"));
    assert_eq!(screen.driver.count(|c| *c == Command::LoadOlder), 0);
}

#[wasm_bindgen_test]
async fn the_top_asks_for_older_pages_once_and_they_arrive_in_place() {
    let screen = mount(opened(history(201..=300))).await;
    let driver = &screen.driver;
    let older = |c: &Command| *c == Command::LoadOlder;

    scroll_to("0");
    settle().await;
    assert_eq!(driver.count(older), 1);
    assert!(exists("#chat .chat__status[data-state=\"loading\"]"));
    scroll_to("1");
    settle().await;
    assert_eq!(driver.count(older), 1, "asked once while waiting");

    let (key, before) = scroll_to("0");
    driver.update(Update::Older {
        peer: Peer::User(zhang()),
        messages: history(151..=200),
        complete: false,
    });
    settle().await;
    let after = position_of(&key);
    assert!(
        (after - before).abs() <= 1.0,
        "row {key} moved from {before} to {after}"
    );
    assert!(count("#chat .message") <= 120);

    // Up to the start of what is loaded, then the next page, then the end.
    for _ in 0..6 {
        scroll_to("0");
        settle().await;
    }
    assert_eq!(driver.count(older), 2);
    driver.update(Update::Older {
        peer: Peer::User(zhang()),
        messages: history(1..=150),
        complete: true,
    });
    settle().await;
    for _ in 0..12 {
        scroll_to("0");
        settle().await;
    }
    assert!(exists("#chat .message[data-id=\"1\"]"));
    assert_eq!(
        text("document.querySelector('#chat .chat__status').dataset.state"),
        "complete"
    );
    assert_eq!(driver.count(older), 2);
}

#[wasm_bindgen_test]
async fn new_messages_keep_the_bottom_or_offer_a_jump() {
    let screen = mount(opened(history(1..=100))).await;
    let arrive = |id: u64| {
        screen.driver.update(Update::Arrived {
            peer: Peer::User(zhang()),
            messages: history(id..=id),
            live: true,
        })
    };
    arrive(101);
    settle().await;
    assert!(from_bottom() <= 2.0);
    assert!(!exists("#jump-new"));

    scroll_to("s.scrollTop - 800");
    settle().await;
    arrive(103);
    settle().await;
    assert!(from_bottom() > 2.0, "scrolled up stays put");
    assert!(exists("#jump-new"));
    js("document.getElementById('jump-new').click()");
    settle().await;
    assert!(from_bottom() <= 2.0);
    assert!(!exists("#jump-new"));
}

#[wasm_bindgen_test]
async fn enter_sends_trimmed_text_but_not_while_composing() {
    let mut state = opened(history(1..=5));
    Rc::make_mut(&mut state.conversations)[1].draft = "草稿".into();
    let screen = mount(state).await;
    let driver = &screen.driver;
    let peer = Peer::User(zhang());
    assert_eq!(text("document.getElementById('composer').value"), "草稿");

    let type_text = |value: &str| {
        js(&format!(
            "(c => {{ c.value = {value:?}; c.dispatchEvent(new InputEvent('input', {{ bubbles: true }})); }})(document.getElementById('composer'))"
        ));
    };
    let enter = |extra: &str| {
        js(&format!(
            "document.getElementById('composer').dispatchEvent(new KeyboardEvent('keydown', {{ key: 'Enter', bubbles: true, cancelable: true, {extra} }}))"
        ));
    };
    type_text("  你好  ");
    settle().await;
    enter("isComposing: true");
    enter("shiftKey: true");
    settle().await;
    assert_eq!(driver.count(|c| matches!(c, Command::SendText(..))), 0);
    enter("");
    settle().await;
    let sent = driver.sent();
    assert!(sent.contains(&Command::SendText(peer.clone(), "你好".into())));
    // The old draft is cleared with the send.
    assert!(sent.contains(&Command::Draft(peer.clone(), String::new())));
    assert_eq!(text("document.getElementById('composer').value"), "");

    type_text(&"字".repeat(5_001));
    settle().await;
    assert!(exists("#composer-error"));
    assert!(exists("#composer-count.composer__count--over"));
    assert!(js("document.getElementById('send').disabled").is_truthy());
    enter("");
    settle().await;
    assert_eq!(driver.count(|c| matches!(c, Command::SendText(..))), 1);
}

#[wasm_bindgen_test]
async fn drafts_are_kept_after_a_pause_and_on_leaving() {
    let screen = mount(opened(history(1..=5))).await;
    let driver = &screen.driver;
    let peer = Peer::User(zhang());
    let type_text = |value: &str| {
        js(&format!(
            "(c => {{ c.value = {value:?}; c.dispatchEvent(new InputEvent('input', {{ bubbles: true }})); }})(document.getElementById('composer'))"
        ));
    };
    type_text("写了");
    settle().await;
    type_text("写了一半");
    settle().await;
    assert_eq!(driver.count(|c| matches!(c, Command::Draft(..))), 0);
    gloo::timers::future::TimeoutFuture::new(1_100).await;
    let drafts = |c: &Command| matches!(c, Command::Draft(..));
    assert_eq!(driver.count(drafts), 1);
    assert!(
        driver
            .sent()
            .contains(&Command::Draft(peer.clone(), "写了一半".into()))
    );

    type_text("写了一半。");
    driver.update(Update::Closed);
    settle().await;
    assert_eq!(
        driver.count(|c| *c == Command::Draft(peer.clone(), "写了一半。".into())),
        1
    );
    assert!(exists("#chat-empty"));
}

#[wasm_bindgen_test]
async fn the_list_shows_badges_drafts_pins_and_opens_on_click() {
    let screen = mount(signed_in()).await;
    let row = |peer: &str| format!("#conversation-list .conversation[data-peer=\"{peer}\"]");
    let first = text("document.querySelector('#conversation-list .conversation').dataset.peer");
    assert_eq!(first, "1", "the pinned group comes first");
    assert_eq!(
        text(&format!(
            "document.querySelector('{} .badge').textContent",
            row("13800000003")
        )),
        "99+"
    );
    assert!(exists(&format!("{} .badge.badge--dot", row("1"))));
    assert!(exists(&format!("{}[data-pinned=\"true\"]", row("1"))));
    let group_preview = text(&format!(
        "document.querySelector('{} .conversation__preview').textContent",
        row("1")
    ));
    assert_eq!(group_preview, "[草稿] 还没写完");
    let preview = text(&format!(
        "document.querySelector('{} .conversation__preview').textContent",
        row("13800000003")
    ));
    assert_eq!(preview, "下午开会");
    assert_eq!(gloo::utils::document().title(), "(120) penpen");

    js(&format!(
        "document.querySelector('{} button').click()",
        row("13800000003")
    ));
    settle().await;
    assert_eq!(
        screen.driver.sent(),
        vec![Command::Open(Peer::User(zhang()))]
    );
}

#[wasm_bindgen_test]
async fn the_menu_opens_on_right_click_and_closes_on_escape_or_outside() {
    let screen = mount(signed_in()).await;
    let driver = &screen.driver;
    let right_click = || {
        js(
            "(r => r.dispatchEvent(new MouseEvent('contextmenu', { bubbles: true, cancelable: true, button: 2, clientX: r.getBoundingClientRect().left + 10, clientY: r.getBoundingClientRect().top + 10 })))(document.querySelector('.conversation[data-peer=\"13800000003\"]'))",
        );
    };
    right_click();
    settle().await;
    assert!(exists("#conversation-menu [data-action=\"pin\"]"));
    assert!(exists("#conversation-menu [data-action=\"read\"]"));
    js("document.querySelector('#conversation-menu [data-action=\"pin\"]').click()");
    settle().await;
    assert!(
        driver
            .sent()
            .contains(&Command::Pin(Peer::User(zhang()), true))
    );
    assert!(!exists("#conversation-menu"));

    right_click();
    settle().await;
    js("document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))");
    settle().await;
    assert!(!exists("#conversation-menu"));

    right_click();
    settle().await;
    js("document.body.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true }))");
    settle().await;
    assert!(!exists("#conversation-menu"));

    right_click();
    settle().await;
    js("document.querySelector('#conversation-menu [data-action=\"delete\"]').click()");
    settle().await;
    assert_eq!(
        driver.count(|c| matches!(c, Command::Delete(_))),
        0,
        "asks first"
    );
    js("document.querySelector('#conversation-menu [data-action=\"confirm-delete\"]').click()");
    settle().await;
    assert!(
        driver
            .sent()
            .contains(&Command::Delete(Peer::User(zhang())))
    );
}

#[wasm_bindgen_test]
async fn the_indicator_counts_queued_messages_and_offers_a_retry_offline() {
    let screen = mount(signed_in()).await;
    assert_eq!(
        text("document.getElementById('connection').dataset.state"),
        "connected"
    );
    screen
        .driver
        .update(Update::Connection(Connection::Offline, 2));
    settle().await;
    assert_eq!(
        text("document.getElementById('connection').dataset.state"),
        "offline"
    );
    assert!(text("document.getElementById('connection').textContent").contains("2 条待发送"));
    js("document.getElementById('reconnect').click()");
    settle().await;
    assert_eq!(screen.driver.sent(), vec![Command::Reconnect]);
}

#[wasm_bindgen_test]
async fn own_messages_show_whether_they_are_sent_queued_or_failed() {
    let mut state = opened(history(1..=4));
    let entry = |cid: &str, state: OutboxState| OutboxEntry {
        mentions: None,
        mention_all: false,
        cid: ClientMsgId::parse(cid).expect("a cid"),
        order: 1,
        to: Peer::User(zhang()),
        kind: MessageType::Text,
        content: format!("待发 {cid}"),
        created_ts: BASE_TS + 10 * 60_000,
        state,
        file: None,
        quote: None,
        upload: None,
    };
    if let Some(open) = state.open.as_mut().map(Rc::make_mut) {
        open.outbox = vec![
            entry("queued-1", OutboxState::Queued),
            entry(
                "failed-1",
                OutboxState::Failed {
                    state: 13,
                    reason: "对方不在讨论组中".into(),
                },
            ),
        ];
    }
    let screen = mount(state).await;
    assert_eq!(count("#chat .message__state[data-state=\"sent\"]"), 2);
    assert_eq!(count("#chat .message__state[data-state=\"queued\"]"), 1);
    assert!(exists("#chat .message[data-cid=\"queued-1\"]"));
    js("document.querySelector('#chat .message__state[data-state=\"failed\"]').click()");
    settle().await;
    assert!(
        text("document.querySelector('.message__failure').textContent")
            .contains("对方不在讨论组中")
    );
    js("document.querySelector('.message__retry').click()");
    settle().await;
    // A history this short also asks for older messages at once.
    let retry = Command::Retry(ClientMsgId::parse("failed-1").expect("a cid"));
    assert_eq!(screen.driver.count(|c| *c == retry), 1);
}

/// Sets an input's value as typing would, firing `input`.
fn fill(css: &str, value: &str) {
    js(&format!(
        "(f => {{ f.value = {value:?}; f.dispatchEvent(new Event('input', {{ bubbles: true }})); }})(document.querySelector('{css}'))"
    ));
}

/// The operations the screens asked for, with the callbacks that answer them.
pub(crate) fn operations(driver: &Driver) -> Vec<(Operation, Callback<OperationResult>)> {
    driver
        .sent()
        .into_iter()
        .filter_map(|c| match c {
            Command::Perform(operation, reply) => Some((operation, reply)),
            _ => None,
        })
        .collect()
}

#[wasm_bindgen_test]
async fn a_password_change_is_checked_here_then_sent_as_digests() {
    let screen = mount(signed_in()).await;
    click("#tab-me");
    settle().await;
    fill("#password-current", "penpen2026");
    fill("#password-new", "新密码2027");
    fill("#password-confirm", "新密码2028");
    click("#password-save");
    settle().await;
    assert_eq!(
        text("document.querySelector('#password-status').textContent"),
        "两次输入的新密码不一致"
    );
    assert!(operations(&screen.driver).is_empty(), "nothing is sent");

    fill("#password-confirm", "新密码2027");
    click("#password-save");
    settle().await;
    let sent = operations(&screen.driver);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].0,
        Operation::ChangePassword {
            old_digest: password_digest("penpen2026"),
            new_digest: password_digest("新密码2027"),
        }
    );
    // The server's refusal is shown in words; then a success clears the form.
    sent[0]
        .1
        .emit(Err(OperationFailure::Refused(ErrorReply::new(
            State::WRONG_PASSWORD,
            "the current password is wrong",
        ))));
    settle().await;
    assert_eq!(
        text("document.querySelector('#password-status').textContent"),
        "当前密码不正确"
    );
    click("#password-save");
    settle().await;
    let sent = operations(&screen.driver);
    sent[1].1.emit(Ok(Outcome::Done));
    settle().await;
    assert_eq!(
        text("document.querySelector('#password-status').dataset.state"),
        "done"
    );
    assert_eq!(
        text("document.querySelector('#password-current').value"),
        ""
    );
}

#[wasm_bindgen_test]
async fn offline_a_signature_change_is_refused_with_a_reason() {
    let screen = mount(signed_in()).await;
    click("#tab-me");
    settle().await;
    fill("#signature-input", "出差中");
    click("#signature-save");
    settle().await;
    let sent = operations(&screen.driver);
    assert_eq!(sent[0].0, Operation::SetSignature("出差中".into()));
    sent[0]
        .1
        .emit(Err(OperationFailure::NotSent(OperationError::Offline)));
    settle().await;
    assert!(
        text("document.querySelector('#signature-status').textContent").contains("离线"),
        "the reason is shown"
    );
}

pub(crate) fn in_group(holder: UserId) -> AppState {
    let mut open = OpenConversation::new(group());
    open.loading_older = false;
    AppState {
        open: Some(Rc::new(open)),
        groups: Rc::new(vec![Group {
            gid: GroupId::new(1).expect("a gid"),
            holder,
            name: "技术部".into(),
            member: Members(vec![me(), zhang(), li()]),
        }]),
        groups_known: true,
        ..signed_in()
    }
}

#[wasm_bindgen_test]
async fn only_the_holder_may_remove_members() {
    let screen = mount(in_group(zhang())).await;
    click("#chat-details");
    settle().await;
    assert_eq!(count("#group-page .member"), 3);
    assert_eq!(count("#group-page .member__remove"), 0);
    drop(screen);

    let screen = mount(in_group(me())).await;
    click("#chat-details");
    settle().await;
    assert_eq!(count("#group-page .member__remove"), 2, "all but oneself");
    click("#group-page .member[data-user=\"13800000005\"] .member__remove");
    settle().await;
    let sent = operations(&screen.driver);
    assert_eq!(
        sent[0].0,
        Operation::ChangeMembers {
            gid: GroupId::new(1).expect("a gid"),
            action: MembersAction::Remove,
            members: vec![li()],
        }
    );
}

#[wasm_bindgen_test]
async fn a_group_the_user_left_is_readable_but_has_no_composer() {
    let mut state = in_group(zhang());
    state.groups = Rc::new(Vec::new());
    let _screen = mount(state).await;
    assert!(exists("#chat-readonly"));
    assert!(!exists("#composer"));
    // Removed: the group is still known (its name stays) but without them.
    let mut state = in_group(zhang());
    state.groups = Rc::new(vec![Group {
        gid: GroupId::new(1).expect("a gid"),
        holder: zhang(),
        name: "技术部".into(),
        member: Members(vec![zhang(), li()]),
    }]);
    drop(_screen);
    let _screen = mount(state).await;
    assert!(exists("#chat-readonly"));
    assert_eq!(
        text("document.querySelector('#chat-title .chat__name').textContent"),
        "技术部"
    );
    // Before the groups are known, nobody is locked out.
    let mut state = in_group(zhang());
    state.groups = Rc::new(Vec::new());
    state.groups_known = false;
    drop(_screen);
    let _screen = mount(state).await;
    assert!(exists("#composer"));
}

#[wasm_bindgen_test]
async fn images_show_from_the_outbox_then_from_the_server_with_a_ticket() {
    const PNG: &[u8] = include_bytes!("../../../tests/fixtures/photo.png");
    let mut state = opened(history(1..=2));
    state.files = Some(FileAccess {
        server: ServerAddress {
            host: "127.0.0.1".into(),
            port_offset: 7,
            tls: false,
        },
        token: "t0ken".into(),
    });
    if let Some(open) = state.open.as_mut().map(Rc::make_mut) {
        open.messages.push(Message {
            kind: MessageType::Image,
            content: "1002.png".into(),
            id: MessageId(3),
            ..history(3..=3).remove(0)
        });
        open.outbox = vec![OutboxEntry {
            mentions: None,
            mention_all: false,
            cid: ClientMsgId::parse("img-1").expect("a cid"),
            order: 1,
            to: Peer::User(zhang()),
            kind: MessageType::Image,
            content: String::new(),
            created_ts: BASE_TS + 10 * 60_000,
            state: OutboxState::Queued,
            file: Some(OutboxFile {
                data: PNG.to_vec(),
                mime: "image/png".into(),
                duration: None,
            }),
            quote: None,
            upload: None,
        }];
    }
    let screen = mount(state).await;
    // The progress comes from the driver, beside the state.
    screen.driver.update(Update::Upload(Some(0.25)));
    settle().await;
    let stored = text(
        "document.querySelector('#chat .message[data-id=\"3\"] .image-thumb img').getAttribute('src')",
    );
    assert!(
        stored.starts_with("http://127.0.0.1:22895/files/1002.png?ticket="),
        "a file URL with a ticket: {stored}"
    );
    assert!(
        !stored.contains("t0ken"),
        "never the session token: {stored}"
    );
    let local = text(
        "document.querySelector('#chat .message[data-cid=\"img-1\"] .image-thumb img').getAttribute('src')",
    );
    assert!(local.starts_with("blob:"), "a local preview: {local}");
    assert_eq!(
        text("document.querySelector('#upload-progress').getAttribute('aria-valuenow')"),
        "25"
    );
    // The thumbnail opens the viewer; Escape closes it.
    click("#chat .message[data-id=\"3\"] .image-thumb");
    settle().await;
    assert!(exists("#image-viewer img"));
    js("window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))");
    settle().await;
    assert!(!exists("#image-viewer"));
}

/// Upload progress ticks every 100 ms, and the connection and the busy
/// choice change often: none of them may copy the conversation list or the
/// open conversation's messages (they are shared with the previous state).
#[wasm_bindgen_test]
fn frequent_updates_copy_neither_the_list_nor_the_open_messages() {
    use yew::Reducible;
    let state = Rc::new(opened(history(1..=500)));
    let list = state.conversations.as_ptr();
    let messages = state.open.as_ref().expect("open").messages.as_ptr();
    let elsewhere = Update::Arrived {
        peer: group(),
        messages: history(501..=501),
        live: true,
    };
    for update in [
        Update::Upload(Some(0.5)),
        Update::Upload(None),
        Update::Connection(Connection::Offline, 1),
        Update::Busy(true),
        Update::CaughtUp,
        elsewhere,
    ] {
        let next = state.clone().reduce(update.clone());
        assert_eq!(
            next.conversations.as_ptr(),
            list,
            "{update:?} copied the conversation list"
        );
        assert_eq!(
            next.open.as_ref().expect("still open").messages.as_ptr(),
            messages,
            "{update:?} copied the open conversation's messages"
        );
    }
}

/// The progress bar follows the driver's ticks (they reach it through their
/// own context, not the app state).
#[wasm_bindgen_test]
async fn the_upload_bar_follows_the_progress_ticks() {
    let mut state = opened(history(1..=2));
    if let Some(open) = state.open.as_mut().map(Rc::make_mut) {
        open.outbox = vec![OutboxEntry {
            mentions: None,
            mention_all: false,
            cid: ClientMsgId::parse("img-1").expect("a cid"),
            order: 1,
            to: Peer::User(zhang()),
            kind: MessageType::Image,
            content: String::new(),
            created_ts: BASE_TS + 10 * 60_000,
            state: OutboxState::Queued,
            file: Some(OutboxFile {
                data: include_bytes!("../../../tests/fixtures/photo.png").to_vec(),
                mime: "image/png".into(),
                duration: None,
            }),
            quote: None,
            upload: None,
        }];
    }
    let screen = mount(state).await;
    let progress =
        || text("document.querySelector('#upload-progress').getAttribute('aria-valuenow')");
    assert_eq!(progress(), "0", "no tick yet");
    for (share, shown) in [(0.1, "10"), (0.6, "60"), (1.0, "100")] {
        screen.driver.update(Update::Upload(Some(share)));
        until(&format!("the bar shows {shown}%"), || progress() == shown).await;
    }
}

#[wasm_bindgen_test]
async fn voice_messages_show_their_length_and_an_unplayed_dot_until_played() {
    js("localStorage.removeItem('penpen.played')");
    let mut state = opened(history(1..=2));
    state.files = Some(FileAccess {
        server: ServerAddress {
            host: "127.0.0.1".into(),
            port_offset: 0,
            tls: false,
        },
        token: "t".into(),
    });
    if let Some(open) = state.open.as_mut().map(Rc::make_mut) {
        for (id, from) in [(3, zhang()), (4, me())] {
            open.messages.push(Message {
                from: Sender::User(from),
                kind: MessageType::Voice,
                content: format!("{id}.webm"),
                id: MessageId(id),
                duration: Some(7),
                ..history(id..=id).remove(0)
            });
        }
    }
    let _screen = mount(state).await;
    let theirs = "#chat .message[data-id=\"3\"] .voice";
    assert_eq!(
        text(&format!(
            "document.querySelector('{theirs} .voice__seconds').textContent"
        )),
        "7″"
    );
    assert!(exists(&format!("{theirs} .voice__unplayed")));
    assert!(
        !exists("#chat .message[data-id=\"4\"] .voice__unplayed"),
        "one's own are never unplayed"
    );
    click(theirs);
    settle().await;
    assert!(!exists(&format!("{theirs} .voice__unplayed")));
    assert!(
        text("localStorage.getItem('penpen.played')").contains('3'),
        "played is remembered on this device"
    );
}

#[wasm_bindgen_test]
async fn logging_out_asks_whether_to_keep_this_devices_messages() {
    let screen = mount(signed_in()).await;
    let logouts = |driver: &Driver| {
        driver
            .sent()
            .into_iter()
            .filter_map(|c| match c {
                Command::LogOut { keep_messages } => Some(keep_messages),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    // The bar's button asks first and sends nothing; cancel (and Esc) close.
    click("#logout");
    settle().await;
    assert!(exists("#logout-dialog"));
    assert!(text("document.querySelector('#logout-dialog').textContent").contains("保留"));
    assert!(logouts(&screen.driver).is_empty());
    click("#logout-cancel");
    settle().await;
    assert!(!exists("#logout-dialog"));
    click("#logout");
    settle().await;
    js("window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))");
    settle().await;
    assert!(!exists("#logout-dialog"));
    assert!(logouts(&screen.driver).is_empty());

    click("#logout");
    settle().await;
    click("#logout-keep");
    settle().await;
    assert_eq!(logouts(&screen.driver), vec![true]);
    assert!(!exists("#logout-dialog"));

    // The me tab's button asks the same question; "remove" says so.
    click("#tab-me");
    settle().await;
    click("#me-logout");
    settle().await;
    click("#logout-remove");
    settle().await;
    assert_eq!(logouts(&screen.driver), vec![true, false]);
}

#[wasm_bindgen_test]
async fn files_show_icon_name_size_progress_and_open_from_a_blob() {
    let mut state = opened(history(1..=2));
    if let Some(open) = state.open.as_mut().map(Rc::make_mut) {
        open.messages.push(Message {
            kind: MessageType::File,
            content: "0123456789abcdef0123456789abcdef.pdf".into(),
            name: Some("季度报告.pdf".into()),
            size: Some(52_428_800),
            id: MessageId(3),
            ..history(3..=3).remove(0)
        });
        open.outbox = vec![OutboxEntry {
            mention_all: false,
            mentions: None,
            cid: ClientMsgId::parse("up-1").expect("a cid"),
            order: 1,
            to: Peer::User(zhang()),
            kind: MessageType::File,
            content: "数据.xlsx".into(),
            created_ts: BASE_TS + 10 * 60_000,
            state: OutboxState::Queued,
            file: None,
            quote: None,
            upload: Some(penpen_core::cache::OutboxUpload {
                name: "数据.xlsx".into(),
                size: 4 * 1024 * 1024,
                sent: 1024 * 1024,
            }),
        }];
    }
    let screen = mount(state).await;
    let sent = "#chat .message[data-id=\"3\"] .file";
    assert_eq!(
        text(&format!("document.querySelector('{sent}').dataset.kind")),
        "pdf"
    );
    assert_eq!(
        text(&format!(
            "document.querySelector('{sent} .file__name').textContent"
        )),
        "季度报告.pdf"
    );
    assert_eq!(
        text(&format!(
            "document.querySelector('{sent} .file__size').textContent"
        )),
        "50.0 MB"
    );
    let uploading = "#chat .message[data-cid=\"up-1\"] .file";
    assert_eq!(
        text(&format!(
            "document.querySelector('{uploading}').dataset.kind"
        )),
        "xls"
    );
    assert_eq!(
        text(&format!(
            "document.querySelector('{uploading} .file__share').textContent"
        )),
        "25%"
    );
    assert!(
        !exists(&format!("{uploading} .file__download")),
        "nothing to download yet"
    );

    // 取消 asks the driver to cancel that upload.
    click(&format!("{uploading} .file__cancel"));
    settle().await;
    assert_eq!(
        screen
            .driver
            .count(|c| matches!(c, Command::CancelUpload(cid) if cid.as_str() == "up-1")),
        1
    );

    // 预览 asks for the file; the answer shows in a frame from a blob: URL.
    click(&format!("{sent} .file__preview"));
    settle().await;
    let reply = screen
        .driver
        .sent()
        .into_iter()
        .find_map(|c| match c {
            Command::OpenFile { name, reply } => Some((name, reply)),
            _ => None,
        })
        .expect("asked for the file");
    assert_eq!(reply.0, "0123456789abcdef0123456789abcdef.pdf");
    let bytes = js_sys::Uint8Array::from(&b"%PDF-1.7\n"[..]);
    let parts = js_sys::Array::of1(&bytes);
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).expect("a blob");
    reply.1.emit(Ok(blob));
    settle().await;
    let src = text(&format!(
        "document.querySelector('{sent} iframe.file__frame').getAttribute('src')"
    ));
    assert!(src.starts_with("blob:"), "{src}");
    assert!(exists(&format!("{sent} .file__note[data-saved=\"true\"]")));
}

/// Opens the action menu of message `id` with a right-click on its bubble.
pub(crate) fn right_click_bubble(id: u64) {
    js(&format!(
        "(b => b.dispatchEvent(new MouseEvent('contextmenu', {{ bubbles: true, cancelable: true, button: 2, clientX: b.getBoundingClientRect().left + 5, clientY: b.getBoundingClientRect().top + 5 }})))(document.querySelector('#chat .message[data-id=\"{id}\"] .message__bubble'))"
    ));
}

/// History whose message 4 (mine) and 5 (张伟's) were just sent.
fn fresh_history() -> Vec<Message> {
    let now = js_sys::Date::now() as i64;
    let mut messages = history(1..=5);
    for message in &mut messages[3..] {
        message.ts = now - 10_000;
    }
    messages
}

#[wasm_bindgen_test]
async fn a_bubble_s_menu_recalls_one_s_own_message_and_offers_to_edit_it_again() {
    let screen = mount(opened(fresh_history())).await;
    let driver = &screen.driver;
    until("the chat renders", || {
        exists("#chat .message[data-id=\"4\"]")
    })
    .await;

    // 张伟's message: quote and copy, but no recall.
    right_click_bubble(5);
    until("the menu opens", || exists("#message-menu")).await;
    assert!(exists("#message-menu [data-action=\"quote\"]"));
    assert!(exists("#message-menu [data-action=\"copy\"]"));
    assert!(!exists("#message-menu [data-action=\"recall\"]"));
    js("document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))");
    until("Esc closes it", || !exists("#message-menu")).await;

    // The keyboard reaches it too: Enter on a focused bubble.
    js(
        "(b => { b.focus(); b.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true })); })(document.querySelector('#chat .message[data-id=\"4\"] .message__bubble'))",
    );
    until("the menu opens from the keyboard", || {
        exists("#message-menu")
    })
    .await;
    assert_eq!(
        text("document.activeElement.dataset.action || ''"),
        "quote",
        "focus lands on the first item"
    );
    click("#message-menu [data-action=\"recall\"]");
    settle().await;
    assert!(!exists("#message-menu"));
    let asked = operations(driver);
    let (operation, reply) = asked.last().expect("a recall was asked for");
    assert_eq!(
        operation,
        &Operation::Recall {
            conversation: Peer::User(zhang()),
            id: MessageId(4),
            sender: me(),
        }
    );
    reply.emit(Ok(Outcome::Recalled(MessageId(6))));
    // The recall arrives: the original becomes the placeholder, the recall
    // itself is not shown.
    let recall = Message {
        kind: MessageType::Recall,
        content: format!(r#"{{"id":"4","by":"{}","sender":"{}"}}"#, me(), me()),
        id: MessageId(6),
        ..history(4..=4).remove(0)
    };
    driver.update(Update::Arrived {
        peer: Peer::User(zhang()),
        messages: vec![recall],
        live: true,
    });
    until("the placeholder replaces it", || {
        exists("#chat .notice--recalled[data-id=\"4\"]")
    })
    .await;
    assert!(
        text("document.querySelector('.notice--recalled[data-id=\"4\"]').textContent")
            .starts_with("你撤回了一条消息")
    );
    assert!(
        !exists("#chat .message[data-id=\"6\"]"),
        "a recall is not a row"
    );
    click(".notice--recalled[data-id=\"4\"] .notice__reedit");
    settle().await;
    assert_eq!(text("document.getElementById('composer').value"), "消息 4");

    // Someone else's recall reads with their name and offers no re-edit.
    let theirs = Message {
        kind: MessageType::Recall,
        content: format!(r#"{{"id":"5","by":"{}","sender":"{}"}}"#, zhang(), zhang()),
        id: MessageId(7),
        ..history(5..=5).remove(0)
    };
    driver.update(Update::Arrived {
        peer: Peer::User(zhang()),
        messages: vec![theirs],
        live: true,
    });
    until("their placeholder", || {
        exists("#chat .notice--recalled[data-id=\"5\"]")
    })
    .await;
    assert!(
        text("document.querySelector('.notice--recalled[data-id=\"5\"]').textContent")
            .ends_with("撤回了一条消息")
    );
    assert!(!exists(".notice--recalled[data-id=\"5\"] .notice__reedit"));
}

#[wasm_bindgen_test]
async fn a_refused_recall_says_why() {
    let screen = mount(opened(fresh_history())).await;
    until("the chat renders", || {
        exists("#chat .message[data-id=\"4\"]")
    })
    .await;
    right_click_bubble(4);
    until("the menu opens", || {
        exists("#message-menu [data-action=\"recall\"]")
    })
    .await;
    click("#message-menu [data-action=\"recall\"]");
    settle().await;
    let (_, reply) = operations(&screen.driver).pop().expect("asked");
    reply.emit(Err(OperationFailure::Refused(ErrorReply::new(
        State::TOO_LATE_TO_RECALL,
        "message 4 was stored 130 s ago",
    ))));
    until("the refusal shows", || exists("#message-action-error")).await;
    assert!(
        text("document.getElementById('message-action-error').textContent").contains("撤回失败")
    );
    assert!(exists("#chat .message[data-id=\"4\"]"), "the message stays");
}

#[wasm_bindgen_test]
async fn a_quote_goes_from_the_menu_to_the_composer_to_the_reply_and_jumps_back() {
    let mut messages = fresh_history();
    // A reply to message 3, and one to a message recalled since.
    let mut reply = history(6..=6).remove(0);
    reply.quote = Some(penpen_core::packets::message::Quote::of(&messages[2]));
    let mut to_recalled = history(7..=7).remove(0);
    to_recalled.quote = Some(penpen_core::packets::message::Quote {
        recalled: true,
        content: None,
        ..penpen_core::packets::message::Quote::of(&messages[1])
    });
    messages.extend([reply, to_recalled]);
    let screen = mount(opened(messages)).await;
    let driver = &screen.driver;
    until("the chat renders", || {
        exists("#chat .message[data-id=\"7\"]")
    })
    .await;

    assert!(
        text("document.querySelector('#chat .message[data-id=\"6\"] .message__quote').textContent")
            .contains("消息 3")
    );
    assert!(exists(
        "#chat .message[data-id=\"7\"] .message__quote[data-recalled]"
    ));
    assert!(
        text("document.querySelector('#chat .message[data-id=\"7\"] .message__quote').textContent")
            .contains("引用的消息已撤回")
    );
    click("#chat .message[data-id=\"6\"] .message__quote");
    settle().await;
    assert!(
        driver
            .sent()
            .contains(&Command::OpenAt(Peer::User(zhang()), MessageId(3)))
    );

    right_click_bubble(5);
    until("the menu opens", || exists("#message-menu")).await;
    click("#message-menu [data-action=\"quote\"]");
    until("the composer shows the quote", || exists("#composer-quote")).await;
    assert!(text("document.getElementById('composer-quote').textContent").contains("消息 5"));
    // × cancels; quoting again and sending sends a reply.
    click("#composer-quote [data-action=\"cancel-quote\"]");
    until("cancelled", || !exists("#composer-quote")).await;
    right_click_bubble(5);
    until("the menu opens again", || exists("#message-menu")).await;
    click("#message-menu [data-action=\"quote\"]");
    until("quoting again", || exists("#composer-quote")).await;
    js(
        "(c => { c.value = '收到'; c.dispatchEvent(new InputEvent('input', { bubbles: true })); })(document.getElementById('composer'))",
    );
    settle().await;
    js(
        "document.getElementById('composer').dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }))",
    );
    until("the quote leaves the composer", || {
        !exists("#composer-quote")
    })
    .await;
    let replied = driver.sent().into_iter().find_map(|c| match c {
        Command::SendComposed {
            peer,
            text,
            quote: Some(quote),
            ..
        } => Some((peer, text, quote.id)),
        _ => None,
    });
    assert_eq!(
        replied,
        Some((Peer::User(zhang()), "收到".to_owned(), MessageId(5)))
    );
}
