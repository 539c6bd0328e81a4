//! The meeting machine against the simulated 24888 server, several devices
//! on one simulated clock: §13 as its participants meet it.

use crate::meeting_sim::World;
use penpen_core::meeting::{MeetingLeft, MeetingLink, MeetingView};
use penpen_core::packets::meeting::{MeetingEndReason, Participant};
use penpen_core::testing::{gid, user};
use penpen_core::{GroupId, MeetingId};

/// Generous: every scenario settles far sooner on the simulated clock.
const SETTLE_MS: i64 = 10_000;

fn group() -> GroupId {
    gid(7)
}

fn in_meeting(w: &World, d: usize) -> Option<(MeetingId, MeetingLink, Vec<Participant>)> {
    match w.devices[d].view() {
        MeetingView::InMeeting {
            meeting,
            link,
            participants,
            ..
        } => Some((meeting?, link, participants)),
        _ => None,
    }
}

/// Who device `d` sees in its meeting, connected.
fn sees(w: &World, d: usize) -> Vec<u64> {
    let (_, link, participants) = in_meeting(w, d).expect("in a meeting");
    assert_eq!(link, MeetingLink::Connected, "device {d}");
    assert_eq!(w.server.offers_waiting(), 0, "every offer answered");
    participants
        .iter()
        .map(|p| {
            (1..=20)
                .find(|n| user(*n) == p.user)
                .expect("a user of the world")
        })
        .collect()
}

fn last_end(w: &World, d: usize) -> Option<MeetingLeft> {
    w.devices[d].shown.iter().rev().find_map(|v| match v {
        MeetingView::Ended { why, .. } => Some(why.clone()),
        _ => None,
    })
}

/// Device 0 starts the group's meeting; devices 1.. join it in turn.
fn meet(w: &mut World, n: usize) -> MeetingId {
    w.with(0, |m, now| m.start(group(), true, now))
        .expect("free");
    w.run(SETTLE_MS);
    let (meeting, ..) = in_meeting(w, 0).expect("started");
    for d in 1..n {
        w.with(d, |m, now| m.join(group(), meeting.clone(), true, now))
            .expect("free");
        w.run(SETTLE_MS);
    }
    meeting
}

#[test]
fn three_join_one_after_another_and_all_see_everyone_connected() {
    let mut w = World::new(group(), 3);
    let meeting = meet(&mut w, 3);
    for d in 0..3 {
        assert_eq!(sees(&w, d), vec![1, 2, 3], "device {d}");
        assert!(w.devices[d].rtc.connected, "device {d}");
    }
    // Each answered an offer for every later joiner's media.
    assert_eq!(w.devices[0].rtc.answers, 2);
    assert_eq!(w.devices[1].rtc.answers, 2);
    assert_eq!(w.devices[2].rtc.answers, 1);
    assert_eq!(
        w.server.participants(&meeting),
        Some(vec![user(1), user(2), user(3)])
    );
}

#[test]
fn a_mute_reaches_the_others_and_a_leave_leaves_the_rest_meeting() {
    let mut w = World::new(group(), 3);
    let meeting = meet(&mut w, 3);
    w.with(2, |m, now| m.set_mic(false, now)).expect("in it");
    w.run(SETTLE_MS);
    let (_, _, participants) = in_meeting(&w, 0).expect("in it");
    assert!(!participants[2].mic && participants[0].mic);
    assert!(!w.devices[2].rtc.mic);

    w.with(1, |m, now| m.leave(now));
    w.run(SETTLE_MS);
    assert_eq!(last_end(&w, 1), Some(MeetingLeft::Left));
    assert!(!w.devices[1].rtc.media && !w.devices[1].rtc.peer_connection);
    assert_eq!(sees(&w, 0), vec![1, 3]);
    assert_eq!(sees(&w, 2), vec![1, 3]);
    assert_eq!(
        w.server.participants(&meeting),
        Some(vec![user(1), user(3)])
    );
    // The ended screen goes after a while.
    w.run(SETTLE_MS);
    assert_eq!(w.devices[1].view(), MeetingView::Idle);
}

