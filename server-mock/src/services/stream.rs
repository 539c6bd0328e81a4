//! 20888: login, resume and logout, then the live stream of the session's
//! messages with cumulative acks, and a heartbeat that detects dead peers.

use crate::auth;
use crate::connection::error_frame;
use crate::context::{Context, now_ms};
use crate::hub::{Delivery, Subscription};
use crate::limits::Held;
use crate::revocation::{Ended, SessionWatch, check_token};
use crate::socket;
use crate::store::queries;
use crate::store::sessions::{self, SessionRow};
use axum::extract::ws::{Message as WsMessage, WebSocket};
use futures_util::SinkExt;
use penpen_core::packets::Done;
use penpen_core::packets::login::{Login, LoginReply, PresenceChange, Push, Resume, StreamRequest};
use penpen_core::packets::profile::Presence;
use penpen_core::{Encoding, ErrorReply, Frame, Seq, State, UserId};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, watch};

/// A connection silent for this many heartbeats is closed.
const SILENT_HEARTBEATS: u32 = 3;
/// Messages read from the store per round while pushing.
const PUSH_PAGE: u32 = 200;

/// The logged-in part of a connection.
#[derive(Debug)]
struct Session {
    user: UserId,
    token_hash: Vec<u8>,
    hub_id: u64,
    /// Everything up to here has been pushed on this connection.
    sent_up_to: Seq,
    /// Resolves when the session is revoked or expires (moved to the loop once logged in).
    ended: Option<SessionWatch>,
}

/// What the connection does after a frame.
enum After {
    Reply(String),
    Nothing,
    ReplyAndClose(String),
}

