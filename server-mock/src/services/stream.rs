//! 20888: login, resume and logout, then the live stream of the session's
//! messages with cumulative acks.
//!
//! The socket (frames, pings, size limits, reply encoding) is the
//! [`Connection`]; this module decides what a request means ([`handle`], the
//! one dispatch point of 20888's requests) and what the live session pushes.

use super::login::{end_session, log_in, resume_session, start_session};
use crate::connection::{Closed, Connection, reply_frame};
use crate::context::Context;
use crate::hub::Delivery;
use crate::limits::Held;
use crate::revocation::{Ended, SessionWatch};
use crate::store::queries;
use axum::extract::ws::{CloseFrame, close_code};
use penpen_core::packets::Done;
use penpen_core::packets::login::{Push, StreamRequest};
use penpen_core::{Encoding, ErrorReply, Frame, Seq, State, UserId};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// Messages read from the store per round while pushing.
const PUSH_PAGE: u32 = 200;

/// The logged-in part of a connection: the session and its hub subscription.
#[derive(Debug)]
pub(super) struct Live {
    pub(super) user: UserId,
    pub(super) token_hash: Vec<u8>,
    pub(super) hub_id: u64,
    /// Everything up to here has been pushed on this connection.
    pub(super) sent_up_to: Seq,
    /// Changes whenever the user's newest seq moves.
    pub(super) newest: watch::Receiver<Seq>,
    /// Pushes other than messages.
    pub(super) pushes: mpsc::Receiver<Push>,
    /// Messages as they are stored.
    pub(super) deliveries: mpsc::Receiver<Delivery>,
    /// Resolves when the session is revoked or expires.
    pub(super) ended: SessionWatch,
    /// This node's subscription to the user's bus subject, kept while the
    /// session lives (the last of the user's sessions here lets it go).
    pub(super) _bus: crate::bus::Hold,
}

/// What reached a live session from the rest of the server.
enum News {
    /// A stored message (`None`: the hub dropped the session).
    Delivery(Option<Delivery>),
    /// The newest seq moved (`false`: the hub dropped the session).
    Newest(bool),
    /// Another push (`None`: the hub dropped the session).
    Push(Option<Push>),
    /// The session was revoked or expired.
    Ended(Ended),
}

impl Live {
    /// The next news (cancel-safe: every branch is).
    async fn news(&mut self) -> News {
        tokio::select! {
            delivery = self.deliveries.recv() => News::Delivery(delivery),
            changed = self.newest.changed() => News::Newest(changed.is_ok()),
            push = self.pushes.recv() => News::Push(push),
            why = self.ended.ended() => News::Ended(why),
        }
    }
}

/// What the connection does after a request.
enum After {
    Reply(String),
    Nothing,
    ReplyAndClose(String),
}

/// One connection to 20888.
struct Stream {
    connection: Connection,
    context: Arc<Context>,
    peer: SocketAddr,
    /// The connection's places among the open ones.
    held: Held,
    live: Option<Live>,
}

/// Serves one connection to 20888 until it closes or the server stops;
/// `held` keeps the connection's places among the open ones.
pub(crate) async fn serve(
    connection: Connection,
    context: Arc<Context>,
    shutdown: watch::Receiver<bool>,
    peer: SocketAddr,
    held: Held,
) {
    let mut stream = Stream {
        connection,
        context,
        peer,
        held,
        live: None,
    };
    let close = stream.run(shutdown).await;
    let Stream {
        connection,
        context,
        live,
        ..
    } = stream;
    connection.close(close).await;
    if let Some(live) = live {
        end_session(&context, &live).await;
    }
}

/// Resolves with the live session's news; never without one.
async fn news(live: &mut Option<Live>) -> News {
    match live {
        Some(live) => live.news().await,
        None => std::future::pending().await,
    }
}