#[test]
fn only_the_starter_ends_it_and_then_it_ends_for_everyone() {
    let mut w = World::new(group(), 3);
    meet(&mut w, 3);
    w.with(1, |m, now| m.end(now));
    w.run(SETTLE_MS);
    assert!(matches!(
        w.devices[1].view(),
        MeetingView::InMeeting {
            end_refused: true,
            ..
        }
    ));
    assert_eq!(sees(&w, 1), vec![1, 2, 3]);
    w.with(0, |m, now| m.end(now));
    w.run(SETTLE_MS);
    for d in 0..3 {
        assert_eq!(
            last_end(&w, d),
            Some(MeetingLeft::Ended(MeetingEndReason::Ended)),
            "device {d}"
        );
        assert!(!w.devices[d].rtc.media, "device {d}");
    }
}

#[test]
fn a_participant_whose_socket_drops_joins_again_and_keeps_its_place() {
    let mut w = World::new(group(), 3);
    let meeting = meet(&mut w, 3);
    w.cut(1);
    assert!(matches!(
        in_meeting(&w, 1),
        Some((_, MeetingLink::Reconnecting, _))
    ));
    w.run(SETTLE_MS);
    assert_eq!(sees(&w, 1), vec![1, 2, 3], "the same place in the list");
    assert_eq!(
        w.devices[1].rtc.peer_connections, 2,
        "a new peer connection"
    );
    assert_eq!(
        w.server.participants(&meeting),
        Some(vec![user(1), user(2), user(3)])
    );
    // The others took the renegotiation in their stride.
    assert_eq!(sees(&w, 0), vec![1, 2, 3]);
    assert_eq!(sees(&w, 2), vec![1, 2, 3]);
}

#[test]
fn a_failed_peer_connection_is_replaced_on_the_same_socket() {
    let mut w = World::new(group(), 2);
    meet(&mut w, 2);
    w.fail_media(0);
    w.run(SETTLE_MS);
    assert_eq!(sees(&w, 0), vec![1, 2]);
    assert_eq!(w.devices[0].rtc.peer_connections, 2);
    assert_eq!(sees(&w, 1), vec![1, 2]);
}

#[test]
fn a_device_without_a_camera_joins_with_audio_and_the_others_see_it() {
    let mut w = World::new(group(), 2);
    w.devices[1].rtc.has_camera = false;
    meet(&mut w, 2);
    let (_, _, participants) = in_meeting(&w, 0).expect("in it");
    assert!(participants[0].camera && !participants[1].camera);
    assert_eq!(sees(&w, 1), vec![1, 2]);
}

#[test]
fn a_seventeenth_participant_is_refused_as_full() {
    let mut w = World::new(group(), 17);
    meet(&mut w, 17);
    assert_eq!(last_end(&w, 16), Some(MeetingLeft::Full));
    assert!(!w.devices[16].rtc.media);
    assert_eq!(sees(&w, 15).len(), 16);
}

#[test]
fn a_leave_pressed_while_the_join_is_answered_does_not_leave_the_user_in() {
    let mut w = World::new(group(), 2);
    let meeting = meet(&mut w, 1);
    w.with(1, |m, now| m.join(group(), meeting.clone(), true, now))
        .expect("free");
    // The server has taken the join; its reply is on the way.
    let deadline = w.now + SETTLE_MS;
    while w.server.participants(&meeting) != Some(vec![user(1), user(2)]) {
        assert!(w.now < deadline, "the join reaches the server");
        w.run(1);
    }
    w.with(1, |m, now| m.leave(now));
    w.run(SETTLE_MS);
    assert_eq!(last_end(&w, 1), Some(MeetingLeft::Left));
    assert_eq!(w.server.participants(&meeting), Some(vec![user(1)]));
    assert_eq!(sees(&w, 0), vec![1]);
}
