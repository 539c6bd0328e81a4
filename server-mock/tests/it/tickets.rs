//! Stored files are fetched with short-lived, file-scoped tickets, never with
//! the session token: a copied URL stops working after its expiry, opens only
//! its own file, only for a user who may see it, and only while the session lives.

use crate::common::*;
use penpen_core::packets::Done;
use penpen_core::packets::login::Logout;
use penpen_core::packets::message::{MessageType, SendAck, SendFile};
use penpen_core::tickets::{SessionTag, Ticket, TicketKey};
use penpen_core::{ClientMsgId, Peer, Service};
use penpen_server_mock::context::now_ms;
use penpen_server_mock::{AuthPolicy, PortPlan, RunningServer, ServerConfig};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde";

/// A plain HTTP/1.1 GET; returns the status and the response's head.
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let head = String::from_utf8_lossy(&response).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, head.to_ascii_lowercase())
}

fn path_expiring(name: &str, token: &str, expiry_ms: i64) -> String {
    let ticket = Ticket::mint(
        &TicketKey::from_token(token),
        SessionTag::from_token(token),
        name,
        expiry_ms,
    );
    format!("/files/{name}?ticket={ticket}")
}

async fn start_with_ticket_lifetime(lifetime: Duration) -> (RunningServer, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("temporary folder");
    let mut config = ServerConfig::new(data.path());
    config.ports = PortPlan::Ephemeral;
    config.demo = true;
    config.auth = AuthPolicy {
        ticket_max_lifetime: lifetime,
        ..AuthPolicy::default()
    };
    (RunningServer::start(config).await.expect("starts"), data)
}

/// Zhang sends Liu an image; returns its stored name.
async fn send_image(server: &RunningServer, token: &str, cid: &str) -> String {
    let mut port = Client::connect(server, Service::Image, Some(token)).await;
    let ack: SendAck = port
        .request(&SendFile {
            from: user(ZHANG),
            to: Peer::User(user(LIU)),
            kind: MessageType::Image,
            data: PNG.to_vec(),
            name: None,
            duration: None,
            cid: Some(ClientMsgId::parse(cid).expect("cid")),
        })
        .await
        .expect("stored");
    ack.content.expect("the stored name")
}

#[tokio::test]
async fn a_ticket_opens_its_file_until_it_expires_and_nothing_else() {
    let (server, _data) = start_with_ticket_lifetime(Duration::from_secs(3)).await;
    let (_z, zhang) = log_in(&server, ZHANG).await;
    let (_l, liu) = log_in(&server, LIU).await;
    let (_w, wang) = log_in(&server, WANG).await;
    let first = send_image(&server, &zhang.token, "t-1").await;
    let second = send_image(&server, &zhang.token, "t-2").await;
    let addr = server.addr(Service::Image).expect("served");

    // The session token is no longer a file credential.
    assert_eq!(
        get(addr, &format!("/files/{first}?token={}", liu.token))
            .await
            .0,
        401
    );

    let expiry = now_ms() + 2_000;
    let copied = path_expiring(&first, &liu.token, expiry);
    let (status, head) = get(addr, &copied).await;
    assert_eq!(status, 200);
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    assert!(
        head.contains("content-security-policy: default-src 'none'; sandbox"),
        "{head}"
    );
    assert!(!head.contains("access-control-allow-origin"), "{head}");

    // One file's ticket does not open another.
    let swapped = copied.replacen(&first, &second, 1);
    assert_eq!(get(addr, &swapped).await.0, 401);
    // Another user's ticket opens nothing of a conversation they are not in.
    assert_eq!(
        get(addr, &path_expiring(&first, &wang.token, expiry))
            .await
            .0,
        404
    );
    // A ticket that would live longer than the server allows is refused.
    assert_eq!(
        get(addr, &path_expiring(&first, &liu.token, now_ms() + 60_000))
            .await
            .0,
        401
    );

    // The copied URL stops working once it expires.
    let started = Instant::now();
    while now_ms() <= expiry {
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(get(addr, &copied).await.0, 401, "expired");
    server.shutdown().await;
}

#[tokio::test]
async fn a_revoked_sessions_tickets_stop_working() {
    let (server, _data) = start().await;
    let (_z, zhang) = log_in(&server, ZHANG).await;
    let (mut liu_stream, liu) = log_in(&server, LIU).await;
    let name = send_image(&server, &zhang.token, "r-1").await;
    let addr = server.addr(Service::Image).expect("served");
    let path = file_path(&name, &liu.token);
    assert_eq!(get(addr, &path).await.0, 200);
    while liu_stream
        .next_message(Duration::from_millis(400))
        .await
        .is_some()
    {}
    let _: Done = liu_stream
        .request(&Logout { logout: true })
        .await
        .expect("logged out");
    assert_eq!(get(addr, &path).await.0, 401, "the session ended");
    server.shutdown().await;
}
