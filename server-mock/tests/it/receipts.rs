//! Read receipts (PROTOCOL §16) against a real server: marks on 20888,
//! watching a group, the catch-up on 50888, reminders (加急) on 27888 and
//! the choice to share on 32888. In the demo company, group 1 is 技术部:
//! 张伟 (ZHANG) holds it, 刘洋 (LIU), 陈静 (CHEN) and 13800000006 … 08 and
//! …22 are members; 王建国 (WANG) and 李娜 (LI) are not.

use crate::common::*;
use penpen_core::packets::Done;
use penpen_core::packets::actions::Recall;
use penpen_core::packets::groups::{
    GroupCreate, GroupCreated, GroupMembersChange, GroupUpdated, Members, MembersAction,
};
use penpen_core::packets::login::{LoginReply, Push};
use penpen_core::packets::message::{MessageType, SendAck, SendText};
use penpen_core::packets::receipts::{
    Ding, DingNotice, GroupReads, MemberRead, PeerRead, ReadMark, ReadsPage, ReadsQuery,
    ReceiptsSetting, Watch,
};
use penpen_core::packets::settings::{MutedList, MutedQuery};
use penpen_core::{ErrorReply, GroupId, MessageId, Peer, Service, State};
use std::time::{Duration, Instant};

const CHEN: &str = "13800000005";
const SOON: Duration = Duration::from_secs(10);

fn tech() -> GroupId {
    GroupId::parse("1").expect("gid")
}

/// Sends a text from `token`'s user to `to` and returns its id.
async fn send(
    server: &penpen_server_mock::RunningServer,
    token: &str,
    from: &str,
    to: Peer,
) -> MessageId {
    let (service, kind) = match to {
        Peer::Group(_) => (Service::GroupText, MessageType::GroupText),
        Peer::User(_) => (Service::Text, MessageType::Text),
    };
    let mut port = Client::connect(server, service, Some(token)).await;
    let ack: SendAck = port
        .request(&SendText {
            quote: None,
            mentions: None,
            mention_all: false,
            from: user(from),
            to,
            kind,
            content: "看一下".into(),
            cid: None,
        })
        .await
        .expect("sent");
    ack.id
}

/// The next push of a kind, skipping everything else.
async fn next_push<T>(stream: &mut Client, pick: impl Fn(Push) -> Option<T>) -> T {
    let deadline = Instant::now() + SOON;
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        let payload = stream
            .next_payload(wait)
            .await
            .expect("the push within 10 s");
        if let Ok(push) = serde_json::from_str::<Push>(&payload)
            && let Some(found) = pick(push)
        {
            return found;
        }
    }
}

async fn next_read(stream: &mut Client) -> PeerRead {
    next_push(stream, |push| match push {
        Push::Read { read } => Some(read),
        _ => None,
    })
    .await
}

async fn next_reads(stream: &mut Client) -> GroupReads {
    next_push(stream, |push| match push {
        Push::Reads { reads } => Some(reads),
        _ => None,
    })
    .await
}

/// The next reply on a stream (a frame with a state), skipping pushes.
async fn next_refusal(stream: &mut Client) -> ErrorReply {
    loop {
        let payload = stream.next_payload(SOON).await.expect("a reply");
        let value: serde_json::Value = serde_json::from_str(&payload).expect("json");
        if value.get("state").is_some() {
            return serde_json::from_str(&payload).expect("a refusal");
        }
    }
}

fn mark(id: MessageId) -> ReadMark {
    ReadMark { read: id }
}

fn seen(target: Peer, by: &str, id: MessageId) -> PeerRead {
    PeerRead {
        target,
        by: user(by),
        id: Some(id),
        private: false,
    }
}

async fn catch_up(
    server: &penpen_server_mock::RunningServer,
    token: &str,
    version: u64,
) -> ReadsPage {
    let mut sync = Client::connect(server, Service::SyncMessages, Some(token)).await;
    sync.request(&ReadsQuery { reads: version })
        .await
        .expect("a page of marks")
}

