//! Transitions of one machine, driven by hand with scripted frames: what it
//! sends, the WebRTC commands it gives, its view and its deadlines.

use super::*;
use crate::envelope::{Encoding, Frame};
use crate::packets::call::CallRequest;
use crate::packets::meeting::{
    MeetingEndReason, MeetingJoinReply, MeetingRequest, MeetingSignal, MeetingSignalBody,
    MeetingSignalEvent, MeetingStartReply, Participant,
};
use crate::signalling::link::LINK_RETRY_MAX_MS;
use crate::sync::REQUEST_TIMEOUT_MS;
use crate::testing::{gid, user};

const T: i64 = 1_000_000;

fn drain(m: &mut MeetingMachine) -> Vec<MeetingAction> {
    std::iter::from_fn(|| m.poll_action()).collect()
}

/// The requests among `actions`, decoded.
fn sent(actions: &[MeetingAction]) -> Vec<SignallingRequest> {
    actions
        .iter()
        .filter_map(|a| match a {
            MeetingAction::Send(text) => Some(
                Frame::decode(text)
                    .and_then(|f| SignallingRequest::from_frame(&f))
                    .expect("the machine sends valid requests"),
            ),
            _ => None,
        })
        .collect()
}

/// The WebRTC commands among `actions`.
fn rtc(actions: &[MeetingAction]) -> Vec<MeetingRtcCommand> {
    actions
        .iter()
        .filter_map(|a| match a {
            MeetingAction::Rtc(command) => Some(command.clone()),
            _ => None,
        })
        .collect()
}

fn meeting() -> MeetingId {
    MeetingId::generated(0x9a1b, 0x8293)
}

fn frame(json: &str) -> String {
    Frame::encode_payload(Encoding::Base64, json).expect("frame")
}

