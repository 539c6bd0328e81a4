//! A real server on free ports, spoken to over a real WebSocket.

use futures_util::{SinkExt, StreamExt};
use penpen_core::{ErrorReply, Frame, Service, State};
use penpen_server_mock::{PortPlan, RunningServer, ServerConfig};
use tokio_tungstenite::tungstenite::Message;

async fn start() -> (RunningServer, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("temporary data folder");
    let mut config = ServerConfig::new(data.path().join("data"));
    config.ports = PortPlan::Ephemeral;
    let server = RunningServer::start(config).await.expect("server starts");
    (server, data)
}

#[tokio::test]
async fn login_port_completes_a_websocket_handshake_and_answers_bad_frames() {
    let (server, _data) = start().await;
    let addr = server.addr(Service::Login).expect("login port is served");
    let (mut socket, response) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .expect("handshake on 20888");
    assert_eq!(response.status(), 101);

    socket
        .send(Message::text("this is not a frame"))
        .await
        .expect("send");
    let reply = socket.next().await.expect("a reply").expect("a frame");
    let frame = Frame::decode(reply.to_text().expect("text reply")).expect("a valid envelope");
    let error: ErrorReply = frame.packet().expect("an error reply");
    assert_eq!(error.state, State::BAD_FRAME);
    assert!(error.error.contains("not JSON"), "{}", error.error);

    server.shutdown().await;
}

#[tokio::test]
async fn every_served_port_listens() {
    let (server, _data) = start().await;
    for service in Service::ALL {
        assert_eq!(
            server.addr(service).is_some(),
            service.is_served(),
            "{service}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_taken_port_fails_the_start_with_the_service_named() {
    let data = tempfile::tempdir().expect("temporary data folder");
    // Hold the login port of some offset, then ask for a server at that offset.
    let mut held = None;
    for offset in (101..1000).step_by(37) {
        let port = Service::Login.port() + offset;
        if let Ok(listener) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            held = Some((offset, listener));
            break;
        }
    }
    let (offset, _listener) = held.expect("some login port in 20989..21888 is free");
    let mut config = ServerConfig::new(data.path());
    config.ports = PortPlan::Offset(offset);
    let err = RunningServer::start(config)
        .await
        .expect_err("port is taken");
    assert!(err.to_string().contains("login (20888)"), "{err}");
}
