//! 24888: call signalling (§12) and, through `services::meetings`,
//! meetings (§13). Requests get one reply each, in order; between replies
//! the socket writes the signals the other party's requests (or the
//! server's timers, or the SFU) left for it.
//!
//! `crate::calls` decides what a request does; this module reads the store
//! where a request needs it, carries out the pushes and stores the records
//! of ended calls, and runs the calls' timers.

use super::{Caller, Reply, reply};
use crate::bus::{Event, NodeId};
use crate::calls::{Effects, Finished, Invite, Socket, give_way};
use crate::connection::{Connection, reply_frame};
use crate::context::{Context, now_ms};
use crate::limits::Held;
use crate::revocation::SessionWatch;
use crate::store::queries::{self, NewMessage};
use penpen_core::packets::Done;
use penpen_core::packets::call::{CallRequest, CallSignal, EndReason};
use penpen_core::packets::meeting::{MeetingSignal, SignallingRequest};
use penpen_core::packets::message::{MessageType, Sender};
use penpen_core::{CallId, UserId};
use penpen_core::{Encoding, ErrorReply, Frame, Peer, State};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Serves one 24888 connection until it closes, the server stops or its
/// session ends; a call it carried then waits for a `rejoin`.
pub(crate) async fn serve(
    mut connection: Connection,
    context: Arc<Context>,
    mut shutdown: watch::Receiver<bool>,
    caller: Caller,
    mut session: SessionWatch,
    _held: Held,
) {
    connection.note_uses(session.session_use());
    let (socket, mut signals) = context.calls.socket(caller.user.clone());
    // Signals of calls living on other nodes find this socket by its id.
    context.calls.relay().open_local(&socket);
    let (meeting_socket, mut meeting_signals) = context.meetings.socket(socket.id, caller.user);
    let mut close = None;
    loop {
        let written = tokio::select! {
            frame = connection.read() => match frame {
                Some(Ok(frame)) => {
                    let reply = match SignallingRequest::from_frame(&frame) {
                        Ok(SignallingRequest::Call(request)) => answer(&context, &socket, request).await,
                        Ok(SignallingRequest::Meeting(request)) => {
                            super::meetings::answer(&context, &meeting_socket, request).await
                        }
                        Err(err) => Err(ErrorReply::from(&err)),
                    };
                    connection.send(reply_frame(frame.encoding, reply)).await
                }
                Some(Err(refusal)) => connection.refuse(&refusal).await,
                None => break,
            },
            // The socket holds a sender, so the queue never closes.
            Some(signal) = signals.recv() => write_signals(&mut connection, signal, &mut signals).await,
            Some(signal) = meeting_signals.recv() => {
                write_meeting_signals(&mut connection, signal, &mut meeting_signals).await
            }
            // The guard wait_for returns must not live across the awaits above.
            () = async { let _ = shutdown.wait_for(|stopped| *stopped).await; } => break,
            why = session.ended() => {
                close = Some(why.close_frame());
                break;
            }
        };
        if written.is_err() {
            break;
        }
    }
    context.calls.socket_closed(&socket);
    for call in context.calls.relay().close_local(socket.id) {
        context.bus.publish(Event::CallSocketClosed {
            call,
            user: socket.user.clone(),
            socket: socket.id,
        });
    }
    context.meetings.socket_closed(&meeting_socket);
    connection.close(close).await;
}

/// Writes `first` and whatever other meeting signal is queued, in one write.
async fn write_meeting_signals(
    connection: &mut Connection,
    first: MeetingSignal,
    signals: &mut mpsc::Receiver<MeetingSignal>,
) -> Result<(), crate::connection::Closed> {
    connection.feed(encode(&first)).await?;
    while let Ok(next) = signals.try_recv() {
        connection.feed(encode(&next)).await?;
    }
    connection.flush().await
}

fn encode<T: serde::Serialize>(signal: &T) -> String {
    Frame::encode(Encoding::Base64, signal).unwrap_or_default()
}

/// Writes `first` and whatever else is queued, in one write.
async fn write_signals(
    connection: &mut Connection,
    first: CallSignal,
    signals: &mut mpsc::Receiver<CallSignal>,
) -> Result<(), crate::connection::Closed> {
    connection.feed(signal_frame(&first)).await?;
    while let Ok(next) = signals.try_recv() {
        connection.feed(signal_frame(&next)).await?;
    }
    connection.flush().await
}

