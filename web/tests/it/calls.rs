//! The call screen and the call buttons in headless Chromium, over the
//! screens' fake driver (`screens`): the call screen is set as the driver's
//! call side would set it, and the commands the buttons send are recorded.

use crate::dom::{click, exists, js};
use crate::screens::{Mounted, in_group, me, mount, opened, settle, signed_in, text, until, zhang};
use penpen_core::call::{CallView, EndCause};
use penpen_core::packets::call::{EndReason, Media};
use penpen_core::packets::directory::{Contact, Directory};
use penpen_core::packets::profile::Presence;
use penpen_core::{CallId, DepartmentId, JobId, Peer, State, UserId};
use penpen_web::calls::{
    CallCommand, CallScreen, Device, DeviceKind, Devices, MediaProblem, Quality, QualityLevel,
    Route,
};
use penpen_web::state::{AppState, Command, OpenConversation};
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen_test::*;

fn call() -> CallId {
    CallId::generated(7, 9)
}

/// 张伟 (and me) in the directory, so the screen has a name to show.
fn with_directory(state: AppState) -> AppState {
    let contact = |user: UserId, name: &str| Contact {
        name: name.into(),
        user,
        department: DepartmentId(1),
        job: JobId(1),
        signing: String::new(),
        presence: Presence::Online,
    };
    AppState {
        directory: Some(Rc::new(Directory {
            state: State::SUCCESS,
            departments: BTreeMap::from([(DepartmentId(1), "技术部".into())]),
            jobs: BTreeMap::from([(JobId(1), "工程师".into())]),
            contacts: vec![contact(me(), "王总"), contact(zhang(), "张伟")],
        })),
        ..state
    }
}

fn showing(view: CallView) -> CallScreen {
    CallScreen {
        view,
        ..CallScreen::default()
    }
}

fn calls_sent(screen: &Mounted) -> Vec<CallCommand> {
    screen
        .driver
        .sent()
        .into_iter()
        .filter_map(|command| match command {
            Command::Call(call) => Some(call),
            _ => None,
        })
        .collect()
}

fn attribute(css: &str, name: &str) -> String {
    text(&format!(
        "document.querySelector('{css}').getAttribute('{name}') ?? 'none'"
    ))
}

async fn call_state(wanted: &str) {
    until(&format!("the call screen shows {wanted}"), || {
        exists(&format!("#call-screen[data-call-state=\"{wanted}\"]"))
    })
    .await;
}

#[wasm_bindgen_test]
async fn an_incoming_call_names_the_caller_and_accept_or_decline_answer_it() {
    let screen = mount(with_directory(signed_in())).await;
    assert!(!exists("#call-screen"), "nothing shows while idle");
    screen.driver.show_call(showing(CallView::Incoming {
        call: call(),
        peer: zhang(),
        media: Media::Video,
    }));
    call_state("incoming").await;
    assert_eq!(attribute("#call-screen", "data-media"), "video");
    assert_eq!(
        text("document.querySelector('#call-peer').textContent"),
        "张伟"
    );
    assert_eq!(
        text("document.querySelector('#call-status').textContent"),
        "邀请你进行视频通话"
    );

    click("#call-accept");
    settle().await;
    assert_eq!(calls_sent(&screen), vec![CallCommand::Accept]);
    click("#call-decline");
    settle().await;
    assert_eq!(
        calls_sent(&screen),
        vec![CallCommand::Accept, CallCommand::Decline]
    );

    // The call declined here reads as our decline, not theirs.
    screen.driver.show_call(showing(CallView::Ended {
        call: call(),
        peer: zhang(),
        media: Media::Video,
        cause: EndCause::Ended(EndReason::Declined),
        duration: None,
    }));
    call_state("ended").await;
    assert_eq!(attribute("#call-screen", "data-cause"), "declined");
    assert_eq!(
        text("document.querySelector('#call-end-cause').textContent"),
        "已拒绝"
    );

    screen.driver.show_call(CallScreen::default());
    until("idle hides the screen", || !exists("#call-screen")).await;
}

