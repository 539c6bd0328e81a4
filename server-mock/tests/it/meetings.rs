//! 24888, meetings (§13), over real sockets: scripted str0m clients join
//! through the signalling and exchange media through the server's SFU; the
//! refusals, the group's pushes, the timers, the notices in the group's
//! history, and meetings and calls keeping each other busy.

use crate::common::{Client, LI, LIU, WANG, ZHANG, decode_reply, log_in, start_configured, user};
use crate::sfu::{hears, wait_for};
use penpen_core::packets::Done;
use penpen_core::packets::call::{CallRequest, CallSignal, EndReason, Media, SignalEvent};
use penpen_core::packets::groups::{
    GroupCreate, GroupCreated, GroupMembersChange, GroupUpdated, Members, MembersAction,
};
use penpen_core::packets::login::Push;
use penpen_core::packets::meeting::{
    MeetingEndReason, MeetingEndedNotice, MeetingJoinReply, MeetingRequest, MeetingSignal,
    MeetingSignalEvent, MeetingStartReply, MeetingStartedNotice,
};
use penpen_core::packets::message::{Message, MessageType, Sender};
use penpen_core::packets::sync::{CatchUp, MessagePage};
use penpen_core::{CallId, ErrorReply, GroupId, MeetingId, Peer, Seq, Service, State, UserId};
use penpen_server_mock::RunningServer;
use penpen_server_mock::sfu::client::{MediaPlan, ScriptedClient};
use serde::Serialize;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Generous: the machine is shared with other builds.
const WAIT: Duration = Duration::from_secs(30);
const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// A member of the test group besides ZHANG (holder) and LIU.
const WU: &str = "13800000005";
/// Audio only, a few frames a second: for tests where media does not matter.
const QUIET: MediaPlan = MediaPlan {
    audio_fps: 10,
    video_fps: 0,
    video_frame_bytes: 0,
    simulcast: false,
};

/// A 20888 stream that keeps the pushes a test has not asked for yet.
struct Pushes {
    client: Client,
    seen: Vec<Push>,
}

impl Pushes {
    async fn find<T>(&mut self, what: &str, pick: impl Fn(&Push) -> Option<T>) -> T {
        if let Some(at) = self.seen.iter().position(|push| pick(push).is_some()) {
            let push = self.seen.remove(at);
            return pick(&push).expect("picked just now");
        }
        loop {
            let payload = self
                .client
                .next_payload(WAIT)
                .await
                .unwrap_or_else(|| panic!("no push in time: {what}"));
            let push: Push = serde_json::from_str(&payload).expect("a push");
            match pick(&push) {
                Some(found) => return found,
                None => self.seen.push(push),
            }
        }
    }

    /// The next `meeting` push of `id` listing exactly `participants`.
    async fn meeting_with(&mut self, id: &MeetingId, participants: &[&str]) {
        let want: Vec<UserId> = participants.iter().map(|u| user(u)).collect();
        self.find(
            &format!("meeting {id} with {participants:?}"),
            |push| match push {
                Push::Meeting { meeting }
                    if &meeting.meeting == id && meeting.participants == want =>
                {
                    Some(())
                }
                _ => None,
            },
        )
        .await;
    }

    async fn meeting_ended(&mut self, id: &MeetingId) -> MeetingEndReason {
        self.find("meeting_ended", |push| match push {
            Push::MeetingEnded { meeting_ended } if &meeting_ended.meeting == id => {
                Some(meeting_ended.reason)
            }
            _ => None,
        })
        .await
    }

    /// The stored notice of `kind` about meeting `id`.
    async fn notice(&mut self, kind: MessageType, id: &MeetingId) -> Message {
        self.find("a meeting notice", |push| match push {
            Push::Message(message)
                if message.kind == kind && message.content.contains(id.as_str()) =>
            {
                Some((**message).clone())
            }
            _ => None,
        })
        .await
    }
}

/// What the socket task waits for: a reply for the test, or the answer it
/// sent to a server offer itself.
enum Slot {
    Test(oneshot::Sender<String>),
    Auto,
}

