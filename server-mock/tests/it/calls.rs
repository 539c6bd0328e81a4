//! 24888, call signalling (§12), over real sockets: the relay between the
//! two parties, the refusals, every device ringing, the server's timers, and
//! the call records in both people's history.

use crate::common::{Client, LI, LIU, WANG, ZHANG, decode_reply, log_in, start_configured, user};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use penpen_core::packets::Done;
use penpen_core::packets::call::{
    CallEnded, CallInvitation, CallOutcome, CallRecord, CallRequest, CallSignal, EndReason,
    IceCandidate, IceServersReply, IceTransportPolicy, MAX_CANDIDATES_PER_CALL, MAX_SDP_BYTES,
    Media, SignalEvent,
};
use penpen_core::packets::login::Push;
use penpen_core::packets::message::{Message, MessageType};
use penpen_core::packets::sync::{CatchUp, MessagePage};
use penpen_core::{CallId, ErrorReply, Seq, Service, State};
use penpen_server_mock::calls::ice::{IceConfigError, TurnSecret};
use penpen_server_mock::{PortPlan, RunningServer, ServerConfig, StartError};
use std::collections::VecDeque;
use std::time::Duration;

/// Generous: the machine may be busy.
const WAIT: Duration = Duration::from_secs(20);
const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n";
const ANSWER: &str = "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n";

fn call_id(name: &str) -> CallId {
    CallId::parse(name).expect("a valid call id")
}

fn candidate(text: &str) -> IceCandidate {
    IceCandidate {
        candidate: text.to_owned(),
        sdp_mid: Some("0".into()),
        sdp_mline_index: Some(0),
    }
}

/// A logged-in device: its 20888 stream and its 24888 socket.
struct Device {
    token: String,
    stream: Pushes,
    calls: Caller,
}

/// A 24888 socket that keeps the signals that arrive while it waits for a reply.
struct Caller {
    client: Client,
    signals: VecDeque<CallSignal>,
}

impl Caller {
    async fn open(server: &RunningServer, token: &str) -> Caller {
        Caller {
            client: Client::connect(server, Service::CallSignalling, Some(token)).await,
            signals: VecDeque::new(),
        }
    }

    /// Sends `request`; its reply, keeping signals read on the way.
    async fn ask(&mut self, request: &CallRequest) -> Result<(), ErrorReply> {
        self.client.send(request).await;
        loop {
            let payload = self.client.payload().await;
            if payload.starts_with("{\"signal\"") {
                self.signals
                    .push_back(serde_json::from_str(&payload).expect("a signal"));
            } else {
                return decode_reply::<Done>(&payload).map(|_| ());
            }
        }
    }

    async fn signal(&mut self) -> CallSignal {
        if let Some(signal) = self.signals.pop_front() {
            return signal;
        }
        let payload = self
            .client
            .next_payload(WAIT)
            .await
            .expect("a signal in time");
        serde_json::from_str(&payload).unwrap_or_else(|e| panic!("{payload} is no signal: {e}"))
    }

    async fn event(&mut self) -> SignalEvent {
        self.signal().await.signal.event
    }
}

async fn device(server: &RunningServer, account: &str) -> Device {
    let (stream, reply) = log_in(server, account).await;
    let calls = Caller::open(server, &reply.token).await;
    Device {
        token: reply.token,
        stream: Pushes {
            client: stream,
            seen: Vec::new(),
        },
        calls,
    }
}

/// A 20888 stream that keeps the pushes a test has not asked for yet, so
/// the order of pushes and messages (two queues on the server) does not matter.
struct Pushes {
    client: Client,
    seen: Vec<Push>,
}

impl Pushes {
    /// The first push `pick` takes, kept or still to come.
    async fn find<T>(&mut self, pick: impl Fn(&Push) -> Option<T>) -> T {
        if let Some(at) = self.seen.iter().position(|push| pick(push).is_some()) {
            let push = self.seen.remove(at);
            return pick(&push).expect("picked just now");
        }
        loop {
            let payload = self
                .client
                .next_payload(WAIT)
                .await
                .expect("a push in time");
            let push: Push = serde_json::from_str(&payload).expect("a push");
            match pick(&push) {
                Some(found) => return found,
                None => self.seen.push(push),
            }
        }
    }

