//! The meeting's WebRTC side in a real browser: a `MeetingRtc` joins a
//! stand-in for the server's media forwarder (a plain peer connection in
//! the same page, which answers the join's offer and then offers two
//! participants' media in streams named by their user ids, as §13 says),
//! and the media it receives is grouped by participant, counted by
//! `getStats()`, and a participant whose sections stop disappears.

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use penpen_core::meeting::{MeetingRtcCommand, MeetingRtcReport};
use penpen_web::meetings::rtc::{MeetingRtc, MeetingRtcEvent};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{
    MediaStream, MediaStreamConstraints, RtcPeerConnection, RtcRtpTransceiver,
    RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit,
};

/// Generous: two peer connections on a busy 2-core machine.
const DEADLINE_MS: f64 = 60_000.0;

const WANG: &str = "13800000101";
const LI: &str = "13800000102";

struct Client {
    rtc: MeetingRtc,
    events: UnboundedReceiver<MeetingRtcEvent>,
    connected: bool,
}

impl Client {
    /// The next report of the current connection (or media), taking note of
    /// the connection's state on the way.
    async fn report(&mut self, what: &str) -> MeetingRtcReport {
        let deadline = js_sys::Date::now() + DEADLINE_MS;
        loop {
            assert!(js_sys::Date::now() < deadline, "{what}: no report in time");
            let timeout = gloo::timers::future::TimeoutFuture::new(200);
            let event = match futures::future::select(self.events.next(), timeout).await {
                futures::future::Either::Left((event, _)) => event,
                futures::future::Either::Right(_) => continue,
            };
            let Some(MeetingRtcEvent::Report { epoch, report }) = event else {
                continue;
            };
            if !self.rtc.current(epoch) {
                continue;
            }
            match report {
                MeetingRtcReport::Connected => self.connected = true,
                MeetingRtcReport::Disconnected | MeetingRtcReport::Failed => self.connected = false,
                MeetingRtcReport::Error(problem) => panic!("{what}: {problem}"),
                other => return other,
            }
        }
    }

    /// Lets events pass until `holds`, measuring every half second.
    async fn until(&mut self, what: &str, holds: impl Fn(&Client) -> bool) {
        let deadline = js_sys::Date::now() + DEADLINE_MS;
        while !holds(self) {
            assert!(
                js_sys::Date::now() < deadline,
                "{what}: not within {DEADLINE_MS} ms; remotes {:?}",
                self.rtc
                    .media()
                    .remotes
                    .iter()
                    .map(|r| (
                        r.user.clone(),
                        r.stream.get_tracks().length(),
                        r.video_frames_decoded,
                        r.audio_packets_received
                    ))
                    .collect::<Vec<_>>()
            );
            self.rtc.measure();
            gloo::timers::future::TimeoutFuture::new(500).await;
            while let Ok(event) = self.events.try_recv() {
                if let MeetingRtcEvent::Report { epoch, report } = event
                    && self.rtc.current(epoch)
                {
                    match report {
                        MeetingRtcReport::Connected => self.connected = true,
                        MeetingRtcReport::Error(problem) => panic!("{what}: {problem}"),
                        _ => {}
                    }
                }
            }
        }
    }
}

async fn settled(promise: js_sys::Promise) -> JsValue {
    JsFuture::from(promise).await.expect("the browser agreed")
}

async fn user_media(video: bool) -> MediaStream {
    let devices = gloo::utils::window()
        .navigator()
        .media_devices()
        .expect("media devices");
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio_bool(true);
    constraints.set_video_bool(video);
    settled(
        devices
            .get_user_media_with_constraints(&constraints)
            .expect("getUserMedia"),
    )
    .await
    .unchecked_into()
}

/// The server's local description once its candidates are in it (the
/// forwarder's SDP carries them; the client sends none).
async fn gathered(server: &RtcPeerConnection) -> String {
    let deadline = js_sys::Date::now() + DEADLINE_MS;
    loop {
        let state = js_sys::Reflect::get(server, &"iceGatheringState".into())
            .ok()
            .and_then(|s| s.as_string());
        if state.as_deref() == Some("complete") {
            break;
        }
        assert!(js_sys::Date::now() < deadline, "the server never gathered");
        gloo::timers::future::TimeoutFuture::new(50).await;
    }
    let description = js_sys::Reflect::get(server, &"localDescription".into()).expect("set");
    js_sys::Reflect::get(&description, &"sdp".into())
        .ok()
        .and_then(|s| s.as_string())
        .expect("an SDP")
}

async fn describe(server: &RtcPeerConnection, kind: RtcSdpType, sdp: &str) {
    let description = RtcSessionDescriptionInit::new(kind);
    description.set_sdp(sdp);
    settled(server.set_remote_description(&description)).await;
}

async fn set_local(server: &RtcPeerConnection, created: JsValue) {
    let description: RtcSessionDescriptionInit = created.unchecked_into();
    settled(server.set_local_description(&description)).await;
}

