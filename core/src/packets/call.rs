//! 24888: 1:1 call signalling — the requests a party sends, the signals the
//! server relays to the other party, the invitation pushed on the callee's
//! 20888 stream, and the call record stored in both people's history.
//!
//! Requests and signals travel flat (`op`/`event` plus the fields that kind
//! needs); in Rust they are enums, so a request in hand always has exactly
//! the fields its kind needs.

use crate::frame_error::FrameError;
use crate::ids::{CallId, UserId};
use crate::packet::{Packet, invalid};
use serde::{Deserialize, Serialize};

/// The longest session description accepted, in bytes.
pub const MAX_SDP_BYTES: usize = 32 * 1024;
/// The longest ICE candidate line accepted, in bytes.
pub const MAX_CANDIDATE_BYTES: usize = 1024;
/// The most candidates one party may send in one call.
pub const MAX_CANDIDATES_PER_CALL: usize = 200;
/// The most renegotiations (`offer`) one party may start in one call.
pub const MAX_RENEGOTIATIONS_PER_CALL: usize = 20;
/// How long an invitation rings before the caller's client cancels it.
pub const RING_TIMEOUT_MS: i64 = 45_000;
/// How long the server lets an invitation ring before it ends it itself
/// (the caller's client may be gone).
pub const SERVER_RING_TIMEOUT_MS: i64 = 60_000;
/// How long a party's 24888 socket may be gone during a call before the
/// server ends it as `lost` (a `rejoin` on a new socket within it carries on).
pub const REJOIN_GRACE_MS: i64 = 30_000;

/// Audio only, or audio and video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    /// A voice call.
    Audio,
    /// A video call.
    Video,
}

/// An ICE candidate, as the browser's `RTCIceCandidate` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceCandidate {
    /// The candidate line (`candidate:…`); empty for "end of candidates".
    pub candidate: String,
    /// The media section's id, if the browser gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    /// The media section's index, if the browser gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_mline_index: Option<u16>,
}

/// What a party asks of 24888.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RequestWire", into = "RequestWire")]
pub enum CallRequest {
    /// The ICE servers to use (see [`IceServersReply`]).
    IceServers,
    /// Rings every session of `to` with the caller's offer.
    Invite {
        /// The call, named by the caller.
        call: CallId,
        /// Whom to call.
        to: UserId,
        /// Voice or video.
        media: Media,
        /// The offer.
        sdp: String,
    },
    /// A callee's device shows the call.
    Ringing(CallId),
    /// A callee's session takes the call with its answer.
    Accept {
        /// The call.
        call: CallId,
        /// The answer.
        sdp: String,
    },
    /// A callee ends a ringing call.
    Decline(CallId),
    /// A callee in another call ends a ringing call.
    Busy(CallId),
    /// The caller ends the call before it is accepted.
    Cancel(CallId),
    /// Either party ends an accepted call.
    Hangup(CallId),
    /// An ICE candidate for the other party.
    Candidate {
        /// The call.
        call: CallId,
        /// The candidate.
        candidate: IceCandidate,
    },
    /// A renegotiation offer (a camera turned on, an ICE restart).
    Offer {
        /// The call.
        call: CallId,
        /// The offer.
        sdp: String,
    },
    /// The answer to a renegotiation offer.
    Answer {
        /// The call.
        call: CallId,
        /// The answer.
        sdp: String,
    },
    /// This new socket carries the party's side of the call from now on.
    Rejoin(CallId),
}

impl CallRequest {
    /// The call the request is about (none for [`CallRequest::IceServers`]).
    pub fn call(&self) -> Option<&CallId> {
        match self {
            CallRequest::IceServers => None,
            CallRequest::Invite { call, .. }
            | CallRequest::Accept { call, .. }
            | CallRequest::Candidate { call, .. }
            | CallRequest::Offer { call, .. }
            | CallRequest::Answer { call, .. } => Some(call),
            CallRequest::Ringing(call)
            | CallRequest::Decline(call)
            | CallRequest::Busy(call)
            | CallRequest::Cancel(call)
            | CallRequest::Hangup(call)
            | CallRequest::Rejoin(call) => Some(call),
        }
    }
}

