//! The call machine against the simulated 24888 server, on the simulated
//! clock: every scenario of PROTOCOL §12 a client meets.

use crate::call_sim::{LATENCY_MS, World, user};
use penpen_core::CallId;
use penpen_core::call::{CallError, CallView, EndCause, Tone};
use penpen_core::packets::call::{
    CallOutcome, CallRequest, EndReason, IceServer, IceTransportPolicy, Media, REJOIN_GRACE_MS,
    RING_TIMEOUT_MS, SERVER_RING_TIMEOUT_MS,
};

/// Generous: every scenario settles far sooner on the simulated clock.
const SETTLE_MS: i64 = 10_000;

fn is_connected(w: &World, d: usize) -> bool {
    matches!(w.devices[d].view(), CallView::Connected { .. })
}

fn is_incoming(w: &World, d: usize) -> bool {
    matches!(w.devices[d].view(), CallView::Incoming { .. })
}

/// The last ended screen device `d` showed: why, and how long.
fn last_end(w: &World, d: usize) -> Option<(EndCause, Option<u32>)> {
    w.devices[d].shown.iter().rev().find_map(|v| match v {
        CallView::Ended {
            cause, duration, ..
        } => Some((cause.clone(), *duration)),
        _ => None,
    })
}

fn ended(reason: EndReason) -> Option<EndCause> {
    Some(EndCause::Ended(reason))
}

fn cause(w: &World, d: usize) -> Option<EndCause> {
    last_end(w, d).map(|(c, _)| c)
}

/// Everything of the call released on device `d`: media, peer connection, tone.
fn assert_released(w: &World, d: usize) {
    let device = &w.devices[d];
    assert_eq!(
        device.rtc.media, None,
        "device {d} still holds the microphone"
    );
    assert!(
        !device.rtc.peer_connection,
        "device {d} kept its peer connection"
    );
    assert_eq!(device.tone, None, "device {d} still plays a tone");
}

/// Users 1 and 2, one device each, the ICE servers configured; user 1
/// calls user 2, who accepts. Returns (caller, callee, call).
fn connected_call(media: Media) -> (World, usize, usize, CallId) {
    let mut w = World::new(&[1, 2, 3]);
    w.server.ice_servers = vec![IceServer {
        urls: vec!["stun:stun.example.cn:3478".into()],
        username: None,
        credential: None,
    }];
    let a = w.device(1);
    let b = w.device(2);
    let id = w.call(a, 2, media);
    assert!(w.run_until(SETTLE_MS, |w| is_incoming(w, b)));
    assert!(w.run_until(SETTLE_MS, |w| matches!(
        w.devices[a].view(),
        CallView::Outgoing { ringing: true, .. }
    )));
    w.with(b, |m, now| m.accept(now)).expect("it rings");
    assert!(w.run_until(SETTLE_MS, |w| is_connected(w, a) && is_connected(w, b)));
    (w, a, b, id)
}

