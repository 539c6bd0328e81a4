//! The registry's timers on a simulated clock: no sockets, no sleeps.

use super::*;

const RING: Duration = Duration::from_secs(60);
const GRACE: Duration = Duration::from_secs(30);

fn registry() -> Registry {
    Registry::new(Timing {
        ring_timeout: RING,
        rejoin_grace: GRACE,
    })
}

fn socket(id: u64, user: &str) -> (Socket, mpsc::Receiver<CallSignal>) {
    let (signals, receiver) = mpsc::channel(16);
    let socket = Socket {
        id,
        user: UserId::parse(user).expect("a user id"),
        signals,
    };
    (socket, receiver)
}

fn invite_to(callee: &Socket) -> Invite {
    Invite {
        call: CallId::parse("call-1").expect("a call id"),
        to: callee.user.clone(),
        media: Media::Audio,
        sdp: "v=0".into(),
    }
}

fn call() -> CallId {
    CallId::parse("call-1").expect("a call id")
}

/// `caller` calls `callee`, who accepts, both at `at`.
fn answered(calls: &mut Registry, caller: &Socket, callee: &Socket, at: Instant) {
    calls
        .invite(caller, invite_to(callee), at, 0, &|_| false)
        .expect("invited");
    let accept = CallRequest::Accept {
        call: call(),
        sdp: "v=0".into(),
    };
    calls.act(callee, accept, at).expect("accepted");
}

fn events(receiver: &mut mpsc::Receiver<CallSignal>) -> Vec<SignalEvent> {
    std::iter::from_fn(|| receiver.try_recv().ok())
        .map(|s| s.signal.event)
        .collect()
}

#[test]
fn an_unanswered_call_ends_at_the_ring_timeout_and_not_before() {
    let mut calls = registry();
    let (wang, mut wang_signals) = socket(1, "13800000001");
    let (li, _) = socket(2, "13800000002");
    let t0 = Instant::now();
    calls
        .invite(&wang, invite_to(&li), t0, 0, &|_| false)
        .expect("invited");
    assert_eq!(calls.next_deadline(), Some(t0 + RING));
    assert!(calls.ringing_for(&li.user).is_some());

    let early = calls.expire(t0 + RING - Duration::from_millis(1));
    assert!(early.finished.is_empty());
    let due = calls.expire(t0 + RING);
    assert_eq!(due.finished.len(), 1);
    assert_eq!(due.finished[0].record.outcome, CallOutcome::Missed);
    assert_eq!(
        events(&mut wang_signals),
        [SignalEvent::Ended {
            reason: EndReason::Timeout,
            duration: None
        }]
    );
    assert!(matches!(
        &due.notices[0].push,
        Push::CallEnded { call_ended } if call_ended.reason == EndReason::Timeout
    ));
    assert_eq!(calls.next_deadline(), None);
    assert!(calls.ringing_for(&li.user).is_none());
}

#[test]
fn both_parties_gone_end_the_call_lost_with_its_duration() {
    let mut calls = registry();
    let (wang, _) = socket(1, "13800000001");
    let (li, _) = socket(2, "13800000002");
    let t0 = Instant::now();
    answered(&mut calls, &wang, &li, t0);
    let t1 = t0 + Duration::from_secs(90);
    calls.socket_closed(&wang, t1);
    calls.socket_closed(&li, t1 + Duration::from_secs(5));
    assert_eq!(calls.next_deadline(), Some(t1 + GRACE));
    let ended = calls.expire(t1 + GRACE);
    let record = &ended.finished[0].record;
    assert_eq!(
        (record.outcome, record.duration),
        (CallOutcome::Answered, Some(120))
    );
    assert!(ended.notices.is_empty(), "no device rings any more");
}

#[test]
fn a_rejoin_within_the_grace_keeps_the_call() {
    let mut calls = registry();
    let (wang, _) = socket(1, "13800000001");
    let (li, _) = socket(2, "13800000002");
    let (li_again, mut li_signals) = socket(3, "13800000002");
    let t0 = Instant::now();
    answered(&mut calls, &wang, &li, t0);
    calls.socket_closed(&li, t0);
    calls
        .act(&li_again, CallRequest::Rejoin(call()), t0 + GRACE / 2)
        .expect("rejoined");
    assert_eq!(calls.next_deadline(), None);
    assert!(calls.expire(t0 + GRACE * 2).finished.is_empty());
    let offer = CallRequest::Offer {
        call: call(),
        sdp: "v=0".into(),
    };
    calls.act(&wang, offer, t0 + GRACE).expect("relayed");
    assert_eq!(
        events(&mut li_signals),
        [SignalEvent::Offer { sdp: "v=0".into() }]
    );
}