/// A 24888 socket driven by a task: the test's requests go out in order and
/// get their replies; the server's offers are answered by the attached
/// scripted client; every signal is kept for the test.
struct Signalling {
    requests: mpsc::UnboundedSender<(String, oneshot::Sender<String>)>,
    signals: mpsc::UnboundedReceiver<String>,
    media: Arc<Mutex<Option<Arc<ScriptedClient>>>>,
    task: JoinHandle<()>,
    kept: VecDeque<String>,
}

impl Signalling {
    async fn open(server: &RunningServer, token: &str) -> Signalling {
        let mut client = Client::connect(server, Service::CallSignalling, Some(token)).await;
        let (requests, mut requests_rx) =
            mpsc::unbounded_channel::<(String, oneshot::Sender<String>)>();
        let (signals_tx, signals) = mpsc::unbounded_channel();
        let media: Arc<Mutex<Option<Arc<ScriptedClient>>>> = Arc::default();
        let attached = media.clone();
        let task = tokio::spawn(async move {
            let mut slots: VecDeque<Slot> = VecDeque::new();
            loop {
                tokio::select! {
                    request = requests_rx.recv() => {
                        let Some((json, reply)) = request else { return };
                        client.send_text(&penpen_core::Frame::encode_payload(penpen_core::Encoding::Base64, &json).expect("a frame")).await;
                        slots.push_back(Slot::Test(reply));
                    }
                    payload = client.next_payload(Duration::from_secs(3600)) => {
                        let Some(payload) = payload else { return };
                        if !payload.starts_with("{\"signal\"") {
                            match slots.pop_front() {
                                Some(Slot::Test(reply)) => { let _ = reply.send(payload); }
                                // 36: the meeting ended (or the place moved) while the offer was answered.
                                Some(Slot::Auto) => assert!(
                                    payload.contains("\"state\":11") || payload.contains("\"state\":36"),
                                    "an answer was refused: {payload}"
                                ),
                                None => panic!("a reply nobody asked for: {payload}"),
                            }
                            continue;
                        }
                        if let Ok(signal) = serde_json::from_str::<MeetingSignal>(&payload)
                            && let MeetingSignalEvent::Offer { sdp, .. } = &signal.signal.event
                        {
                            let client_media = attached.lock().expect("the test works").clone();
                            if let Some(media) = client_media {
                                let sdp = media.answer_offer(sdp).expect("the client answers");
                                let answer = MeetingRequest::Answer { meeting: signal.signal.meeting.clone(), sdp };
                                client.send(&answer).await;
                                slots.push_back(Slot::Auto);
                            }
                        }
                        let _ = signals_tx.send(payload);
                    }
                }
            }
        });
        Signalling {
            requests,
            signals,
            media,
            task,
            kept: VecDeque::new(),
        }
    }

    /// Sends `request` and returns its reply's payload.
    async fn ask<T: Serialize>(&self, request: &T) -> String {
        let (reply, answer) = oneshot::channel();
        let json = serde_json::to_string(request).expect("encodes");
        self.requests
            .send((json, reply))
            .expect("the socket task runs");
        tokio::time::timeout(WAIT, answer)
            .await
            .expect("a reply in time")
            .expect("the socket stays open")
    }

    async fn done<T: Serialize>(&self, request: &T) -> Result<(), ErrorReply> {
        decode_reply::<Done>(&self.ask(request).await).map(|_| ())
    }

    /// The next signal `pick` takes (others are kept).
    async fn find<T>(&mut self, what: &str, pick: impl Fn(&str) -> Option<T>) -> T {
        if let Some(at) = self.kept.iter().position(|s| pick(s).is_some()) {
            let signal = self.kept.remove(at).expect("found just now");
            return pick(&signal).expect("picked just now");
        }
        loop {
            let signal = tokio::time::timeout(WAIT, self.signals.recv())
                .await
                .unwrap_or_else(|_| panic!("no signal in time: {what}"))
                .unwrap_or_else(|| panic!("the socket closed waiting for {what}"));
            match pick(&signal) {
                Some(found) => return found,
                None => self.kept.push_back(signal),
            }
        }
    }

