//! 20888 answers the client's heartbeat with the same frame, before and
//! after login, and the stream carries on as before.

use crate::common::{Client, LI, PASSWORD, WANG, log_in, start, user};
use penpen_core::packets::login::{Heartbeat, Login, LoginReply};
use penpen_core::{Service, digest};
use std::time::Duration;

const ASKED: Heartbeat = Heartbeat { heartbeat: true };

/// Sends a heartbeat and waits for its answer, past whatever the stream
/// pushes meanwhile (a logged-in user's backlog).
async fn heartbeat(stream: &mut Client) {
    stream.send(&ASKED).await;
    loop {
        let payload = stream
            .next_payload(Duration::from_secs(10))
            .await
            .expect("the heartbeat is answered within 10 s");
        if payload == r#"{"heartbeat":true}"# {
            return;
        }
    }
}

#[tokio::test]
async fn a_heartbeat_is_answered_on_a_live_stream() {
    let (server, _data) = start().await;
    let (mut stream, _) = log_in(&server, WANG).await;
    for _ in 0..3 {
        heartbeat(&mut stream).await;
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_heartbeat_before_login_is_answered_and_the_login_still_goes_through() {
    let (server, _data) = start().await;
    let mut stream = Client::connect(&server, Service::Login, None).await;
    stream.send(&ASKED).await;
    assert_eq!(stream.payload().await, r#"{"heartbeat":true}"#);
    let reply = stream
        .request::<_, LoginReply>(&Login {
            user: user(LI),
            password: digest::password_digest(PASSWORD),
        })
        .await
        .expect("the login after a heartbeat succeeds");
    assert_eq!(reply.user, user(LI));
    heartbeat(&mut stream).await;
    server.shutdown().await;
}
