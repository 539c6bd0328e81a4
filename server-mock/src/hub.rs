//! Who is connected: the live sessions of every user, and how news reaches them.
//!
//! Messages are not copied into the sessions. The hub only raises a user's
//! newest seq; each session then reads from the store what it has not sent
//! yet. So pushes are always in seq order, and a slow session never makes the
//! server hold messages in memory. Other pushes (broadcasts, presence, sign
//! out) go through a small bounded queue per session; if it is full they are
//! dropped, since the client also finds them by sync.

use penpen_core::packets::login::Push;
use penpen_core::{Seq, UserId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, watch};

/// How many non-message pushes wait for one session at most.
const PUSH_QUEUE: usize = 64;

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
}

#[derive(Debug)]
struct SessionEntry {
    id: u64,
    token_hash: Vec<u8>,
    pushes: mpsc::Sender<Push>,
}

/// One session's view of the hub.
#[derive(Debug)]
pub struct Subscription {
    /// The session's id in the hub.
    pub id: u64,
    /// Changes whenever the user's newest seq moves.
    pub newest: watch::Receiver<Seq>,
    /// Pushes other than messages.
    pub pushes: mpsc::Receiver<Push>,
}

impl Hub {
    /// Registers a session of `user`, whose newest seq is `newest`.
    pub fn subscribe(&self, user: &UserId, token_hash: Vec<u8>, newest: Seq) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (push_tx, push_rx) = mpsc::channel(PUSH_QUEUE);
        let mut users = self
            .users
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let entry = users.entry(user.clone()).or_insert_with(|| UserSessions {
            newest: watch::channel(newest).0,
            sessions: Vec::new(),
        });
        entry.newest.send_if_modified(|current| {
            let moved = newest > *current;
            if moved {
                *current = newest;
            }
            moved
        });
        entry.sessions.push(SessionEntry {
            id,
            token_hash,
            pushes: push_tx,
        });
        Subscription {
            id,
            newest: entry.newest.subscribe(),
            pushes: push_rx,
        }
    }

    /// Removes a session; returns whether it was the user's last one.
    pub fn unsubscribe(&self, user: &UserId, id: u64) -> bool {
        let mut users = self
            .users
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
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

    /// Tells `user`'s sessions that their messages now reach `seq`.
    pub fn delivered(&self, user: &UserId, seq: Seq) {
        let users = self
            .users
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(entry) = users.get(user) {
            entry.newest.send_if_modified(|current| {
                let moved = seq > *current;
                if moved {
                    *current = seq;
                }
                moved
            });
        }
    }

    /// Queues `push` for every session of `user` (dropped where a queue is full).
    pub fn push(&self, user: &UserId, push: &Push) {
        let users = self
            .users
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(entry) = users.get(user) {
            for session in &entry.sessions {
                let _ = session.pushes.try_send(push.clone());
            }
        }
    }

    /// Queues `push` for every connected user.
    pub fn push_everyone(&self, push: &Push) {
        let users = self
            .users
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        for entry in users.values() {
            for session in &entry.sessions {
                let _ = session.pushes.try_send(push.clone());
            }
        }
    }

    /// Queues `push` for the sessions of `user` whose token is not `keep`.
    pub fn push_other_sessions(&self, user: &UserId, keep: &[u8], push: &Push) {
        let users = self
            .users
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(entry) = users.get(user) {
            for session in entry.sessions.iter().filter(|s| s.token_hash != keep) {
                let _ = session.pushes.try_send(push.clone());
            }
        }
    }

    /// Whether `user` has any session now.
    pub fn is_online(&self, user: &UserId) -> bool {
        let users = self
            .users
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        users.contains_key(user)
    }
}