impl Packet for CallRequest {
    const NAME: &'static str = "CallRequest";
    fn validate(&self) -> Result<(), FrameError> {
        match self {
            CallRequest::Invite { sdp, .. }
            | CallRequest::Accept { sdp, .. }
            | CallRequest::Offer { sdp, .. }
            | CallRequest::Answer { sdp, .. } => check_sdp(Self::NAME, sdp),
            CallRequest::Candidate { candidate, .. } => check_candidate(Self::NAME, candidate),
            _ => Ok(()),
        }
    }
}

/// A request's kind on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Op {
    IceServers,
    Invite,
    Ringing,
    Accept,
    Decline,
    Busy,
    Cancel,
    Hangup,
    Candidate,
    Offer,
    Answer,
    Rejoin,
}

/// A request as it travels: `op` and whichever fields it needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RequestWire {
    #[serde(skip_serializing_if = "Option::is_none")]
    op: Option<Op>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    call: Option<CallId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media: Option<Media>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sdp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    candidate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sdp_mid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sdp_mline_index: Option<u16>,
}

/// A field a kind needs, or the error naming it.
pub(crate) fn needed<T>(value: Option<T>, kind: &str, field: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("{kind} needs `{field}`"))
}

impl TryFrom<RequestWire> for CallRequest {
    type Error = String;
    fn try_from(wire: RequestWire) -> Result<CallRequest, String> {
        let op = wire.op.ok_or(
            "`op` is missing; expected one of ice_servers, invite, ringing, accept, decline, busy, \
             cancel, hangup, candidate, offer, answer, rejoin",
        )?;
        if op == Op::IceServers {
            return Ok(CallRequest::IceServers);
        }
        let call = needed(wire.call, "a call request", "call")?;
        let sdp = |kind| needed(wire.sdp.clone(), kind, "sdp");
        Ok(match op {
            Op::IceServers => CallRequest::IceServers,
            Op::Invite => CallRequest::Invite {
                to: needed(wire.to.clone(), "invite", "to")?,
                media: needed(wire.media, "invite", "media")?,
                sdp: sdp("invite")?,
                call,
            },
            Op::Ringing => CallRequest::Ringing(call),
            Op::Accept => CallRequest::Accept {
                sdp: sdp("accept")?,
                call,
            },
            Op::Decline => CallRequest::Decline(call),
            Op::Busy => CallRequest::Busy(call),
            Op::Cancel => CallRequest::Cancel(call),
            Op::Hangup => CallRequest::Hangup(call),
            Op::Candidate => CallRequest::Candidate {
                candidate: IceCandidate {
                    candidate: needed(wire.candidate, "candidate", "candidate")?,
                    sdp_mid: wire.sdp_mid,
                    sdp_mline_index: wire.sdp_mline_index,
                },
                call,
            },
            Op::Offer => CallRequest::Offer {
                sdp: sdp("offer")?,
                call,
            },
            Op::Answer => CallRequest::Answer {
                sdp: sdp("answer")?,
                call,
            },
            Op::Rejoin => CallRequest::Rejoin(call),
        })
    }
}

impl From<CallRequest> for RequestWire {
    fn from(request: CallRequest) -> RequestWire {
        let of = |op: Op, call: CallId| RequestWire {
            op: Some(op),
            call: Some(call),
            ..RequestWire::default()
        };
        match request {
            CallRequest::IceServers => RequestWire {
                op: Some(Op::IceServers),
                ..RequestWire::default()
            },
            CallRequest::Invite {
                call,
                to,
                media,
                sdp,
            } => RequestWire {
                to: Some(to),
                media: Some(media),
                sdp: Some(sdp),
                ..of(Op::Invite, call)
            },
            CallRequest::Ringing(call) => of(Op::Ringing, call),
            CallRequest::Accept { call, sdp } => RequestWire {
                sdp: Some(sdp),
                ..of(Op::Accept, call)
            },
            CallRequest::Decline(call) => of(Op::Decline, call),
            CallRequest::Busy(call) => of(Op::Busy, call),
            CallRequest::Cancel(call) => of(Op::Cancel, call),
            CallRequest::Hangup(call) => of(Op::Hangup, call),
            CallRequest::Candidate { call, candidate } => RequestWire {
                candidate: Some(candidate.candidate),
                sdp_mid: candidate.sdp_mid,
                sdp_mline_index: candidate.sdp_mline_index,
                ..of(Op::Candidate, call)
            },
            CallRequest::Offer { call, sdp } => RequestWire {
                sdp: Some(sdp),
                ..of(Op::Offer, call)
            },
            CallRequest::Answer { call, sdp } => RequestWire {
                sdp: Some(sdp),
                ..of(Op::Answer, call)
            },
            CallRequest::Rejoin(call) => of(Op::Rejoin, call),
        }
    }
}

