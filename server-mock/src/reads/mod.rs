//! Who watches which group's read marks (§16.2), and the one task that
//! sends them the coalesced changes.
//!
//! A session watches at most one group. A moved mark of a watched group
//! goes to the [`Coalescer`]; the task [`run`] releases each group at most
//! once per interval and queues one `reads` push per watching session. A
//! group nobody watches costs nothing: its marks are not even collected.

mod coalescer;

pub use coalescer::Coalescer;

use crate::bus::Hold;
use crate::hub::Hub;
use penpen_core::packets::login::Push;
use penpen_core::packets::receipts::{GroupReads, MemberRead};
use penpen_core::{GroupId, UserId};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};

/// The watches of every session and the marks waiting for them.
#[derive(Debug)]
pub struct Reads {
    state: Mutex<State>,
    /// Wakes [`run`] when marks wait that it may not know of.
    wake: Notify,
}

#[derive(Debug)]
struct State {
    coalescer: Coalescer,
    /// Each watched group's watching sessions (user, hub session id).
    watchers: HashMap<GroupId, Vec<(UserId, u64)>>,
    /// The group each watching session watches, with its hold on the
    /// group's bus subscription (dropped when the session stops watching).
    sessions: HashMap<u64, (GroupId, Hold)>,
}

impl State {
    fn stop(&mut self, session: u64) {
        let Some((gid, _hold)) = self.sessions.remove(&session) else {
            return;
        };
        if let Some(watching) = self.watchers.get_mut(&gid) {
            watching.retain(|(_, s)| *s != session);
            if watching.is_empty() {
                self.watchers.remove(&gid);
                self.coalescer.forget(gid);
            }
        }
    }
}

impl Reads {
    /// No watches; changes released at most once per `interval` per group
    /// (zero: every mark at once).
    pub fn new(interval: Duration) -> Reads {
        Reads {
            state: Mutex::new(State {
                coalescer: Coalescer::new(interval),
                watchers: HashMap::new(),
                sessions: HashMap::new(),
            }),
            wake: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change to the state is complete before anything can panic.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Session `session` of `user` now watches `gid` (replacing what it
    /// watched; `hold` keeps the group's bus subscription while it does),
    /// or nothing.
    pub fn watch(&self, user: &UserId, session: u64, gid: Option<(GroupId, Hold)>) {
        let mut state = self.lock();
        state.stop(session);
        if let Some((gid, hold)) = gid {
            state.sessions.insert(session, (gid, hold));
            state
                .watchers
                .entry(gid)
                .or_default()
                .push((user.clone(), session));
        }
    }

    /// The session ended: it watches nothing.
    pub fn end_session(&self, session: u64) {
        self.lock().stop(session);
    }

    /// `user` is no longer in group `gid`: their sessions stop watching it.
    pub fn left_group(&self, gid: GroupId, user: &UserId) {
        let mut state = self.lock();
        let sessions: Vec<u64> = state
            .watchers
            .get(&gid)
            .map(|w| {
                w.iter()
                    .filter(|(u, _)| u == user)
                    .map(|(_, s)| *s)
                    .collect()
            })
            .unwrap_or_default();
        for session in sessions {
            state.stop(session);
        }
    }

    /// A member's mark in `gid` moved (committed): on its way to the
    /// group's watchers, at once or coalesced.
    pub fn moved(&self, hub: &Hub, gid: GroupId, mark: MemberRead) {
        let mut state = self.lock();
        if !state.watchers.contains_key(&gid) {
            return;
        }
        match state.coalescer.note(gid, mark, Instant::now()) {
            Some(now) => {
                let watching = state.watchers.get(&gid).cloned().unwrap_or_default();
                drop(state);
                push(hub, gid, vec![now], &watching);
            }
            None => {
                drop(state);
                self.wake.notify_one();
            }
        }
    }

    /// Releases what is due at `now`: the pushes to queue, with when to come back.
    fn release(&self, now: Instant) -> (Vec<Release>, Option<Instant>) {
        let mut state = self.lock();
        let released = state.coalescer.release(now);
        let releases = released
            .into_iter()
            .map(|(gid, marks)| {
                let watching = state.watchers.get(&gid).cloned().unwrap_or_default();
                (gid, marks, watching)
            })
            .collect();
        (releases, state.coalescer.poll_timeout())
    }
}

type Release = (GroupId, Vec<MemberRead>, Vec<(UserId, u64)>);

/// One `reads` change to each watching session (dropped for a session whose
/// queue is full, like other pushes: it watches again after reconnecting).
fn push(hub: &Hub, gid: GroupId, marks: Vec<MemberRead>, watching: &[(UserId, u64)]) {
    let push = Push::Reads {
        reads: GroupReads {
            target: gid,
            full: false,
            marks,
        },
    };
    for (user, session) in watching {
        hub.push_session(user, *session, &push);
    }
}

/// Sends the coalesced changes as they come due, until the server stops.
pub async fn run(
    context: std::sync::Arc<crate::context::Context>,
    shutdown: watch::Receiver<bool>,
) {
    let reads = &context.reads;
    crate::services::run_deadlines(
        shutdown,
        || async {
            let (releases, next) = reads.release(Instant::now());
            for (gid, marks, watching) in releases {
                push(&context.hub, gid, marks, &watching);
            }
            next
        },
        || reads.wake.notified(),
    )
    .await;
}