#[test]
fn a_video_call_rings_connects_and_the_caller_hangs_up() {
    let (mut w, a, b, id) = connected_call(Media::Video);
    // Both use the deployment's ICE servers; the callee got the caller's
    // early candidates (kept by the server until the accept).
    assert_eq!(w.devices[a].rtc.ice_servers, w.server.ice_servers);
    assert_eq!(w.devices[b].rtc.ice_servers, w.server.ice_servers);
    assert!(!w.devices[a].rtc.relay_only && !w.devices[b].rtc.relay_only);
    assert!(w.devices[b].rtc.remote_candidates >= 2);
    assert_eq!(w.devices[a].tones, vec![Tone::Ringback]);
    assert_eq!(w.devices[b].tones, vec![Tone::Ringtone]);
    assert_eq!(
        w.devices[a].rtc.media,
        Some(true),
        "a video call takes the camera"
    );
    let CallView::Connected {
        call, peer, since, ..
    } = w.devices[b].view()
    else {
        unreachable!("connected above")
    };
    assert_eq!((call, peer), (id.clone(), user(1)));
    assert!(since > 0);

    w.run_for(192_000);
    w.with(a, |m, now| m.hang_up(now));
    assert!(w.run_until(SETTLE_MS, |w| last_end(w, b).is_some()));
    assert_eq!(
        last_end(&w, a),
        Some((EndCause::Ended(EndReason::Hangup), Some(192)))
    );
    assert_eq!(
        last_end(&w, b),
        Some((EndCause::Ended(EndReason::Hangup), Some(192)))
    );
    let stored = w.server.records.last().expect("the call is history");
    assert_eq!(stored.record.call, id);
    assert_eq!(stored.record.outcome, CallOutcome::Answered);
    assert_eq!(stored.record.duration, Some(192));
    assert_released(&w, a);
    assert_released(&w, b);
    // The ended screen shows briefly, then the sockets are let go.
    w.run_for(3_100);
    assert_eq!(w.devices[a].view(), CallView::Idle);
    assert_eq!(w.devices[b].view(), CallView::Idle);
    assert_eq!(w.server.live_calls(), 0);
}

#[test]
fn a_relay_only_deployment_makes_every_peer_connection_relay_only_also_from_the_cache() {
    let mut w = World::new(&[1, 2]);
    w.server.ice_servers = vec![IceServer {
        urls: vec!["turn:turn.example.cn:3478?transport=udp".into()],
        username: Some("1796000000:1".into()),
        credential: Some("c2VjcmV0".into()),
    }];
    w.server.ice_transport_policy = IceTransportPolicy::Relay;
    let a = w.device(1);
    let b = w.device(2);
    let asked = |w: &World| {
        w.server
            .requests
            .iter()
            .filter(|(_, r)| *r == CallRequest::IceServers)
            .count()
    };
    for round in 0..2 {
        w.devices[a].rtc.relay_only = false;
        w.devices[b].rtc.relay_only = false;
        w.call(a, 2, Media::Audio);
        assert!(w.run_until(SETTLE_MS, |w| is_incoming(w, b)));
        w.with(b, |m, now| m.accept(now)).expect("it rings");
        assert!(
            w.run_until(SETTLE_MS, |w| is_connected(w, a) && is_connected(w, b)),
            "round {round}: {:?} {:?}",
            w.devices[a].view(),
            w.devices[b].view()
        );
        for d in [a, b] {
            assert!(w.devices[d].rtc.relay_only, "round {round}, device {d}");
            assert_eq!(w.devices[d].rtc.ice_servers, w.server.ice_servers);
        }
        // Each device asked once; the second call is made from the cache,
        // which kept the policy with the servers.
        assert_eq!(asked(&w), 2, "round {round}");
        w.with(a, |m, now| m.hang_up(now));
        assert!(w.run_until(SETTLE_MS, |w| last_end(w, b).is_some()));
        w.run_for(3_100);
    }
}

#[test]
fn the_callee_hangs_up_a_voice_call() {
    let (mut w, a, b, _) = connected_call(Media::Audio);
    assert_eq!(
        w.devices[b].rtc.media,
        Some(false),
        "a voice call leaves the camera off"
    );
    w.run_for(5_000);
    w.with(b, |m, now| m.hang_up(now));
    assert!(w.run_until(SETTLE_MS, |w| last_end(w, a).is_some()));
    assert_eq!(cause(&w, a), ended(EndReason::Hangup));
    assert_eq!(last_end(&w, a).and_then(|(_, d)| d), Some(5));
    assert_released(&w, a);
    assert_released(&w, b);
}