    async fn invitation(&mut self) -> CallInvitation {
        self.find(|push| match push {
            Push::Call { call } => Some((**call).clone()),
            _ => None,
        })
        .await
    }

    async fn call_ended(&mut self) -> CallEnded {
        self.find(|push| match push {
            Push::CallEnded { call_ended } => Some(call_ended.clone()),
            _ => None,
        })
        .await
    }

    /// The record of call `id`, and the message carrying it.
    async fn record(&mut self, id: &CallId) -> (Message, CallRecord) {
        self.find(|push| match push {
            Push::Message(message) if message.kind == MessageType::Call => {
                let record: CallRecord =
                    serde_json::from_str(&message.content).expect("a call record");
                (&record.call == id).then(|| ((**message).clone(), record))
            }
            _ => None,
        })
        .await
    }
}

fn accept(call: &CallId) -> CallRequest {
    CallRequest::Accept {
        call: call.clone(),
        sdp: ANSWER.into(),
    }
}

/// `caller` calls `callee`'s user, who accepts on `callee`.
async fn answered_call(caller: &mut Caller, callee: &mut Caller, id: &CallId, to: &str) {
    caller
        .ask(&invite(id, to, Media::Video))
        .await
        .expect("invited");
    callee.ask(&accept(id)).await.expect("accepted");
    assert_eq!(
        caller.event().await,
        SignalEvent::Accepted { sdp: ANSWER.into() }
    );
}

/// `from` sends the candidate `line` for call `id`; `to` gets it relayed.
async fn relays_candidate(from: &mut Caller, to: &mut Caller, id: &CallId, line: &str) {
    from.ask(&CallRequest::Candidate {
        call: id.clone(),
        candidate: candidate(line),
    })
    .await
    .expect("relayed");
    assert_eq!(to.event().await, SignalEvent::Candidate(candidate(line)));
}

fn invite(call: &CallId, to: &str, media: Media) -> CallRequest {
    CallRequest::Invite {
        call: call.clone(),
        to: user(to),
        media,
        sdp: OFFER.into(),
    }
}

fn ended(event: SignalEvent) -> (EndReason, Option<u32>) {
    match event {
        SignalEvent::Ended { reason, duration } => (reason, duration),
        other => panic!("expected ended, got {other:?}"),
    }
}

#[tokio::test]
async fn a_call_is_relayed_between_the_parties_and_stored_for_both() {
    let (server, _data) = start_configured(|_| {}).await;
    let mut wang = device(&server, WANG).await;
    let mut li = device(&server, LI).await;
    let id = call_id("call-relay");

    wang.calls
        .ask(&invite(&id, LI, Media::Video))
        .await
        .expect("invited");
    let rung = li.stream.invitation().await;
    assert_eq!(
        (rung.call.clone(), rung.from.clone()),
        (id.clone(), user(WANG))
    );
    assert_eq!((rung.media, rung.sdp.as_str()), (Media::Video, OFFER));

    li.calls
        .ask(&CallRequest::Ringing(id.clone()))
        .await
        .expect("rings");
    assert_eq!(wang.calls.event().await, SignalEvent::Ringing);
    // Said once: a second device's ringing is not relayed again.
    li.calls
        .ask(&CallRequest::Ringing(id.clone()))
        .await
        .expect("rings");

    // Before the accept, the caller's candidates wait on the server.
    let early = CallRequest::Candidate {
        call: id.clone(),
        candidate: candidate("candidate:early"),
    };
    wang.calls.ask(&early).await.expect("kept");
    li.calls.ask(&accept(&id)).await.expect("accepted");
    assert_eq!(
        wang.calls.event().await,
        SignalEvent::Accepted { sdp: ANSWER.into() },
        "the caller hears the accept first, not a ringing again"
    );
    assert_eq!(
        li.calls.event().await,
        SignalEvent::Candidate(candidate("candidate:early"))
    );

    relays_candidate(&mut li.calls, &mut wang.calls, &id, "candidate:callee").await;
    wang.calls
        .ask(&CallRequest::Offer {
            call: id.clone(),
            sdp: OFFER.into(),
        })
        .await
        .expect("relayed");
    assert_eq!(
        li.calls.event().await,
        SignalEvent::Offer { sdp: OFFER.into() }
    );
    li.calls
        .ask(&CallRequest::Answer {
            call: id.clone(),
            sdp: ANSWER.into(),
        })
        .await
        .expect("relayed");
    assert_eq!(
        wang.calls.event().await,
        SignalEvent::Answer { sdp: ANSWER.into() }
    );

    wang.calls
        .ask(&CallRequest::Hangup(id.clone()))
        .await
        .expect("hung up");
    let (reason, duration) = ended(li.calls.event().await);
    assert_eq!(reason, EndReason::Hangup);
    assert!(duration.is_some_and(|d| d < 60), "{duration:?}");
    assert_eq!(
        li.calls
            .ask(&CallRequest::Hangup(id.clone()))
            .await
            .map_err(|e| e.state),
        Err(State::CALL_GONE)
    );

    // One record, from the caller to the callee, in both inboxes.
    let (sent, ours) = wang.stream.record(&id).await;
    let (received, theirs) = li.stream.record(&id).await;
    assert_eq!(sent.id, received.id);
    assert_eq!(ours, theirs);
    assert_eq!(
        (ours.call.clone(), ours.media, ours.outcome),
        (id.clone(), Media::Video, CallOutcome::Answered)
    );
    assert_eq!(ours.duration, duration);
    assert_eq!(sent.from.user(), Some(&user(WANG)));

    // Catch-up on 50888 finds it too.
    let mut sync = Client::connect(&server, Service::SyncMessages, Some(&li.token)).await;
    let page: MessagePage = sync
        .request(&CatchUp {
            since: Seq(0),
            limit: None,
        })
        .await
        .expect("a page");
    let found: Vec<&Message> = page
        .messages
        .iter()
        .filter(|m| m.kind == MessageType::Call)
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, received.id);
    assert_eq!(found[0].seq, received.seq);
    server.shutdown().await;
}

