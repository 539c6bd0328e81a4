//! Ends open connections when their session ends: a per-token signal that
//! every connection holding the token awaits, on every port.
//!
//! This is not a message in the hub's push queue (which drops pushes when a
//! slow session's queue is full): a revocation sets a `watch` value that the
//! connection's loop selects on, so it cannot be lost or delayed behind other
//! traffic. Logout and password change signal at once; the admin commands run
//! in another process and append to the `revocations` table, which
//! [`watch_sessions`] polls. The same poll expires open sessions that reach
//! their idle or absolute limit, and writes when sessions were last used (in
//! memory per frame, to the database once per minute at most).

use crate::context::{Context, now_ms};
use crate::policy::AuthPolicy;
use crate::store::sessions::{self, SessionRow};
use penpen_core::UserId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// How an open session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Logged out, password changed elsewhere, account disabled or revoked by an admin.
    Revoked(String),
    /// The session reached its idle or absolute limit.
    Expired,
}

impl Ended {
    /// What the client is told (the `signedout` push and the close reason).
    pub fn reason(&self) -> String {
        match self {
            Ended::Revoked(reason) => format!("session revoked: {reason}"),
            Ended::Expired => "session expired; log in again".to_owned(),
        }
    }

    /// The WebSocket close code: 4001 revoked, 4002 expired.
    pub fn close_code(&self) -> u16 {
        match self {
            Ended::Revoked(_) => 4001,
            Ended::Expired => 4002,
        }
    }

    /// The close frame of a connection whose session ended.
    pub fn close_frame(&self) -> axum::extract::ws::CloseFrame {
        // A close reason may hold at most 123 bytes.
        let mut reason = self.reason();
        while reason.len() > 123 {
            reason.pop();
        }
        axum::extract::ws::CloseFrame {
            code: self.close_code(),
            reason: reason.into(),
        }
    }
}

/// Whether a stored session may be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Yes.
    Live,
    /// Logged out, revoked, or its user is disabled (state 13).
    Revoked,
    /// Past its idle or absolute limit (state 14).
    Expired,
}

