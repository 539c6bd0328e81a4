//! The socket layer every port uses: one WebSocket carrying PENPEN frames.
//!
//! [`Connection`] reads requests (text frames decoded by `penpen-core`),
//! answers what is not a request (a binary message, an undecodable frame, a
//! frame over the port's size limit) itself, pings the peer and notices when
//! it went silent, and writes replies in the encoding of the request they
//! answer (1100 plain or 1110 base64). The request/reply loops of the ports
//! (`services::requests` for every port but 20888, `services::stream` for
//! 20888) hold one and only decide what to answer.

use crate::revocation::SessionUse;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use futures_util::SinkExt;
use penpen_core::{Encoding, ErrorReply, Frame, FrameError, MAX_FRAME_BYTES, Service, State};
use std::time::{Duration, Instant};
use tokio::time::Interval;
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};

/// A connection silent for this many heartbeats is closed.
const SILENT_HEARTBEATS: u32 = 3;

/// Frames up to the protocol's limit are read whole so that the codec can answer
/// an oversized one with a reason; far larger ones end the connection.
const WEBSOCKET_MESSAGE_LIMIT: usize = MAX_FRAME_BYTES + 1024 * 1024;

/// How many bytes of fed frames wait for a flush before they are written.
const WRITE_BUFFER: usize = 8 * 1024;

/// The socket closed, or a write to it failed: the connection is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

/// Sets the upgrade's limits for `service`: 20888 carries everything sent
/// before login and only small requests, so it takes `login_port_frame_bytes`;
/// every other port takes frames up to the protocol's limit.
pub(crate) fn limit_upgrade(
    ws: WebSocketUpgrade,
    service: Service,
    login_port_frame_bytes: usize,
) -> WebSocketUpgrade {
    let frame_limit = match service {
        Service::Login => login_port_frame_bytes,
        _ => WEBSOCKET_MESSAGE_LIMIT,
    };
    // Small buffers: an idle session should cost a few kilobytes, and large
    // frames still arrive whole (the buffer only sets the read step). Frames
    // fed together leave in one write up to the write buffer's size; it only
    // grows that far on a connection that sent such a burst.
    ws.max_message_size(frame_limit)
        .max_frame_size(frame_limit)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(WRITE_BUFFER)
}

/// One upgraded WebSocket.
pub(crate) struct Connection {
    socket: WebSocket,
    heartbeat: Duration,
    ping: Interval,
    last_heard: Instant,
    /// The session's last-use clock, moved by every frame heard once set.
    session_use: Option<SessionUse>,
}

impl Connection {
    /// Wraps an upgraded socket that is pinged every `heartbeat`.
    pub(crate) fn new(socket: WebSocket, heartbeat: Duration) -> Connection {
        // Pings find peers that vanished without closing (a laptop lid shut):
        // browsers answer them without the page doing anything.
        let ping = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        Connection {
            socket,
            heartbeat,
            ping,
            last_heard: Instant::now(),
            session_use: None,
        }
    }

    /// From now on every frame heard (pongs too) counts as a use of the session.
    pub(crate) fn note_uses(&mut self, session_use: SessionUse) {
        self.session_use = Some(session_use);
    }

