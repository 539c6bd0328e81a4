//! Mute (32888) and @mentions in the sync engine, against the simulated
//! server (PROTOCOL §15.4, §15.5). In the simulation group 7 holds every
//! user, user 1 first (its holder).

use crate::sim::{Net, ready, user};
use penpen_core::cache::{Cache, OutboxState};
use penpen_core::sync::{Event, Operation, OperationError, Outcome, SendError};
use penpen_core::{Peer, State};

const HOLDER: usize = 0;
const MEMBER: usize = 1;
const OTHER: usize = 2;

fn group() -> Peer {
    Peer::Group(penpen_core::testing::gid(7))
}

/// Users 1–3 logged in, one client each, in that order.
fn three_people() -> Net {
    let mut net = Net::new(3);
    for n in 1..=3 {
        net.log_in(n);
    }
    net.run_for(5_000);
    net
}

fn mute(net: &mut Net, client: usize, peer: Peer, muted: bool) {
    let now = net.now;
    let id = net.clients[client]
        .engine
        .perform(Operation::SetMuted { peer, muted }, now)
        .expect("asked");
    net.run_for(2_000);
    let answers: Vec<_> = net.clients[client]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Performed { id: done, result } if *done == id => Some(result.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(answers, [Ok(Outcome::Done)], "answered once");
}

/// The `alert` of every `Arrived` event of `client` since its events were
/// last cleared, in order.
fn alerts(net: &Net, client: usize) -> Vec<Option<String>> {
    net.clients[client]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Arrived { alert, .. } => Some(alert.as_ref().map(|m| m.content.clone())),
            _ => None,
        })
        .collect()
}

fn send(net: &mut Net, client: usize, text: &str, mentions: &[u64], all: bool) {
    let now = net.now;
    net.clients[client]
        .engine
        .send_group_text(
            group(),
            text.into(),
            mentions.iter().map(|n| user(*n)).collect(),
            all,
            now,
        )
        .expect("queued");
    net.run_for(2_000);
}

#[test]
fn the_muted_list_comes_after_login_and_every_device_follows_a_change() {
    let mut net = Net::new(3);
    net.server.muted.entry(user(2)).or_default().insert(group());
    let phone = net.log_in(2);
    let desk = net.log_in(2);
    net.run_for(5_000);
    for client in [phone, desk] {
        let engine = &net.clients[client].engine;
        assert!(engine.is_muted(&group()), "muted from the server's list");
        // No message yet: the row waits, out of the list.
        assert!(engine.conversations().is_empty());
    }

    let wang = Peer::User(user(1));
    mute(&mut net, phone, wang.clone(), true);
    mute(&mut net, phone, group(), false);
    for client in [phone, desk] {
        let engine = &net.clients[client].engine;
        assert!(engine.is_muted(&wang), "client {client}");
        assert!(!engine.is_muted(&group()), "client {client}");
    }
    // The cache keeps it across a reload, and the list after the login
    // agrees with it.
    net.reload(desk);
    assert!(net.clients[desk].engine.is_muted(&wang));
    net.run_for(5_000);
    assert!(net.clients[desk].engine.is_muted(&wang));
    assert!(!net.clients[desk].engine.is_muted(&group()));
    // A change made while a device was away is found by its next login.
    net.server.muted.entry(user(2)).or_default().remove(&wang);
    net.reload(desk);
    net.run_for(5_000);
    assert!(!net.clients[desk].engine.is_muted(&wang));
}

#[test]
fn muting_is_refused_at_once_offline() {
    let mut net = three_people();
    net.stop_server();
    let now = net.now;
    assert_eq!(
        net.clients[MEMBER].engine.perform(
            Operation::SetMuted {
                peer: group(),
                muted: true
            },
            now
        ),
        Err(OperationError::Offline)
    );
    assert!(!net.clients[MEMBER].engine.is_muted(&group()));
}

