//! 1:1 calls (§12): the registry of calls going on, the server's call
//! settings, and the ICE servers handed to clients.
//!
//! The registry only decides; `services::calls` carries out what it decides
//! (pushes on 20888, records in the store) and serves the 24888 sockets.

pub mod ice;
mod registry;
mod relay;

pub(crate) use registry::{Effects, Finished, Invite, PartyOf, Socket, give_way};

use ice::IceConfig;
use penpen_core::packets::call::{
    CallInvitation, CallRequest, CallSignal, IceServersReply, REJOIN_GRACE_MS,
    SERVER_RING_TIMEOUT_MS,
};
use penpen_core::{ErrorReply, UserId};
use registry::{Registry, Timing};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};

/// How many signals wait for one 24888 socket at most: more than one call's
/// limits allow (candidates, renegotiations, accept and end).
const SIGNAL_QUEUE: usize = 512;

/// The server's settings for calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSettings {
    /// An unanswered call ends with `timeout` after this long.
    pub ring_timeout: Duration,
    /// A party's 24888 socket may be gone this long before the call ends `lost`.
    pub rejoin_grace: Duration,
    /// The ICE servers handed to clients.
    pub ice: IceConfig,
}

impl Default for CallSettings {
    fn default() -> CallSettings {
        CallSettings {
            ring_timeout: Duration::from_millis(SERVER_RING_TIMEOUT_MS.unsigned_abs()),
            rejoin_grace: Duration::from_millis(REJOIN_GRACE_MS.unsigned_abs()),
            ice: IceConfig::default(),
        }
    }
}

/// The calls of one server.
#[derive(Debug)]
pub struct Calls {
    registry: Mutex<Registry>,
    /// Wakes the timer task when a deadline may have moved earlier.
    deadlines: Notify,
    next_socket: AtomicU64,
    ice: IceConfig,
    /// Calls across nodes.
    relay: relay::Relay,
}

impl Calls {
    /// No calls yet.
    pub fn new(settings: &CallSettings) -> Calls {
        Calls {
            registry: Mutex::new(Registry::new(Timing {
                ring_timeout: settings.ring_timeout,
                rejoin_grace: settings.rejoin_grace,
            })),
            deadlines: Notify::new(),
            next_socket: AtomicU64::new(1),
            ice: settings.ice.clone(),
            relay: relay::Relay::default(),
        }
    }

    /// The registry, even if a thread panicked holding it (every change to
    /// it leaves it consistent before anything that could panic).
    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// A new 24888 socket of `user`'s session and the queue its signals arrive on.
    pub(crate) fn socket(&self, user: UserId) -> (Socket, mpsc::Receiver<CallSignal>) {
        let (signals, receiver) = mpsc::channel(SIGNAL_QUEUE);
        let socket = Socket {
            id: self.next_socket.fetch_add(1, Ordering::Relaxed),
            user,
            signals,
        };
        (socket, receiver)
    }

    /// The ICE servers for `user` now, and the policy they come with.
    pub(crate) fn ice_servers(&self, user: &UserId) -> IceServersReply {
        let now_s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.ice.reply_for(user, now_s)
    }

    /// `in_meeting` says whether a user is in a meeting (§13); it is asked
    /// while the calls are locked (the lock order is calls, then meetings).
    pub(crate) fn invite(
        &self,
        socket: &Socket,
        invite: Invite,
        now_ms: i64,
        in_meeting: &dyn Fn(&UserId) -> bool,
    ) -> Result<Effects, ErrorReply> {
        let effects = self
            .lock()
            .invite(socket, invite, Instant::now(), now_ms, in_meeting);
        self.deadlines.notify_one();
        effects
    }

    pub(crate) fn act(&self, socket: &Socket, request: CallRequest) -> Result<Effects, ErrorReply> {
        self.lock().act(socket, request, Instant::now())
    }

    pub(crate) fn socket_closed(&self, socket: &Socket) {
        self.lock().socket_closed(socket, Instant::now());
        self.deadlines.notify_one();
    }

    /// Runs `then` with whether `user` is a party of a call, the calls
    /// locked meanwhile, so no invite can make them one before `then` is done.
    pub(crate) fn unless_in_call<T>(&self, user: &UserId, then: impl FnOnce(bool) -> T) -> T {
        let registry = self.lock();
        then(registry.is_party(user))
    }

    /// Whether call `id` is going on here.
    pub(crate) fn has(&self, id: &penpen_core::CallId) -> bool {
        self.lock().has(id)
    }

    /// Calls across nodes.
    pub(crate) fn relay(&self) -> &relay::Relay {
        &self.relay
    }

    pub(crate) fn ringing_for(&self, user: &UserId) -> Option<CallInvitation> {
        self.lock().ringing_for(user)
    }

    /// The call `user` is a party of here, if any.
    pub(crate) fn party_of(&self, user: &UserId) -> Option<PartyOf> {
        self.lock().party_of(user)
    }

    /// Whether `user` is a party of a call here.
    pub(crate) fn is_party(&self, user: &UserId) -> bool {
        self.lock().is_party(user)
    }

    /// Ends the calls that are due, and says when to look next.
    pub(crate) fn expire(&self) -> (Effects, Option<Instant>) {
        let mut registry = self.lock();
        let effects = registry.expire(Instant::now());
        (effects, registry.next_deadline())
    }

    /// Resolves when a deadline may have moved.
    pub(crate) async fn deadlines_changed(&self) {
        self.deadlines.notified().await;
    }
}
