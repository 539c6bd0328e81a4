//! 20888's sessions: checking a login or a resume, then joining the hub and
//! marking the user online; leaving it again when the connection ends.

use super::presence::{presence_push, record_offline};
use super::stream::Live;
use crate::auth;
use crate::context::{Context, now_ms};
use crate::revocation::check_token;
use crate::store::queries;
use crate::store::sessions::{self, SessionRow};
use penpen_core::packets::login::{Login, LoginReply, Resume};
use penpen_core::packets::profile::Presence;
use penpen_core::{ErrorReply, State, UserId};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

pub(super) async fn log_in(
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

pub(super) async fn resume_session(
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

/// Joins the hub and marks the user online; the stream starts at their last
/// ack, or, for a client that catches up on 50888 itself (`catch_up`), at the
/// newest message stored now.
///
/// A user already online on another connection is neither recorded nor
/// announced again (the record and every contact say so already): after a
/// restart, when everyone's devices resume at once, that makes a resume a
/// few reads instead of a durable write and a push to every session.
pub(super) async fn start_session(
    context: &Arc<Context>,
    user: &UserId,
    stored: SessionRow,
    catch_up: bool,
) -> Result<Live, ErrorReply> {
    // Registered before anything else, so a revocation from now on is seen.
    let ended = context.revocations.register(&stored);
    // Subscribed on the bus before the newest seq is read: whatever another
    // node stores after the read reaches this node (and the client's
    // catch-up after the reply finds whatever was stored before).
    let bus = context.bus.hold_user(user).await;
    let token_hash = stored.token_hash;
    let who = user.clone();
    let online = context.hub.presence(user) == Some(Presence::Online);
    let (newest, acked) = if online {
        context
            .store
            .read(move |conn| queries::seqs(conn, &who))
            .await
    } else {
        context
            .store
            .write(move |conn| {
                queries::set_presence(conn, &who, Presence::Online)?;
                queries::seqs(conn, &who)
            })
            .await
    }
    .map_err(|e| e.reply())?;
    let subscription = context.hub.subscribe(user, &token_hash, newest);
    if online && subscription.first {
        // The other connection ended meanwhile and marked the user offline.
        let who = user.clone();
        if let Err(err) = context
            .store
            .write(move |conn| queries::set_presence(conn, &who, Presence::Online))
            .await
        {
            context.hub.unsubscribe(user, subscription.id);
            return Err(err.reply());
        }
    }
    if !online || subscription.first {
        context.hub.note_presence(user, Presence::Online);
        context.push_everyone(&presence_push(user, Presence::Online));
    }
    Ok(Live {
        user: user.clone(),
        token_hash,
        hub_id: subscription.id,
        sent_up_to: if catch_up { newest } else { acked },
        newest: subscription.newest,
        pushes: subscription.pushes,
        deliveries: subscription.messages,
        ended,
        _bus: bus,
    })
}

/// Leaves the hub; the user's last session going marks them offline,
/// unless another node still holds one of their sessions.
///
/// Across nodes, the last session here is not the user's last: the nodes
/// holding the user's bus subject are asked (a request, answered by each
/// node that has a session; no holder makes NATS answer "no responders" at
/// once), and again once the offline is recorded (`presence::record_offline`).
pub(super) async fn end_session(context: &Arc<Context>, session: &Live) {
    context.reads.end_session(session.hub_id);
    if !context.hub.unsubscribe(&session.user, session.hub_id) {
        return;
    }
    if context.bus.held_elsewhere(&session.user).await {
        tracing::debug!(user = %session.user, "last session here ended; still online on another node");
        return;
    }
    record_offline(context, vec![session.user.clone()]).await;
}
