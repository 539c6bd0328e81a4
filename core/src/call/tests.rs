//! Transitions of one machine, driven by hand: the frames it sends, the
//! commands it gives and its deadlines. (The scenarios between two parties
//! and a server are in `tests/it/calls.rs`.)

use super::*;
use crate::envelope::{Encoding, Frame};
use crate::packets::call::{
    CallRequest, CallSignal, EndReason, REJOIN_GRACE_MS, RING_TIMEOUT_MS, Signal, SignalEvent,
};
use crate::testing::user;

const T: i64 = 1_000_000;

fn drain(m: &mut CallMachine) -> Vec<CallAction> {
    std::iter::from_fn(|| m.poll_action()).collect()
}

/// The requests among `actions`, decoded.
fn sent(actions: &[CallAction]) -> Vec<CallRequest> {
    actions
        .iter()
        .filter_map(|a| match a {
            CallAction::Send(text) => Some(
                Frame::decode(text)
                    .and_then(|f| f.packet::<CallRequest>())
                    .expect("the machine sends valid requests"),
            ),
            _ => None,
        })
        .collect()
}

fn frame(json: &str) -> String {
    Frame::encode_payload(Encoding::Base64, json).expect("frame")
}

fn ok() -> String {
    frame(r#"{"state":11}"#)
}

fn signal(call: &CallId, event: SignalEvent) -> String {
    let signal = CallSignal {
        signal: Signal {
            call: call.clone(),
            event,
        },
    };
    Frame::encode(Encoding::Base64, &signal).expect("frame")
}

fn invitation(call: &str, from: u64) -> CallInvitation {
    CallInvitation {
        call: CallId::parse(call).expect("id"),
        from: user(from),
        media: Media::Audio,
        sdp: "v=0 offer".into(),
        ts: T,
    }
}

/// Rings `m` with call c1 from user 2 and accepts it up to the moment its
/// `accept` (with the answer) is sent: the reply is still to come.
fn answering(m: &mut CallMachine) {
    m.call_invited(invitation("c1", 2), T);
    m.opened(T + 10);
    m.accept(T + 20).expect("it rings");
    m.received(&ok(), T + 30); // the `ringing`
    m.received(&frame(r#"{"state":11,"ice_servers":[]}"#), T + 40);
    m.rtc(RtcReport::AnswerCreated { sdp: "v=0".into() }, T + 50);
}

/// A machine whose call to user 2 was just invited; its id.
fn invited_call(m: &mut CallMachine) -> CallId {
    let id = m.start(user(2), Media::Video, T).expect("free");
    m.opened(T + 10);
    m.received(&frame(r#"{"state":11,"ice_servers":[]}"#), T + 20);
    m.rtc(RtcReport::OfferCreated { sdp: "v=0".into() }, T + 30);
    drain(m);
    id
}

#[test]
fn a_call_starts_with_media_and_ice_servers_and_invites_with_the_offer() {
    let mut m = CallMachine::new(1);
    let id = m.start(user(2), Media::Video, T).expect("free");
    let actions = drain(&mut m);
    assert_eq!(
        actions[0],
        CallAction::Rtc(RtcCommand::StartMedia { camera: true })
    );
    assert_eq!(actions[1], CallAction::Open);
    assert!(matches!(
        &actions[2],
        CallAction::Show(CallView::Outgoing { ringing: false, .. })
    ));
    m.opened(T + 10);
    assert_eq!(sent(&drain(&mut m)), vec![CallRequest::IceServers]);
    m.received(&frame(r#"{"state":11,"ice_servers":[]}"#), T + 20);
    assert_eq!(
        drain(&mut m),
        vec![
            CallAction::Rtc(RtcCommand::CreatePeerConnection {
                ice_servers: vec![],
                relay_only: false,
            }),
            CallAction::Rtc(RtcCommand::CreateOffer { ice_restart: false }),
        ]
    );
    // A candidate gathered before the invite waits for it.
    let candidate = IceCandidate {
        candidate: "candidate:1".into(),
        sdp_mid: None,
        sdp_mline_index: Some(0),
    };
    m.rtc(RtcReport::LocalCandidate(candidate.clone()), T + 25);
    assert_eq!(sent(&drain(&mut m)), vec![]);
    m.rtc(RtcReport::OfferCreated { sdp: "v=0".into() }, T + 30);
    let requests = sent(&drain(&mut m));
    assert!(
        matches!(&requests[0], CallRequest::Invite { call, media: Media::Video, .. } if *call == id)
    );
    assert_eq!(
        requests[1],
        CallRequest::Candidate {
            call: id,
            candidate
        }
    );
    // A second call is refused while this one goes on.
    assert_eq!(
        m.start(user(3), Media::Audio, T + 40),
        Err(CallError::InCall)
    );
}

#[test]
fn the_relay_policy_of_the_reply_reaches_the_peer_connection() {
    let turn = r#"{"urls":["turn:127.0.0.1:3478?transport=udp"],"username":"1796000000:1","credential":"c2VjcmV0"}"#;
    let peer_connection = |reply: &str| {
        let mut m = CallMachine::new(3);
        m.start(user(2), Media::Audio, T).expect("free");
        m.opened(T + 10);
        drain(&mut m);
        m.received(&frame(reply), T + 20);
        drain(&mut m).into_iter().find_map(|a| match a {
            CallAction::Rtc(RtcCommand::CreatePeerConnection {
                ice_servers,
                relay_only,
            }) => Some((ice_servers.len(), relay_only)),
            _ => None,
        })
    };
    let relay = format!(r#"{{"state":11,"ice_servers":[{turn}],"ice_transport_policy":"relay"}}"#);
    assert_eq!(peer_connection(&relay), Some((1, true)));
    let all = format!(r#"{{"state":11,"ice_servers":[{turn}]}}"#);
    assert_eq!(peer_connection(&all), Some((1, false)));
    // A server that cannot say leaves host candidates, which need every kind.
    let refused = r#"{"state":50,"error":"busy"}"#;
    assert_eq!(peer_connection(refused), Some((0, false)));
}

#[test]
fn the_ring_timeout_cancels_by_the_clock_alone_and_the_end_shows_briefly() {
    let mut m = CallMachine::new(2);
    let id = invited_call(&mut m);
    m.received(&ok(), T + 40);
    assert_eq!(m.poll_timeout(), Some(T + RING_TIMEOUT_MS));
    m.handle_timeout(T + RING_TIMEOUT_MS);
    let actions = drain(&mut m);
    assert_eq!(sent(&actions), vec![CallRequest::Cancel(id)]);
    assert!(actions.contains(&CallAction::Rtc(RtcCommand::ClosePeerConnection)));
    assert!(actions.contains(&CallAction::Rtc(RtcCommand::StopMedia)));
    let CallView::Ended {
        cause, duration, ..
    } = m.view()
    else {
        panic!("ended: {:?}", m.view())
    };
    assert_eq!(
        (cause, duration),
        (EndCause::Ended(EndReason::Timeout), None)
    );
    // The cancel's reply lets the socket go; the end shows for a while.
    m.received(&ok(), T + RING_TIMEOUT_MS + 20);
    assert!(drain(&mut m).contains(&CallAction::Close));
    assert_eq!(m.poll_timeout(), Some(T + RING_TIMEOUT_MS + ENDED_SHOWN_MS));
    m.handle_timeout(T + RING_TIMEOUT_MS + ENDED_SHOWN_MS);
    assert_eq!(drain(&mut m), vec![CallAction::Show(CallView::Idle)]);
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn an_invitation_during_a_call_is_answered_busy_and_a_finished_one_never_rings_again() {
    let mut m = CallMachine::new(3);
    m.call_invited(invitation("c1", 2), T);
    drain(&mut m);
    m.opened(T + 10);
    assert_eq!(
        sent(&drain(&mut m)),
        vec![CallRequest::Ringing(CallId::parse("c1").expect("id"))]
    );
    m.call_invited(invitation("c2", 3), T + 20);
    assert_eq!(
        sent(&drain(&mut m)),
        vec![CallRequest::Busy(CallId::parse("c2").expect("id"))]
    );
    m.decline(T + 30).expect("it rings");
    drain(&mut m);
    // The stream pushes it again (a resume while it rang): it stays over.
    m.call_invited(invitation("c1", 2), T + 40);
    assert!(matches!(m.view(), CallView::Ended { .. }));
    assert_eq!(sent(&drain(&mut m)), vec![]);
}

#[test]
fn an_invitation_held_for_a_glare_that_does_not_come_is_answered_busy() {
    let mut m = CallMachine::new(4);
    let ours = invited_call(&mut m);
    m.call_invited(invitation("theirs", 2), T + 50);
    assert_eq!(sent(&drain(&mut m)), vec![], "held, not busy yet");
    m.handle_timeout(T + 50 + GLARE_WAIT_MS);
    assert_eq!(
        sent(&drain(&mut m)),
        vec![CallRequest::Busy(CallId::parse("theirs").expect("id"))]
    );
    assert_eq!(m.view().call(), Some(&ours));
}

#[test]
fn a_glare_end_accepts_the_held_invitation_without_ringing() {
    let mut m = CallMachine::new(5);
    let ours = invited_call(&mut m);
    m.call_invited(invitation("theirs", 2), T + 50);
    m.received(
        &signal(
            &ours,
            SignalEvent::Ended {
                reason: EndReason::Glare,
                duration: None,
            },
        ),
        T + 60,
    );
    let actions = drain(&mut m);
    assert!(!actions.iter().any(|a| matches!(a, CallAction::PlayTone(_))));
    assert!(actions.contains(&CallAction::Rtc(RtcCommand::CreateAnswer {
        offer: "v=0 offer".into()
    })));
    m.rtc(
        RtcReport::AnswerCreated {
            sdp: "v=0 answer".into(),
        },
        T + 70,
    );
    let theirs = CallId::parse("theirs").expect("id");
    assert_eq!(
        sent(&drain(&mut m)),
        vec![CallRequest::Accept {
            call: theirs.clone(),
            sdp: "v=0 answer".into()
        }]
    );
    assert!(matches!(m.view(), CallView::Connecting { call, .. } if call == theirs));
}

#[test]
fn frames_that_are_not_ours_change_nothing() {
    let mut m = CallMachine::new(6);
    let id = invited_call(&mut m);
    let before = m.view();
    m.received("not a frame", T + 40);
    m.received(
        &signal(&CallId::parse("other").expect("id"), SignalEvent::Ringing),
        T + 41,
    );
    m.received(&frame(r#"{"signal":{"call":"c","event":"ended"}}"#), T + 42);
    assert_eq!(m.view(), before);
    assert_eq!(drain(&mut m), vec![]);
    m.received(&signal(&id, SignalEvent::Ringing), T + 43);
    assert_eq!(drain(&mut m)[0], CallAction::PlayTone(Tone::Ringback));
}

#[test]
fn a_socket_that_cannot_come_back_ends_the_call_as_lost_at_the_grace() {
    let mut m = CallMachine::new(7);
    let id = invited_call(&mut m);
    m.received(&ok(), T + 40);
    m.received(
        &signal(&id, SignalEvent::Accepted { sdp: "v=0".into() }),
        T + 50,
    );
    m.rtc(RtcReport::Connected, T + 60);
    drain(&mut m);
    m.closed(T + 1_000);
    // Every reopening fails until the grace runs out.
    while let Some(at) = m.poll_timeout() {
        if at > T + 1_000 + REJOIN_GRACE_MS {
            break;
        }
        m.handle_timeout(at);
        if drain(&mut m).contains(&CallAction::Open) {
            m.closed(at + 10);
        }
    }
    let CallView::Ended {
        cause, duration, ..
    } = m.view()
    else {
        panic!("ended: {:?}", m.view())
    };
    assert_eq!(cause, EndCause::Ended(EndReason::Lost));
    assert_eq!(duration, Some(30));
}

#[test]
fn a_new_socket_carries_the_call_on_with_rejoin_first() {
    let mut m = CallMachine::new(8);
    let id = invited_call(&mut m);
    m.received(&ok(), T + 40);
    m.closed(T + 100);
    m.set_camera(false, T + 110);
    let retry = m.poll_timeout().expect("a retry");
    m.handle_timeout(retry);
    assert!(drain(&mut m).contains(&CallAction::Open));
    m.opened(retry + 10);
    assert_eq!(sent(&drain(&mut m)), vec![CallRequest::Rejoin(id)]);
    m.received(&ok(), retry + 20);
    assert!(matches!(m.view(), CallView::Outgoing { .. }));
}

/// A machine in an accepted call it placed, media connected; its id.
fn connected_call(m: &mut CallMachine) -> CallId {
    let id = invited_call(m);
    m.received(&ok(), T + 40);
    m.received(
        &signal(&id, SignalEvent::Accepted { sdp: "v=0".into() }),
        T + 50,
    );
    m.rtc(RtcReport::Connected, T + 60);
    drain(m);
    id
}

#[test]
fn an_invitation_during_an_accepted_call_is_answered_busy() {
    let mut m = CallMachine::new(9);
    let id = connected_call(&mut m);
    m.call_invited(invitation("c3", 3), T + 100);
    assert_eq!(
        sent(&drain(&mut m)),
        vec![CallRequest::Busy(CallId::parse("c3").expect("id"))]
    );
    assert!(
        matches!(m.view(), CallView::Connected { call, since, .. } if call == id && since == T + 50)
    );
}

#[test]
fn a_disconnect_that_recovers_alone_restarts_nothing_and_one_that_lasts_does() {
    let mut m = CallMachine::new(10);
    connected_call(&mut m);
    m.rtc(RtcReport::Disconnected, T + 1_000);
    assert!(matches!(m.view(), CallView::Reconnecting { .. }));
    assert_eq!(
        m.poll_timeout(),
        Some(T + 1_000 + ICE_DISCONNECTED_GRACE_MS)
    );
    m.rtc(RtcReport::Connected, T + 1_500);
    assert!(matches!(m.view(), CallView::Connected { .. }));
    m.handle_timeout(T + 1_000 + ICE_DISCONNECTED_GRACE_MS);
    assert!(
        !drain(&mut m).contains(&CallAction::Rtc(RtcCommand::CreateOffer {
            ice_restart: true
        }))
    );
    m.rtc(RtcReport::Disconnected, T + 5_000);
    m.handle_timeout(T + 5_000 + ICE_DISCONNECTED_GRACE_MS);
    assert!(
        drain(&mut m).contains(&CallAction::Rtc(RtcCommand::CreateOffer {
            ice_restart: true
        }))
    );
    // Not back: tried again later.
    assert_eq!(
        m.poll_timeout(),
        Some(T + 5_000 + ICE_DISCONNECTED_GRACE_MS + ICE_RESTART_RETRY_MS)
    );
}

#[test]
fn the_callee_never_restarts_ice_itself() {
    let mut m = CallMachine::new(11);
    answering(&mut m);
    m.received(&ok(), T + 60); // accept
    m.rtc(RtcReport::Connected, T + 70);
    drain(&mut m);
    m.rtc(RtcReport::Failed, T + 1_000);
    assert!(matches!(m.view(), CallView::Reconnecting { .. }));
    let mut offers = 0;
    while let Some(at) = m.poll_timeout() {
        m.handle_timeout(at);
        offers += drain(&mut m)
            .iter()
            .filter(|a| matches!(a, CallAction::Rtc(RtcCommand::CreateOffer { .. })))
            .count();
        if !matches!(m.view(), CallView::Reconnecting { .. }) {
            break;
        }
    }
    assert_eq!(offers, 0);
    assert!(matches!(
        m.view(),
        CallView::Ended {
            cause: EndCause::Ended(EndReason::Lost),
            ..
        }
    ));
}

#[test]
fn an_accept_refused_with_36_ends_as_gone() {
    let mut m = CallMachine::new(12);
    answering(&mut m);
    m.received(
        &frame(r#"{"state":36,"error":"answered on another device"}"#),
        T + 60,
    );
    assert!(matches!(
        m.view(),
        CallView::Ended {
            cause: EndCause::Gone,
            duration: None,
            ..
        }
    ));
    let actions = drain(&mut m);
    assert!(actions.contains(&CallAction::Rtc(RtcCommand::StopMedia)));
    // The server said the call is gone: nothing more is said about it.
    let leaving = |r: &CallRequest| matches!(r, CallRequest::Hangup(_) | CallRequest::Decline(_));
    assert!(!sent(&actions).iter().any(leaving), "{actions:?}");
}

#[test]
fn an_accept_whose_reply_was_lost_is_taken_as_done_once_rejoined() {
    let mut m = CallMachine::new(13);
    answering(&mut m);
    let candidate = IceCandidate {
        candidate: "candidate:1".into(),
        sdp_mid: None,
        sdp_mline_index: Some(0),
    };
    m.rtc(RtcReport::LocalCandidate(candidate.clone()), T + 55);
    m.closed(T + 60);
    let retry = m.poll_timeout().expect("a retry");
    m.handle_timeout(retry);
    m.opened(retry + 10);
    let id = CallId::parse("c1").expect("id");
    drain(&mut m);
    m.received(&ok(), retry + 20);
    assert!(matches!(m.view(), CallView::Connecting { .. }));
    // The candidate held until the accept goes now.
    assert_eq!(
        sent(&drain(&mut m)),
        vec![CallRequest::Candidate {
            call: id,
            candidate
        }]
    );
}

#[test]
fn answered_elsewhere_ends_a_ringing_device_but_not_the_one_whose_accept_is_on_its_way() {
    let elsewhere = |call: &str| CallEnded {
        call: CallId::parse(call).expect("id"),
        reason: EndReason::AnsweredElsewhere,
    };
    // Accepted here: the push (which reaches this session too, §12) is ignored.
    let mut here = CallMachine::new(14);
    answering(&mut here);
    let requests = sent(&drain(&mut here));
    assert!(
        matches!(requests.last(), Some(CallRequest::Accept { .. })),
        "{requests:?}"
    );
    here.call_ended(elsewhere("c1"), T + 60);
    assert!(
        matches!(here.view(), CallView::Connecting { .. }),
        "{:?}",
        here.view()
    );
    here.received(&ok(), T + 70);
    assert!(matches!(here.view(), CallView::Connecting { .. }));

    // Still ringing, or accepting but not yet sent: it was another's.
    let mut ringing = CallMachine::new(15);
    ringing.call_invited(invitation("c1", 2), T);
    ringing.call_ended(elsewhere("c1"), T + 60);
    assert!(matches!(
        ringing.view(),
        CallView::Ended {
            cause: EndCause::Ended(EndReason::AnsweredElsewhere),
            ..
        }
    ));
    let mut starting = CallMachine::new(16);
    starting.call_invited(invitation("c1", 2), T);
    starting.accept(T + 20).expect("it rings");
    starting.call_ended(elsewhere("c1"), T + 60);
    assert!(matches!(starting.view(), CallView::Ended { .. }));
    assert!(drain(&mut starting).contains(&CallAction::Rtc(RtcCommand::StopMedia)));
}
