//! Forward (§15.3) over real sockets: copies change type with their
//! conversation, a merged chat record holds the items as the forwarder saw
//! them, forwarded files are served to the new parties and nothing else is,
//! and the refusals and the repeat.

use crate::common::*;
use penpen_core::packets::actions::{Forward, MessageAction, MessageIds, Recall};
use penpen_core::packets::message::{
    ChatRecord, Message, MessageType, SendAck, SendFile, SendText,
};
use penpen_core::{ClientMsgId, GroupId, MessageId, Peer, Service, State};
use penpen_server_mock::RunningServer;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static NEXT_TEXT: AtomicU64 = AtomicU64::new(1);

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde";

fn cid(text: &str) -> ClientMsgId {
    ClientMsgId::parse(text).expect("cid")
}

fn forward(ids: &[MessageId], to: Peer, merge: bool, cid_text: &str) -> MessageAction {
    MessageAction::Forward(Forward {
        forward: MessageIds(ids.to_vec()),
        to,
        merge,
        cid: cid(cid_text),
    })
}

async fn send_text(
    server: &RunningServer,
    token: &str,
    from: &str,
    to: Peer,
    text: &str,
) -> SendAck {
    let (service, kind) = if matches!(to, Peer::Group(_)) {
        (Service::GroupText, MessageType::GroupText)
    } else {
        (Service::Text, MessageType::Text)
    };
    let mut port = Client::connect(server, service, Some(token)).await;
    port.request(&SendText {
        from: user(from),
        to,
        kind,
        content: text.into(),
        quote: None,
        mentions: None,
        mention_all: false,
        cid: Some(cid(&format!(
            "t-{}",
            NEXT_TEXT.fetch_add(1, Ordering::Relaxed)
        ))),
    })
    .await
    .expect("text stored")
}

async fn send_image(
    server: &RunningServer,
    token: &str,
    from: &str,
    to: Peer,
    cid_text: &str,
) -> SendAck {
    let mut port = Client::connect(server, Service::Image, Some(token)).await;
    let kind = if matches!(to, Peer::Group(_)) {
        MessageType::GroupImage
    } else {
        MessageType::Image
    };
    port.request(&SendFile {
        from: user(from),
        to,
        kind,
        data: PNG.to_vec(),
        name: Some("图.png".into()),
        duration: None,
        cid: Some(cid(cid_text)),
    })
    .await
    .expect("image stored")
}

/// Message `id` once pushed to `stream` (skipping others, like the demo's
/// history delivered at login).
async fn pushed(stream: &mut Client, id: MessageId) -> Message {
    loop {
        let message = stream
            .next_message(Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("message {id} pushed within 10 s"));
        if message.id == id {
            return message;
        }
    }
}

