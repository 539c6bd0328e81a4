//! The sync engine against a simulated server on a simulated clock.

use crate::sim::{Net, PASSWORD, ready, user};
use penpen_core::cache::{Cache, OutboxState};
use penpen_core::digest::password_digest;
use penpen_core::packets::login::{LoginReply, Push, StreamAck};
use penpen_core::packets::message::{Message, MessageType, Sender};
use penpen_core::packets::sync::{MessagePage, SyncRequest};
use penpen_core::sync::{Action, CATCH_UP_PAGE, Connection, Credentials, Engine, Event};
use penpen_core::{Encoding, Frame, GroupId, MessageId, Peer, Seq, Service, State};
use std::collections::BTreeSet;

const A: usize = 0;
const B: usize = 1;

fn two_people() -> (Net, Peer, Peer) {
    let mut net = Net::new(3);
    net.log_in(1);
    net.log_in(2);
    net.run_for(5_000);
    for client in &net.clients {
        assert_eq!(client.engine.connection(), Connection::Connected);
    }
    (net, Peer::User(user(2)), Peer::User(user(1)))
}

/// Every message id at most once in a timeline.
fn assert_no_duplicates(messages: &[Message]) {
    let ids: BTreeSet<MessageId> = messages.iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), messages.len(), "duplicates in {messages:?}");
}

#[test]
fn two_people_chat_both_ways_and_in_a_group() {
    let (mut net, to_b, to_a) = two_people();
    let group = Peer::Group(GroupId::new(7).expect("gid"));
    let now = net.now;
    net.clients[A]
        .engine
        .send_text(to_b.clone(), "你好 🐧".into(), now)
        .expect("queued");
    net.run_for(2_000);
    let now = net.now;
    net.clients[B]
        .engine
        .send_text(to_a.clone(), "在的".into(), now)
        .expect("queued");
    net.clients[B]
        .engine
        .send_text(group.clone(), "大家好".into(), now)
        .expect("queued");
    net.run_for(2_000);

    assert_eq!(net.clients[A].texts(&to_b), vec!["你好 🐧", "在的"]);
    assert_eq!(net.clients[B].texts(&to_a), vec!["你好 🐧", "在的"]);
    assert_eq!(net.clients[A].texts(&group), vec!["大家好"]);
    assert_eq!(net.clients[B].texts(&group), vec!["大家好"]);
    for client in &net.clients {
        assert_eq!(client.engine.queued(), 0);
        assert!(ready(client.cache.load()).expect("load").outbox.is_empty());
    }
    // The list: the group is newest; A has one unread in each conversation.
    let list = net.clients[A].engine.conversations();
    assert_eq!(list[0].peer, group);
    assert_eq!(list[0].unread, 1);
    assert_eq!(list[1].peer, to_b);
    assert_eq!(list[1].unread, 1);
    assert_eq!(net.clients[A].engine.unread_total(), 2);
    // The account's name came with the login.
    assert_eq!(net.clients[A].engine.account().name, "用户1");
    // Everything the server holds for A is acknowledged by A.
    let received = net.received_by(&user(1)).len() as u64;
    assert_eq!(net.clients[A].engine.account().synced_seq, Seq(received));
    assert_eq!(
        ready(net.clients[A].cache.load())
            .expect("load")
            .meta
            .expect("meta")
            .synced_seq,
        Seq(received)
    );
}

#[test]
fn the_outbox_is_written_before_the_send_goes_out() {
    let (mut net, to_b, _) = two_people();
    let now = net.now;
    net.clients[A]
        .engine
        .send_text(to_b, "先写后发".into(), now)
        .expect("queued");
    let mut persisted_outbox = false;
    while let Some(action) = net.clients[A].engine.poll_action() {
        match &action {
            Action::Persist(batch) if !batch.outbox_put.is_empty() => persisted_outbox = true,
            Action::Send(Service::Text, _) => {
                assert!(persisted_outbox, "sent before the outbox entry was written");
                return;
            }
            Action::Open(Service::Text) => {
                assert!(
                    persisted_outbox,
                    "opened a socket before the outbox entry was written"
                );
                return;
            }
            _ => {}
        }
    }
    panic!("the message never went out");
}

