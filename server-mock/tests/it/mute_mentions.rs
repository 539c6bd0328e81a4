//! Mute (32888) and @mentions (26888) against a real server (PROTOCOL
//! §15.4, §15.5). In the demo company, group 1 is 技术部: 张伟 (ZHANG)
//! holds it, 刘洋 (LIU) and 陈静 (13800000005) are members, 王建国 (WANG)
//! is not.

use crate::common::*;
use penpen_core::packets::Done;
use penpen_core::packets::groups::Members;
use penpen_core::packets::login::Push;
use penpen_core::packets::message::{Message, MessageType, SendAck, SendText};
use penpen_core::packets::settings::{ConversationMute, MutedList, MutedQuery};
use penpen_core::packets::sync::{CatchUp, History, MessagePage};
use penpen_core::{ClientMsgId, GroupId, Peer, Service, State};
use std::time::Duration;

const CHEN: &str = "13800000005";
const SOON: Duration = Duration::from_secs(10);

fn tech() -> Peer {
    Peer::Group(GroupId::parse("1").expect("gid"))
}

fn mute(target: Peer, muted: bool) -> ConversationMute {
    ConversationMute { target, muted }
}

/// The next `{"conversation":…}` push on a live stream, skipping the others.
async fn next_setting(stream: &mut Client) -> ConversationMute {
    loop {
        let payload = stream.next_payload(SOON).await.expect("a push");
        if let Ok(Push::Conversation { conversation }) = serde_json::from_str(&payload) {
            return conversation;
        }
    }
}

async fn muted(settings: &mut Client) -> Vec<Peer> {
    let list: MutedList = settings.request(&MutedQuery {}).await.expect("listed");
    list.muted.0
}

#[tokio::test]
async fn a_mute_is_stored_listed_pushed_to_every_session_and_survives_a_restart() {
    let data = tempfile::tempdir().expect("temporary folder");
    let server = start_in(data.path()).await;
    let (_phone_stream, phone) = log_in(&server, LIU).await;
    let (mut desk_stream, _desk) = log_in(&server, LIU).await;
    let mut settings =
        Client::connect(&server, Service::ConversationSettings, Some(&phone.token)).await;
    assert_eq!(muted(&mut settings).await, []);

    let _: Done = settings.request(&mute(tech(), true)).await.expect("muted");
    assert_eq!(next_setting(&mut desk_stream).await, mute(tech(), true));
    let wang = Peer::User(user(WANG));
    let _: Done = settings
        .request(&mute(wang.clone(), true))
        .await
        .expect("a person muted");
    assert_eq!(
        next_setting(&mut desk_stream).await,
        mute(wang.clone(), true)
    );
    // Setting it again is no error.
    let _: Done = settings
        .request(&mute(wang.clone(), true))
        .await
        .expect("again");
    let mut list = muted(&mut settings).await;
    list.sort_by_key(Peer::to_string);
    assert_eq!(list, [tech(), wang.clone()]);

    let _: Done = settings
        .request(&mute(wang.clone(), false))
        .await
        .expect("unmuted");
    assert_eq!(
        next_setting(&mut desk_stream).await,
        mute(wang.clone(), true)
    );
    assert_eq!(next_setting(&mut desk_stream).await, mute(wang, false));
    assert_eq!(muted(&mut settings).await, [tech()]);
    // Someone else's list is their own.
    let (_s, zhang) = log_in(&server, ZHANG).await;
    let mut other =
        Client::connect(&server, Service::ConversationSettings, Some(&zhang.token)).await;
    assert_eq!(muted(&mut other).await, []);

    drop((settings, other, desk_stream));
    server.shutdown().await;
    let server = start_in(data.path()).await;
    let (_stream, again) = log_in(&server, LIU).await;
    let mut settings =
        Client::connect(&server, Service::ConversationSettings, Some(&again.token)).await;
    assert_eq!(muted(&mut settings).await, [tech()]);
}