#[test]
fn an_unanswered_call_is_cancelled_at_the_ring_timeout_and_missed_on_both_sides() {
    let mut w = World::new(&[1, 2]);
    let a = w.device(1);
    let b = w.device(2);
    w.call(a, 2, Media::Video);
    assert!(w.run_until(SETTLE_MS, |w| is_incoming(w, b)));
    let started = w.now;
    assert!(w.run_until(RING_TIMEOUT_MS + SETTLE_MS, |w| last_end(w, b).is_some()));
    assert!(
        w.now >= started + RING_TIMEOUT_MS - 1_000,
        "not before the ring timeout"
    );
    assert_eq!(cause(&w, a), ended(EndReason::Timeout));
    // The server heard the cancel: the callee stops ringing, and the
    // record is a missed call.
    assert_eq!(cause(&w, b), ended(EndReason::Cancelled));
    assert_eq!(w.server.records[0].record.outcome, CallOutcome::Missed);
    assert!(w.server.records[0].record.is_missed());
    assert_released(&w, a);
    assert_released(&w, b);
}

#[test]
fn a_call_nobody_cancels_is_ended_by_the_server_at_its_ring_timeout() {
    let mut w = World::new(&[1, 2]);
    let a = w.device(1);
    let b = w.device(2);
    w.call(a, 2, Media::Audio);
    assert!(w.run_until(SETTLE_MS, |w| is_incoming(w, b)));
    let rang = w.now;
    w.freeze(a);
    assert!(w.run_until(SERVER_RING_TIMEOUT_MS + SETTLE_MS, |w| {
        last_end(w, b).is_some()
    }));
    assert!(w.now >= rang + SERVER_RING_TIMEOUT_MS - 1_000);
    assert_eq!(cause(&w, b), ended(EndReason::Timeout));
    assert_eq!(w.server.records[0].record.outcome, CallOutcome::Missed);
    assert_released(&w, b);
}

#[test]
fn the_caller_cancels_while_it_rings() {
    let mut w = World::new(&[1, 2]);
    let a = w.device(1);
    let b = w.device(2);
    w.call(a, 2, Media::Audio);
    assert!(w.run_until(SETTLE_MS, |w| is_incoming(w, b)));
    w.with(a, |m, now| m.hang_up(now));
    assert!(w.run_until(SETTLE_MS, |w| last_end(w, b).is_some()));
    assert_eq!(cause(&w, a), ended(EndReason::Cancelled));
    assert_eq!(cause(&w, b), ended(EndReason::Cancelled));
    assert_eq!(w.server.records[0].record.outcome, CallOutcome::Missed);
    assert_released(&w, b);
}

#[test]
fn the_callee_declines() {
    let mut w = World::new(&[1, 2]);
    let a = w.device(1);
    let b = w.device(2);
    w.call(a, 2, Media::Video);
    assert!(w.run_until(SETTLE_MS, |w| is_incoming(w, b)));
    w.with(b, |m, now| m.decline(now)).expect("it rings");
    assert!(w.run_until(SETTLE_MS, |w| last_end(w, a).is_some()));
    assert_eq!(cause(&w, a), ended(EndReason::Declined));
    assert_eq!(cause(&w, b), ended(EndReason::Declined));
    assert_eq!(w.server.records[0].record.outcome, CallOutcome::Declined);
    assert_released(&w, a);
    assert_eq!(
        w.with(b, |m, now| m.decline(now)),
        Err(CallError::NotRinging)
    );
}

#[test]
fn a_callee_in_a_call_is_busy_and_its_call_goes_on() {
    let (mut w, a, b, _) = connected_call(Media::Audio);
    // User 3 calls user 2, who is in an accepted call: the server ends it.
    let c = w.device(3);
    w.call(c, 2, Media::Audio);
    assert!(w.run_until(SETTLE_MS, |w| last_end(w, c).is_some()));
    assert_eq!(cause(&w, c), ended(EndReason::Busy));
    assert!(is_connected(&w, a) && is_connected(&w, b));
    assert_eq!(
        w.with(b, |m, now| m.start(user(3), Media::Audio, now)),
        Err(CallError::InCall)
    );
}

