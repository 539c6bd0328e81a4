//! Read receipts (PROTOCOL §16) in the sync engine, against the simulated
//! server: own marks shared by a person's devices (live and caught up),
//! sent at most once a second and after a login when made offline; 1:1
//! 已读 and privacy; group counts from a watch; reminders (加急).

use crate::sim::{Net, ready, user};
use penpen_core::cache::Cache;
use penpen_core::receipts::{Receipt, peer_receipt};
use penpen_core::sync::{Event, Operation, OperationError, Outcome};
use penpen_core::testing::gid;
use penpen_core::{MessageId, Peer};

fn group() -> Peer {
    Peer::Group(gid(7))
}

/// Sends texts from `client` to `to`, one by one, and lets them arrive.
fn send(net: &mut Net, client: usize, to: &Peer, texts: &[&str]) {
    for text in texts {
        let now = net.now;
        net.clients[client]
            .engine
            .send_text(to.clone(), (*text).into(), now)
            .expect("queued");
        net.run_for(1_000);
    }
}

/// The newest message `client` holds in `peer`.
fn newest(net: &Net, client: usize, peer: &Peer) -> MessageId {
    net.clients[client]
        .engine
        .conversation(peer)
        .and_then(|c| c.last.as_ref())
        .and_then(|last| last.id)
        .expect("a message")
}

fn unread(net: &Net, client: usize, peer: &Peer) -> u32 {
    net.clients[client]
        .engine
        .conversation(peer)
        .map_or(0, |c| c.unread)
}

fn mark_seen(net: &mut Net, client: usize, peer: &Peer, id: MessageId) {
    let now = net.now;
    net.clients[client].engine.mark_seen(peer, id, now);
}

/// Every socket of `client` drops and nothing gets through until
/// [`back_online`].
fn go_offline(net: &mut Net, client: usize) {
    net.clients[client].online = false;
    net.drop_connections(client);
    net.run_for(1_000);
}

fn back_online(net: &mut Net, client: usize) {
    net.clients[client].online = true;
    let now = net.now;
    net.clients[client].engine.reconnect_now(now);
    net.run_for(5_000);
}

/// The marks the server got from `n`, in order.
fn marks_from(net: &Net, n: u64) -> Vec<MessageId> {
    net.server
        .reads
        .marks_received
        .iter()
        .filter(|(who, _)| *who == user(n))
        .map(|(_, id)| *id)
        .collect()
}

fn perform(net: &mut Net, client: usize, operation: Operation) -> Outcome {
    let now = net.now;
    let id = net.clients[client]
        .engine
        .perform(operation, now)
        .expect("asked");
    net.run_for(2_000);
    let answers = net.performed(client, id);
    assert_eq!(answers.len(), 1, "answered once: {answers:?}");
    answers[0].clone().expect("done")
}

fn count_events(net: &Net, client: usize, wanted: impl Fn(&Event) -> bool) -> usize {
    net.clients[client]
        .events
        .iter()
        .filter(|e| wanted(e))
        .count()
}

/// A network of `people`, with one client per entry of `logins` (a user
/// number), in that order, all logged in.
fn logged_in(people: u64, logins: &[u64]) -> Net {
    let mut net = Net::new(people);
    for n in logins {
        net.log_in(*n);
    }
    net.run_for(5_000);
    net
}

/// User 1 (王) and two devices of user 2, all logged in; 王 has sent user 2
/// three texts.
fn two_devices_with_unread() -> (Net, usize, usize, usize) {
    let (wang, phone, desk) = (0, 1, 2);
    let mut net = logged_in(2, &[1, 2, 2]);
    send(&mut net, wang, &Peer::User(user(2)), &["一", "二", "三"]);
    let from_wang = Peer::User(user(1));
    assert_eq!(unread(&net, phone, &from_wang), 3);
    assert_eq!(unread(&net, desk, &from_wang), 3);
    (net, wang, phone, desk)
}

