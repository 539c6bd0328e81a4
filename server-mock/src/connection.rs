//! One authenticated connection to a service port other than 20888: frames in,
//! exactly one reply out for each, in order.

use crate::limits::Held;
use crate::revocation::SessionWatch;
use crate::server::Shared;
use crate::services::{self, Caller};
use crate::socket;
use axum::extract::ws::{Message, WebSocket};
use penpen_core::{Encoding, ErrorReply, Frame, State};
use std::time::Instant;

/// A connection silent for this many heartbeats is closed.
const SILENT_HEARTBEATS: u32 = 3;

/// Serves one connection until it closes, the server stops or its session
/// ends; `_held` keeps its places among the open connections (its token's,
/// its forwarded address's) until it ends.
pub(crate) async fn serve(
    mut socket: WebSocket,
    mut shared: Shared,
    caller: Caller,
    mut session: SessionWatch,
    _held: Held,
) {
    // Pings find peers that vanished without closing (a laptop lid shut):
    // browsers answer them without the page doing anything.
    let every = shared.context.heartbeat;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut last_heard = Instant::now();
    let mut close = None;
    loop {
        let message = tokio::select! {
            message = socket.recv() => message,
            _ = ping.tick() => {
                if last_heard.elapsed() > every * SILENT_HEARTBEATS {
                    tracing::debug!(service = %shared.service, "no answer to pings; closing");
                    break;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
                continue;
            }
            // The guard wait_for returns must not live across the awaits above.
            () = async { let _ = shared.shutdown.wait_for(|stopped| *stopped).await; } => break,
            why = session.ended() => {
                close = Some(why.close_frame());
                break;
            }
        };
        last_heard = Instant::now();
        session.touch();
        let reply = match message {
            Some(Ok(Message::Text(text))) => reply_to(&shared, &caller, text.as_str()).await,
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
                socket::end_after_read_error(&mut socket, err).await;
                break;
            }
        };
        if socket.send(Message::Text(reply.into())).await.is_err() {
            break;
        }
    }
    let _ = socket.send(Message::Close(close)).await;
}

async fn reply_to(shared: &Shared, caller: &Caller, text: &str) -> String {
    let frame = match Frame::decode(text) {
        Ok(frame) => frame,
        Err(err) => return error_frame(Encoding::Base64, &ErrorReply::from(&err)),
    };
    match services::answer(&shared.context, shared.service, caller, &frame).await {
        Ok(payload) => Frame::encode_payload(frame.encoding, &payload)
            .unwrap_or_else(|e| error_frame(Encoding::Base64, &ErrorReply::from(&e))),
        Err(reply) => error_frame(frame.encoding, &reply),
    }
}

/// A reply frame for a refusal, in the request's encoding where it can carry one.
pub(crate) fn error_frame(encoding: Encoding, reply: &ErrorReply) -> String {
    Frame::encode(encoding, reply)
        .or_else(|_| Frame::encode(Encoding::Base64, reply))
        .unwrap_or_default()
}
