//! Recall and quote (§15.1, §15.2) in the engine, against the simulated
//! server: the operation, the recall arriving live and in a catch-up, the
//! cached original and quotes of it, and a reply that survives a reload.

use crate::sim::{Net, ready, user};
use penpen_core::cache::Cache;
use penpen_core::packets::message::{Message, MessageType, Quote};
use penpen_core::sync::{Connection, Event, Operation, OperationError, OperationId, Outcome};
use penpen_core::{ErrorReply, MessageId, Peer, State};

const A: usize = 0;
const B: usize = 1;

fn performed(net: &Net, index: usize, id: OperationId) -> Vec<Result<Outcome, ErrorReply>> {
    net.clients[index]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Performed { id: done, result } if *done == id => Some(result.clone()),
            _ => None,
        })
        .collect()
}

fn find(messages: &[Message], id: MessageId) -> Message {
    messages
        .iter()
        .find(|m| m.id == id)
        .cloned()
        .unwrap_or_else(|| panic!("message {id} in {messages:?}"))
}

/// A, B and B's second device, all connected; A has sent B one text.
fn sent_to_b(text: &str) -> (Net, usize, Peer, Peer, MessageId) {
    let mut net = Net::new(3);
    net.log_in(1);
    net.log_in(2);
    let b2 = net.log_in(2);
    net.run_for(5_000);
    let (to_b, to_a) = (Peer::User(user(2)), Peer::User(user(1)));
    let now = net.now;
    net.clients[A]
        .engine
        .send_text(to_b.clone(), text.into(), now)
        .expect("queued");
    net.run_for(2_000);
    let id = net.clients[B].timeline(&to_a)[0].id;
    (net, b2, to_b, to_a, id)
}

#[test]
fn a_recall_empties_the_original_on_every_device_even_one_offline_at_the_time() {
    let (mut net, b2, to_b, to_a, id) = sent_to_b("发错了");
    assert_eq!(net.clients[b2].texts(&to_a), vec!["发错了"]);
    // B's second device loses the network before the recall.
    net.clients[b2].online = false;
    net.drop_connections(b2);

    let now = net.now;
    let op = net.clients[A]
        .engine
        .perform(
            Operation::Recall {
                conversation: to_b.clone(),
                id,
                sender: user(1),
            },
            now,
        )
        .expect("asked");
    net.run_for(2_000);
    let answers = performed(&net, A, op);
    assert!(
        matches!(answers.as_slice(), [Ok(Outcome::Recalled(_))]),
        "answered once: {answers:?}"
    );

    for (index, peer) in [(A, &to_b), (B, &to_a)] {
        let timeline = net.clients[index].timeline(peer);
        let original = find(&timeline, id);
        assert!(original.content.is_empty(), "{original:?}");
        assert_eq!(original.recalled.map(|r| r.by), Some(user(1)));
        assert!(timeline.iter().any(|m| m.kind == MessageType::Recall));
        let row = net.clients[index]
            .engine
            .conversations()
            .into_iter()
            .find(|c| &c.peer == peer)
            .expect("listed");
        let last = row.last.clone().expect("a preview");
        assert_eq!(last.kind, MessageType::Recall, "the preview is the recall");
    }
    // B counted the original; its recall takes it out of the count again.
    assert_eq!(net.clients[B].engine.unread_total(), 0);
    // B's UI was told of the recall together with its write.
    assert!(net.clients[B].events.iter().any(|e| matches!(
        e,
        Event::Arrived { messages, .. } if messages.iter().any(|m| m.kind == MessageType::Recall)
    )));

    // The offline device comes back: its catch-up brings the recall, and
    // its cached original loses its content too.
    net.clients[b2].online = true;
    let now = net.now;
    net.clients[b2].engine.reconnect_now(now);
    net.run_for(10_000);
    assert_eq!(net.clients[b2].engine.connection(), Connection::Connected);
    let original = find(&net.clients[b2].timeline(&to_a), id);
    assert!(original.content.is_empty() && original.recalled.is_some());
    assert_eq!(net.clients[b2].engine.unread_total(), 0);
}

