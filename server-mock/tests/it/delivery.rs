//! Live delivery under the web client's way of connecting: a one-shot login
//! socket that closes at once, then the stream resumed with the token on a
//! socket of its own, while a colleague sends. Every message must be pushed
//! within moments, whatever the order the server sees those events in.

use crate::common::{self, Client, log_in, user};
use penpen_core::packets::login::{LoginReply, Resume, StreamAck};
use penpen_core::packets::message::{MessageType, SendAck, SendText};
use penpen_core::{ClientMsgId, Peer, Seq, Service};
use std::time::Duration;

const WANG: &str = "13800000001";
const LI: &str = "13800000005";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_as_the_stream_resumes_is_pushed_at_once() {
    let (server, _data) = common::start().await;
    let (_li_stream, li) = log_in(&server, LI).await;
    let mut li_text = Client::connect(&server, Service::Text, Some(&li.token)).await;
    let mut acked = Seq(0);
    for round in 0..20u64 {
        let (once, reply) = log_in(&server, WANG).await;
        // The one-shot socket goes as the stream comes: in either order.
        let resume = async {
            let mut stream = Client::connect(&server, Service::Login, None).await;
            stream
                .request::<_, LoginReply>(&Resume {
                    user: user(WANG),
                    token: reply.token.clone(),
                    catch_up: false,
                })
                .await
                .expect("the token resumes");
            stream
        };
        let (_, mut stream) = tokio::join!(async { drop(once) }, resume);
        // The backlog, then quiet.
        while let Some(message) = stream.next_message(Duration::from_millis(300)).await {
            acked = acked.max(message.seq.unwrap_or(acked));
        }
        stream.send(&StreamAck { ack: acked }).await;
        // Sent at varying moments after the resume.
        tokio::time::sleep(Duration::from_millis(round % 5 * 7)).await;
        let content = format!("第 {round} 轮");
        let ack = li_text
            .request::<_, SendAck>(&SendText {
                quote: None,
                mentions: None,
                mention_all: false,
                from: user(LI),
                to: Peer::User(user(WANG)),
                kind: MessageType::Text,
                content: content.clone(),
                cid: Some(ClientMsgId::parse(&format!("round-{round}")).expect("cid")),
            })
            .await
            .expect("stored");
        let pushed = stream
            .next_message(Duration::from_secs(3))
            .await
            .unwrap_or_else(|| {
                panic!(
                    "round {round}: message {} was not pushed within 3 s",
                    ack.id
                )
            });
        assert_eq!(pushed.content, content, "round {round}");
        acked = pushed.seq.expect("a pushed message has its seq");
        stream.send(&StreamAck { ack: acked }).await;
    }
}

/// Requests sent back to back on 21888 are answered together by the server
/// (they share a commit), yet each gets its reply in its turn (a frame that
/// is no request too), and the messages are stored and pushed in the order
/// they were sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_to_back_sends_are_answered_and_pushed_in_order() {
    let (server, _data) = common::start().await;
    let (mut wang_stream, _) = log_in(&server, WANG).await;
    let (_li_stream, li) = log_in(&server, LI).await;
    while wang_stream
        .next_message(Duration::from_millis(300))
        .await
        .is_some()
    {}
    let mut li_text = Client::connect(&server, Service::Text, Some(&li.token)).await;
    let sent: Vec<String> = (0..12).map(|n| format!("连发第 {n} 条")).collect();
    for (n, content) in sent.iter().enumerate() {
        if n == 6 {
            li_text.send_text("this is no PENPEN frame").await;
        }
        li_text
            .send(&SendText {
                quote: None,
                mentions: None,
                mention_all: false,
                from: user(LI),
                to: Peer::User(user(WANG)),
                kind: MessageType::Text,
                content: content.clone(),
                cid: Some(ClientMsgId::parse(&format!("burst-{n}")).expect("cid")),
            })
            .await;
    }
    let mut last_seq = Seq(0);
    for n in 0..13 {
        let reply = li_text.payload().await;
        if n == 6 {
            let refusal = common::decode_reply::<SendAck>(&reply)
                .expect_err("the bad frame is refused in its turn");
            assert_eq!(refusal.state, penpen_core::State::BAD_FRAME, "{reply}");
            continue;
        }
        let ack: SendAck = common::decode_reply(&reply).expect("stored");
        let k = if n < 6 { n } else { n - 1 };
        assert_eq!(
            ack.cid.as_ref().map(|c| c.as_str().to_owned()),
            Some(format!("burst-{k}")),
            "reply {n} answers the request sent {n}th"
        );
        let seq = ack.seq;
        assert!(
            seq > last_seq,
            "stored in the order sent: {seq:?} after {last_seq:?}"
        );
        last_seq = seq;
    }
    for content in &sent {
        let pushed = wang_stream
            .next_message(Duration::from_secs(10))
            .await
            .expect("every message is pushed");
        assert_eq!(&pushed.content, content);
    }
}