    async fn ended(&mut self) -> MeetingEndReason {
        self.find("a meeting's end", |s| {
            match serde_json::from_str::<MeetingSignal>(s).ok()?.signal.event {
                MeetingSignalEvent::Ended(reason) => Some(reason),
                _ => None,
            }
        })
        .await
    }

    async fn call_event(&mut self) -> SignalEvent {
        self.find("a call signal", |s| {
            serde_json::from_str::<CallSignal>(s)
                .ok()
                .map(|c| c.signal.event)
        })
        .await
    }

    /// Whether no `ended` signal came (a short look).
    async fn hears_no_end(&mut self) -> bool {
        while let Ok(Some(signal)) =
            tokio::time::timeout(Duration::from_millis(300), self.signals.recv()).await
        {
            self.kept.push_back(signal);
        }
        !self.kept.iter().any(|s| s.contains("\"event\":\"ended\""))
    }
}

impl Drop for Signalling {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A logged-in member: the 20888 stream and a 24888 socket.
struct Member {
    token: String,
    stream: Pushes,
    sig: Signalling,
    media: Option<Arc<ScriptedClient>>,
}

async fn member(server: &RunningServer, account: &str) -> Member {
    let (stream, reply) = log_in(server, account).await;
    let sig = Signalling::open(server, &reply.token).await;
    Member {
        token: reply.token,
        stream: Pushes {
            client: stream,
            seen: Vec::new(),
        },
        sig,
        media: None,
    }
}

impl Member {
    async fn start(&self, gid: GroupId) -> Result<MeetingId, ErrorReply> {
        let payload = self.sig.ask(&MeetingRequest::Start(gid)).await;
        decode_reply::<MeetingStartReply>(&payload).map(|r| r.meeting)
    }

    /// Joins `id` with a scripted client publishing `plan`.
    async fn join(
        &mut self,
        id: &MeetingId,
        plan: MediaPlan,
    ) -> Result<MeetingJoinReply, ErrorReply> {
        let (client, offer) = ScriptedClient::start(LOCALHOST, plan)
            .await
            .expect("a client socket");
        let client = Arc::new(client);
        *self.sig.media.lock().expect("the test works") = Some(client.clone());
        let request = MeetingRequest::Join {
            meeting: id.clone(),
            sdp: offer,
            mic: true,
            camera: plan.video_fps > 0,
        };
        let reply = decode_reply::<MeetingJoinReply>(&self.sig.ask(&request).await)?;
        client
            .accept_answer(&reply.sdp)
            .expect("the client takes the answer");
        self.media = Some(client);
        Ok(reply)
    }

