//! Discussion groups, profile changes and broadcasts, against a real server.

use crate::common::*;
use penpen_core::packets::Done;
use penpen_core::packets::broadcast::{
    BroadcastAck, BroadcastKind, BroadcastPage, BroadcastQuery, SendBroadcast,
};
use penpen_core::packets::groups::{
    GroupCreate, GroupCreated, GroupMembersChange, GroupRename, GroupUpdated, Members,
    MembersAction,
};
use penpen_core::packets::login::{Login, LoginReply, Push};
use penpen_core::packets::message::{
    GroupCreatedNotice, GroupMembersNotice, MessageType, SendAck, SendText,
};
use penpen_core::packets::profile::{
    PasswordUpdate, Presence, PresenceUpdate, SignatureQuery, SignatureUpdate, Signatures,
};
use penpen_core::packets::sync::{History, MessagePage};
use penpen_core::{ClientMsgId, GroupId, Peer, Service, State, digest};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(400);
const SOON: Duration = Duration::from_secs(5);

async fn drain(client: &mut Client) {
    while client.next_payload(QUIET).await.is_some() {}
}

/// The next push that is not a presence change.
async fn next_push(client: &mut Client) -> Push {
    loop {
        let payload = client.next_payload(SOON).await.expect("a push");
        let push: Push = serde_json::from_str(&payload).expect("a push");
        if !matches!(push, Push::Presence { .. }) {
            return push;
        }
    }
}

fn group_text(from: &str, gid: GroupId, text: &str) -> SendText {
    SendText {
        quote: None,
        mentions: None,
        mention_all: false,
        from: user(from),
        to: Peer::Group(gid),
        kind: MessageType::GroupText,
        content: text.into(),
        cid: None,
    }
}

#[tokio::test]
async fn a_group_is_created_renamed_and_changed_with_notices_to_its_members() {
    let (server, _data) = start().await;
    let (_s, zhang) = log_in(&server, ZHANG).await;
    let (mut liu_stream, liu) = log_in(&server, LIU).await;
    drain(&mut liu_stream).await;

    let mut create = Client::connect(&server, Service::GroupCreate, Some(&zhang.token)).await;
    let created: GroupCreated = create
        .request(&GroupCreate {
            holder: user(ZHANG),
            name: "发版小组".into(),
            member: Members(vec![user(LIU), user(WANG)]),
        })
        .await
        .expect("created");
    let Push::Message(notice) = next_push(&mut liu_stream).await else {
        panic!("a notice")
    };
    assert_eq!(
        (notice.kind, notice.to.clone()),
        (MessageType::GroupCreated, Peer::Group(created.gid))
    );
    let content: GroupCreatedNotice = notice.notice().expect("type-19 content");
    assert_eq!(content.holder, user(ZHANG));
    assert_eq!(content.name, "发版小组");
    assert_eq!(
        content.member.0,
        vec![user(ZHANG), user(LIU), user(WANG)],
        "the holder is a member, first"
    );

    let spoofed = create
        .request::<_, GroupCreated>(&GroupCreate {
            holder: user(LIU),
            name: "冒名".into(),
            member: Members(vec![user(WANG)]),
        })
        .await
        .expect_err("holder must be the caller");
    assert_eq!(spoofed.state, State::FORBIDDEN);

    let mut rename = Client::connect(&server, Service::GroupRename, Some(&liu.token)).await;
    let renamed: GroupUpdated = rename
        .request(&GroupRename {
            gid: created.gid,
            name: "发版小组（周五）".into(),
        })
        .await
        .expect("any member renames");
    assert_eq!(renamed.group.name, "发版小组（周五）");
    let Push::Message(notice) = next_push(&mut liu_stream).await else {
        panic!("a notice")
    };
    assert_eq!(notice.kind, MessageType::GroupRenamed);

    // Only the holder removes; Liu may not.
    let mut liu_members = Client::connect(&server, Service::GroupMembers, Some(&liu.token)).await;
    let refused = liu_members
        .request::<_, GroupUpdated>(&GroupMembersChange {
            gid: created.gid,
            action: MembersAction::Remove,
            member: Members(vec![user(WANG)]),
        })
        .await
        .expect_err("not the holder");
    assert_eq!(refused.state, State::FORBIDDEN);
    let added: GroupUpdated = liu_members
        .request(&GroupMembersChange {
            gid: created.gid,
            action: MembersAction::Add,
            member: Members(vec![user(ZHOU)]),
        })
        .await
        .expect("any member adds");
    assert!(added.group.member.contains(&user(ZHOU)));
    let Push::Message(notice) = next_push(&mut liu_stream).await else {
        panic!("a notice")
    };
    let content: GroupMembersNotice = notice.notice().expect("type-21 content");
    assert_eq!(
        (notice.kind, content.member.0),
        (MessageType::GroupMembersAdded, vec![user(ZHOU)])
    );

    // The holder removes Liu, who gets the notice and can no longer post, but can read up to it.
    let mut zhang_members =
        Client::connect(&server, Service::GroupMembers, Some(&zhang.token)).await;
    let removed: GroupUpdated = zhang_members
        .request(&GroupMembersChange {
            gid: created.gid,
            action: MembersAction::Remove,
            member: Members(vec![user(LIU)]),
        })
        .await
        .expect("the holder removes");
    assert!(!removed.group.member.contains(&user(LIU)));
    let Push::Message(notice) = next_push(&mut liu_stream).await else {
        panic!("a notice")
    };
    assert_eq!(notice.kind, MessageType::GroupMembersRemoved);
    let mut liu_group = Client::connect(&server, Service::GroupText, Some(&liu.token)).await;
    let refused = liu_group
        .request::<_, SendAck>(&group_text(LIU, created.gid, "还在吗"))
        .await
        .expect_err("removed");
    assert_eq!(refused.state, State::NOT_A_MEMBER);
    let mut zhang_group = Client::connect(&server, Service::GroupText, Some(&zhang.token)).await;
    let _: SendAck = zhang_group
        .request(&group_text(ZHANG, created.gid, "移除之后的消息"))
        .await
        .expect("stored");
    let mut sync = Client::connect(&server, Service::SyncMessages, Some(&liu.token)).await;
    let page: MessagePage = sync
        .request(&History {
            target: Peer::Group(created.gid),
            before: None,
            limit: None,
        })
        .await
        .expect("readable");
    assert_eq!(
        page.messages.last().map(|m| m.kind),
        Some(MessageType::GroupMembersRemoved)
    );
    assert!(page.messages.iter().all(|m| m.content != "移除之后的消息"));

    // The holder leaves: the longest-standing member (Wang) takes over.
    let left: GroupUpdated = zhang_members
        .request(&GroupMembersChange {
            gid: created.gid,
            action: MembersAction::Leave,
            member: Members::default(),
        })
        .await
        .expect("leaves");
    assert_eq!(left.group.holder, user(WANG));
    assert_eq!(left.group.member.0, vec![user(WANG), user(ZHOU)]);

    let unknown = zhang_members
        .request::<_, GroupUpdated>(&GroupMembersChange {
            gid: GroupId::new(999).expect("gid"),
            action: MembersAction::Leave,
            member: Members::default(),
        })
        .await
        .expect_err("no such group");
    assert_eq!(unknown.state, State::UNKNOWN_GROUP);
    server.shutdown().await;
}