    /// The next request, or the refusal owed for a message that is not one
    /// (a binary message, a frame that does not decode: state 10), which the
    /// caller sends in its turn with [`Connection::refuse`]. A frame over the
    /// port's limit is answered here with state 20 and close code 1009.
    /// `None` once the connection is over: the peer closed, stayed silent for
    /// three heartbeats, or a read or write failed.
    ///
    /// Cancel-safe, so it can be one branch of a `select!`.
    pub(crate) async fn read(&mut self) -> Option<Result<Frame, ErrorReply>> {
        loop {
            let message = tokio::select! {
                message = self.socket.recv() => message,
                _ = self.ping.tick() => {
                    if self.last_heard.elapsed() > self.heartbeat * SILENT_HEARTBEATS {
                        tracing::debug!("no answer to pings; closing");
                        return None;
                    }
                    self.socket.send(Message::Ping(Default::default())).await.ok()?;
                    continue;
                }
            };
            self.last_heard = Instant::now();
            if let Some(session_use) = &self.session_use {
                session_use.touch();
            }
            return match message {
                Some(Ok(Message::Text(text))) => {
                    Some(Frame::decode(text.as_str()).map_err(|err| ErrorReply::from(&err)))
                }
                Some(Ok(Message::Binary(_))) => Some(Err(ErrorReply::new(
                    State::BAD_FRAME,
                    "binary WebSocket message; expected a text frame holding a PENPEN envelope",
                ))),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) | None => None,
                Some(Err(err)) => {
                    tracing::debug!(%err, "connection ended");
                    self.end_after_read_error(err).await;
                    None
                }
            };
        }
    }

    /// Sends the refusal [`Connection::read`] gave for a message that was no
    /// request (its encoding is unknown, so base64, which every client reads).
    pub(crate) async fn refuse(&mut self, refusal: &ErrorReply) -> Result<(), Closed> {
        self.send(error_frame(Encoding::Base64, refusal)).await
    }

    /// Sends one frame now.
    pub(crate) async fn send(&mut self, frame: String) -> Result<(), Closed> {
        self.socket
            .send(Message::Text(frame.into()))
            .await
            .map_err(|_| Closed)
    }

    /// Queues one frame; it leaves with the next [`Connection::flush`] (or
    /// earlier, when the write buffer fills), so a burst costs one write.
    pub(crate) async fn feed(&mut self, frame: String) -> Result<(), Closed> {
        self.socket
            .feed(Message::Text(frame.into()))
            .await
            .map_err(|_| Closed)
    }

    /// Writes whatever [`Connection::feed`] queued.
    pub(crate) async fn flush(&mut self) -> Result<(), Closed> {
        self.socket.flush().await.map_err(|_| Closed)
    }

    /// Ends the connection with `frame` as the close code and reason (`None`:
    /// a plain close).
    pub(crate) async fn close(mut self, frame: Option<CloseFrame>) {
        let _ = self.socket.send(Message::Close(frame)).await;
    }

    /// Sends `reply` as a frame, then closes with `code` and the same reason
    /// (for clients that only look at frames, and for those that only see the
    /// close).
    pub(crate) async fn close_with(&mut self, code: u16, reply: &ErrorReply) {
        if self
            .send(error_frame(Encoding::Base64, reply))
            .await
            .is_ok()
        {
            let _ = self
                .socket
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: close_reason(&reply.error).into(),
                })))
                .await;
        }
    }

    /// Ends a connection whose read failed; a frame over the port's limit is
    /// answered with state 20 and close code 1009 (message too big) first.
    async fn end_after_read_error(&mut self, err: axum::Error) {
        let too_large = match err.into_inner().downcast::<WsError>() {
            Ok(ws) => match *ws {
                WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
                    Some((size, max_size))
                }
                _ => None,
            },
            Err(_) => None,
        };
        if let Some((size, max)) = too_large {
            let reply = ErrorReply::from(&FrameError::TooLarge { size, max });
            self.close_with(close_code::SIZE, &reply).await;
        }
    }
}

/// A close reason holds at most 123 bytes.
pub(crate) fn close_reason(text: &str) -> String {
    let mut reason = text.to_owned();
    while reason.len() > 123 {
        reason.pop();
    }
    reason
}

/// The frame answering a request that came in `encoding`.
pub(crate) fn reply_frame(encoding: Encoding, reply: Result<String, ErrorReply>) -> String {
    match reply {
        Ok(payload) => Frame::encode_payload(encoding, &payload)
            .unwrap_or_else(|e| error_frame(Encoding::Base64, &ErrorReply::from(&e))),
        Err(reply) => error_frame(encoding, &reply),
    }
}

/// A reply frame for a refusal, in the request's encoding where it can carry one.
pub(crate) fn error_frame(encoding: Encoding, reply: &ErrorReply) -> String {
    Frame::encode(encoding, reply)
        .or_else(|_| Frame::encode(Encoding::Base64, reply))
        .unwrap_or_default()
}
