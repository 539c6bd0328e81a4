//! The call machine's WebRTC side in a real browser: two `Rtc`s in one page,
//! wired to each other as two call machines would be through 24888, connect
//! over host candidates with the browser's fake camera and microphone
//! (webdriver.json), and media flows both ways as `getStats()` counts it.

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use penpen_core::call::{RtcCommand, RtcReport};
use penpen_web::calls::rtc::{Rtc, RtcEvent};
use penpen_web::calls::{MediaProblem, Quality, Route};
use wasm_bindgen_test::*;

/// Generous: two peer connections on a busy 2-core machine.
const DEADLINE_MS: f64 = 60_000.0;

struct Side {
    rtc: Rtc,
    events: UnboundedReceiver<RtcEvent>,
    connected: bool,
}

impl Side {
    fn new() -> Side {
        let (rtc, events) = Rtc::start();
        Side {
            rtc,
            events,
            connected: false,
        }
    }
}

/// Carries reports between the two sides as signalling would, until both
/// are connected and `done` says the exchange it waits for is over.
async fn exchange(a: &mut Side, b: &mut Side, mut done: impl FnMut(&Side, &Side) -> bool) {
    let deadline = js_sys::Date::now() + DEADLINE_MS;
    while !(a.connected && b.connected && done(a, b)) {
        assert!(
            js_sys::Date::now() < deadline,
            "the two sides did not connect in time"
        );
        for turn in 0..2 {
            let (from, to) = if turn == 0 {
                (&mut *a, &mut *b)
            } else {
                (&mut *b, &mut *a)
            };
            // A short look at each side in turn.
            let timeout = gloo::timers::future::TimeoutFuture::new(50);
            let event = match futures::future::select(from.events.next(), timeout).await {
                futures::future::Either::Left((event, _)) => event,
                futures::future::Either::Right(_) => continue,
            };
            let Some(RtcEvent::Report { epoch, report }) = event else {
                continue;
            };
            if !from.rtc.current(epoch) {
                continue;
            }
            match report {
                RtcReport::OfferCreated { sdp } => {
                    to.rtc.give(RtcCommand::CreateAnswer { offer: sdp });
                }
                RtcReport::AnswerCreated { sdp } => {
                    to.rtc.give(RtcCommand::ApplyAnswer { answer: sdp });
                }
                RtcReport::LocalCandidate(candidate) => {
                    to.rtc.give(RtcCommand::AddCandidate(candidate));
                }
                RtcReport::Connected => from.connected = true,
                RtcReport::Disconnected | RtcReport::Failed => from.connected = false,
                RtcReport::Error(code) => {
                    panic!(
                        "the WebRTC side failed: {:?}",
                        MediaProblem::from_code(&code)
                    )
                }
            }
        }
    }
}

/// Measures `side` until `enough` holds for its quality.
async fn measure_until(side: &mut Side, what: &str, enough: impl Fn(&Quality) -> bool) -> Quality {
    let deadline = js_sys::Date::now() + DEADLINE_MS;
    loop {
        side.rtc.measure();
        gloo::timers::future::TimeoutFuture::new(500).await;
        while side.events.try_recv().is_ok() {}
        if let Some(quality) = side.rtc.media().quality
            && enough(&quality)
        {
            return quality;
        }
        assert!(
            js_sys::Date::now() < deadline,
            "{what}: not within {DEADLINE_MS} ms; last {:?}",
            side.rtc.media().quality
        );
    }
}

fn start(side: &mut Side, camera: bool) {
    side.rtc.give(RtcCommand::StartMedia { camera });
    side.rtc.give(RtcCommand::CreatePeerConnection {
        ice_servers: Vec::new(),
        relay_only: false,
    });
}