#[test]
fn a_read_on_one_device_clears_the_unread_on_the_other() {
    let (mut net, _, phone, desk) = two_devices_with_unread();
    let from_wang = Peer::User(user(1));
    let messages = net.clients[phone].timeline(&from_wang);
    // Only the first two are on screen.
    mark_seen(&mut net, phone, &from_wang, messages[1].id);
    assert_eq!(unread(&net, phone, &from_wang), 1, "at once on the reader");
    net.clients[desk].events.clear();
    net.run_for(2_000);
    assert_eq!(unread(&net, desk, &from_wang), 1);
    let row = net.clients[desk]
        .engine
        .conversation(&from_wang)
        .expect("row");
    assert_eq!(row.read_up_to, Some(messages[1].id));
    assert!(
        net.clients[desk]
            .events
            .contains(&Event::ConversationsChanged),
        "the list is told"
    );
    assert_eq!(net.clients[desk].engine.unread_total(), 1);

    let last = newest(&net, phone, &from_wang);
    mark_seen(&mut net, phone, &from_wang, last);
    net.run_for(2_000);
    assert_eq!(unread(&net, desk, &from_wang), 0);
    assert_eq!(net.clients[desk].engine.unread_total(), 0);
    assert_eq!(net.read_mark(&user(2), &from_wang), Some(last));
}

#[test]
fn a_device_that_was_offline_catches_up_the_marks_and_keeps_the_version() {
    let (mut net, wang, phone, desk) = two_devices_with_unread();
    let from_wang = Peer::User(user(1));
    go_offline(&mut net, desk);
    // More arrive while the desk is away, and the phone reads them all.
    send(&mut net, wang, &Peer::User(user(2)), &["四"]);
    let last = newest(&net, phone, &from_wang);
    mark_seen(&mut net, phone, &from_wang, last);
    net.run_for(2_000);
    assert_eq!(unread(&net, desk, &from_wang), 3, "nothing got through");

    back_online(&mut net, desk);
    assert_eq!(unread(&net, desk, &from_wang), 0, "read elsewhere");
    assert_eq!(
        net.clients[desk].texts(&from_wang),
        ["一", "二", "三", "四"],
        "the message that came while away arrived, and is not counted"
    );
    let meta = ready(net.clients[desk].cache.load())
        .expect("load")
        .meta
        .expect("meta");
    assert!(meta.reads_version > 0, "the version is written: {meta:?}");

    // After a reload the catch-up goes on from the stored version.
    net.reload(desk);
    net.run_for(5_000);
    let asked = net.server.reads.reads_queries.last().expect("asked");
    assert_eq!(asked, &(user(2), meta.reads_version));
    assert_eq!(unread(&net, desk, &from_wang), 0);
}

#[test]
fn the_catch_up_of_marks_comes_in_pages() {
    let (reader, desk) = (0, 1);
    let mut net = logged_in(4, &[4, 4, 1, 2, 3]);
    for sender in 2..5 {
        send(&mut net, sender, &Peer::User(user(4)), &["在吗"]);
    }
    go_offline(&mut net, desk);
    for n in 1..=3 {
        let peer = Peer::User(user(n));
        let last = newest(&net, reader, &peer);
        mark_seen(&mut net, reader, &peer, last);
    }
    net.run_for(2_000);
    net.server.reads.page = 2;
    back_online(&mut net, desk);
    for n in 1..=3 {
        assert_eq!(unread(&net, desk, &Peer::User(user(n))), 0, "user {n}");
    }
    let asked: Vec<u64> = net
        .server
        .reads
        .reads_queries
        .iter()
        .filter(|(who, _)| *who == user(4))
        .map(|(_, version)| *version)
        .skip(2) // the first logins of both devices
        .collect();
    assert_eq!(asked.len(), 2, "two pages: {asked:?}");
    assert!(asked[1] > asked[0], "the second page goes on: {asked:?}");
}

