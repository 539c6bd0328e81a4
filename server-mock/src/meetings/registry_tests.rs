//! The registry's rules and timers on a simulated clock: no sockets, no SFU.

use super::*;

const FIRST: Duration = Duration::from_secs(30);
const GRACE: Duration = Duration::from_secs(30);
const OFFER: Duration = Duration::from_secs(15);

fn registry(max: usize) -> Registry {
    Registry::new(Timing {
        first_join_grace: FIRST,
        rejoin_grace: GRACE,
        offer_timeout: OFFER,
        max_participants: max,
    })
}

fn user(n: u8) -> UserId {
    UserId::parse(&format!("138000000{n:02}")).expect("a user id")
}

fn socket(id: u64, n: u8) -> (Socket, mpsc::Receiver<MeetingSignal>) {
    let (signals, receiver) = mpsc::channel(16);
    (
        Socket {
            id,
            user: user(n),
            signals,
        },
        receiver,
    )
}

fn gid() -> GroupId {
    GroupId::new(7).expect("a gid")
}

fn events(receiver: &mut mpsc::Receiver<MeetingSignal>) -> Vec<MeetingSignalEvent> {
    std::iter::from_fn(|| receiver.try_recv().ok())
        .map(|s| s.signal.event)
        .collect()
}

fn answer(session: &str) -> String {
    format!("v=0\r\no=- {session} 2 IN IP4 0.0.0.0\r\n")
}

/// A running meeting of group 7 started by user 1 at `t0`.
fn running(meetings: &mut Registry, t0: Instant) -> MeetingId {
    let Start::New(id) = meetings.start(gid(), &user(1), MeetingId::generated(1, 2), t0, 1000)
    else {
        panic!("a new meeting");
    };
    let effects = meetings.started(&id);
    assert!(matches!(
        effects.group_pushes.as_slice(),
        [(_, Push::Meeting { .. })]
    ));
    id
}

fn joined(meetings: &mut Registry, socket: &Socket, id: &MeetingId, session: &str) -> Effects {
    let ticket = meetings.reserve_join(socket, id, false).expect("reserved");
    meetings
        .commit_join(socket, id, &ticket, &answer(session), true, false)
        .expect("joined")
        .1
}

fn users_of(list: &[Participant]) -> Vec<UserId> {
    list.iter().map(|p| p.user.clone()).collect()
}

fn pushed_users(effects: &Effects) -> Option<Vec<UserId>> {
    effects
        .group_pushes
        .iter()
        .rev()
        .find_map(|(_, push)| match push {
            Push::Meeting { meeting } => Some(meeting.participants.clone()),
            _ => None,
        })
}

#[test]
fn a_second_start_names_the_running_meeting_and_nobody_joining_ends_it_empty() {
    let mut meetings = registry(16);
    let t0 = Instant::now();
    let id = running(&mut meetings, t0);
    let again = meetings.start(gid(), &user(2), MeetingId::generated(3, 4), t0, 1000);
    assert_eq!(again, Start::Running(id.clone()));
    assert_eq!(meetings.next_deadline(), Some(t0 + FIRST));
    assert!(
        meetings
            .expire(t0 + FIRST - Duration::from_millis(1))
            .finished
            .is_empty()
    );
    let effects = meetings.expire(t0 + FIRST);
    let [finished] = effects.finished.as_slice() else {
        panic!("one notice: {effects:?}");
    };
    assert_eq!(finished.notice.by, None);
    assert!(finished.notice.participants.is_empty());
    assert_eq!(finished.notice.duration, 30);
    assert!(meetings.of_group(gid()).is_none());
    assert_eq!(meetings.next_deadline(), None);
}

#[test]
fn an_unstored_start_leaves_no_meeting() {
    let mut meetings = registry(16);
    let t0 = Instant::now();
    let Start::New(id) = meetings.start(gid(), &user(1), MeetingId::generated(1, 2), t0, 0) else {
        panic!("new");
    };
    let (s, _) = socket(1, 1);
    // Not joinable before its notice is stored.
    assert_eq!(
        meetings
            .reserve_join(&s, &id, false)
            .expect_err("not yet")
            .state,
        State::CALL_GONE
    );
    meetings.start_failed(&id);
    assert!(meetings.of_group(gid()).is_none());
}