fn ok() -> String {
    frame(r#"{"state":11}"#)
}

fn refusal(state: u16) -> String {
    frame(&format!(r#"{{"state":{state},"error":"no"}}"#))
}

fn start_reply() -> String {
    let reply = MeetingStartReply {
        state: State::SUCCESS,
        meeting: meeting(),
    };
    Frame::encode(Encoding::Base64, &reply).expect("frame")
}

fn ice_reply() -> String {
    frame(r#"{"state":11,"ice_servers":[]}"#)
}

fn participant(n: u64, camera: bool) -> Participant {
    Participant {
        user: user(n),
        mic: true,
        camera,
    }
}

fn join_reply(participants: Vec<Participant>) -> String {
    let reply = MeetingJoinReply {
        state: State::SUCCESS,
        sdp: "v=0 answer".into(),
        participants,
    };
    Frame::encode(Encoding::Base64, &reply).expect("frame")
}

fn signal(event: MeetingSignalEvent) -> String {
    let signal = MeetingSignal {
        signal: MeetingSignalBody {
            meeting: meeting(),
            event,
        },
    };
    Frame::encode(Encoding::Base64, &signal).expect("frame")
}

fn ice_servers() -> SignallingRequest {
    SignallingRequest::Call(CallRequest::IceServers)
}

fn meeting_request(request: MeetingRequest) -> SignallingRequest {
    SignallingRequest::Meeting(request)
}

fn join_request(sdp: &str, camera: bool) -> SignallingRequest {
    meeting_request(MeetingRequest::Join {
        meeting: meeting(),
        sdp: sdp.into(),
        mic: true,
        camera,
    })
}

/// What joining again asks of the WebRTC side (ICE servers in the cache).
fn a_new_peer_connection() -> Vec<MeetingRtcCommand> {
    vec![
        MeetingRtcCommand::ClosePeerConnection,
        MeetingRtcCommand::CreatePeerConnection {
            ice_servers: vec![],
            relay_only: false,
        },
        MeetingRtcCommand::CreateOffer,
    ]
}

fn link_of(m: &MeetingMachine) -> Option<MeetingLink> {
    match m.view() {
        MeetingView::InMeeting { link, .. } => Some(link),
        _ => None,
    }
}

fn participants_of(m: &MeetingMachine) -> Vec<Participant> {
    match m.view() {
        MeetingView::InMeeting { participants, .. } => participants,
        view => panic!("not in a meeting: {view:?}"),
    }
}

/// Whether our microphone and camera send, as the view says.
fn mic_camera(m: &MeetingMachine) -> (bool, bool) {
    match m.view() {
        MeetingView::InMeeting { mic, camera, .. } => (mic, camera),
        view => panic!("not in a meeting: {view:?}"),
    }
}

/// Lets the clock run to `until`, every attempt to open the socket failing.
fn unreachable_until(m: &mut MeetingMachine, from: i64, until: i64) -> i64 {
    let mut now = from;
    while now < until {
        now = m.poll_timeout().expect("a deadline");
        m.handle_timeout(now);
        if drain(m).contains(&MeetingAction::Open) {
            m.closed(now);
        }
    }
    now
}

fn ended_why(m: &MeetingMachine) -> MeetingLeft {
    match m.view() {
        MeetingView::Ended { why, .. } => why,
        view => panic!("not ended: {view:?}"),
    }
}

/// Joins meeting() of group 7 with the camera, up to the join being sent
/// (its reply still to come).
fn joining(m: &mut MeetingMachine) {
    m.join(gid(7), meeting(), true, T).expect("free");
    m.opened(T + 10);
    m.received(&ice_reply(), T + 20);
    m.rtc(MeetingRtcReport::MediaStarted { camera: true }, T + 30);
    m.rtc(
        MeetingRtcReport::OfferCreated {
            sdp: "v=0 offer".into(),
        },
        T + 40,
    );
    drain(m);
}

/// A machine in meeting() with users 3 and 1 (us), media connected.
fn joined(m: &mut MeetingMachine) {
    joining(m);
    m.received(
        &join_reply(vec![participant(3, true), participant(1, true)]),
        T + 50,
    );
    m.rtc(MeetingRtcReport::Connected, T + 60);
    drain(m);
}

#[test]
fn a_join_gets_media_and_ice_servers_then_offers_and_connects() {
    let mut m = MeetingMachine::new(1);
    m.join(gid(7), meeting(), true, T).expect("free");
    let actions = drain(&mut m);
    // The browser may ask the user for the microphone meanwhile.
    assert_eq!(
        actions[0],
        MeetingAction::Rtc(MeetingRtcCommand::StartMedia { camera: true })
    );
    assert_eq!(actions[1], MeetingAction::Open);
    assert!(matches!(
        &actions[2],
        MeetingAction::Show(MeetingView::InMeeting {
            link: MeetingLink::Connecting,
            meeting: Some(_),
            ..
        })
    ));
    assert_eq!(
        m.join(gid(8), meeting(), false, T + 1),
        Err(MeetingError::InMeeting)
    );
    m.opened(T + 10);
    assert_eq!(sent(&drain(&mut m)), vec![ice_servers()]);
    m.received(&ice_reply(), T + 20);
    assert_eq!(drain(&mut m), vec![], "the media is not there yet");
    m.rtc(MeetingRtcReport::MediaStarted { camera: true }, T + 30);
    assert_eq!(
        rtc(&drain(&mut m)),
        vec![
            MeetingRtcCommand::CreatePeerConnection {
                ice_servers: vec![],
                relay_only: false,
            },
            MeetingRtcCommand::CreateOffer,
        ]
    );
    m.rtc(
        MeetingRtcReport::OfferCreated {
            sdp: "v=0 offer".into(),
        },
        T + 40,
    );
    assert_eq!(sent(&drain(&mut m)), vec![join_request("v=0 offer", true)]);
    let everyone = vec![participant(3, true), participant(1, true)];
    m.received(&join_reply(everyone.clone()), T + 50);
    let actions = drain(&mut m);
    assert_eq!(
        rtc(&actions),
        vec![MeetingRtcCommand::ApplyAnswer {
            answer: "v=0 answer".into()
        }]
    );
    assert_eq!(sent(&actions), vec![], "the join told the server our media");
    assert_eq!(participants_of(&m), everyone);
    assert_eq!(link_of(&m), Some(MeetingLink::Connecting));
    m.rtc(MeetingRtcReport::Connected, T + 60);
    assert_eq!(
        drain(&mut m),
        vec![MeetingAction::Show(MeetingView::InMeeting {
            gid: gid(7),
            meeting: Some(meeting()),
            link: MeetingLink::Connected,
            participants: everyone,
            mic: true,
            camera: true,
            end_refused: false,
        })]
    );
    assert_eq!(m.poll_timeout(), None, "nothing waits");
}

#[test]
fn the_relay_policy_reaches_the_peer_connection_and_the_servers_are_kept_an_hour() {
    let turn = r#"{"urls":["turn:127.0.0.1:3478?transport=udp"],"username":"1796000000:1","credential":"c2VjcmV0"}"#;
    let mut m = MeetingMachine::new(2);
    m.join(gid(7), meeting(), false, T).expect("free");
    m.opened(T + 10);
    m.rtc(MeetingRtcReport::MediaStarted { camera: false }, T + 20);
    drain(&mut m);
    let reply = format!(r#"{{"state":11,"ice_servers":[{turn}],"ice_transport_policy":"relay"}}"#);
    m.received(&frame(&reply), T + 30);
    assert!(matches!(
        &rtc(&drain(&mut m))[0],
        MeetingRtcCommand::CreatePeerConnection { ice_servers, relay_only: true } if ice_servers.len() == 1
    ));
    m.leave(T + 40);
    drain(&mut m);
    // The next meeting within the hour asks nothing.
    let later = T + 50;
    m.join(gid(7), meeting(), false, later).expect("free");
    drain(&mut m);
    m.rtc(MeetingRtcReport::MediaStarted { camera: false }, later + 10);
    let actions = drain(&mut m);
    assert_eq!(sent(&actions), vec![]);
    assert!(matches!(
        &rtc(&actions)[0],
        MeetingRtcCommand::CreatePeerConnection {
            relay_only: true,
            ..
        }
    ));
    m.leave(later + 20);
    drain(&mut m);
    // After it, they are asked again.
    let much_later = T + 30 + crate::call::ICE_SERVERS_FRESH_MS;
    m.join(gid(7), meeting(), false, much_later).expect("free");
    m.opened(much_later + 10);
    assert_eq!(sent(&drain(&mut m)), vec![ice_servers()]);
}

#[test]
fn a_camera_that_cannot_be_had_joins_with_audio_only() {
    let mut m = MeetingMachine::new(3);
    m.join(gid(7), meeting(), true, T).expect("free");
    m.opened(T + 10);
    m.received(&ice_reply(), T + 20);
    m.rtc(MeetingRtcReport::MediaStarted { camera: false }, T + 30);
    drain(&mut m);
    m.rtc(MeetingRtcReport::OfferCreated { sdp: "v=0".into() }, T + 40);
    assert_eq!(sent(&drain(&mut m)), vec![join_request("v=0", false)]);
    assert_eq!(mic_camera(&m), (true, false));
}

#[test]
fn a_start_asks_for_the_meeting_then_joins_the_one_the_reply_names() {
    let mut m = MeetingMachine::new(4);
    m.start(gid(7), false, T).expect("free");
    let actions = drain(&mut m);
    assert_eq!(actions[0], MeetingAction::Open);
    assert!(matches!(
        &actions[2],
        MeetingAction::Show(MeetingView::InMeeting { meeting: None, .. })
    ));
    m.opened(T + 10);
    assert_eq!(
        sent(&drain(&mut m)),
        vec![meeting_request(MeetingRequest::Start(gid(7)))],
        "one request at a time: the ICE servers wait for the start's reply"
    );
    m.rtc(MeetingRtcReport::MediaStarted { camera: false }, T + 20);
    assert_eq!(drain(&mut m), vec![]);
    // Nothing to end before the meeting is known.
    m.end(T + 25);
    assert_eq!(drain(&mut m), vec![]);
    m.received(&start_reply(), T + 30);
    let actions = drain(&mut m);
    assert_eq!(sent(&actions), vec![ice_servers()]);
    assert!(matches!(
        actions.last(),
        Some(MeetingAction::Show(MeetingView::InMeeting {
            meeting: Some(_),
            ..
        }))
    ));
    m.received(&ice_reply(), T + 40);
    drain(&mut m);
    m.rtc(MeetingRtcReport::OfferCreated { sdp: "v=0".into() }, T + 50);
    assert_eq!(sent(&drain(&mut m)), vec![join_request("v=0", false)]);
}

#[test]
fn an_offer_made_before_the_start_is_answered_waits_for_the_meeting() {
    let mut m = MeetingMachine::new(5);
    // ICE servers cached by an earlier meeting: the offer can come first.
    m.join(gid(7), meeting(), false, T).expect("free");
    m.opened(T + 10);
    m.received(&ice_reply(), T + 20);
    m.leave(T + 30);
    drain(&mut m);
    m.start(gid(7), false, T + 100).expect("free");
    m.opened(T + 110);
    m.rtc(MeetingRtcReport::MediaStarted { camera: false }, T + 120);
    m.rtc(
        MeetingRtcReport::OfferCreated { sdp: "v=0".into() },
        T + 130,
    );
    assert_eq!(
        sent(&drain(&mut m)),
        vec![meeting_request(MeetingRequest::Start(gid(7)))]
    );
    m.received(&start_reply(), T + 140);
    assert_eq!(sent(&drain(&mut m)), vec![join_request("v=0", false)]);
}

#[test]
fn the_servers_offers_are_answered_and_participants_follow_the_signals() {
    let mut m = MeetingMachine::new(6);
    joined(&mut m);
    let three = vec![
        participant(3, true),
        participant(1, true),
        participant(4, false),
    ];
    m.received(
        &signal(MeetingSignalEvent::Offer {
            sdp: "v=0 server offer".into(),
            participants: three.clone(),
        }),
        T + 100,
    );
    assert_eq!(
        rtc(&drain(&mut m)),
        vec![MeetingRtcCommand::CreateAnswer {
            offer: "v=0 server offer".into()
        }]
    );
    assert_eq!(participants_of(&m), three);
    m.rtc(
        MeetingRtcReport::AnswerCreated {
            sdp: "v=0 our answer".into(),
        },
        T + 110,
    );
    assert_eq!(
        sent(&drain(&mut m)),
        vec![meeting_request(MeetingRequest::Answer {
            meeting: meeting(),
            sdp: "v=0 our answer".into(),
        })]
    );
    // An answer nobody asked for goes nowhere.
    m.rtc(
        MeetingRtcReport::AnswerCreated { sdp: "v=0".into() },
        T + 115,
    );
    assert_eq!(sent(&drain(&mut m)), vec![]);
    m.received(&ok(), T + 120);
    let muted = vec![
        participant(3, true),
        Participant {
            mic: false,
            ..participant(1, true)
        },
    ];
    m.received(
        &signal(MeetingSignalEvent::Participants(muted.clone())),
        T + 130,
    );
    assert_eq!(participants_of(&m), muted);
    assert!(rtc(&drain(&mut m)).is_empty(), "no renegotiation");
    // Another meeting's signal is not ours.
    let other = MeetingSignal {
        signal: MeetingSignalBody {
            meeting: MeetingId::generated(1, 1),
            event: MeetingSignalEvent::Participants(vec![]),
        },
    };
    m.received(
        &Frame::encode(Encoding::Base64, &other).expect("frame"),
        T + 140,
    );
    assert_eq!(participants_of(&m), muted);
}

#[test]
fn mic_and_camera_change_locally_and_are_announced_with_the_true_state() {
    let mut m = MeetingMachine::new(7);
    assert_eq!(m.set_mic(false, T), Err(MeetingError::NotInMeeting));
    assert_eq!(m.set_camera(true, T), Err(MeetingError::NotInMeeting));
    joined(&mut m);
    let media = |mic, camera| {
        meeting_request(MeetingRequest::Media {
            meeting: meeting(),
            mic,
            camera,
        })
    };
    m.set_mic(false, T + 100).expect("in a meeting");
    let actions = drain(&mut m);
    assert_eq!(rtc(&actions), vec![MeetingRtcCommand::SetMic(false)]);
    assert_eq!(sent(&actions), vec![media(false, true)]);
    m.set_camera(false, T + 110).expect("in a meeting");
    assert_eq!(
        drain(&mut m),
        vec![MeetingAction::Rtc(MeetingRtcCommand::SetCamera(false))],
        "told once the camera says"
    );
    m.rtc(MeetingRtcReport::CameraChanged(false), T + 120);
    assert_eq!(sent(&drain(&mut m)), vec![], "after the first is answered");
    m.received(&ok(), T + 130);
    assert_eq!(sent(&drain(&mut m)), vec![media(false, false)]);
    m.received(&ok(), T + 135);
    // A camera that could not be turned on is announced as off: nothing new.
    m.set_camera(true, T + 140).expect("in a meeting");
    m.rtc(MeetingRtcReport::CameraChanged(false), T + 150);
    assert_eq!(sent(&drain(&mut m)), vec![]);
    m.set_camera(true, T + 160).expect("in a meeting");
    m.rtc(MeetingRtcReport::CameraChanged(true), T + 170);
    assert_eq!(sent(&drain(&mut m)), vec![media(false, true)]);
    assert_eq!(mic_camera(&m), (false, true));
}

#[test]
fn a_mute_before_the_join_is_answered_goes_with_the_join_or_after_it() {
    let mut m = MeetingMachine::new(8);
    joining(&mut m);
    m.set_mic(false, T + 45).expect("joining");
    assert_eq!(sent(&drain(&mut m)), vec![], "not carried yet");
    m.received(&join_reply(vec![participant(1, true)]), T + 50);
    assert_eq!(
        sent(&drain(&mut m)),
        vec![meeting_request(MeetingRequest::Media {
            meeting: meeting(),
            mic: false,
            camera: true,
        })]
    );
}

#[test]
fn leaving_mid_join_sends_the_leave_after_the_joins_reply() {
    let mut m = MeetingMachine::new(9);
    joining(&mut m);
    m.leave(T + 45);
    let actions = drain(&mut m);
    assert_eq!(sent(&actions), vec![], "the join's reply comes first");
    assert_eq!(
        rtc(&actions),
        vec![
            MeetingRtcCommand::ClosePeerConnection,
            MeetingRtcCommand::StopMedia
        ]
    );
    assert_eq!(ended_why(&m), MeetingLeft::Left);
    m.received(&join_reply(vec![participant(1, true)]), T + 50);
    let actions = drain(&mut m);
    assert_eq!(
        sent(&actions),
        vec![meeting_request(MeetingRequest::Leave(meeting()))]
    );
    assert!(rtc(&actions).is_empty(), "the answer is not applied");
    m.received(&ok(), T + 60);
    assert_eq!(drain(&mut m), vec![MeetingAction::Close]);
    // The end shows for a while, then nothing.
    assert_eq!(m.poll_timeout(), Some(T + 45 + ENDED_SHOWN_MS));
    m.handle_timeout(T + 45 + ENDED_SHOWN_MS);
    assert_eq!(drain(&mut m), vec![MeetingAction::Show(MeetingView::Idle)]);
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn leaving_before_the_join_went_out_sends_nothing_and_a_joined_leave_says_so() {
    let mut m = MeetingMachine::new(10);
    m.join(gid(7), meeting(), true, T).expect("free");
    m.opened(T + 10);
    drain(&mut m);
    m.leave(T + 20);
    let actions = drain(&mut m);
    assert_eq!(
        rtc(&actions),
        vec![MeetingRtcCommand::StopMedia],
        "no peer connection yet"
    );
    // The ICE servers' reply still comes; then the socket goes.
    m.received(&ice_reply(), T + 30);
    assert_eq!(drain(&mut m), vec![MeetingAction::Close]);

    let mut m = MeetingMachine::new(11);
    joined(&mut m);
    m.leave(T + 100);
    let actions = drain(&mut m);
    assert_eq!(
        sent(&actions),
        vec![meeting_request(MeetingRequest::Leave(meeting()))]
    );
    m.leave(T + 110);
    assert_eq!(drain(&mut m), vec![], "in no meeting: nothing");
}

#[test]
fn every_refusal_of_the_join_ends_it_with_its_reason() {
    let cases = [
        (38, MeetingLeft::Full),
        (37, MeetingLeft::Busy),
        (36, MeetingLeft::Gone),
        (33, MeetingLeft::NotMember),
        (
            50,
            MeetingLeft::Refused(ErrorReply::new(State::SERVER_ERROR, "no")),
        ),
    ];
    for (state, why) in cases {
        let mut m = MeetingMachine::new(12);
        joining(&mut m);
        m.received(&refusal(state), T + 50);
        let actions = drain(&mut m);
        assert_eq!(sent(&actions), vec![], "{state}: nothing to leave");
        assert_eq!(
            rtc(&actions),
            vec![
                MeetingRtcCommand::ClosePeerConnection,
                MeetingRtcCommand::StopMedia
            ],
            "{state}"
        );
        assert!(actions.contains(&MeetingAction::Close), "{state}");
        assert_eq!(ended_why(&m), why, "{state}");
    }
    // A start refused ends the same way.
    let mut m = MeetingMachine::new(13);
    m.start(gid(7), false, T).expect("free");
    m.opened(T + 10);
    m.received(&refusal(33), T + 20);
    assert_eq!(ended_why(&m), MeetingLeft::NotMember);
}

#[test]
fn the_ended_signal_and_the_meeting_ended_push_end_the_meeting() {
    let mut m = MeetingMachine::new(14);
    joined(&mut m);
    m.received(
        &signal(MeetingSignalEvent::Ended(MeetingEndReason::Ended)),
        T + 100,
    );
    let actions = drain(&mut m);
    assert_eq!(sent(&actions), vec![]);
    assert_eq!(
        rtc(&actions),
        vec![
            MeetingRtcCommand::ClosePeerConnection,
            MeetingRtcCommand::StopMedia
        ]
    );
    assert!(actions.contains(&MeetingAction::Close));
    assert_eq!(ended_why(&m), MeetingLeft::Ended(MeetingEndReason::Ended));

    let mut m = MeetingMachine::new(15);
    joined(&mut m);
    let push = |meeting| MeetingEnded {
        gid: gid(7),
        meeting,
        reason: MeetingEndReason::Removed,
    };
    m.meeting_ended(push(MeetingId::generated(5, 5)), T + 100);
    assert_eq!(drain(&mut m), vec![], "another meeting");
    m.meeting_ended(push(meeting()), T + 110);
    assert!(rtc(&drain(&mut m)).contains(&MeetingRtcCommand::StopMedia));
    assert_eq!(ended_why(&m), MeetingLeft::Ended(MeetingEndReason::Removed));
}

#[test]
fn ending_the_meeting_ends_it_here_or_says_it_was_refused() {
    let mut m = MeetingMachine::new(16);
    joined(&mut m);
    let end = meeting_request(MeetingRequest::End(meeting()));
    m.end(T + 100);
    assert_eq!(sent(&drain(&mut m)), vec![end.clone()]);
    m.received(&refusal(30), T + 110);
    let MeetingView::InMeeting {
        end_refused, link, ..
    } = m.view()
    else {
        panic!("still in the meeting")
    };
    assert!(end_refused);
    assert_eq!(link, MeetingLink::Connected);
    m.end(T + 120);
    assert_eq!(sent(&drain(&mut m)), vec![end]);
    assert!(matches!(
        m.view(),
        MeetingView::InMeeting {
            end_refused: false,
            ..
        }
    ));
    m.received(&ok(), T + 130);
    assert!(rtc(&drain(&mut m)).contains(&MeetingRtcCommand::ClosePeerConnection));
    assert_eq!(ended_why(&m), MeetingLeft::Ended(MeetingEndReason::Ended));
}

#[test]
fn a_lost_socket_is_reopened_and_the_meeting_joined_again_with_a_new_offer() {
    let mut m = MeetingMachine::new(17);
    joined(&mut m);
    m.closed(T + 100);
    let actions = drain(&mut m);
    assert!(rtc(&actions).is_empty(), "the media flows on meanwhile");
    assert_eq!(link_of(&m), Some(MeetingLink::Reconnecting));
    // A late `opened` of the socket given up changes nothing.
    m.opened(T + 101);
    assert_eq!(drain(&mut m), vec![]);
    let retry = m.poll_timeout().expect("a retry");
    assert!(retry <= T + 100 + LINK_RETRY_MAX_MS, "{retry}");
    m.handle_timeout(retry);
    assert_eq!(drain(&mut m), vec![MeetingAction::Open]);
    m.opened(retry + 10);
    assert_eq!(rtc(&drain(&mut m)), a_new_peer_connection());
    // The old peer connection's offer is not answered any more.
    m.received(
        &signal(MeetingSignalEvent::Offer {
            sdp: "v=0 old".into(),
            participants: vec![],
        }),
        retry + 15,
    );
    assert!(rtc(&drain(&mut m)).is_empty());
    m.rtc(
        MeetingRtcReport::OfferCreated {
            sdp: "v=0 second".into(),
        },
        retry + 20,
    );
    assert_eq!(sent(&drain(&mut m)), vec![join_request("v=0 second", true)]);
    m.received(&join_reply(vec![participant(1, true)]), retry + 30);
    m.rtc(MeetingRtcReport::Connected, retry + 40);
    assert_eq!(link_of(&m), Some(MeetingLink::Connected));
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn a_socket_lost_while_the_join_is_answered_joins_again_on_the_next() {
    let mut m = MeetingMachine::new(18);
    joining(&mut m);
    m.closed(T + 50);
    assert_eq!(link_of(&m), Some(MeetingLink::Connecting));
    let retry = m.poll_timeout().expect("a retry");
    m.handle_timeout(retry);
    m.opened(retry + 10);
    let actions = drain(&mut m);
    assert_eq!(sent(&actions), vec![]);
    assert!(rtc(&actions).contains(&MeetingRtcCommand::CreateOffer));
    m.rtc(
        MeetingRtcReport::OfferCreated { sdp: "v=1".into() },
        retry + 20,
    );
    assert_eq!(sent(&drain(&mut m)), vec![join_request("v=1", true)]);
}

#[test]
fn a_failed_peer_connection_is_replaced_at_once_and_a_disconnected_one_after_a_grace() {
    let mut m = MeetingMachine::new(19);
    joined(&mut m);
    m.rtc(MeetingRtcReport::Failed, T + 100);
    assert_eq!(rtc(&drain(&mut m)), a_new_peer_connection());
    assert_eq!(link_of(&m), Some(MeetingLink::Reconnecting));
    m.rtc(
        MeetingRtcReport::OfferCreated { sdp: "v=2".into() },
        T + 110,
    );
    assert_eq!(
        sent(&drain(&mut m)),
        vec![join_request("v=2", true)],
        "on the same socket"
    );
    m.received(&join_reply(vec![participant(1, true)]), T + 120);
    m.rtc(MeetingRtcReport::Connected, T + 130);
    assert_eq!(link_of(&m), Some(MeetingLink::Connected));
    drain(&mut m);

    // Disconnected and back within the grace: nothing.
    m.rtc(MeetingRtcReport::Disconnected, T + 200);
    assert_eq!(link_of(&m), Some(MeetingLink::Reconnecting));
    assert_eq!(
        m.poll_timeout(),
        Some(T + 200 + MEDIA_DISCONNECTED_GRACE_MS)
    );
    m.rtc(MeetingRtcReport::Connected, T + 1_000);
    assert_eq!(m.poll_timeout(), None);
    assert!(rtc(&drain(&mut m)).is_empty());

    // Disconnected for good: a new peer connection after the grace.
    m.rtc(MeetingRtcReport::Disconnected, T + 2_000);
    m.handle_timeout(T + 2_000 + MEDIA_DISCONNECTED_GRACE_MS);
    assert!(rtc(&drain(&mut m)).contains(&MeetingRtcCommand::CreateOffer));
}

#[test]
fn a_meeting_without_socket_or_media_for_the_grace_is_given_up() {
    // Joined, then the server is gone for good: lost.
    let mut m = MeetingMachine::new(20);
    joined(&mut m);
    m.closed(T + 100);
    let now = unreachable_until(&mut m, T + 100, T + 100 + REJOIN_GRACE_MS);
    assert_eq!(now, T + 100 + REJOIN_GRACE_MS);
    assert_eq!(ended_why(&m), MeetingLeft::Ended(MeetingEndReason::Lost));

    // Never reached: unreachable, counted from when the media is held.
    let mut m = MeetingMachine::new(21);
    m.join(gid(7), meeting(), false, T).expect("free");
    m.closed(T + 10);
    assert_eq!(
        m.poll_timeout().map(|t| t > T + 10 + REJOIN_GRACE_MS),
        Some(false)
    );
    let held = T + 60_000;
    m.rtc(MeetingRtcReport::MediaStarted { camera: false }, held);
    let now = unreachable_until(&mut m, held, held + REJOIN_GRACE_MS);
    assert_eq!(now, held + REJOIN_GRACE_MS);
    assert_eq!(ended_why(&m), MeetingLeft::Unreachable);

    // Joined but the media never connects: lost, leaving on the socket.
    let mut m = MeetingMachine::new(22);
    joining(&mut m);
    m.received(&join_reply(vec![participant(1, true)]), T + 50);
    drain(&mut m);
    assert_eq!(m.poll_timeout(), Some(T + 50 + REJOIN_GRACE_MS));
    m.handle_timeout(T + 50 + REJOIN_GRACE_MS);
    assert_eq!(
        sent(&drain(&mut m)),
        vec![meeting_request(MeetingRequest::Leave(meeting()))]
    );
    assert_eq!(ended_why(&m), MeetingLeft::Ended(MeetingEndReason::Lost));
}

#[test]
fn an_unanswered_request_takes_the_socket_for_dead() {
    let mut m = MeetingMachine::new(23);
    joining(&mut m);
    assert_eq!(m.poll_timeout(), Some(T + 40 + REQUEST_TIMEOUT_MS));
    m.handle_timeout(T + 40 + REQUEST_TIMEOUT_MS);
    assert_eq!(drain(&mut m)[0], MeetingAction::Close);
    assert_eq!(link_of(&m), Some(MeetingLink::Connecting));
}

#[test]
fn a_media_error_ends_the_meeting_and_leaves_it() {
    let mut m = MeetingMachine::new(24);
    joined(&mut m);
    m.rtc(MeetingRtcReport::Error("NotAllowedError".into()), T + 100);
    let actions = drain(&mut m);
    assert_eq!(
        sent(&actions),
        vec![meeting_request(MeetingRequest::Leave(meeting()))]
    );
    assert_eq!(
        ended_why(&m),
        MeetingLeft::MediaFailed("NotAllowedError".into())
    );
}

#[test]
fn joining_again_right_after_leaving_mid_join_takes_only_its_own_reply() {
    let mut m = MeetingMachine::new(25);
    joining(&mut m);
    m.leave(T + 45);
    m.join(gid(7), meeting(), true, T + 46).expect("left");
    m.rtc(MeetingRtcReport::MediaStarted { camera: true }, T + 47);
    m.rtc(
        MeetingRtcReport::OfferCreated {
            sdp: "v=0 again".into(),
        },
        T + 48,
    );
    assert_eq!(sent(&drain(&mut m)), vec![], "behind the first join");
    // The first join's reply: the leave goes, the answer is not ours.
    m.received(&join_reply(vec![participant(1, true)]), T + 50);
    let actions = drain(&mut m);
    assert_eq!(
        sent(&actions),
        vec![meeting_request(MeetingRequest::Leave(meeting()))]
    );
    assert!(rtc(&actions).is_empty());
    m.received(&ok(), T + 60);
    assert_eq!(sent(&drain(&mut m)), vec![join_request("v=0 again", true)]);
    m.received(&join_reply(vec![participant(1, true)]), T + 70);
    assert_eq!(
        rtc(&drain(&mut m)),
        vec![MeetingRtcCommand::ApplyAnswer {
            answer: "v=0 answer".into()
        }]
    );
}