impl Standing {
    /// The standing of `session` at `now_ms` under `policy`.
    pub fn of(session: &SessionRow, now_ms: i64, policy: &AuthPolicy) -> Standing {
        if session.revoked || session.disabled {
            Standing::Revoked
        } else if now_ms.saturating_sub(session.created_ts) >= millis(policy.session_lifetime)
            || now_ms.saturating_sub(session.last_used_ts) >= millis(policy.session_idle)
        {
            Standing::Expired
        } else {
            Standing::Live
        }
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[derive(Debug)]
struct Entry {
    user: UserId,
    created_ms: i64,
    last_used: Arc<AtomicI64>,
    /// The last use written to the database.
    flushed_ms: i64,
    signal: watch::Sender<Option<Ended>>,
    /// When it was ended (kept a while so a late registration sees it).
    ended_ms: Option<i64>,
}

/// The open sessions, by token hash.
#[derive(Debug, Default)]
pub struct Revocations {
    tokens: Mutex<Tokens>,
}

#[derive(Debug, Default)]
struct Tokens {
    open: HashMap<Vec<u8>, Entry>,
    /// Recent "every session of this user but one" revocations: a session
    /// checked just before one and registered just after still ends.
    users: HashMap<UserId, UserRevocation>,
}

#[derive(Debug)]
struct UserRevocation {
    at_ms: i64,
    keep: Option<Vec<u8>>,
    reason: String,
}

/// One connection's hold on its session: resolves when the session ends.
#[derive(Debug)]
pub struct SessionWatch {
    ended: watch::Receiver<Option<Ended>>,
    last_used: Arc<AtomicI64>,
}

impl SessionWatch {
    /// Waits until the session is revoked or expires.
    pub async fn ended(&mut self) -> Ended {
        let ended = match self.ended.wait_for(|ended| ended.is_some()).await {
            Ok(ended) => ended.clone(),
            Err(_) => None,
        };
        match ended {
            Some(ended) => ended,
            // The registry never drops a sender that has receivers.
            None => std::future::pending().await,
        }
    }

    /// Notes that the session was used now (cheap: one atomic store).
    pub fn touch(&self) {
        self.session_use().touch();
    }

    /// A handle that notes uses of this session, for the connection's reader.
    pub fn session_use(&self) -> SessionUse {
        SessionUse(self.last_used.clone())
    }
}

/// Notes uses of one session (what keeps it from expiring while idle).
#[derive(Debug, Clone)]
pub struct SessionUse(Arc<AtomicI64>);

impl SessionUse {
    /// Notes that the session was used now (cheap: one atomic store).
    pub fn touch(&self) {
        self.0.fetch_max(now_ms(), Ordering::Relaxed);
    }
}

/// How long an ended token is remembered after its last connection went, so
/// that a connection registering just after the revocation still ends.
const ENDED_MEMORY_MS: i64 = 60_000;

impl Revocations {
    fn lock(&self) -> MutexGuard<'_, Tokens> {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a connection of the live session `session`.
    pub fn register(&self, session: &SessionRow) -> SessionWatch {
        let mut tokens = self.lock();
        let tokens = &mut *tokens;
        let entry = tokens
            .open
            .entry(session.token_hash.clone())
            .or_insert_with(|| Entry {
                user: session.user.clone(),
                created_ms: session.created_ts,
                last_used: Arc::new(AtomicI64::new(session.last_used_ts)),
                flushed_ms: session.last_used_ts,
                signal: watch::channel(None).0,
                ended_ms: None,
            });
        if let Some(revoked) = tokens.users.get(&session.user)
            && session.created_ts <= revoked.at_ms
            && revoked.keep.as_deref() != Some(session.token_hash.as_slice())
        {
            Self::end(entry, &Ended::Revoked(revoked.reason.clone()), now_ms());
        }
        let watch = SessionWatch {
            ended: entry.signal.subscribe(),
            last_used: entry.last_used.clone(),
        };
        watch.touch();
        watch
    }

    fn end(entry: &mut Entry, ended: &Ended, now: i64) {
        if entry.ended_ms.is_none() {
            entry.ended_ms = Some(now);
            entry.signal.send_replace(Some(ended.clone()));
        }
    }

    /// Ends every connection of one session.
    pub fn revoke(&self, user: &UserId, token_hash: &[u8], reason: &str) {
        let now = now_ms();
        let mut tokens = self.lock();
        let entry = tokens
            .open
            .entry(token_hash.to_vec())
            .or_insert_with(|| Entry {
                user: user.clone(),
                created_ms: now,
                last_used: Arc::new(AtomicI64::new(now)),
                flushed_ms: now,
                signal: watch::channel(None).0,
                ended_ms: None,
            });
        Self::end(entry, &Ended::Revoked(reason.to_owned()), now);
    }

    /// Ends every connection of `user`'s sessions except those of `keep`.
    pub fn revoke_user(&self, user: &UserId, keep: Option<&[u8]>, reason: &str) {
        let now = now_ms();
        let ended = Ended::Revoked(reason.to_owned());
        let mut tokens = self.lock();
        for (hash, entry) in tokens.open.iter_mut() {
            if &entry.user == user && keep != Some(hash.as_slice()) {
                Self::end(entry, &ended, now);
            }
        }
        tokens.users.insert(
            user.clone(),
            UserRevocation {
                at_ms: now,
                keep: keep.map(<[u8]>::to_vec),
                reason: reason.to_owned(),
            },
        );
    }

    /// Ends sessions past their limits; forgets tokens nobody holds; returns
    /// the last uses to write (those not written yet).
    fn sweep(&self, policy: &AuthPolicy, now: i64) -> Vec<(Vec<u8>, i64)> {
        let mut uses = Vec::new();
        let mut tokens = self.lock();
        tokens
            .users
            .retain(|_, revoked| now.saturating_sub(revoked.at_ms) < ENDED_MEMORY_MS);
        tokens.open.retain(|hash, entry| {
            let last_used = entry.last_used.load(Ordering::Relaxed);
            if now.saturating_sub(entry.created_ms) >= millis(policy.session_lifetime)
                || now.saturating_sub(last_used) >= millis(policy.session_idle)
            {
                Self::end(entry, &Ended::Expired, now);
            }
            if last_used > entry.flushed_ms {
                uses.push((hash.clone(), last_used));
                entry.flushed_ms = last_used;
            }
            let held = entry.signal.receiver_count() > 0;
            let remembered = entry
                .ended_ms
                .is_some_and(|ended| now.saturating_sub(ended) < ENDED_MEMORY_MS);
            held || remembered
        });
        uses
    }

    /// How many tokens are tracked (for tests).
    pub fn tracked(&self) -> usize {
        self.lock().open.len()
    }
}

/// How often the last uses are written at most.
const USE_FLUSH_EVERY: Duration = Duration::from_secs(60);

/// Polls the revocation log and the session limits until the server stops.
pub async fn watch_sessions(context: Arc<Context>, mut stop: watch::Receiver<bool>) {
    let policy = context.policy.clone();
    let mut seen = match context.store.read(sessions::last_revocation).await {
        Ok(id) => id,
        Err(err) => {
            tracing::error!(%err, "cannot read the revocation log; admin revocations will not reach open connections");
            return;
        }
    };
    let mut tick = tokio::time::interval(policy.revocation_poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_flush = tokio::time::Instant::now();
    let mut pending_uses: Vec<(Vec<u8>, i64)> = Vec::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|stopped| *stopped) => break,
        }
        match context
            .store
            .read(move |conn| sessions::revocations_after(conn, seen))
            .await
        {
            Ok(found) => {
                for revocation in found {
                    seen = seen.max(revocation.id);
                    match &revocation.token_hash {
                        Some(hash) => {
                            context
                                .revocations
                                .revoke(&revocation.user, hash, &revocation.reason)
                        }
                        None => context.revocations.revoke_user(
                            &revocation.user,
                            None,
                            &revocation.reason,
                        ),
                    }
                }
            }
            Err(err) => tracing::warn!(%err, "cannot read the revocation log"),
        }
        pending_uses.extend(context.revocations.sweep(&policy, now_ms()));
        if !pending_uses.is_empty()
            && last_flush.elapsed() >= USE_FLUSH_EVERY.min(policy.session_idle / 4)
        {
            let uses = std::mem::take(&mut pending_uses);
            last_flush = tokio::time::Instant::now();
            if let Err(err) = context
                .store
                .write(move |conn| sessions::record_use(conn, &uses))
                .await
            {
                tracing::warn!(%err, "cannot record when sessions were last used");
            }
        }
    }
    // What was used since the last write is kept for the next start.
    let uses = context.revocations.sweep(&policy, now_ms());
    pending_uses.extend(uses);
    if !pending_uses.is_empty()
        && let Err(err) = context
            .store
            .write(move |conn| sessions::record_use(conn, &pending_uses))
            .await
    {
        // Only the idle clock loses: those sessions look unused since the last write.
        tracing::warn!(%err, "cannot record when sessions were last used before stopping");
    }
}

