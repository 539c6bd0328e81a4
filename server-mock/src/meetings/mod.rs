//! Meetings (§13): the registry of meetings going on and the server's
//! meeting settings.
//!
//! The registry only decides; `services::meetings` carries out what it
//! decides (pushes on 20888, notices in the store, the SFU's joins) and
//! serves the meeting requests of the 24888 sockets. Participants leave the
//! SFU here, while the registry is locked, so that a leave the registry
//! decided is always ordered before a later join of the same user.

mod meeting;
mod registry;

pub(crate) use registry::{Effects, Socket, Start, Ticket};

use crate::sfu::{ParticipantKey, Sfu};
use penpen_core::packets::login::Push;
use penpen_core::packets::meeting::{
    FIRST_JOIN_GRACE_MS, MAX_PARTICIPANTS, MEDIA_LOST_MS, MeetingSignal, Participant,
};
use penpen_core::{ErrorReply, GroupId, MeetingId, UserId};
use registry::{Registry, Timing};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};

/// How many signals wait for one 24888 socket at most.
const SIGNAL_QUEUE: usize = 256;

/// The server's settings for meetings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingSettings {
    /// A started meeting that nobody joined ends `empty` after this long.
    pub first_join_grace: Duration,
    /// A server offer unanswered this long drops the participant as `lost`.
    pub offer_timeout: Duration,
}

impl Default for MeetingSettings {
    fn default() -> MeetingSettings {
        MeetingSettings {
            first_join_grace: Duration::from_millis(FIRST_JOIN_GRACE_MS.unsigned_abs()),
            offer_timeout: Duration::from_millis(MEDIA_LOST_MS.unsigned_abs()),
        }
    }
}

/// The meetings of one server.
#[derive(Debug)]
pub struct Meetings {
    registry: Mutex<Registry>,
    /// Wakes the timer task when a deadline may have moved earlier.
    deadlines: Notify,
    sfu: Sfu,
}

impl Meetings {
    /// No meetings yet; `rejoin_grace` is the calls' (§12), `max` the
    /// participants one meeting holds (at most [`MAX_PARTICIPANTS`]).
    pub fn new(
        settings: &MeetingSettings,
        rejoin_grace: Duration,
        max: usize,
        sfu: Sfu,
    ) -> Meetings {
        Meetings {
            registry: Mutex::new(Registry::new(Timing {
                first_join_grace: settings.first_join_grace,
                rejoin_grace,
                offer_timeout: settings.offer_timeout,
                max_participants: max.clamp(1, MAX_PARTICIPANTS),
            })),
            deadlines: Notify::new(),
            sfu,
        }
    }

    /// The registry, even if a thread panicked holding it.
    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Runs `decide` on the registry and takes the participants it drops
    /// out of the SFU before the lock is let go.
    fn decide<T>(&self, decide: impl FnOnce(&mut Registry) -> T) -> T
    where
        T: HasEffects,
    {
        let out = self.decide_quietly(decide);
        self.deadlines.notify_one();
        out
    }

    /// [`Meetings::decide`] without waking the timer task (which is the caller).
    fn decide_quietly<T>(&self, decide: impl FnOnce(&mut Registry) -> T) -> T
    where
        T: HasEffects,
    {
        let mut registry = self.lock();
        let mut out = decide(&mut registry);
        if let Some(effects) = out.effects() {
            for user in effects.sfu_leaves.drain(..) {
                self.sfu.remove(ParticipantKey(user.as_str().to_owned()));
            }
        }
        drop(registry);
        out
    }

    /// A 24888 socket's meeting side and the queue its signals arrive on.
    pub(crate) fn socket(&self, id: u64, user: UserId) -> (Socket, mpsc::Receiver<MeetingSignal>) {
        let (signals, receiver) = mpsc::channel(SIGNAL_QUEUE);
        (Socket { id, user, signals }, receiver)
    }

    /// Whether `user` is in a meeting (or joining one): busy for calls.
    pub(crate) fn is_in_meeting(&self, user: &UserId) -> bool {
        self.lock().is_in_meeting(user)
    }

    pub(crate) fn of_group(&self, gid: GroupId) -> Option<MeetingId> {
        self.lock().of_group(gid)
    }

    pub(crate) fn about(&self, id: &MeetingId) -> Option<(GroupId, UserId)> {
        self.lock().about(id)
    }

