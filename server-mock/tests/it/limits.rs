//! Limits before login and for everyone: frame size and login deadline on
//! 20888, connection caps (total, per address, per token), the write-stall
//! timeout, and the Origin check. Each server here runs with tiny limits so
//! the tests are quick.

use crate::common::*;
use futures_util::{SinkExt, StreamExt};
use penpen_core::packets::login::{Login, LoginReply, Logout, Push, Resume};
use penpen_core::packets::message::{MessageType, SendAck, SendText};
use penpen_core::packets::profile::Presence;
use penpen_core::{ClientMsgId, Encoding, ErrorReply, Frame, Peer, Service, State, digest};
use penpen_server_mock::{ConnectionLimits, PortPlan, RunningServer, ServerConfig};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Generous: the machine running the tests may be busy.
const PATIENCE: Duration = Duration::from_secs(20);

async fn start_with(
    data: &std::path::Path,
    change: impl FnOnce(&mut ServerConfig),
) -> RunningServer {
    let mut config = ServerConfig::new(data);
    config.ports = PortPlan::Ephemeral;
    config.demo = true;
    change(&mut config);
    RunningServer::start(config).await.expect("server starts")
}

/// Opens a WebSocket with extra headers; a refusal reads "STATUS body".
async fn open(addr: SocketAddr, query: &str, headers: &[(&str, &str)]) -> Result<Ws, String> {
    let mut request = format!("ws://{addr}/{query}")
        .into_client_request()
        .expect("a valid URL");
    for (name, value) in headers {
        request.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            value.parse().expect("header value"),
        );
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(format!(
            "{} {}",
            response.status().as_u16(),
            String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
        )),
        Err(other) => Err(other.to_string()),
    }
}

/// What a socket shows next.
#[derive(Debug)]
enum Next {
    Payload(String),
    Closed(Option<(CloseCode, String)>),
    Silent,
}

async fn next(ws: &mut Ws, wait: Duration) -> Next {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Err(_) => return Next::Silent,
            Ok(None) | Ok(Some(Err(_))) => return Next::Closed(None),
            Ok(Some(Ok(Message::Text(text)))) => {
                return Next::Payload(
                    Frame::decode(text.as_str())
                        .expect("the server sends valid frames")
                        .payload,
                );
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Next::Closed(frame.map(|f| (f.code, f.reason.to_string())));
            }
            Ok(Some(Ok(_))) => continue,
        }
    }
}

async fn send<T: serde::Serialize>(ws: &mut Ws, packet: &T) {
    let frame = Frame::encode(Encoding::Base64, packet).expect("encodes");
    ws.send(Message::text(frame)).await.expect("send");
}

fn login(account: &str) -> Login {
    Login {
        user: user(account),
        password: digest::password_digest(PASSWORD),
    }
}

fn refusal(payload: &str) -> ErrorReply {
    serde_json::from_str(payload).unwrap_or_else(|e| panic!("{payload} is no refusal: {e}"))
}