#[test]
fn a_message_written_offline_is_queued_and_delivered_once_when_the_server_returns() {
    let (mut net, to_b, to_a) = two_people();
    net.stop_server();
    net.run_for(3_000);
    assert_eq!(net.clients[A].engine.connection(), Connection::Offline);
    let now = net.now;
    net.clients[A]
        .engine
        .send_text(to_b.clone(), "离线时写的".into(), now)
        .expect("queued");
    net.run_for(10_000);
    assert_eq!(net.clients[A].engine.queued(), 1);
    let outbox = net.clients[A].engine.outbox_of(&to_b);
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].state, OutboxState::Queued);
    assert_eq!(
        ready(net.clients[A].cache.load())
            .expect("load")
            .outbox
            .len(),
        1
    );

    net.start_server();
    net.run_for(40_000);
    assert_eq!(net.clients[A].engine.queued(), 0);
    assert_eq!(net.clients[B].texts(&to_a), vec!["离线时写的"]);
    assert_eq!(net.clients[A].texts(&to_b), vec!["离线时写的"]);
    assert_eq!(net.message_count(), 1);
}

#[test]
fn a_send_whose_ack_is_lost_is_retried_and_stored_once() {
    let (mut net, to_b, to_a) = two_people();
    net.lose_next_reply.insert(Service::Text);
    let now = net.now;
    net.clients[A]
        .engine
        .send_text(to_b.clone(), "回执丢了".into(), now)
        .expect("queued");
    net.run_for(60_000);
    assert_eq!(net.message_count(), 1);
    assert_eq!(net.clients[A].engine.queued(), 0);
    assert_eq!(net.clients[A].texts(&to_b), vec!["回执丢了"]);
    assert_eq!(net.clients[B].texts(&to_a), vec!["回执丢了"]);
}

#[test]
fn dropped_connections_at_every_step_lose_and_duplicate_nothing() {
    for cut_after in 0..60 {
        let (mut net, to_b, to_a) = two_people();
        let now = net.now;
        for text in ["一", "二", "三"] {
            net.clients[A]
                .engine
                .send_text(to_b.clone(), text.into(), now)
                .expect("queued");
        }
        // Some steps of work, then both lose every connection.
        let mut steps = 0;
        'steps: while steps < cut_after {
            let mut any = false;
            for index in [A, B] {
                if let Some(action) = net.clients[index].engine.poll_action() {
                    net.carry_out_for_test(index, action);
                    any = true;
                    steps += 1;
                    if steps >= cut_after {
                        break 'steps;
                    }
                }
            }
            if !any {
                net.deliver_one_for_test();
                steps += 1;
            }
        }
        net.drop_connections(A);
        net.drop_connections(B);
        net.run_for(120_000);
        assert_eq!(net.clients[A].engine.queued(), 0, "cut after {cut_after}");
        assert_eq!(
            net.clients[B].texts(&to_a),
            vec!["一", "二", "三"],
            "cut after {cut_after}"
        );
        assert_eq!(
            net.clients[A].texts(&to_b),
            vec!["一", "二", "三"],
            "cut after {cut_after}"
        );
        assert_eq!(net.message_count(), 3, "cut after {cut_after}");
        assert_no_duplicates(&net.clients[B].timeline(&to_a));
    }
}

#[test]
fn a_server_restart_loses_nothing_and_sessions_resume() {
    let (mut net, to_b, to_a) = two_people();
    let now = net.now;
    net.clients[A]
        .engine
        .send_text(to_b.clone(), "重启前".into(), now)
        .expect("queued");
    net.run_for(1_000);
    net.stop_server();
    let now = net.now;
    net.clients[A]
        .engine
        .send_text(to_b.clone(), "重启中".into(), now)
        .expect("queued");
    net.run_for(20_000);
    net.start_server();
    net.run_for(60_000);
    assert_eq!(net.clients[B].texts(&to_a), vec!["重启前", "重启中"]);
    for client in &net.clients {
        assert_eq!(client.engine.connection(), Connection::Connected);
        // Resumed by token: no new password login.
        let logins = client
            .events
            .iter()
            .filter(|e| matches!(e, Event::LoggedIn { .. }))
            .count();
        assert_eq!(logins, 2, "the first login and one resume");
    }
}

