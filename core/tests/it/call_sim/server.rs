//! A simulated 24888 server following PROTOCOL §12: it relays between the
//! two parties it bound, keeps the caller's early candidates for the
//! accepting session, rings every session of the callee through pushes,
//! lets the first accept win, ends an invite at once for busy or glare,
//! ends a ringing call at its own timeout, and a call whose party's socket
//! stayed gone past the rejoin grace.

use penpen_core::packets::call::{
    CallEnded, CallInvitation, CallOutcome, CallRecord, CallRequest, CallSignal, EndReason,
    IceCandidate, IceServer, IceServersReply, IceTransportPolicy, Media, REJOIN_GRACE_MS,
    SERVER_RING_TIMEOUT_MS, Signal, SignalEvent,
};
use penpen_core::{CallId, Encoding, ErrorReply, Frame, State, UserId};
use std::collections::{BTreeMap, BTreeSet};

/// A socket of the simulated server.
pub type SocketId = u64;

/// What the server sends out.
#[derive(Debug, Clone)]
pub enum Out {
    /// A frame on a 24888 socket.
    Frame(SocketId, String),
    /// A push on the 20888 stream of every session of `user` but `except`.
    Push {
        user: UserId,
        except: Option<SocketId>,
        push: Pushed,
    },
}

/// A 20888 push about calls.
#[derive(Debug, Clone)]
pub enum Pushed {
    Invited(CallInvitation),
    Ended(CallEnded),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Ringing { since: i64 },
    Accepted { at: i64 },
}

#[derive(Debug)]
struct Call {
    caller: UserId,
    callee: UserId,
    media: Media,
    phase: Phase,
    caller_socket: Option<SocketId>,
    callee_socket: Option<SocketId>,
    /// The caller's candidates before the accept.
    early: Vec<IceCandidate>,
    /// Since when each party's socket is gone: [caller, callee].
    gone: [Option<i64>; 2],
}

impl Call {
    fn party_of(&self, user: &UserId) -> Option<usize> {
        if *user == self.caller {
            Some(0)
        } else if *user == self.callee {
            Some(1)
        } else {
            None
        }
    }

    fn socket_of(&self, party: usize) -> Option<SocketId> {
        [self.caller_socket, self.callee_socket][party]
    }

    fn deadline(&self) -> Option<i64> {
        let ring = match self.phase {
            Phase::Ringing { since } => Some(since + SERVER_RING_TIMEOUT_MS),
            Phase::Accepted { .. } => None,
        };
        let lost = self
            .gone
            .iter()
            .flatten()
            .map(|t| t + REJOIN_GRACE_MS)
            .min();
        [ring, lost].into_iter().flatten().min()
    }
}

/// A stored call record (type 3 in both people's history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub from: UserId,
    pub to: UserId,
    pub record: CallRecord,
    pub reason: EndReason,
}

#[derive(Debug, Default)]
pub struct SimServer {
    users: BTreeSet<UserId>,
    sockets: BTreeMap<SocketId, UserId>,
    next_socket: SocketId,
    calls: BTreeMap<CallId, Call>,
    pub ice_servers: Vec<IceServer>,
    /// The deployment's policy, given with the ICE servers.
    pub ice_transport_policy: IceTransportPolicy,
    /// Call records, in the order the calls ended.
    pub records: Vec<Stored>,
    /// Every request received, with the user who sent it.
    pub requests: Vec<(UserId, CallRequest)>,
}

impl SimServer {
    pub fn add_user(&mut self, user: UserId) {
        self.users.insert(user);
    }

    /// A 24888 socket opens for `user`.
    pub fn connect(&mut self, user: UserId) -> SocketId {
        self.next_socket += 1;
        self.sockets.insert(self.next_socket, user);
        self.next_socket
    }

    /// Whether any call is live.
    pub fn live_calls(&self) -> usize {
        self.calls.len()
    }

    /// A socket closed: its calls' party is gone from now.
    pub fn disconnect(&mut self, socket: SocketId, now: i64) {
        self.sockets.remove(&socket);
        for call in self.calls.values_mut() {
            for party in 0..2 {
                if call.socket_of(party) == Some(socket) {
                    call.gone[party].get_or_insert(now);
                    if party == 0 {
                        call.caller_socket = None;
                    } else {
                        call.callee_socket = None;
                    }
                }
            }
        }
    }

    pub fn next_deadline(&self) -> Option<i64> {
        self.calls.values().filter_map(Call::deadline).min()
    }

