//! The SFU with scripted str0m clients over real UDP on 127.0.0.1.

use penpen_server_mock::sfu::client::{MediaPlan, ScriptedClient};
use penpen_server_mock::sfu::{ParticipantKey, RoomKey, Sfu, SfuConfig, SfuError, SfuEvent};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Generous: the machine is shared with other builds.
const DEADLINE: Duration = Duration::from_secs(30);

/// An SFU and the signalling a meeting service would do: it relays server
/// offers to the scripted clients and their answers back.
struct Bench {
    sfu: Sfu,
    clients: Arc<Mutex<HashMap<ParticipantKey, Arc<ScriptedClient>>>>,
    lost: Arc<Mutex<Vec<ParticipantKey>>>,
    offers: Arc<Mutex<HashMap<ParticipantKey, usize>>>,
}

impl Bench {
    async fn start(lost_after: Duration) -> Bench {
        let mut config = SfuConfig::new(SocketAddr::new(LOCALHOST, 0));
        config.lost_after = lost_after;
        let sfu = Sfu::start(config).await.expect("the SFU starts");
        let mut events = sfu.take_events().expect("events are ours");
        let clients: Arc<Mutex<HashMap<ParticipantKey, Arc<ScriptedClient>>>> = Arc::default();
        let lost: Arc<Mutex<Vec<ParticipantKey>>> = Arc::default();
        let offers: Arc<Mutex<HashMap<ParticipantKey, usize>>> = Arc::default();
        let (sfu2, clients2, lost2, offers2) =
            (sfu.clone(), clients.clone(), lost.clone(), offers.clone());
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                match event {
                    SfuEvent::Offer { participant, sdp } => {
                        *offers2
                            .lock()
                            .expect("the test bench works")
                            .entry(participant.clone())
                            .or_default() += 1;
                        let client = clients2
                            .lock()
                            .expect("the test bench works")
                            .get(&participant)
                            .cloned();
                        if let Some(client) = client {
                            let answer = client.answer_offer(&sdp).expect("the client answers");
                            sfu2.answer(participant, answer)
                                .await
                                .expect("the SFU takes the answer");
                        }
                    }
                    SfuEvent::Lost { participant, .. } => lost2
                        .lock()
                        .expect("the test bench works")
                        .push(participant),
                }
            }
        });
        Bench {
            sfu,
            clients,
            lost,
            offers,
        }
    }

    async fn join(&self, room: &str, name: &str) -> Arc<ScriptedClient> {
        self.join_with(room, name, MediaPlan::SMALL_VIDEO).await
    }

    async fn join_with(&self, room: &str, name: &str, plan: MediaPlan) -> Arc<ScriptedClient> {
        let (client, offer) = ScriptedClient::start(LOCALHOST, plan)
            .await
            .expect("a client socket");
        let client = Arc::new(client);
        self.clients
            .lock()
            .expect("the test bench works")
            .insert(name.into(), client.clone());
        let answer = self
            .sfu
            .join(room.into(), name.into(), offer)
            .await
            .expect("the SFU accepts the join");
        client
            .accept_answer(&answer)
            .expect("the client takes the answer");
        client
    }

    fn offers_to(&self, name: &str) -> usize {
        self.offers
            .lock()
            .expect("the test bench works")
            .get(&ParticipantKey::from(name))
            .copied()
            .unwrap_or(0)
    }
}

pub(crate) async fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether `client` has at least `n` audio and `n` video frames from each of `senders`.
pub(crate) fn hears(client: &ScriptedClient, senders: &[&str], n: u64) -> bool {
    let received = client.received();
    senders.iter().all(|s| {
        received
            .get(*s)
            .is_some_and(|f| f.audio >= n && f.video >= n)
    })
}

#[tokio::test]
async fn three_participants_each_receive_the_other_two() {
    let bench = Bench::start(Duration::from_secs(15)).await;
    let a = bench.join("room", "a").await;
    let b = bench.join("room", "b").await;
    let c = bench.join("room", "c").await;
    wait_for("everyone hears everyone", || {
        hears(&a, &["b", "c"], 10) && hears(&b, &["a", "c"], 10) && hears(&c, &["a", "b"], 10)
    })
    .await;
    for (client, me) in [(&a, "a"), (&b, "b"), (&c, "c")] {
        assert!(
            !client.received().contains_key(me),
            "{me} never gets its own media back"
        );
    }
    let stats = bench.sfu.stats();
    assert_eq!((stats.participants, stats.rooms), (3, 1));
    assert!(stats.forwarded >= 2 * 6 * 10, "{stats:?}");
}

