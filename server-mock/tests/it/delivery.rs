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