fn signal_frame(signal: &CallSignal) -> String {
    Frame::encode(Encoding::Base64, signal).unwrap_or_default()
}

/// Answers one 24888 call request.
async fn answer(context: &Context, socket: &Socket, request: CallRequest) -> Reply {
    let effects = match request {
        CallRequest::IceServers => return reply(&context.calls.ice_servers(&socket.user)),
        CallRequest::Invite {
            call,
            to,
            media,
            sdp,
        } => {
            let who = to.clone();
            let exists = context
                .store
                .read(move |conn| queries::user_exists(conn, &who))
                .await
                .map_err(|e| e.reply())?;
            if !exists {
                return Err(ErrorReply::new(
                    State::UNKNOWN_USER,
                    format!("user {to} does not exist; expected a user of the directory"),
                ));
            }
            let id = call.clone();
            let invite = Invite {
                call,
                to,
                media,
                sdp,
            };
            if let Some(effects) = in_call_elsewhere(context, socket, &invite).await? {
                carry_out(context, effects).await?;
                return reply(&Done::new());
            }
            let callee = invite.to.clone();
            let in_meeting = |user: &UserId| context.meetings.is_in_meeting(user);
            let effects = context
                .calls
                .invite(socket, invite, now_ms(), &in_meeting)?;
            if context.bus.is_shared() && context.calls.has(&id) {
                // The call lives here: the callee's node relays its requests
                // here, and the other nodes find both parties busy.
                let holds = vec![
                    context.bus.hold_call(&id).await,
                    context.bus.hold_party(&socket.user).await,
                    context.bus.hold_party(&callee).await,
                ];
                context.calls.relay().hold(id, holds);
            }
            effects
        }
        other => match context.calls.act(socket, other.clone()) {
            Err(gone) if gone.state == State::CALL_GONE && context.bus.is_shared() => {
                return relay(context, socket, other, gone).await;
            }
            result => result?,
        },
    };
    carry_out(context, effects).await?;
    context.calls.relay().sweep(&context.calls);
    reply(&Done::new())
}

/// What the registry checks of parties of calls living here, for calls
/// living on other nodes: a caller in a call there is refused, unless that
/// call rings them from this callee (glare: this invite gives way); a
/// callee in a call there is busy. `None`: neither, the invite goes on.
///
/// Two invites on different nodes at the same moment may both pass; the
/// devices then answer the second call busy themselves (core's call machine).
async fn in_call_elsewhere(
    context: &Context,
    socket: &Socket,
    invite: &Invite,
) -> Result<Option<Effects>, ErrorReply> {
    // A party of a call here is the registry's to judge; and this node
    // holding their subject would keep the question from other answers.
    if !context.bus.is_shared()
        || context.calls.is_party(&socket.user)
        || context.calls.is_party(&invite.to)
    {
        return Ok(None);
    }
    if let Some(theirs) = context.bus.party_elsewhere(&socket.user).await {
        let crossing =
            theirs.caller == invite.to && theirs.callee == socket.user && theirs.ringing.is_some();
        if !crossing {
            return Err(ErrorReply::new(
                State::IN_ANOTHER_CALL,
                format!(
                    "you are a party of call {}; end it (hang up, cancel or decline) before calling",
                    theirs.call
                ),
            ));
        }
        return Ok(Some(give_way(socket, invite, EndReason::Glare)));
    }
    if context.bus.party_elsewhere(&invite.to).await.is_some() {
        return Ok(Some(give_way(socket, invite, EndReason::Busy)));
    }
    Ok(None)
}

/// How long a request relayed to the call's node may take.
const RELAY_TIMEOUT: Duration = Duration::from_secs(10);

/// Asks the node where the call lives (none: the call is `gone` indeed).
async fn relay(
    context: &Context,
    socket: &Socket,
    request: CallRequest,
    gone: ErrorReply,
) -> Reply {
    let Some(call) = request.call().cloned() else {
        return Err(gone);
    };
    context.calls.relay().note_relayed(socket.id, call.clone());
    let event = Event::CallRequest {
        call,
        user: socket.user.clone(),
        socket: socket.id,
        request: Box::new(request),
    };
    match context.bus.request(event, RELAY_TIMEOUT).await {
        None => Err(gone),
        Some(payload) => serde_json::from_slice::<Reply>(&payload).unwrap_or_else(|err| {
            Err(ErrorReply::new(
                State::SERVER_ERROR,
                format!("the node of this call answered something unreadable: {err}"),
            ))
        }),
    }
}