pub(crate) fn check_sdp(packet: &'static str, sdp: &str) -> Result<(), FrameError> {
    if sdp.is_empty() || sdp.len() > MAX_SDP_BYTES {
        Err(invalid(
            packet,
            format!("sdp has {} bytes; expected 1 to {MAX_SDP_BYTES}", sdp.len()),
        ))
    } else {
        Ok(())
    }
}

fn check_candidate(packet: &'static str, candidate: &IceCandidate) -> Result<(), FrameError> {
    if candidate.candidate.len() > MAX_CANDIDATE_BYTES {
        Err(invalid(
            packet,
            format!(
                "candidate has {} bytes; expected at most {MAX_CANDIDATE_BYTES}",
                candidate.candidate.len()
            ),
        ))
    } else {
        Ok(())
    }
}

/// One ICE server for `RTCPeerConnection`'s configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:` or `turn:`/`turns:` addresses.
    pub urls: Vec<String>,
    /// For TURN: `expiry:user` (coturn's shared-secret scheme).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// For TURN: the base64 HMAC-SHA1 of `username` under the shared secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Which candidates a client may use, as `RTCConfiguration.iceTransportPolicy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IceTransportPolicy {
    /// Every candidate: host, server-reflexive and relayed.
    #[default]
    All,
    /// Only the TURN relays: the parties never learn each other's
    /// addresses, and networks that allow only the relay still connect.
    Relay,
}

impl IceTransportPolicy {
    /// Whether this is the default, [`IceTransportPolicy::All`] (left out
    /// of the reply, so replies without the field mean it).
    pub fn is_all(&self) -> bool {
        *self == IceTransportPolicy::All
    }
}

/// The reply to [`CallRequest::IceServers`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServersReply {
    /// Always 11.
    pub state: crate::State,
    /// What the deployment configured; empty on a LAN.
    pub ice_servers: Vec<IceServer>,
    /// `relay` when the deployment allows only its TURN relays; absent for `all`.
    #[serde(default, skip_serializing_if = "IceTransportPolicy::is_all")]
    pub ice_transport_policy: IceTransportPolicy,
}

impl Packet for IceServersReply {
    const NAME: &'static str = "IceServersReply";
}

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The callee declined.
    Declined,
    /// The callee is in another call.
    Busy,
    /// The caller cancelled before an accept.
    Cancelled,
    /// Nobody accepted in time.
    Timeout,
    /// A party hung up.
    Hangup,
    /// A party's signalling was gone too long.
    Lost,
    /// The callee was calling the caller at that moment: this invite ended,
    /// the other is accepted instead.
    Glare,
    /// Another session of the callee took the call (only in [`CallEnded`]).
    AnsweredElsewhere,
}

/// What a relayed signal says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalEvent {
    /// A device of the callee shows the call.
    Ringing,
    /// The callee took the call; its answer.
    Accepted {
        /// The answer.
        sdp: String,
    },
    /// An ICE candidate of the other party.
    Candidate(IceCandidate),
    /// A renegotiation offer.
    Offer {
        /// The offer.
        sdp: String,
    },
    /// The answer to a renegotiation offer.
    Answer {
        /// The answer.
        sdp: String,
    },
    /// The call is over.
    Ended {
        /// Why.
        reason: EndReason,
        /// Seconds since the accept, when it was accepted.
        duration: Option<u32>,
    },
}

/// A signal relayed on 24888: `{"signal":{"call",…,"event",…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSignal {
    /// The signal.
    pub signal: Signal,
}