#[test]
fn marks_go_out_at_most_once_a_second_per_conversation() {
    let (wang, reader) = (0, 1);
    let mut net = logged_in(2, &[1, 2]);
    let texts: Vec<String> = (1..=10).map(|n| format!("第{n}条")).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    send(&mut net, wang, &Peer::User(user(2)), &texts);
    let from_wang = Peer::User(user(1));
    let ids: Vec<MessageId> = net.clients[reader]
        .timeline(&from_wang)
        .iter()
        .map(|m| m.id)
        .collect();
    // The first mark goes at once.
    mark_seen(&mut net, reader, &from_wang, ids[0]);
    net.run_for(50);
    assert_eq!(marks_from(&net, 2), [ids[0]]);
    // Scrolling through the rest within the second: one frame, the highest.
    for id in &ids[1..] {
        mark_seen(&mut net, reader, &from_wang, *id);
        net.run_for(90);
        assert_eq!(marks_from(&net, 2).len(), 1, "held back");
    }
    net.run_for(1_000);
    assert_eq!(marks_from(&net, 2), [ids[0], ids[9]]);
    // Nothing moves: nothing more is sent.
    mark_seen(&mut net, reader, &from_wang, ids[5]);
    net.run_for(3_000);
    assert_eq!(marks_from(&net, 2).len(), 2);
}

#[test]
fn a_mark_made_offline_is_sent_after_the_next_login_even_after_a_reload() {
    let (mut net, _, phone, desk) = two_devices_with_unread();
    let from_wang = Peer::User(user(1));
    let last = newest(&net, phone, &from_wang);
    go_offline(&mut net, phone);
    mark_seen(&mut net, phone, &from_wang, last);
    assert_eq!(unread(&net, phone, &from_wang), 0);
    net.run_for(5_000);
    assert!(marks_from(&net, 2).is_empty(), "nothing goes while offline");
    // The page is reloaded before the connection is back: the mark is in
    // the cached row only.
    net.reload(phone);
    net.run_for(1_000);
    back_online(&mut net, phone);
    assert_eq!(marks_from(&net, 2), [last]);
    assert_eq!(net.read_mark(&user(2), &from_wang), Some(last));
    assert_eq!(
        unread(&net, desk, &from_wang),
        0,
        "the other device follows"
    );

    // Once the server holds it, a later login sends nothing again.
    go_offline(&mut net, phone);
    back_online(&mut net, phone);
    assert_eq!(marks_from(&net, 2), [last]);
}

#[test]
fn a_mark_is_never_sent_past_the_newest_message_held() {
    let (mut net, _, phone, _) = two_devices_with_unread();
    let from_wang = Peer::User(user(1));
    let last = newest(&net, phone, &from_wang);
    mark_seen(&mut net, phone, &from_wang, MessageId(last.0 + 1_000));
    net.run_for(2_000);
    assert_eq!(marks_from(&net, 2), [last]);
    // A conversation with no message: nothing to mark.
    mark_seen(&mut net, phone, &Peer::User(user(9)), MessageId(5));
    net.run_for(2_000);
    assert_eq!(marks_from(&net, 2), [last]);
}

#[test]
fn one_to_one_read_receipts_follow_the_other_person() {
    let (mut net, wang, phone, _) = two_devices_with_unread();
    let to_li = Peer::User(user(2));
    let sent = net.clients[wang].timeline(&to_li);
    let receipt = |net: &Net, message: MessageId| {
        let row = net.clients[wang].engine.conversation(&to_li).expect("row");
        peer_receipt(row.peer_read, row.peer_private, message)
    };
    assert_eq!(receipt(&net, sent[0].id), Receipt::Unread);
    net.clients[wang].events.clear();
    mark_seen(&mut net, phone, &Peer::User(user(1)), sent[1].id);
    net.run_for(2_000);
    assert_eq!(receipt(&net, sent[0].id), Receipt::Read);
    assert_eq!(receipt(&net, sent[1].id), Receipt::Read);
    assert_eq!(receipt(&net, sent[2].id), Receipt::Unread);
    assert!(
        net.clients[wang]
            .events
            .contains(&Event::ReadsChanged(to_li.clone()))
    );

    // A new device of 王 learns it from the catch-up.
    let laptop = net.log_in(1);
    net.run_for(5_000);
    let row = net.clients[laptop]
        .engine
        .conversation(&to_li)
        .expect("row");
    assert_eq!(row.peer_read, Some(sent[1].id));
}

