//! Recall and quote (§15.1, §15.2) over real sockets: the windows, the
//! holder, the repeat, catch-up and history after a recall, the file of a
//! recalled image, and a reply's snapshot of what it quotes.

use crate::common::*;
use penpen_core::packets::actions::{MessageAction, Recall};
use penpen_core::packets::message::{
    Message, MessageType, RecallNotice, SendAck, SendFile, SendText, Sender,
};
use penpen_core::packets::sync::{CatchUp, History, MessagePage};
use penpen_core::{ClientMsgId, ErrorReply, GroupId, MessageId, Peer, Seq, Service, State};
use penpen_server_mock::RunningServer;
use std::time::Duration;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde";

/// A server whose senders may recall for `window` only.
async fn start_with_window(window: Duration) -> (RunningServer, tempfile::TempDir) {
    start_configured(|config| config.recall.window = window).await
}

fn text(from: &str, to: Peer, content: &str, quote: Option<MessageId>, cid: &str) -> SendText {
    SendText {
        from: user(from),
        kind: if matches!(to, Peer::Group(_)) {
            MessageType::GroupText
        } else {
            MessageType::Text
        },
        to,
        content: content.into(),
        quote,
        mentions: None,
        mention_all: false,
        cid: Some(ClientMsgId::parse(cid).expect("cid")),
    }
}

fn recall(id: MessageId) -> MessageAction {
    MessageAction::Recall(Recall { recall: id })
}

async fn refusal(port: &mut Client, id: MessageId) -> ErrorReply {
    port.request::<_, SendAck>(&recall(id))
        .await
        .expect_err("refused")
}