/// Serves one connection to 20888 until it closes or the server stops;
/// `held` keeps the connection's places among the open ones.
pub(crate) async fn serve(
    mut socket: WebSocket,
    context: Arc<Context>,
    mut shutdown: watch::Receiver<bool>,
    peer: SocketAddr,
    mut held: Held,
) {
    let mut session: Option<Session> = None;
    let mut newest: Option<watch::Receiver<Seq>> = None;
    let mut pushes: Option<mpsc::Receiver<Push>> = None;
    let mut deliveries: Option<mpsc::Receiver<Delivery>> = None;
    let every = context.heartbeat;
    let dead_after = every * SILENT_HEARTBEATS;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut last_heard = Instant::now();
    let mut ended: Option<SessionWatch> = None;
    let mut close = None;
    // An anonymous connection costs memory and a file descriptor: it gets a
    // few seconds to log in.
    let login_deadline = context.connections.limits().login_deadline;
    let login_by = tokio::time::sleep(login_deadline);
    tokio::pin!(login_by);

    loop {
        tokio::select! {
            () = &mut login_by, if session.is_none() => {
                let reply = ErrorReply::new(
                    State::SESSION_INVALID,
                    format!("no login within {} s of connecting; connect again and log in at once", login_deadline.as_secs_f32()),
                );
                socket::close_with(&mut socket, axum::extract::ws::close_code::POLICY, &reply).await;
                break;
            }
            incoming = socket.recv() => {
                last_heard = Instant::now();
                if let Some(watch) = &ended {
                    watch.touch();
                }
                let was_logged_in = session.is_some();
                let after = match incoming {
                    Some(Ok(WsMessage::Text(text))) => {
                        handle(&context, &mut session, &mut newest, &mut pushes, &mut deliveries, text.as_str(), peer, &mut held).await
                    }
                    Some(Ok(WsMessage::Binary(_))) => After::Reply(error_frame(
                        Encoding::Base64,
                        &ErrorReply::new(State::BAD_FRAME, "binary WebSocket message; expected a text frame holding a PENPEN envelope"),
                    )),
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => After::Nothing,
                    Some(Ok(WsMessage::Close(_))) | None => break,
                    Some(Err(err)) => {
                        socket::end_after_read_error(&mut socket, err).await;
                        break;
                    }
                };
                match after {
                    After::Nothing => {}
                    After::Reply(frame) => {
                        if socket.send(WsMessage::Text(frame.into())).await.is_err() {
                            break;
                        }
                    }
                    After::ReplyAndClose(frame) => {
                        let _ = socket.send(WsMessage::Text(frame.into())).await;
                        break;
                    }
                }
                // A new login starts its stream with the backlog.
                if !was_logged_in && let Some(current) = session.as_mut() {
                    ended = current.ended.take();
                    if push_new_messages(&context, &mut socket, current).await.is_err() {
                        break;
                    }
                }
            }
            delivery = next_delivery(&mut deliveries) => {
                let Some(delivery) = delivery else { break };
                let Some(current) = session.as_mut() else { continue };
                // Whatever else is already queued goes out in the same write.
                let mut next = Some(delivery);
                let mut failed = false;
                while let Some(delivery) = next.take() {
                    if push_delivery(&context, &mut socket, current, delivery).await.is_err() {
                        failed = true;
                        break;
                    }
                    next = deliveries.as_mut().and_then(|d| d.try_recv().ok());
                }
                if failed || socket.flush().await.is_err() {
                    break;
                }
            }
            changed = wait_changed(&mut newest) => {
                if !changed {
                    break;
                }
                let Some(current) = session.as_mut() else { continue };
                // Deliveries are queued before the newest seq moves: send those
                // first, and read the store only for what is still missing.
                let mut failed = false;
                while let Some(delivery) = deliveries.as_mut().and_then(|d| d.try_recv().ok()) {
                    if push_delivery(&context, &mut socket, current, delivery).await.is_err() {
                        failed = true;
                        break;
                    }
                }
                let newest_seq = newest.as_ref().map(|n| *n.borrow()).unwrap_or_default();
                if failed
                    || socket.flush().await.is_err()
                    || (newest_seq > current.sent_up_to
                        && push_new_messages(&context, &mut socket, current).await.is_err())
                {
                    break;
                }
            }
            push = next_push(&mut pushes) => {
                let Some(push) = push else { break };
                let signed_out = matches!(push, Push::SignedOut { .. });
                let frame = push_frame(&push);
                if socket.send(WsMessage::Text(frame.into())).await.is_err() || signed_out {
                    break;
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > dead_after {
                    tracing::debug!(%peer, "no answer to pings; closing");
                    break;
                }
                if socket.send(WsMessage::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
            why = session_ended(&mut ended) => {
                // Said twice: as a push the client already handles, and as the close reason.
                let frame = push_frame(&Push::SignedOut { signed_out: why.reason() });
                let _ = socket.send(WsMessage::Text(frame.into())).await;
                close = Some(why.close_frame());
                break;
            }
            _ = stopped(&mut shutdown) => break,
        }
    }
    let _ = socket.send(WsMessage::Close(close)).await;
    if let Some(session) = session {
        end_session(&context, &session).await;
    }
}

/// Resolves once the server is stopping (holds no lock across awaits).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopped| *stopped).await;
}

/// Resolves when the logged-in session is revoked or expires.
async fn session_ended(ended: &mut Option<SessionWatch>) -> Ended {
    match ended {
        Some(watch) => watch.ended().await,
        None => std::future::pending().await,
    }
}

async fn wait_changed(newest: &mut Option<watch::Receiver<Seq>>) -> bool {
    match newest {
        Some(receiver) => receiver.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

async fn next_delivery(deliveries: &mut Option<mpsc::Receiver<Delivery>>) -> Option<Delivery> {
    match deliveries {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// Sends a delivered message if it is the next one owed; on a gap, reads
/// everything owed from the store instead; an old one is already sent.
async fn push_delivery(
    context: &Arc<Context>,
    socket: &mut WebSocket,
    session: &mut Session,
    delivery: Delivery,
) -> Result<(), ()> {
    if delivery.seq <= session.sent_up_to {
        return Ok(());
    }
    if delivery.seq.0 != session.sent_up_to.0 + 1 {
        return push_new_messages(context, socket, session).await;
    }
    let mut message = (*delivery.message).clone();
    message.seq = Some(delivery.seq);
    let frame = push_frame(&Push::Message(Box::new(message)));
    // Queued only: the caller flushes once it has queued all it has.
    socket
        .feed(WsMessage::Text(frame.into()))
        .await
        .map_err(|_| ())?;
    session.sent_up_to = delivery.seq;
    Ok(())
}

async fn next_push(pushes: &mut Option<mpsc::Receiver<Push>>) -> Option<Push> {
    match pushes {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

// The connection's state travels as separate borrows so the select loop can
// await each receiver on its own.
#[allow(clippy::too_many_arguments)]
async fn handle(
    context: &Arc<Context>,
    session: &mut Option<Session>,
    newest: &mut Option<watch::Receiver<Seq>>,
    pushes: &mut Option<mpsc::Receiver<Push>>,
    deliveries: &mut Option<mpsc::Receiver<Delivery>>,
    text: &str,
    peer: SocketAddr,
    held: &mut Held,
) -> After {
    let frame = match Frame::decode(text) {
        Ok(frame) => frame,
        Err(err) => return After::Reply(error_frame(Encoding::Base64, &ErrorReply::from(&err))),
    };
    let encoding = frame.encoding;
    let request = match StreamRequest::from_frame(&frame) {
        Ok(request) => request,
        Err(err) => return After::Reply(error_frame(encoding, &ErrorReply::from(&err))),
    };
    let answer = |payload: Result<String, ErrorReply>| match payload {
        Ok(json) => Frame::encode_payload(encoding, &json)
            .unwrap_or_else(|e| error_frame(Encoding::Base64, &ErrorReply::from(&e))),
        Err(reply) => error_frame(encoding, &reply),
    };
    let authenticated = match request {
        StreamRequest::Login(_) | StreamRequest::Resume(_) if session.is_some() => {
            return After::Reply(answer(Err(ErrorReply::new(
                State::BAD_PACKET,
                "this connection is already logged in; open a new connection to log in again",
            ))));
        }
        StreamRequest::Heartbeat(asked) => {
            return After::Reply(answer(super::heartbeat::answer(&asked)));
        }
        StreamRequest::Login(login) => log_in(context, &login, peer).await,
        StreamRequest::Resume(resume) => resume_session(context, &resume).await,
        StreamRequest::Ack(ack) => {
            let Some(current) = session.as_ref() else {
                return After::Reply(answer(Err(not_logged_in())));
            };
            let user = current.user.clone();
            return match context
                .store
                .write(move |conn| queries::ack(conn, &user, ack.ack))
                .await
            {
                Ok(()) => After::Nothing,
                Err(err) => After::Reply(answer(Err(err.reply()))),
            };
        }
        StreamRequest::Logout(_) => {
            let Some(current) = session.as_ref() else {
                return After::Reply(answer(Err(not_logged_in())));
            };
            let token_hash = current.token_hash.clone();
            return match context
                .store
                .write(move |conn| queries::revoke_session(conn, &token_hash))
                .await
            {
                Ok(()) => {
                    // Every other connection holding this token closes now too.
                    context
                        .revocations
                        .revoke(&current.user, &current.token_hash, "logged out");
                    After::ReplyAndClose(answer(super::reply(&Done::new())))
                }
                Err(err) => After::Reply(answer(Err(err.reply()))),
            };
        }
    };
    // A login or a resume went through: the connection becomes a live
    // stream, if its token is not on too many connections already.
    let authenticated = authenticated.and_then(|(reply, stored)| {
        held.hold_token(&context.connections, &stored.token_hash)
            .map_err(|refusal| ErrorReply::new(State::RATE_LIMITED, refusal.to_string()))?;
        Ok((reply, stored))
    });
    let started = match authenticated {
        Ok((reply, stored)) => start_session(context, &reply.user, stored)
            .await
            .map(|started| (reply, started)),
        Err(err) => Err(err),
    };
    match started {
        Ok((reply, (current, subscription))) => {
            *session = Some(current);
            *newest = Some(subscription.newest);
            *pushes = Some(subscription.pushes);
            *deliveries = Some(subscription.messages);
            After::Reply(answer(super::reply(&reply)))
        }
        Err(err) => After::Reply(answer(Err(err))),
    }
}

fn not_logged_in() -> ErrorReply {
    ErrorReply::new(
        State::SESSION_INVALID,
        "not logged in; send a login {user,password} or a resume {user,token} first",
    )
}

async fn log_in(
    context: &Arc<Context>,
    login: &Login,
    peer: SocketAddr,
) -> Result<(LoginReply, SessionRow), ErrorReply> {
    let now = Instant::now();
    // Counted from here, while the check waits and runs, not only once it failed.
    let attempt = context
        .limiter
        .admit(&login.user, Some(peer.ip()), now)
        .map_err(|refusal| ErrorReply::new(State::RATE_LIMITED, refusal.reason()))?;
    let user = login.user.clone();
    let found = context
        .store
        .read(move |conn| {
            let account = queries::account(conn, &user)?;
            let disabled = sessions::is_disabled(conn, &user)?.unwrap_or(false);
            Ok((account, disabled))
        })
        .await
        .map_err(|e| e.reply())?;
    let (account, disabled) = found;
    // An unknown account is checked against a dummy hash: same time, same answer.
    let hash = account
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| auth::dummy_hash().to_owned());
    let digest = login.password.clone();
    let verified = context
        .passwords
        .run(move || auth::verify_password_digest(&hash, &digest))
        .await
        .map_err(|err| match err {
            auth::PasswordQueueError::Busy => ErrorReply::new(
                State::BUSY,
                "the server is busy checking other logins; retry in a moment",
            ),
            auth::PasswordQueueError::Stopped => {
                ErrorReply::new(State::SERVER_ERROR, err.to_string())
            }
        })?;
    let (Some(account), true) = (account, verified) else {
        attempt.failed(Instant::now());
        return Err(ErrorReply::new(
            State::LOGIN_FAILED,
            "wrong account or password",
        ));
    };
    attempt.succeeded(Instant::now());
    if disabled {
        // Said only to whoever knows the password.
        return Err(ErrorReply::new(
            State::LOGIN_FAILED,
            "this account is disabled; ask your administrator",
        ));
    }
    let (token, token_hash) =
        auth::new_token().map_err(|e| ErrorReply::new(State::SERVER_ERROR, e.to_string()))?;
    let key = *penpen_core::tickets::TicketKey::from_token(&token).as_bytes();
    let user = login.user.clone();
    let stored_hash = token_hash.clone();
    let created = now_ms();
    context
        .store
        .write(move |conn| {
            queries::create_session(conn, &stored_hash, &user, created)?;
            sessions::set_ticket_key(conn, &stored_hash, &key)
        })
        .await
        .map_err(|e| e.reply())?;
    Ok((
        LoginReply {
            state: State::SUCCESS,
            user: login.user.clone(),
            token,
            name: account.name,
            broadcaster: account.broadcaster,
        },
        SessionRow {
            token_hash,
            user: login.user.clone(),
            created_ts: created,
            last_used_ts: created,
            revoked: false,
            disabled: false,
            ticket_key: Some(key),
        },
    ))
}

async fn resume_session(
    context: &Arc<Context>,
    resume: &Resume,
) -> Result<(LoginReply, SessionRow), ErrorReply> {
    let stored = check_token(context, &resume.token).await?;
    if stored.user != resume.user {
        return Err(ErrorReply::new(
            State::SESSION_INVALID,
            "this token belongs to another account; log in with the password",
        ));
    }
    let user = resume.user.clone();
    let account = context
        .store
        .read(move |conn| queries::account(conn, &user))
        .await
        .map_err(|e| e.reply())?
        .ok_or_else(|| ErrorReply::new(State::SESSION_INVALID, "this account no longer exists"))?;
    Ok((
        LoginReply {
            state: State::SUCCESS,
            user: resume.user.clone(),
            token: resume.token.clone(),
            name: account.name,
            broadcaster: account.broadcaster,
        },
        stored,
    ))
}

/// Joins the hub and marks the user online; the stream starts at their last ack.
async fn start_session(
    context: &Arc<Context>,
    user: &UserId,
    stored: SessionRow,
) -> Result<(Session, Subscription), ErrorReply> {
    // Registered before anything else, so a revocation from now on is seen.
    let ended = context.revocations.register(&stored);
    let token_hash = stored.token_hash;
    let who = user.clone();
    let (newest, acked) = context
        .store
        .write(move |conn| {
            queries::set_presence(conn, &who, Presence::Online)?;
            queries::seqs(conn, &who)
        })
        .await
        .map_err(|e| e.reply())?;
    let subscription = context.hub.subscribe(user, newest);
    context
        .hub
        .push_everyone(&presence_push(user, Presence::Online));
    Ok((
        Session {
            user: user.clone(),
            token_hash,
            hub_id: subscription.id,
            sent_up_to: acked,
            ended: Some(ended),
        },
        subscription,
    ))
}

/// Leaves the hub; the user's last session going marks them offline.
async fn end_session(context: &Arc<Context>, session: &Session) {
    if context.hub.unsubscribe(&session.user, session.hub_id) {
        let user = session.user.clone();
        if let Err(err) = context
            .store
            .write(move |conn| queries::set_presence(conn, &user, Presence::Offline))
            .await
        {
            tracing::warn!(%err, "could not record the user as offline");
        }
        context
            .hub
            .push_everyone(&presence_push(&session.user, Presence::Offline));
    }
}

fn presence_push(user: &UserId, presence: Presence) -> Push {
    Push::Presence {
        presence: PresenceChange {
            user: user.clone(),
            presence,
        },
    }
}

/// Pushes every stored message after `sent_up_to`, oldest first.
async fn push_new_messages(
    context: &Arc<Context>,
    socket: &mut WebSocket,
    session: &mut Session,
) -> Result<(), ()> {
    loop {
        let user = session.user.clone();
        let since = session.sent_up_to;
        let offset = context.utc_offset_minutes;
        let (messages, more) = context
            .store
            .read(move |conn| queries::inbox_after(conn, &user, since, PUSH_PAGE, offset))
            .await
            .map_err(|err| tracing::warn!(%err, "could not read messages to push"))?;
        for message in messages {
            let seq = message.seq.unwrap_or(session.sent_up_to);
            let frame = push_frame(&Push::Message(Box::new(message)));
            socket
                .send(WsMessage::Text(frame.into()))
                .await
                .map_err(|_| ())?;
            session.sent_up_to = seq;
        }
        if !more {
            return Ok(());
        }
    }
}

fn push_frame(push: &Push) -> String {
    Frame::encode(Encoding::Base64, push).unwrap_or_default()
}