#[wasm_bindgen_test]
async fn a_call_we_placed_reads_their_decline_and_how_long_an_answered_one_lasted() {
    let screen = mount(with_directory(signed_in())).await;
    screen.driver.show_call(showing(CallView::Outgoing {
        call: call(),
        peer: zhang(),
        media: Media::Audio,
        ringing: true,
    }));
    call_state("outgoing").await;
    assert_eq!(attribute("#call-screen", "data-ringing"), "true");
    assert_eq!(
        text("document.querySelector('#call-status').textContent"),
        "对方已响铃，等待接听…"
    );
    click("#call-hang-up");
    settle().await;
    assert_eq!(calls_sent(&screen), vec![CallCommand::HangUp]);

    screen.driver.show_call(showing(CallView::Ended {
        call: call(),
        peer: zhang(),
        media: Media::Audio,
        cause: EndCause::Ended(EndReason::Declined),
        duration: None,
    }));
    until("their decline", || {
        exists("#call-end-cause")
            && text("document.querySelector('#call-end-cause').textContent") == "对方已拒绝"
    })
    .await;

    screen.driver.show_call(showing(CallView::Ended {
        call: call(),
        peer: zhang(),
        media: Media::Audio,
        cause: EndCause::Ended(EndReason::Hangup),
        duration: Some(192),
    }));
    until("the call's length", || exists("#call-duration")).await;
    assert_eq!(
        text("document.querySelector('#call-duration').textContent"),
        "通话时长 03:12"
    );
    assert_eq!(attribute("#call-screen", "data-cause"), "hangup");
}

#[wasm_bindgen_test]
async fn a_one_to_one_chat_header_calls_and_a_group_header_does_not() {
    let screen = mount(with_directory(opened(Vec::new()))).await;
    until("the chat's call buttons", || exists("#chat-call-video")).await;
    assert_eq!(attribute("#chat-call-voice", "aria-label"), "语音通话");
    click("#chat-call-video");
    click("#chat-call-voice");
    settle().await;
    assert_eq!(
        calls_sent(&screen),
        vec![
            CallCommand::Start {
                to: zhang(),
                media: Media::Video
            },
            CallCommand::Start {
                to: zhang(),
                media: Media::Audio
            },
        ]
    );

    // While a call is on, no second one starts.
    screen.driver.show_call(showing(CallView::Outgoing {
        call: call(),
        peer: zhang(),
        media: Media::Audio,
        ringing: false,
    }));
    call_state("outgoing").await;
    assert_eq!(attribute("#call-screen", "data-ringing"), "false");
    assert!(js("document.querySelector('#chat-call-voice').disabled").is_truthy());
    assert_eq!(
        text("document.querySelector('#call-status').textContent"),
        "正在呼叫…"
    );
    drop(screen);

    let screen = mount(in_group(zhang())).await;
    until("the group's chat", || exists("#chat-search")).await;
    assert!(!exists("#chat-call-voice") && !exists("#chat-call-video"));
    drop(screen);

    // Nor does one call oneself (a chat with oneself, as a notepad).
    let mut notes = OpenConversation::new(Peer::User(me()));
    notes.loading_older = false;
    let screen = mount(with_directory(AppState {
        open: Some(Rc::new(notes)),
        ..signed_in()
    }))
    .await;
    until("the chat with oneself", || exists("#chat-search")).await;
    assert!(!exists("#chat-call-voice") && !exists("#chat-call-video"));
    drop(screen);
}

#[wasm_bindgen_test]
async fn a_contact_page_calls_them() {
    let screen = mount(with_directory(opened(Vec::new()))).await;
    click("#chat-details");
    until("the contact's page", || exists("#contact-call-voice")).await;
    click("#contact-call-voice");
    settle().await;
    assert_eq!(
        calls_sent(&screen),
        vec![CallCommand::Start {
            to: zhang(),
            media: Media::Audio
        }]
    );
}