#[test]
fn a_second_invitation_while_one_rings_is_answered_busy_by_the_device() {
    let mut w = World::new(&[1, 2, 3]);
    let a = w.device(1);
    let b = w.device(2);
    let c = w.device(3);
    let first = w.call(a, 2, Media::Audio);
    assert!(w.run_until(SETTLE_MS, |w| is_incoming(w, b)));
    // The server rings user 2 again (only ringing, not in a call): the
    // device answers busy itself.
    w.call(c, 2, Media::Video);
    assert!(w.run_until(SETTLE_MS, |w| last_end(w, c).is_some()));
    assert_eq!(cause(&w, c), ended(EndReason::Busy));
    assert!(
        w.server
            .requests
            .iter()
            .any(|(u, r)| *u == user(2) && matches!(r, CallRequest::Busy(_)))
    );
    assert_eq!(
        w.devices[b].view().call(),
        Some(&first),
        "the first still rings"
    );
    w.with(b, |m, now| m.accept(now)).expect("it rings");
    assert!(w.run_until(SETTLE_MS, |w| is_connected(w, a) && is_connected(w, b)));
}

/// Users 1 and 2 call each other at the same moment; `push_delay` on the
/// later caller decides whether the invitation or the glare end reaches it
/// first.
fn glare(push_delay: i64) {
    let mut w = World::new(&[1, 2]);
    let a = w.device(1);
    let b = w.device(2);
    w.devices[b].push_delay = push_delay;
    let first = w.call(a, 2, Media::Video);
    let second = w.call(b, 1, Media::Video);
    assert!(w.run_until(SETTLE_MS, |w| is_connected(w, a) && is_connected(w, b)));
    // The server took the first invite and ended the second in glare; the
    // later caller accepted the first without ringing.
    assert_eq!(w.devices[a].view().call(), Some(&first));
    assert_eq!(w.devices[b].view().call(), Some(&first));
    assert!(!w.devices[b].tones.contains(&Tone::Ringtone));
    let glared = w.server.records.iter().find(|s| s.record.call == second);
    assert_eq!(glared.map(|s| s.reason), Some(EndReason::Glare));
    assert!(
        !w.devices[b]
            .shown
            .iter()
            .any(|v| matches!(v, CallView::Ended { .. }))
    );
    w.with(b, |m, now| m.hang_up(now));
    assert!(w.run_until(SETTLE_MS, |w| last_end(w, a).is_some()));
    assert_eq!(cause(&w, a), ended(EndReason::Hangup));
}

#[test]
fn glare_when_the_invitation_comes_before_the_glare_end() {
    glare(0);
}

#[test]
fn glare_when_the_glare_end_comes_before_the_invitation() {
    glare(300);
}

#[test]
fn a_glare_end_with_no_invitation_ends_the_call_after_the_window() {
    // The other party's invitation never comes (its device is gone).
    let mut w = World::new(&[1, 2]);
    let a = w.device(1);
    let b = w.device(2);
    w.devices[b].push_delay = 60_000;
    w.call(a, 2, Media::Audio);
    w.call(b, 1, Media::Audio);
    assert!(w.run_until(SETTLE_MS, |w| last_end(w, b).is_some()));
    assert_eq!(cause(&w, b), ended(EndReason::Glare));
    assert_released(&w, b);
}

#[test]
fn a_callee_with_two_devices_rings_on_both_and_one_answers() {
    let mut w = World::new(&[1, 2]);
    let a = w.device(1);
    let phone = w.device(2);
    let laptop = w.device(2);
    w.call(a, 2, Media::Video);
    assert!(w.run_until(SETTLE_MS, |w| is_incoming(w, phone)
        && is_incoming(w, laptop)));
    assert_eq!(w.devices[phone].tone, Some(Tone::Ringtone));
    assert_eq!(w.devices[laptop].tone, Some(Tone::Ringtone));
    w.with(laptop, |m, now| m.accept(now)).expect("it rings");
    assert!(w.run_until(SETTLE_MS, |w| is_connected(w, a) && is_connected(w, laptop)));
    assert!(w.run_until(SETTLE_MS, |w| last_end(w, phone).is_some()));
    assert_eq!(cause(&w, phone), ended(EndReason::AnsweredElsewhere));
    assert_released(&w, phone);
    assert!(is_connected(&w, laptop));
}

