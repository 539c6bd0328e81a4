//! The client's call machine (`penpen_core::call`) against the real server:
//! each person is a `CallMachine` driven over real sockets — pushes from a
//! logged-in 20888 stream, its own 24888 socket — with a stand-in for the
//! browser's WebRTC side, so the two halves of §12 are shown to agree.

use crate::common::{Client, Incoming, LI, WANG, log_in, user};
use penpen_core::call::{CallAction, CallMachine, CallView, EndCause, RtcCommand, RtcReport};
use penpen_core::packets::call::{CallOutcome, CallRecord, EndReason, IceCandidate, Media};
use penpen_core::packets::login::Push;
use penpen_core::packets::message::MessageType;
use penpen_core::packets::sync::{CatchUp, MessagePage};
use penpen_core::{Seq, Service};
use penpen_server_mock::RunningServer;
use penpen_server_mock::context::now_ms;
use std::time::{Duration, Instant};

/// Generous: the machine may be busy.
const DEADLINE: Duration = Duration::from_secs(30);
/// How long one look at a socket waits.
const GLANCE: Duration = Duration::from_millis(5);

/// One signed-in session of a person, with its call machine.
struct Person {
    name: String,
    token: String,
    machine: CallMachine,
    stream: Client,
    calls: Option<Client>,
    /// Candidates the other party's machine handed ours.
    remote_candidates: Vec<IceCandidate>,
}

impl Person {
    async fn sign_in(server: &RunningServer, account: &str, seed: u64) -> Person {
        let (stream, reply) = log_in(server, account).await;
        Person {
            name: account.to_owned(),
            token: reply.token,
            machine: CallMachine::new(seed),
            stream,
            calls: None,
            remote_candidates: Vec::new(),
        }
    }

    /// Carries out what the machine asks and feeds it what arrived.
    async fn step(&mut self, server: &RunningServer) {
        self.machine.handle_timeout(now_ms());
        while let Some(action) = self.machine.poll_action() {
            match action {
                CallAction::Open => {
                    let socket =
                        Client::connect(server, Service::CallSignalling, Some(&self.token)).await;
                    self.calls = Some(socket);
                    self.machine.opened(now_ms());
                }
                CallAction::Close => self.calls = None,
                CallAction::Send(frame) => match self.calls.as_mut() {
                    Some(socket) => socket.send_text(&frame).await,
                    None => panic!("{}: a send without an open 24888 socket", self.name),
                },
                CallAction::Rtc(command) => self.rtc(command),
                CallAction::PlayTone(_) | CallAction::StopTone | CallAction::Show(_) => {}
            }
        }
        if let Some(socket) = self.calls.as_mut() {
            loop {
                match socket.next_frame(GLANCE).await {
                    Incoming::Frame(text) => self.machine.received(&text, now_ms()),
                    Incoming::Quiet => break,
                    Incoming::Closed => {
                        self.calls = None;
                        self.machine.closed(now_ms());
                        break;
                    }
                }
            }
        }
        while let Some(payload) = self.stream.next_payload(GLANCE).await {
            match serde_json::from_str::<Push>(&payload) {
                Ok(Push::Call { call }) => self.machine.call_invited(*call, now_ms()),
                Ok(Push::CallEnded { call_ended }) => self.machine.call_ended(call_ended, now_ms()),
                _ => {}
            }
        }
    }

