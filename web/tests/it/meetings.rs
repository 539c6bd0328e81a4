//! The meeting bar, the start button and the meeting screen in headless
//! Chromium, over the screens' fake driver (`screens`): the running
//! meetings and the meeting screen are set as the driver would set them,
//! and the commands the buttons send are recorded.

use crate::dom::{click, exists, js};
use crate::screens::{in_group, me, mount, settle, text, until, zhang};
use penpen_core::meeting::{MeetingLeft, MeetingLink, MeetingView};
use penpen_core::packets::meeting::{Meeting, Participant};
use penpen_core::{GroupId, MeetingId, UserId};
use penpen_web::meetings::{MeetingCommand, MeetingScreen, RemoteUser};
use penpen_web::state::{Command, Update};
use wasm_bindgen_test::*;

fn gid() -> GroupId {
    GroupId::new(1).expect("a gid")
}

fn meeting_id() -> MeetingId {
    MeetingId::parse("meet-9a1b2c3d").expect("a meeting id")
}

fn running(people: &[UserId]) -> Meeting {
    Meeting {
        gid: gid(),
        meeting: meeting_id(),
        started_by: zhang(),
        started_at: 1_795_784_709_000,
        participants: people.to_vec(),
    }
}

fn person(n: usize) -> UserId {
    UserId::parse(&format!("138000{:05}", 100 + n)).expect("an account")
}

fn in_meeting(participants: Vec<Participant>, link: MeetingLink) -> MeetingView {
    MeetingView::InMeeting {
        gid: gid(),
        meeting: Some(meeting_id()),
        link,
        participants,
        mic: true,
        camera: false,
        end_refused: false,
    }
}

fn meetings_sent(sent: Vec<Command>) -> Vec<MeetingCommand> {
    sent.into_iter()
        .filter_map(|command| match command {
            Command::Meeting(meeting) => Some(meeting),
            _ => None,
        })
        .collect()
}

fn count(css: &str) -> usize {
    js(&format!("document.querySelectorAll('{css}').length"))
        .as_f64()
        .unwrap_or(0.0) as usize
}

fn attribute(css: &str, name: &str) -> String {
    text(&format!(
        "document.querySelector('{css}')?.getAttribute('{name}') ?? 'none'"
    ))
}

#[wasm_bindgen_test]
async fn a_group_chat_starts_a_meeting_or_shows_the_running_one_to_join() {
    let screen = mount(in_group(zhang())).await;
    assert!(
        exists("#chat-meeting-start"),
        "no meeting runs: a start button"
    );
    assert!(!exists("#meeting-bar"));
    click("#chat-meeting-start");
    settle().await;
    assert_eq!(
        meetings_sent(screen.driver.sent()),
        [MeetingCommand::Start { gid: gid() }]
    );

    screen
        .driver
        .update(Update::Meeting(Box::new(running(&[zhang(), person(1)]))));
    until("the bar shows", || exists("#meeting-bar")).await;
    assert_eq!(attribute("#meeting-bar", "data-count"), "2");
    assert_eq!(attribute("#meeting-bar", "data-meeting"), "meet-9a1b2c3d");
    assert!(
        text("document.querySelector('#meeting-bar').textContent").contains("会议进行中 · 2人"),
        "the bar says it in words"
    );
    assert!(!exists("#chat-meeting-start"), "one meeting per group");
    click("#meeting-join");
    settle().await;
    assert_eq!(
        meetings_sent(screen.driver.sent()).last(),
        Some(&MeetingCommand::Join {
            gid: gid(),
            meeting: meeting_id()
        })
    );

    // While in a meeting, neither joins nor calls are offered.
    screen
        .driver
        .update(Update::MeetingScreen(Box::new(MeetingScreen {
            view: in_meeting(Vec::new(), MeetingLink::Connecting),
            ..MeetingScreen::default()
        })));
    until("the join button is disabled", || {
        exists("#meeting-join[disabled]")
    })
    .await;

    // The stream reconnected: what was known is forgotten until pushed again.
    screen.driver.update(Update::MeetingsForgotten);
    until("the bar goes", || !exists("#meeting-bar")).await;
}