#[test]
fn a_peer_who_does_not_share_receipts_is_unknown() {
    let (mut net, wang, phone, _) = two_devices_with_unread();
    assert_eq!(net.clients[phone].engine.receipts_shared(), Some(true));
    let outcome = perform(&mut net, phone, Operation::SetReceipts { shared: false });
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(net.clients[phone].engine.receipts_shared(), Some(false));

    let to_li = Peer::User(user(2));
    let sent = net.clients[wang].timeline(&to_li);
    mark_seen(&mut net, phone, &Peer::User(user(1)), sent[2].id);
    net.run_for(2_000);
    let row = net.clients[wang].engine.conversation(&to_li).expect("row");
    assert!(row.peer_private);
    assert_eq!(
        peer_receipt(row.peer_read, row.peer_private, sent[0].id),
        Receipt::Unknown
    );
    // Their own devices still sync.
    assert_eq!(
        net.read_mark(&user(2), &Peer::User(user(1))),
        Some(sent[2].id)
    );

    let laptop = net.log_in(1);
    net.run_for(5_000);
    let row = net.clients[laptop]
        .engine
        .conversation(&to_li)
        .expect("row");
    assert!(row.peer_private, "caught up as private");
    assert_eq!(row.peer_read, None);
}

#[test]
fn receipts_setting_is_refused_offline() {
    let (mut net, _, phone, _) = two_devices_with_unread();
    go_offline(&mut net, phone);
    let now = net.now;
    let refused = net.clients[phone]
        .engine
        .perform(Operation::SetReceipts { shared: false }, now);
    assert_eq!(refused, Err(OperationError::Offline));
    assert!(net.server.reads.private.is_empty());
}

/// Users 1–3 in group 7, one client each; user 1 has sent a message there.
fn group_with_a_message() -> (Net, MessageId) {
    let mut net = logged_in(3, &[1, 2, 3]);
    send(&mut net, 0, &group(), &["下午三点开会"]);
    let id = newest(&net, 0, &group());
    (net, id)
}

fn watch(net: &mut Net, client: usize, group: Option<penpen_core::GroupId>) {
    let now = net.now;
    net.clients[client].engine.watch_reads(group, now);
    net.run_for(2_000);
}

#[test]
fn group_counts_come_from_the_watched_marks() {
    let (mut net, id) = group_with_a_message();
    let sender = user(1);
    assert!(net.clients[0].engine.group_receipts(gid(7)).is_none());
    watch(&mut net, 0, Some(gid(7)));
    let counts = |net: &Net| {
        net.clients[0]
            .engine
            .group_receipts(gid(7))
            .expect("watched")
            .counts(id, &sender)
    };
    assert_eq!((counts(&net).read, counts(&net).unread), (0, 2), "2人未读");

    net.clients[0].events.clear();
    mark_seen(&mut net, 1, &group(), id);
    net.run_for(2_000);
    assert_eq!((counts(&net).read, counts(&net).unread), (1, 1), "1人未读");
    assert!(
        net.clients[0]
            .events
            .contains(&Event::ReadsChanged(group()))
    );
    let status = net.clients[0]
        .engine
        .group_receipts(gid(7))
        .expect("watched")
        .status(id, &sender);
    assert_eq!(status.read, [user(2)]);
    assert_eq!(status.unread, [user(3)]);

    mark_seen(&mut net, 2, &group(), id);
    net.run_for(2_000);
    assert!(counts(&net).all_read(), "全部已读");

    // Closing the group stops the watch.
    watch(&mut net, 0, None);
    assert!(net.clients[0].engine.group_receipts(gid(7)).is_none());
    assert_eq!(
        net.server.reads.watches_received.last(),
        Some(&(user(1), None))
    );
}

