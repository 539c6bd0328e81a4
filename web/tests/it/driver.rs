//! The socket layer and the sync driver in headless Chromium against a real
//! `penpen-server-mock` (its login URL comes at build time in
//! `PENPEN_TEST_LOGIN_URL`; scripts/test.sh starts the server and sets it).

use penpen_core::sync::Connection;
use penpen_core::{Peer, UserId};
use penpen_web::config::{ServerAddress, Servers};
use penpen_web::driver::{self, Input};
use penpen_web::session;
use penpen_web::state::{Command, Update};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen_test::*;
use yew::Callback;

/// The test server, from the login URL `ws://127.0.0.1:PORT/`.
fn test_server() -> ServerAddress {
    let Some(url) = option_env!("PENPEN_TEST_LOGIN_URL") else {
        panic!(
            "PENPEN_TEST_LOGIN_URL is not set: start penpen-server-mock and set it to its login URL"
        );
    };
    let port: u16 = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port in PENPEN_TEST_LOGIN_URL");
    ServerAddress {
        host: "127.0.0.1".into(),
        port_offset: port - 20888,
        tls: false,
    }
}

/// Waits (up to 15 s) until `holds` is true of the updates so far.
async fn until(updates: &Rc<RefCell<Vec<Update>>>, what: &str, holds: impl Fn(&[Update]) -> bool) {
    for _ in 0..300 {
        if holds(&updates.borrow()) {
            return;
        }
        gloo::timers::future::TimeoutFuture::new(50).await;
    }
    panic!(
        "{what} did not happen within 15 s; updates: {:?}",
        updates.borrow()
    );
}

#[wasm_bindgen_test]
async fn the_driver_syncs_sends_and_receives_over_real_sockets() {
    let server = test_server();
    let account = UserId::parse("13800000009").expect("account");
    let session = session::log_in(&Servers::one(server.clone()), account, "penpen2026")
        .await
        .expect("the demo account logs in");
    let updates = Rc::new(RefCell::new(Vec::<Update>::new()));
    let sink = updates.clone();
    assert_eq!(session.server, server, "a session is bound to its server");
    let handle = driver::start(
        session,
        Callback::from(move |update| sink.borrow_mut().push(update)),
    );

    until(&updates, "connected", |u| {
        u.iter()
            .any(|u| matches!(u, Update::Connection(Connection::Connected, _)))
    })
    .await;
    until(&updates, "caught up", |u| u.contains(&Update::CaughtUp)).await;
    // The demo history reached the conversation list (产品评审会 is gid 2).
    until(&updates, "the demo conversations", |u| {
        u.iter().any(|u| matches!(u, Update::Conversations(list, _) if list.iter().any(|c| c.peer == Peer::parse("2").expect("gid"))))
    })
    .await;

    // A message to oneself: sent on 21888, acknowledged, and pushed back on 20888.
    let me = Peer::parse("13800000009").expect("peer");
    handle.send(Input::Command(Command::Open(me.clone())));
    let text = format!("驱动测试 {}", js_sys::Math::random());
    handle.send(Input::Command(Command::SendText(me.clone(), text.clone())));
    until(&updates, "the message arriving", |u| {
        u.iter().any(|u| matches!(u, Update::Arrived { messages, .. } if messages.iter().any(|m| m.content == text)))
    })
    .await;
    until(&updates, "the outbox emptying", |u| {
        u.iter().rev().find_map(|u| match u {
            Update::Outbox(peer, outbox) if peer == &me => Some(outbox.is_empty()),
            _ => None,
        }) == Some(true)
    })
    .await;
    handle.send(Input::Shutdown);
}

