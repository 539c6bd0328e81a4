//! The calls going on: who is in which, where each party's 24888 socket is,
//! and the rules of §12 that decide what a request may do.
//!
//! It never waits and never touches the network or the store: a request or
//! a tick of the clock goes in (with `now`), signals are queued on the
//! parties' sockets (non-blocking), and what else must happen (pushes on
//! 20888, records to store) comes back as [`Effects`].

use penpen_core::packets::call::{
    CallEnded, CallInvitation, CallOutcome, CallRecord, CallRequest, CallSignal, EndReason,
    IceCandidate, MAX_CANDIDATES_PER_CALL, MAX_RENEGOTIATIONS_PER_CALL, Media, Signal, SignalEvent,
};
use penpen_core::packets::login::Push;
use penpen_core::{CallId, ErrorReply, State, UserId};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A 24888 socket, as calls know it.
#[derive(Debug, Clone)]
pub(crate) struct Socket {
    /// Unique among the server's sockets.
    pub(crate) id: u64,
    /// The session's user.
    pub(crate) user: UserId,
    /// Where relayed signals go; the socket's loop writes them out.
    pub(crate) signals: mpsc::Sender<CallSignal>,
}

impl Socket {
    /// Queues `event` of `call` for this socket. A full queue means the peer
    /// stopped reading (the limits keep a call's signals well below the
    /// queue's size): the signal is dropped, and the send timeout closes the
    /// socket soon, which the call sees as a lost socket.
    fn signal(&self, call: &CallId, event: SignalEvent) {
        let signal = CallSignal {
            signal: Signal {
                call: call.clone(),
                event,
            },
        };
        if self.signals.try_send(signal).is_err() {
            tracing::debug!(%call, user = %self.user, "a 24888 socket's signal queue is full; dropped a signal");
        }
    }
}

/// A push for one user's 20888 sessions.
#[derive(Debug, Clone)]
pub(crate) struct Notice {
    /// Whose sessions.
    pub(crate) to: UserId,
    /// What to push.
    pub(crate) push: Push,
}

/// A call that ended, to be stored in both people's history.
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    /// The caller (the record's sender).
    pub(crate) caller: UserId,
    /// The callee (the record's recipient).
    pub(crate) callee: UserId,
    /// The record.
    pub(crate) record: CallRecord,
}

/// What the registry leaves for its owner to do.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    /// Pushes on 20888.
    pub(crate) notices: Vec<Notice>,
    /// Calls to store as history.
    pub(crate) finished: Vec<Finished>,
}

/// The server's timing of calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timing {
    /// An unanswered call ends `timeout` after this long.
    pub(crate) ring_timeout: Duration,
    /// A party's socket may be gone this long before the call ends `lost`.
    pub(crate) rejoin_grace: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Caller,
    Callee,
}

/// One party's side of a call.
#[derive(Debug, Default)]
struct Side {
    /// The socket that carries the call for this party.
    socket: Option<Socket>,
    /// Set while the socket is gone: the call ends `lost` then.
    gone_until: Option<Instant>,
    /// The callee's answer, when the caller's socket was gone at the accept:
    /// given on the caller's `rejoin`, since nothing else would tell it.
    missed_accept: Option<String>,
    candidates: usize,
    offers: usize,
    answers: usize,
}

#[derive(Debug)]
enum Phase {
    Ringing {
        /// Whether `ringing` was relayed to the caller already.
        rang: bool,
        /// The caller's candidates, kept for the session that accepts.
        early: Vec<IceCandidate>,
        /// The server's ring timeout.
        until: Instant,
    },
    Accepted {
        at: Instant,
    },
}

#[derive(Debug)]
struct Call {
    caller: UserId,
    callee: UserId,
    media: Media,
    /// The caller's offer, for sessions of the callee that start while it rings.
    offer: String,
    /// When it was invited, in ms since the Unix epoch.
    ts: i64,
    phase: Phase,
    caller_side: Side,
    callee_side: Side,
}

