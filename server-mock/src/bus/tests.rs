//! The bus encoding and the subscription bookkeeping.

use super::interest::{Change, Interest};
use super::*;
use penpen_core::packets::login::{PresenceChange, Push};
use penpen_core::packets::profile::Presence;
use penpen_core::{MessageId, Peer};

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("a user id")
}

fn gid(n: u64) -> GroupId {
    GroupId::new(n).expect("a group id")
}

fn message() -> Message {
    let mut message: Message = serde_json::from_str(
        r#"{"from":"13800000003","to":"13800000001","type":1,"content":"5L2g5aW9","time":"2026-12-01 10:00:00","ts":1796119200000,"id":42,"cid":"c-1"}"#,
    )
    .expect("a message in the wire's shape");
    message.to = Peer::User(user("13800000001"));
    message
}

fn every_event() -> Vec<Event> {
    let presence = Push::Presence {
        presence: PresenceChange {
            user: user("13800000002"),
            presence: Presence::Online,
        },
    };
    vec![
        Event::Deliver {
            user: user("13800000001"),
            seq: Seq(7),
            message: Box::new(message()),
        },
        Event::Raise {
            user: user("13800000001"),
            seq: Seq(8),
        },
        Event::Push {
            user: user("13800000001"),
            push: Box::new(Push::SignedOut {
                signed_out: "会话已撤销".to_owned(),
            }),
            except: Some(TokenHash(vec![0, 1, 2, 255])),
        },
        Event::PushOrDrop {
            user: user("13800000001"),
            push: Box::new(Push::Message(Box::new(message()))),
        },
        Event::Everyone {
            push: Box::new(presence),
        },
        Event::Revoke {
            user: user("13800000001"),
            token: TokenHash(vec![9; 32]),
            reason: "logged out".to_owned(),
        },
        Event::RevokeUser {
            user: user("13800000001"),
            keep: None,
            reason: "password changed".to_owned(),
        },
        Event::Read {
            gid: gid(12),
            mark: MemberRead {
                user: user("13800000002"),
                id: Some(MessageId(41)),
                joined: None,
                left: None,
                private: false,
            },
        },
        Event::LeftGroup {
            gid: gid(12),
            user: user("13800000004"),
        },
        Event::Probe {
            user: user("13800000009"),
        },
        Event::PartyProbe {
            user: user("13800000010"),
        },
        Event::Alive,
    ]
}

#[test]
fn every_event_survives_the_bus_encoding() {
    for event in every_event() {
        let envelope = Envelope {
            node: NodeId::parse("node-1").expect("a node id"),
            event,
        };
        let decoded = Envelope::decode(&envelope.encode()).expect("decodes");
        assert_eq!(decoded, envelope);
    }
}

#[test]
fn a_payload_that_is_not_an_envelope_is_a_clear_error() {
    for bad in [
        &b""[..],
        b"{}",
        b"[1]",
        br#"{"node":"n","event":{"shout":{}}}"#,
    ] {
        let err = Envelope::decode(bad).expect_err("refused");
        assert!(err.to_string().starts_with("cannot read a bus message"));
    }
    // A node name that the command line would refuse is refused here too.
    assert!(
        Envelope::decode(br#"{"node":"a b","event":{"probe":{"user":"13800000001"}}}"#).is_err()
    );
}

#[test]
fn each_event_goes_to_the_subject_of_those_who_must_hear_it() {
    let subjects: Vec<String> = every_event().iter().map(|e| e.topic().subject()).collect();
    assert_eq!(
        subjects,
        [
            "penpen.user.13800000001",
            "penpen.user.13800000001",
            "penpen.user.13800000001",
            "penpen.user.13800000001",
            "penpen.everyone",
            "penpen.everyone",
            "penpen.everyone",
            "penpen.group.12",
            "penpen.group.12",
            "penpen.user.13800000009",
            "penpen.party.13800000010",
            "penpen.everyone",
        ]
    );
}

#[test]
fn a_probe_with_a_reply_subject_is_a_question_and_without_one_is_ignored_as_an_event() {
    let probe = Envelope {
        node: NodeId::parse("n2").expect("a node id"),
        event: Event::Probe {
            user: user("13800000001"),
        },
    }
    .encode();
    match incoming(&probe, Some("_INBOX.x".to_owned())).expect("decodes") {
        Incoming::Probe { user: u, reply } => {
            assert_eq!(u, user("13800000001"));
            assert_eq!(reply, "_INBOX.x");
        }
        other => panic!("expected a probe, got {other:?}"),
    }
    assert!(matches!(
        incoming(&probe, None).expect("decodes"),
        Incoming::Event(_)
    ));
}

#[test]
fn a_party_probe_with_a_reply_subject_is_a_question() {
    let probe = Envelope {
        node: NodeId::parse("n2").expect("a node id"),
        event: Event::PartyProbe {
            user: user("13800000001"),
        },
    }
    .encode();
    match incoming(&probe, Some("_INBOX.y".to_owned())).expect("decodes") {
        Incoming::PartyProbe { user: u, reply } => {
            assert_eq!(u, user("13800000001"));
            assert_eq!(reply, "_INBOX.y");
        }
        other => panic!("expected a party probe, got {other:?}"),
    }
}

#[test]
fn node_ids_are_checked_and_random_ones_are_valid() {
    assert!(NodeId::parse("node-1_a").is_ok());
    for bad in ["", "a.b", "a b", "节点", &"x".repeat(65)] {
        assert_eq!(NodeId::parse(bad), Err(NodeIdError(bad.to_owned())));
    }
    let random = NodeId::random();
    assert_eq!(NodeId::parse(random.as_str()), Ok(random.clone()));
    assert_ne!(random, NodeId::random(), "two random names differ");
}

#[test]
fn the_first_hold_subscribes_and_the_last_release_unsubscribes() {
    let mut interest: Interest<Topic> = Interest::default();
    let wang = Topic::User(user("13800000001"));
    let group = Topic::Group(gid(3));
    assert_eq!(interest.hold(&wang), Change::Subscribe);
    assert_eq!(interest.hold(&wang), Change::Keep);
    assert_eq!(interest.hold(&group), Change::Subscribe);
    assert_eq!(interest.holds(&wang), 2);
    assert_eq!(interest.len(), 2);
    assert_eq!(interest.release(&wang), Change::Keep);
    assert_eq!(interest.release(&wang), Change::Unsubscribe);
    assert_eq!(interest.holds(&wang), 0);
    // A release of what is not held changes nothing (and cannot go below zero).
    assert_eq!(interest.release(&wang), Change::Keep);
    assert_eq!(interest.hold(&wang), Change::Subscribe);
    assert_eq!(interest.release(&group), Change::Unsubscribe);
    assert_eq!(interest.release(&wang), Change::Unsubscribe);
    assert!(interest.is_empty());
}

#[tokio::test]
async fn the_in_process_bus_holds_nothing_and_finds_no_other_node() {
    let bus = Bus::in_process(NodeId::parse("solo").expect("a node id"));
    assert!(!bus.is_shared());
    let hold = bus.hold_user(&user("13800000001")).await;
    assert!(!bus.held_elsewhere(&user("13800000001")).await);
    bus.publish(Event::Probe {
        user: user("13800000001"),
    });
    bus.settle().await;
    drop(hold);
}