#[tokio::test]
async fn a_mute_is_refused_for_strangers_and_unknown_conversations() {
    let (server, _data) = start().await;
    let (_s, wang) = log_in(&server, WANG).await;
    let mut settings =
        Client::connect(&server, Service::ConversationSettings, Some(&wang.token)).await;
    let refused =
        |result: Result<Done, penpen_core::ErrorReply>| result.expect_err("refused").state;
    assert_eq!(
        refused(settings.request(&mute(tech(), true)).await),
        State::NOT_A_MEMBER
    );
    let nowhere = Peer::Group(GroupId::parse("999").expect("gid"));
    assert_eq!(
        refused(settings.request(&mute(nowhere, true)).await),
        State::UNKNOWN_GROUP
    );
    let nobody = Peer::User(user("13899999999"));
    assert_eq!(
        refused(settings.request(&mute(nobody, true)).await),
        State::UNKNOWN_USER
    );
    settings
        .send_text(
            &penpen_core::Frame::encode_payload(penpen_core::Encoding::Plain, r#"{"target":"1"}"#)
                .expect("frame"),
        )
        .await;
    let reply: Result<Done, _> = decode_reply(&settings.payload().await);
    assert_eq!(reply.expect_err("no muted").state, State::BAD_PACKET);
    assert_eq!(muted(&mut settings).await, []);
}

fn group_text(from: &str, text: &str, mentions: &[&str], all: bool, cid: &str) -> SendText {
    SendText {
        quote: None,
        mentions: (!mentions.is_empty())
            .then(|| Members(mentions.iter().map(|m| user(m)).collect())),
        mention_all: all,
        from: user(from),
        to: tech(),
        kind: MessageType::GroupText,
        content: text.into(),
        cid: Some(ClientMsgId::parse(cid).expect("cid")),
    }
}

/// The pushed message with `id`, skipping others.
async fn pushed(stream: &mut Client, id: penpen_core::MessageId) -> Message {
    loop {
        let message = stream.next_message(SOON).await.expect("a pushed message");
        if message.id == id {
            return message;
        }
    }
}

#[tokio::test]
async fn mentions_reach_every_member_in_pushes_catch_up_and_history() {
    let (server, _data) = start().await;
    let (_s, liu) = log_in(&server, LIU).await;
    let (mut chen_stream, chen) = log_in(&server, CHEN).await;
    let mut send = Client::connect(&server, Service::GroupText, Some(&liu.token)).await;
    let ack: SendAck = send
        .request(&group_text(LIU, "@陈静 请看下", &[CHEN], false, "c-m1"))
        .await
        .expect("stored");

    let message = pushed(&mut chen_stream, ack.id).await;
    assert_eq!(message.mentions, Some(Members(vec![user(CHEN)])));
    assert!(!message.mention_all);
    // A repeated send is answered again and stores nothing twice.
    let again: SendAck = send
        .request(&group_text(LIU, "@陈静 请看下", &[CHEN], false, "c-m1"))
        .await
        .expect("repeated");
    assert_eq!(again.id, ack.id);

    let mut sync = Client::connect(&server, Service::SyncMessages, Some(&chen.token)).await;
    let page: MessagePage = sync
        .request(&CatchUp {
            since: penpen_core::Seq(0),
            limit: Some(1000),
        })
        .await
        .expect("caught up");
    let caught = page
        .messages
        .iter()
        .find(|m| m.id == ack.id)
        .expect("in the catch-up");
    assert_eq!(caught.mentions, Some(Members(vec![user(CHEN)])));
    let page: MessagePage = sync
        .request(&History {
            target: tech(),
            before: None,
            limit: Some(5),
        })
        .await
        .expect("a page");
    let paged = page
        .messages
        .iter()
        .find(|m| m.id == ack.id)
        .expect("in the page");
    assert_eq!(paged.mentions, Some(Members(vec![user(CHEN)])));
    // A message without mentions carries neither field.
    let plain: SendAck = send
        .request(&group_text(LIU, "大家好", &[], false, "c-m2"))
        .await
        .expect("stored");
    let message = pushed(&mut chen_stream, plain.id).await;
    assert_eq!((message.mentions, message.mention_all), (None, false));
}

#[tokio::test]
async fn only_members_may_be_mentioned_and_only_the_holder_mentions_everyone() {
    let (server, _data) = start().await;
    let (_s, liu) = log_in(&server, LIU).await;
    let (_z, zhang) = log_in(&server, ZHANG).await;
    let (mut chen_stream, _chen) = log_in(&server, CHEN).await;
    let mut member = Client::connect(&server, Service::GroupText, Some(&liu.token)).await;
    let mut holder = Client::connect(&server, Service::GroupText, Some(&zhang.token)).await;

    let refused = member
        .request::<_, SendAck>(&group_text(LIU, "@王建国", &[WANG], false, "c-m3"))
        .await
        .expect_err("not a member");
    assert_eq!(refused.state, State::BAD_PACKET);
    assert!(refused.error.contains(WANG), "{}", refused.error);
    let refused = member
        .request::<_, SendAck>(&group_text(LIU, "@所有人", &[], true, "c-m4"))
        .await
        .expect_err("not the holder");
    assert_eq!(refused.state, State::FORBIDDEN);

    let ack: SendAck = holder
        .request(&group_text(
            ZHANG,
            "@所有人 下午三点开会",
            &[],
            true,
            "c-m5",
        ))
        .await
        .expect("the holder may");
    let message = pushed(&mut chen_stream, ack.id).await;
    assert!(message.mention_all);
    assert_eq!(message.content, "@所有人 下午三点开会");
    // Nothing of the refused ones was stored: the next message the member
    // gets is the holder's.
    let mut sync = Client::connect(&server, Service::SyncMessages, Some(&liu.token)).await;
    let page: MessagePage = sync
        .request(&History {
            target: tech(),
            before: None,
            limit: Some(3),
        })
        .await
        .expect("a page");
    assert_eq!(page.messages.last().map(|m| m.id), Some(ack.id));
    assert!(
        page.messages
            .iter()
            .all(|m| m.cid.as_ref().map(ClientMsgId::as_str) != Some("c-m3"))
    );
}
