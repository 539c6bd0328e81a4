//! Searching all history on the server (§17) through the engine, against
//! the simulated server's brute-force search: pages newest first, nothing
//! filed into the cache, what a former member may see, refusals, and each
//! search answered exactly once (offline, refused, lost).

use crate::sim::{Net, user};
use penpen_core::packets::message::Message;
use penpen_core::packets::sync::SearchPage;
use penpen_core::sync::{Event, Operation, OperationError, Outcome, SEARCH_PAGE, SearchId};
use penpen_core::testing::gid;
use penpen_core::{ErrorReply, MessageId, Peer, State};

const A: usize = 0;
const B: usize = 1;

/// The answers `index` got for search `id` (exactly one is right).
fn answers(net: &Net, index: usize, id: SearchId) -> Vec<Result<SearchPage, ErrorReply>> {
    net.clients[index]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Searched { id: done, result } if *done == id => Some(result.clone()),
            _ => None,
        })
        .collect()
}

/// The one answer to search `id`, after running the network a while.
fn answer(net: &mut Net, index: usize, id: SearchId) -> Result<SearchPage, ErrorReply> {
    net.run_for(2_000);
    let got = answers(net, index, id);
    assert_eq!(got.len(), 1, "answered exactly once: {got:?}");
    got.into_iter().next().expect("one answer")
}

fn search(
    net: &mut Net,
    index: usize,
    query: &str,
    within: Option<Peer>,
    before: Option<MessageId>,
) -> Result<SearchPage, ErrorReply> {
    let now = net.now;
    let id = net.clients[index]
        .engine
        .search_server(query, within, before, now)
        .expect("asked");
    answer(net, index, id)
}

fn texts(messages: &[Message]) -> Vec<String> {
    messages.iter().map(|m| m.content.clone()).collect()
}

fn send(net: &mut Net, index: usize, to: &Peer, text: &str) {
    let now = net.now;
    net.clients[index]
        .engine
        .send_text(to.clone(), text.into(), now)
        .expect("queued");
    net.run_for(1_000);
}

/// A and B, connected.
fn two() -> Net {
    let mut net = Net::new(3);
    net.log_in(1);
    net.log_in(2);
    net.run_for(5_000);
    net
}

#[test]
fn hits_come_newest_first_in_pages_and_are_not_filed_into_the_cache() {
    let mut net = two();
    let to_b = Peer::User(user(2));
    for n in 0..25 {
        send(&mut net, A, &to_b, &format!("第{n}份周报"));
        send(&mut net, A, &to_b, &format!("闲聊 {n}"));
    }
    let to_a = Peer::User(user(1));
    // B's device forgets the conversation: the server still has it all.
    net.clients[B].engine.clear_history(&to_a);
    net.run_for(1_000);
    assert!(net.clients[B].timeline(&to_a).is_empty());
    let unread = net.clients[B].engine.conversation(&to_a).map(|c| c.unread);
    let events_before = net.clients[B].events.len();

    let first = search(&mut net, B, "周报", None, None).expect("a page");
    assert!(first.more);
    let expected: Vec<String> = (5..25).rev().map(|n| format!("第{n}份周报")).collect();
    assert_eq!(texts(&first.messages), expected);
    assert_eq!(first.messages.len(), SEARCH_PAGE as usize);
    let last = first.messages.last().map(|m| m.id);
    let second = search(&mut net, B, "周报", None, last).expect("the next page");
    assert!(!second.more);
    let expected: Vec<String> = (0..5).rev().map(|n| format!("第{n}份周报")).collect();
    assert_eq!(texts(&second.messages), expected);

    // Not news, not history: the cache and the list are as they were.
    assert!(net.clients[B].timeline(&to_a).is_empty());
    assert_eq!(
        net.clients[B].engine.conversation(&to_a).map(|c| c.unread),
        unread
    );
    let later = &net.clients[B].events[events_before..];
    assert!(
        later.iter().all(|e| matches!(e, Event::Searched { .. })),
        "only the answers: {later:?}"
    );
}

#[test]
fn a_search_in_one_conversation_finds_only_its_messages_in_any_case() {
    let mut net = two();
    let (to_b, group) = (Peer::User(user(2)), Peer::Group(gid(7)));
    send(&mut net, A, &to_b, "Quarterly REPORT 已上传");
    send(&mut net, A, &group, "report for the group");
    let all = search(&mut net, B, "report", None, None).expect("page");
    assert_eq!(
        texts(&all.messages),
        vec!["report for the group", "Quarterly REPORT 已上传"]
    );
    let one = search(&mut net, B, "Report", Some(Peer::User(user(1))), None).expect("page");
    assert_eq!(texts(&one.messages), vec!["Quarterly REPORT 已上传"]);
}