/// Waits until `ts` (ms since the epoch) lies more than `window` in the past.
async fn outlive(ts: i64, window: Duration) {
    let until = ts + window.as_millis() as i64 + 200;
    while penpen_server_mock::context::now_ms() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The next pushed message of `kind` (skipping others).
async fn next_of(stream: &mut Client, kind: MessageType) -> Message {
    loop {
        let message = stream
            .next_message(Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("a type {} message within 10 s", kind.code()));
        if message.kind == kind {
            return message;
        }
    }
}

async fn tech_group(server: &RunningServer, token: &str) -> GroupId {
    group_named(server, token, "技术部").await
}

async fn history(server: &RunningServer, token: &str, target: Peer) -> Vec<Message> {
    let mut port = Client::connect(server, Service::SyncMessages, Some(token)).await;
    let page: MessagePage = port
        .request(&History {
            target,
            before: None,
            limit: Some(50),
        })
        .await
        .expect("history");
    page.messages
}

#[tokio::test]
async fn a_sender_recalls_within_the_window_once_and_every_party_sees_it() {
    let window = Duration::from_millis(1500);
    let (server, _data) = start_with_window(window).await;
    let (mut wang_stream, wang) = log_in(&server, WANG).await;
    let (mut wang_phone, _) = log_in(&server, WANG).await;
    let (mut li_stream, li) = log_in(&server, LI).await;
    let (_z, zhang) = log_in(&server, ZHANG).await;
    let mut wang_text = Client::connect(&server, Service::Text, Some(&wang.token)).await;
    let mut wang_actions =
        Client::connect(&server, Service::MessageActions, Some(&wang.token)).await;

    let sent: SendAck = wang_text
        .request(&text(WANG, Peer::User(user(LI)), "发错了", None, "r-1"))
        .await
        .expect("sent");
    let done: SendAck = wang_actions
        .request(&recall(sent.id))
        .await
        .expect("recalled");
    assert!(
        done.id > sent.id && done.seq > sent.seq,
        "{done:?} after {sent:?}"
    );

    for stream in [&mut li_stream, &mut wang_stream, &mut wang_phone] {
        let pushed = next_of(stream, MessageType::Recall).await;
        assert_eq!(pushed.id, done.id);
        assert_eq!(pushed.from, Sender::User(user(WANG)));
        assert_eq!(pushed.to, Peer::User(user(LI)));
        let notice: RecallNotice = pushed.notice().expect("a recall's content");
        assert_eq!(
            notice,
            RecallNotice {
                id: sent.id,
                by: user(WANG),
                sender: user(WANG)
            }
        );
    }

    // A retry after a lost reply is answered with the first recall.
    let again: SendAck = wang_actions.request(&recall(sent.id)).await.expect("again");
    assert_eq!(
        (again.id, again.seq, again.ts),
        (done.id, done.seq, done.ts)
    );
    assert!(
        li_stream
            .next_message(Duration::from_millis(500))
            .await
            .is_none(),
        "a repeat is not delivered again"
    );

    // Li may not take back Wang's message; Zhang never saw it; no such id.
    let second: SendAck = wang_text
        .request(&text(WANG, Peer::User(user(LI)), "第二条", None, "r-2"))
        .await
        .expect("sent");
    let mut li_actions = Client::connect(&server, Service::MessageActions, Some(&li.token)).await;
    assert_eq!(
        refusal(&mut li_actions, second.id).await.state,
        State::FORBIDDEN
    );
    let mut zhang_actions =
        Client::connect(&server, Service::MessageActions, Some(&zhang.token)).await;
    assert_eq!(
        refusal(&mut zhang_actions, second.id).await.state,
        State::NO_SUCH_MESSAGE
    );
    assert_eq!(
        refusal(&mut wang_actions, MessageId(999_999)).await.state,
        State::NO_SUCH_MESSAGE
    );
    // A recall itself cannot be recalled.
    assert_eq!(
        refusal(&mut wang_actions, done.id).await.state,
        State::TOO_LATE_TO_RECALL
    );

    // Past the window, the sender is too late.
    outlive(second.ts, window).await;
    let late = refusal(&mut wang_actions, second.id).await;
    assert_eq!(late.state, State::TOO_LATE_TO_RECALL, "{late:?}");
    assert!(
        late.error.contains("1 s"),
        "says the window: {}",
        late.error
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_holder_recalls_any_message_in_their_group_and_a_member_only_their_own() {
    let window = Duration::from_millis(1000);
    let (server, _data) = start_with_window(window).await;
    let (_z, zhang) = log_in(&server, ZHANG).await;
    let (mut liu_stream, liu) = log_in(&server, LIU).await;
    let (_m, member) = log_in(&server, "13800000005").await;
    let gid = tech_group(&server, &zhang.token).await;
    let mut liu_text = Client::connect(&server, Service::GroupText, Some(&liu.token)).await;
    let first: SendAck = liu_text
        .request(&text(LIU, Peer::Group(gid), "刘的消息", None, "g-1"))
        .await
        .expect("sent");
    let second: SendAck = liu_text
        .request(&text(LIU, Peer::Group(gid), "刘的第二条", None, "g-2"))
        .await
        .expect("sent");

    let mut member_actions =
        Client::connect(&server, Service::MessageActions, Some(&member.token)).await;
    assert_eq!(
        refusal(&mut member_actions, first.id).await.state,
        State::FORBIDDEN
    );

    outlive(second.ts, window).await;
    let mut liu_actions = Client::connect(&server, Service::MessageActions, Some(&liu.token)).await;
    assert_eq!(
        refusal(&mut liu_actions, second.id).await.state,
        State::TOO_LATE_TO_RECALL,
        "the sender's window is over"
    );
    let mut zhang_actions =
        Client::connect(&server, Service::MessageActions, Some(&zhang.token)).await;
    let done: SendAck = zhang_actions
        .request(&recall(first.id))
        .await
        .expect("the holder may");
    let pushed = next_of(&mut liu_stream, MessageType::GroupRecall).await;
    assert_eq!((pushed.id, pushed.to.clone()), (done.id, Peer::Group(gid)));
    let notice: RecallNotice = pushed.notice().expect("content");
    assert_eq!((notice.by, notice.sender), (user(ZHANG), user(LIU)));
    // The sender repeating it is answered with the holder's recall.
    let repeat: SendAck = liu_actions
        .request(&recall(first.id))
        .await
        .expect("repeat");
    assert_eq!(repeat.id, done.id);

    // A group's notice is not a user's message.
    let page = history(&server, &zhang.token, Peer::Group(gid)).await;
    let notice = page
        .iter()
        .find(|m| m.kind.is_notice())
        .expect("the group's creation notice");
    assert_eq!(
        refusal(&mut zhang_actions, notice.id).await.state,
        State::TOO_LATE_TO_RECALL
    );
    let original = page.iter().find(|m| m.id == first.id).expect("kept");
    assert_eq!(original.content, "");
    assert_eq!(
        original.recalled.as_ref().map(|r| r.by.clone()),
        Some(user(ZHANG))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_device_offline_during_a_recall_catches_it_up_and_sees_the_original_recalled() {
    let (server, _data) = start().await;
    let (_w, wang) = log_in(&server, WANG).await;
    let mut wang_text = Client::connect(&server, Service::Text, Some(&wang.token)).await;
    let mut wang_actions =
        Client::connect(&server, Service::MessageActions, Some(&wang.token)).await;
    let sent: SendAck = wang_text
        .request(&text(WANG, Peer::User(user(LI)), "不该发的", None, "o-1"))
        .await
        .expect("sent");
    let done: SendAck = wang_actions
        .request(&recall(sent.id))
        .await
        .expect("recalled");

    // Li's device was offline throughout: it logs in only now.
    let (_l, li) = log_in(&server, LI).await;
    let mut li_sync = Client::connect(&server, Service::SyncMessages, Some(&li.token)).await;
    let page: MessagePage = li_sync
        .request(&CatchUp {
            since: Seq(0),
            limit: Some(1000),
        })
        .await
        .expect("catch-up");
    let original = page
        .messages
        .iter()
        .find(|m| m.id == sent.id)
        .expect("the original is in the catch-up");
    assert_eq!(original.content, "", "nothing of it is kept");
    assert_eq!(
        original.recalled.as_ref().map(|r| r.by.clone()),
        Some(user(WANG))
    );
    let recall_message = page
        .messages
        .iter()
        .find(|m| m.id == done.id)
        .expect("the recall is in the catch-up");
    assert_eq!(recall_message.kind, MessageType::Recall);

    let page = history(&server, &li.token, Peer::User(user(WANG))).await;
    let original = page.iter().find(|m| m.id == sent.id).expect("in history");
    assert!(original.content.is_empty() && original.recalled.is_some());
    server.shutdown().await;
}

#[tokio::test]
async fn a_recalled_image_is_no_longer_served_and_leaves_the_disk() {
    let (server, data) = start().await;
    let (_w, wang) = log_in(&server, WANG).await;
    let (_l, li) = log_in(&server, LI).await;
    let mut images = Client::connect(&server, Service::Image, Some(&wang.token)).await;
    let sent: SendAck = images
        .request(&SendFile {
            from: user(WANG),
            to: Peer::User(user(LI)),
            kind: MessageType::Image,
            data: PNG.to_vec(),
            name: Some("图.png".into()),
            duration: None,
            cid: Some(ClientMsgId::parse("i-1").expect("cid")),
        })
        .await
        .expect("stored");
    let name = sent.content.expect("the server's name");
    let on_disk = data.path().join("files").join(&name);
    assert!(on_disk.exists(), "{} was stored", on_disk.display());
    let addr = server.addr(Service::Image).expect("served");
    assert_eq!(http_status(addr, &file_path(&name, &li.token)).await, 200);

    let mut actions = Client::connect(&server, Service::MessageActions, Some(&wang.token)).await;
    let _: SendAck = actions.request(&recall(sent.id)).await.expect("recalled");
    assert_eq!(http_status(addr, &file_path(&name, &li.token)).await, 404);
    assert_eq!(http_status(addr, &file_path(&name, &wang.token)).await, 404);
    assert!(!on_disk.exists(), "the file left the disk");
    server.shutdown().await;
}

#[tokio::test]
async fn a_reply_carries_a_snapshot_of_its_quote_which_reads_recalled_after_a_recall() {
    let (server, _data) = start().await;
    let (mut wang_stream, wang) = log_in(&server, WANG).await;
    let (_l, li) = log_in(&server, LI).await;
    let mut wang_text = Client::connect(&server, Service::Text, Some(&wang.token)).await;
    let mut li_text = Client::connect(&server, Service::Text, Some(&li.token)).await;
    let long: String = "周五开会".repeat(30);
    let original: SendAck = wang_text
        .request(&text(WANG, Peer::User(user(LI)), &long, None, "q-1"))
        .await
        .expect("sent");
    let reply: SendAck = li_text
        .request(&text(
            LI,
            Peer::User(user(WANG)),
            "好的",
            Some(original.id),
            "q-2",
        ))
        .await
        .expect("a reply");
    let pushed = loop {
        let m = next_of(&mut wang_stream, MessageType::Text).await;
        if m.id == reply.id {
            break m;
        }
    };
    let quote = pushed.quote.expect("the snapshot");
    assert_eq!(quote.id, original.id);
    assert_eq!(quote.from, Sender::User(user(WANG)));
    assert_eq!(quote.kind, MessageType::Text);
    assert_eq!(
        quote.content.as_deref().map(|c| c.chars().count()),
        Some(100),
        "the first 100 characters"
    );
    assert!(long.starts_with(quote.content.as_deref().unwrap_or_default()));

    // Only a message of the same conversation, and not a recall.
    let elsewhere: SendAck = wang_text
        .request(&text(WANG, Peer::User(user(ZHANG)), "给张", None, "q-3"))
        .await
        .expect("sent");
    let refused = li_text
        .request::<_, SendAck>(&text(
            LI,
            Peer::User(user(WANG)),
            "?",
            Some(elsewhere.id),
            "q-4",
        ))
        .await
        .expect_err("not Li's conversation");
    assert_eq!(refused.state, State::NO_SUCH_MESSAGE);

    let mut actions = Client::connect(&server, Service::MessageActions, Some(&wang.token)).await;
    let done: SendAck = actions
        .request(&recall(original.id))
        .await
        .expect("recalled");
    for quoted in [done.id, original.id] {
        let refused = li_text
            .request::<_, SendAck>(&text(LI, Peer::User(user(WANG)), "?", Some(quoted), "q-5"))
            .await
            .expect_err("a recall, or a recalled message");
        assert_eq!(refused.state, State::BAD_PACKET, "{refused:?}");
    }
    let page = history(&server, &li.token, Peer::User(user(WANG))).await;
    let quote = page
        .iter()
        .find(|m| m.id == reply.id)
        .and_then(|m| m.quote.clone())
        .expect("the reply keeps its quote");
    assert!(quote.recalled && quote.content.is_none(), "{quote:?}");

    // A recalled reply keeps nothing, its quote included.
    let _: SendAck = li_actions_recall(&server, &li.token, reply.id).await;
    let page = history(&server, &li.token, Peer::User(user(WANG))).await;
    let recalled = page.iter().find(|m| m.id == reply.id).expect("kept");
    assert!(
        recalled.quote.is_none() && recalled.content.is_empty(),
        "{recalled:?}"
    );
    server.shutdown().await;
}

async fn li_actions_recall(server: &RunningServer, token: &str, id: MessageId) -> SendAck {
    let mut actions = Client::connect(server, Service::MessageActions, Some(token)).await;
    actions.request(&recall(id)).await.expect("recalled")
}