/// Answers a request about a call living here, relayed from a 24888
/// socket of node `node` (represented here by a proxy socket whose
/// signals go back to that node).
pub(crate) async fn answer_relayed(
    context: &Arc<Context>,
    node: NodeId,
    call: CallId,
    user: UserId,
    socket: u64,
    request: CallRequest,
) -> Reply {
    if request.call() != Some(&call) {
        return Err(ErrorReply::new(
            State::BAD_PACKET,
            "a relayed call request names another call than its subject",
        ));
    }
    let proxy = match context.calls.relay().proxy(&node, socket) {
        Some(proxy) if proxy.user == user => proxy,
        Some(_) => {
            return Err(ErrorReply::new(
                State::BAD_PACKET,
                "a relayed call request names another user than its socket's",
            ));
        }
        None => {
            let (proxy, mut signals) = context.calls.socket(user);
            let (to, bus_context) = (node.clone(), context.clone());
            tokio::spawn(async move {
                // Ends once the proxy is dropped (the socket closed or the call ended).
                while let Some(signal) = signals.recv().await {
                    bus_context.bus.publish(Event::CallSignal {
                        node: to.clone(),
                        socket,
                        signal: Box::new(signal),
                    });
                }
            });
            context
                .calls
                .relay()
                .add_proxy(node, socket, call, proxy.clone());
            proxy
        }
    };
    let effects = context.calls.act(&proxy, request)?;
    carry_out(context, effects).await?;
    context.calls.relay().sweep(&context.calls);
    reply(&Done::new())
}

/// Stores the ended calls, then pushes what the calls decided on 20888;
/// done once every record is committed. The records go first so that a
/// device told a call ended finds its record when it looks.
pub(crate) async fn carry_out(context: &Context, effects: Effects) -> Result<(), ErrorReply> {
    let mut failed = None;
    for finished in effects.finished {
        if let Err(err) = store_record(context, finished).await {
            tracing::warn!(error = %err.error, "could not store a call's record");
            failed = Some(ErrorReply::new(
                State::SERVER_ERROR,
                format!(
                    "the call ended, but its record could not be stored: {}",
                    err.error
                ),
            ));
        }
    }
    // The call ended even if its record could not be stored: say so anyway.
    for notice in effects.notices {
        let dropped = context.push_user_or_drop(&notice.to, &notice.push);
        if dropped > 0 {
            tracing::info!(user = %notice.to, dropped, "sessions too far behind for a call push were closed");
        }
    }
    failed.map_or(Ok(()), Err)
}

/// Stores an ended call as a type 3 message from the caller to the callee,
/// in both inboxes, then hands it to their live sessions.
async fn store_record(context: &Context, finished: Finished) -> Result<(), ErrorReply> {
    let content = serde_json::to_string(&finished.record).map_err(|e| {
        ErrorReply::new(
            State::SERVER_ERROR,
            format!("cannot encode the call record: {e}"),
        )
    })?;
    let message = NewMessage {
        file: None,
        sender: Sender::User(finished.caller.clone()),
        to: Peer::User(finished.callee.clone()),
        kind: MessageType::Call,
        content,
        duration: None,
        cid: None,
        ts: now_ms(),
        mentions: None,
        mention_all: false,
    };
    let recipients = [finished.caller, finished.callee];
    let (message, stored) = context
        .store
        .write(move |conn| {
            let stored = queries::store_message(conn, &message, &recipients)?;
            Ok((message, stored))
        })
        .await
        .map_err(|e| e.reply())?;
    super::announce(context, &message, &stored);
    Ok(())
}

/// Ends calls whose ring timeout or rejoin grace ran out, until the server stops.
pub(crate) async fn run_timers(context: Arc<Context>, shutdown: watch::Receiver<bool>) {
    let expire = || async {
        let (effects, next) = context.calls.expire();
        if let Err(err) = carry_out(&context, effects).await {
            tracing::warn!(error = %err.error, "a call ended by the server was not fully recorded");
        }
        context.calls.relay().sweep(&context.calls);
        next
    };
    super::run_deadlines(shutdown, expire, || context.calls.deadlines_changed()).await;
}
