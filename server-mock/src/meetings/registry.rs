//! The meetings going on: who is in which, which 24888 socket carries each
//! participant, and the rules of §13 that decide what a request may do.
//!
//! It never waits and never touches the network, the store or the SFU: a
//! request or a tick of the clock goes in (with `now`), signals are queued
//! on the participants' sockets (non-blocking), and what else must happen
//! (pushes to the group, notices to store, participants to take out of the
//! SFU) comes back as [`Effects`].

use super::meeting::{Meeting, Place};
use penpen_core::packets::login::Push;
use penpen_core::packets::meeting::{
    MeetingEndReason, MeetingEnded, MeetingEndedNotice, MeetingSignal, MeetingSignalBody,
    MeetingSignalEvent, Participant,
};
use penpen_core::{ErrorReply, GroupId, MeetingId, State, UserId};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A 24888 socket, as meetings know it.
#[derive(Debug, Clone)]
pub(crate) struct Socket {
    /// Unique among the server's sockets (shared with the calls' numbering).
    pub(crate) id: u64,
    /// The session's user.
    pub(crate) user: UserId,
    /// Where signals go; the socket's loop writes them out.
    pub(crate) signals: mpsc::Sender<MeetingSignal>,
}

impl Socket {
    /// Queues `event` of `meeting`. A full queue means the peer stopped
    /// reading: the signal is dropped, and the send timeout closes the socket.
    fn signal(&self, meeting: &MeetingId, event: MeetingSignalEvent) {
        let signal = MeetingSignal {
            signal: MeetingSignalBody {
                meeting: meeting.clone(),
                event,
            },
        };
        if self.signals.try_send(signal).is_err() {
            tracing::debug!(%meeting, user = %self.user, "a 24888 socket's signal queue is full; dropped a meeting signal");
        }
    }
}

/// A meeting that ended, to be stored as a type-25 notice in its group.
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    pub(crate) gid: GroupId,
    pub(crate) notice: MeetingEndedNotice,
}

/// What the registry leaves for its owner to do.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    /// Pushes on 20888 to every member of a group.
    pub(crate) group_pushes: Vec<(GroupId, Push)>,
    /// Pushes on 20888 to one user's sessions.
    pub(crate) user_pushes: Vec<(UserId, Push)>,
    /// Users whose peer connection leaves the SFU.
    pub(crate) sfu_leaves: Vec<UserId>,
    /// Meetings to store as history.
    pub(crate) finished: Vec<Finished>,
}

/// The server's timing and size of meetings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timing {
    /// A started meeting nobody joined ends `empty` after this long.
    pub(crate) first_join_grace: Duration,
    /// A participant's socket may be gone this long before they are `lost`.
    pub(crate) rejoin_grace: Duration,
    /// A server offer may wait this long for its answer before the
    /// participant is `lost`.
    pub(crate) offer_timeout: Duration,
    /// The most participants in one meeting.
    pub(crate) max_participants: usize,
}

/// A join under way: what [`Registry::commit_join`] needs back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ticket {
    pub(crate) number: u64,
    /// The user has a place already (another socket, or this one): their
    /// old peer connection must leave the SFU before the new one joins.
    pub(crate) replacing: bool,
}

/// What `meeting_start` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Start {
    /// The group's meeting is running already.
    Running(MeetingId),
    /// A new meeting, not joinable until its notice is stored.
    New(MeetingId),
}

/// The meetings going on.
#[derive(Debug)]
pub(crate) struct Registry {
    meetings: HashMap<MeetingId, Meeting>,
    by_group: HashMap<GroupId, MeetingId>,
    /// The meeting each user has a place in or is joining (never more than one).
    users: HashMap<UserId, MeetingId>,
    timing: Timing,
    next_ticket: u64,
}

/// `now` plus a configured wait; a wait too long for the clock means never.
fn later(now: Instant, wait: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    now.checked_add(wait)
        .or_else(|| now.checked_add(YEAR))
        .unwrap_or(now)
}