#[test]
fn a_caller_gone_at_the_accept_hears_it_on_rejoin() {
    let mut calls = registry();
    let (wang, _) = socket(1, "13800000001");
    let (wang_again, mut wang_signals) = socket(3, "13800000001");
    let (li, _) = socket(2, "13800000002");
    let t0 = Instant::now();
    calls
        .invite(&wang, invite_to(&li), t0, 0, &|_| false)
        .expect("invited");
    calls.socket_closed(&wang, t0);
    let accept = CallRequest::Accept {
        call: call(),
        sdp: "answer".into(),
    };
    calls.act(&li, accept, t0).expect("accepted");
    calls
        .act(&wang_again, CallRequest::Rejoin(call()), t0)
        .expect("rejoined");
    assert_eq!(
        events(&mut wang_signals),
        [SignalEvent::Accepted {
            sdp: "answer".into()
        }]
    );
    // Said once.
    calls
        .act(&wang_again, CallRequest::Rejoin(call()), t0)
        .expect("rejoined");
    assert!(events(&mut wang_signals).is_empty());
}

#[test]
fn a_user_in_a_meeting_cannot_call_and_calling_them_ends_busy() {
    let mut calls = registry();
    let (wang, mut wang_signals) = socket(1, "13800000001");
    let (li, _) = socket(2, "13800000002");
    let t0 = Instant::now();
    let wang_in_meeting = |u: &UserId| u == &wang.user;
    let refused = calls
        .invite(&wang, invite_to(&li), t0, 0, &wang_in_meeting)
        .expect_err("the caller is in a meeting");
    assert_eq!(refused.state, State::IN_ANOTHER_CALL);
    assert!(!calls.is_party(&wang.user));
    let li_in_meeting = |u: &UserId| u == &li.user;
    let ended = calls
        .invite(&wang, invite_to(&li), t0, 0, &li_in_meeting)
        .expect("answered, ended busy at once");
    assert_eq!(ended.finished[0].record.outcome, CallOutcome::Busy);
    assert!(ended.notices.is_empty(), "nothing rings");
    assert_eq!(
        events(&mut wang_signals),
        [SignalEvent::Ended {
            reason: EndReason::Busy,
            duration: None
        }]
    );
    assert!(!calls.is_party(&wang.user) && !calls.is_party(&li.user));
}

#[test]
fn another_node_learns_each_partys_call_and_the_invitation_only_while_it_rings_the_callee() {
    let mut calls = registry();
    let (wang, _) = socket(1, "13800000001");
    let (li, _) = socket(2, "13800000002");
    let t0 = Instant::now();
    assert_eq!(calls.party_of(&li.user), None);
    calls
        .invite(&wang, invite_to(&li), t0, 0, &|_| false)
        .expect("invited");
    let of_li = calls.party_of(&li.user).expect("Li is a party");
    assert_eq!(
        (&of_li.call, &of_li.caller, &of_li.callee),
        (&call(), &wang.user, &li.user)
    );
    assert_eq!(of_li.ringing.map(|i| i.call), Some(call()));
    let of_wang = calls.party_of(&wang.user).expect("Wang is a party");
    assert_eq!(of_wang.ringing, None, "it rings the callee, not the caller");

    let accept = CallRequest::Accept {
        call: call(),
        sdp: "v=0".into(),
    };
    calls.act(&li, accept, t0).expect("accepted");
    assert_eq!(calls.party_of(&li.user).map(|p| p.ringing), Some(None));
    calls
        .act(&li, CallRequest::Hangup(call()), t0)
        .expect("hung up");
    assert_eq!(calls.party_of(&li.user), None);
    assert_eq!(calls.party_of(&wang.user), None);
}

#[test]
fn an_invite_giving_way_to_a_call_elsewhere_ends_for_the_caller_and_is_recorded() {
    let (wang, mut wang_signals) = socket(1, "13800000001");
    let (li, _) = socket(2, "13800000002");
    let effects = give_way(&wang, &invite_to(&li), EndReason::Busy);
    assert_eq!(
        events(&mut wang_signals),
        [SignalEvent::Ended {
            reason: EndReason::Busy,
            duration: None
        }]
    );
    assert!(effects.notices.is_empty(), "the callee is not rung");
    assert_eq!(effects.finished[0].record.outcome, CallOutcome::Busy);
}