#[test]
fn a_former_member_finds_a_group_only_up_to_leaving_and_a_recalled_message_never() {
    let mut net = Net::new(3);
    net.log_in(1);
    net.log_in(3);
    net.run_for(5_000);
    let group = Peer::Group(gid(7));
    let (a, c) = (0, 1);
    send(&mut net, a, &group, "会议纪要 一");
    send(&mut net, a, &group, "会议纪要 撤回");
    net.leave_group(gid(7), &user(3));
    send(&mut net, a, &group, "会议纪要 二");

    let mine = search(&mut net, a, "会议纪要", None, None).expect("page");
    let recalled = mine.messages[1].id;
    let now = net.now;
    let op = net.clients[a]
        .engine
        .perform(
            Operation::Recall {
                conversation: group.clone(),
                id: recalled,
                sender: user(1),
            },
            now,
        )
        .expect("asked");
    net.run_for(2_000);
    assert!(matches!(
        net.performed(a, op).as_slice(),
        [Ok(Outcome::Recalled(_))]
    ));

    let mine = search(&mut net, a, "会议纪要", None, None).expect("page");
    assert_eq!(texts(&mine.messages), vec!["会议纪要 二", "会议纪要 一"]);
    let theirs = search(&mut net, c, "会议纪要", Some(group), None).expect("page");
    assert_eq!(texts(&theirs.messages), vec!["会议纪要 一"]);
}

#[test]
fn the_servers_refusals_come_back_with_their_reasons() {
    let mut net = two();
    net.add_group(gid(8), vec![user(1), user(3)]);
    let cases = [
        (Peer::User(user(99)), State::UNKNOWN_USER),
        (Peer::Group(gid(9)), State::UNKNOWN_GROUP),
        (Peer::Group(gid(8)), State::NOT_A_MEMBER),
    ];
    for (within, state) in cases {
        let refusal = search(&mut net, B, "周报", Some(within.clone()), None).expect_err("refused");
        assert_eq!(refusal.state, state, "{within}: {refusal:?}");
        assert!(!refusal.error.is_empty(), "with a reason");
    }
    // A query the server would refuse (21) is refused before it is asked.
    let now = net.now;
    for query in ["，。", &"周".repeat(101)] {
        let refused = net.clients[B].engine.search_server(query, None, None, now);
        assert!(
            matches!(refused, Err(OperationError::Invalid(_))),
            "{query}: {refused:?}"
        );
    }
}

#[test]
fn offline_a_search_is_refused_at_once_and_a_lost_answer_is_answered_once() {
    let mut net = two();
    net.clients[B].online = false;
    net.drop_connections(B);
    net.run_for(1_000);
    let now = net.now;
    assert_eq!(
        net.clients[B].engine.search_server("周报", None, None, now),
        Err(OperationError::Offline)
    );

    // Back online: the answer is lost on the way, the request times out.
    net.clients[B].online = true;
    net.clients[B].engine.reconnect_now(now);
    net.run_for(5_000);
    net.lose_next_reply
        .insert(penpen_core::Service::SyncMessages);
    let now = net.now;
    let id = net.clients[B]
        .engine
        .search_server("周报", None, None, now)
        .expect("asked");
    net.run_for(30_000);
    let got = answers(&net, B, id);
    assert!(
        matches!(got.as_slice(), [Err(e)] if e.state == State::UNAVAILABLE),
        "answered once, as lost: {got:?}"
    );
    // The next one goes through on a fresh socket.
    assert!(search(&mut net, B, "周报", None, None).is_ok());
}

#[test]
fn seeking_an_old_hit_loads_the_history_in_the_largest_pages_filed_as_history() {
    let mut net = two();
    let (to_b, to_a) = (Peer::User(user(2)), Peer::User(user(1)));
    for n in 0..250 {
        send(&mut net, A, &to_b, &format!("消息 {n}"));
    }
    net.clients[B].engine.clear_history(&to_a);
    net.run_for(1_000);
    let hit = search(&mut net, B, "消息 3", None, None).expect("page");
    let oldest_hit = hit.messages.last().map(|m| m.id).expect("a hit");

    let mut before = None;
    let mut pages = Vec::new();
    loop {
        let now = net.now;
        net.clients[B].engine.seek_older(to_a.clone(), before, now);
        net.run_for(1_000);
        let (count, complete) = net.clients[B]
            .events
            .iter()
            .rev()
            .find_map(|e| match e {
                Event::History {
                    conversation,
                    messages,
                    complete,
                } if *conversation == to_a => Some((messages.len(), *complete)),
                _ => None,
            })
            .expect("a page");
        pages.push(count);
        before = net.clients[B].timeline(&to_a).first().map(|m| m.id);
        if complete || before.is_some_and(|b| b <= oldest_hit) {
            break;
        }
    }
    assert_eq!(pages, vec![200, 50], "two round trips for 250 messages");
    let timeline = net.clients[B].timeline(&to_a);
    assert_eq!(timeline.len(), 250, "every message between, none missing");
    assert_eq!(
        net.clients[B].engine.conversation(&to_a).map(|c| c.unread),
        Some(0),
        "history is not news"
    );
}