/// Retries `attempt` until it succeeds: the server releases a place when the
/// closed connection's task ends, a moment after the client sees it close.
async fn eventually_opens(addr: SocketAddr, query: &str) -> Ws {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match open(addr, query, &[]).await {
            Ok(ws) => return ws,
            Err(err) if Instant::now() > deadline => panic!("still refused: {err}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

#[tokio::test]
async fn a_login_port_frame_over_the_limit_is_refused_and_closed() {
    let data = tempfile::tempdir().expect("folder");
    let server = start_with(data.path(), |c| c.limits.login_port_frame_bytes = 1024).await;
    let addr = server.addr(Service::Login).expect("served");

    let mut ws = open(addr, "", &[]).await.expect("upgrade");
    let padded = format!(
        r#"{{"head":1100,"body":{{"user":"{ZHANG}","pad":"{}"}},"tail":"PENPEN 1.0"}}"#,
        "x".repeat(2000)
    );
    ws.send(Message::text(padded)).await.expect("send");
    match next(&mut ws, PATIENCE).await {
        Next::Payload(payload) => {
            let refused = refusal(&payload);
            assert_eq!(refused.state, State::BAD_FRAME);
            assert!(refused.error.contains("too large"), "{}", refused.error);
        }
        other => panic!("expected a refusal naming the size, got {other:?}"),
    }
    match next(&mut ws, PATIENCE).await {
        Next::Closed(Some((code, reason))) => {
            assert_eq!(code, CloseCode::Size);
            assert!(reason.contains("1024"), "{reason}");
        }
        other => panic!("expected a close with code 1009, got {other:?}"),
    }

    // A login of normal size still works.
    let mut ws = open(addr, "", &[]).await.expect("upgrade");
    send(&mut ws, &login(ZHANG)).await;
    let Next::Payload(payload) = next(&mut ws, PATIENCE).await else {
        panic!("no login reply")
    };
    decode_reply::<LoginReply>(&payload).expect("logged in");
    server.shutdown().await;
}

#[tokio::test]
async fn a_connection_that_does_not_log_in_is_closed_at_the_deadline() {
    let data = tempfile::tempdir().expect("folder");
    let server = start_with(data.path(), |c| {
        c.limits.login_deadline = Duration::from_secs(1)
    })
    .await;
    let addr = server.addr(Service::Login).expect("served");
    let mut logged_in = open(addr, "", &[]).await.expect("upgrade");
    send(&mut logged_in, &login(ZHANG)).await;
    let Next::Payload(payload) = next(&mut logged_in, PATIENCE).await else {
        panic!("no login reply")
    };
    decode_reply::<LoginReply>(&payload).expect("logged in");

    let mut idle = open(addr, "", &[]).await.expect("upgrade");
    match next(&mut idle, PATIENCE).await {
        Next::Payload(payload) => {
            let refused = refusal(&payload);
            assert_eq!(refused.state, State::SESSION_INVALID);
            assert!(refused.error.contains("no login"), "{}", refused.error);
        }
        other => panic!("expected the deadline's reason, got {other:?}"),
    }
    assert!(matches!(
        next(&mut idle, PATIENCE).await,
        Next::Closed(Some((CloseCode::Policy, _)))
    ));

    // The deadline has passed for the earlier, logged-in connection too; it
    // is still served.
    send(&mut logged_in, &Logout { logout: true }).await;
    loop {
        match next(&mut logged_in, PATIENCE).await {
            Next::Payload(payload) if payload.contains("\"state\"") => {
                assert!(payload.contains("\"state\":11"), "{payload}");
                break;
            }
            Next::Payload(_) => continue, // a push
            other => panic!("the logged-in stream ended: {other:?}"),
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn total_connections_are_capped() {
    let data = tempfile::tempdir().expect("folder");
    let server = start_with(data.path(), |c| c.limits.max_connections = 3).await;
    let addr = server.addr(Service::Login).expect("served");
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(open(addr, "", &[]).await.expect("room for three"));
    }
    let refused = open(addr, "", &[]).await.expect_err("a fourth is refused");
    assert!(
        refused.starts_with("503") && refused.contains("maximum of 3"),
        "{refused}"
    );
    // Another port counts against the same total.
    let other = server.addr(Service::SyncContacts).expect("served");
    let refused = open(other, "?token=x", &[]).await.expect_err("refused");
    assert!(refused.starts_with("503"), "{refused}");

    let mut closed = held.pop().expect("three");
    closed.close(None).await.expect("close");
    drop(closed);
    let _fourth = eventually_opens(addr, "").await;
    server.shutdown().await;
}

#[tokio::test]
async fn connections_per_address_are_capped_and_forwarded_addresses_believed_only_from_trusted_proxies()
 {
    let data = tempfile::tempdir().expect("folder");
    let server = start_with(data.path(), |c| {
        c.limits.max_per_address = 2;
        c.trusted_proxies = vec![[127, 0, 0, 1].into()];
    })
    .await;
    let addr = server.addr(Service::Login).expect("served");
    let from = |ip: &'static str| [("x-forwarded-for", ip)];
    let _a1 = open(addr, "", &from("10.0.0.1")).await.expect("first");
    let _a2 = open(addr, "", &from("10.0.0.1")).await.expect("second");
    let refused = open(addr, "", &from("10.0.0.1"))
        .await
        .expect_err("a third from 10.0.0.1 is refused");
    assert!(
        refused.starts_with("503") && refused.contains("your address"),
        "{refused}"
    );
    let _b1 = open(addr, "", &from("10.0.0.2"))
        .await
        .expect("another address has its own count");
    server.shutdown().await;

    // Without a trusted proxy the header is anyone's to write: ignored.
    let data = tempfile::tempdir().expect("folder");
    let server = start_with(data.path(), |c| c.limits.max_per_address = 2).await;
    let addr = server.addr(Service::Login).expect("served");
    let _c1 = open(addr, "", &from("10.0.0.1")).await.expect("first");
    let _c2 = open(addr, "", &from("10.0.0.2")).await.expect("second");
    let refused = open(addr, "", &from("10.0.0.3"))
        .await
        .expect_err("a third from 127.0.0.1 is refused");
    assert!(refused.starts_with("503"), "{refused}");
    server.shutdown().await;
}

#[tokio::test]
async fn sockets_per_token_are_capped() {
    let data = tempfile::tempdir().expect("folder");
    let server = start_with(data.path(), |c| c.limits.max_per_token = 2).await;
    let (_stream, zhang) = log_in(&server, ZHANG).await;
    let text = server.addr(Service::Text).expect("served");
    let query = format!("?token={}", zhang.token);
    let mut second = open(text, &query, &[]).await.expect("the second socket");
    let refused = open(text, &query, &[])
        .await
        .expect_err("a third socket is refused");
    assert!(
        refused.starts_with("429") && refused.contains("maximum of 2"),
        "{refused}"
    );
    // A resume on 20888 counts too.
    let mut resume = open(server.addr(Service::Login).expect("served"), "", &[])
        .await
        .expect("upgrade");
    send(
        &mut resume,
        &Resume {
            user: user(ZHANG),
            token: zhang.token.clone(),
            catch_up: false,
        },
    )
    .await;
    let Next::Payload(payload) = next(&mut resume, PATIENCE).await else {
        panic!("no reply to the resume")
    };
    assert_eq!(refusal(&payload).state, State::RATE_LIMITED);
    // Other tokens are not affected.
    let (_s, li) = log_in(&server, LI).await;
    let _li_text = open(text, &format!("?token={}", li.token), &[])
        .await
        .expect("another session");

    second.close(None).await.expect("close");
    drop(second);
    let _again = eventually_opens(text, &query).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_peer_that_stops_reading_is_dropped_without_blocking_others() {
    let data = tempfile::tempdir().expect("folder");
    let server = start_with(data.path(), |c| {
        c.limits.send_timeout = Duration::from_millis(500)
    })
    .await;
    let (mut watcher, _) = log_in(&server, WANG).await;
    let (_z, zhang) = log_in(&server, ZHANG).await;
    let mut zhang_text = Client::connect(&server, Service::Text, Some(&zhang.token)).await;

    // Liu logs in on a socket with a tiny receive buffer, then never reads.
    let addr = server.addr(Service::Login).expect("served");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("buffer size");
    let tcp = socket.connect(addr).await.expect("connect");
    let (mut liu, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp)
        .await
        .expect("upgrade");
    let frame = Frame::encode(Encoding::Base64, &login(LIU)).expect("encodes");
    liu.send(Message::text(frame)).await.expect("send");

    // Enough pushes to fill every buffer between the server and Liu.
    let content = "满".repeat(4000);
    let mut sent = 0;
    let mut offline = false;
    let started = Instant::now();
    while !offline {
        assert!(
            started.elapsed() < PATIENCE * 3,
            "Liu's stalled stream was never dropped after {sent} messages"
        );
        for _ in 0..20 {
            let send = SendText {
                quote: None,
                mentions: None,
                mention_all: false,
                from: user(ZHANG),
                to: Peer::User(user(LIU)),
                kind: MessageType::Text,
                content: content.as_str().into(),
                cid: Some(ClientMsgId::parse(&format!("stall-{sent}")).expect("cid")),
            };
            let _: SendAck = zhang_text.request(&send).await.expect("stored");
            sent += 1;
        }
        // Wang hears Liu go offline once the server gives up on the stream.
        while let Some(payload) = watcher.next_payload(Duration::from_millis(100)).await {
            if let Ok(Push::Presence { presence }) = serde_json::from_str::<Push>(&payload)
                && presence.user == user(LIU)
                && presence.presence == Presence::Offline
            {
                offline = true;
            }
        }
    }

    // Meanwhile the hub still delivers to everyone else at once.
    let started = Instant::now();
    let _: SendAck = zhang_text
        .request(&SendText {
            quote: None,
            mentions: None,
            mention_all: false,
            from: user(ZHANG),
            to: Peer::User(user(WANG)),
            kind: MessageType::Text,
            content: "还在吗".into(),
            cid: Some(ClientMsgId::parse("after-stall").expect("cid")),
        })
        .await
        .expect("stored");
    let message = watcher.next_message(PATIENCE).await.expect("delivered");
    assert_eq!(
        message.cid.as_ref().map(|c| c.as_str()),
        Some("after-stall")
    );
    assert!(started.elapsed() < PATIENCE);
    drop(liu);
    server.shutdown().await;
}

#[tokio::test]
async fn upgrades_and_file_gets_from_other_sites_are_refused() {
    let data = tempfile::tempdir().expect("folder");
    let server = start_with(data.path(), |_| {}).await;
    let addr = server.addr(Service::Login).expect("served");
    let refused = open(addr, "", &[("origin", "https://evil.example")])
        .await
        .expect_err("another site's page is refused");
    assert!(
        refused.starts_with("403") && refused.contains("evil.example"),
        "{refused}"
    );
    for allowed in ["http://127.0.0.1:8080", "http://localhost:3000"] {
        open(addr, "", &[("origin", allowed)])
            .await
            .unwrap_or_else(|e| panic!("{allowed} refused: {e}"));
    }
    open(addr, "", &[])
        .await
        .expect("native clients send no Origin");

    // A file GET that names an origin is checked the same way.
    let image = server.addr(Service::Image).expect("served");
    let get = |origin: &'static str| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = TcpStream::connect(image).await.expect("connect");
        let request = format!(
            "GET /files/x.png HTTP/1.1\r\nHost: {image}\r\nOrigin: {origin}\r\nConnection: close\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.expect("write");
        let mut response = String::new();
        tcp.read_to_string(&mut response).await.expect("read");
        response
    };
    assert!(
        get("https://evil.example")
            .await
            .starts_with("HTTP/1.1 403")
    );
    assert!(
        !get("http://127.0.0.1:8080")
            .await
            .starts_with("HTTP/1.1 403")
    );
    server.shutdown().await;

    // A configured list replaces the default.
    let data = tempfile::tempdir().expect("folder");
    let server = start_with(data.path(), |c| {
        c.allowed_origins = vec!["https://chat.example.com".to_owned()]
    })
    .await;
    let addr = server.addr(Service::Login).expect("served");
    open(addr, "", &[("origin", "https://chat.example.com")])
        .await
        .expect("the configured origin");
    assert!(
        open(addr, "", &[("origin", "http://localhost:8080")])
            .await
            .is_err()
    );
    server.shutdown().await;
}

#[test]
fn production_limits_are_the_documented_ones() {
    let limits = ConnectionLimits::default();
    assert_eq!(limits.login_port_frame_bytes, 4096);
    assert_eq!(limits.login_deadline, Duration::from_secs(10));
    assert_eq!(limits.max_per_token, 64);
}