pub(crate) fn gone(id: &MeetingId) -> ErrorReply {
    ErrorReply::new(
        State::CALL_GONE,
        format!("meeting {id} is not running: it ended or never began"),
    )
}

fn not_in(id: &MeetingId) -> ErrorReply {
    ErrorReply::new(
        State::CALL_GONE,
        format!(
            "this socket does not carry your participation in meeting {id}; expected meeting_join first (from this socket)"
        ),
    )
}

/// The `o=` session id of an SDP (empty when it has none).
pub(crate) fn sdp_session(sdp: &str) -> &str {
    sdp.lines()
        .find_map(|line| line.strip_prefix("o="))
        .and_then(|origin| origin.split_whitespace().nth(1))
        .unwrap_or("")
}

impl Registry {
    pub(crate) fn new(timing: Timing) -> Registry {
        Registry {
            meetings: HashMap::new(),
            by_group: HashMap::new(),
            users: HashMap::new(),
            timing,
            next_ticket: 1,
        }
    }

    /// The group's meeting, if one is running or starting.
    pub(crate) fn of_group(&self, gid: GroupId) -> Option<MeetingId> {
        self.by_group.get(&gid).cloned()
    }

    /// The group and starter of a running meeting.
    pub(crate) fn about(&self, id: &MeetingId) -> Option<(GroupId, UserId)> {
        self.meetings
            .get(id)
            .filter(|m| m.running)
            .map(|m| (m.gid, m.started_by.clone()))
    }

    /// Whether `user` has a place in a meeting or is joining one.
    pub(crate) fn is_in_meeting(&self, user: &UserId) -> bool {
        self.users.contains_key(user)
    }

    /// Starts the group's meeting as `id`, or names the one it has.
    pub(crate) fn start(
        &mut self,
        gid: GroupId,
        by: &UserId,
        id: MeetingId,
        now: Instant,
        now_ms: i64,
    ) -> Start {
        if let Some(running) = self.by_group.get(&gid) {
            return Start::Running(running.clone());
        }
        self.meetings.insert(
            id.clone(),
            Meeting {
                gid,
                started_by: by.clone(),
                started_at_ms: now_ms,
                started: now,
                running: false,
                first_join_until: later(now, self.timing.first_join_grace),
                places: Vec::new(),
                joining: Vec::new(),
                took_part: Vec::new(),
            },
        );
        self.by_group.insert(gid, id.clone());
        Start::New(id)
    }

    /// The start notice of `id` is stored: the meeting runs, and its group
    /// sees it.
    pub(crate) fn started(&mut self, id: &MeetingId) -> Effects {
        let mut effects = Effects::default();
        if let Some(meeting) = self.meetings.get_mut(id) {
            meeting.running = true;
            effects.group_pushes.push((meeting.gid, meeting.push(id)));
        }
        effects
    }

    /// The start notice of `id` could not be stored: no meeting started.
    pub(crate) fn start_failed(&mut self, id: &MeetingId) {
        if let Some(meeting) = self.meetings.remove(id) {
            self.by_group.remove(&meeting.gid);
        }
    }