#[wasm_bindgen_test]
async fn an_insecure_page_is_named_as_the_reason_a_call_ended() {
    let screen = mount(with_directory(signed_in())).await;
    screen.driver.show_call(showing(CallView::Ended {
        call: call(),
        peer: zhang(),
        media: Media::Video,
        cause: EndCause::MediaFailed(MediaProblem::InsecureContext.code()),
        duration: None,
    }));
    call_state("ended").await;
    assert_eq!(
        attribute("#call-screen", "data-cause"),
        "media:insecure-context"
    );
    assert_eq!(
        text("document.querySelector('#call-end-cause').textContent"),
        "当前页面不是安全连接（HTTPS），浏览器不允许使用麦克风和摄像头"
    );
    assert!(!exists("#call-duration"));
}

#[wasm_bindgen_test]
async fn a_connected_call_counts_its_length_and_shows_the_measured_quality() {
    let screen = mount(with_directory(signed_in())).await;
    let since = js_sys::Date::now() as i64 - 192_500;
    let quality = Quality {
        level: QualityLevel::Fair,
        rtt_ms: Some(42),
        loss_percent: 1.5,
        video_frames_decoded: 118,
        audio_packets_received: 250,
        video_size: Some((320, 240)),
        route: Route::Relay,
    };
    let connected = CallScreen {
        view: CallView::Connected {
            call: call(),
            peer: zhang(),
            media: Media::Audio,
            camera: false,
            since,
        },
        quality: Some(quality),
        devices: Devices {
            microphones: vec![Device {
                id: "mic-1".into(),
                label: String::new(),
            }],
            cameras: Vec::new(),
            speakers: Vec::new(),
            microphone: Some("mic-1".into()),
            camera: None,
            speaker: None,
        },
        ..CallScreen::default()
    };
    screen.driver.show_call(connected.clone());
    call_state("connected").await;
    let length = || text("document.querySelector('#call-duration').textContent");
    let first = length();
    assert!(first.starts_with("03:1"), "three minutes and more: {first}");
    until("the clock ticks", || length() != first).await;

    assert_eq!(attribute("#call-quality", "data-level"), "fair");
    assert_eq!(attribute("#call-quality", "data-route"), "relay");
    assert_eq!(attribute("#call-quality", "data-rtt-ms"), "42");
    assert_eq!(
        attribute("#call-quality", "data-video-frames-decoded"),
        "118"
    );
    assert_eq!(
        attribute("#call-quality", "data-audio-packets-received"),
        "250"
    );
    assert_eq!(attribute("#call-quality", "data-video-size"), "320x240");
    assert_eq!(
        text("document.querySelector('#call-quality').textContent"),
        "信号一般 · 中继"
    );
    // A voice call plays the other party through an audio element.
    assert!(exists("audio#call-remote-audio"));
    assert!(!exists("#call-remote"));

    click("#call-mute");
    click("#call-camera");
    click("#call-devices");
    settle().await;
    assert!(exists("#call-microphone") && exists("#call-camera-device"));
    assert!(!exists("#call-speaker"), "no speakers to choose from");
    click("#call-hang-up");
    settle().await;
    assert_eq!(
        calls_sent(&screen),
        vec![
            CallCommand::SetMuted(true),
            CallCommand::SetCamera(true),
            CallCommand::HangUp
        ]
    );

    // Before any measurement, the indicator carries no figures.
    screen.driver.show_call(CallScreen {
        quality: None,
        ..connected
    });
    until("the figures go", || {
        attribute("#call-quality", "data-level") == "none"
    })
    .await;
    assert_eq!(
        attribute("#call-quality", "data-audio-packets-received"),
        "none"
    );
}