#[test]
fn when_two_devices_accept_at_once_the_first_wins_and_the_other_hears_36() {
    let mut w = World::new(&[1, 2]);
    let a = w.device(1);
    let phone = w.device(2);
    let laptop = w.device(2);
    w.call(a, 2, Media::Audio);
    assert!(w.run_until(SETTLE_MS, |w| is_incoming(w, phone)
        && is_incoming(w, laptop)));
    w.with(phone, |m, now| m.accept(now)).expect("it rings");
    w.with(laptop, |m, now| m.accept(now)).expect("it rings");
    assert!(w.run_until(SETTLE_MS, |w| is_connected(w, a)
        && last_end(w, laptop).is_some()));
    // Whichever came first: the push, or the refusal of the accept.
    let laptop_cause = cause(&w, laptop);
    assert!(
        laptop_cause == Some(EndCause::Gone) || laptop_cause == ended(EndReason::AnsweredElsewhere),
        "{laptop_cause:?}"
    );
    assert!(w.run_until(SETTLE_MS, |w| is_connected(w, phone)));
    assert_released(&w, laptop);
}

#[test]
fn the_24888_socket_drops_during_a_call_and_the_call_rejoins() {
    let (mut w, a, b, id) = connected_call(Media::Video);
    w.drop_network(a);
    w.run_for(3_000);
    w.reconnect(a);
    let rejoined = |w: &World| {
        w.server
            .requests
            .iter()
            .any(|(u, r)| *u == user(1) && *r == CallRequest::Rejoin(id.clone()))
    };
    assert!(w.run_until(SETTLE_MS, rejoined));
    assert!(w.devices[a].opens >= 2);
    // The call carries on over the new socket: a hang-up reaches the other side.
    w.run_for(REJOIN_GRACE_MS);
    assert!(is_connected(&w, a) && is_connected(&w, b));
    w.with(b, |m, now| m.hang_up(now));
    assert!(w.run_until(SETTLE_MS, |w| last_end(w, a).is_some()));
    assert_eq!(cause(&w, a), ended(EndReason::Hangup));
}

#[test]
fn a_renegotiation_lost_on_a_silent_socket_goes_again_after_the_rejoin() {
    let (mut w, a, b, id) = connected_call(Media::Audio);
    // The callee's frames vanish while its socket looks open: the offer for
    // its camera is lost, and so is its reply.
    w.devices[b].silent = true;
    w.with(b, |m, now| m.set_camera(true, now));
    w.run_for(1_000);
    w.devices[b].silent = false;
    let video_offer = |w: &World| {
        w.devices[a]
            .rtc
            .remote_sdps
            .iter()
            .any(|s| s.contains("offer") && s.contains("video"))
    };
    // The unanswered request times the socket out (15 s); a new one rejoins
    // and carries the offer again.
    assert!(w.run_until(REJOIN_GRACE_MS, video_offer));
    assert!(
        w.server
            .requests
            .iter()
            .any(|(u, r)| *u == user(2) && *r == CallRequest::Rejoin(id.clone()))
    );
    assert!(w.run_until(SETTLE_MS, |w| w.devices[b].rtc.remote_sdps.len() == 1));
    assert!(is_connected(&w, a) && is_connected(&w, b));
}