#[wasm_bindgen_test]
async fn received_tracks_are_grouped_by_the_senders_user_id_and_counted() {
    let (rtc, events) = MeetingRtc::start();
    let mut client = Client {
        rtc,
        events,
        connected: false,
    };
    client
        .rtc
        .give(MeetingRtcCommand::StartMedia { camera: true });
    assert_eq!(
        client.report("media").await,
        MeetingRtcReport::MediaStarted { camera: true }
    );
    client.rtc.give(MeetingRtcCommand::CreatePeerConnection {
        ice_servers: Vec::new(),
        relay_only: false,
    });
    client.rtc.give(MeetingRtcCommand::CreateOffer);
    let MeetingRtcReport::OfferCreated { sdp: offer } = client.report("the join's offer").await
    else {
        panic!("expected the join's offer");
    };
    assert_eq!(offer.matches("m=audio").count(), 1, "{offer}");
    assert_eq!(offer.matches("m=video").count(), 1, "{offer}");
    assert_eq!(
        offer.matches("a=sendonly").count(),
        2,
        "both sections send only"
    );

    // The stand-in server answers the join.
    let server = RtcPeerConnection::new().expect("a peer connection");
    describe(&server, RtcSdpType::Offer, &offer).await;
    set_local(&server, settled(server.create_answer()).await).await;
    let answer = gathered(&server).await;
    client.rtc.give(MeetingRtcCommand::ApplyAnswer { answer });
    client.until("connected", |client| client.connected).await;

    // Two participants' media, each in a stream the server names by their
    // user id: 王 with a camera, 李 with only a microphone.
    let wang = user_media(true).await;
    let li = user_media(false).await;
    // New sections, as the forwarder adds them (`addTrack` would reuse the
    // join's sections, which carry the client's own media).
    for stream in [&wang, &li] {
        for track in stream.get_tracks().iter() {
            let init = RtcRtpTransceiverInit::new();
            init.set_direction(RtcRtpTransceiverDirection::Sendonly);
            init.set_streams(&js_sys::Array::of1(stream));
            server.add_transceiver_with_media_stream_track_and_init(&track.unchecked_into(), &init);
        }
    }
    let renamed = |sdp: String| sdp.replace(&wang.id(), WANG).replace(&li.id(), LI);
    set_local(&server, settled(server.create_offer()).await).await;
    let offer = renamed(gathered(&server).await);
    client.rtc.give(MeetingRtcCommand::CreateAnswer { offer });
    let MeetingRtcReport::AnswerCreated { sdp: answer } = client.report("the answer").await else {
        panic!("expected an answer");
    };
    describe(&server, RtcSdpType::Answer, &answer).await;

    client
        .until("both grouped and counted", |client| {
            let media = client.rtc.media();
            let of = |user: &str| media.remotes.iter().find(|r| r.user == user).cloned();
            let (Some(wang), Some(li)) = (of(WANG), of(LI)) else {
                return false;
            };
            media.remotes.len() == 2
                && wang.stream.get_video_tracks().length() == 1
                && wang.stream.get_audio_tracks().length() == 1
                && li.stream.get_video_tracks().length() == 0
                && li.stream.get_audio_tracks().length() == 1
                && wang.video_frames_decoded > 0
                && wang.audio_packets_received > 0
                && li.audio_packets_received > 0
        })
        .await;

    // 李 leaves: the server stops his section; his tile's media goes.
    let transceivers = server.get_transceivers();
    let li_track = li.get_audio_tracks().get(0);
    for transceiver in transceivers.iter() {
        let transceiver: RtcRtpTransceiver = transceiver.unchecked_into();
        if transceiver
            .sender()
            .track()
            .is_some_and(|t| JsValue::from(t) == li_track)
        {
            transceiver.stop();
        }
    }
    set_local(&server, settled(server.create_offer()).await).await;
    let offer = renamed(gathered(&server).await);
    client.rtc.give(MeetingRtcCommand::CreateAnswer { offer });
    let MeetingRtcReport::AnswerCreated { sdp: answer } = client.report("the answer").await else {
        panic!("expected an answer");
    };
    describe(&server, RtcSdpType::Answer, &answer).await;
    client
        .until("李 is gone, 王 stays", |client| {
            let users: Vec<String> = client
                .rtc
                .media()
                .remotes
                .iter()
                .map(|r| r.user.clone())
                .collect();
            users == [WANG]
        })
        .await;

    // The camera off and on again: no renegotiation, the local stream follows.
    client.rtc.give(MeetingRtcCommand::SetCamera(false));
    assert_eq!(
        client.report("camera off").await,
        MeetingRtcReport::CameraChanged(false)
    );
    let local = client.rtc.media().local.expect("the microphone stays");
    assert_eq!(local.get_video_tracks().length(), 0);
    client.rtc.give(MeetingRtcCommand::SetCamera(true));
    assert_eq!(
        client.report("camera on").await,
        MeetingRtcReport::CameraChanged(true)
    );
    client.rtc.give(MeetingRtcCommand::SetMic(false));
    client
        .until("the microphone is off", |client| {
            client.rtc.media().local.is_some_and(|local| {
                let track: web_sys::MediaStreamTrack = local.get_audio_tracks().get(0).into();
                !track.enabled()
            })
        })
        .await;

    client.rtc.give(MeetingRtcCommand::ClosePeerConnection);
    client.rtc.give(MeetingRtcCommand::StopMedia);
    client
        .until("everything let go", |client| {
            let media = client.rtc.media();
            media.local.is_none() && media.remotes.is_empty()
        })
        .await;
    server.close();
    for stream in [wang, li] {
        for track in stream.get_tracks().iter() {
            track.unchecked_into::<web_sys::MediaStreamTrack>().stop();
        }
    }
}
