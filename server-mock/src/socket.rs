//! Ending a WebSocket with a reason the peer can read: an error frame first
//! (for clients that only look at frames), then a close code and reason.

use crate::connection::error_frame;
use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use penpen_core::{Encoding, ErrorReply, FrameError};
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};

/// Sends `reply` as a frame, then closes with `code` and the same reason.
pub(crate) async fn close_with(socket: &mut WebSocket, code: u16, reply: &ErrorReply) {
    let frame = error_frame(Encoding::Base64, reply);
    if socket.send(Message::Text(frame.into())).await.is_ok() {
        // A close reason is at most 123 bytes.
        let mut reason: String = reply.error.clone();
        while reason.len() > 123 {
            reason.pop();
        }
        let _ = socket
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }
}

/// Ends a connection whose read failed; a frame over the port's limit is
/// answered with state 20 and close code 1009 (message too big) first.
pub(crate) async fn end_after_read_error(socket: &mut WebSocket, err: axum::Error) {
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
        close_with(socket, close_code::SIZE, &reply).await;
    }
}