#[wasm_bindgen_test]
async fn a_video_call_plays_their_stream_large_and_ours_mirrored_and_silent() {
    let screen = mount(with_directory(signed_in())).await;
    let (local, remote) = (
        web_sys::MediaStream::new().expect("a stream"),
        web_sys::MediaStream::new().expect("a stream"),
    );
    screen.driver.show_call(CallScreen {
        view: CallView::Connecting {
            call: call(),
            peer: zhang(),
            media: Media::Video,
            camera: true,
        },
        // `MediaStream::clone` is the browser's clone (a new stream); the
        // trait's copies the reference.
        local: Some(Clone::clone(&local)),
        remote: Some(Clone::clone(&remote)),
        ..CallScreen::default()
    });
    call_state("connecting").await;
    assert_eq!(
        text("document.querySelector('#call-status').textContent"),
        "正在连接…"
    );
    let element = |id: &str| -> web_sys::HtmlMediaElement {
        use wasm_bindgen::JsCast;
        gloo::utils::document()
            .get_element_by_id(id)
            .unwrap_or_else(|| panic!("#{id}"))
            .dyn_into()
            .expect("a media element")
    };
    until("the streams are attached", || {
        exists("video#call-remote") && exists("video#call-local")
    })
    .await;
    let (shown_remote, shown_local) = (element("call-remote"), element("call-local"));
    assert_eq!(shown_remote.src_object(), Some(remote));
    assert!(
        !shown_remote.muted(),
        "a video call's sound comes from its video"
    );
    assert_eq!(shown_local.src_object(), Some(local));
    assert!(shown_local.muted(), "our own voice must not echo");
    assert!(
        text("getComputedStyle(document.querySelector('#call-local')).transform")
            .starts_with("matrix(-1"),
        "our picture is mirrored"
    );
    // No video has arrived yet: their avatar shows over the stage.
    assert!(exists("#call-screen .call-screen__hero"));
    assert!(!exists("#call-remote-audio"));
}

#[wasm_bindgen_test]
async fn the_device_panel_chooses_a_microphone_and_a_speaker() {
    let screen = mount(with_directory(signed_in())).await;
    let device = |id: &str, label: &str| Device {
        id: id.into(),
        label: label.into(),
    };
    screen.driver.show_call(CallScreen {
        view: CallView::Connected {
            call: call(),
            peer: zhang(),
            media: Media::Audio,
            camera: false,
            since: js_sys::Date::now() as i64,
        },
        devices: Devices {
            microphones: vec![device("mic-1", "内置麦克风"), device("mic-2", "")],
            cameras: vec![device("cam-1", "")],
            speakers: vec![device("spk-1", "耳机")],
            microphone: Some("mic-1".into()),
            camera: Some("cam-1".into()),
            speaker: None,
        },
        ..CallScreen::default()
    });
    call_state("connected").await;
    assert!(!exists("#call-device-panel"), "closed until asked for");
    click("#call-devices");
    until("the device panel", || exists("#call-speaker")).await;
    assert_eq!(attribute("#call-devices", "aria-pressed"), "true");
    // Unnamed devices (before the first permission) are numbered.
    assert_eq!(
        text(
            "[...document.querySelectorAll('#call-microphone option')].map(o => o.textContent).join('|')"
        ),
        "内置麦克风|麦克风 2"
    );
    assert_eq!(
        text("[...document.querySelectorAll('#call-speaker option')].map(o => o.value).join('|')"),
        "|spk-1",
        "the system's default first"
    );
    for (select, value) in [("#call-microphone", "mic-2"), ("#call-speaker", "spk-1")] {
        js(&format!(
            "(s => {{ s.value = '{value}'; s.dispatchEvent(new Event('change', {{ bubbles: true }})); }})(document.querySelector('{select}'))"
        ));
    }
    settle().await;
    assert_eq!(
        calls_sent(&screen),
        vec![
            CallCommand::UseDevice(DeviceKind::Microphone, "mic-2".into()),
            CallCommand::UseDevice(DeviceKind::Speaker, "spk-1".into()),
        ]
    );
}
