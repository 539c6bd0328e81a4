//! Calls across nodes (#17): a call lives on its caller's node, the other
//! party's 24888 requests are relayed there and its signals come back; the
//! parties of a call are busy on every node, and a device logging in on
//! another node while a call rings is rung. Two server processes or three,
//! over one PostgreSQL and one NATS server (`common::cluster`).

use crate::common::cluster::*;
use crate::common::*;
use penpen_core::Service;
use penpen_core::packets::Done;
use penpen_core::packets::login::Push;

/// One 24888 socket: replies in order, signals kept aside until asked for.
struct Signalling {
    client: Client,
    signals: std::collections::VecDeque<penpen_core::packets::call::CallSignal>,
}

impl Signalling {
    async fn open(cluster: &Cluster, node: usize, token: &str) -> Signalling {
        Signalling {
            client: Client::try_connect(cluster.addr(node, Service::CallSignalling), Some(token))
                .await
                .expect("24888"),
            signals: Default::default(),
        }
    }

    async fn ask(
        &mut self,
        request: &penpen_core::packets::call::CallRequest,
    ) -> Result<(), penpen_core::ErrorReply> {
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

    async fn event(&mut self) -> penpen_core::packets::call::SignalEvent {
        if let Some(signal) = self.signals.pop_front() {
            return signal.signal.event;
        }
        let payload = self
            .client
            .next_payload(DEADLINE)
            .await
            .expect("a signal in time");
        let signal: penpen_core::packets::call::CallSignal = serde_json::from_str(&payload)
            .unwrap_or_else(|e| panic!("{payload} is no signal: {e}"));
        signal.signal.event
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_between_two_nodes_rings_connects_relays_and_ends_on_both() {
    use penpen_core::CallId;
    use penpen_core::packets::call::{CallRequest, IceCandidate, Media, SignalEvent};
    use penpen_core::packets::message::MessageType;
    const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n";
    const ANSWER: &str = "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n";
    let candidate = |text: &str| IceCandidate {
        candidate: text.to_owned(),
        sdp_mid: Some("0".into()),
        sdp_mline_index: Some(0),
    };
    let nats = NatsServer::start().await;
    let cluster = Cluster::start(2, &nats.url(), &StoreChoice::postgres()).await;
    let wang_0 = Device::start(&cluster, WANG, &[0]).await;
    let li_1 = Device::start(&cluster, LI, &[1]).await;
    let mut wang = Signalling::open(&cluster, 0, &wang_0.token).await;
    let mut li = Signalling::open(&cluster, 1, &li_1.token).await;

    // Wang (node 0) calls Li (node 1): Li's devices ring on node 1.
    let call = CallId::parse("cross-node-1").expect("a call id");
    wang.ask(&CallRequest::Invite {
        call: call.clone(),
        to: user(LI),
        media: Media::Audio,
        sdp: OFFER.into(),
    })
    .await
    .expect("invited");
    li_1.wait("is rung on node 1", |r| {
        r.pushes
            .iter()
            .any(|p| matches!(p, Push::Call { call: c } if c.call == call))
    })
    .await;
    // Li's requests on node 1 reach the call on node 0; its signals come back.
    li.ask(&CallRequest::Ringing(call.clone()))
        .await
        .expect("ringing relayed");
    assert_eq!(wang.event().await, SignalEvent::Ringing);
    li.ask(&CallRequest::Accept {
        call: call.clone(),
        sdp: ANSWER.into(),
    })
    .await
    .expect("accepted on node 1");
    assert_eq!(
        wang.event().await,
        SignalEvent::Accepted { sdp: ANSWER.into() }
    );
    wang.ask(&CallRequest::Candidate {
        call: call.clone(),
        candidate: candidate("candidate:1 1 udp 1 10.0.0.1 4000 typ host"),
    })
    .await
    .expect("relayed");
    assert_eq!(
        li.event().await,
        SignalEvent::Candidate(candidate("candidate:1 1 udp 1 10.0.0.1 4000 typ host"))
    );
    li.ask(&CallRequest::Candidate {
        call: call.clone(),
        candidate: candidate("candidate:2 1 udp 1 10.0.0.2 4000 typ host"),
    })
    .await
    .expect("relayed");
    assert_eq!(
        wang.event().await,
        SignalEvent::Candidate(candidate("candidate:2 1 udp 1 10.0.0.2 4000 typ host"))
    );
    li.ask(&CallRequest::Hangup(call.clone()))
        .await
        .expect("hung up on node 1");
    assert!(matches!(wang.event().await, SignalEvent::Ended { .. }));
    // The record reaches both, each on their node.
    for device in [&wang_0, &li_1] {
        device
            .wait("gets the call's record", |r| {
                r.messages.values().any(|m| m.kind == MessageType::Call)
            })
            .await;
    }
    // The call is over everywhere: a late request is refused as gone.
    let late = li
        .ask(&CallRequest::Hangup(call.clone()))
        .await
        .expect_err("the call is over");
    assert_eq!(late.state, penpen_core::State::CALL_GONE);

    // A cancelled call stops ringing on the callee's node.
    let second = CallId::parse("cross-node-2").expect("a call id");
    wang.ask(&CallRequest::Invite {
        call: second.clone(),
        to: user(LI),
        media: Media::Video,
        sdp: OFFER.into(),
    })
    .await
    .expect("invited");
    li_1.wait("is rung again", |r| {
        r.pushes
            .iter()
            .any(|p| matches!(p, Push::Call { call: c } if c.call == second))
    })
    .await;
    wang.ask(&CallRequest::Cancel(second.clone()))
        .await
        .expect("cancelled");
    li_1.wait("stops ringing on node 1", |r| {
        r.pushes
            .iter()
            .any(|p| matches!(p, Push::CallEnded { call_ended } if call_ended.call == second))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_parties_of_a_call_on_one_node_are_busy_on_the_others_and_rung_at_login_there() {
    use penpen_core::packets::call::{CallRequest, EndReason, Media, SignalEvent};
    use penpen_core::{CallId, State};
    const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n";
    let invite = |id: &CallId, to: &str| CallRequest::Invite {
        call: id.clone(),
        to: user(to),
        media: Media::Audio,
        sdp: OFFER.into(),
    };
    let rung = |r: &Received, id: &CallId| {
        r.pushes
            .iter()
            .any(|p| matches!(p, Push::Call { call: c } if &c.call == id))
    };
    let nats = NatsServer::start().await;
    let cluster = Cluster::start(3, &nats.url(), &StoreChoice::postgres()).await;
    let wang_0 = Device::start(&cluster, WANG, &[0]).await;
    let li_1 = Device::start(&cluster, LI, &[1]).await;
    let zhang_2 = Device::start(&cluster, ZHANG, &[2]).await;
    let mut wang = Signalling::open(&cluster, 0, &wang_0.token).await;
    let mut li = Signalling::open(&cluster, 1, &li_1.token).await;
    let mut zhang = Signalling::open(&cluster, 2, &zhang_2.token).await;

    // Wang (node 0) calls Li (node 1); the call lives on node 0.
    let ringing = CallId::parse("busy-1").expect("a call id");
    wang.ask(&invite(&ringing, LI)).await.expect("invited");
    li_1.wait("is rung", |r| rung(r, &ringing)).await;
    // Another device of Li's logging in on node 2 rings too.
    let li_2 = Device::start(&cluster, LI, &[2]).await;
    li_2.wait("is rung at login on node 2", |r| rung(r, &ringing))
        .await;

    // Zhang (node 2) calls Li: busy, as on one node.
    let to_li = CallId::parse("busy-2").expect("a call id");
    zhang.ask(&invite(&to_li, LI)).await.expect("answered");
    assert!(matches!(
        zhang.event().await,
        SignalEvent::Ended {
            reason: EndReason::Busy,
            ..
        }
    ));
    // So is Wang, the caller.
    let to_wang = CallId::parse("busy-3").expect("a call id");
    zhang.ask(&invite(&to_wang, WANG)).await.expect("answered");
    assert!(matches!(
        zhang.event().await,
        SignalEvent::Ended {
            reason: EndReason::Busy,
            ..
        }
    ));
    // Li, rung by Wang, calling Wang back is glare: Li's invite gives way.
    let back = CallId::parse("busy-4").expect("a call id");
    li.ask(&invite(&back, WANG)).await.expect("answered");
    assert!(matches!(
        li.event().await,
        SignalEvent::Ended {
            reason: EndReason::Glare,
            ..
        }
    ));
    // Li calling someone else meanwhile is refused.
    let refused = li
        .ask(&invite(&CallId::parse("busy-5").expect("a call id"), ZHANG))
        .await
        .expect_err("Li is a party of Wang's call");
    assert_eq!(refused.state, State::IN_ANOTHER_CALL);
    assert!(
        !rung(&li_1.received(), &to_li) && !rung(&li_2.received(), &to_li),
        "Li was rung by a second call"
    );

    // Once Wang's call ends, Li can be called from node 2 again.
    wang.ask(&CallRequest::Cancel(ringing.clone()))
        .await
        .expect("cancelled");
    let after = CallId::parse("busy-6").expect("a call id");
    zhang.ask(&invite(&after, LI)).await.expect("invited");
    li_1.wait("is rung by Zhang", |r| rung(r, &after)).await;
    zhang
        .ask(&CallRequest::Cancel(after.clone()))
        .await
        .expect("cancelled");
}