#[tokio::test]
async fn invites_are_refused_or_end_busy_by_the_rules() {
    let (server, _data) = start_configured(|_| {}).await;
    let mut wang = device(&server, WANG).await;
    let mut li = device(&server, LI).await;
    let mut zhang = device(&server, ZHANG).await;
    let id = call_id("call-first");

    let refused = |result: Result<(), ErrorReply>| result.map_err(|e| e.state);
    let unknown = invite(&call_id("call-x"), "13899999999", Media::Audio);
    assert_eq!(
        refused(wang.calls.ask(&unknown).await),
        Err(State::UNKNOWN_USER)
    );
    let own = invite(&call_id("call-x"), WANG, Media::Audio);
    assert_eq!(refused(wang.calls.ask(&own).await), Err(State::FORBIDDEN));

    wang.calls
        .ask(&invite(&id, LI, Media::Audio))
        .await
        .expect("invited");
    li.stream.invitation().await;
    // The id is taken; the caller is in a call.
    assert_eq!(
        refused(zhang.calls.ask(&invite(&id, LIU, Media::Audio)).await),
        Err(State::BAD_PACKET)
    );
    assert_eq!(
        refused(
            wang.calls
                .ask(&invite(&call_id("call-y"), ZHANG, Media::Audio))
                .await
        ),
        Err(State::IN_ANOTHER_CALL)
    );

    // A callee in another call (ringing or not) ends the invite at once.
    let busy = call_id("call-busy");
    zhang
        .calls
        .ask(&invite(&busy, LI, Media::Video))
        .await
        .expect("answered");
    assert_eq!(ended(zhang.calls.event().await), (EndReason::Busy, None));
    let (message, busy_record) = zhang.stream.record(&busy).await;
    assert_eq!(message.to, penpen_core::Peer::User(user(LI)));
    assert_eq!(
        (busy_record.call, busy_record.outcome, busy_record.duration),
        (busy, CallOutcome::Busy, None)
    );

    // The callee answers busy from a device: the caller hears it.
    li.calls
        .ask(&CallRequest::Busy(id.clone()))
        .await
        .expect("busy");
    assert_eq!(ended(wang.calls.event().await), (EndReason::Busy, None));
    assert_eq!(
        li.stream.call_ended().await.reason,
        EndReason::Busy,
        "the callee's devices stop ringing"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn crossing_invitations_end_the_later_one_as_glare() {
    let (server, _data) = start_configured(|_| {}).await;
    let mut wang = device(&server, WANG).await;
    let mut li = device(&server, LI).await;
    let first = call_id("call-wang-to-li");
    let later = call_id("call-li-to-wang");

    wang.calls
        .ask(&invite(&first, LI, Media::Video))
        .await
        .expect("invited");
    li.calls
        .ask(&invite(&later, WANG, Media::Video))
        .await
        .expect("answered");
    assert_eq!(ended(li.calls.event().await), (EndReason::Glare, None));
    // The first call goes on: the callee accepts it instead.
    li.calls.ask(&accept(&first)).await.expect("accepted");
    assert_eq!(
        wang.calls.event().await,
        SignalEvent::Accepted { sdp: ANSWER.into() }
    );
    let (_, glare) = li.stream.record(&later).await;
    assert_eq!((glare.call, glare.outcome), (later, CallOutcome::Busy));
    server.shutdown().await;
}

#[tokio::test]
async fn every_device_rings_and_the_first_accept_wins() {
    let (server, _data) = start_configured(|_| {}).await;
    let mut wang = device(&server, WANG).await;
    let mut phone = device(&server, LI).await;
    let mut desk = device(&server, LI).await;
    let id = call_id("call-two-devices");

    wang.calls
        .ask(&invite(&id, LI, Media::Audio))
        .await
        .expect("invited");
    assert_eq!(phone.stream.invitation().await.call, id);
    assert_eq!(desk.stream.invitation().await.call, id);

    desk.calls
        .ask(&accept(&id))
        .await
        .expect("the first accept wins");
    let elsewhere = phone.stream.call_ended().await;
    assert_eq!(
        (elsewhere.call, elsewhere.reason),
        (id.clone(), EndReason::AnsweredElsewhere)
    );
    let late = phone.calls.ask(&accept(&id)).await;
    assert_eq!(late.map_err(|e| e.state), Err(State::CALL_GONE));
    assert_eq!(
        wang.calls.event().await,
        SignalEvent::Accepted { sdp: ANSWER.into() }
    );

    // The accepting device carries the call: the caller's candidates reach it.
    relays_candidate(&mut wang.calls, &mut desk.calls, &id, "candidate:to-desk").await;
    desk.calls
        .ask(&CallRequest::Hangup(id.clone()))
        .await
        .expect("hung up");
    assert_eq!(ended(wang.calls.event().await).0, EndReason::Hangup);
    let (_, answered) = desk.stream.record(&id).await;
    assert_eq!(answered.outcome, CallOutcome::Answered);
    // The device that took the call hears it too (a tab sharing its token
    // must stop ringing; §12: its machine ignores it while its accept is
    // on the way), and nothing else ended the call for it.
    let heard = desk.stream.call_ended().await;
    assert_eq!(
        (heard.call, heard.reason),
        (id.clone(), EndReason::AnsweredElsewhere)
    );
    assert!(
        !desk
            .stream
            .seen
            .iter()
            .any(|push| matches!(push, Push::CallEnded { .. })),
        "{:?}",
        desk.stream.seen
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_stranger_is_refused_and_nothing_reaches_the_parties() {
    let (server, _data) = start_configured(|_| {}).await;
    let mut wang = device(&server, WANG).await;
    let mut li = device(&server, LI).await;
    let mut zhang = device(&server, ZHANG).await;
    let id = call_id("call-private");

    wang.calls
        .ask(&invite(&id, LI, Media::Video))
        .await
        .expect("invited");
    let injected = CallRequest::Candidate {
        call: id.clone(),
        candidate: candidate("candidate:injected"),
    };
    for request in [
        injected,
        accept(&id),
        CallRequest::Cancel(id.clone()),
        CallRequest::Hangup(id.clone()),
        CallRequest::Rejoin(id.clone()),
    ] {
        let refusal = zhang.calls.ask(&request).await.expect_err("refused");
        assert_eq!(refusal.state, State::FORBIDDEN, "{}", refusal.error);
    }
    // The call is untouched: the accept goes through, and the only candidate
    // the callee gets is the caller's.
    li.calls.ask(&accept(&id)).await.expect("accepted");
    assert_eq!(
        wang.calls.event().await,
        SignalEvent::Accepted { sdp: ANSWER.into() }
    );
    relays_candidate(&mut wang.calls, &mut li.calls, &id, "candidate:wang").await;
    // The stranger's refusal of hangup ended nothing: the call still goes on.
    let refusal = zhang
        .calls
        .ask(&CallRequest::Hangup(id.clone()))
        .await
        .expect_err("refused");
    assert_eq!(refusal.state, State::FORBIDDEN);
    li.calls
        .ask(&CallRequest::Hangup(id.clone()))
        .await
        .expect("hung up");
    assert_eq!(ended(wang.calls.event().await).0, EndReason::Hangup);
    server.shutdown().await;
}

#[tokio::test]
async fn a_party_gone_past_the_grace_ends_the_call_as_lost() {
    let (server, _data) = start_configured(|config| {
        config.calls.rejoin_grace = Duration::from_millis(300);
    })
    .await;
    let mut wang = device(&server, WANG).await;
    let mut li = device(&server, LI).await;
    let id = call_id("call-lost");
    answered_call(&mut wang.calls, &mut li.calls, &id, LI).await;

    drop(li.calls);
    assert_eq!(ended(wang.calls.event().await).0, EndReason::Lost);
    let (_, lost) = li.stream.record(&id).await;
    assert_eq!((lost.call, lost.outcome), (id, CallOutcome::Answered));

    // Both gone: the call ends as well, and is stored.
    let both = call_id("call-both-gone");
    let mut li_calls = Caller::open(&server, &li.token).await;
    answered_call(&mut wang.calls, &mut li_calls, &both, LI).await;
    drop(li_calls);
    drop(wang.calls);
    let (_, record) = wang.stream.record(&both).await;
    assert_eq!((record.call, record.outcome), (both, CallOutcome::Answered));
    assert!(record.duration.is_some());
    server.shutdown().await;
}

#[tokio::test]
async fn a_rejoined_socket_carries_the_call_on() {
    let (server, _data) = start_configured(|_| {}).await;
    let mut wang = device(&server, WANG).await;
    let mut li = device(&server, LI).await;
    let id = call_id("call-rejoin");
    answered_call(&mut wang.calls, &mut li.calls, &id, LI).await;

    drop(li.calls);
    let mut again = Caller::open(&server, &li.token).await;
    again
        .ask(&CallRequest::Rejoin(id.clone()))
        .await
        .expect("rejoined");
    wang.calls
        .ask(&CallRequest::Offer {
            call: id.clone(),
            sdp: OFFER.into(),
        })
        .await
        .expect("relayed");
    assert_eq!(
        again.event().await,
        SignalEvent::Offer { sdp: OFFER.into() }
    );
    server.shutdown().await;
}

#[tokio::test]
async fn an_unanswered_call_times_out_and_is_missed() {
    let (server, _data) = start_configured(|config| {
        config.calls.ring_timeout = Duration::from_millis(300);
    })
    .await;
    let mut wang = device(&server, WANG).await;
    let mut li = device(&server, LI).await;
    let id = call_id("call-unanswered");
    wang.calls
        .ask(&invite(&id, LI, Media::Audio))
        .await
        .expect("invited");
    li.stream.invitation().await;

    assert_eq!(ended(wang.calls.event().await), (EndReason::Timeout, None));
    let stop = li.stream.call_ended().await;
    assert_eq!((stop.call, stop.reason), (id.clone(), EndReason::Timeout));
    let (_, missed) = li.stream.record(&id).await;
    assert_eq!(
        (missed.call, missed.outcome, missed.duration),
        (id, CallOutcome::Missed, None)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_device_that_logs_in_while_a_call_rings_rings_too() {
    let (server, _data) = start_configured(|_| {}).await;
    let mut wang = device(&server, WANG).await;
    let id = call_id("call-late-device");
    wang.calls
        .ask(&invite(&id, ZHANG, Media::Video))
        .await
        .expect("invited");

    let mut zhang = device(&server, ZHANG).await;
    let rung = zhang.stream.invitation().await;
    assert_eq!((rung.call, rung.from), (id.clone(), user(WANG)));

    wang.calls
        .ask(&CallRequest::Cancel(id.clone()))
        .await
        .expect("cancelled");
    let stop = zhang.stream.call_ended().await;
    assert_eq!((stop.call, stop.reason), (id.clone(), EndReason::Cancelled));
    let (_, missed) = zhang.stream.record(&id).await;
    assert_eq!(missed.outcome, CallOutcome::Missed);
    assert_eq!(
        zhang.calls.ask(&accept(&id)).await.map_err(|e| e.state),
        Err(State::CALL_GONE)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn ice_servers_carry_a_turn_credential_of_the_shared_secret() {
    let secret = "coturn-shared-secret";
    let (server, _data) = start_configured(|config| {
        config.calls.ice.stun_urls = vec!["stun:stun.example.cn:3478".into()];
        config.calls.ice.turn_urls = vec!["turn:turn.example.cn:3478?transport=udp".into()];
        config.calls.ice.turn_secret = Some(TurnSecret::new(secret));
    })
    .await;
    let mut wang = device(&server, WANG).await;
    wang.calls.client.send(&CallRequest::IceServers).await;
    let payload = wang.calls.client.payload().await;
    let reply: IceServersReply = decode_reply(&payload).expect("the ICE servers");
    assert_eq!(reply.ice_servers.len(), 2);
    assert_eq!(reply.ice_servers[0].urls, ["stun:stun.example.cn:3478"]);
    assert_eq!(reply.ice_servers[0].credential, None);
    let turn = &reply.ice_servers[1];
    let username = turn.username.as_deref().expect("a TURN username");
    let (expiry, who) = username.split_once(':').expect("expiry:user");
    assert_eq!(who, WANG);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let expiry: u64 = expiry.parse().expect("Unix seconds");
    assert!(
        (now + 11 * 3600..=now + 13 * 3600).contains(&expiry),
        "valid about 12 h: {expiry} at {now}"
    );
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(username.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(turn.credential.as_deref(), Some(expected.as_str()));
    assert_eq!(reply.ice_transport_policy, IceTransportPolicy::All);
    assert!(
        !payload.contains("ice_transport_policy"),
        "all is left out of the reply: {payload}"
    );
    server.shutdown().await;

    // A LAN deployment hands out nothing.
    let (server, _data) = start_configured(|_| {}).await;
    let mut li = device(&server, LI).await;
    li.calls.client.send(&CallRequest::IceServers).await;
    let reply: IceServersReply =
        decode_reply(&li.calls.client.payload().await).expect("the ICE servers");
    assert!(reply.ice_servers.is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn a_relay_only_deployment_says_so_and_refuses_to_start_without_turn() {
    let (server, _data) = start_configured(|config| {
        config.calls.ice.turn_urls = vec!["turn:turn.example.cn:3478?transport=udp".into()];
        config.calls.ice.turn_secret = Some(TurnSecret::new("coturn-shared-secret"));
        config.calls.ice.transport_policy = IceTransportPolicy::Relay;
    })
    .await;
    let mut wang = device(&server, WANG).await;
    wang.calls.client.send(&CallRequest::IceServers).await;
    let reply: IceServersReply =
        decode_reply(&wang.calls.client.payload().await).expect("the ICE servers");
    assert_eq!(reply.ice_transport_policy, IceTransportPolicy::Relay);
    assert_eq!(reply.ice_servers.len(), 1);
    assert!(reply.ice_servers[0].credential.is_some());
    server.shutdown().await;

    // Relay with nothing to relay through: no client could connect.
    for turn_urls in [vec![], vec!["turn:turn.example.cn:3478".to_owned()]] {
        let data = tempfile::tempdir().expect("temporary folder");
        let mut config = ServerConfig::new(data.path());
        config.ports = PortPlan::Ephemeral;
        config.calls.ice.stun_urls = vec!["stun:stun.example.cn:3478".into()];
        config.calls.ice.turn_urls = turn_urls;
        config.calls.ice.transport_policy = IceTransportPolicy::Relay;
        match RunningServer::start(config).await {
            Err(StartError::Ice(IceConfigError::RelayWithoutTurn)) => {}
            Err(other) => panic!("refused for another reason: {other}"),
            Ok(server) => {
                server.shutdown().await;
                panic!("a relay-only server without TURN started");
            }
        }
    }
}

#[tokio::test]
async fn the_binary_refuses_relay_without_turn_and_says_what_is_missing() {
    let data = tempfile::tempdir().expect("temporary folder");
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_penpen-server-mock"))
        .arg("--data")
        .arg(data.path())
        .arg("--port-offset")
        .arg("977")
        .arg("--ice-transport-policy")
        .arg("relay")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(WAIT, run)
        .await
        .expect("the server stops at once instead of serving")
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("relay") && stderr.contains("--turn-url"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_huge_sdp_and_too_many_candidates_are_refused() {
    let (server, _data) = start_configured(|_| {}).await;
    let mut wang = device(&server, WANG).await;
    let mut li = device(&server, LI).await;
    let id = call_id("call-limits");

    let huge = CallRequest::Invite {
        call: id.clone(),
        to: user(LI),
        media: Media::Video,
        sdp: "a".repeat(MAX_SDP_BYTES + 1),
    };
    let refusal = wang.calls.ask(&huge).await.expect_err("too large");
    assert_eq!(refusal.state, State::BAD_PACKET, "{}", refusal.error);

    wang.calls
        .ask(&invite(&id, LI, Media::Video))
        .await
        .expect("invited");
    let candidate_request = |n: usize| CallRequest::Candidate {
        call: id.clone(),
        candidate: candidate(&format!("candidate:{n}")),
    };
    for n in 0..MAX_CANDIDATES_PER_CALL {
        wang.calls
            .ask(&candidate_request(n))
            .await
            .expect("within the limit");
    }
    let refusal = wang
        .calls
        .ask(&candidate_request(MAX_CANDIDATES_PER_CALL))
        .await
        .expect_err("over the limit");
    assert_eq!(refusal.state, State::BAD_PACKET, "{}", refusal.error);
    // A candidate line over its limit is refused as well.
    let long = CallRequest::Candidate {
        call: id.clone(),
        candidate: candidate(&"c".repeat(2048)),
    };
    assert_eq!(
        li.calls.ask(&long).await.map_err(|e| e.state),
        Err(State::BAD_PACKET)
    );
    // The accepting device gets exactly the candidates within the limit.
    li.calls.ask(&accept(&id)).await.expect("accepted");
    for n in 0..MAX_CANDIDATES_PER_CALL {
        assert_eq!(
            li.calls.event().await,
            SignalEvent::Candidate(candidate(&format!("candidate:{n}")))
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn malformed_call_requests_are_refused_and_the_socket_stays_usable() {
    let (server, _data) = start_configured(|_| {}).await;
    let mut wang = device(&server, WANG).await;
    for payload in [
        r#"{"op":"dial","call":"call-1"}"#,
        r#"{"call":"call-1"}"#,
        r#"{"op":"invite","call":"call-1","media":"video","sdp":"v=0"}"#,
        r#"{"op":"invite","call":"call 1!","to":"13800000002","media":"video","sdp":"v=0"}"#,
        r#"{"op":"invite","call":"call-1","to":"13800000002","media":"hologram","sdp":"v=0"}"#,
        r#"{"op":"candidate","call":"call-1"}"#,
        r#"{"op":"accept","call":"call-1","sdp":""}"#,
        r#"{"op":"hangup"}"#,
        r#"[1,2,3]"#,
    ] {
        let frame = penpen_core::Frame::encode_payload(penpen_core::Encoding::Base64, payload)
            .expect("encodes");
        wang.calls.client.send_text(&frame).await;
        let reply = decode_reply::<Done>(&wang.calls.client.payload().await);
        let refusal = reply.expect_err(payload);
        assert!(
            matches!(refusal.state, State::BAD_PACKET | State::BAD_FRAME),
            "{payload}: {refusal:?}"
        );
        assert!(!refusal.error.is_empty());
    }
    // Acting on a call that never began: 36.
    let refusal = wang
        .calls
        .ask(&CallRequest::Hangup(call_id("call-never")))
        .await
        .expect_err("no such call");
    assert_eq!(refusal.state, State::CALL_GONE);
    wang.calls
        .ask(&invite(&call_id("call-after"), LI, Media::Audio))
        .await
        .expect("the socket still works");
    server.shutdown().await;
}