#[test]
fn the_watch_is_asked_again_after_a_login_and_after_a_membership_notice() {
    let mut net = Net::new(4);
    net.set_group(gid(7), (1..=3).map(user).collect());
    for n in 1..=4 {
        net.log_in(n);
    }
    net.run_for(5_000);
    send(&mut net, 0, &group(), &["周报"]);
    let id = newest(&net, 0, &group());
    watch(&mut net, 0, Some(gid(7)));
    let watches = |net: &Net| {
        net.server
            .reads
            .watches_received
            .iter()
            .filter(|(who, _)| *who == user(1))
            .count()
    };
    assert_eq!(watches(&net), 1);

    go_offline(&mut net, 0);
    back_online(&mut net, 0);
    assert_eq!(watches(&net), 2, "again after the login");
    mark_seen(&mut net, 1, &group(), id);
    net.run_for(2_000);
    let receipts = net.clients[0]
        .engine
        .group_receipts(gid(7))
        .expect("watched");
    assert_eq!(receipts.counts(id, &user(1)).unread, 1, "changes go on");

    net.add_member(gid(7), &user(4));
    net.run_for(3_000);
    assert_eq!(watches(&net), 3, "again after the notice");
    let receipts = net.clients[0]
        .engine
        .group_receipts(gid(7))
        .expect("watched");
    let status = receipts.status(id, &user(1));
    assert_eq!(status.unread, [user(3)], "the newcomer is not counted");
    // A group not open is not watched again on its notice.
    watch(&mut net, 0, None);
    let before = watches(&net);
    net.add_member(gid(7), &user(4));
    net.run_for(3_000);
    assert_eq!(watches(&net), before);
}

#[test]
fn a_reminder_reaches_only_the_unread_and_drops_when_read() {
    let (mut net, id) = group_with_a_message();
    mark_seen(&mut net, 1, &group(), id);
    net.run_for(2_000);
    let outcome = perform(&mut net, 0, Operation::Ding { id });
    assert_eq!(outcome, Outcome::Done);
    let dinged = |e: &Event| matches!(e, Event::Dinged(_));
    assert_eq!(count_events(&net, 1, dinged), 0, "user 2 has read it");
    assert_eq!(count_events(&net, 2, dinged), 1);
    let dings = net.clients[2].engine.dings();
    assert_eq!(dings.len(), 1);
    assert_eq!(dings[0].by, user(1));
    assert_eq!(dings[0].message.id, id);
    assert_eq!(dings[0].target, group());

    // A replay at the next login is not a new reminder.
    go_offline(&mut net, 2);
    back_online(&mut net, 2);
    assert_eq!(count_events(&net, 2, dinged), 1);
    assert_eq!(net.clients[2].engine.dings().len(), 1);

    // Read on another device: the reminder drops out here too.
    let other = net.log_in(3);
    net.run_for(5_000);
    assert_eq!(count_events(&net, other, dinged), 1, "replayed at login");
    mark_seen(&mut net, other, &group(), id);
    net.run_for(2_000);
    assert!(net.clients[2].engine.dings().is_empty());
    assert!(net.clients[other].engine.dings().is_empty());
}

#[test]
fn a_reminder_can_be_dismissed_and_stays_dismissed_at_the_next_login() {
    let (mut net, id) = group_with_a_message();
    perform(&mut net, 0, Operation::Ding { id });
    assert_eq!(net.clients[1].engine.dings().len(), 1);
    net.clients[1].engine.dismiss_ding(id);
    assert!(net.clients[1].engine.dings().is_empty());
    go_offline(&mut net, 1);
    back_online(&mut net, 1);
    assert!(net.clients[1].engine.dings().is_empty());
}

#[test]
fn a_reminder_is_refused_offline_and_for_someone_elses_message() {
    let (mut net, id) = group_with_a_message();
    let now = net.now;
    let refused = net.clients[1].engine.perform(Operation::Ding { id }, now);
    let asked = refused.expect("asked");
    net.run_for(2_000);
    let answers = net.performed(1, asked);
    assert_eq!(answers.len(), 1);
    assert_eq!(
        answers[0].as_ref().expect_err("refused").state,
        penpen_core::State::FORBIDDEN
    );
    go_offline(&mut net, 0);
    let now = net.now;
    assert_eq!(
        net.clients[0].engine.perform(Operation::Ding { id }, now),
        Err(OperationError::Offline)
    );
}

