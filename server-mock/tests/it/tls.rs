//! Every port over TLS: a client that trusts the server's self-signed
//! certificate logs in over wss://, sends a message and fetches a file over
//! https://; a plain ws:// client fails cleanly.

use crate::common::*;
use futures_util::{SinkExt, StreamExt};
use penpen_core::packets::login::LoginReply;
use penpen_core::packets::message::{MessageType, SendAck, SendFile, SendText};
use penpen_core::{ClientMsgId, Encoding, ErrorReply, Frame, Packet, Peer, Service, digest};
use penpen_server_mock::{PortPlan, RunningServer, ServerConfig, TlsConfig, tls};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto::ring};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde";
const WAIT: Duration = Duration::from_secs(20);

async fn start_tls(certificate: TlsConfig) -> (RunningServer, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("folder");
    let mut config = ServerConfig::new(data.path());
    config.ports = PortPlan::Ephemeral;
    config.demo = true;
    config.tls = Some(certificate);
    (RunningServer::start(config).await.expect("starts"), data)
}

/// A TLS connection that trusts exactly `certificate`, to "localhost".
async fn tls_connect(addr: SocketAddr, certificate: &TlsConfig) -> TlsStream<TcpStream> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(certificate.cert_pem.as_bytes()) {
        roots.add(cert.expect("PEM")).expect("a usable certificate");
    }
    let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.expect("connect");
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").expect("a name"), tcp)
        .await
        .expect("the handshake succeeds with the trusted certificate")
}

type Wss = WebSocketStream<TlsStream<TcpStream>>;

async fn wss(addr: SocketAddr, certificate: &TlsConfig, token: Option<&str>) -> Wss {
    let tls = tls_connect(addr, certificate).await;
    let query = token.map(|t| format!("?token={t}")).unwrap_or_default();
    tokio_tungstenite::client_async(format!("wss://localhost:{}/{query}", addr.port()), tls)
        .await
        .expect("the upgrade is accepted")
        .0
}

async fn request<T: serde::Serialize, R: Packet>(
    ws: &mut Wss,
    packet: &T,
) -> Result<R, ErrorReply> {
    let frame = Frame::encode(Encoding::Base64, packet).expect("encodes");
    ws.send(Message::text(frame)).await.expect("send");
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a reply in time")
            .expect("open")
            .expect("readable");
        if let Message::Text(text) = message {
            let payload = Frame::decode(text.as_str()).expect("valid").payload;
            if payload.contains("\"state\"") {
                return decode_reply(&payload);
            }
        }
    }
}

#[tokio::test]
async fn every_port_speaks_tls_with_the_configured_certificate() {
    let certificate = tls::self_signed(&[]).expect("a certificate");
    let (server, _data) = start_tls(certificate.clone()).await;

    let mut stream = wss(
        server.addr(Service::Login).expect("served"),
        &certificate,
        None,
    )
    .await;
    let zhang: LoginReply = request(
        &mut stream,
        &penpen_core::packets::login::Login {
            user: user(ZHANG),
            password: digest::password_digest(PASSWORD),
        },
    )
    .await
    .expect("logged in over wss");

    let mut text = wss(
        server.addr(Service::Text).expect("served"),
        &certificate,
        Some(&zhang.token),
    )
    .await;
    let ack: SendAck = request(
        &mut text,
        &SendText {
            quote: None,
            mentions: None,
            mention_all: false,
            from: user(ZHANG),
            to: Peer::User(user(LIU)),
            kind: MessageType::Text,
            content: "加密了".into(),
            cid: Some(ClientMsgId::parse("tls-1").expect("cid")),
        },
    )
    .await
    .expect("stored");
    assert!(ack.id.0 > 0);

    let image_addr = server.addr(Service::Image).expect("served");
    let mut image = wss(image_addr, &certificate, Some(&zhang.token)).await;
    let ack: SendAck = request(
        &mut image,
        &SendFile {
            from: user(ZHANG),
            to: Peer::User(user(LIU)),
            kind: MessageType::Image,
            data: PNG.to_vec(),
            name: Some("图.png".into()),
            duration: None,
            cid: Some(ClientMsgId::parse("tls-2").expect("cid")),
        },
    )
    .await
    .expect("stored");
    let name = ack.content.expect("the stored file's name");

    let mut https = tls_connect(image_addr, &certificate).await;
    let get = format!(
        "GET /files/{name}?ticket={} HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n\r\n",
        ticket_for(&name, &zhang.token),
        image_addr.port()
    );
    https.write_all(get.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    // A peer may end TLS without close_notify; what arrived is still whole
    // thanks to Connection: close and Content-Length.
    let _ = https.read_to_end(&mut response).await;
    assert!(
        response.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&response)
    );
    assert!(response.ends_with(PNG), "the file's bytes over https");
    server.shutdown().await;
}

#[tokio::test]
async fn a_plain_client_fails_cleanly_and_the_port_keeps_serving() {
    let certificate = tls::self_signed(&["penpen.lan".to_owned()]).expect("a certificate");
    let (server, _data) = start_tls(certificate.clone()).await;
    let addr = server.addr(Service::Login).expect("served");
    let plain = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::connect_async(format!("ws://{addr}/")),
    )
    .await
    .expect("a plain client is answered, not left hanging");
    assert!(plain.is_err(), "a ws:// upgrade on a TLS port must fail");

    // A client that does not trust the certificate is refused in the handshake.
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(RootCertStore::empty())
        .with_no_client_auth();
    let untrusting = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").expect("a name"), tcp)
        .await;
    assert!(untrusting.is_err());

    let mut stream = wss(addr, &certificate, None).await;
    let _: LoginReply = request(
        &mut stream,
        &penpen_core::packets::login::Login {
            user: user(ZHANG),
            password: digest::password_digest(PASSWORD),
        },
    )
    .await
    .expect("a TLS client is still served");
    server.shutdown().await;
}

#[test]
fn a_certificate_that_cannot_be_read_stops_the_start_with_its_reason() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let data = tempfile::tempdir().expect("folder");
    let mut config = ServerConfig::new(data.path());
    config.ports = PortPlan::Ephemeral;
    config.tls = Some(TlsConfig {
        cert_pem: "not a certificate".to_owned(),
        key_pem: String::new(),
    });
    let started = runtime.block_on(RunningServer::start(config));
    let err = started.expect_err("refused").to_string();
    assert!(err.contains("certificate"), "{err}");
}