    /// Holds a place for `socket`'s user while the SFU takes their offer.
    /// `in_call` says whether the user is a party of a call.
    pub(crate) fn reserve_join(
        &mut self,
        socket: &Socket,
        id: &MeetingId,
        in_call: bool,
    ) -> Result<Ticket, ErrorReply> {
        let user = &socket.user;
        let meeting = self
            .meetings
            .get_mut(id)
            .filter(|m| m.running)
            .ok_or_else(|| gone(id))?;
        if in_call {
            return Err(ErrorReply::new(
                State::IN_ANOTHER_CALL,
                "you are a party of a call; end it before joining a meeting",
            ));
        }
        match self.users.get(user) {
            Some(other) if other != id => {
                return Err(ErrorReply::new(
                    State::IN_ANOTHER_CALL,
                    format!("you are in meeting {other}; leave it before joining another"),
                ));
            }
            _ => {}
        }
        if meeting.joining.iter().any(|(u, _)| u == user) {
            return Err(ErrorReply::new(
                State::IN_ANOTHER_CALL,
                format!("a join of yours to meeting {id} is under way; wait for its reply"),
            ));
        }
        let replacing = meeting.places.iter().any(|p| &p.user == user);
        let max = self.timing.max_participants;
        if !replacing && meeting.places.len() + meeting.joining.len() >= max {
            return Err(ErrorReply::new(
                State::MEETING_FULL,
                format!("meeting {id} already has its {max} participants"),
            ));
        }
        let number = self.next_ticket;
        self.next_ticket += 1;
        meeting.joining.push((user.clone(), number));
        self.users.insert(user.clone(), id.clone());
        Ok(Ticket { number, replacing })
    }