impl Packet for CallSignal {
    const NAME: &'static str = "CallSignal";
    fn validate(&self) -> Result<(), FrameError> {
        match &self.signal.event {
            SignalEvent::Accepted { sdp }
            | SignalEvent::Offer { sdp }
            | SignalEvent::Answer { sdp } => check_sdp(Self::NAME, sdp),
            SignalEvent::Candidate(candidate) => check_candidate(Self::NAME, candidate),
            _ => Ok(()),
        }
    }
}

/// One call's signal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SignalWire", into = "SignalWire")]
pub struct Signal {
    /// The call.
    pub call: CallId,
    /// What happened.
    pub event: SignalEvent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Event {
    Ringing,
    Accepted,
    Candidate,
    Offer,
    Answer,
    Ended,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SignalWire {
    call: CallId,
    event: Event,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sdp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    candidate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sdp_mid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sdp_mline_index: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<EndReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duration: Option<u32>,
}

impl TryFrom<SignalWire> for Signal {
    type Error = String;
    fn try_from(wire: SignalWire) -> Result<Signal, String> {
        let sdp = |kind| needed(wire.sdp.clone(), kind, "sdp");
        let event = match wire.event {
            Event::Ringing => SignalEvent::Ringing,
            Event::Accepted => SignalEvent::Accepted {
                sdp: sdp("accepted")?,
            },
            Event::Candidate => SignalEvent::Candidate(IceCandidate {
                candidate: needed(wire.candidate.clone(), "candidate", "candidate")?,
                sdp_mid: wire.sdp_mid.clone(),
                sdp_mline_index: wire.sdp_mline_index,
            }),
            Event::Offer => SignalEvent::Offer { sdp: sdp("offer")? },
            Event::Answer => SignalEvent::Answer {
                sdp: sdp("answer")?,
            },
            Event::Ended => SignalEvent::Ended {
                reason: needed(wire.reason, "ended", "reason")?,
                duration: wire.duration,
            },
        };
        Ok(Signal {
            call: wire.call,
            event,
        })
    }
}

impl From<Signal> for SignalWire {
    fn from(signal: Signal) -> SignalWire {
        let mut wire = SignalWire {
            call: signal.call,
            event: Event::Ringing,
            sdp: None,
            candidate: None,
            sdp_mid: None,
            sdp_mline_index: None,
            reason: None,
            duration: None,
        };
        match signal.event {
            SignalEvent::Ringing => {}
            SignalEvent::Accepted { sdp } => {
                wire.event = Event::Accepted;
                wire.sdp = Some(sdp);
            }
            SignalEvent::Candidate(candidate) => {
                wire.event = Event::Candidate;
                wire.candidate = Some(candidate.candidate);
                wire.sdp_mid = candidate.sdp_mid;
                wire.sdp_mline_index = candidate.sdp_mline_index;
            }
            SignalEvent::Offer { sdp } => {
                wire.event = Event::Offer;
                wire.sdp = Some(sdp);
            }
            SignalEvent::Answer { sdp } => {
                wire.event = Event::Answer;
                wire.sdp = Some(sdp);
            }
            SignalEvent::Ended { reason, duration } => {
                wire.event = Event::Ended;
                wire.reason = Some(reason);
                wire.duration = duration;
            }
        }
        wire
    }
}

/// The invitation pushed on every 20888 session of the callee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallInvitation {
    /// The call.
    pub call: CallId,
    /// The caller.
    pub from: UserId,
    /// Voice or video.
    pub media: Media,
    /// The caller's offer.
    pub sdp: String,
    /// When the caller invited, in milliseconds since the Unix epoch.
    pub ts: i64,
}

/// Pushed on the callee's other sessions: stop ringing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEnded {
    /// The call.
    pub call: CallId,
    /// Why: answered on another device, or how it ended.
    pub reason: EndReason,
}

/// How a call ended, as its history record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Accepted, then ended; the record has its duration.
    Answered,
    /// Nobody accepted: it timed out or the caller cancelled.
    Missed,
    /// The callee declined.
    Declined,
    /// The callee was in another call.
    Busy,
    /// Lost before it was accepted.
    Failed,
}