    pub(crate) fn start(
        &self,
        gid: GroupId,
        by: &UserId,
        now_ms: i64,
    ) -> Result<Start, ErrorReply> {
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|e| {
            ErrorReply::new(
                penpen_core::State::SERVER_ERROR,
                format!("no randomness for a meeting id: {e}"),
            )
        })?;
        let high = u64::from_le_bytes(random[..8].try_into().unwrap_or_default());
        let low = u64::from_le_bytes(random[8..].try_into().unwrap_or_default());
        let id = MeetingId::generated(high, low);
        let start = self.lock().start(gid, by, id, Instant::now(), now_ms);
        self.deadlines.notify_one();
        Ok(start)
    }

    pub(crate) fn started(&self, id: &MeetingId) -> Effects {
        self.decide(|r| r.started(id))
    }

    pub(crate) fn start_failed(&self, id: &MeetingId) {
        self.lock().start_failed(id);
    }

    pub(crate) fn reserve_join(
        &self,
        socket: &Socket,
        id: &MeetingId,
        in_call: bool,
    ) -> Result<Ticket, ErrorReply> {
        let ticket = self.lock().reserve_join(socket, id, in_call);
        self.deadlines.notify_one();
        ticket
    }

    pub(crate) fn commit_join(
        &self,
        socket: &Socket,
        id: &MeetingId,
        ticket: &Ticket,
        answer: &str,
        mic: bool,
        camera: bool,
    ) -> Result<(Vec<Participant>, Effects), ErrorReply> {
        let result = self.decide(|r| r.commit_join(socket, id, ticket, answer, mic, camera));
        if result.is_err() {
            // The meeting ended or the user was removed while the SFU worked.
            self.sfu.remove(key(&socket.user));
        }
        result
    }

    pub(crate) fn abort_join(&self, user: &UserId, id: &MeetingId, ticket: &Ticket) -> Effects {
        self.decide(|r| r.abort_join(user, id, ticket, Instant::now()))
    }

    pub(crate) fn check_answer(&self, socket: &Socket, id: &MeetingId) -> Result<u64, ErrorReply> {
        self.lock().check_answer(socket, id)
    }

    pub(crate) fn answered(&self, socket: &Socket, id: &MeetingId, number: u64) {
        self.decide(|r| r.answered(socket, id, number));
    }

    pub(crate) fn media(
        &self,
        socket: &Socket,
        id: &MeetingId,
        mic: bool,
        camera: bool,
    ) -> Result<(), ErrorReply> {
        self.lock().media(socket, id, mic, camera)
    }

    pub(crate) fn leave(&self, socket: &Socket, id: &MeetingId) -> Result<Effects, ErrorReply> {
        self.decide(|r| r.leave(socket, id, Instant::now()))
    }

    pub(crate) fn end_by(
        &self,
        id: &MeetingId,
        by: &UserId,
        socket: u64,
    ) -> Result<Effects, ErrorReply> {
        self.decide(|r| r.end_by(id, by, socket, Instant::now()))
    }

    pub(crate) fn socket_closed(&self, socket: &Socket) {
        self.decide(|r| r.socket_closed(socket, Instant::now()));
    }

    pub(crate) fn sfu_offer(&self, user: &UserId, sdp: String) {
        self.decide(|r| r.sfu_offer(user, sdp, Instant::now()));
    }

    pub(crate) fn sfu_lost(&self, user: &UserId, room: &str) -> Effects {
        self.decide(|r| r.sfu_lost(user, room, Instant::now()))
    }

    pub(crate) fn member_removed(&self, gid: GroupId, user: &UserId) -> Effects {
        self.decide(|r| r.member_removed(gid, user, Instant::now()))
    }

    pub(crate) fn push_of_group(&self, gid: GroupId) -> Option<Push> {
        self.lock().push_of_group(gid)
    }

    pub(crate) fn running(&self) -> Vec<(GroupId, Push)> {
        self.lock().running()
    }

    /// Does what is due, and says when to look next.
    pub(crate) fn expire(&self) -> (Effects, Option<Instant>) {
        let effects = self.decide_quietly(|r| r.expire(Instant::now()));
        (effects, self.lock().next_deadline())
    }

    /// Resolves when a deadline may have moved.
    pub(crate) async fn deadlines_changed(&self) {
        self.deadlines.notified().await;
    }

    /// The SFU of these meetings.
    pub(crate) fn sfu(&self) -> &Sfu {
        &self.sfu
    }
}

/// The SFU's name of a user's peer connection: the user id, which is also
/// the stream id of their forwarded tracks (§13).
pub(crate) fn key(user: &UserId) -> ParticipantKey {
    ParticipantKey(user.as_str().to_owned())
}

/// What a registry decision may leave for the SFU.
trait HasEffects {
    fn effects(&mut self) -> Option<&mut Effects>;
}

impl HasEffects for Effects {
    fn effects(&mut self) -> Option<&mut Effects> {
        Some(self)
    }
}

impl HasEffects for () {
    fn effects(&mut self) -> Option<&mut Effects> {
        None
    }
}

impl<T, E> HasEffects for Result<T, E>
where
    T: HasEffects,
{
    fn effects(&mut self) -> Option<&mut Effects> {
        self.as_mut().ok().and_then(HasEffects::effects)
    }
}

impl<T> HasEffects for (T, Effects) {
    fn effects(&mut self) -> Option<&mut Effects> {
        Some(&mut self.1)
    }
}