#[test]
fn a_muted_group_alerts_only_for_the_members_mentions_and_counts_apart() {
    let mut net = three_people();
    mute(&mut net, MEMBER, group(), true);
    net.clients[MEMBER].events.clear();

    send(&mut net, HOLDER, "周会改到下午", &[], false);
    assert_eq!(alerts(&net, MEMBER), [None], "a muted group is quiet");
    assert_eq!(alerts(&net, OTHER), [Some("周会改到下午".into())]);
    let row = net.clients[MEMBER]
        .engine
        .conversation(&group())
        .expect("row")
        .clone();
    assert_eq!(
        (row.unread, row.mentioned, row.muted, row.hidden),
        (1, false, true, false)
    );
    assert_eq!(
        net.clients[MEMBER].engine.unread_total(),
        0,
        "muted: not in the title"
    );
    assert_eq!(net.clients[OTHER].engine.unread_total(), 1);

    net.clients[MEMBER].events.clear();
    send(&mut net, OTHER, "@用户3 你看下", &[3], false);
    assert_eq!(alerts(&net, MEMBER), [None], "someone else's mention");
    send(&mut net, HOLDER, "@所有人 下午三点开会", &[], true);
    assert_eq!(
        alerts(&net, MEMBER),
        [None, Some("@所有人 下午三点开会".into())],
        "@所有人 alerts even when muted"
    );
    assert!(
        net.clients[MEMBER]
            .engine
            .conversation(&group())
            .expect("row")
            .mentioned
    );

    net.clients[MEMBER].engine.mark_read(&group());
    net.run_for(100);
    let row = net.clients[MEMBER]
        .engine
        .conversation(&group())
        .expect("row")
        .clone();
    assert_eq!((row.unread, row.mentioned), (0, false));
    let cached = ready(net.clients[MEMBER].cache.load()).expect("load");
    assert!(
        cached
            .conversations
            .iter()
            .any(|c| c.peer == group() && c.muted && !c.mentioned)
    );

    net.clients[MEMBER].events.clear();
    net.clients[OTHER].engine.mark_read(&group());
    send(&mut net, OTHER, "@用户2 请确认", &[2], false);
    assert_eq!(alerts(&net, MEMBER), [Some("@用户2 请确认".into())]);
    assert!(
        net.clients[MEMBER]
            .engine
            .conversation(&group())
            .expect("row")
            .mentioned
    );
    // The sender's own mention marks nothing for the sender.
    assert!(
        !net.clients[OTHER]
            .engine
            .conversation(&group())
            .expect("row")
            .mentioned
    );
    // Reading the conversation in view leaves no mark.
    net.clients[HOLDER].engine.set_in_view(Some(group()));
    net.clients[HOLDER].events.clear();
    send(&mut net, OTHER, "@用户1 收到", &[1], false);
    assert_eq!(alerts(&net, HOLDER), [None], "read as it came");
    assert!(
        !net.clients[HOLDER]
            .engine
            .conversation(&group())
            .expect("row")
            .mentioned
    );
}

#[test]
fn mentions_travel_by_id_and_are_checked_before_and_after_queueing() {
    let mut net = three_people();
    let now = net.now;
    let err = net.clients[MEMBER]
        .engine
        .send_group_text(Peer::User(user(1)), "@你".into(), vec![user(1)], false, now)
        .expect_err("1:1");
    assert!(matches!(err, SendError::Mentions(_)), "{err:?}");
    // A member picked twice goes once.
    send(&mut net, MEMBER, "@用户3 @用户3 在吗", &[3, 3], false);
    let received = net.clients[OTHER].timeline(&group());
    let message = received.last().expect("arrived");
    assert_eq!(
        message.mentions.as_ref().map(|m| m.0.clone()),
        Some(vec![user(3)])
    );
    assert!(!message.mention_all);
    // Only the holder may mention everyone: the server's refusal fails the entry.
    send(&mut net, MEMBER, "@所有人 看这里", &[], true);
    let outbox = ready(net.clients[MEMBER].cache.load())
        .expect("load")
        .outbox;
    assert_eq!(outbox.len(), 1);
    assert!(outbox[0].mention_all);
    assert!(
        matches!(&outbox[0].state, OutboxState::Failed { state, .. } if *state == State::FORBIDDEN.0),
        "{:?}",
        outbox[0].state
    );
}