impl CallOutcome {
    /// The outcome of a call that ended for `reason`, accepted or not.
    pub fn of(reason: EndReason, accepted: bool) -> CallOutcome {
        match reason {
            _ if accepted => CallOutcome::Answered,
            EndReason::Declined => CallOutcome::Declined,
            EndReason::Busy | EndReason::Glare => CallOutcome::Busy,
            EndReason::Lost => CallOutcome::Failed,
            EndReason::Cancelled
            | EndReason::Timeout
            | EndReason::Hangup
            | EndReason::AnsweredElsewhere => CallOutcome::Missed,
        }
    }
}

/// The content of a call's history message (type 3), before base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The call.
    pub call: CallId,
    /// Voice or video.
    pub media: Media,
    /// How it ended.
    pub outcome: CallOutcome,
    /// Seconds from the accept to the end, when answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
}

impl Packet for CallRecord {
    const NAME: &'static str = "CallRecord";
}

impl CallRecord {
    /// A missed call: unread for the callee (no other record counts unread).
    pub fn is_missed(&self) -> bool {
        self.outcome == CallOutcome::Missed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Frame;
    use crate::envelope::Encoding;

    fn call() -> CallId {
        CallId::generated(0x5f0c_6b1e_2d3a_4f5e, 0x6a7b_8c9d_0e1f_2a3b)
    }

    fn decode(json: &str) -> Result<CallRequest, FrameError> {
        Frame::decode(&Frame::encode_payload(Encoding::Base64, json).expect("encode"))?.packet()
    }

    #[test]
    fn every_request_kind_travels_flat_and_comes_back() {
        let user = UserId::parse("13800000002").expect("user");
        let candidate = IceCandidate {
            candidate: "candidate:1 1 udp 2122260223 192.168.1.20 50000 typ host".into(),
            sdp_mid: Some("0".into()),
            sdp_mline_index: Some(0),
        };
        let sdp = || "v=0\r\n".to_owned();
        let requests = [
            CallRequest::IceServers,
            CallRequest::Invite {
                call: call(),
                to: user,
                media: Media::Audio,
                sdp: sdp(),
            },
            CallRequest::Ringing(call()),
            CallRequest::Accept {
                call: call(),
                sdp: sdp(),
            },
            CallRequest::Decline(call()),
            CallRequest::Busy(call()),
            CallRequest::Cancel(call()),
            CallRequest::Hangup(call()),
            CallRequest::Candidate {
                call: call(),
                candidate,
            },
            CallRequest::Offer {
                call: call(),
                sdp: sdp(),
            },
            CallRequest::Answer {
                call: call(),
                sdp: sdp(),
            },
            CallRequest::Rejoin(call()),
        ];
        for request in requests {
            let json = serde_json::to_string(&request).expect("encode");
            assert!(json.starts_with(r#"{"op":""#), "{json}");
            assert_eq!(decode(&json).expect("decode"), request, "{json}");
        }
        assert_eq!(
            serde_json::to_string(&CallRequest::IceServers).expect("encode"),
            r#"{"op":"ice_servers"}"#
        );
    }

    #[test]
    fn a_request_missing_what_its_kind_needs_says_which_field() {
        let id = call();
        for (json, names) in [
            (r#"{"call":"c1"}"#.to_owned(), "`op` is missing"),
            (r#"{"op":"dance","call":"c1"}"#.to_owned(), "dance"),
            (r#"{"op":"hangup"}"#.to_owned(), "needs `call`"),
            (
                format!(r#"{{"op":"invite","call":"{id}","media":"video","sdp":"v=0"}}"#),
                "invite needs `to`",
            ),
            (
                format!(r#"{{"op":"invite","call":"{id}","to":"13800000002","sdp":"v=0"}}"#),
                "invite needs `media`",
            ),
            (
                format!(r#"{{"op":"accept","call":"{id}"}}"#),
                "accept needs `sdp`",
            ),
            (
                format!(r#"{{"op":"candidate","call":"{id}"}}"#),
                "candidate needs `candidate`",
            ),
            (
                r#"{"op":"hangup","call":"not a call id"}"#.to_owned(),
                "not a call id",
            ),
        ] {
            let err = decode(&json).expect_err(&json).to_string();
            assert!(err.contains(names), "{json}: {err}");
        }
    }

    #[test]
    fn descriptions_and_candidates_have_their_limits() {
        let id = call();
        let sdp = "a".repeat(MAX_SDP_BYTES + 1);
        let json = format!(r#"{{"op":"offer","call":"{id}","sdp":"{sdp}"}}"#);
        assert!(
            decode(&json)
                .expect_err("too long")
                .to_string()
                .contains("32768")
        );
        let json = format!(r#"{{"op":"offer","call":"{id}","sdp":""}}"#);
        assert!(decode(&json).is_err(), "an empty description");
        let line = "c".repeat(MAX_CANDIDATE_BYTES + 1);
        let json = format!(r#"{{"op":"candidate","call":"{id}","candidate":"{line}"}}"#);
        assert!(decode(&json).is_err(), "a candidate over 1 KiB");
        // The end-of-candidates marker is an empty line.
        let json = format!(r#"{{"op":"candidate","call":"{id}","candidate":""}}"#);
        assert!(decode(&json).is_ok());
    }

    #[test]
    fn signals_travel_flat_and_come_back() {
        for event in [
            SignalEvent::Ringing,
            SignalEvent::Accepted { sdp: "v=0".into() },
            SignalEvent::Candidate(IceCandidate {
                candidate: "candidate:1".into(),
                sdp_mid: None,
                sdp_mline_index: Some(1),
            }),
            SignalEvent::Offer { sdp: "v=0".into() },
            SignalEvent::Answer { sdp: "v=0".into() },
            SignalEvent::Ended {
                reason: EndReason::Glare,
                duration: None,
            },
        ] {
            let signal = CallSignal {
                signal: Signal {
                    call: call(),
                    event,
                },
            };
            let json = serde_json::to_string(&signal).expect("encode");
            let back: CallSignal = serde_json::from_str(&json).expect("decode");
            assert_eq!(back, signal, "{json}");
        }
        let ended = r#"{"signal":{"call":"c1","event":"ended"}}"#;
        let err = serde_json::from_str::<CallSignal>(ended).expect_err("no reason");
        assert!(err.to_string().contains("ended needs `reason`"), "{err}");
    }

    #[test]
    fn the_relay_policy_travels_and_all_is_left_out() {
        let relay = r#"{"state":11,"ice_servers":[{"urls":["turn:127.0.0.1:3478?transport=udp"],"username":"1796000000:13800000001","credential":"c2VjcmV0"}],"ice_transport_policy":"relay"}"#;
        let reply: IceServersReply = serde_json::from_str(relay).expect("decode");
        assert_eq!(reply.ice_transport_policy, IceTransportPolicy::Relay);
        assert_eq!(serde_json::to_string(&reply).expect("encode"), relay);
        // A reply of a server that knows no policy means every candidate.
        let old = r#"{"state":11,"ice_servers":[]}"#;
        let reply: IceServersReply = serde_json::from_str(old).expect("decode");
        assert_eq!(reply.ice_transport_policy, IceTransportPolicy::All);
        assert_eq!(serde_json::to_string(&reply).expect("encode"), old);
        let explicit = r#"{"state":11,"ice_servers":[],"ice_transport_policy":"all"}"#;
        let reply: IceServersReply = serde_json::from_str(explicit).expect("decode");
        assert_eq!(reply.ice_transport_policy, IceTransportPolicy::All);
        let unknown = r#"{"state":11,"ice_servers":[],"ice_transport_policy":"public"}"#;
        assert!(serde_json::from_str::<IceServersReply>(unknown).is_err());
    }

    #[test]
    fn a_call_record_says_how_it_ended() {
        use CallOutcome as O;
        use EndReason as R;
        assert_eq!(CallOutcome::of(R::Hangup, true), O::Answered);
        assert_eq!(CallOutcome::of(R::Lost, true), O::Answered);
        assert_eq!(CallOutcome::of(R::Declined, false), O::Declined);
        assert_eq!(CallOutcome::of(R::Busy, false), O::Busy);
        assert_eq!(CallOutcome::of(R::Glare, false), O::Busy);
        assert_eq!(CallOutcome::of(R::Timeout, false), O::Missed);
        assert_eq!(CallOutcome::of(R::Cancelled, false), O::Missed);
        assert_eq!(CallOutcome::of(R::Lost, false), O::Failed);
    }
}