#[tokio::test]
async fn a_password_change_needs_the_old_one_and_signs_out_other_sessions() {
    let (server, _data) = start().await;
    let (mut phone, _) = log_in(&server, LIU).await;
    let (_laptop_stream, laptop) = log_in(&server, LIU).await;
    drain(&mut phone).await;

    let mut port = Client::connect(&server, Service::Password, Some(&laptop.token)).await;
    let wrong = PasswordUpdate {
        user: user(LIU),
        old: digest::password_digest("nope"),
        new: digest::password_digest("新密码2027"),
    };
    assert_eq!(
        port.request::<_, Done>(&wrong)
            .await
            .expect_err("wrong old")
            .state,
        State::WRONG_PASSWORD
    );
    let right = PasswordUpdate {
        user: user(LIU),
        old: digest::password_digest(PASSWORD),
        new: digest::password_digest("新密码2027"),
    };
    let _: Done = port.request(&right).await.expect("changed");

    assert!(
        matches!(next_push(&mut phone).await, Push::SignedOut { .. }),
        "the other session hears it is signed out"
    );
    assert!(phone.next_payload(SOON).await.is_none(), "and is closed");

    let mut login = Client::connect(&server, Service::Login, None).await;
    let old = login
        .request::<_, LoginReply>(&Login {
            user: user(LIU),
            password: digest::password_digest(PASSWORD),
        })
        .await;
    assert_eq!(
        old.expect_err("the old password is gone").state,
        State::LOGIN_FAILED
    );
    let _: LoginReply = login
        .request(&Login {
            user: user(LIU),
            password: digest::password_digest("新密码2027"),
        })
        .await
        .expect("the new one works");
    // The session that changed it keeps working.
    let mut again = Client::connect(&server, Service::Signature, Some(&laptop.token)).await;
    let _: Done = again
        .request(&SignatureUpdate {
            user: user(LIU),
            signing: "改好了".into(),
        })
        .await
        .expect("still signed in");
    server.shutdown().await;
}