#[tokio::test]
async fn a_leaver_is_withdrawn_from_the_others() {
    let bench = Bench::start(Duration::from_secs(15)).await;
    let a = bench.join("room", "a").await;
    let b = bench.join("room", "b").await;
    let _c = bench.join("room", "c").await;
    wait_for("a and b hear c", || {
        hears(&a, &["c"], 5) && hears(&b, &["c"], 5)
    })
    .await;
    let offers_before = bench.offers_to("a");
    bench.sfu.leave("c".into()).await.expect("c leaves");
    wait_for("a and b renegotiate without c", || {
        a.viewed_senders() == ["b"] && b.viewed_senders() == ["a"]
    })
    .await;
    assert!(bench.offers_to("a") > offers_before);
    let from_c = |client: &ScriptedClient| client.received().get("c").copied().unwrap_or_default();
    let (a_then, b_then) = (from_c(&a), from_c(&b));
    // a and b go on hearing each other while nothing more comes from c.
    let a_from_b = a.received()["b"].audio;
    wait_for("more media between a and b", || {
        a.received()["b"].audio >= a_from_b + 25
    })
    .await;
    assert_eq!((from_c(&a), from_c(&b)), (a_then, b_then));
    assert!(matches!(
        bench.sfu.leave("c".into()).await,
        Err(SfuError::UnknownParticipant(_))
    ));
}

#[tokio::test]
async fn a_late_joiner_gets_every_track_and_a_keyframe_is_asked_for() {
    let bench = Bench::start(Duration::from_secs(15)).await;
    let a = bench.join("room", "a").await;
    let b = bench.join("room", "b").await;
    wait_for("a and b hear each other", || {
        hears(&a, &["b"], 5) && hears(&b, &["a"], 5)
    })
    .await;
    let (a_requests, b_requests) = (a.keyframe_requests(), b.keyframe_requests());
    let late = bench.join("room", "late").await;
    wait_for("the late joiner hears a and b", || {
        hears(&late, &["a", "b"], 5)
    })
    .await;
    wait_for("a and b are asked for keyframes", || {
        a.keyframe_requests() > a_requests && b.keyframe_requests() > b_requests
    })
    .await;
    wait_for("a and b hear the late joiner", || {
        hears(&a, &["late"], 5) && hears(&b, &["late"], 5)
    })
    .await;
}

#[tokio::test]
async fn rooms_do_not_leak() {
    let bench = Bench::start(Duration::from_secs(15)).await;
    let a = bench.join("one", "a").await;
    let b = bench.join("one", "b").await;
    let x = bench.join("two", "x").await;
    let y = bench.join("two", "y").await;
    wait_for("each pair hears each other", || {
        hears(&a, &["b"], 10)
            && hears(&b, &["a"], 10)
            && hears(&x, &["y"], 10)
            && hears(&y, &["x"], 10)
    })
    .await;
    for (client, others) in [
        (&a, ["x", "y"]),
        (&b, ["x", "y"]),
        (&x, ["a", "b"]),
        (&y, ["a", "b"]),
    ] {
        let received = client.received();
        assert!(
            others.iter().all(|o| !received.contains_key(*o)),
            "{received:?}"
        );
    }
    assert_eq!(bench.sfu.stats().rooms, 2);
}

#[tokio::test]
async fn a_vanished_participant_is_reported_lost() {
    let bench = Bench::start(Duration::from_secs(2)).await;
    let a = bench.join("room", "a").await;
    let gone = bench.join("room", "gone").await;
    wait_for("a hears gone", || hears(&a, &["gone"], 5)).await;
    bench
        .clients
        .lock()
        .expect("the test bench works")
        .remove(&ParticipantKey::from("gone"));
    drop(gone);
    let lost = bench.lost.clone();
    wait_for("gone is reported lost", || {
        lost.lock()
            .expect("the test bench works")
            .contains(&ParticipantKey::from("gone"))
    })
    .await;
    wait_for("a no longer receives gone's tracks", || {
        a.viewed_senders().is_empty()
    })
    .await;
    assert_eq!(bench.sfu.stats().participants, 1);
}

#[tokio::test]
async fn a_malformed_offer_is_a_typed_error_and_the_sfu_goes_on() {
    let bench = Bench::start(Duration::from_secs(15)).await;
    let bad = bench
        .sfu
        .join("room".into(), "bad".into(), "v=0\r\nthis is no sdp".into())
        .await;
    assert!(matches!(bad, Err(SfuError::BadSdp(_))), "{bad:?}");
    let bad_answer = bench.sfu.answer("nobody".into(), "v=0".into()).await;
    assert!(matches!(bad_answer, Err(SfuError::UnknownParticipant(_))));
    // Garbage datagrams at the media port are ignored.
    let junk = tokio::net::UdpSocket::bind(SocketAddr::new(LOCALHOST, 0))
        .await
        .expect("the test bench works");
    for bytes in [&b"\x00\x01junk"[..], &[0x80; 40][..], &[0x16; 3][..]] {
        junk.send_to(bytes, bench.sfu.local_addr())
            .await
            .expect("the test bench works");
    }
    let a = bench.join("room", "a").await;
    let b = bench.join("room", "b").await;
    wait_for("a and b still meet", || {
        hears(&a, &["b"], 5) && hears(&b, &["a"], 5)
    })
    .await;
}