impl Stream {
    /// The connection's loop; returns the close frame to end it with.
    async fn run(&mut self, mut shutdown: watch::Receiver<bool>) -> Option<CloseFrame> {
        // An anonymous connection costs memory and a file descriptor: it gets a
        // few seconds to log in.
        let login_deadline = self.context.connections.limits().login_deadline;
        let login_by = tokio::time::sleep(login_deadline);
        tokio::pin!(login_by);
        loop {
            let result = tokio::select! {
                () = &mut login_by, if self.live.is_none() => {
                    let reply = ErrorReply::new(
                        State::SESSION_INVALID,
                        format!("no login within {} s of connecting; connect again and log in at once", login_deadline.as_secs_f32()),
                    );
                    self.connection.close_with(close_code::POLICY, &reply).await;
                    return None;
                }
                frame = self.connection.read() => match frame {
                    Some(Ok(frame)) => self.on_request(&frame).await,
                    Some(Err(refusal)) => self.connection.refuse(&refusal).await,
                    None => return None,
                },
                news = news(&mut self.live) => match news {
                    News::Ended(why) => {
                        // Said twice: as a push the client already handles, and as the close reason.
                        let frame = push_frame(&Push::SignedOut { signed_out: why.reason() });
                        let _ = self.connection.send(frame).await;
                        return Some(why.close_frame());
                    }
                    news => self.on_news(news).await,
                },
                // The guard wait_for returns must not live across the awaits above.
                () = async { let _ = shutdown.wait_for(|stopped| *stopped).await; } => return None,
            };
            if result.is_err() {
                return None;
            }
        }
    }

    /// Answers one request; a login or resume that went through starts the
    /// stream with the backlog.
    async fn on_request(&mut self, frame: &Frame) -> Result<(), Closed> {
        let was_logged_in = self.live.is_some();
        let after = handle(
            &self.context,
            &mut self.live,
            frame,
            self.peer,
            &mut self.held,
        )
        .await;
        match after {
            After::Nothing => {}
            After::Reply(frame) => self.connection.send(frame).await?,
            After::ReplyAndClose(frame) => {
                let _ = self.connection.send(frame).await;
                return Err(Closed);
            }
        }
        if !was_logged_in && let Some(live) = self.live.as_mut() {
            self.connection.note_uses(live.ended.session_use());
            push_new_messages(&self.context, &mut self.connection, live).await?;
            // A call ringing for the user rings this device too (§12),
            // wherever the call lives.
            let ringing = match self.context.calls.ringing_for(&live.user) {
                Some(invitation) => Some(invitation),
                None if self.context.bus.is_shared() => self
                    .context
                    .bus
                    .party_elsewhere(&live.user)
                    .await
                    .and_then(|party| party.ringing),
                None => None,
            };
            if let Some(invitation) = ringing {
                let push = Push::Call {
                    call: Box::new(invitation),
                };
                self.connection.send(push_frame(&push)).await?;
            }
            // So do the meetings running in the user's groups (§13).
            for push in super::meetings::running_for(&self.context, &live.user).await {
                self.connection.send(push_frame(&push)).await?;
            }
            // And the reminders (加急) of messages still unread (§16.4).
            for push in super::receipts::replay_dings(&self.context, &live.user).await {
                self.connection.send(push_frame(&push)).await?;
            }
        }
        Ok(())
    }

    async fn on_news(&mut self, news: News) -> Result<(), Closed> {
        let Some(live) = self.live.as_mut() else {
            return Ok(());
        };
        let connection = &mut self.connection;
        let context = &self.context;
        match news {
            News::Delivery(delivery) => {
                let Some(delivery) = delivery else {
                    return Err(Closed);
                };
                // Whatever else is already queued goes out in the same write.
                push_delivery(context, connection, live, delivery).await?;
                while let Ok(delivery) = live.deliveries.try_recv() {
                    push_delivery(context, connection, live, delivery).await?;
                }
                connection.flush().await
            }
            News::Newest(changed) => {
                if !changed {
                    return Err(Closed);
                }
                // Deliveries are queued before the newest seq moves: send those
                // first, and read the store only for what is still missing.
                while let Ok(delivery) = live.deliveries.try_recv() {
                    push_delivery(context, connection, live, delivery).await?;
                }
                connection.flush().await?;
                let newest = *live.newest.borrow();
                if newest > live.sent_up_to {
                    push_new_messages(context, connection, live).await?;
                }
                Ok(())
            }
            News::Push(push) => {
                let Some(push) = push else {
                    return Err(Closed);
                };
                let signed_out = matches!(push, Push::SignedOut { .. });
                connection.send(push_frame(&push)).await?;
                if signed_out { Err(Closed) } else { Ok(()) }
            }
            News::Ended(_) => Ok(()),
        }
    }
}