#[tokio::test]
async fn signatures_and_presence_are_stored_pushed_and_synced() {
    let (server, _data) = start().await;
    let (mut wang_stream, _) = log_in(&server, WANG).await;
    drain(&mut wang_stream).await;
    let (_s, zhang) = log_in(&server, ZHANG).await;

    let mut signature = Client::connect(&server, Service::Signature, Some(&zhang.token)).await;
    let _: Done = signature
        .request(&SignatureUpdate {
            user: user(ZHANG),
            signing: "今天也要加油 💪".into(),
        })
        .await
        .expect("set");
    let spoof = signature
        .request::<_, Done>(&SignatureUpdate {
            user: user(LIU),
            signing: "x".into(),
        })
        .await;
    assert_eq!(spoof.expect_err("not the caller").state, State::FORBIDDEN);
    let Push::Signature { signature: change } = next_push(&mut wang_stream).await else {
        panic!("a signature push")
    };
    assert_eq!(
        (change.user, change.signing.as_str()),
        (user(ZHANG), "今天也要加油 💪")
    );

    let mut sync = Client::connect(&server, Service::SyncSignatures, Some(&zhang.token)).await;
    let found: Signatures = sync
        .request(&SignatureQuery {
            users: vec![user(ZHANG), user(WANG), user("13999999999")],
        })
        .await
        .expect("synced");
    assert_eq!(
        found.signatures.get(&user(ZHANG)).map(String::as_str),
        Some("今天也要加油 💪")
    );
    assert_eq!(
        found.signatures.get(&user(WANG)).map(String::as_str),
        Some("让沟通更简单")
    );
    assert!(
        !found.signatures.contains_key(&user("13999999999")),
        "unknown users are left out"
    );

    let mut presence = Client::connect(&server, Service::Presence, Some(&zhang.token)).await;
    let _: Done = presence
        .request(&PresenceUpdate {
            user: user(ZHANG),
            presence: Presence::Busy,
        })
        .await
        .expect("set");
    loop {
        let payload = wang_stream
            .next_payload(SOON)
            .await
            .expect("a presence push");
        if let Ok(Push::Presence { presence: change }) = serde_json::from_str::<Push>(&payload)
            && change.user == user(ZHANG)
            && change.presence == Presence::Busy
        {
            break;
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn broadcasts_come_from_allowed_senders_live_and_through_sync() {
    let (server, _data) = start().await;
    let (mut liu_stream, liu) = log_in(&server, LIU).await;
    drain(&mut liu_stream).await;
    let (_s, wang) = log_in(&server, WANG).await;

    let send = SendBroadcast {
        from: user(WANG),
        kind: BroadcastKind::Announcement,
        title: "年会通知".into(),
        content: "12月20日晚六点，公司年会，不见不散！".into(),
        cid: Some(ClientMsgId::parse("b-1").expect("cid")),
    };
    let mut port = Client::connect(&server, Service::Broadcast, Some(&wang.token)).await;
    let ack: BroadcastAck = port.request(&send).await.expect("allowed");
    let again: BroadcastAck = port.request(&send).await.expect("a retry");
    assert_eq!(
        again.broadcast.id, ack.broadcast.id,
        "a repeated cid stores nothing new"
    );
    let Push::Broadcast { broadcast } = next_push(&mut liu_stream).await else {
        panic!("a broadcast push")
    };
    assert_eq!(broadcast, ack.broadcast);

    let mut liu_port = Client::connect(&server, Service::Broadcast, Some(&liu.token)).await;
    let refused = liu_port
        .request::<_, BroadcastAck>(&SendBroadcast {
            from: user(LIU),
            ..send.clone()
        })
        .await
        .expect_err("Liu may not broadcast");
    assert_eq!(refused.state, State::FORBIDDEN);

    let mut sync = Client::connect(&server, Service::SyncBroadcasts, Some(&liu.token)).await;
    let page: BroadcastPage = sync
        .request(&BroadcastQuery::default())
        .await
        .expect("synced");
    assert!(
        page.broadcasts.len() >= 4,
        "the demo's broadcasts and the new one"
    );
    assert_eq!(page.broadcasts.last().map(|b| b.id), Some(ack.broadcast.id));
    let newer: BroadcastPage = sync
        .request(&BroadcastQuery {
            since: Some(ack.broadcast.id),
            limit: None,
        })
        .await
        .expect("synced");
    assert!(newer.broadcasts.is_empty());
    server.shutdown().await;
}