#[tokio::test]
async fn marks_only_move_up_and_reach_the_readers_devices_and_the_other_person() {
    let (server, _data) = start().await;
    let (mut li_stream, li) = log_in(&server, LI).await;
    let (mut phone, wang) = log_in(&server, WANG).await;
    let (mut desk, _) = log_in(&server, WANG).await;
    let first = send(&server, &li.token, LI, Peer::User(user(WANG))).await;
    let second = send(&server, &li.token, LI, Peer::User(user(WANG))).await;
    let third = send(&server, &li.token, LI, Peer::User(user(WANG))).await;

    phone.send(&mark(second)).await;
    let to_li = Peer::User(user(LI));
    assert_eq!(
        next_read(&mut desk).await,
        seen(to_li.clone(), WANG, second)
    );
    assert_eq!(
        next_read(&mut phone).await,
        seen(to_li.clone(), WANG, second)
    );
    let to_wang = Peer::User(user(WANG));
    assert_eq!(
        next_read(&mut li_stream).await,
        seen(to_wang.clone(), WANG, second)
    );

    // A lower mark, or the same, changes nothing and pushes nothing: the
    // next push anyone gets is the higher mark after it.
    phone.send(&mark(first)).await;
    phone.send(&mark(second)).await;
    phone.send(&mark(third)).await;
    assert_eq!(next_read(&mut desk).await, seen(to_li.clone(), WANG, third));
    assert_eq!(
        next_read(&mut li_stream).await,
        seen(to_wang.clone(), WANG, third)
    );
    phone.send(&mark(first)).await;

    // The catch-up holds the maximum: WANG's own mark, and for LI the other
    // person's, named by that person.
    let page = catch_up(&server, &wang.token, 0).await;
    assert_eq!(page.reads, [seen(to_li, WANG, third)]);
    assert!(!page.more);
    let page = catch_up(&server, &li.token, 0).await;
    assert_eq!(page.reads, [seen(to_wang, WANG, third)]);
    assert_eq!(catch_up(&server, &li.token, page.version).await.reads, []);
}

#[tokio::test]
async fn marks_survive_a_restart() {
    let data = tempfile::tempdir().expect("temporary folder");
    let server = start_in(data.path()).await;
    let (_li_stream, li) = log_in(&server, LI).await;
    let (mut stream, _) = log_in(&server, WANG).await;
    let id = send(&server, &li.token, LI, Peer::User(user(WANG))).await;
    stream.send(&mark(id)).await;
    next_read(&mut stream).await; // pushed only once committed
    server.shutdown().await;

    let server = start_in(data.path()).await;
    let (_stream, wang) = log_in(&server, WANG).await;
    let page = catch_up(&server, &wang.token, 0).await;
    assert_eq!(page.reads, [seen(Peer::User(user(LI)), WANG, id)]);
}

#[tokio::test]
async fn a_mark_is_refused_outside_the_callers_conversations() {
    let (server, _data) = start().await;
    let (_zhang_stream, zhang) = log_in(&server, ZHANG).await;
    let (mut wang_stream, _) = log_in(&server, WANG).await;
    let (mut liu_stream, liu) = log_in(&server, LIU).await;
    let in_group = send(&server, &zhang.token, ZHANG, Peer::Group(tech())).await;
    let between_others = send(&server, &zhang.token, ZHANG, Peer::User(user(LIU))).await;

    for id in [in_group, between_others, MessageId(999_999)] {
        wang_stream.send(&mark(id)).await;
        assert_eq!(
            next_refusal(&mut wang_stream).await.state,
            State::NO_SUCH_MESSAGE,
            "message {id}"
        );
    }
    wang_stream.send(&serde_json::json!({"read": "x"})).await;
    assert_eq!(
        next_refusal(&mut wang_stream).await.state,
        State::BAD_PACKET
    );

    // A member who left may mark what they could read, and nothing after.
    let mut members = Client::connect(&server, Service::GroupMembers, Some(&liu.token)).await;
    let _: GroupUpdated = members
        .request(&GroupMembersChange {
            gid: tech(),
            action: MembersAction::Leave,
            member: Members(vec![user(LIU)]),
        })
        .await
        .expect("left");
    let after = send(&server, &zhang.token, ZHANG, Peer::Group(tech())).await;
    liu_stream.send(&mark(after)).await;
    assert_eq!(
        next_refusal(&mut liu_stream).await.state,
        State::NO_SUCH_MESSAGE
    );
    liu_stream.send(&mark(in_group)).await;
    assert_eq!(
        next_read(&mut liu_stream).await,
        seen(Peer::Group(tech()), LIU, in_group)
    );
}