#[test]
fn a_reload_shows_the_cache_before_the_network_answers() {
    let (mut net, to_b, to_a) = two_people();
    let now = net.now;
    net.clients[A]
        .engine
        .send_text(to_b.clone(), "一".into(), now)
        .expect("queued");
    net.run_for(2_000);
    let now = net.now;
    net.clients[B].engine.set_pinned(&to_a, true, now);
    net.run_for(100);
    net.stop_server();
    net.reload(B);
    // Nothing reached the network yet, and the list and the history are there.
    let list = net.clients[B].engine.conversations();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].peer, to_a);
    assert_eq!(list[0].unread, 1);
    assert!(list[0].pinned_at.is_some());
    assert_eq!(net.clients[B].texts(&to_a), vec!["一"]);
    net.start_server();
    net.run_for(10_000);
    assert_eq!(net.clients[B].engine.connection(), Connection::Connected);
    // The resumed stream pushes nothing B already has.
    assert_eq!(net.clients[B].texts(&to_a), vec!["一"]);
    assert_eq!(net.clients[B].engine.conversations()[0].unread, 1);
}

#[test]
fn a_refused_send_fails_with_the_reason_and_the_next_one_still_goes() {
    let (mut net, _, _) = two_people();
    let nobody = Peer::User(user(99));
    let now = net.now;
    let cid = net.clients[A]
        .engine
        .send_text(nobody.clone(), "谁?".into(), now)
        .expect("queued");
    net.run_for(5_000);
    let outbox = net.clients[A].engine.outbox_of(&nobody);
    assert_eq!(outbox.len(), 1);
    assert!(
        matches!(&outbox[0].state, OutboxState::Failed { state: 31, .. }),
        "{outbox:?}"
    );
    assert_eq!(net.clients[A].engine.queued(), 0);
    // Retrying fails again (the user still does not exist); discarding removes it.
    let now = net.now;
    net.clients[A].engine.retry(&cid, now);
    net.run_for(5_000);
    assert!(matches!(
        &net.clients[A].engine.outbox_of(&nobody)[0].state,
        OutboxState::Failed { .. }
    ));
    net.clients[A].engine.discard(&cid);
    net.run_for(100);
    assert!(net.clients[A].engine.outbox_of(&nobody).is_empty());
    assert!(
        ready(net.clients[A].cache.load())
            .expect("load")
            .outbox
            .is_empty()
    );
}

#[test]
fn a_wrong_password_and_an_unreachable_server_are_reported() {
    let mut net = Net::new(2);
    let wrong = net.add_client(
        Credentials::Password {
            user: user(1),
            digest: password_digest("wrong"),
        },
        Default::default(),
    );
    net.run_for(5_000);
    assert!(
        net.clients[wrong]
            .events
            .iter()
            .any(|e| matches!(e, Event::LoginFailed(r) if r.state == State::LOGIN_FAILED))
    );
    assert!(net.clients[wrong].engine.is_stopped());

    net.server_up = false;
    let unreachable = net.add_client(
        Credentials::Password {
            user: user(2),
            digest: password_digest(PASSWORD),
        },
        Default::default(),
    );
    net.run_for(5_000);
    assert!(
        net.clients[unreachable]
            .events
            .contains(&Event::Unreachable)
    );
}

#[test]
fn a_revoked_token_signs_out() {
    let (mut net, _, _) = two_people();
    net.server_revoke_all_tokens();
    net.drop_connections(B);
    net.run_for(10_000);
    assert!(
        net.clients[B]
            .events
            .iter()
            .any(|e| matches!(e, Event::SignedOut(_)))
    );
    assert!(net.clients[B].engine.is_stopped());
}

