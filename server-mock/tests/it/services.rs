//! Login, the live stream, text messages and sync, against a real server.

use crate::common::*;
use penpen_core::packets::Done;
use penpen_core::packets::directory::{Directory, DirectoryQuery};
use penpen_core::packets::groups::{Groups, GroupsQuery};
use penpen_core::packets::login::{Login, LoginReply, Logout, Resume, StreamAck};
use penpen_core::packets::message::{MessageType, SendAck, SendText, Sender};
use penpen_core::packets::sync::{CatchUp, History, MessagePage};
use penpen_core::{ClientMsgId, Peer, Seq, Service, State, digest};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(400);

fn text(from: &str, to: &str, content: &str, cid: &str) -> SendText {
    SendText {
        quote: None,
        mentions: None,
        mention_all: false,
        from: user(from),
        to: Peer::User(user(to)),
        kind: MessageType::Text,
        content: content.into(),
        cid: Some(ClientMsgId::parse(cid).expect("cid")),
    }
}

#[tokio::test]
async fn login_succeeds_with_the_right_digest_and_fails_otherwise() {
    let (server, _data) = start().await;
    let (_stream, reply) = log_in(&server, ZHANG).await;
    assert_eq!(reply.name, "张伟");
    assert_eq!(reply.token.len(), 64);

    let mut stream = Client::connect(&server, Service::Login, None).await;
    for (account, password) in [(ZHANG, "wrong"), ("13999999999", PASSWORD)] {
        let refused = stream
            .request::<_, LoginReply>(&Login {
                user: user(account),
                password: digest::password_digest(password),
            })
            .await
            .expect_err("refused");
        assert_eq!(refused.state, State::LOGIN_FAILED, "{account}");
    }
    stream.send_text(r#"{"head":1100,"body":{"user":"13800000003","password":"penpen2026"},"tail":"PENPEN 1.0"}"#).await;
    let refused = decode_reply::<LoginReply>(&stream.payload().await).expect_err("not a digest");
    assert_eq!(refused.state, State::BAD_PACKET);
    assert!(refused.error.contains("md5"), "{}", refused.error);
    server.shutdown().await;
}

#[tokio::test]
async fn repeated_failures_are_rate_limited() {
    let (server, _data) = start().await;
    let mut stream = Client::connect(&server, Service::Login, None).await;
    let wrong = Login {
        user: user(LIU),
        password: digest::password_digest("guess"),
    };
    for _ in 0..5 {
        let refused = stream
            .request::<_, LoginReply>(&wrong)
            .await
            .expect_err("wrong");
        assert_eq!(refused.state, State::LOGIN_FAILED);
    }
    let refused = stream
        .request::<_, LoginReply>(&Login {
            user: user(LIU),
            password: digest::password_digest(PASSWORD),
        })
        .await
        .expect_err("limited even with the right password");
    assert_eq!(refused.state, State::RATE_LIMITED);
    server.shutdown().await;
}

#[tokio::test]
async fn every_port_but_login_refuses_upgrades_without_a_valid_token() {
    let (server, _data) = start().await;
    let (_stream, reply) = log_in(&server, ZHANG).await;
    for (service, addr) in server.addrs() {
        if *service == Service::Login {
            assert!(
                Client::try_connect(*addr, None).await.is_ok(),
                "login needs no token"
            );
            continue;
        }
        assert!(
            Client::try_connect(*addr, None).await.is_err(),
            "{service} without a token"
        );
        assert!(
            Client::try_connect(*addr, Some(&"0".repeat(64)))
                .await
                .is_err(),
            "{service} with an unknown token"
        );
        assert!(
            Client::try_connect(*addr, Some(&reply.token)).await.is_ok(),
            "{service} with the session's token"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_text_reaches_the_recipient_and_the_senders_other_sessions_once() {
    let (server, _data) = start().await;
    let (mut zhang_stream, zhang) = log_in(&server, ZHANG).await;
    let (mut zhang_laptop, _) = log_in(&server, ZHANG).await;
    let (mut liu_stream, _) = log_in(&server, LIU).await;
    // Drain the demo history each stream starts with.
    while zhang_stream.next_message(QUIET).await.is_some() {}
    while zhang_laptop.next_message(QUIET).await.is_some() {}
    while liu_stream.next_message(QUIET).await.is_some() {}

    let mut sender = Client::connect(&server, Service::Text, Some(&zhang.token)).await;
    let send = text(ZHANG, LIU, "周五下午三点开会 🐧", "c-1");
    let ack: SendAck = sender.request(&send).await.expect("stored");
    let again: SendAck = sender
        .request(&send)
        .await
        .expect("a retry gets the same ack");
    assert_eq!(again.id, ack.id);
    assert_eq!(again.seq, ack.seq);

    let received = liu_stream
        .next_message(Duration::from_secs(5))
        .await
        .expect("pushed to the recipient");
    assert_eq!(received.id, ack.id);
    assert_eq!(received.content, "周五下午三点开会 🐧");
    assert_eq!(received.from, Sender::User(user(ZHANG)));
    assert!(
        liu_stream.next_message(QUIET).await.is_none(),
        "the retry is never delivered twice"
    );

    for stream in [&mut zhang_stream, &mut zhang_laptop] {
        let own = stream
            .next_message(Duration::from_secs(5))
            .await
            .expect("the sender's sessions see it");
        assert_eq!(own.id, ack.id);
        assert_eq!(own.seq, Some(ack.seq));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn refusals_name_the_problem_and_store_nothing() {
    let (server, _data) = start().await;
    let (_stream, zhang) = log_in(&server, ZHANG).await;
    let mut sender = Client::connect(&server, Service::Text, Some(&zhang.token)).await;

    let as_someone_else = text(LIU, WANG, "冒充", "c-2");
    assert_eq!(
        sender
            .request::<_, SendAck>(&as_someone_else)
            .await
            .expect_err("refused")
            .state,
        State::FORBIDDEN
    );
    let to_nobody = text(ZHANG, "13999999999", "你好", "c-3");
    assert_eq!(
        sender
            .request::<_, SendAck>(&to_nobody)
            .await
            .expect_err("refused")
            .state,
        State::UNKNOWN_USER
    );
    sender.send_text("garbage").await;
    let bad = decode_reply::<SendAck>(&sender.payload().await).expect_err("refused");
    assert_eq!(bad.state, State::BAD_FRAME);

    // The lunch group (gid 3) does not include Zhang.
    let mut group = Client::connect(&server, Service::GroupText, Some(&zhang.token)).await;
    let not_member = SendText {
        quote: None,
        mentions: None,
        mention_all: false,
        from: user(ZHANG),
        to: Peer::parse("3").expect("gid"),
        kind: MessageType::GroupText,
        content: "蹭饭".into(),
        cid: None,
    };
    assert_eq!(
        group
            .request::<_, SendAck>(&not_member)
            .await
            .expect_err("refused")
            .state,
        State::NOT_A_MEMBER
    );
    // 1:1 text on the group port is the wrong port for it.
    assert_eq!(
        group
            .request::<_, SendAck>(&text(ZHANG, LIU, "hi", "c-4"))
            .await
            .expect_err("refused")
            .state,
        State::BAD_PACKET
    );
    // The connection stays usable after every refusal.
    let ack: SendAck = sender
        .request(&text(ZHANG, LIU, "still here", "c-5"))
        .await
        .expect("stored");
    assert!(ack.id.0 > 0);
    server.shutdown().await;
}

#[tokio::test]
async fn unacknowledged_messages_are_pushed_again_after_a_reconnect() {
    let (server, _data) = start().await;
    let (mut liu_stream, liu) = log_in(&server, LIU).await;
    let mut last = Seq(0);
    while let Some(message) = liu_stream.next_message(QUIET).await {
        last = message.seq.expect("pushed messages carry seq");
    }
    liu_stream.send(&StreamAck { ack: last }).await;

    let (_zhang_stream, zhang) = log_in(&server, ZHANG).await;
    let mut sender = Client::connect(&server, Service::Text, Some(&zhang.token)).await;
    let ack: SendAck = sender
        .request(&text(ZHANG, LIU, "第一条", "c-6"))
        .await
        .expect("stored");
    let first = liu_stream
        .next_message(Duration::from_secs(5))
        .await
        .expect("pushed");
    assert_eq!(first.id, ack.id);
    drop(liu_stream); // gone before acknowledging it

    let mut resumed = Client::connect(&server, Service::Login, None).await;
    let _: LoginReply = resumed
        .request(&Resume {
            user: user(LIU),
            token: liu.token.clone(),
            catch_up: false,
        })
        .await
        .expect("resumes");
    let again = resumed
        .next_message(Duration::from_secs(5))
        .await
        .expect("pushed again");
    assert_eq!(again.id, ack.id);
    resumed
        .send(&StreamAck {
            ack: again.seq.expect("seq"),
        })
        .await;
    tokio::time::sleep(QUIET).await;
    drop(resumed);

    let mut third = Client::connect(&server, Service::Login, None).await;
    let _: LoginReply = third
        .request(&Resume {
            user: user(LIU),
            token: liu.token,
            catch_up: false,
        })
        .await
        .expect("resumes");
    assert!(
        third.next_message(QUIET).await.is_none(),
        "acknowledged messages are not pushed again"
    );
    server.shutdown().await;
}

/// A client that catches up on 50888 itself says so in its resume: the
/// stream skips what it has not acknowledged and pushes only what is stored
/// from then on, and 50888 still holds the skipped ones.
#[tokio::test]
async fn a_resume_that_catches_up_itself_gets_only_new_messages_on_the_stream() {
    let (server, _data) = start().await;
    let (liu_stream, liu) = log_in(&server, LIU).await;
    drop(liu_stream);
    let (_zhang_stream, zhang) = log_in(&server, ZHANG).await;
    let mut sender = Client::connect(&server, Service::Text, Some(&zhang.token)).await;
    let missed: SendAck = sender
        .request(&text(ZHANG, LIU, "不在时发的", "c-catch-1"))
        .await
        .expect("stored");

    let mut resumed = Client::connect(&server, Service::Login, None).await;
    let _: LoginReply = resumed
        .request(&Resume {
            user: user(LIU),
            token: liu.token.clone(),
            catch_up: true,
        })
        .await
        .expect("resumes");
    let fresh: SendAck = sender
        .request(&text(ZHANG, LIU, "回来以后发的", "c-catch-2"))
        .await
        .expect("stored");
    let pushed = resumed
        .next_message(Duration::from_secs(5))
        .await
        .expect("the new message is pushed");
    assert_eq!(pushed.id, fresh.id, "the stream starts after the backlog");
    assert!(
        resumed.next_message(QUIET).await.is_none(),
        "nothing else is pushed"
    );

    let mut sync = Client::connect(&server, Service::SyncMessages, Some(&liu.token)).await;
    let page: MessagePage = sync
        .request(&CatchUp {
            since: Seq(0),
            limit: None,
        })
        .await
        .expect("synced");
    let ids: Vec<_> = page.messages.iter().map(|m| m.id).collect();
    assert!(
        ids.contains(&missed.id) && ids.contains(&fresh.id),
        "50888 has both: {ids:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn messages_survive_a_restart() {
    let data = tempfile::tempdir().expect("folder");
    let server = start_in(data.path()).await;
    let (_stream, zhang) = log_in(&server, ZHANG).await;
    let mut sender = Client::connect(&server, Service::Text, Some(&zhang.token)).await;
    let ack: SendAck = sender
        .request(&text(ZHANG, WANG, "重启之前发的", "c-7"))
        .await
        .expect("stored");
    server.shutdown().await;

    let server = start_in(data.path()).await;
    let (mut wang_stream, wang) = log_in(&server, WANG).await;
    let mut seen = false;
    while let Some(message) = wang_stream.next_message(QUIET).await {
        seen |= message.id == ack.id;
    }
    assert!(seen, "the message is pushed after the restart");
    let mut sync = Client::connect(&server, Service::SyncMessages, Some(&wang.token)).await;
    let page: MessagePage = sync
        .request(&CatchUp {
            since: Seq(0),
            limit: None,
        })
        .await
        .expect("catch-up");
    assert!(
        page.messages
            .iter()
            .any(|m| m.id == ack.id && m.content == "重启之前发的")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn history_pages_walk_back_through_a_conversation() {
    let (server, _data) = start().await;
    let (_stream, zhang) = log_in(&server, ZHANG).await;
    let mut sender = Client::connect(&server, Service::Text, Some(&zhang.token)).await;
    for n in 0..7 {
        let _: SendAck = sender
            .request(&text(ZHANG, ZHOU, &format!("消息 {n}"), &format!("h-{n}")))
            .await
            .expect("stored");
    }
    let mut sync = Client::connect(&server, Service::SyncMessages, Some(&zhang.token)).await;
    let newest: MessagePage = sync
        .request(&History {
            target: Peer::User(user(ZHOU)),
            before: None,
            limit: Some(3),
        })
        .await
        .expect("page");
    let texts: Vec<_> = newest.messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(texts, ["消息 4", "消息 5", "消息 6"]);
    assert!(newest.more);
    let older: MessagePage = sync
        .request(&History {
            target: Peer::User(user(ZHOU)),
            before: Some(newest.messages[0].id),
            limit: Some(10),
        })
        .await
        .expect("page");
    assert_eq!(older.messages.len(), 4);
    assert!(!older.more);

    let lunch = Peer::parse("3").expect("gid");
    let refused = sync
        .request::<_, MessagePage>(&History {
            target: lunch,
            before: None,
            limit: None,
        })
        .await
        .expect_err("not a member of the lunch group");
    assert_eq!(refused.state, State::NOT_A_MEMBER);
    server.shutdown().await;
}

#[tokio::test]
async fn group_text_reaches_every_member() {
    let (server, _data) = start().await;
    let (_zhang_stream, zhang) = log_in(&server, ZHANG).await;
    let (mut liu_stream, _) = log_in(&server, LIU).await;
    while liu_stream.next_message(QUIET).await.is_some() {}

    let mut groups_port = Client::connect(&server, Service::SyncGroups, Some(&zhang.token)).await;
    let groups: Groups = groups_port
        .request(&GroupsQuery::default())
        .await
        .expect("groups");
    let dev = groups
        .groups
        .iter()
        .find(|g| g.name == "技术部")
        .expect("the demo dev group");
    assert!(dev.member.contains(&user(LIU)));

    let mut sender = Client::connect(&server, Service::GroupText, Some(&zhang.token)).await;
    let send = SendText {
        quote: None,
        mentions: None,
        mention_all: false,
        from: user(ZHANG),
        to: Peer::Group(dev.gid),
        kind: MessageType::GroupText,
        content: "今晚发版".into(),
        cid: Some(ClientMsgId::parse("g-1").expect("cid")),
    };
    let ack: SendAck = sender.request(&send).await.expect("stored");
    let received = liu_stream
        .next_message(Duration::from_secs(5))
        .await
        .expect("pushed");
    assert_eq!(
        (received.id, received.kind, received.to),
        (ack.id, MessageType::GroupText, Peer::Group(dev.gid))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_directory_lists_the_company_with_decoded_names() {
    let (server, _data) = start().await;
    let (_stream, zhang) = log_in(&server, ZHANG).await;
    let mut port = Client::connect(&server, Service::SyncContacts, Some(&zhang.token)).await;
    let directory: Directory = port
        .request(&DirectoryQuery::default())
        .await
        .expect("directory");
    assert_eq!(directory.contacts.len(), 24);
    assert!(directory.departments.values().any(|d| d == "技术部"));
    let me = directory
        .contacts
        .iter()
        .find(|c| c.user == user(ZHANG))
        .expect("listed");
    assert_eq!(me.name, "张伟");
    assert_eq!(me.presence, penpen_core::packets::profile::Presence::Online);
    let refused = port
        .request::<_, Directory>(&DirectoryQuery {
            user: Some(user(LIU)),
        })
        .await
        .expect_err("asking as someone else");
    assert_eq!(refused.state, State::FORBIDDEN);
    server.shutdown().await;
}

#[tokio::test]
async fn logout_revokes_the_token() {
    let (server, _data) = start().await;
    let (mut stream, zhang) = log_in(&server, ZHANG).await;
    while stream.next_message(QUIET).await.is_some() {}
    let done: Done = stream
        .request(&Logout { logout: true })
        .await
        .expect("logged out");
    assert_eq!(done, Done::new());
    let addr = server.addr(Service::Text).expect("served");
    assert!(
        Client::try_connect(addr, Some(&zhang.token)).await.is_err(),
        "the token no longer opens ports"
    );
    let mut again = Client::connect(&server, Service::Login, None).await;
    let refused = again
        .request::<_, LoginReply>(&Resume {
            user: user(ZHANG),
            token: zhang.token,
            catch_up: false,
        })
        .await
        .expect_err("the token no longer resumes");
    assert_eq!(refused.state, State::SESSION_INVALID);
    server.shutdown().await;
}

#[tokio::test]
async fn oversized_and_binary_frames_are_refused_and_the_connection_stays_usable() {
    let (server, _data) = start().await;
    let (_stream, zhang) = log_in(&server, ZHANG).await;
    let mut sender = Client::connect(&server, Service::Text, Some(&zhang.token)).await;
    // Just over the protocol's limit: answered with a reason, not a dropped connection.
    let oversized = format!(
        r#"{{"head":1100,"body":{{"pad":"{}"}},"tail":"PENPEN 1.0"}}"#,
        "x".repeat(penpen_core::MAX_FRAME_BYTES)
    );
    sender.send_text(&oversized).await;
    let refused = decode_reply::<SendAck>(&sender.payload().await).expect_err("too large");
    assert_eq!(refused.state, State::BAD_FRAME);
    assert!(refused.error.contains("too large"), "{}", refused.error);
    for (head, tail) in [
        ("1160", "PENPEN 1.0"),
        ("1110", "PENPEN 2.0"),
        ("42", "PENPEN 1.0"),
    ] {
        sender
            .send_text(&format!(
                r#"{{"head":{head},"body":"e30=","tail":"{tail}"}}"#
            ))
            .await;
        let refused = decode_reply::<SendAck>(&sender.payload().await).expect_err("bad envelope");
        assert_eq!(refused.state, State::BAD_FRAME, "{head} {tail}");
    }
    let ack: SendAck = sender
        .request(&text(ZHANG, LIU, "还在", "c-big"))
        .await
        .expect("still usable");
    assert!(ack.id.0 > 0);
    server.shutdown().await;
}

#[tokio::test]
async fn a_peer_that_stops_answering_pings_is_dropped_and_goes_offline() {
    let data = tempfile::tempdir().expect("folder");
    let mut config = penpen_server_mock::ServerConfig::new(data.path());
    config.ports = penpen_server_mock::PortPlan::Ephemeral;
    // Three silent heartbeats (1.5 s) leave room for the first check on a busy machine.
    config.heartbeat = Duration::from_millis(500);
    config.demo = true;
    let server = penpen_server_mock::RunningServer::start(config)
        .await
        .expect("starts");
    let (_stream, zhang) = log_in(&server, ZHANG).await;
    // Logged in, then never reads again: pings go unanswered.
    let (silent, _) = log_in(&server, LIU).await;
    let presence_of_liu = async || {
        // A new connection each time: this client does not read between
        // requests, so an old one would answer no pings and be closed too.
        let mut contacts =
            Client::connect(&server, Service::SyncContacts, Some(&zhang.token)).await;
        let directory: Directory = contacts
            .request(&DirectoryQuery::default())
            .await
            .expect("directory");
        directory
            .contacts
            .iter()
            .find(|c| c.user == user(LIU))
            .map(|c| c.presence)
    };
    assert_eq!(
        presence_of_liu().await,
        Some(penpen_core::packets::profile::Presence::Online)
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while presence_of_liu().await != Some(penpen_core::packets::profile::Presence::Offline) {
        assert!(
            std::time::Instant::now() < deadline,
            "a peer silent for 30 s is still online"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(silent);
    server.shutdown().await;
}
