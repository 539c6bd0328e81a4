//! The tool's side of the wire: WebSocket connections, frames, replies, and
//! logging every user in.

use super::{PASSWORD, ServerProcess, Socket, account};
use anyhow::{Context as _, bail};
use futures_util::{SinkExt, StreamExt};
use penpen_core::packets::login::{Login, LoginReply};
use penpen_core::{Encoding, ErrorReply, Frame, Packet, Service, digest};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message as WsMessage;

pub(crate) async fn connect(addr: SocketAddr, token: Option<&str>) -> anyhow::Result<Socket> {
    let url = match token {
        Some(token) => format!("ws://{addr}/?token={token}"),
        None => format!("ws://{addr}/"),
    };
    // disable_nagle: the tool measures latency, so each frame must leave at once.
    Ok(
        tokio_tungstenite::connect_async_with_config(url, None, true)
            .await?
            .0,
    )
}

pub(crate) async fn send_packet<T: Packet>(socket: &mut Socket, packet: &T) -> anyhow::Result<()> {
    socket
        .send(WsMessage::text(Frame::encode(Encoding::Base64, packet)?))
        .await?;
    Ok(())
}

/// The next frame's payload; `None` when the socket closed.
pub(crate) async fn next_payload(socket: &mut Socket) -> Option<String> {
    while let Some(message) = socket.next().await {
        if let Ok(WsMessage::Text(text)) = message {
            return Frame::decode(text.as_str()).ok().map(|f| f.payload);
        }
        if message.is_err() {
            return None;
        }
    }
    None
}

pub(crate) async fn reply<T: Packet>(socket: &mut Socket) -> anyhow::Result<T> {
    loop {
        let payload = next_payload(socket).await.context("the socket closed")?;
        let value: serde_json::Value = serde_json::from_str(&payload)?;
        if value.get("state").is_none() {
            continue; // a push
        }
        if value["state"] == 11 {
            return Ok(serde_json::from_str(&payload)?);
        }
        let error: ErrorReply = serde_json::from_str(&payload)?;
        bail!("refused: {} {}", error.state.0, error.error);
    }
}

/// Logs every user in on its own live stream, a few at a time.
pub(crate) async fn log_in_all(
    server: &ServerProcess,
    users: usize,
) -> anyhow::Result<Vec<(Socket, String)>> {
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(8));
    let mut tasks = Vec::new();
    for i in 0..users {
        let gate = gate.clone();
        let addr = server.addr_for(i, Service::Login);
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            let mut socket = connect(addr, None).await?;
            send_packet(
                &mut socket,
                &Login {
                    user: account(i),
                    password: digest::password_digest(PASSWORD),
                },
            )
            .await?;
            let login: LoginReply = reply(&mut socket).await?;
            anyhow::Ok((socket, login.token))
        }));
    }
    let mut streams = Vec::with_capacity(users);
    for task in tasks {
        streams.push(task.await??);
    }
    println!(
        "logged in {users} users in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(streams)
}