    /// The SFU answered the join of `ticket`: the socket now carries the
    /// user's place (kept where it was when they were in already). `answer`
    /// is the SFU's answer. Refused (36) when the meeting ended or the user
    /// was removed meanwhile: the caller takes the user out of the SFU.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn commit_join(
        &mut self,
        socket: &Socket,
        id: &MeetingId,
        ticket: &Ticket,
        answer: &str,
        mic: bool,
        camera: bool,
    ) -> Result<(Vec<Participant>, Effects), ErrorReply> {
        let user = &socket.user;
        let meeting = self.meetings.get_mut(id).ok_or_else(|| gone(id))?;
        let Some(at) = meeting
            .joining
            .iter()
            .position(|(u, n)| u == user && *n == ticket.number)
        else {
            return Err(gone(id));
        };
        meeting.joining.remove(at);
        let mut effects = Effects::default();
        let session = sdp_session(answer).to_owned();
        if let Some(place) = meeting.places.iter_mut().find(|p| &p.user == user) {
            if let Some(old) = place.socket.take().filter(|s| s.id != socket.id) {
                old.signal(
                    id,
                    MeetingSignalEvent::Ended(MeetingEndReason::JoinedElsewhere),
                );
            }
            place.socket = Some(socket.clone());
            place.gone_until = None;
            place.offer_until = None;
            place.mic = mic;
            place.camera = camera;
            place.session = session;
        } else {
            meeting.places.push(Place {
                user: user.clone(),
                socket: Some(socket.clone()),
                gone_until: None,
                offer_until: None,
                offers: 0,
                mic,
                camera,
                session,
            });
            if !meeting.took_part.contains(user) {
                meeting.took_part.push(user.clone());
            }
            effects.group_pushes.push((meeting.gid, meeting.push(id)));
        }
        Ok((meeting.participants(), effects))
    }

    /// The SFU refused the join of `ticket`. When the user's old peer
    /// connection already left the SFU for it, their old place goes too.
    pub(crate) fn abort_join(
        &mut self,
        user: &UserId,
        id: &MeetingId,
        ticket: &Ticket,
        now: Instant,
    ) -> Effects {
        let mut effects = Effects::default();
        let Some(meeting) = self.meetings.get_mut(id) else {
            return effects;
        };
        meeting
            .joining
            .retain(|(u, n)| !(u == user && *n == ticket.number));
        if ticket.replacing
            && let Some(at) = meeting.places.iter().position(|p| &p.user == user)
        {
            self.drop_place(id, at, MeetingEndReason::Lost, None, now, &mut effects);
        } else {
            self.forget_user_if_out(user);
            self.end_if_empty(id, now, &mut effects);
        }
        effects
    }

    /// Checks that `socket` carries a place with an offer waiting; returns
    /// which offer that is.
    pub(crate) fn check_answer(&self, socket: &Socket, id: &MeetingId) -> Result<u64, ErrorReply> {
        let meeting = self
            .meetings
            .get(id)
            .filter(|m| m.running)
            .ok_or_else(|| gone(id))?;
        let at = meeting.carried_by(socket).ok_or_else(|| not_in(id))?;
        if meeting.places[at].offer_until.is_none() {
            return Err(ErrorReply::new(
                State::CALL_GONE,
                format!("no offer of meeting {id} waits for an answer"),
            ));
        }
        Ok(meeting.places[at].offers)
    }

    /// The SFU took the answer to offer `number`: it waits no more (unless
    /// a newer offer came meanwhile).
    pub(crate) fn answered(&mut self, socket: &Socket, id: &MeetingId, number: u64) {
        if let Some(meeting) = self.meetings.get_mut(id)
            && let Some(at) = meeting.carried_by(socket)
            && meeting.places[at].offers == number
        {
            meeting.places[at].offer_until = None;
        }
    }

    /// The microphone or camera changed: the others hear `participants`.
    pub(crate) fn media(
        &mut self,
        socket: &Socket,
        id: &MeetingId,
        mic: bool,
        camera: bool,
    ) -> Result<(), ErrorReply> {
        let meeting = self
            .meetings
            .get_mut(id)
            .filter(|m| m.running)
            .ok_or_else(|| gone(id))?;
        let at = meeting.carried_by(socket).ok_or_else(|| not_in(id))?;
        meeting.places[at].mic = mic;
        meeting.places[at].camera = camera;
        let list = meeting.participants();
        for place in meeting.places.iter().filter(|p| p.user != socket.user) {
            if let Some(s) = &place.socket {
                s.signal(id, MeetingSignalEvent::Participants(list.clone()));
            }
        }
        Ok(())
    }

    /// `socket`'s user leaves; the meeting goes on for the others.
    pub(crate) fn leave(
        &mut self,
        socket: &Socket,
        id: &MeetingId,
        now: Instant,
    ) -> Result<Effects, ErrorReply> {
        let meeting = self
            .meetings
            .get(id)
            .filter(|m| m.running)
            .ok_or_else(|| gone(id))?;
        let at = meeting.carried_by(socket).ok_or_else(|| not_in(id))?;
        let mut effects = Effects::default();
        // The reason is unheard: the leaver's socket has its reply.
        self.drop_place(
            id,
            at,
            MeetingEndReason::Empty,
            Some(socket.id),
            now,
            &mut effects,
        );
        Ok(effects)
    }

    /// Ends the meeting for everyone, by `by` (allowed: the service checked
    /// the starter or holder), asked from `socket`.
    pub(crate) fn end_by(
        &mut self,
        id: &MeetingId,
        by: &UserId,
        socket: u64,
        now: Instant,
    ) -> Result<Effects, ErrorReply> {
        if !self.meetings.get(id).is_some_and(|m| m.running) {
            return Err(gone(id));
        }
        let mut effects = Effects::default();
        self.end(
            id,
            MeetingEndReason::Ended,
            Some(by.clone()),
            Some(socket),
            now,
            &mut effects,
        );
        Ok(effects)
    }

    /// A 24888 socket closed: a place it carried waits the rejoin grace.
    pub(crate) fn socket_closed(&mut self, socket: &Socket, now: Instant) {
        let Some(id) = self.users.get(&socket.user) else {
            return;
        };
        let grace = later(now, self.timing.rejoin_grace);
        if let Some(meeting) = self.meetings.get_mut(id)
            && let Some(at) = meeting.carried_by(socket)
        {
            let place = &mut meeting.places[at];
            place.socket = None;
            place.gone_until = Some(grace);
            // An offer cannot reach it now; the grace decides.
            place.offer_until = None;
        }
    }

    /// The SFU offers `user` a change: relayed to the socket that carries
    /// their place, with everyone in the meeting.
    pub(crate) fn sfu_offer(&mut self, user: &UserId, sdp: String, now: Instant) {
        let Some(id) = self.users.get(user).cloned() else {
            return;
        };
        let timeout = self.timing.offer_timeout;
        let Some(meeting) = self.meetings.get_mut(&id) else {
            return;
        };
        let list = meeting.participants();
        let Some(place) = meeting.places.iter_mut().find(|p| &p.user == user) else {
            return;
        };
        if sdp_session(&sdp) != place.session {
            return; // an offer of a replaced peer connection
        }
        if let Some(socket) = &place.socket {
            place.offer_until = Some(later(now, timeout));
            place.offers += 1;
            socket.signal(
                &id,
                MeetingSignalEvent::Offer {
                    sdp,
                    participants: list,
                },
            );
        }
    }

    /// The SFU lost `user`'s media: they are dropped as `lost`.
    pub(crate) fn sfu_lost(&mut self, user: &UserId, room: &str, now: Instant) -> Effects {
        let mut effects = Effects::default();
        let Ok(id) = MeetingId::parse(room) else {
            return effects;
        };
        let Some(meeting) = self.meetings.get(&id) else {
            return effects;
        };
        // A join under way replaces the lost connection anyway.
        if meeting.joining.iter().any(|(u, _)| u == user) {
            return effects;
        }
        if let Some(at) = meeting.places.iter().position(|p| &p.user == user) {
            self.drop_place(&id, at, MeetingEndReason::Lost, None, now, &mut effects);
            // The SFU dropped it already.
            effects.sfu_leaves.retain(|u| u != user);
        }
        effects
    }

    /// `user` is no longer a member of `gid`: out of its meeting.
    pub(crate) fn member_removed(&mut self, gid: GroupId, user: &UserId, now: Instant) -> Effects {
        let mut effects = Effects::default();
        let Some(id) = self.by_group.get(&gid).cloned() else {
            return effects;
        };
        let Some(meeting) = self.meetings.get_mut(&id) else {
            return effects;
        };
        if !meeting.running {
            return effects;
        }
        effects.user_pushes.push((
            user.clone(),
            Push::MeetingEnded {
                meeting_ended: MeetingEnded {
                    gid,
                    meeting: id.clone(),
                    reason: MeetingEndReason::Removed,
                },
            },
        ));
        meeting.joining.retain(|(u, _)| u != user);
        match meeting.places.iter().position(|p| &p.user == user) {
            Some(at) => {
                self.drop_place(&id, at, MeetingEndReason::Removed, None, now, &mut effects)
            }
            None => {
                self.forget_user_if_out(user);
                self.end_if_empty(&id, now, &mut effects);
            }
        }
        effects
    }

    /// The push of the group's running meeting, for a member added to it.
    pub(crate) fn push_of_group(&self, gid: GroupId) -> Option<Push> {
        let id = self.by_group.get(&gid)?;
        let meeting = self.meetings.get(id).filter(|m| m.running)?;
        Some(meeting.push(id))
    }

    /// Every running meeting: its group and its push.
    pub(crate) fn running(&self) -> Vec<(GroupId, Push)> {
        let mut all: Vec<(GroupId, Push)> = self
            .meetings
            .iter()
            .filter(|(_, m)| m.running)
            .map(|(id, m)| (m.gid, m.push(id)))
            .collect();
        all.sort_by_key(|(gid, _)| *gid);
        all
    }

    /// The earliest moment something must happen by itself.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.meetings.values().filter_map(Meeting::deadline).min()
    }

    /// Drops the participants whose grace or offer ran out, and ends the
    /// meetings nobody joined in time.
    pub(crate) fn expire(&mut self, now: Instant) -> Effects {
        let mut effects = Effects::default();
        let ids: Vec<MeetingId> = self.meetings.keys().cloned().collect();
        for id in ids {
            while let Some(at) = self.meetings.get(&id).and_then(|meeting| {
                meeting
                    .places
                    .iter()
                    .position(|p| p.deadline().is_some_and(|t| t <= now))
            }) {
                self.drop_place(&id, at, MeetingEndReason::Lost, None, now, &mut effects);
            }
            if let Some(meeting) = self.meetings.get(&id)
                && meeting.took_part.is_empty()
                && meeting.unattended()
                && meeting.first_join_until <= now
            {
                self.end(&id, MeetingEndReason::Empty, None, None, now, &mut effects);
            }
        }
        effects
    }

    /// Takes the place at `at` out, telling its socket (but `asked_by`)
    /// `reason`; ends the meeting `empty` when nobody is left.
    fn drop_place(
        &mut self,
        id: &MeetingId,
        at: usize,
        reason: MeetingEndReason,
        asked_by: Option<u64>,
        now: Instant,
        effects: &mut Effects,
    ) {
        let Some(meeting) = self.meetings.get_mut(id) else {
            return;
        };
        let place = meeting.places.remove(at);
        if let Some(socket) = place.socket.as_ref().filter(|s| Some(s.id) != asked_by) {
            socket.signal(id, MeetingSignalEvent::Ended(reason));
        }
        // A join of the same user under way took the old connection out
        // itself; a leave now could take out the new one.
        if !meeting.joining.iter().any(|(u, _)| u == &place.user) {
            effects.sfu_leaves.push(place.user.clone());
        }
        if !meeting.unattended() {
            effects.group_pushes.push((meeting.gid, meeting.push(id)));
        }
        self.forget_user_if_out(&place.user);
        self.end_if_empty(id, now, effects);
    }

    /// Ends a meeting that was joined and has nobody left.
    fn end_if_empty(&mut self, id: &MeetingId, now: Instant, effects: &mut Effects) {
        let empty = self
            .meetings
            .get(id)
            .is_some_and(|m| m.running && m.unattended() && !m.took_part.is_empty());
        if empty {
            self.end(id, MeetingEndReason::Empty, None, None, now, effects);
        }
    }

    fn forget_user_if_out(&mut self, user: &UserId) {
        let Some(id) = self.users.get(user) else {
            return;
        };
        let still = self.meetings.get(id).is_some_and(|m| {
            m.places.iter().any(|p| &p.user == user) || m.joining.iter().any(|(u, _)| u == user)
        });
        if !still {
            self.users.remove(user);
        }
    }

    /// Ends a meeting: `ended` to the participants' sockets (but the one
    /// that asked), `meeting_ended` to the group, and its notice.
    fn end(
        &mut self,
        id: &MeetingId,
        reason: MeetingEndReason,
        by: Option<UserId>,
        asked_by: Option<u64>,
        now: Instant,
        effects: &mut Effects,
    ) {
        let Some(meeting) = self.meetings.remove(id) else {
            return;
        };
        self.by_group.remove(&meeting.gid);
        for place in &meeting.places {
            if let Some(socket) = place.socket.as_ref().filter(|s| Some(s.id) != asked_by) {
                socket.signal(id, MeetingSignalEvent::Ended(reason));
            }
            effects.sfu_leaves.push(place.user.clone());
            self.users.remove(&place.user);
        }
        for (user, _) in &meeting.joining {
            self.users.remove(user);
        }
        effects.group_pushes.push((
            meeting.gid,
            Push::MeetingEnded {
                meeting_ended: MeetingEnded {
                    gid: meeting.gid,
                    meeting: id.clone(),
                    reason,
                },
            },
        ));
        let duration = now.saturating_duration_since(meeting.started).as_secs();
        effects.finished.push(Finished {
            gid: meeting.gid,
            notice: MeetingEndedNotice {
                meeting: id.clone(),
                by,
                duration: u32::try_from(duration).unwrap_or(u32::MAX),
                participants: meeting.took_part,
            },
        });
    }
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