#[tokio::test]
async fn an_image_forwarded_into_a_group_is_a_group_image_its_members_may_fetch_and_nothing_else() {
    let (server, _data) = start().await;
    let (_w, wang) = log_in(&server, WANG).await;
    let (_z, zhang) = log_in(&server, ZHANG).await;
    let (mut liu_stream, liu) = log_in(&server, LIU).await;
    let (_l, li) = log_in(&server, LI).await;
    let tech = group_named(&server, &zhang.token, "技术部").await;
    let image = send_image(&server, &wang.token, WANG, Peer::User(user(ZHANG)), "i-1").await;
    let other = send_image(&server, &wang.token, WANG, Peer::User(user(ZHANG)), "i-2").await;
    let name = image.content.clone().expect("the image's stored name");
    let other_name = other.content.clone().expect("the other image's name");

    let mut actions = Client::connect(&server, Service::MessageActions, Some(&zhang.token)).await;
    let done: SendAck = actions
        .request(&forward(&[image.id], Peer::Group(tech), false, "f-1"))
        .await
        .expect("forwarded");
    assert_eq!(
        done.content.as_deref(),
        Some(name.as_str()),
        "the same stored file"
    );
    let copy = pushed(&mut liu_stream, done.id).await;
    assert_eq!(
        copy.kind,
        MessageType::GroupImage,
        "an image in a group is 11"
    );
    assert_eq!(copy.content, name);
    assert_eq!(copy.to, Peer::Group(tech));

    let addr = server.addr(Service::Image).expect("served");
    assert_eq!(
        http_status(addr, &file_path(&name, &liu.token)).await,
        200,
        "a member of the group"
    );
    assert_eq!(
        http_status(addr, &file_path(&other_name, &liu.token)).await,
        404,
        "not forwarded"
    );
    assert_eq!(
        http_status(addr, &file_path(&name, &li.token)).await,
        404,
        "in neither conversation"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_group_text_forwarded_to_a_person_becomes_a_one_to_one_text() {
    let (server, _data) = start().await;
    let (mut wang_stream, _wang) = log_in(&server, WANG).await;
    let (_z, zhang) = log_in(&server, ZHANG).await;
    let (_l, liu) = log_in(&server, LIU).await;
    let tech = group_named(&server, &zhang.token, "技术部").await;
    let sent = send_text(&server, &zhang.token, ZHANG, Peer::Group(tech), "周五开会").await;

    let mut actions = Client::connect(&server, Service::MessageActions, Some(&liu.token)).await;
    let done: SendAck = actions
        .request(&forward(&[sent.id], Peer::User(user(WANG)), false, "f-2"))
        .await
        .expect("forwarded");
    assert_eq!(done.content, None, "a text's ack carries no content");
    let copy = pushed(&mut wang_stream, done.id).await;
    assert_eq!(
        copy.kind,
        MessageType::Text,
        "a group text to a person is 0"
    );
    assert_eq!(copy.content, "周五开会");
    assert_eq!(
        copy.from,
        penpen_core::packets::message::Sender::User(user(LIU))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_merged_forward_is_one_chat_record_with_the_items_as_the_forwarder_saw_them() {
    let (server, _data) = start().await;
    let (_w, wang) = log_in(&server, WANG).await;
    let (_z, zhang) = log_in(&server, ZHANG).await;
    let (mut liu_stream, liu) = log_in(&server, LIU).await;
    let tech = group_named(&server, &zhang.token, "技术部").await;
    let text = send_text(
        &server,
        &wang.token,
        WANG,
        Peer::User(user(ZHANG)),
        "方案在这",
    )
    .await;
    let image = send_image(&server, &zhang.token, ZHANG, Peer::User(user(WANG)), "i-3").await;
    let name = image.content.clone().expect("stored name");

    let mut actions = Client::connect(&server, Service::MessageActions, Some(&zhang.token)).await;
    let done: SendAck = actions
        .request(&forward(
            &[text.id, image.id],
            Peer::Group(tech),
            true,
            "f-3",
        ))
        .await
        .expect("merged");
    let copy = pushed(&mut liu_stream, done.id).await;
    assert_eq!(done.content.as_deref(), Some(copy.content.as_str()));
    assert_eq!(copy.kind, MessageType::GroupChatRecord);
    let record: ChatRecord = serde_json::from_str(&copy.content).expect("a chat record");
    assert_eq!(
        record.source,
        Peer::User(user(WANG)),
        "the conversation as 张伟 names it"
    );
    let items: Vec<_> = record
        .items
        .iter()
        .map(|i| {
            (
                i.from.as_str(),
                i.kind,
                i.content.as_str(),
                i.ts,
                i.time.as_str(),
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            (
                WANG,
                MessageType::Text,
                "方案在这",
                text.ts,
                text.time.as_str()
            ),
            (
                ZHANG,
                MessageType::Image,
                name.as_str(),
                image.ts,
                image.time.as_str()
            ),
        ]
    );
    let addr = server.addr(Service::Image).expect("served");
    assert_eq!(
        http_status(addr, &file_path(&name, &liu.token)).await,
        200,
        "the record's image"
    );

    // The original's recall leaves the record's copy served.
    let mut zhang_actions =
        Client::connect(&server, Service::MessageActions, Some(&zhang.token)).await;
    let _: SendAck = zhang_actions
        .request(&MessageAction::Recall(Recall { recall: image.id }))
        .await
        .expect("recalled");
    assert_eq!(
        http_status(addr, &file_path(&name, &liu.token)).await,
        200,
        "kept for the record"
    );
    assert_eq!(
        http_status(addr, &file_path(&name, &wang.token)).await,
        404,
        "gone from its own conversation"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn unseen_recalled_or_mixed_messages_are_refused_and_a_repeat_makes_nothing_new() {
    let (server, _data) = start().await;
    let (_w, wang) = log_in(&server, WANG).await;
    let (mut zhang_stream, zhang) = log_in(&server, ZHANG).await;
    let (_l, liu) = log_in(&server, LIU).await;
    let tech = group_named(&server, &zhang.token, "技术部").await;
    let private = send_text(&server, &wang.token, WANG, Peer::User(user(ZHANG)), "私聊").await;
    let in_group = send_text(&server, &zhang.token, ZHANG, Peer::Group(tech), "群聊").await;
    let taken_back = send_text(
        &server,
        &wang.token,
        WANG,
        Peer::User(user(ZHANG)),
        "撤回的",
    )
    .await;
    let mut wang_actions =
        Client::connect(&server, Service::MessageActions, Some(&wang.token)).await;
    let _: SendAck = wang_actions
        .request(&MessageAction::Recall(Recall {
            recall: taken_back.id,
        }))
        .await
        .expect("recalled");

    let mut liu_actions = Client::connect(&server, Service::MessageActions, Some(&liu.token)).await;
    let err = liu_actions
        .request::<_, SendAck>(&forward(&[private.id], Peer::Group(tech), false, "x-1"))
        .await
        .expect_err("not 刘洋's to see");
    assert_eq!(err.state, State::NO_SUCH_MESSAGE, "{err:?}");

    let mut actions = Client::connect(&server, Service::MessageActions, Some(&zhang.token)).await;
    let err = actions
        .request::<_, SendAck>(&forward(&[taken_back.id], Peer::Group(tech), false, "x-2"))
        .await
        .expect_err("recalled");
    assert_eq!(err.state, State::BAD_PACKET, "{err:?}");
    let err = actions
        .request::<_, SendAck>(&forward(
            &[private.id, in_group.id],
            Peer::User(user(LIU)),
            true,
            "x-3",
        ))
        .await
        .expect_err("two conversations");
    assert_eq!(err.state, State::BAD_PACKET, "{err:?}");
    assert!(err.error.contains("one conversation"), "{err:?}");
    let err = actions
        .request::<_, SendAck>(&forward(
            &[private.id],
            Peer::User(user("13899999999")),
            false,
            "x-4",
        ))
        .await
        .expect_err("no such user");
    assert_eq!(err.state, State::UNKNOWN_USER, "{err:?}");
    let err = liu_actions
        .request::<_, SendAck>(&forward(
            &[in_group.id],
            Peer::Group(GroupId::new(999).expect("gid")),
            false,
            "x-5",
        ))
        .await
        .expect_err("no such group");
    assert_eq!(err.state, State::UNKNOWN_GROUP, "{err:?}");

    let first: SendAck = actions
        .request(&forward(&[private.id], Peer::User(user(LIU)), false, "f-4"))
        .await
        .expect("forwarded");
    let copy = pushed(&mut zhang_stream, first.id).await;
    assert_eq!(
        copy.kind,
        MessageType::Text,
        "the forwarder's own stream has its copy"
    );
    let again: SendAck = actions
        .request(&forward(&[private.id], Peer::User(user(LIU)), false, "f-4"))
        .await
        .expect("the repeat is answered");
    assert_eq!(
        (again.id, again.seq, again.ts),
        (first.id, first.seq, first.ts)
    );
    assert!(
        zhang_stream
            .next_message(Duration::from_millis(500))
            .await
            .is_none(),
        "a repeat is not delivered again"
    );
    server.shutdown().await;
}