#[wasm_bindgen_test]
async fn the_meeting_screen_shows_a_tile_per_participant_in_a_grid_of_their_number() {
    let screen = mount(in_group(me())).await;
    for (n, columns) in [(1, 1), (2, 2), (5, 3), (16, 4)] {
        let mut participants = vec![Participant {
            user: me(),
            mic: true,
            camera: false,
        }];
        participants.extend((1..n).map(|i| Participant {
            user: person(i),
            mic: i % 2 == 0,
            camera: false,
        }));
        screen
            .driver
            .update(Update::MeetingScreen(Box::new(MeetingScreen {
                view: in_meeting(participants, MeetingLink::Connected),
                ..MeetingScreen::default()
            })));
        until(&format!("{n} tiles"), || {
            exists(&format!("#meeting-screen[data-count=\"{n}\"]"))
        })
        .await;
        assert_eq!(count("#meeting-screen .meeting-tile"), n);
        assert_eq!(
            attribute("#meeting-grid", "data-columns"),
            columns.to_string()
        );
        assert_eq!(count(".meeting-tile[data-self=\"true\"]"), 1, "{n}");
        assert_eq!(
            attribute(".meeting-tile[data-self=\"true\"]", "data-user"),
            me().to_string()
        );
        assert_eq!(attribute("#meeting-screen", "data-link"), "connected");
    }
    assert!(exists("#meeting-end"), "the group's holder may end it");
    for control in [
        "#meeting-mic",
        "#meeting-camera",
        "#meeting-leave",
        "#meeting-people",
    ] {
        assert!(exists(control), "{control}");
    }
    click("#meeting-people");
    until("the participant list", || exists("#meeting-participants")).await;
    assert_eq!(count("#meeting-participants li"), 16);
    click("#meeting-mic");
    click("#meeting-leave");
    settle().await;
    assert_eq!(
        meetings_sent(screen.driver.sent()),
        [MeetingCommand::SetMic(false), MeetingCommand::Leave]
    );
}

#[wasm_bindgen_test]
async fn a_tile_carries_its_figures_and_the_speaker_is_marked() {
    let screen = mount(in_group(zhang())).await;
    let other = person(1);
    let participants = vec![
        Participant {
            user: me(),
            mic: true,
            camera: false,
        },
        Participant {
            user: other.clone(),
            mic: true,
            camera: true,
        },
    ];
    let stream = web_sys::MediaStream::new().expect("a stream");
    screen
        .driver
        .update(Update::MeetingScreen(Box::new(MeetingScreen {
            view: in_meeting(participants, MeetingLink::Connected),
            local: None,
            remotes: vec![RemoteUser {
                user: other.to_string(),
                stream,
                video_frames_decoded: 42,
                audio_packets_received: 420,
                audio_level: 0.3,
            }],
            speaker: Some(other.to_string()),
        })));
    let tile = format!(".meeting-tile[data-user=\"{other}\"]");
    until("the other's tile", || exists(&tile)).await;
    assert_eq!(attribute(&tile, "data-video-frames-decoded"), "42");
    assert_eq!(attribute(&tile, "data-audio-packets-received"), "420");
    assert_eq!(attribute(&tile, "data-speaking"), "true");
    assert_eq!(attribute(&tile, "data-camera"), "true");
    let mine = ".meeting-tile[data-self=\"true\"]";
    assert_eq!(attribute(mine, "data-speaking"), "false");
    assert_eq!(
        attribute(mine, "data-video-frames-decoded"),
        "none",
        "our own tile counts nothing received"
    );
    assert!(
        !exists("#meeting-end"),
        "neither the starter nor the holder: no end for all"
    );

    screen
        .driver
        .update(Update::MeetingScreen(Box::new(MeetingScreen {
            view: MeetingView::Ended {
                gid: gid(),
                why: MeetingLeft::Full,
            },
            ..MeetingScreen::default()
        })));
    until("the ended screen", || {
        exists("#meeting-screen[data-ended=\"full\"]")
    })
    .await;
    assert!(
        text("document.querySelector('#meeting-end-cause').textContent").contains("已满"),
        "why, in words"
    );
}