#[test]
fn a_socket_gone_past_the_rejoin_grace_ends_the_call_as_lost() {
    let (mut w, a, b, _) = connected_call(Media::Audio);
    w.drop_network(a);
    assert!(w.run_until(REJOIN_GRACE_MS + SETTLE_MS, |w| {
        last_end(w, a).is_some() && last_end(w, b).is_some()
    }));
    assert_eq!(cause(&w, a), ended(EndReason::Lost));
    assert_eq!(cause(&w, b), ended(EndReason::Lost));
    assert_released(&w, a);
    assert_eq!(w.server.records[0].record.outcome, CallOutcome::Answered);
}

#[test]
fn failed_media_is_restarted_by_the_caller_and_shown_as_reconnecting() {
    let (mut w, a, b, _) = connected_call(Media::Video);
    w.fail_ice(&[a, b]);
    assert!(w.run_until(SETTLE_MS, |w| {
        matches!(w.devices[b].view(), CallView::Reconnecting { .. })
    }));
    assert!(w.run_until(SETTLE_MS, |w| is_connected(w, a) && is_connected(w, b)));
    assert!(
        w.devices[a]
            .shown
            .iter()
            .any(|v| matches!(v, CallView::Reconnecting { .. })),
        "the caller showed reconnecting"
    );
    assert_eq!(
        w.devices[a].rtc.restarts, 1,
        "the caller restarted ICE once"
    );
    assert_eq!(w.devices[b].rtc.offers, 0, "the callee never offered");
    assert!(
        w.devices[b]
            .rtc
            .remote_sdps
            .last()
            .is_some_and(|s| s.contains("ice-restart"))
    );
}

#[test]
fn media_that_never_comes_back_ends_the_call_as_lost() {
    let (mut w, a, b, _) = connected_call(Media::Audio);
    w.devices[a].rtc.stays_broken = true;
    w.devices[b].rtc.stays_broken = true;
    w.fail_ice(&[a, b]);
    assert!(w.run_until(REJOIN_GRACE_MS + SETTLE_MS, |w| {
        last_end(w, a).is_some() && last_end(w, b).is_some()
    }));
    assert_eq!(cause(&w, a), ended(EndReason::Lost));
    // The caller tried again while it waited, every ICE_RESTART_RETRY_MS.
    assert!(
        w.devices[a].rtc.restarts >= 3,
        "{}",
        w.devices[a].rtc.restarts
    );
    // The callee's media was down as long: it gives up too.
    assert_eq!(cause(&w, b), ended(EndReason::Lost));
    assert_released(&w, a);
    assert_released(&w, b);
}

#[test]
fn turning_the_camera_on_during_a_voice_call_renegotiates() {
    let (mut w, a, b, _) = connected_call(Media::Audio);
    w.with(b, |m, now| m.set_camera(true, now));
    assert!(w.run_until(SETTLE_MS, |w| {
        w.devices[a]
            .rtc
            .remote_sdps
            .last()
            .is_some_and(|s| s.contains("video"))
            && w.devices[b].rtc.remote_sdps.len() == 1
    }));
    assert!(w.devices[b].rtc.camera);
    assert!(matches!(
        w.devices[b].view(),
        CallView::Connected { camera: true, .. }
    ));
    assert_eq!(w.devices[b].rtc.offers, 1);
    // Both at once: the caller's offer wins, the callee's follows.
    let a_offers = w.devices[a].rtc.offers;
    w.with(a, |m, now| m.set_camera(true, now));
    w.with(b, |m, now| m.set_camera(false, now));
    w.run_for(SETTLE_MS);
    assert_eq!(w.devices[a].rtc.offers, a_offers + 1);
    assert_eq!(
        w.devices[b].rtc.offers, 3,
        "the dropped offer was made again"
    );
    assert!(
        w.devices[a]
            .rtc
            .remote_sdps
            .last()
            .is_some_and(|s| !s.contains("video"))
    );
    let caller_offer = |s: &String| s.contains("offer") && s.contains("video");
    assert!(
        w.devices[b]
            .rtc
            .remote_sdps
            .iter()
            .rev()
            .take(2)
            .any(caller_offer)
    );
    assert!(is_connected(&w, a) && is_connected(&w, b));
}