#[wasm_bindgen_test]
async fn a_quote_s_original_no_longer_cached_is_fetched_page_by_page_until_it_is_loaded() {
    use penpen_core::packets::message::{Message, Quote};
    let server = test_server();
    let account = UserId::parse("13800000024").expect("account");
    let session = session::log_in(&Servers::one(server.clone()), account, "penpen2026")
        .await
        .expect("the demo account logs in");
    let updates = Rc::new(RefCell::new(Vec::<Update>::new()));
    let sink = updates.clone();
    let handle = driver::start(
        session,
        Callback::from(move |update| sink.borrow_mut().push(update)),
    );
    until(&updates, "caught up", |u| u.contains(&Update::CaughtUp)).await;
    let arrived = |updates: &[Update], text: &str| -> Option<Message> {
        updates.iter().find_map(|u| match u {
            Update::Arrived { messages, .. } => {
                messages.iter().find(|m| m.content == text).cloned()
            }
            _ => None,
        })
    };

    // A note to oneself, then more than a server page (50) after it.
    let me = Peer::parse("13800000024").expect("peer");
    handle.send(Input::Command(Command::Open(me.clone())));
    let marker = js_sys::Math::random().to_string();
    let first = format!("原文 {marker}");
    handle.send(Input::Command(Command::SendText(me.clone(), first.clone())));
    for n in 0..60 {
        handle.send(Input::Command(Command::SendText(
            me.clone(),
            format!("其后 {n} {marker}"),
        )));
    }
    let last = format!("其后 59 {marker}");
    for _ in 0..600 {
        if arrived(&updates.borrow(), &last).is_some() {
            break;
        }
        gloo::timers::future::TimeoutFuture::new(50).await;
    }
    let original = arrived(&updates.borrow(), &first).expect("the original arrived");
    assert!(
        arrived(&updates.borrow(), &last).is_some(),
        "all 61 were sent within 30 s"
    );

    // This device forgets the conversation; a reply to the original comes.
    handle.send(Input::Command(Command::ClearHistory(me.clone())));
    let reply = format!("回复 {marker}");
    handle.send(Input::Command(Command::SendComposed {
        peer: me.clone(),
        text: reply.clone(),
        quote: Some(Quote::of(&original)),
        mentions: Vec::new(),
        mention_all: false,
    }));
    until(&updates, "the reply", |u| arrived(u, &reply).is_some()).await;
    let quoted = arrived(&updates.borrow(), &reply).and_then(|m| m.quote);
    assert_eq!(quoted.map(|q| q.id), Some(original.id));

    // Opening at the quote: the original is two server pages back.
    updates.borrow_mut().clear();
    handle.send(Input::Command(Command::OpenAt(me.clone(), original.id)));
    until(&updates, "the original loaded from the server", |u| {
        u.iter().any(|u| matches!(u, Update::Older { messages, .. } if messages.iter().any(|m| m.id == original.id)))
    })
    .await;
    handle.send(Input::Shutdown);
}

#[wasm_bindgen_test]
async fn the_servers_search_finds_what_this_device_no_longer_caches_and_opens_it() {
    use penpen_web::state::{SearchResult, ServerSearchResult};
    let server = test_server();
    let account = UserId::parse("13800000023").expect("account");
    let session = session::log_in(&Servers::one(server.clone()), account, "penpen2026")
        .await
        .expect("the demo account logs in");
    let updates = Rc::new(RefCell::new(Vec::<Update>::new()));
    let sink = updates.clone();
    let handle = driver::start(
        session,
        Callback::from(move |update| sink.borrow_mut().push(update)),
    );
    until(&updates, "caught up", |u| u.contains(&Update::CaughtUp)).await;

    // A note to oneself, then this device forgets the conversation.
    let me = Peer::parse("13800000023").expect("peer");
    let marker = format!("服务器搜索{}", js_sys::Math::random());
    handle.send(Input::Command(Command::Open(me.clone())));
    handle.send(Input::Command(Command::SendText(
        me.clone(),
        marker.clone(),
    )));
    until(&updates, "the note", |u| {
        u.iter().any(|u| matches!(u, Update::Arrived { messages, .. } if messages.iter().any(|m| m.content == marker)))
    })
    .await;
    handle.send(Input::Command(Command::ClearHistory(me.clone())));

    // The cached search finds nothing; the server's finds it.
    let cached = Rc::new(RefCell::new(None::<SearchResult>));
    let on_cached = cached.clone();
    handle.send(Input::Command(Command::Search {
        query: marker.clone(),
        within: None,
        reply: Callback::from(move |r| *on_cached.borrow_mut() = Some(r)),
    }));
    let answers = Rc::new(RefCell::new(Vec::<ServerSearchResult>::new()));
    let on_answer = answers.clone();
    handle.send(Input::Command(Command::SearchServer {
        query: marker.clone(),
        within: Some(me.clone()),
        before: None,
        reply: Callback::from(move |r| on_answer.borrow_mut().push(r)),
    }));
    for _ in 0..300 {
        if !answers.borrow().is_empty() {
            break;
        }
        gloo::timers::future::TimeoutFuture::new(50).await;
    }
    assert_eq!(
        cached.borrow().as_ref().map(|r| r.found.total),
        Some(0),
        "the cache no longer has it"
    );
    let page = match answers.borrow().as_slice() {
        [Ok(page)] => page.clone(),
        other => panic!("one page expected: {other:?}"),
    };
    let hit = match page.hits.as_slice() {
        [hit] => hit.clone(),
        other => panic!("one hit expected: {other:?}"),
    };
    assert_eq!(
        (hit.text.as_str(), &hit.conversation),
        (marker.as_str(), &me)
    );
    assert!(!page.more);

    // Opening it loads it from the server.
    updates.borrow_mut().clear();
    handle.send(Input::Command(Command::OpenAt(me.clone(), hit.id)));
    until(&updates, "the hit loaded from the server", |u| {
        u.iter().any(|u| matches!(u, Update::Older { messages, .. } if messages.iter().any(|m| m.id == hit.id)))
    })
    .await;
    handle.send(Input::Shutdown);
}
