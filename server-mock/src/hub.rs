//! Who is connected: the live sessions of every user, and how news reaches them.
//!
//! A stored message is handed to each session of each recipient through a
//! small bounded queue, and the user's newest seq is raised. A session sends
//! a queued message only if it is the very next seq it owes; on any gap (a
//! full queue, two commits finishing out of order) it reads what it owes from
//! the store instead. So pushes are always complete and in seq order, the
//! common case costs no database read, and a slow session never makes the
//! server hold more than its small queue. Other pushes (broadcasts, presence,
//! sign out) have their own bounded queue and are dropped when it is full,
//! since the client also finds them by sync.

use penpen_core::packets::login::Push;
use penpen_core::packets::message::Message;
use penpen_core::packets::profile::Presence;
use penpen_core::{Seq, UserId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, watch};

/// How many non-message pushes wait for one session at most.
const PUSH_QUEUE: usize = 64;
/// How many messages wait for one session at most before it falls back to the store.
const MESSAGE_QUEUE: usize = 256;

/// A stored message on its way to one recipient's sessions.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The recipient's seq for it.
    pub seq: Seq,
    /// The message (without `seq`; the session fills it in).
    pub message: Arc<Message>,
}

/// Moves a user's newest seq forward (never back), waking their sessions.
fn raise(newest: &watch::Sender<Seq>, seq: Seq) {
    newest.send_if_modified(|current| {
        let moved = seq > *current;
        if moved {
            *current = seq;
        }
        moved
    });
}

/// Moves a user's newest seq forward without waking their sessions (each
/// has the message in its queue).
fn raise_quietly(newest: &watch::Sender<Seq>, seq: Seq) {
    newest.send_if_modified(|current| {
        if seq > *current {
            *current = seq;
        }
        false
    });
}

/// The live sessions of every user.
#[derive(Debug, Default)]
pub struct Hub {
    users: Mutex<HashMap<UserId, UserSessions>>,
    next_id: AtomicU64,
}

#[derive(Debug)]
struct UserSessions {
    newest: watch::Sender<Seq>,
    sessions: Vec<SessionEntry>,
    /// The presence last recorded and announced while the user had sessions.
    presence: Option<Presence>,
}

#[derive(Debug)]
struct SessionEntry {
    id: u64,
    /// The session's token hash, to leave out the device a push is about.
    token_hash: Vec<u8>,
    pushes: mpsc::Sender<Push>,
    messages: mpsc::Sender<Delivery>,
}

/// One session's view of the hub.
#[derive(Debug)]
pub struct Subscription {
    /// The session's id in the hub.
    pub id: u64,
    /// Whether this is the user's only session (they just came online).
    pub first: bool,
    /// Changes whenever the user's newest seq moves.
    pub newest: watch::Receiver<Seq>,
    /// Pushes other than messages.
    pub pushes: mpsc::Receiver<Push>,
    /// Messages as they are stored.
    pub messages: mpsc::Receiver<Delivery>,
}

impl Hub {
    /// The sessions, even if a thread panicked while holding them (the map
    /// stays consistent: every change to it is a single insert or removal).
    fn lock(&self) -> MutexGuard<'_, HashMap<UserId, UserSessions>> {
        self.users
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Registers a session of `user` (its token's hash `token_hash`), whose
    /// newest seq is `newest`. The subscription's `first` says whether the
    /// user had no session before.
    pub fn subscribe(&self, user: &UserId, token_hash: &[u8], newest: Seq) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (push_tx, push_rx) = mpsc::channel(PUSH_QUEUE);
        let (message_tx, message_rx) = mpsc::channel(MESSAGE_QUEUE);
        let mut users = self.lock();
        let first = !users.contains_key(user);
        let entry = users.entry(user.clone()).or_insert_with(|| UserSessions {
            newest: watch::channel(newest).0,
            sessions: Vec::new(),
            presence: None,
        });
        raise(&entry.newest, newest);
        entry.sessions.push(SessionEntry {
            id,
            token_hash: token_hash.to_vec(),
            pushes: push_tx,
            messages: message_tx,
        });
        Subscription {
            id,
            first,
            newest: entry.newest.subscribe(),
            pushes: push_rx,
            messages: message_rx,
        }
    }

    /// Removes a session; returns whether it was the user's last one.
    pub fn unsubscribe(&self, user: &UserId, id: u64) -> bool {
        let mut users = self.lock();
        let Some(entry) = users.get_mut(user) else {
            return true;
        };
        entry.sessions.retain(|s| s.id != id);
        let last = entry.sessions.is_empty();
        if last {
            users.remove(user);
        }
        last
    }