#[test]
fn an_arrival_the_mark_has_passed_is_not_counted() {
    let (mut net, wang, phone, desk) = two_devices_with_unread();
    let from_wang = Peer::User(user(1));
    // The desk is silent: its pushes wait while the phone reads.
    go_offline(&mut net, desk);
    send(&mut net, wang, &Peer::User(user(2)), &["四", "五"]);
    let last = newest(&net, phone, &from_wang);
    mark_seen(&mut net, phone, &from_wang, last);
    net.run_for(2_000);
    send(&mut net, wang, &Peer::User(user(2)), &["六"]);
    back_online(&mut net, desk);
    assert_eq!(unread(&net, desk, &from_wang), 1, "only 六");
    assert_eq!(unread(&net, phone, &from_wang), 1);
}

#[test]
fn a_read_elsewhere_clears_the_mention_mark_once_it_passes_the_mention() {
    let (wang, phone, desk) = (0, 1, 2);
    let mut net = logged_in(2, &[1, 2, 2]);
    let now = net.now;
    net.clients[wang]
        .engine
        .send_group_text(group(), "@李四 看下".into(), vec![user(2)], false, now)
        .expect("queued");
    net.run_for(1_000);
    let mention = newest(&net, desk, &group());
    send(&mut net, wang, &group(), &["还有这个"]);
    let mentioned = |net: &Net| {
        net.clients[desk]
            .engine
            .conversation(&group())
            .is_some_and(|c| c.mentioned)
    };
    assert!(mentioned(&net), "[有人@我]");
    mark_seen(&mut net, phone, &group(), mention);
    net.run_for(2_000);
    assert!(!mentioned(&net), "the mention was read on the phone");
    assert_eq!(unread(&net, desk, &group()), 1, "the later message is not");
}

#[test]
fn a_mark_goes_out_while_a_reply_waits_in_the_outbox() {
    let (mut net, _, phone, desk) = two_devices_with_unread();
    let from_wang = Peer::User(user(1));
    let last = newest(&net, phone, &from_wang);
    let now = net.now;
    net.clients[phone]
        .engine
        .send_text(from_wang.clone(), "收到".into(), now)
        .expect("queued");
    // The row's preview is the unsent reply now, without an id.
    mark_seen(&mut net, phone, &from_wang, last);
    net.run_for(2_000);
    assert_eq!(marks_from(&net, 2), [last]);
    assert_eq!(unread(&net, desk, &from_wang), 0);
}

#[test]
fn a_mark_whose_push_was_lost_is_found_by_the_resync() {
    let (mut net, _, phone, desk) = two_devices_with_unread();
    let from_wang = Peer::User(user(1));
    let last = newest(&net, phone, &from_wang);
    // The desk's connection stays up, but the push does not get through.
    net.clients[desk].online = false;
    mark_seen(&mut net, phone, &from_wang, last);
    net.run_for(2_000);
    net.clients[desk].online = true;
    net.run_for(5_000);
    assert_eq!(unread(&net, desk, &from_wang), 3, "the push was lost");
    net.run_for(penpen_core::sync::RESYNC_MS);
    assert_eq!(unread(&net, desk, &from_wang), 0);
}

#[test]
fn a_mark_the_server_refuses_is_sent_again_once_per_login_not_at_every_resync() {
    let (mut net, id) = group_with_a_message();
    go_offline(&mut net, 1);
    mark_seen(&mut net, 1, &group(), id);
    // Removed from the group meanwhile: the server refuses the mark.
    net.set_group(gid(7), vec![user(1), user(3)]);
    back_online(&mut net, 1);
    assert_eq!(marks_from(&net, 2), [id]);
    assert_eq!(net.read_mark(&user(2), &group()), None, "refused");
    net.run_for(3 * penpen_core::sync::RESYNC_MS);
    assert_eq!(marks_from(&net, 2), [id], "not again on the resyncs");
    go_offline(&mut net, 1);
    back_online(&mut net, 1);
    assert_eq!(marks_from(&net, 2), [id, id], "again after a login");
}