#[tokio::test]
async fn one_who_does_not_share_is_private_to_others_but_not_to_their_own_devices() {
    let (server, _data) = start().await;
    let (mut wang_stream, wang) = log_in(&server, WANG).await;
    let (mut phone, li) = log_in(&server, LI).await;
    let (mut desk, _) = log_in(&server, LI).await;
    let mut settings =
        Client::connect(&server, Service::ConversationSettings, Some(&li.token)).await;
    let list: MutedList = settings.request(&MutedQuery {}).await.expect("listed");
    assert_eq!(list.receipts, Some(true), "the company default");
    let _: Done = settings
        .request(&ReceiptsSetting { receipts: false })
        .await
        .expect("stored");
    let list: MutedList = settings.request(&MutedQuery {}).await.expect("listed");
    assert_eq!(list.receipts, Some(false));

    let id = send(&server, &wang.token, WANG, Peer::User(user(LI))).await;
    phone.send(&mark(id)).await;
    let to_wang = Peer::User(user(WANG));
    assert_eq!(next_read(&mut desk).await, seen(to_wang.clone(), LI, id));
    let private = PeerRead {
        target: Peer::User(user(LI)),
        by: user(LI),
        id: None,
        private: true,
    };
    assert_eq!(next_read(&mut wang_stream).await, private);
    let page = catch_up(&server, &wang.token, 0).await;
    assert_eq!(page.reads, [private]);
    assert_eq!(
        catch_up(&server, &li.token, 0).await.reads,
        [seen(to_wang, LI, id)]
    );

    // Sharing again: WANG's next catch-up (from where it was) shows the id.
    let _: Done = settings
        .request(&ReceiptsSetting { receipts: true })
        .await
        .expect("stored");
    let later = catch_up(&server, &wang.token, page.version).await;
    assert_eq!(later.reads, [seen(Peer::User(user(LI)), LI, id)]);
}

#[tokio::test]
async fn the_company_default_can_be_not_to_share() {
    let (server, _data) = start_configured(|c| c.receipts.shared_by_default = false).await;
    let (_stream, li) = log_in(&server, LI).await;
    let mut settings =
        Client::connect(&server, Service::ConversationSettings, Some(&li.token)).await;
    let list: MutedList = settings.request(&MutedQuery {}).await.expect("listed");
    assert_eq!(list.receipts, Some(false));
    let _: Done = settings
        .request(&ReceiptsSetting { receipts: true })
        .await
        .expect("stored");
    let list: MutedList = settings.request(&MutedQuery {}).await.expect("listed");
    assert_eq!(list.receipts, Some(true), "a choice beats the default");
}

async fn change_members(
    server: &penpen_server_mock::RunningServer,
    token: &str,
    gid: GroupId,
    action: MembersAction,
    who: &str,
) {
    let mut members = Client::connect(server, Service::GroupMembers, Some(token)).await;
    let _: GroupUpdated = members
        .request(&GroupMembersChange {
            gid,
            action,
            member: Members(vec![user(who)]),
        })
        .await
        .expect("members changed");
}