/// Sends a delivered message if it is the next one owed; on a gap, reads
/// everything owed from the store instead; an old one is already sent.
async fn push_delivery(
    context: &Arc<Context>,
    connection: &mut Connection,
    live: &mut Live,
    delivery: Delivery,
) -> Result<(), Closed> {
    if delivery.seq <= live.sent_up_to {
        return Ok(());
    }
    if delivery.seq.0 != live.sent_up_to.0 + 1 {
        return push_new_messages(context, connection, live).await;
    }
    let mut message = (*delivery.message).clone();
    message.seq = Some(delivery.seq);
    let frame = push_frame(&Push::Message(Box::new(message)));
    // Queued only: the caller flushes once it has queued all it has.
    connection.feed(frame).await?;
    live.sent_up_to = delivery.seq;
    Ok(())
}

/// Answers one 20888 request: the dispatch point of this port.
async fn handle(
    context: &Arc<Context>,
    live: &mut Option<Live>,
    frame: &Frame,
    peer: SocketAddr,
    held: &mut Held,
) -> After {
    let encoding = frame.encoding;
    let request = match StreamRequest::from_frame(frame) {
        Ok(request) => request,
        Err(err) => return After::Reply(reply_frame(encoding, Err(ErrorReply::from(&err)))),
    };
    let answer = |payload: super::Reply| reply_frame(encoding, payload);
    let catch_up = matches!(&request, StreamRequest::Resume(resume) if resume.catch_up);
    let authenticated = match request {
        StreamRequest::Login(_) | StreamRequest::Resume(_) if live.is_some() => {
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
            let Some(current) = live.as_ref() else {
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
        StreamRequest::Read(mark) => {
            let Some(current) = live.as_ref() else {
                return After::Reply(answer(Err(not_logged_in())));
            };
            return match super::receipts::read(context, &current.user, mark).await {
                Ok(()) => After::Nothing,
                Err(err) => After::Reply(answer(Err(err))),
            };
        }
        StreamRequest::Watch(watch) => {
            let Some(current) = live.as_ref() else {
                return After::Reply(answer(Err(not_logged_in())));
            };
            return match super::receipts::watch(context, &current.user, current.hub_id, watch).await
            {
                // The full list is a push, like the changes after it.
                Ok(Some(push)) => After::Reply(push_frame(&push)),
                Ok(None) => After::Nothing,
                Err(err) => After::Reply(answer(Err(err))),
            };
        }
        StreamRequest::Logout(_) => {
            let Some(current) = live.as_ref() else {
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
                    context.revoke_session(&current.user, &current.token_hash, "logged out");
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
        Ok((reply, stored)) => start_session(context, &reply.user, stored, catch_up)
            .await
            .map(|started| (reply, started)),
        Err(err) => Err(err),
    };
    match started {
        Ok((reply, started)) => {
            *live = Some(started);
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

/// Pushes every stored message after `sent_up_to`, oldest first, one write
/// per page read.
async fn push_new_messages(
    context: &Arc<Context>,
    connection: &mut Connection,
    live: &mut Live,
) -> Result<(), Closed> {
    loop {
        let user = live.user.clone();
        let since = live.sent_up_to;
        let offset = context.utc_offset_minutes;
        let (messages, more) = context
            .store
            .read(move |conn| queries::inbox_after(conn, &user, since, PUSH_PAGE, offset))
            .await
            .map_err(|err| {
                tracing::warn!(%err, "could not read messages to push");
                Closed
            })?;
        for message in messages {
            let seq = message.seq.unwrap_or(live.sent_up_to);
            connection
                .feed(push_frame(&Push::Message(Box::new(message))))
                .await?;
            live.sent_up_to = seq;
        }
        connection.flush().await?;
        if !more {
            return Ok(());
        }
    }
}

pub(super) fn push_frame(push: &Push) -> String {
    Frame::encode(Encoding::Base64, push).unwrap_or_default()
}