    /// The browser's WebRTC side, standing in: descriptions and one host
    /// candidate each, and connected once both descriptions are set.
    fn rtc(&mut self, command: RtcCommand) {
        let now = now_ms();
        match command {
            RtcCommand::CreatePeerConnection { .. } => self.machine.rtc(
                RtcReport::LocalCandidate(IceCandidate {
                    candidate: format!(
                        "candidate:{} 1 udp 2122260223 127.0.0.1 5000 typ host",
                        self.name
                    ),
                    sdp_mid: Some("0".into()),
                    sdp_mline_index: Some(0),
                }),
                now,
            ),
            RtcCommand::CreateOffer { .. } => self.machine.rtc(
                RtcReport::OfferCreated {
                    sdp: format!("v=0\r\no=- {} 1 IN IP4 127.0.0.1\r\n", self.name),
                },
                now,
            ),
            RtcCommand::CreateAnswer { .. } => {
                self.machine.rtc(
                    RtcReport::AnswerCreated {
                        sdp: format!("v=0\r\no=- {} 2 IN IP4 127.0.0.1\r\n", self.name),
                    },
                    now,
                );
                self.machine.rtc(RtcReport::Connected, now);
            }
            RtcCommand::ApplyAnswer { .. } => self.machine.rtc(RtcReport::Connected, now),
            RtcCommand::AddCandidate(candidate) => self.remote_candidates.push(candidate),
            RtcCommand::StartMedia { .. }
            | RtcCommand::SetCamera(_)
            | RtcCommand::ClosePeerConnection
            | RtcCommand::StopMedia => {}
        }
    }

    /// The call records in this person's history, through 50888.
    async fn records(&self, server: &RunningServer) -> Vec<CallRecord> {
        let mut sync = Client::connect(server, Service::SyncMessages, Some(&self.token)).await;
        let page: MessagePage = sync
            .request(&CatchUp {
                since: Seq(0),
                limit: Some(1_000),
            })
            .await
            .expect("a page");
        page.messages
            .iter()
            .filter(|m| m.kind == MessageType::Call)
            .map(|m| serde_json::from_str(&m.content).expect("a call record"))
            .collect()
    }
}

/// Steps everyone until `done` holds, or fails saying `what` did not happen.
async fn until(
    server: &RunningServer,
    people: &mut [&mut Person],
    what: &str,
    done: impl Fn(&[&mut Person]) -> bool,
) {
    let deadline = Instant::now() + DEADLINE;
    while !done(people) {
        let views: Vec<CallView> = people.iter().map(|p| p.machine.view()).collect();
        assert!(
            Instant::now() < deadline,
            "{what}: not within {DEADLINE:?}; views {views:?}"
        );
        for person in people.iter_mut() {
            person.step(server).await;
        }
    }
}

fn is_connected(view: &CallView) -> bool {
    matches!(view, CallView::Connected { .. })
}