#[tokio::test]
async fn a_watch_gets_every_member_with_when_they_joined_and_left() {
    let (server, _data) = start().await;
    let (mut zhang_stream, zhang) = log_in(&server, ZHANG).await;
    let (mut chen_stream, _) = log_in(&server, CHEN).await;
    let (_liu_stream, liu) = log_in(&server, LIU).await;
    let mut create = Client::connect(&server, Service::GroupCreate, Some(&zhang.token)).await;
    let created: GroupCreated = create
        .request(&GroupCreate {
            holder: user(ZHANG),
            name: "已读小组".into(),
            member: Members(vec![user(LIU), user(CHEN)]),
        })
        .await
        .expect("created");
    let gid = created.gid;
    let first = send(&server, &zhang.token, ZHANG, Peer::Group(gid)).await;
    change_members(&server, &zhang.token, gid, MembersAction::Add, WANG).await;
    change_members(&server, &liu.token, gid, MembersAction::Leave, LIU).await;
    chen_stream.send(&mark(first)).await;
    next_read(&mut chen_stream).await;

    zhang_stream.send(&Watch { watch: Some(gid) }).await;
    let full = next_reads(&mut zhang_stream).await;
    assert!(full.full);
    assert_eq!(full.target, gid);
    let member = |who: &str| {
        full.marks
            .iter()
            .find(|m| m.user == user(who))
            .cloned()
            .unwrap_or_else(|| panic!("{who} in {:?}", full.marks))
    };
    assert_eq!(member(ZHANG).joined, None, "a founder");
    assert_eq!(member(ZHANG).id, None, "read nothing yet");
    assert_eq!(member(CHEN).id, Some(first));
    assert_eq!(member(WANG).joined, Some(first), "joined after it");
    let left = member(LIU).left.expect("LIU left");
    assert!(left > first);
    assert_eq!(full.marks.len(), 4);

    // A change follows as members read; a stopped watch gets none.
    let mut wang_stream = log_in(&server, WANG).await.0;
    wang_stream.send(&mark(first)).await;
    let change = next_reads(&mut zhang_stream).await;
    assert!(!change.full);
    assert_eq!(
        change.marks,
        [MemberRead {
            user: user(WANG),
            id: Some(first),
            joined: None,
            left: None,
            private: false
        }]
    );

    // Refusals: a group one is not in, one that does not exist.
    let (mut li_stream, _) = log_in(&server, LI).await;
    li_stream.send(&Watch { watch: Some(gid) }).await;
    assert_eq!(
        next_refusal(&mut li_stream).await.state,
        State::NOT_A_MEMBER
    );
    let nowhere = GroupId::parse("9999").expect("gid");
    li_stream
        .send(&Watch {
            watch: Some(nowhere),
        })
        .await;
    assert_eq!(
        next_refusal(&mut li_stream).await.state,
        State::UNKNOWN_GROUP
    );
}

#[tokio::test]
async fn a_burst_of_reads_reaches_the_watcher_in_a_few_frames_and_no_one_else() {
    let interval = Duration::from_millis(300);
    let (server, _data) = start_configured(|c| c.receipts.coalesce = interval).await;
    let (mut zhang_stream, zhang) = log_in(&server, ZHANG).await;
    let readers = [LIU, CHEN, "13800000006", "13800000007", "13800000008"];
    let mut streams = Vec::new();
    for reader in readers {
        streams.push(log_in(&server, reader).await.0);
    }
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(send(&server, &zhang.token, ZHANG, Peer::Group(tech())).await);
    }
    let newest = *ids.last().expect("sent");
    zhang_stream
        .send(&Watch {
            watch: Some(tech()),
        })
        .await;
    assert!(next_reads(&mut zhang_stream).await.full);

    let started = Instant::now();
    for id in &ids {
        for stream in &mut streams {
            stream.send(&mark(*id)).await;
        }
    }
    let mut frames = 0;
    let mut reached = std::collections::BTreeSet::new();
    while reached.len() < readers.len() {
        let change = next_reads(&mut zhang_stream).await;
        assert!(!change.full);
        frames += 1;
        for read in change.marks {
            if read.id == Some(newest) {
                reached.insert(read.user);
            }
        }
    }
    let elapsed = started.elapsed();
    let marks = ids.len() * readers.len();
    let allowed = (elapsed.as_millis() / interval.as_millis()) as usize + 2;
    assert!(
        frames <= allowed && frames < marks,
        "{frames} frames for {marks} marks in {elapsed:?}: at most one a {interval:?} expected"
    );

    // LIU reads but does not watch: after the burst, the next push on
    // LIU's stream that is not their own mark is a new message, not `reads`.
    let liu = &mut streams[0];
    let marker = send(&server, &zhang.token, ZHANG, Peer::Group(tech())).await;
    loop {
        let payload = liu.next_payload(SOON).await.expect("pushes");
        match serde_json::from_str::<Push>(&payload) {
            Ok(Push::Reads { .. }) => panic!("a member not watching got {payload}"),
            Ok(Push::Message(message)) if message.id == marker => break,
            _ => {}
        }
    }
}