impl Call {
    fn side(&mut self, role: Role) -> &mut Side {
        match role {
            Role::Caller => &mut self.caller_side,
            Role::Callee => &mut self.callee_side,
        }
    }

    fn other(&mut self, role: Role) -> &mut Side {
        match role {
            Role::Caller => &mut self.callee_side,
            Role::Callee => &mut self.caller_side,
        }
    }

    fn invitation(&self, id: &CallId) -> CallInvitation {
        CallInvitation {
            call: id.clone(),
            from: self.caller.clone(),
            media: self.media,
            sdp: self.offer.clone(),
            ts: self.ts,
        }
    }

    fn deadline(&self) -> Option<Instant> {
        let ring = match self.phase {
            Phase::Ringing { until, .. } => Some(until),
            Phase::Accepted { .. } => None,
        };
        [
            ring,
            self.caller_side.gone_until,
            self.callee_side.gone_until,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// The calls going on.
#[derive(Debug)]
pub(crate) struct Registry {
    calls: HashMap<CallId, Call>,
    /// The call each user is a party of (never more than one).
    parties: HashMap<UserId, CallId>,
    timing: Timing,
}

/// `now` plus a configured wait; a wait too long for the clock (a setting
/// of centuries) means "not in this server's life".
fn later(now: Instant, wait: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    now.checked_add(wait)
        .or_else(|| now.checked_add(YEAR))
        .unwrap_or(now)
}

fn refused(state: State, error: impl Into<String>) -> ErrorReply {
    ErrorReply::new(state, error)
}

fn gone(id: &CallId) -> ErrorReply {
    refused(
        State::CALL_GONE,
        format!("call {id} is not going on: it ended, was cancelled, or never began"),
    )
}

fn over_limit(id: &CallId, what: &str, max: usize) -> ErrorReply {
    refused(
        State::BAD_PACKET,
        format!("call {id} already carried {max} {what} from you; expected at most {max}"),
    )
}

impl Registry {
    pub(crate) fn new(timing: Timing) -> Registry {
        Registry {
            calls: HashMap::new(),
            parties: HashMap::new(),
            timing,
        }
    }

    /// Starts a call from `socket`'s user to `to` (who exists). A callee in
    /// another call, or calling the caller at this moment, ends it at once.
    pub(crate) fn invite(
        &mut self,
        socket: &Socket,
        invite: Invite,
        now: Instant,
        now_ms: i64,
        in_meeting: &dyn Fn(&UserId) -> bool,
    ) -> Result<Effects, ErrorReply> {
        let Invite {
            call: id,
            to,
            media,
            sdp,
        } = invite;
        let caller = &socket.user;
        if &to == caller {
            return Err(refused(
                State::FORBIDDEN,
                "you cannot call yourself; expected another user in `to`",
            ));
        }
        if self.calls.contains_key(&id) {
            return Err(refused(
                State::BAD_PACKET,
                format!("call id {id} is in use; expected a new random id"),
            ));
        }
        let mut effects = Effects::default();
        if let Some(current) = self.parties.get(caller) {
            let crossing = self.calls.get(current).is_some_and(|other| {
                other.caller == to
                    && &other.callee == caller
                    && matches!(other.phase, Phase::Ringing { .. })
            });
            if !crossing {
                return Err(refused(
                    State::IN_ANOTHER_CALL,
                    format!(
                        "you are a party of call {current}; end it (hang up, cancel or decline) before calling"
                    ),
                ));
            }
            // Glare: both called each other; this invite gives way.
            end_unregistered(socket, &id, &to, media, EndReason::Glare, &mut effects);
            return Ok(effects);
        }
        if in_meeting(caller) {
            return Err(refused(
                State::IN_ANOTHER_CALL,
                "you are in a meeting; leave it before calling",
            ));
        }
        if self.parties.contains_key(&to) || in_meeting(&to) {
            end_unregistered(socket, &id, &to, media, EndReason::Busy, &mut effects);
            return Ok(effects);
        }
        let call = Call {
            caller: caller.clone(),
            callee: to.clone(),
            media,
            offer: sdp,
            ts: now_ms,
            phase: Phase::Ringing {
                rang: false,
                early: Vec::new(),
                until: later(now, self.timing.ring_timeout),
            },
            caller_side: Side {
                socket: Some(socket.clone()),
                ..Side::default()
            },
            callee_side: Side::default(),
        };
        effects.notices.push(Notice {
            to: to.clone(),
            push: Push::Call {
                call: Box::new(call.invitation(&id)),
            },
        });
        self.parties.insert(caller.clone(), id.clone());
        self.parties.insert(to, id.clone());
        self.calls.insert(id, call);
        Ok(effects)
    }

    /// Any request about an existing call, from one of `socket`'s user's sessions.
    pub(crate) fn act(
        &mut self,
        socket: &Socket,
        request: CallRequest,
        now: Instant,
    ) -> Result<Effects, ErrorReply> {
        let Some(id) = request.call().cloned() else {
            return Err(refused(
                State::BAD_PACKET,
                "this request is about no call; expected one with `call`",
            ));
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return Err(gone(&id));
        };
        let role = if socket.user == call.caller {
            Role::Caller
        } else if socket.user == call.callee {
            Role::Callee
        } else {
            return Err(refused(
                State::FORBIDDEN,
                format!("{} is not a party of call {id}", socket.user),
            ));
        };
        let mut effects = Effects::default();
        let ringing = matches!(call.phase, Phase::Ringing { .. });
        let offer = matches!(request, CallRequest::Offer { .. });
        let only = |wanted: Role, what: &str| {
            if role == wanted {
                Ok(())
            } else {
                Err(refused(
                    State::FORBIDDEN,
                    format!("only the {what} of call {id} may send this"),
                ))
            }
        };
        let not_ringing = || {
            refused(
                State::CALL_GONE,
                format!("call {id} was accepted already (on this or another device)"),
            )
        };
        let not_accepted = || {
            refused(
                State::CALL_GONE,
                format!("call {id} is not accepted yet; expected accept, decline or cancel first"),
            )
        };
        match request {
            CallRequest::Ringing(_) => {
                only(Role::Callee, "callee")?;
                let Phase::Ringing { rang, .. } = &mut call.phase else {
                    return Err(not_ringing());
                };
                if !*rang {
                    *rang = true;
                    if let Some(caller) = &call.caller_side.socket {
                        caller.signal(&id, SignalEvent::Ringing);
                    }
                }
            }
            CallRequest::Accept { sdp, .. } => {
                only(Role::Callee, "callee")?;
                let Phase::Ringing { early, .. } = &mut call.phase else {
                    return Err(not_ringing());
                };
                let early = std::mem::take(early);
                call.phase = Phase::Accepted { at: now };
                call.callee_side.socket = Some(socket.clone());
                match &call.caller_side.socket {
                    Some(caller) => caller.signal(&id, SignalEvent::Accepted { sdp }),
                    None => call.caller_side.missed_accept = Some(sdp),
                }
                for candidate in early {
                    socket.signal(&id, SignalEvent::Candidate(candidate));
                }
                effects.notices.push(Notice {
                    to: call.callee.clone(),
                    push: Push::CallEnded {
                        call_ended: CallEnded {
                            call: id.clone(),
                            reason: EndReason::AnsweredElsewhere,
                        },
                    },
                });
            }
            CallRequest::Decline(_) | CallRequest::Busy(_) => {
                only(Role::Callee, "callee")?;
                if !ringing {
                    return Err(not_ringing());
                }
                let reason = if matches!(request, CallRequest::Busy(_)) {
                    EndReason::Busy
                } else {
                    EndReason::Declined
                };
                self.end(&id, reason, now, Some(socket.id), &mut effects);
            }
            CallRequest::Cancel(_) => {
                only(Role::Caller, "caller")?;
                if !ringing {
                    return Err(refused(
                        State::CALL_GONE,
                        format!("call {id} was accepted already; expected hangup"),
                    ));
                }
                self.end(
                    &id,
                    EndReason::Cancelled,
                    now,
                    Some(socket.id),
                    &mut effects,
                );
            }
            CallRequest::Hangup(_) => {
                if ringing {
                    return Err(not_accepted());
                }
                self.end(&id, EndReason::Hangup, now, Some(socket.id), &mut effects);
            }
            CallRequest::Candidate { candidate, .. } => {
                let side = call.side(role);
                if side.candidates >= MAX_CANDIDATES_PER_CALL {
                    return Err(over_limit(&id, "candidates", MAX_CANDIDATES_PER_CALL));
                }
                match &mut call.phase {
                    Phase::Ringing { early, .. } => {
                        if role == Role::Callee {
                            return Err(refused(
                                State::CALL_GONE,
                                format!("call {id} is not accepted yet; expected accept first"),
                            ));
                        }
                        early.push(candidate);
                    }
                    Phase::Accepted { .. } => {
                        if let Some(other) = &call.other(role).socket {
                            other.signal(&id, SignalEvent::Candidate(candidate));
                        }
                    }
                }
                call.side(role).candidates += 1;
            }
            CallRequest::Offer { sdp, .. } | CallRequest::Answer { sdp, .. } => {
                if ringing {
                    return Err(not_accepted());
                }
                let side = call.side(role);
                let count = if offer {
                    &mut side.offers
                } else {
                    &mut side.answers
                };
                if *count >= MAX_RENEGOTIATIONS_PER_CALL {
                    let what = if offer { "offers" } else { "answers" };
                    return Err(over_limit(&id, what, MAX_RENEGOTIATIONS_PER_CALL));
                }
                *count += 1;
                if let Some(other) = &call.other(role).socket {
                    let event = if offer {
                        SignalEvent::Offer { sdp }
                    } else {
                        SignalEvent::Answer { sdp }
                    };
                    other.signal(&id, event);
                }
            }
            CallRequest::Rejoin(_) => {
                if role == Role::Callee && ringing {
                    return Err(not_accepted());
                }
                let side = call.side(role);
                side.socket = Some(socket.clone());
                side.gone_until = None;
                if let Some(sdp) = side.missed_accept.take() {
                    socket.signal(&id, SignalEvent::Accepted { sdp });
                }
            }
            CallRequest::IceServers | CallRequest::Invite { .. } => {
                return Err(refused(
                    State::BAD_PACKET,
                    "not a request about an existing call",
                ));
            }
        }
        Ok(effects)
    }

    /// A 24888 socket closed: a call it carried waits the rejoin grace.
    pub(crate) fn socket_closed(&mut self, socket: &Socket, now: Instant) {
        let Some(id) = self.parties.get(&socket.user) else {
            return;
        };
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let grace = later(now, self.timing.rejoin_grace);
        for side in [&mut call.caller_side, &mut call.callee_side] {
            if side.socket.as_ref().is_some_and(|s| s.id == socket.id) {
                side.socket = None;
                side.gone_until = Some(grace);
            }
        }
    }

    /// The earliest moment a call must end by itself.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.calls.values().filter_map(Call::deadline).min()
    }

    /// Ends every call whose ring timeout or rejoin grace is over at `now`.
    pub(crate) fn expire(&mut self, now: Instant) -> Effects {
        let due: Vec<(CallId, EndReason)> = self
            .calls
            .iter()
            .filter_map(|(id, call)| {
                let ring_over = matches!(call.phase, Phase::Ringing { until, .. } if until <= now);
                let lost = [&call.caller_side, &call.callee_side]
                    .iter()
                    .any(|side| side.gone_until.is_some_and(|until| until <= now));
                if ring_over {
                    Some((id.clone(), EndReason::Timeout))
                } else if lost {
                    Some((id.clone(), EndReason::Lost))
                } else {
                    None
                }
            })
            .collect();
        let mut effects = Effects::default();
        for (id, reason) in due {
            self.end(&id, reason, now, None, &mut effects);
        }
        effects
    }

    /// Whether call `id` is going on.
    pub(crate) fn has(&self, id: &CallId) -> bool {
        self.calls.contains_key(id)
    }

    /// Whether `user` is a party of a call.
    pub(crate) fn is_party(&self, user: &UserId) -> bool {
        self.parties.contains_key(user)
    }

    /// The call `user` is a party of here, as another node asks about it.
    pub(crate) fn party_of(&self, user: &UserId) -> Option<PartyOf> {
        let id = self.parties.get(user)?;
        let call = self.calls.get(id)?;
        Some(PartyOf {
            call: id.clone(),
            caller: call.caller.clone(),
            callee: call.callee.clone(),
            ringing: self.ringing_for(user),
        })
    }

    /// The invitation of a call ringing for `user`, if one is.
    pub(crate) fn ringing_for(&self, user: &UserId) -> Option<CallInvitation> {
        let id = self.parties.get(user)?;
        let call = self.calls.get(id)?;
        (matches!(call.phase, Phase::Ringing { .. }) && &call.callee == user)
            .then(|| call.invitation(id))
    }

    /// Ends a call: `ended` to the parties' sockets (but the one that asked),
    /// `call_ended` to the callee's devices if it still rang, and its record.
    fn end(
        &mut self,
        id: &CallId,
        reason: EndReason,
        now: Instant,
        asked_by: Option<u64>,
        effects: &mut Effects,
    ) {
        let Some(call) = self.calls.remove(id) else {
            return;
        };
        for user in [&call.caller, &call.callee] {
            if self.parties.get(user) == Some(id) {
                self.parties.remove(user);
            }
        }
        let duration = match call.phase {
            Phase::Accepted { at } => {
                Some(u32::try_from(now.saturating_duration_since(at).as_secs()).unwrap_or(u32::MAX))
            }
            Phase::Ringing { .. } => None,
        };
        for side in [&call.caller_side, &call.callee_side] {
            if let Some(socket) = side.socket.as_ref().filter(|s| Some(s.id) != asked_by) {
                socket.signal(id, SignalEvent::Ended { reason, duration });
            }
        }
        if duration.is_none() {
            effects.notices.push(Notice {
                to: call.callee.clone(),
                push: Push::CallEnded {
                    call_ended: CallEnded {
                        call: id.clone(),
                        reason,
                    },
                },
            });
        }
        effects.finished.push(Finished {
            record: CallRecord {
                call: id.clone(),
                media: call.media,
                outcome: CallOutcome::of(reason, duration.is_some()),
                duration,
            },
            caller: call.caller,
            callee: call.callee,
        });
    }
}

/// An invitation's fields.
/// A call some user is a party of, as the node where it lives tells the
/// others (an answer on the bus).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct PartyOf {
    /// The call.
    pub(crate) call: CallId,
    /// Its caller.
    pub(crate) caller: UserId,
    /// Its callee.
    pub(crate) callee: UserId,
    /// Its invitation, while it rings the asked-about user (the callee).
    pub(crate) ringing: Option<CallInvitation>,
}

#[derive(Debug, Clone)]
pub(crate) struct Invite {
    pub(crate) call: CallId,
    pub(crate) to: UserId,
    pub(crate) media: Media,
    pub(crate) sdp: String,
}

/// An invite that ends at once because of a call on another node (busy
/// there, or glare with a call ringing there).
pub(crate) fn give_way(socket: &Socket, invite: &Invite, reason: EndReason) -> Effects {
    let mut effects = Effects::default();
    end_unregistered(
        socket,
        &invite.call,
        &invite.to,
        invite.media,
        reason,
        &mut effects,
    );
    effects
}

/// An invite that ends before it rings anyone (busy, glare): the caller
/// hears `ended` right after the reply, and both get the record.
fn end_unregistered(
    socket: &Socket,
    id: &CallId,
    to: &UserId,
    media: Media,
    reason: EndReason,
    effects: &mut Effects,
) {
    socket.signal(
        id,
        SignalEvent::Ended {
            reason,
            duration: None,
        },
    );
    effects.finished.push(Finished {
        caller: socket.user.clone(),
        callee: to.clone(),
        record: CallRecord {
            call: id.clone(),
            media,
            outcome: CallOutcome::of(reason, false),
            duration: None,
        },
    });
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