#[test]
fn participants_are_listed_in_join_order_and_a_rejoin_keeps_the_place() {
    let mut meetings = registry(16);
    let t0 = Instant::now();
    let id = running(&mut meetings, t0);
    let (a, mut a_rx) = socket(1, 1);
    let (b, _) = socket(2, 2);
    joined(&mut meetings, &a, &id, "10");
    let effects = joined(&mut meetings, &b, &id, "20");
    assert_eq!(pushed_users(&effects), Some(vec![user(1), user(2)]));
    // user 1 joins again from another socket: the old one hears it, the place stays first.
    let (a2, _) = socket(3, 1);
    let ticket = meetings.reserve_join(&a2, &id, false).expect("reserved");
    assert!(ticket.replacing);
    let (list, effects) = meetings
        .commit_join(&a2, &id, &ticket, &answer("11"), false, true)
        .expect("joined again");
    assert_eq!(users_of(&list), [user(1), user(2)]);
    assert!(!list[0].mic && list[0].camera);
    assert!(effects.group_pushes.is_empty(), "the list did not change");
    assert_eq!(
        events(&mut a_rx),
        [MeetingSignalEvent::Ended(MeetingEndReason::JoinedElsewhere)]
    );
    // The old socket no longer carries it.
    assert_eq!(
        meetings.leave(&a, &id, t0).expect_err("not carried").state,
        State::CALL_GONE
    );
}

#[test]
fn limits_and_busy_users_are_refused() {
    let mut meetings = registry(2);
    let t0 = Instant::now();
    let id = running(&mut meetings, t0);
    let (a, _) = socket(1, 1);
    let (b, _) = socket(2, 2);
    let (c, _) = socket(3, 3);
    joined(&mut meetings, &a, &id, "1");
    assert_eq!(
        meetings
            .reserve_join(&b, &id, true)
            .expect_err("in a call")
            .state,
        State::IN_ANOTHER_CALL
    );
    joined(&mut meetings, &b, &id, "2");
    assert_eq!(
        meetings
            .reserve_join(&c, &id, false)
            .expect_err("full")
            .state,
        State::MEETING_FULL
    );
    assert!(meetings.is_in_meeting(&user(1)) && !meetings.is_in_meeting(&user(3)));
    // Another group's meeting: user 2 is busy there.
    let other = GroupId::new(8).expect("gid");
    let Start::New(second) = meetings.start(other, &user(3), MeetingId::generated(9, 9), t0, 0)
    else {
        panic!("new");
    };
    meetings.started(&second);
    assert_eq!(
        meetings
            .reserve_join(&b, &second, false)
            .expect_err("in another")
            .state,
        State::IN_ANOTHER_CALL
    );
}

#[test]
fn the_last_one_out_ends_it_empty_with_everyone_who_took_part() {
    let mut meetings = registry(16);
    let t0 = Instant::now();
    let id = running(&mut meetings, t0);
    let (a, mut a_rx) = socket(1, 1);
    let (b, mut b_rx) = socket(2, 2);
    joined(&mut meetings, &b, &id, "2");
    joined(&mut meetings, &a, &id, "1");
    let effects = meetings.leave(&b, &id, t0).expect("b leaves");
    assert_eq!(effects.sfu_leaves, [user(2)]);
    assert_eq!(pushed_users(&effects), Some(vec![user(1)]));
    assert!(events(&mut b_rx).is_empty(), "the leaver has its reply");
    let later = t0 + Duration::from_secs(65);
    let effects = meetings.leave(&a, &id, later).expect("a leaves");
    let [finished] = effects.finished.as_slice() else {
        panic!("ended: {effects:?}");
    };
    assert_eq!(finished.notice.participants, [user(2), user(1)]);
    assert_eq!(
        (finished.notice.by.clone(), finished.notice.duration),
        (None, 65)
    );
    assert!(matches!(
        effects.group_pushes.last(),
        Some((_, Push::MeetingEnded { meeting_ended })) if meeting_ended.reason == MeetingEndReason::Empty
    ));
    assert!(events(&mut a_rx).is_empty());
    assert!(!meetings.is_in_meeting(&user(1)));
}