#[test]
fn a_recall_is_refused_offline_and_a_refusal_is_answered_once() {
    let (mut net, _b2, to_b, to_a, id) = sent_to_b("你好");
    // B may not take back A's message: the server says why, once.
    let now = net.now;
    let op = net.clients[B]
        .engine
        .perform(
            Operation::Recall {
                conversation: to_a.clone(),
                id,
                sender: user(1),
            },
            now,
        )
        .expect("asked");
    net.run_for(2_000);
    let answers = performed(&net, B, op);
    assert!(
        matches!(answers.as_slice(), [Err(refusal)] if refusal.state == State::FORBIDDEN),
        "{answers:?}"
    );
    assert_eq!(net.clients[B].texts(&to_a), vec!["你好"], "nothing changed");

    net.stop_server();
    let now = net.now;
    assert_eq!(
        net.clients[A].engine.perform(
            Operation::Recall {
                conversation: to_b,
                id,
                sender: user(1),
            },
            now,
        ),
        Err(OperationError::Offline)
    );
}

#[test]
fn a_reply_keeps_its_quote_through_a_reload_and_reads_recalled_after_a_recall() {
    let (mut net, _b2, to_b, to_a, id) = sent_to_b("周五开会吗？");
    let original = find(&net.clients[B].timeline(&to_a), id);
    // B answers while the server is down, then reloads the page.
    net.stop_server();
    let now = net.now;
    net.clients[B]
        .engine
        .send_quoting(to_a.clone(), "开".into(), Some(Quote::of(&original)), now)
        .expect("queued");
    net.run_for(1_000);
    net.reload(B);
    let outbox = ready(net.clients[B].cache.load()).expect("load").outbox;
    assert_eq!(
        outbox.first().and_then(|e| e.quote.as_ref()).map(|q| q.id),
        Some(id),
        "the outbox keeps the quote"
    );
    net.start_server();
    net.run_for(30_000);

    for (index, peer) in [(A, &to_b), (B, &to_a)] {
        let timeline = net.clients[index].timeline(peer);
        let reply = timeline
            .iter()
            .find(|m| m.content == "开")
            .unwrap_or_else(|| panic!("the reply reached {index}: {timeline:?}"));
        let quote = reply.quote.as_ref().expect("sent as a reply");
        assert_eq!(
            (quote.id, quote.content.as_deref(), quote.recalled),
            (id, Some("周五开会吗？"), false)
        );
    }

    let now = net.now;
    net.clients[A]
        .engine
        .perform(
            Operation::Recall {
                conversation: to_b.clone(),
                id,
                sender: user(1),
            },
            now,
        )
        .expect("asked");
    net.run_for(2_000);
    for (index, peer) in [(A, &to_b), (B, &to_a)] {
        let timeline = net.clients[index].timeline(peer);
        let reply = timeline.iter().find(|m| m.content == "开").expect("kept");
        let quote = reply.quote.as_ref().expect("still a reply");
        assert!(quote.recalled && quote.content.is_none(), "{quote:?}");
    }
}

#[test]
fn a_recall_of_a_message_not_read_yet_lowers_the_unread_count_and_nothing_else_does() {
    let (mut net, _b2, to_b, to_a, first) = sent_to_b("第一条");
    let now = net.now;
    net.clients[A]
        .engine
        .send_text(to_b.clone(), "第二条".into(), now)
        .expect("queued");
    net.run_for(2_000);
    let unread = |net: &Net| {
        net.clients[B]
            .engine
            .conversation(&to_a)
            .map(|c| c.unread)
            .expect("a row")
    };
    assert_eq!(unread(&net), 2);
    let second = net.clients[B].timeline(&to_a)[1].id;
    let recall = |net: &mut Net, id| {
        let now = net.now;
        net.clients[A]
            .engine
            .perform(
                Operation::Recall {
                    conversation: to_b.clone(),
                    id,
                    sender: user(1),
                },
                now,
            )
            .expect("asked");
        net.run_for(2_000);
    };
    recall(&mut net, second);
    assert_eq!(unread(&net), 1, "the recalled one no longer counts");
    // Once read, a recall of an older message changes nothing.
    net.clients[B].engine.mark_read(&to_a);
    recall(&mut net, first);
    assert_eq!(unread(&net), 0);
    assert_eq!(net.clients[B].engine.unread_total(), 0);
}