    /// Hands a stored message to `user`'s sessions, then raises their newest seq.
    ///
    /// The raise wakes the sessions only when a queue was full: a session
    /// that got the message in its queue wakes for that already, and finds
    /// any gap from the seqs it is handed; waking it twice per message would
    /// double the server's wake-ups on the busiest path.
    pub fn deliver(&self, user: &UserId, seq: Seq, message: &Arc<Message>) {
        let users = self.lock();
        if let Some(entry) = users.get(user) {
            let mut dropped = false;
            for session in &entry.sessions {
                // A full queue is fine: the session is woken by the raise
                // below and reads what it misses from the store.
                dropped |= session
                    .messages
                    .try_send(Delivery {
                        seq,
                        message: message.clone(),
                    })
                    .is_err();
            }
            if dropped {
                raise(&entry.newest, seq);
            } else {
                raise_quietly(&entry.newest, seq);
            }
        }
    }

    /// Raises `user`'s newest seq, waking their sessions to read what they
    /// owe from the store (a message that came without its content, or
    /// news lost on the bus).
    pub fn raise(&self, user: &UserId, seq: Seq) {
        if let Some(entry) = self.lock().get(user) {
            raise(&entry.newest, seq);
        }
    }

    /// Whether `user` has a live session here.
    pub fn has_sessions(&self, user: &UserId) -> bool {
        self.lock().contains_key(user)
    }

    /// The users with live sessions here.
    pub fn users(&self) -> Vec<UserId> {
        self.lock().keys().cloned().collect()
    }

    /// The presence recorded and announced for `user` while they have live
    /// sessions; `None` when they have none.
    pub fn presence(&self, user: &UserId) -> Option<Presence> {
        self.lock().get(user).and_then(|entry| entry.presence)
    }

    /// Notes that `presence` was recorded and announced for `user` (kept
    /// only while they have live sessions).
    pub fn note_presence(&self, user: &UserId, presence: Presence) {
        if let Some(entry) = self.lock().get_mut(user) {
            entry.presence = Some(presence);
        }
    }

    /// Queues `push` for every session of `user`, but those of the token
    /// `except_token` (dropped for a session whose queue is full, like every
    /// push but messages).
    pub fn push_user(&self, user: &UserId, push: &Push, except_token: Option<&[u8]>) {
        let users = self.lock();
        if let Some(entry) = users.get(user) {
            for session in &entry.sessions {
                if except_token != Some(session.token_hash.as_slice()) {
                    let _ = session.pushes.try_send(push.clone());
                }
            }
        }
    }

    /// Queues `push` for every session of `user`, for pushes that must not be lost (a call ringing,
    /// or ending): a session whose queue is full is dropped from the hub
    /// instead, so its stream closes, the device reconnects, and at login
    /// it is told again what still holds (a call still ringing rings it,
    /// §12). Returns how many sessions were dropped.
    pub fn push_user_or_drop(&self, user: &UserId, push: &Push) -> usize {
        let mut users = self.lock();
        let Some(entry) = users.get_mut(user) else {
            return 0;
        };
        let before = entry.sessions.len();
        entry.sessions.retain(|session| {
            !matches!(
                session.pushes.try_send(push.clone()),
                Err(mpsc::error::TrySendError::Full(_))
            )
        });
        before - entry.sessions.len()
    }

    /// Queues `push` for one session of `user` (its hub id), dropped when
    /// its queue is full; says whether it was queued.
    pub fn push_session(&self, user: &UserId, session: u64, push: &Push) -> bool {
        let users = self.lock();
        users
            .get(user)
            .and_then(|entry| entry.sessions.iter().find(|s| s.id == session))
            .is_some_and(|s| s.pushes.try_send(push.clone()).is_ok())
    }

    /// Queues `push` for every connected user.
    pub fn push_everyone(&self, push: &Push) {
        let users = self.lock();
        for entry in users.values() {
            for session in &entry.sessions {
                let _ = session.pushes.try_send(push.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_out(n: usize) -> Push {
        Push::SignedOut {
            signed_out: format!("push {n}"),
        }
    }

    #[tokio::test]
    async fn a_push_that_must_not_be_lost_drops_a_session_too_far_behind() {
        let hub = Hub::default();
        let user = UserId::parse("13800000003").expect("a user id");
        let mut behind = hub.subscribe(&user, b"behind", Seq(0));
        let mut keeping_up = hub.subscribe(&user, b"keeping-up", Seq(0));
        for n in 0..PUSH_QUEUE {
            hub.push_user(&user, &signed_out(n), Some(b"keeping-up"));
        }
        let ringing = signed_out(PUSH_QUEUE);
        assert_eq!(hub.push_user_or_drop(&user, &ringing), 1);

        // The full one is out of the hub: its queues end after what they
        // hold, so its stream closes and the device logs in again.
        for n in 0..PUSH_QUEUE {
            assert_eq!(behind.pushes.recv().await, Some(signed_out(n)));
        }
        assert_eq!(behind.pushes.recv().await, None);
        assert_eq!(behind.messages.recv().await.map(|d| d.seq), None);
        // The one keeping up got it, and stays for what comes next.
        assert_eq!(keeping_up.pushes.recv().await, Some(ringing));
        assert_eq!(hub.push_user_or_drop(&user, &signed_out(0)), 0);
        assert_eq!(keeping_up.pushes.recv().await, Some(signed_out(0)));
    }
}