#[test]
fn a_new_device_catches_up_everything_in_pages() {
    let (mut net, to_b, to_a) = two_people();
    let now = net.now;
    for n in 0..450 {
        net.clients[A]
            .engine
            .send_text(to_b.clone(), format!("第{n}条"), now)
            .expect("queued");
    }
    net.run_for(600_000);
    assert_eq!(net.clients[B].timeline(&to_a).len(), 450);
    // B logs in on a second device with an empty cache.
    let second = net.log_in(2);
    net.run_for(10_000);
    let timeline = net.clients[second].timeline(&to_a);
    assert_eq!(timeline.len(), 450);
    assert_no_duplicates(&timeline);
    assert!(net.clients[second].events.contains(&Event::CaughtUp));
    assert_eq!(net.clients[second].texts(&to_a)[449], "第449条");
    // History on a new device is not news: nothing counts as unread.
    assert_eq!(net.clients[second].engine.unread_total(), 0);
    assert_eq!(net.clients[B].engine.unread_total(), 450);
}

/// Each catch-up page is written as it comes, with no wait for more, and
/// the next page is asked for before it is: the server reads while the cache
/// writes. With the clock stopped, a new device still gets everything.
#[test]
fn catch_up_asks_for_the_next_page_before_writing_this_one() {
    let (mut net, to_b, to_a) = two_people();
    let now = net.now;
    let total = 2 * CATCH_UP_PAGE as usize + 300;
    for n in 0..total {
        net.clients[A]
            .engine
            .send_text(to_b.clone(), format!("第{n}条"), now)
            .expect("queued");
    }
    net.run_for(600_000);
    let second = net.log_in(2);
    // By hand, without ever moving the clock: no timer may be needed.
    let mut asked = 0;
    let mut pages_written = 0;
    for _ in 0..100_000 {
        if net.clients[second].events.contains(&Event::CaughtUp) {
            break;
        }
        match net.clients[second].engine.poll_action() {
            Some(action) => {
                match &action {
                    Action::Send(Service::SyncMessages, frame)
                        if matches!(
                            Frame::decode(frame).and_then(|f| SyncRequest::from_frame(&f)),
                            Ok(SyncRequest::CatchUp(_))
                        ) =>
                    {
                        asked += 1
                    }
                    Action::Persist(batch) if batch.messages.len() == CATCH_UP_PAGE as usize => {
                        pages_written += 1;
                        assert!(
                            asked > pages_written,
                            "page {pages_written} was written before the next was asked for"
                        );
                    }
                    _ => {}
                }
                net.carry_out_for_test(second, action);
            }
            None => net.deliver_one_for_test(),
        }
    }
    assert!(
        net.clients[second].events.contains(&Event::CaughtUp),
        "caught up without the clock moving"
    );
    assert_eq!(pages_written, 2, "two full pages, each one write");
    assert_eq!(net.clients[second].timeline(&to_a).len(), total);
}

#[test]
fn deleting_a_conversation_clears_it_here_and_history_brings_it_back_from_the_server() {
    let (mut net, to_b, to_a) = two_people();
    let now = net.now;
    for n in 0..60 {
        net.clients[A]
            .engine
            .send_text(to_b.clone(), format!("{n}"), now)
            .expect("queued");
    }
    net.run_for(120_000);
    net.clients[B].engine.delete_conversation(&to_a);
    net.run_for(100);
    assert!(net.clients[B].engine.conversations().is_empty());
    assert!(net.clients[B].timeline(&to_a).is_empty());
    let now = net.now;
    net.clients[B].engine.load_older(to_a.clone(), None, now);
    net.run_for(5_000);
    let pages: Vec<(usize, bool)> = net.clients[B]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::History {
                messages, complete, ..
            } => Some((messages.len(), *complete)),
            _ => None,
        })
        .collect();
    assert_eq!(pages, vec![(50, false)]);
    let oldest = net.clients[B].timeline(&to_a)[0].id;
    let now = net.now;
    net.clients[B]
        .engine
        .load_older(to_a.clone(), Some(oldest), now);
    net.run_for(5_000);
    assert_eq!(net.clients[B].timeline(&to_a).len(), 60);
    assert!(
        net.clients[B]
            .engine
            .conversation(&to_a)
            .expect("row")
            .history_complete
    );
    // A new message brings the conversation back to the list.
    let now = net.now;
    net.clients[A]
        .engine
        .send_text(to_b, "回来了".into(), now)
        .expect("queued");
    net.run_for(5_000);
    assert_eq!(net.clients[B].engine.conversations().len(), 1);
}