#[tokio::test]
async fn a_full_room_refuses_one_more() {
    let mut config = SfuConfig::new(SocketAddr::new(LOCALHOST, 0));
    config.max_per_room = 1;
    let sfu = Sfu::start(config).await.expect("the SFU starts");
    let (_a, offer_a) = ScriptedClient::start(LOCALHOST, MediaPlan::SMALL_VIDEO)
        .await
        .expect("the test bench works");
    let (_b, offer_b) = ScriptedClient::start(LOCALHOST, MediaPlan::SMALL_VIDEO)
        .await
        .expect("the test bench works");
    sfu.join(RoomKey::from("r"), "a".into(), offer_a.clone())
        .await
        .expect("a fits");
    let again = sfu.join(RoomKey::from("r"), "a".into(), offer_a).await;
    assert!(
        matches!(again, Err(SfuError::AlreadyJoined(_))),
        "{again:?}"
    );
    let full = sfu.join(RoomKey::from("r"), "b".into(), offer_b).await;
    assert!(
        matches!(full, Err(SfuError::RoomFull { max: 1, .. })),
        "{full:?}"
    );
    assert!(sfu.contains("a".into()).await.expect("running"));
    assert!(!sfu.contains("b".into()).await.expect("running"));
    sfu.remove("a".into());
    assert!(
        !sfu.contains("a".into()).await.expect("running"),
        "removed before the question"
    );
    sfu.shutdown().await;
    assert!(matches!(
        sfu.leave("a".into()).await,
        Err(SfuError::Stopped)
    ));
}

#[tokio::test]
async fn a_server_carries_meeting_media_on_its_own_udp_port() {
    let (server, _data) = crate::common::start().await;
    let sfu = server.sfu().clone();
    assert_ne!(sfu.local_addr().port(), 0);
    assert_eq!(sfu.advertised_addr(), sfu.local_addr());
    // The server's meetings relay its events (tests/it/meetings.rs carries
    // media through them).
    assert!(
        sfu.take_events().is_none(),
        "the meetings own the SFU's events"
    );
    server.shutdown().await;
    assert!(matches!(
        sfu.leave("a".into()).await,
        Err(SfuError::Stopped)
    ));
}

#[tokio::test]
async fn a_viewer_gets_one_simulcast_layer_and_can_switch() {
    let bench = Bench::start(Duration::from_secs(15)).await;
    let plan = MediaPlan {
        simulcast: true,
        ..MediaPlan::SMALL_VIDEO
    };
    let a = bench.join_with("room", "a", plan).await;
    let b = bench.join("room", "b").await;
    wait_for("b gets a's video", || hears(&b, &["a"], 10)).await;
    // The first layer listed (h) only: never both layers on one stream.
    let layers = b.video_layers("a");
    assert_eq!(layers.keys().collect::<Vec<_>>(), [&'h'], "{layers:?}");
    let h_before = layers[&'h'];
    let requests = a.keyframe_requests();
    bench
        .sfu
        .select_layer("b".into(), "a".into(), "l".into())
        .await
        .expect("b switches to a's low layer");
    wait_for("b gets a's low layer", || {
        b.video_layers("a").get(&'l').is_some_and(|n| *n >= 10)
    })
    .await;
    wait_for("a is asked for a keyframe", || {
        a.keyframe_requests() > requests
    })
    .await;
    // No more high-layer frames once the low layer flows.
    let h_after = b.video_layers("a")[&'h'];
    let l_now = b.video_layers("a")[&'l'];
    wait_for("more low-layer frames", || {
        b.video_layers("a")[&'l'] >= l_now + 10
    })
    .await;
    assert_eq!(b.video_layers("a")[&'h'], h_after);
    assert!(h_after >= h_before);
    let wrong = bench
        .sfu
        .select_layer("b".into(), "a".into(), "x".into())
        .await;
    assert!(
        matches!(wrong, Err(SfuError::UnknownLayer { .. })),
        "{wrong:?}"
    );
    // a (plain video viewer) still gets b.
    wait_for("a hears b", || hears(&a, &["b"], 10)).await;
}
