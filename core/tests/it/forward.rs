//! Forward (§15.3) in the engine, against the simulated server: one request
//! per message per target in order, or one chat record per target; each
//! answered once; the copies reach every timeline, the forwarder's own
//! included, through the stream; refused as a whole offline or over the
//! limits.

use crate::sim::{Net, user};
use penpen_core::packets::message::{ChatRecord, MessageType};
use penpen_core::sync::{Event, OperationError, Outcome};
use penpen_core::{GroupId, MessageId, Peer};

const A: usize = 0;
const B: usize = 1;
const C: usize = 2;

fn group() -> Peer {
    Peer::Group(GroupId::new(7).expect("gid"))
}

/// A, B and C connected; A has sent B two texts. The ids B sees.
fn two_texts_to_b() -> (Net, Vec<MessageId>) {
    let mut net = Net::new(3);
    net.log_in(1);
    net.log_in(2);
    net.log_in(3);
    net.run_for(5_000);
    for text in ["周五开会", "带电脑"] {
        let now = net.now;
        net.clients[A]
            .engine
            .send_text(Peer::User(user(2)), text.into(), now)
            .expect("queued");
        net.run_for(2_000);
    }
    let ids = net.clients[B]
        .timeline(&Peer::User(user(1)))
        .iter()
        .map(|m| m.id)
        .collect();
    (net, ids)
}

#[test]
fn one_by_one_asks_once_per_message_per_target_in_order_and_the_copies_come_by_the_stream() {
    let (mut net, ids) = two_texts_to_b();
    let now = net.now;
    let ops = net.clients[B]
        .engine
        .forward(&ids, &[Peer::User(user(3)), group()], false, now)
        .expect("asked");
    assert_eq!(ops.len(), 4, "two messages to two conversations");
    net.run_for(5_000);
    let mut stored = Vec::new();
    for op in &ops {
        match net.performed(B, *op).as_slice() {
            [Ok(Outcome::Forwarded(id))] => stored.push(*id),
            other => panic!("answered once with the copy: {other:?}"),
        }
    }
    let mut sorted = stored.clone();
    sorted.sort();
    assert_eq!(stored, sorted, "stored in the order asked");

    let to_b = Peer::User(user(2));
    assert_eq!(net.clients[C].texts(&to_b), ["周五开会", "带电脑"]);
    let in_group = net.clients[A].timeline(&group());
    assert_eq!(
        in_group
            .iter()
            .map(|m| (m.kind, m.content.as_str()))
            .collect::<Vec<_>>(),
        [
            (MessageType::GroupText, "周五开会"),
            (MessageType::GroupText, "带电脑")
        ],
        "typed for the group"
    );
    // The forwarder's own timelines got the copies from the stream.
    assert_eq!(
        net.clients[B].texts(&Peer::User(user(3))),
        ["周五开会", "带电脑"]
    );
    assert_eq!(net.clients[B].texts(&group()), ["周五开会", "带电脑"]);
}

#[test]
fn merged_is_one_chat_record_per_target_with_the_original_senders() {
    let (mut net, ids) = two_texts_to_b();
    let now = net.now;
    let ops = net.clients[B]
        .engine
        .forward(&ids, &[Peer::User(user(3))], true, now)
        .expect("asked");
    assert_eq!(ops.len(), 1);
    net.run_for(5_000);
    assert!(matches!(
        net.performed(B, ops[0]).as_slice(),
        [Ok(Outcome::Forwarded(_))]
    ));
    for (index, peer) in [(C, Peer::User(user(2))), (B, Peer::User(user(3)))] {
        let timeline = net.clients[index].timeline(&peer);
        let [record] = timeline.as_slice() else {
            panic!("one chat record: {timeline:?}");
        };
        assert_eq!(record.kind, MessageType::ChatRecord);
        let record: ChatRecord = serde_json::from_str(&record.content).expect("a record");
        assert_eq!(record.source, Peer::User(user(1)));
        assert_eq!(
            record
                .items
                .iter()
                .map(|i| (i.from.clone(), i.content.as_str()))
                .collect::<Vec<_>>(),
            [(user(1), "周五开会"), (user(1), "带电脑")]
        );
    }
}

#[test]
fn a_forward_is_refused_as_a_whole_offline_or_over_the_limits() {
    let (mut net, ids) = two_texts_to_b();
    let now = net.now;
    let too_many: Vec<MessageId> = (1..=101).map(MessageId).collect();
    assert!(matches!(
        net.clients[B]
            .engine
            .forward(&too_many, &[Peer::User(user(3))], true, now),
        Err(OperationError::Invalid(reason)) if reason.contains("at most 100")
    ));
    assert!(matches!(
        net.clients[B].engine.forward(&ids, &[], false, now),
        Err(OperationError::Invalid(_))
    ));
    net.stop_server();
    let now = net.now;
    assert_eq!(
        net.clients[B]
            .engine
            .forward(&ids, &[Peer::User(user(3))], false, now),
        Err(OperationError::Offline)
    );
    net.start_server();
    net.run_for(30_000);
    assert!(
        net.clients[C].timeline(&Peer::User(user(2))).is_empty(),
        "nothing was forwarded"
    );
    assert!(
        !net.clients[B]
            .events
            .iter()
            .any(|e| matches!(e, Event::Performed { .. })),
        "a refused forward is never answered later"
    );
}