fn ended_by(view: &CallView) -> Option<EndCause> {
    match view {
        CallView::Ended { cause, .. } => Some(cause.clone()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_machines_call_hang_up_and_both_keep_the_record() {
    let (server, _data) = crate::common::start().await;
    let mut wang = Person::sign_in(&server, WANG, 1).await;
    let mut li = Person::sign_in(&server, LI, 2).await;

    wang.machine
        .start(user(LI), Media::Video, now_ms())
        .expect("idle, so it starts");
    until(
        &server,
        &mut [&mut wang, &mut li],
        "Li's device rings",
        |p| {
            matches!(p[1].machine.view(), CallView::Incoming { .. })
                && matches!(
                    p[0].machine.view(),
                    CallView::Outgoing { ringing: true, .. }
                )
        },
    )
    .await;
    li.machine.accept(now_ms()).expect("it rings");
    until(&server, &mut [&mut wang, &mut li], "both connected", |p| {
        is_connected(&p[0].machine.view()) && is_connected(&p[1].machine.view())
    })
    .await;
    // Each machine gets the other's candidate: Wang's, sent before the
    // accept, kept by the server and given to Li's accepting socket; Li's,
    // held by Li's machine until its accept was answered.
    until(
        &server,
        &mut [&mut wang, &mut li],
        "the candidates crossed",
        |p| {
            p[1].remote_candidates
                .iter()
                .any(|c| c.candidate.contains(WANG))
                && p[0]
                    .remote_candidates
                    .iter()
                    .any(|c| c.candidate.contains(LI))
        },
    )
    .await;

    li.machine.hang_up(now_ms());
    until(&server, &mut [&mut wang, &mut li], "both ended", |p| {
        ended_by(&p[0].machine.view()).is_some() && ended_by(&p[1].machine.view()).is_some()
    })
    .await;
    assert_eq!(
        ended_by(&wang.machine.view()),
        Some(EndCause::Ended(EndReason::Hangup)),
        "Wang hears Li hung up"
    );
    for person in [&wang, &li] {
        // The hang-up reaches Wang before the record is committed: the
        // record is stored once the call is over, not before it ends.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let mut records = person.records(&server).await;
        while records.is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            records = person.records(&server).await;
        }
        assert_eq!(records.len(), 1, "{}: {records:?}", person.name);
        assert_eq!(records[0].outcome, CallOutcome::Answered);
        assert_eq!(records[0].media, Media::Video);
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_two_devices_answers_and_the_other_stops_ringing() {
    let (server, _data) = crate::common::start().await;
    let mut wang = Person::sign_in(&server, WANG, 3).await;
    let mut li_phone = Person::sign_in(&server, LI, 4).await;
    let mut li_desk = Person::sign_in(&server, LI, 5).await;

    wang.machine
        .start(user(LI), Media::Audio, now_ms())
        .expect("starts");
    until(
        &server,
        &mut [&mut wang, &mut li_phone, &mut li_desk],
        "both of Li's devices ring",
        |p| {
            p[1..]
                .iter()
                .all(|d| matches!(d.machine.view(), CallView::Incoming { .. }))
        },
    )
    .await;
    li_desk.machine.accept(now_ms()).expect("it rings");
    until(
        &server,
        &mut [&mut wang, &mut li_phone, &mut li_desk],
        "the desk connected and the phone stopped ringing",
        |p| {
            is_connected(&p[0].machine.view())
                && is_connected(&p[2].machine.view())
                && !matches!(p[1].machine.view(), CallView::Incoming { .. })
        },
    )
    .await;
    assert_eq!(
        ended_by(&li_phone.machine.view()),
        Some(EndCause::Ended(EndReason::AnsweredElsewhere))
    );
    wang.machine.hang_up(now_ms());
    until(
        &server,
        &mut [&mut wang, &mut li_phone, &mut li_desk],
        "ended",
        |p| ended_by(&p[2].machine.view()).is_some(),
    )
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_call_ends_for_the_caller_and_is_recorded_declined() {
    let (server, _data) = crate::common::start().await;
    let mut wang = Person::sign_in(&server, WANG, 6).await;
    let mut li = Person::sign_in(&server, LI, 7).await;
    wang.machine
        .start(user(LI), Media::Video, now_ms())
        .expect("starts");
    until(&server, &mut [&mut wang, &mut li], "it rings", |p| {
        matches!(p[1].machine.view(), CallView::Incoming { .. })
    })
    .await;
    li.machine.decline(now_ms()).expect("it rings");
    until(
        &server,
        &mut [&mut wang, &mut li],
        "the caller hears",
        |p| ended_by(&p[0].machine.view()).is_some(),
    )
    .await;
    assert_eq!(
        ended_by(&wang.machine.view()),
        Some(EndCause::Ended(EndReason::Declined))
    );
    let records = li.records(&server).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, CallOutcome::Declined);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calling_each_other_at_once_makes_one_call() {
    let (server, _data) = crate::common::start().await;
    let mut wang = Person::sign_in(&server, WANG, 8).await;
    let mut li = Person::sign_in(&server, LI, 9).await;
    let now = now_ms();
    wang.machine
        .start(user(LI), Media::Audio, now)
        .expect("starts");
    li.machine
        .start(user(WANG), Media::Audio, now)
        .expect("starts");
    until(
        &server,
        &mut [&mut wang, &mut li],
        "one call connects",
        |p| is_connected(&p[0].machine.view()) && is_connected(&p[1].machine.view()),
    )
    .await;
    assert_eq!(
        wang.machine.view().call(),
        li.machine.view().call(),
        "both are in the same call"
    );
    li.machine.hang_up(now_ms());
    until(&server, &mut [&mut wang, &mut li], "ended", |p| {
        ended_by(&p[0].machine.view()).is_some()
    })
    .await;
    // The invite that gave way is recorded as busy; the call as answered.
    let mut outcomes: Vec<CallOutcome> = wang
        .records(&server)
        .await
        .iter()
        .map(|r| r.outcome)
        .collect();
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, vec![CallOutcome::Answered, CallOutcome::Busy]);
    server.shutdown().await;
}