/// Checks a token presented at a resume or an upgrade: its live session, or
/// the refusal (13 revoked or unknown, 14 expired). The session learns its
/// ticket key here if it was created before the server kept them.
pub async fn check_token(
    context: &Context,
    token: &str,
) -> Result<SessionRow, penpen_core::ErrorReply> {
    use penpen_core::{ErrorReply, State};
    let hash = crate::auth::token_hash(token);
    let found = context
        .store
        .read(move |conn| sessions::session(conn, &hash))
        .await
        .map_err(|e| e.reply())?;
    let Some(session) = found else {
        return Err(ErrorReply::new(
            State::SESSION_INVALID,
            "this token is not valid (revoked, or never issued); log in with the password",
        ));
    };
    match Standing::of(&session, now_ms(), &context.policy) {
        Standing::Live => {}
        Standing::Revoked => {
            return Err(ErrorReply::new(
                State::SESSION_INVALID,
                "this token is not valid (logged out, revoked, or the account is disabled); log in with the password",
            ));
        }
        Standing::Expired => {
            return Err(ErrorReply::new(
                State::SESSION_EXPIRED,
                "this session has expired; log in with the password",
            ));
        }
    }
    if session.ticket_key.is_none() {
        let key = *penpen_core::tickets::TicketKey::from_token(token).as_bytes();
        let hash = session.token_hash.clone();
        if let Err(err) = context
            .store
            .write(move |conn| sessions::set_ticket_key(conn, &hash, &key))
            .await
        {
            tracing::warn!(%err, "cannot keep a session's ticket key");
        }
    }
    Ok(session)
}