#[tokio::test]
async fn the_catch_up_pages_oldest_change_first() {
    let (server, _data) = start_configured(|c| c.receipts.reads_page = 2).await;
    let (mut stream, wang) = log_in(&server, WANG).await;
    let mut expected = Vec::new();
    for sender in [LI, ZHANG, LIU] {
        let (_s, them): (Client, LoginReply) = log_in(&server, sender).await;
        let id = send(&server, &them.token, sender, Peer::User(user(WANG))).await;
        stream.send(&mark(id)).await;
        expected.push(next_read(&mut stream).await);
    }
    let first = catch_up(&server, &wang.token, 0).await;
    assert_eq!(first.reads, expected[..2]);
    assert!(first.more);
    let second = catch_up(&server, &wang.token, first.version).await;
    assert_eq!(second.reads, expected[2..]);
    assert!(!second.more);
    let none = catch_up(&server, &wang.token, second.version).await;
    assert_eq!(
        (none.reads, none.version, none.more),
        (vec![], second.version, false)
    );
}

async fn ding(
    server: &penpen_server_mock::RunningServer,
    token: &str,
    id: MessageId,
) -> Result<Done, ErrorReply> {
    let mut actions = Client::connect(server, Service::MessageActions, Some(token)).await;
    actions.request(&Ding { ding: id }).await
}

async fn next_ding(stream: &mut Client) -> DingNotice {
    next_push(stream, |push| match push {
        Push::Ding { ding } => Some(*ding),
        _ => None,
    })
    .await
}