#[test]
fn a_gone_socket_keeps_the_place_for_the_grace_then_it_is_lost() {
    let mut meetings = registry(16);
    let t0 = Instant::now();
    let id = running(&mut meetings, t0);
    let (a, _) = socket(1, 1);
    let (b, mut b_rx) = socket(2, 2);
    joined(&mut meetings, &a, &id, "1");
    joined(&mut meetings, &b, &id, "2");
    meetings.socket_closed(&a, t0);
    assert_eq!(meetings.next_deadline(), Some(t0 + GRACE));
    assert!(
        meetings
            .expire(t0 + GRACE - Duration::from_millis(1))
            .sfu_leaves
            .is_empty()
    );
    let effects = meetings.expire(t0 + GRACE);
    assert_eq!(effects.sfu_leaves, [user(1)]);
    assert_eq!(pushed_users(&effects), Some(vec![user(2)]));
    assert!(events(&mut b_rx).is_empty());
}

#[test]
fn an_unanswered_offer_loses_the_participant_and_a_stale_one_is_not_relayed() {
    let mut meetings = registry(16);
    let t0 = Instant::now();
    let id = running(&mut meetings, t0);
    let (a, mut a_rx) = socket(1, 1);
    let (b, _) = socket(2, 2);
    joined(&mut meetings, &a, &id, "100");
    joined(&mut meetings, &b, &id, "200");
    // An offer of another peer connection of user 1 (replaced) goes nowhere.
    meetings.sfu_offer(&user(1), answer("99"), t0);
    assert!(events(&mut a_rx).is_empty());
    assert_eq!(
        meetings
            .check_answer(&a, &id)
            .expect_err("nothing waits")
            .state,
        State::CALL_GONE
    );
    meetings.sfu_offer(&user(1), answer("100"), t0);
    let offers = events(&mut a_rx);
    let [MeetingSignalEvent::Offer { participants, .. }] = offers.as_slice() else {
        panic!("one offer: {offers:?}");
    };
    assert_eq!(users_of(participants), [user(1), user(2)]);
    assert!(meetings.check_answer(&a, &id).is_ok());
    assert_eq!(meetings.next_deadline(), Some(t0 + OFFER));
    let effects = meetings.expire(t0 + OFFER);
    assert_eq!(effects.sfu_leaves, [user(1)]);
    assert_eq!(
        events(&mut a_rx),
        [MeetingSignalEvent::Ended(MeetingEndReason::Lost)]
    );
    // An answered offer has no deadline.
    meetings.sfu_offer(&user(2), answer("200"), t0);
    let first = meetings.check_answer(&b, &id).expect("an offer waits");
    // A newer offer came while the first answer was handled: it still waits.
    meetings.sfu_offer(&user(2), answer("200"), t0);
    meetings.answered(&b, &id, first);
    assert!(meetings.check_answer(&b, &id).is_ok());
    let second = meetings.check_answer(&b, &id).expect("the second waits");
    meetings.answered(&b, &id, second);
    assert_eq!(meetings.next_deadline(), None);
}

#[test]
fn a_removed_member_leaves_and_is_told_and_the_media_change_reaches_the_others() {
    let mut meetings = registry(16);
    let t0 = Instant::now();
    let id = running(&mut meetings, t0);
    let (a, mut a_rx) = socket(1, 1);
    let (b, mut b_rx) = socket(2, 2);
    joined(&mut meetings, &a, &id, "1");
    joined(&mut meetings, &b, &id, "2");
    meetings.media(&a, &id, false, true).expect("media");
    assert!(events(&mut a_rx).is_empty(), "not the sender");
    assert!(matches!(
        events(&mut b_rx).as_slice(),
        [MeetingSignalEvent::Participants(list)] if !list[0].mic && list[0].camera
    ));
    let effects = meetings.member_removed(gid(), &user(2), t0);
    assert_eq!(
        events(&mut b_rx),
        [MeetingSignalEvent::Ended(MeetingEndReason::Removed)]
    );
    assert!(matches!(
        effects.user_pushes.as_slice(),
        [(u, Push::MeetingEnded { meeting_ended })] if u == &user(2) && meeting_ended.reason == MeetingEndReason::Removed
    ));
    assert_eq!(effects.sfu_leaves, [user(2)]);
    assert_eq!(pushed_users(&effects), Some(vec![user(1)]));
}