/// Drives one engine by hand: pushes out of order and twice, and the ack
/// only ever names what was written, never past a gap.
#[test]
fn duplicate_and_out_of_order_pushes_are_kept_once_and_acked_only_when_contiguous() {
    let me = user(1);
    let mut engine = Engine::new(
        Credentials::Token {
            user: me.clone(),
            token: "t".into(),
        },
        Default::default(),
        1,
    );
    let mut now = 1_000;
    engine.handle_timeout(now);
    engine.opened(Service::Login, now);
    let reply = LoginReply {
        state: State::SUCCESS,
        user: me.clone(),
        token: "t".into(),
        name: "张三".into(),
        broadcaster: false,
    };
    engine.received(
        Service::Login,
        &Frame::encode(Encoding::Base64, &reply).expect("encode"),
        now,
    );
    let push = |seq: u64| {
        let message = Message {
            quote: None,
            mentions: None,
            mention_all: false,
            recalled: None,
            name: None,
            size: None,
            from: Sender::User(user(2)),
            to: Peer::User(me.clone()),
            kind: MessageType::Text,
            content: format!("第{seq}条"),
            time: "2026-11-26 12:00:00".into(),
            ts: 1_795_000_000_000 + seq as i64,
            id: MessageId(100 + seq),
            seq: Some(Seq(seq)),
            cid: None,
            duration: None,
        };
        Frame::encode(Encoding::Base64, &Push::Message(Box::new(message))).expect("encode")
    };
    let mut written: BTreeSet<u64> = BTreeSet::new();
    let mut acks = Vec::new();
    let drain = |engine: &mut Engine, written: &mut BTreeSet<u64>, acks: &mut Vec<u64>| {
        while let Some(action) = engine.poll_action() {
            match action {
                Action::Persist(batch) => {
                    for cached in batch.messages {
                        assert!(
                            written.insert(cached.message.id.0 - 100),
                            "written twice: {cached:?}"
                        );
                    }
                }
                Action::Send(Service::Login, frame) => {
                    let frame = Frame::decode(&frame).expect("frame");
                    let Ok(ack) = frame.packet::<StreamAck>() else {
                        continue; // the resume
                    };
                    // Everything up to the ack was written before it went out.
                    assert!(
                        (1..=ack.ack.0).all(|seq| written.contains(&seq)),
                        "ack {} before writing {written:?}",
                        ack.ack.0
                    );
                    acks.push(ack.ack.0);
                }
                _ => {}
            }
        }
    };
    drain(&mut engine, &mut written, &mut acks);
    // The first catch-up finds nothing: what comes next is news.
    engine.opened(Service::SyncMessages, now);
    drain(&mut engine, &mut written, &mut acks);
    let empty = MessagePage {
        state: State::SUCCESS,
        messages: Vec::new(),
        more: false,
    };
    engine.received(
        Service::SyncMessages,
        &Frame::encode(Encoding::Base64, &empty).expect("encode"),
        now,
    );
    drain(&mut engine, &mut written, &mut acks);
    for seq in [1, 3, 3, 1, 4] {
        engine.received(Service::Login, &push(seq), now);
    }
    now += 100;
    engine.handle_timeout(now);
    drain(&mut engine, &mut written, &mut acks);
    assert_eq!(written, BTreeSet::from([1, 3, 4]));
    assert_eq!(acks, vec![1], "2 is missing: the ack stops at 1");
    engine.received(Service::Login, &push(2), now);
    engine.received(Service::Login, &push(2), now);
    now += 100;
    engine.handle_timeout(now);
    drain(&mut engine, &mut written, &mut acks);
    assert_eq!(acks, vec![1, 4]);
    assert_eq!(
        engine
            .conversation(&Peer::User(user(2)))
            .expect("row")
            .unread,
        4
    );
}