    /// Ends calls whose ring or rejoin grace ran out.
    pub fn tick(&mut self, now: i64) -> Vec<Out> {
        let mut out = Vec::new();
        let due: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| c.deadline().is_some_and(|at| now >= at))
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            let reason = match self.calls[&id].phase {
                Phase::Ringing { since } if now >= since + SERVER_RING_TIMEOUT_MS => {
                    EndReason::Timeout
                }
                _ => EndReason::Lost,
            };
            self.end(&id, reason, None, now, &mut out);
        }
        out
    }

    /// A frame from `socket`.
    pub fn handle(&mut self, socket: SocketId, text: &str, now: i64) -> Vec<Out> {
        let mut out = Vec::new();
        let Some(user) = self.sockets.get(&socket).cloned() else {
            return out;
        };
        let request = match Frame::decode(text).and_then(|f| f.packet::<CallRequest>()) {
            Ok(request) => request,
            Err(e) => {
                out.push(reply(socket, &ErrorReply::from(&e)));
                return out;
            }
        };
        self.requests.push((user.clone(), request.clone()));
        match self.act(&user, socket, request, now, &mut out) {
            Ok(Some(frame)) => out.insert(0, Out::Frame(socket, frame)),
            Ok(None) => out.insert(0, reply(socket, &ErrorReply::new(State::SUCCESS, ""))),
            Err(refusal) => out.insert(0, reply(socket, &refusal)),
        }
        out
    }

    /// Carries out one request; the reply (None: plain success), or a refusal.
    fn act(
        &mut self,
        user: &UserId,
        socket: SocketId,
        request: CallRequest,
        now: i64,
        out: &mut Vec<Out>,
    ) -> Result<Option<String>, ErrorReply> {
        let gone = || {
            ErrorReply::new(
                State::CALL_GONE,
                "the call is not in a state that allows this",
            )
        };
        let id = match request.call() {
            None => {
                let reply = IceServersReply {
                    state: State::SUCCESS,
                    ice_servers: self.ice_servers.clone(),
                    ice_transport_policy: self.ice_transport_policy,
                };
                return Ok(Some(
                    Frame::encode(Encoding::Base64, &reply).expect("frame"),
                ));
            }
            Some(id) => id.clone(),
        };
        if let CallRequest::Invite { to, media, sdp, .. } = request {
            return self
                .invite(user, socket, id, to, media, sdp, now, out)
                .map(|()| None);
        }
        let call = self.calls.get_mut(&id).ok_or_else(gone)?;
        let party = call
            .party_of(user)
            .ok_or_else(|| ErrorReply::new(State::FORBIDDEN, "not a party of this call"))?;
        let other = 1 - party;
        let is_offer = matches!(request, CallRequest::Offer { .. });
        match request {
            CallRequest::Ringing(_) if party == 1 => {
                let Phase::Ringing { .. } = call.phase else {
                    return Err(gone());
                };
                if let Some(to) = call.caller_socket {
                    out.push(signal(to, &id, SignalEvent::Ringing));
                }
            }
            CallRequest::Accept { sdp, .. } if party == 1 => {
                let Phase::Ringing { .. } = call.phase else {
                    return Err(gone());
                };
                call.phase = Phase::Accepted { at: now };
                call.callee_socket = Some(socket);
                if let Some(to) = call.caller_socket {
                    out.push(signal(to, &id, SignalEvent::Accepted { sdp }));
                }
                // After the reply (inserted first by `handle`).
                for candidate in std::mem::take(&mut call.early) {
                    out.push(signal(socket, &id, SignalEvent::Candidate(candidate)));
                }
                out.push(Out::Push {
                    user: call.callee.clone(),
                    except: Some(socket),
                    push: Pushed::Ended(CallEnded {
                        call: id.clone(),
                        reason: EndReason::AnsweredElsewhere,
                    }),
                });
            }
            CallRequest::Decline(_) | CallRequest::Busy(_) if party == 1 => {
                let Phase::Ringing { .. } = call.phase else {
                    return Err(gone());
                };
                let reason = if matches!(request, CallRequest::Decline(_)) {
                    EndReason::Declined
                } else {
                    EndReason::Busy
                };
                self.end(&id, reason, Some(socket), now, out);
            }
            CallRequest::Cancel(_) if party == 0 => {
                let Phase::Ringing { .. } = call.phase else {
                    return Err(gone());
                };
                self.end(&id, EndReason::Cancelled, Some(socket), now, out);
            }
            CallRequest::Hangup(_) => {
                let Phase::Accepted { .. } = call.phase else {
                    return Err(gone());
                };
                self.end(&id, EndReason::Hangup, Some(socket), now, out);
            }
            CallRequest::Candidate { candidate, .. } => match (call.phase, party) {
                (Phase::Ringing { .. }, 0) => call.early.push(candidate),
                (Phase::Accepted { .. }, _) => {
                    if let Some(to) = call.socket_of(other) {
                        out.push(signal(to, &id, SignalEvent::Candidate(candidate)));
                    }
                }
                _ => return Err(gone()),
            },
            CallRequest::Offer { sdp, .. } | CallRequest::Answer { sdp, .. } => {
                let Phase::Accepted { .. } = call.phase else {
                    return Err(gone());
                };
                let event = if is_offer {
                    SignalEvent::Offer { sdp }
                } else {
                    SignalEvent::Answer { sdp }
                };
                if let Some(to) = call.socket_of(other) {
                    out.push(signal(to, &id, event));
                }
            }
            CallRequest::Rejoin(_) => {
                if party == 1 && matches!(call.phase, Phase::Ringing { .. }) {
                    return Err(gone());
                }
                call.gone[party] = None;
                if party == 0 {
                    call.caller_socket = Some(socket);
                } else {
                    call.callee_socket = Some(socket);
                }
            }
            _ => {
                return Err(ErrorReply::new(
                    State::FORBIDDEN,
                    "this party may not make this request",
                ));
            }
        }
        Ok(None)
    }

    #[allow(clippy::too_many_arguments)]
    fn invite(
        &mut self,
        caller: &UserId,
        socket: SocketId,
        id: CallId,
        to: UserId,
        media: Media,
        sdp: String,
        now: i64,
        out: &mut Vec<Out>,
    ) -> Result<(), ErrorReply> {
        if to == *caller || self.calls.contains_key(&id) {
            return Err(ErrorReply::new(
                State::FORBIDDEN,
                "calling yourself, or a call id in use",
            ));
        }
        if !self.users.contains(&to) {
            return Err(ErrorReply::new(State::UNKNOWN_USER, "no such user"));
        }
        if self.engaged(caller) {
            return Err(ErrorReply::new(
                State::IN_ANOTHER_CALL,
                "already a party of another call",
            ));
        }
        let glare = self.calls.values().any(|c| {
            c.caller == to && c.callee == *caller && matches!(c.phase, Phase::Ringing { .. })
        });
        let busy = !glare && self.engaged(&to);
        self.calls.insert(
            id.clone(),
            Call {
                caller: caller.clone(),
                callee: to.clone(),
                media,
                phase: Phase::Ringing { since: now },
                caller_socket: Some(socket),
                callee_socket: None,
                early: Vec::new(),
                gone: [None, None],
            },
        );
        if glare || busy {
            let reason = if glare {
                EndReason::Glare
            } else {
                EndReason::Busy
            };
            self.end(&id, reason, None, now, out);
            return Ok(());
        }
        out.push(Out::Push {
            user: to,
            except: None,
            push: Pushed::Invited(CallInvitation {
                call: id,
                from: caller.clone(),
                media,
                sdp,
                ts: now,
            }),
        });
        Ok(())
    }

    /// Whether `user` takes part in a call: calling, or in an accepted one.
    /// A callee whose devices only ring is not (its devices answer `busy`
    /// themselves if they are in a call elsewhere).
    fn engaged(&self, user: &UserId) -> bool {
        self.calls.values().any(|c| {
            c.caller == *user || (c.callee == *user && matches!(c.phase, Phase::Accepted { .. }))
        })
    }

    /// Ends a call: the parties' sockets but `by` hear `ended`, a ringing
    /// callee's sessions `call_ended`, and the record is stored.
    fn end(
        &mut self,
        id: &CallId,
        reason: EndReason,
        by: Option<SocketId>,
        now: i64,
        out: &mut Vec<Out>,
    ) {
        let Some(call) = self.calls.remove(id) else {
            return;
        };
        let (accepted, duration) = match call.phase {
            Phase::Accepted { at } => (true, Some(((now - at) / 1000) as u32)),
            Phase::Ringing { .. } => (false, None),
        };
        for socket in [call.caller_socket, call.callee_socket]
            .into_iter()
            .flatten()
        {
            if Some(socket) != by {
                out.push(signal(socket, id, SignalEvent::Ended { reason, duration }));
            }
        }
        if !accepted && reason != EndReason::Glare && reason != EndReason::Busy {
            out.push(Out::Push {
                user: call.callee.clone(),
                except: by,
                push: Pushed::Ended(CallEnded {
                    call: id.clone(),
                    reason,
                }),
            });
        }
        self.records.push(Stored {
            from: call.caller,
            to: call.callee,
            record: CallRecord {
                call: id.clone(),
                media: call.media,
                outcome: CallOutcome::of(reason, accepted),
                duration,
            },
            reason,
        });
    }
}

fn reply(socket: SocketId, reply: &ErrorReply) -> Out {
    let text = if reply.state == State::SUCCESS {
        Frame::encode_payload(Encoding::Base64, r#"{"state":11}"#)
    } else {
        Frame::encode(Encoding::Base64, reply)
    };
    Out::Frame(socket, text.expect("frame"))
}

fn signal(socket: SocketId, call: &CallId, event: SignalEvent) -> Out {
    let signal = CallSignal {
        signal: Signal {
            call: call.clone(),
            event,
        },
    };
    Out::Frame(
        socket,
        Frame::encode(Encoding::Base64, &signal).expect("frame"),
    )
}