/// Fails if a reminder comes before the message `marker` on this stream.
async fn no_ding_before(stream: &mut Client, marker: MessageId) {
    loop {
        let payload = stream.next_payload(SOON).await.expect("pushes");
        match serde_json::from_str::<Push>(&payload) {
            Ok(Push::Ding { .. }) => panic!("an unexpected reminder: {payload}"),
            Ok(Push::Message(message)) if message.id == marker => return,
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_reminder_reaches_only_those_who_have_not_read() {
    let (server, _data) = start().await;
    let (mut zhang_stream, zhang) = log_in(&server, ZHANG).await;
    let (mut liu_stream, liu) = log_in(&server, LIU).await;
    let (mut chen_stream, _) = log_in(&server, CHEN).await;
    let (_wang_stream, wang) = log_in(&server, WANG).await;
    let id = send(&server, &zhang.token, ZHANG, Peer::Group(tech())).await;
    liu_stream.send(&mark(id)).await;
    next_read(&mut liu_stream).await;

    ding(&server, &zhang.token, id).await.expect("reminded");
    let notice = next_ding(&mut chen_stream).await;
    assert_eq!(notice.target, Peer::Group(tech()));
    assert_eq!(notice.by, user(ZHANG));
    assert_eq!(notice.message.id, id);
    assert_eq!(notice.message.content.as_deref(), Some("看一下"));
    let marker = send(&server, &zhang.token, ZHANG, Peer::Group(tech())).await;
    no_ding_before(&mut liu_stream, marker).await;
    no_ding_before(&mut zhang_stream, marker).await;

    // Refusals: not one's own (30), not one's conversation (39), recalled (40).
    assert_eq!(
        ding(&server, &liu.token, id).await.unwrap_err().state,
        State::FORBIDDEN
    );
    assert_eq!(
        ding(&server, &wang.token, id).await.unwrap_err().state,
        State::NO_SUCH_MESSAGE
    );
    let mut actions = Client::connect(&server, Service::MessageActions, Some(&zhang.token)).await;
    let _: SendAck = actions
        .request(&Recall { recall: marker })
        .await
        .expect("recalled");
    assert_eq!(
        ding(&server, &zhang.token, marker).await.unwrap_err().state,
        State::TOO_LATE_TO_RECALL
    );

    // 1:1: the other person, named by the sender.
    let (mut li_stream, _) = log_in(&server, LI).await;
    let to_li = send(&server, &wang.token, WANG, Peer::User(user(LI))).await;
    ding(&server, &wang.token, to_li).await.expect("reminded");
    let notice = next_ding(&mut li_stream).await;
    assert_eq!(
        (notice.target, notice.message.id),
        (Peer::User(user(WANG)), to_li)
    );
}

#[tokio::test]
async fn reminders_are_limited_per_message_and_per_sender() {
    let (server, _data) = start_configured(|c| c.auth.dings = 2).await;
    let (_stream, wang) = log_in(&server, WANG).await;
    let first = send(&server, &wang.token, WANG, Peer::User(user(LI))).await;
    let second = send(&server, &wang.token, WANG, Peer::User(user(LI))).await;
    let third = send(&server, &wang.token, WANG, Peer::User(user(LI))).await;
    ding(&server, &wang.token, first).await.expect("reminded");
    let again = ding(&server, &wang.token, first).await.unwrap_err();
    assert_eq!(again.state, State::RATE_LIMITED);
    assert!(
        again.error.contains("less than 60 s ago"),
        "{}",
        again.error
    );
    ding(&server, &wang.token, second).await.expect("reminded");
    let many = ding(&server, &wang.token, third).await.unwrap_err();
    assert_eq!(many.state, State::RATE_LIMITED);
    assert!(many.error.contains("too many reminders"), "{}", many.error);
}

#[tokio::test]
async fn reminders_missed_offline_come_after_login_until_read() {
    let (server, _data) = start().await;
    let (_zhang_stream, zhang) = log_in(&server, ZHANG).await;
    let id = send(&server, &zhang.token, ZHANG, Peer::Group(tech())).await;
    ding(&server, &zhang.token, id).await.expect("reminded");

    let (mut chen_stream, _) = log_in(&server, CHEN).await;
    let notice = next_ding(&mut chen_stream).await;
    assert_eq!((notice.by, notice.message.id), (user(ZHANG), id));
    chen_stream.send(&mark(id)).await;
    next_read(&mut chen_stream).await;
    drop(chen_stream);

    // Read now: the next login replays nothing.
    let (mut chen_stream, _) = log_in(&server, CHEN).await;
    let marker = send(&server, &zhang.token, ZHANG, Peer::Group(tech())).await;
    no_ding_before(&mut chen_stream, marker).await;
}

#[tokio::test]
async fn a_member_removed_stops_getting_the_groups_changes() {
    let (server, _data) = start().await;
    let (mut zhang_stream, zhang) = log_in(&server, ZHANG).await;
    let (mut chen_stream, _) = log_in(&server, CHEN).await;
    let (mut liu_stream, _) = log_in(&server, LIU).await;
    let id = send(&server, &zhang.token, ZHANG, Peer::Group(tech())).await;
    for stream in [&mut zhang_stream, &mut chen_stream] {
        stream
            .send(&Watch {
                watch: Some(tech()),
            })
            .await;
        assert!(next_reads(stream).await.full);
    }
    change_members(&server, &zhang.token, tech(), MembersAction::Remove, CHEN).await;

    liu_stream.send(&mark(id)).await;
    let change = next_reads(&mut zhang_stream).await;
    assert_eq!(change.marks[0].user, user(LIU));
    // Released to every watcher at once: had CHEN still been one, theirs
    // would come before this message.
    let marker = send(&server, &zhang.token, ZHANG, Peer::User(user(CHEN))).await;
    loop {
        let payload = chen_stream.next_payload(SOON).await.expect("pushes");
        match serde_json::from_str::<Push>(&payload) {
            Ok(Push::Reads { .. }) => panic!("a removed member got {payload}"),
            Ok(Push::Message(message)) if message.id == marker => break,
            _ => {}
        }
    }
}