    fn client(&self) -> &ScriptedClient {
        self.media.as_deref().expect("joined with media")
    }
}

/// ZHANG creates a group of ZHANG (holder), LIU and WU; WANG and LI are not in it.
async fn group(server: &RunningServer, zhang: &Member) -> GroupId {
    let mut create = Client::connect(server, Service::GroupCreate, Some(&zhang.token)).await;
    let created: GroupCreated = create
        .request(&GroupCreate {
            holder: user(ZHANG),
            name: "会议组".into(),
            member: Members(vec![user(LIU), user(WU)]),
        })
        .await
        .expect("the group is created");
    created.gid
}

fn users(list: &[penpen_core::packets::meeting::Participant]) -> Vec<String> {
    list.iter().map(|p| p.user.as_str().to_owned()).collect()
}

#[tokio::test]
async fn three_members_meet_and_media_follows_leaves_and_late_joins() {
    let (server, _data) = start_configured(|_| {}).await;
    let mut zhang = member(&server, ZHANG).await;
    let mut liu = member(&server, LIU).await;
    let mut wu = member(&server, WU).await;
    let gid = group(&server, &zhang).await;
    let id = zhang.start(gid).await.expect("started");
    assert_eq!(liu.start(gid).await.expect("the running one"), id);
    for m in [&mut zhang, &mut liu, &mut wu] {
        m.stream.meeting_with(&id, &[]).await;
        let started = m.stream.notice(MessageType::MeetingStarted, &id).await;
        assert_eq!(
            (started.from.clone(), started.to.clone()),
            (Sender::System, Peer::Group(gid))
        );
        let notice: MeetingStartedNotice =
            serde_json::from_str(&started.content).expect("a notice");
        assert_eq!(notice.by, user(ZHANG));
    }
    let reply = zhang
        .join(&id, MediaPlan::SMALL_VIDEO)
        .await
        .expect("joined");
    assert_eq!(users(&reply.participants), [ZHANG]);
    liu.join(&id, MediaPlan::SMALL_VIDEO).await.expect("joined");
    let reply = wu.join(&id, MediaPlan::SMALL_VIDEO).await.expect("joined");
    assert_eq!(users(&reply.participants), [ZHANG, LIU, WU]);
    liu.stream.meeting_with(&id, &[ZHANG, LIU, WU]).await;
    wait_for("everyone hears the other two", || {
        hears(zhang.client(), &[LIU, WU], 10)
            && hears(liu.client(), &[ZHANG, WU], 10)
            && hears(wu.client(), &[ZHANG, LIU], 10)
    })
    .await;
    for m in [&zhang, &liu, &wu] {
        let received = m.client().received();
        assert_eq!(received.len(), 2, "only the other two: {received:?}");
    }
    // A microphone turned off reaches the others as `participants`, not the group.
    zhang
        .sig
        .done(&MeetingRequest::Media {
            meeting: id.clone(),
            mic: false,
            camera: true,
        })
        .await
        .expect("media");
    let list = liu
        .sig
        .find("participants", |s| {
            match serde_json::from_str::<MeetingSignal>(s).ok()?.signal.event {
                MeetingSignalEvent::Participants(list) => Some(list),
                _ => None,
            }
        })
        .await;
    assert_eq!(users(&list), [ZHANG, LIU, WU]);
    assert!(!list[0].mic && list[0].camera);

    // WU leaves: the others renegotiate without WU's tracks, and the group sees it.
    wu.sig
        .done(&MeetingRequest::Leave(id.clone()))
        .await
        .expect("left");
    wait_for("the others no longer receive WU", || {
        zhang.client().viewed_senders() == [LIU] && liu.client().viewed_senders() == [ZHANG]
    })
    .await;
    zhang.stream.meeting_with(&id, &[ZHANG, LIU]).await;
    assert!(wu.sig.hears_no_end().await, "the leaver has its reply only");

    // A late joiner gets the others' video (a keyframe asked of them) at once.
    let requests = zhang.client().keyframe_requests();
    wu.join(&id, MediaPlan::SMALL_VIDEO)
        .await
        .expect("joined again");
    wait_for("the late joiner receives video", || {
        hears(wu.client(), &[ZHANG, LIU], 1)
    })
    .await;
    wait_for("a keyframe was asked of ZHANG", || {
        zhang.client().keyframe_requests() > requests
    })
    .await;

    // LIU may not end it (neither starter nor holder... ZHANG is both); ZHANG does.
    let refused = liu
        .sig
        .done(&MeetingRequest::End(id.clone()))
        .await
        .expect_err("not the starter or holder");
    assert_eq!(refused.state, State::FORBIDDEN);
    zhang
        .sig
        .done(&MeetingRequest::End(id.clone()))
        .await
        .expect("ended");
    assert_eq!(liu.sig.ended().await, MeetingEndReason::Ended);
    assert_eq!(wu.sig.ended().await, MeetingEndReason::Ended);
    for m in [&mut zhang, &mut liu, &mut wu] {
        assert_eq!(m.stream.meeting_ended(&id).await, MeetingEndReason::Ended);
        let ended = m.stream.notice(MessageType::MeetingEnded, &id).await;
        let notice: MeetingEndedNotice = serde_json::from_str(&ended.content).expect("a notice");
        assert_eq!(notice.by, Some(user(ZHANG)));
        assert_eq!(notice.participants, [user(ZHANG), user(LIU), user(WU)]);
    }
    // Both notices are in the group's history (catch-up on 50888).
    let mut sync = Client::connect(&server, Service::SyncMessages, Some(&liu.token)).await;
    let page: MessagePage = sync
        .request(&CatchUp {
            since: Seq(0),
            limit: None,
        })
        .await
        .expect("a page");
    let kinds: Vec<MessageType> = page
        .messages
        .iter()
        .filter(|m| m.to == Peer::Group(gid) && m.content.contains(id.as_str()))
        .map(|m| m.kind)
        .collect();
    assert_eq!(
        kinds,
        [MessageType::MeetingStarted, MessageType::MeetingEnded]
    );
    // Over: nothing more may be done with it.
    let gone = zhang
        .sig
        .done(&MeetingRequest::Leave(id.clone()))
        .await
        .expect_err("over");
    assert_eq!(gone.state, State::CALL_GONE);
    server.shutdown().await;
}

#[tokio::test]
async fn starts_and_joins_are_refused_by_the_rules() {
    let (server, _data) = start_configured(|config| {
        config.media.max_per_room = 2;
        config.auth.meeting_starts = 2;
    })
    .await;
    let mut zhang = member(&server, ZHANG).await;
    let mut liu = member(&server, LIU).await;
    let mut wu = member(&server, WU).await;
    let mut wang = member(&server, WANG).await;
    let gid = group(&server, &zhang).await;
    let refused = wang.start(gid).await.expect_err("not a member");
    assert_eq!(refused.state, State::NOT_A_MEMBER);
    let refused = zhang
        .start(GroupId::new(999_999).expect("gid"))
        .await
        .expect_err("no such group");
    assert_eq!(refused.state, State::UNKNOWN_GROUP);
    let id = liu.start(gid).await.expect("started");
    let refused = wang.join(&id, QUIET).await.expect_err("not a member");
    assert_eq!(refused.state, State::NOT_A_MEMBER);
    let nowhere = MeetingId::parse("meet-nothing").expect("an id");
    let refused = zhang
        .join(&nowhere, QUIET)
        .await
        .expect_err("no such meeting");
    assert_eq!(refused.state, State::CALL_GONE);
    let bad = MeetingRequest::Join {
        meeting: id.clone(),
        sdp: "v=0\r\nthis is no offer".into(),
        mic: true,
        camera: false,
    };
    assert_eq!(
        zhang.sig.done(&bad).await.expect_err("no sdp").state,
        State::BAD_PACKET
    );
    // Requests of a participant from a socket that does not carry them.
    for request in [
        MeetingRequest::Media {
            meeting: id.clone(),
            mic: false,
            camera: false,
        },
        MeetingRequest::Leave(id.clone()),
        MeetingRequest::Answer {
            meeting: id.clone(),
            sdp: "v=0\r\n".into(),
        },
    ] {
        let refused = zhang.sig.done(&request).await.expect_err("not in it");
        assert_eq!(refused.state, State::CALL_GONE, "{request:?}");
    }
    zhang.join(&id, QUIET).await.expect("joined");
    liu.join(&id, QUIET).await.expect("joined");
    let refused = wu.join(&id, QUIET).await.expect_err("full");
    assert_eq!(refused.state, State::MEETING_FULL);
    // No offer waits: an answer is refused.
    let refused = zhang
        .sig
        .done(&MeetingRequest::Answer {
            meeting: id.clone(),
            sdp: "v=0\r\n".into(),
        })
        .await
        .expect_err("no offer waits");
    assert_eq!(refused.state, State::CALL_GONE);
    // The holder (ZHANG) may end LIU's meeting; WU may not.
    let refused = wu
        .sig
        .done(&MeetingRequest::End(id.clone()))
        .await
        .expect_err("neither");
    assert_eq!(refused.state, State::FORBIDDEN);
    zhang
        .sig
        .done(&MeetingRequest::End(id.clone()))
        .await
        .expect("the holder ends it");
    assert_eq!(liu.sig.ended().await, MeetingEndReason::Ended);
    // Two starts a minute in this server: LIU started one, ZHANG may once more.
    let second = zhang.start(gid).await.expect("a second start");
    zhang
        .sig
        .done(&MeetingRequest::End(second))
        .await
        .expect("the starter ends it");
    zhang.start(gid).await.expect("ZHANG's second");
    server.shutdown().await;
    let _ = wang;
}

#[tokio::test]
async fn starts_are_limited_per_user() {
    let (server, _data) = start_configured(|config| config.auth.meeting_starts = 2).await;
    let zhang = member(&server, ZHANG).await;
    let gid = group(&server, &zhang).await;
    for _ in 0..2 {
        let id = zhang.start(gid).await.expect("started");
        zhang
            .sig
            .done(&MeetingRequest::End(id))
            .await
            .expect("ended");
    }
    let refused = zhang
        .start(gid)
        .await
        .expect_err("a third within the minute");
    assert_eq!(refused.state, State::RATE_LIMITED);
    server.shutdown().await;
}

#[tokio::test]
async fn meetings_and_calls_keep_each_other_busy() {
    let (server, _data) = start_configured(|_| {}).await;
    let mut zhang = member(&server, ZHANG).await;
    let mut liu = member(&server, LIU).await;
    let li = member(&server, LI).await;
    let gid = group(&server, &zhang).await;
    let id = zhang.start(gid).await.expect("started");
    zhang.join(&id, QUIET).await.expect("joined");
    let invite = |call: &str, to: &str| CallRequest::Invite {
        call: CallId::parse(call).expect("a call id"),
        to: user(to),
        media: Media::Audio,
        sdp: "v=0\r\n".into(),
    };
    // In a meeting: no calling out…
    let refused = zhang
        .sig
        .done(&invite("call-a", LI))
        .await
        .expect_err("in a meeting");
    assert_eq!(refused.state, State::IN_ANOTHER_CALL);
    // …and a call to them ends busy at once.
    let mut li = li;
    li.sig
        .done(&invite("call-b", ZHANG))
        .await
        .expect("answered");
    assert_eq!(
        li.sig.call_event().await,
        SignalEvent::Ended {
            reason: EndReason::Busy,
            duration: None
        }
    );
    // A party of a call (ringing) cannot join.
    li.sig.done(&invite("call-c", LIU)).await.expect("rings");
    let refused = liu.join(&id, QUIET).await.expect_err("in a call");
    assert_eq!(refused.state, State::IN_ANOTHER_CALL);
    li.sig
        .done(&CallRequest::Cancel(CallId::parse("call-c").expect("id")))
        .await
        .expect("cancelled");
    liu.join(&id, QUIET).await.expect("free now");
    server.shutdown().await;
}

#[tokio::test]
async fn a_meeting_ends_empty_after_the_last_leaves_or_when_nobody_comes() {
    let (server, _data) = start_configured(|config| {
        config.meetings.first_join_grace = Duration::from_secs(1);
    })
    .await;
    let mut zhang = member(&server, ZHANG).await;
    let mut liu = member(&server, LIU).await;
    let gid = group(&server, &zhang).await;
    // Nobody joins within the (short) grace.
    let id = zhang.start(gid).await.expect("started");
    assert_eq!(liu.stream.meeting_ended(&id).await, MeetingEndReason::Empty);
    let ended = liu.stream.notice(MessageType::MeetingEnded, &id).await;
    let notice: MeetingEndedNotice = serde_json::from_str(&ended.content).expect("a notice");
    assert_eq!((notice.by, notice.participants), (None, vec![]));
    // Seconds from the start: the 1 s grace, on however busy a machine.
    assert!((1..30).contains(&notice.duration), "{}", notice.duration);
    // The last one out.
    let id = zhang.start(gid).await.expect("started again");
    liu.join(&id, QUIET).await.expect("joined");
    zhang.join(&id, QUIET).await.expect("joined");
    liu.sig
        .done(&MeetingRequest::Leave(id.clone()))
        .await
        .expect("left");
    zhang
        .sig
        .done(&MeetingRequest::Leave(id.clone()))
        .await
        .expect("left");
    assert_eq!(liu.stream.meeting_ended(&id).await, MeetingEndReason::Empty);
    let ended = liu.stream.notice(MessageType::MeetingEnded, &id).await;
    let notice: MeetingEndedNotice = serde_json::from_str(&ended.content).expect("a notice");
    assert_eq!(notice.by, None);
    assert_eq!(notice.participants, [user(LIU), user(ZHANG)]);
    server.shutdown().await;
}

#[tokio::test]
async fn a_participant_whose_socket_is_gone_is_lost_after_the_grace() {
    let (server, _data) = start_configured(|config| {
        config.calls.rejoin_grace = Duration::from_secs(1);
    })
    .await;
    let mut zhang = member(&server, ZHANG).await;
    let mut liu = member(&server, LIU).await;
    let gid = group(&server, &zhang).await;
    let id = zhang.start(gid).await.expect("started");
    zhang
        .join(&id, MediaPlan::SMALL_VIDEO)
        .await
        .expect("joined");
    liu.join(&id, MediaPlan::SMALL_VIDEO).await.expect("joined");
    wait_for("ZHANG hears LIU", || hears(zhang.client(), &[LIU], 5)).await;
    // LIU's 24888 socket goes; the media connection alone does not keep the place.
    let replaced = Signalling::open(&server, &liu.token).await;
    drop(std::mem::replace(&mut liu.sig, replaced));
    zhang.stream.meeting_with(&id, &[ZHANG]).await;
    wait_for("ZHANG no longer receives LIU", || {
        zhang.client().viewed_senders().is_empty()
    })
    .await;
    drop(liu.media.take());
    // A leave from the new socket finds nothing to leave.
    let refused = liu
        .sig
        .done(&MeetingRequest::Leave(id.clone()))
        .await
        .expect_err("lost");
    assert_eq!(refused.state, State::CALL_GONE);
    server.shutdown().await;
}

#[tokio::test]
async fn a_join_from_another_socket_takes_the_place_over() {
    let (server, _data) = start_configured(|_| {}).await;
    let mut zhang = member(&server, ZHANG).await;
    let mut liu = member(&server, LIU).await;
    let gid = group(&server, &zhang).await;
    let id = zhang.start(gid).await.expect("started");
    zhang
        .join(&id, MediaPlan::SMALL_VIDEO)
        .await
        .expect("joined");
    liu.join(&id, MediaPlan::SMALL_VIDEO).await.expect("joined");
    wait_for("LIU hears ZHANG", || hears(liu.client(), &[ZHANG], 5)).await;
    // ZHANG again, from a second device.
    let mut second = member(&server, ZHANG).await;
    let reply = second
        .join(&id, MediaPlan::SMALL_VIDEO)
        .await
        .expect("joined again");
    assert_eq!(
        users(&reply.participants),
        [ZHANG, LIU],
        "the place is kept"
    );
    assert_eq!(zhang.sig.ended().await, MeetingEndReason::JoinedElsewhere);
    wait_for("the new connection hears LIU", || {
        hears(second.client(), &[LIU], 5)
    })
    .await;
    let from_zhang = liu.client().received()[ZHANG].video;
    wait_for("LIU hears ZHANG's new connection", || {
        liu.client().received()[ZHANG].video >= from_zhang + 10
    })
    .await;
    // The old socket no longer carries it.
    let refused = zhang
        .sig
        .done(&MeetingRequest::Leave(id.clone()))
        .await
        .expect_err("not this socket");
    assert_eq!(refused.state, State::CALL_GONE);
    server.shutdown().await;
}

#[tokio::test]
async fn group_changes_reach_the_meeting_and_a_new_session_sees_it() {
    let (server, _data) = start_configured(|_| {}).await;
    let mut zhang = member(&server, ZHANG).await;
    let mut liu = member(&server, LIU).await;
    let mut wu = member(&server, WU).await;
    let mut wang = member(&server, WANG).await;
    let gid = group(&server, &zhang).await;
    let id = zhang.start(gid).await.expect("started");
    zhang.join(&id, QUIET).await.expect("joined");
    liu.join(&id, QUIET).await.expect("joined");
    wu.join(&id, QUIET).await.expect("joined");
    // A session that logs in now is shown the running meeting.
    let (again, _) = log_in(&server, LIU).await;
    let mut again = Pushes {
        client: again,
        seen: Vec::new(),
    };
    again.meeting_with(&id, &[ZHANG, LIU, WU]).await;
    // WANG is added: pushed the meeting.
    let mut members = Client::connect(&server, Service::GroupMembers, Some(&zhang.token)).await;
    let change = |action, who: &[&str]| GroupMembersChange {
        gid,
        action,
        member: Members(who.iter().map(|u| user(u)).collect()),
    };
    let _: GroupUpdated = members
        .request(&change(MembersAction::Add, &[WANG]))
        .await
        .expect("added");
    wang.stream.meeting_with(&id, &[ZHANG, LIU, WU]).await;
    // LIU is removed by the holder: out of the meeting, told on both sides.
    let _: GroupUpdated = members
        .request(&change(MembersAction::Remove, &[LIU]))
        .await
        .expect("removed");
    assert_eq!(liu.sig.ended().await, MeetingEndReason::Removed);
    assert_eq!(
        liu.stream.meeting_ended(&id).await,
        MeetingEndReason::Removed
    );
    zhang.stream.meeting_with(&id, &[ZHANG, WU]).await;
    // WU leaves the group: out of the meeting too.
    let mut wu_members = Client::connect(&server, Service::GroupMembers, Some(&wu.token)).await;
    let _: GroupUpdated = wu_members
        .request(&change(MembersAction::Leave, &[]))
        .await
        .expect("left");
    assert_eq!(wu.sig.ended().await, MeetingEndReason::Removed);
    zhang.stream.meeting_with(&id, &[ZHANG]).await;
    // The removed may not join again.
    let refused = liu
        .join(&id, QUIET)
        .await
        .expect_err("not a member any more");
    assert_eq!(refused.state, State::NOT_A_MEMBER);
    server.shutdown().await;
}

#[tokio::test]
async fn a_participant_whose_media_goes_silent_is_lost() {
    let (server, _data) = start_configured(|config| {
        config.media.lost_after = Duration::from_secs(2);
    })
    .await;
    let mut zhang = member(&server, ZHANG).await;
    let mut liu = member(&server, LIU).await;
    let gid = group(&server, &zhang).await;
    let id = zhang.start(gid).await.expect("started");
    zhang
        .join(&id, MediaPlan::SMALL_VIDEO)
        .await
        .expect("joined");
    liu.join(&id, MediaPlan::SMALL_VIDEO).await.expect("joined");
    wait_for("ZHANG hears LIU", || hears(zhang.client(), &[LIU], 5)).await;
    // LIU's media stops (the client is gone); the signalling socket stays.
    *liu.sig.media.lock().expect("the test works") = None;
    drop(liu.media.take());
    assert_eq!(liu.sig.ended().await, MeetingEndReason::Lost);
    zhang.stream.meeting_with(&id, &[ZHANG]).await;
    // Back: a new join (a new connection) takes a place again.
    let reply = liu.join(&id, MediaPlan::SMALL_VIDEO).await.expect("back");
    assert_eq!(users(&reply.participants), [ZHANG, LIU]);
    wait_for("ZHANG hears LIU again", || {
        zhang.client().viewed_senders() == [LIU]
    })
    .await;
    server.shutdown().await;
}
