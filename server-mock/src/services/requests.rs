//! One authenticated connection to a service port other than 20888: frames in,
//! exactly one reply out for each, in order.
//!
//! On the message ports (21888, 26888) the requests already waiting are
//! answered together: each is one write of the store's, queued in arrival
//! order, so they share a commit, and their replies leave in one write.
//! Every other port answers one request at a time, since its handlers may
//! read before they write.

use crate::connection::{Connection, reply_frame};
use crate::context::Context;
use crate::limits::Held;
use crate::revocation::SessionWatch;
use crate::services::{self, Caller, Reply};
use futures_util::FutureExt;
use penpen_core::{Encoding, ErrorReply, Frame, Service};
use std::sync::Arc;
use tokio::sync::watch;

/// The most requests of one connection answered together. `join_all`
/// polls up to 30 futures in order, which keeps their store writes queued
/// in the order the requests arrived.
const PIPELINE: usize = 16;

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
    let pipelined = matches!(service, Service::Text | Service::GroupText);
    let mut close = None;
    let mut batch = Vec::with_capacity(if pipelined { PIPELINE } else { 1 });
    loop {
        let first = tokio::select! {
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
        batch.push(first);
        // What already arrived joins the batch; the end of the connection
        // waits until the batch is answered.
        let mut ended = false;
        while pipelined && batch.len() < PIPELINE {
            match connection.read().now_or_never() {
                Some(Some(next)) => batch.push(next),
                Some(None) => {
                    ended = true;
                    break;
                }
                None => break,
            }
        }
        let replies = futures_util::future::join_all(
            batch
                .drain(..)
                .map(|request| answer(&context, service, &caller, request)),
        )
        .await;
        let mut sent = true;
        for (encoding, reply) in replies {
            sent = sent && connection.feed(reply_frame(encoding, reply)).await.is_ok();
        }
        if !sent || ended || connection.flush().await.is_err() {
            break;
        }
    }
    connection.close(close).await;
}

/// The reply to one request, and the encoding it goes out in (a refusal of
/// what was no request goes out in base64, which every client reads).
async fn answer(
    context: &Context,
    service: Service,
    caller: &Caller,
    request: Result<Frame, ErrorReply>,
) -> (Encoding, Reply) {
    match request {
        Ok(frame) => (
            frame.encoding,
            services::answer(context, service, caller, &frame).await,
        ),
        Err(refusal) => (Encoding::Base64, Err(refusal)),
    }
}