#[test]
fn refusals_end_the_attempt_with_a_reason() {
    let mut w = World::new(&[1, 2, 3]);
    let a = w.device(1);
    // 31: no such user.
    w.call(a, 9, Media::Audio);
    assert!(w.run_until(SETTLE_MS, |w| last_end(w, a).is_some()));
    assert_eq!(cause(&w, a), Some(EndCause::UnknownUser));
    assert_released(&w, a);
    // 37: user 1 is already calling from another device.
    let other = w.device(1);
    let b = w.device(2);
    w.run_for(4_000);
    w.call(a, 2, Media::Audio);
    assert!(w.run_until(SETTLE_MS, |w| is_incoming(w, b)));
    w.call(other, 3, Media::Audio);
    assert!(w.run_until(SETTLE_MS, |w| last_end(w, other).is_some()));
    assert_eq!(cause(&w, other), Some(EndCause::InAnotherCall));
    // 30: calling oneself.
    w.run_for(4_000);
    w.with(a, |m, now| m.hang_up(now));
    w.run_for(4_000);
    w.call(a, 1, Media::Audio);
    assert!(w.run_until(SETTLE_MS, |w| matches!(
        cause(w, a),
        Some(EndCause::Forbidden)
    )));
}

#[test]
fn a_caller_that_vanishes_is_ended_by_the_server() {
    // While it rings: the callee stops ringing.
    let mut w = World::new(&[1, 2]);
    let a = w.device(1);
    let b = w.device(2);
    w.call(a, 2, Media::Audio);
    assert!(w.run_until(SETTLE_MS, |w| is_incoming(w, b)));
    w.vanish(a);
    assert!(w.run_until(REJOIN_GRACE_MS + SETTLE_MS, |w| last_end(w, b).is_some()));
    assert_eq!(cause(&w, b), ended(EndReason::Lost));
    assert_eq!(w.server.records[0].record.outcome, CallOutcome::Failed);
    assert_released(&w, b);

    // During the call: the other party hears `lost`.
    let (mut w, a, b, _) = connected_call(Media::Video);
    w.vanish(a);
    assert!(w.run_until(REJOIN_GRACE_MS + SETTLE_MS, |w| last_end(w, b).is_some()));
    assert_eq!(cause(&w, b), ended(EndReason::Lost));
    assert_released(&w, b);
}

#[test]
fn the_first_commands_of_a_call_follow_the_protocol_order() {
    let mut w = World::new(&[1, 2]);
    let a = w.device(1);
    w.call(a, 2, Media::Video);
    // Media and the ICE servers first; the invite only with the offer.
    let invites = |w: &World| {
        w.server
            .requests
            .iter()
            .filter(|(_, r)| matches!(r, CallRequest::Invite { .. }))
            .count()
    };
    assert_eq!(w.server.requests.len(), 0);
    w.run_for(2 * LATENCY_MS + 1);
    assert_eq!(
        w.server.requests.first().map(|(_, r)| r.clone()),
        Some(CallRequest::IceServers)
    );
    assert!(w.run_until(SETTLE_MS, |w| invites(w) == 1));
    // The caller's candidates follow the invite at once; the server keeps them.
    let candidates = |w: &World| {
        w.server
            .requests
            .iter()
            .filter(|(_, r)| matches!(r, CallRequest::Candidate { .. }))
            .count()
    };
    assert!(w.run_until(SETTLE_MS, |w| candidates(w) >= 2));
    let first_candidate = w
        .server
        .requests
        .iter()
        .position(|(_, r)| matches!(r, CallRequest::Candidate { .. }));
    let invite = w
        .server
        .requests
        .iter()
        .position(|(_, r)| matches!(r, CallRequest::Invite { .. }));
    assert!(invite < first_candidate);
    assert!(w.devices[a].rtc.media.is_some() && w.devices[a].rtc.peer_connection);
}