#[test]
fn a_push_lost_on_the_way_is_found_by_the_next_catch_up() {
    let (mut net, to_b, to_a) = two_people();
    net.lose_next_push_to.insert(user(2));
    let now = net.now;
    net.clients[A]
        .engine
        .send_text(to_b, "半路丢了".into(), now)
        .expect("queued");
    net.run_for(5_000);
    assert!(net.clients[B].texts(&to_a).is_empty(), "the push was lost");
    // Nothing else happens: no reconnect, no other message.
    net.run_for(penpen_core::sync::RESYNC_MS + 5_000);
    assert_eq!(net.clients[B].texts(&to_a), vec!["半路丢了"]);
    assert_eq!(
        net.clients[B]
            .engine
            .conversation(&to_a)
            .expect("row")
            .unread,
        1
    );
}

/// A call record counts unread only when the call was missed: an answered
/// or declined call needs no reply.
#[test]
fn only_a_missed_call_counts_unread() {
    use penpen_core::packets::call::{CallOutcome, CallRecord, Media};
    let (mut net, _, to_a) = two_people();
    net.run_for(5_000);
    let before = net.clients[B].engine.unread_total();
    let record = |seq: u64, outcome: CallOutcome| {
        let content = serde_json::to_string(&CallRecord {
            call: penpen_core::CallId::generated(seq, seq),
            media: Media::Video,
            outcome,
            duration: (outcome == CallOutcome::Answered).then_some(192),
        })
        .expect("encode");
        Message {
            kind: MessageType::Call,
            content,
            ..penpen_core::testing::message(9_000 + seq, 1, Peer::User(user(2)), "")
        }
    };
    net.push_again(B, &record(1, CallOutcome::Answered));
    net.push_again(B, &record(2, CallOutcome::Declined));
    net.push_again(B, &record(3, CallOutcome::Missed));
    net.run_for(1_000);
    assert_eq!(net.clients[B].engine.unread_total(), before + 1);
    let shown = net.clients[B].timeline(&to_a);
    assert_eq!(
        shown.iter().filter(|m| m.kind == MessageType::Call).count(),
        3,
        "every record is kept"
    );
}

#[test]
fn meetings_of_a_group_are_surfaced_and_their_notices_kept_as_history() {
    use penpen_core::MeetingId;
    use penpen_core::packets::meeting::{
        Meeting, MeetingEndReason, MeetingEnded, MeetingStartedNotice,
    };
    let (mut net, _, _) = two_people();
    let gid = GroupId::new(7).expect("gid");
    let id = MeetingId::generated(1, 2);
    let meeting = Meeting {
        gid,
        meeting: id.clone(),
        started_by: user(1),
        started_at: 1_795_784_709_000,
        participants: vec![user(1)],
    };
    let ended = MeetingEnded {
        gid,
        meeting: id.clone(),
        reason: MeetingEndReason::Empty,
    };
    let before = net.clients[B].engine.unread_total();
    net.clients[B].events.clear();
    net.push(
        B,
        &Push::Meeting {
            meeting: Box::new(meeting.clone()),
        },
    );
    let started = serde_json::to_string(&MeetingStartedNotice {
        meeting: id,
        by: user(1),
    })
    .expect("encode");
    let notice = Message {
        from: Sender::System,
        kind: MessageType::MeetingStarted,
        content: started,
        ..penpen_core::testing::message(9_001, 1, Peer::Group(gid), "")
    };
    net.push_again(B, &notice);
    net.push(
        B,
        &Push::MeetingEnded {
            meeting_ended: ended.clone(),
        },
    );
    net.run_for(1_000);
    let surfaced: Vec<&Event> = net.clients[B]
        .events
        .iter()
        .filter(|e| matches!(e, Event::MeetingChanged(_) | Event::MeetingEnded(_)))
        .collect();
    assert_eq!(
        surfaced,
        [
            &Event::MeetingChanged(Box::new(meeting)),
            &Event::MeetingEnded(ended)
        ],
        "in the order pushed"
    );
    let shown = net.clients[B].timeline(&Peer::Group(gid));
    assert!(
        shown.iter().any(|m| m.kind == MessageType::MeetingStarted),
        "the notice is history: {shown:?}"
    );
    assert_eq!(
        net.clients[B].engine.unread_total(),
        before,
        "a meeting's notice counts unread for no one"
    );
}