#[test]
fn ending_tells_every_socket_but_the_enders_and_frees_everyone() {
    let mut meetings = registry(16);
    let t0 = Instant::now();
    let id = running(&mut meetings, t0);
    let (a, mut a_rx) = socket(1, 1);
    let (b, mut b_rx) = socket(2, 2);
    joined(&mut meetings, &a, &id, "1");
    joined(&mut meetings, &b, &id, "2");
    let effects = meetings
        .end_by(&id, &user(1), a.id, t0 + Duration::from_secs(3))
        .expect("ended");
    assert!(events(&mut a_rx).is_empty());
    assert_eq!(
        events(&mut b_rx),
        [MeetingSignalEvent::Ended(MeetingEndReason::Ended)]
    );
    let [finished] = effects.finished.as_slice() else {
        panic!("one notice");
    };
    assert_eq!(finished.notice.by, Some(user(1)));
    assert_eq!(finished.notice.participants, [user(1), user(2)]);
    assert_eq!(effects.sfu_leaves, [user(1), user(2)]);
    assert!(!meetings.is_in_meeting(&user(2)));
    assert_eq!(
        meetings
            .end_by(&id, &user(1), a.id, t0)
            .expect_err("over")
            .state,
        State::CALL_GONE
    );
}

#[test]
fn a_join_the_sfu_refused_leaves_no_trace_and_a_meeting_joined_before_ends() {
    let mut meetings = registry(16);
    let t0 = Instant::now();
    let id = running(&mut meetings, t0);
    let (a, _) = socket(1, 1);
    let ticket = meetings.reserve_join(&a, &id, false).expect("reserved");
    assert_eq!(meetings.next_deadline(), None, "a join is under way");
    let effects = meetings.abort_join(&user(1), &id, &ticket, t0);
    assert!(
        effects.finished.is_empty(),
        "nobody took part yet: it waits"
    );
    assert!(!meetings.is_in_meeting(&user(1)));
    assert_eq!(meetings.next_deadline(), Some(t0 + FIRST));
    // A replacing join that fails takes the old place with it.
    joined(&mut meetings, &a, &id, "1");
    let (a2, _) = socket(2, 1);
    let ticket = meetings.reserve_join(&a2, &id, false).expect("reserved");
    let effects = meetings.abort_join(&user(1), &id, &ticket, t0);
    assert_eq!(effects.finished.len(), 1, "{effects:?}");
    assert!(meetings.of_group(gid()).is_none());
}

#[test]
fn sdp_sessions_are_read_from_the_origin_line() {
    assert_eq!(sdp_session("v=0\r\no=- 8800 2 IN IP4 0.0.0.0\r\n"), "8800");
    assert_eq!(sdp_session("v=0\r\n"), "");
}

#[test]
fn a_loss_the_sfu_reports_drops_the_place_unless_a_join_replaces_it() {
    let mut meetings = registry(16);
    let t0 = Instant::now();
    let id = running(&mut meetings, t0);
    let (a, mut a_rx) = socket(1, 1);
    let (b, _) = socket(2, 2);
    joined(&mut meetings, &a, &id, "1");
    joined(&mut meetings, &b, &id, "2");
    // user 1 is joining again: the old connection's loss changes nothing.
    let (a2, _) = socket(3, 1);
    let ticket = meetings.reserve_join(&a2, &id, false).expect("reserved");
    let effects = meetings.sfu_lost(&user(1), id.as_str(), t0);
    assert!(effects.group_pushes.is_empty() && events(&mut a_rx).is_empty());
    meetings
        .commit_join(&a2, &id, &ticket, &answer("3"), true, true)
        .expect("joined again");
    // user 2's loss drops them; the SFU dropped them itself.
    let effects = meetings.sfu_lost(&user(2), id.as_str(), t0);
    assert!(effects.sfu_leaves.is_empty());
    assert_eq!(pushed_users(&effects), Some(vec![user(1)]));
    assert!(!meetings.is_in_meeting(&user(2)));
}