#[wasm_bindgen_test]
async fn two_sides_connect_on_host_candidates_and_media_flows_both_ways() {
    let (mut a, mut b) = (Side::new(), Side::new());
    start(&mut a, true);
    start(&mut b, true);
    a.rtc.give(RtcCommand::CreateOffer { ice_restart: false });
    exchange(&mut a, &mut b, |_, _| true).await;

    for (side, name) in [(&mut a, "caller"), (&mut b, "callee")] {
        let first = measure_until(side, name, |q| {
            q.video_frames_decoded > 0 && q.audio_packets_received > 0
        })
        .await;
        // Counting on: the media keeps flowing, not one burst.
        let later = measure_until(side, name, |q| {
            q.video_frames_decoded > first.video_frames_decoded
                && q.audio_packets_received > first.audio_packets_received
        })
        .await;
        assert_eq!(
            later.route,
            Route::Host,
            "{name}: no ICE servers, so host candidates"
        );
        assert!(
            later.video_size.is_some(),
            "{name}: the video's size is known"
        );
        let media = side.rtc.media();
        let remote = media.remote.expect("the other party's stream");
        assert_eq!(remote.get_video_tracks().length(), 1, "{name}");
        assert_eq!(remote.get_audio_tracks().length(), 1, "{name}");
        assert!(
            media.local.is_some(),
            "{name}: our own stream for the small picture"
        );
        assert!(
            !media.devices.microphones.is_empty(),
            "{name}: the devices are listed"
        );
    }

    // The camera off on one side: after the renegotiation the other
    // receives no video, and audio goes on.
    a.rtc.give(RtcCommand::SetCamera(false));
    a.rtc.give(RtcCommand::CreateOffer { ice_restart: false });
    exchange(&mut a, &mut b, |_, b| {
        b.rtc
            .media()
            .remote
            .is_some_and(|r| r.get_video_tracks().length() == 0)
    })
    .await;
    let local = a.rtc.media().local.expect("the microphone is still held");
    assert_eq!(local.get_video_tracks().length(), 0);
    assert_eq!(local.get_audio_tracks().length(), 1);

    // Muting disables the microphone's track rather than dropping it.
    a.rtc.mute(true);
    let deadline = js_sys::Date::now() + DEADLINE_MS;
    while !a.rtc.media().muted {
        assert!(js_sys::Date::now() < deadline, "mute was not applied");
        let _ = a.report_or_change().await;
    }
    let local = a.rtc.media().local.expect("held");
    let track: web_sys::MediaStreamTrack = local.get_audio_tracks().get(0).into();
    assert!(!track.enabled());

    // Hanging up lets go of everything.
    for side in [&mut a, &mut b] {
        side.rtc.give(RtcCommand::ClosePeerConnection);
        side.rtc.give(RtcCommand::StopMedia);
    }
    let deadline = js_sys::Date::now() + DEADLINE_MS;
    while a.rtc.media().local.is_some() || b.rtc.media().local.is_some() {
        assert!(js_sys::Date::now() < deadline, "the media was not stopped");
        let _ = a.report_or_change().await;
        let _ = b.report_or_change().await;
    }
    assert!(a.rtc.media().remote.is_none());
}

#[wasm_bindgen_test]
async fn reports_of_a_closed_connection_are_not_current() {
    let mut side = Side::new();
    side.rtc.give(RtcCommand::StartMedia { camera: false });
    side.rtc.give(RtcCommand::CreatePeerConnection {
        ice_servers: Vec::new(),
        relay_only: false,
    });
    side.rtc
        .give(RtcCommand::CreateOffer { ice_restart: false });
    // Closed before the offer's report is read: it belongs to the old one.
    side.rtc.give(RtcCommand::ClosePeerConnection);
    let deadline = js_sys::Date::now() + DEADLINE_MS;
    loop {
        assert!(js_sys::Date::now() < deadline, "the offer was never made");
        if let Some(RtcEvent::Report { epoch, report }) = side.report_or_change().await
            && matches!(report, RtcReport::OfferCreated { .. })
        {
            assert!(!side.rtc.current(epoch), "an offer of a closed connection");
            break;
        }
    }
    side.rtc.give(RtcCommand::StopMedia);
}

impl Side {
    /// The next event, whatever it is (or none within 200 ms).
    async fn report_or_change(&mut self) -> Option<RtcEvent> {
        let timeout = gloo::timers::future::TimeoutFuture::new(200);
        match futures::future::select(self.events.next(), timeout).await {
            futures::future::Either::Left((event, _)) => event,
            futures::future::Either::Right(_) => None,
        }
    }
}
