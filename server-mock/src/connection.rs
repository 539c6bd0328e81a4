//! One WebSocket connection: frames in, exactly one reply out for each.

use crate::server::Shared;
use axum::extract::ws::{Message, WebSocket};
use penpen_core::{Encoding, ErrorReply, Frame, State};

pub(crate) async fn serve(mut socket: WebSocket, mut shared: Shared) {
    loop {
        let message = tokio::select! {
            message = socket.recv() => message,
            _ = shared.shutdown.wait_for(|stopped| *stopped) => break,
        };
        let reply = match message {
            Some(Ok(Message::Text(text))) => reply_to(&shared, text.as_str()),
            Some(Ok(Message::Binary(_))) => error_frame(
                Encoding::Base64,
                &ErrorReply::new(
                    State::BAD_FRAME,
                    "binary WebSocket message; expected a text frame holding a PENPEN envelope",
                ),
            ),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_))) | None => break,
            Some(Err(err)) => {
                tracing::debug!(service = %shared.service, %err, "connection ended");
                break;
            }
        };
        if socket.send(Message::Text(reply.into())).await.is_err() {
            break;
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

fn reply_to(shared: &Shared, text: &str) -> String {
    match Frame::decode(text) {
        Err(err) => error_frame(Encoding::Base64, &ErrorReply::from(&err)),
        Ok(frame) => error_frame(
            frame.encoding,
            &ErrorReply::new(
                State::UNAVAILABLE,
                format!("service {} does not answer requests yet", shared.service),
            ),
        ),
    }
}

fn error_frame(encoding: Encoding, reply: &ErrorReply) -> String {
    // A request in 1160 never gets this far, so `encoding` can carry a payload.
    Frame::encode(encoding, reply)
        .or_else(|_| Frame::encode(Encoding::Base64, reply))
        .unwrap_or_default()
}
