//! One authenticated connection to a service port other than 20888: frames in,
//! exactly one reply out for each, in order.

use crate::connection::Connection;
use crate::context::Context;
use crate::limits::Held;
use crate::revocation::SessionWatch;
use crate::services::{self, Caller};
use penpen_core::Service;
use std::sync::Arc;
use tokio::sync::watch;

/// Serves one connection until it closes, the server stops or its session
/// ends; `_held` keeps its places among the open connections (its token's,
/// its forwarded address's) until it ends.
pub(crate) async fn serve(
    mut connection: Connection,
    context: Arc<Context>,
    service: Service,
    mut shutdown: watch::Receiver<bool>,
    caller: Caller,
    mut session: SessionWatch,
    _held: Held,
) {
    connection.note_uses(session.session_use());
    let mut close = None;
    loop {
        let frame = tokio::select! {
            frame = connection.read() => match frame {
                Some(frame) => frame,
                None => break,
            },
            // The guard wait_for returns must not live across the awaits above.
            () = async { let _ = shutdown.wait_for(|stopped| *stopped).await; } => break,
            why = session.ended() => {
                close = Some(why.close_frame());
                break;
            }
        };
        let reply = services::answer(&context, service, &caller, &frame).await;
        if connection.reply(frame.encoding, reply).await.is_err() {
            break;
        }
    }
    connection.close(close).await;
}
