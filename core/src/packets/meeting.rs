//! 24888: a discussion group's meetings through the server's media
//! forwarder (SFU) — the requests a participant sends, the signals the
//! server sends to a participant's socket, what every member's 20888 stream
//! is pushed, and the two notices stored in the group's history.
//!
//! Requests and signals travel flat, as calls' do (`op`/`event` plus the
//! fields that kind needs); in Rust they are enums. Meeting requests share
//! 24888 with call requests: every meeting `op` starts with `meeting_`, and
//! [`SignallingRequest`] tells the two apart.

use crate::frame_error::FrameError;
use crate::ids::{GroupId, MeetingId, UserId};
use crate::packet::{Packet, invalid};
use crate::packets::call::{CallRequest, check_sdp, needed};
use serde::{Deserialize, Serialize};

/// The most participants in one meeting at a time.
pub const MAX_PARTICIPANTS: usize = 16;
/// How long a started meeting waits for its first participant before it
/// ends as [`MeetingEndReason::Empty`].
pub const FIRST_JOIN_GRACE_MS: i64 = 30_000;
/// How long a participant's media may be silent (no packet, not even an ICE
/// consent check), or a server offer unanswered, before the server drops
/// the participant as [`MeetingEndReason::Lost`].
pub const MEDIA_LOST_MS: i64 = 15_000;
/// How many meetings one user may start per minute.
pub const STARTS_PER_MINUTE: u32 = 10;

/// What a member asks of 24888 about a meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RequestWire", into = "RequestWire")]
pub enum MeetingRequest {
    /// Starts the group's meeting, or names the one already running.
    Start(GroupId),
    /// Joins with the client's offer (its microphone and a video section).
    Join {
        /// The meeting.
        meeting: MeetingId,
        /// The offer.
        sdp: String,
        /// Whether the microphone sends.
        mic: bool,
        /// Whether the camera sends.
        camera: bool,
    },
    /// The answer to the server's latest `offer` signal.
    Answer {
        /// The meeting.
        meeting: MeetingId,
        /// The answer.
        sdp: String,
    },
    /// The microphone or the camera was turned on or off.
    Media {
        /// The meeting.
        meeting: MeetingId,
        /// Whether the microphone sends.
        mic: bool,
        /// Whether the camera sends.
        camera: bool,
    },
    /// Leaves the meeting; it goes on for the others.
    Leave(MeetingId),
    /// Ends the meeting for everyone (its starter or the group's holder).
    End(MeetingId),
}

impl MeetingRequest {
    /// The meeting the request is about (none for [`MeetingRequest::Start`]).
    pub fn meeting(&self) -> Option<&MeetingId> {
        match self {
            MeetingRequest::Start(_) => None,
            MeetingRequest::Join { meeting, .. }
            | MeetingRequest::Answer { meeting, .. }
            | MeetingRequest::Media { meeting, .. }
            | MeetingRequest::Leave(meeting)
            | MeetingRequest::End(meeting) => Some(meeting),
        }
    }
}

impl Packet for MeetingRequest {
    const NAME: &'static str = "MeetingRequest";
    fn validate(&self) -> Result<(), FrameError> {
        match self {
            MeetingRequest::Join { sdp, .. } | MeetingRequest::Answer { sdp, .. } => {
                check_sdp(Self::NAME, sdp)
            }
            _ => Ok(()),
        }
    }
}

/// A request's kind on the wire: `meeting_` and the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Op {
    #[serde(rename = "meeting_start")]
    Start,
    #[serde(rename = "meeting_join")]
    Join,
    #[serde(rename = "meeting_answer")]
    Answer,
    #[serde(rename = "meeting_media")]
    Media,
    #[serde(rename = "meeting_leave")]
    Leave,
    #[serde(rename = "meeting_end")]
    End,
}

/// A request as it travels: `op` and whichever fields it needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RequestWire {
    #[serde(skip_serializing_if = "Option::is_none")]
    op: Option<Op>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gid: Option<GroupId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    meeting: Option<MeetingId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sdp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mic: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    camera: Option<bool>,
}

impl TryFrom<RequestWire> for MeetingRequest {
    type Error = String;
    fn try_from(wire: RequestWire) -> Result<MeetingRequest, String> {
        let op = wire.op.ok_or(
            "`op` is missing; expected one of meeting_start, meeting_join, meeting_answer, \
             meeting_media, meeting_leave, meeting_end",
        )?;
        let meeting = || needed(wire.meeting.clone(), "a meeting request", "meeting");
        let sdp = |kind| needed(wire.sdp.clone(), kind, "sdp");
        let media = |kind| -> Result<(bool, bool), String> {
            Ok((
                needed(wire.mic, kind, "mic")?,
                needed(wire.camera, kind, "camera")?,
            ))
        };
        Ok(match op {
            Op::Start => MeetingRequest::Start(needed(wire.gid, "meeting_start", "gid")?),
            Op::Join => {
                let meeting = meeting()?;
                let (mic, camera) = media("meeting_join")?;
                MeetingRequest::Join {
                    sdp: sdp("meeting_join")?,
                    meeting,
                    mic,
                    camera,
                }
            }
            Op::Answer => MeetingRequest::Answer {
                meeting: meeting()?,
                sdp: sdp("meeting_answer")?,
            },
            Op::Media => {
                let meeting = meeting()?;
                let (mic, camera) = media("meeting_media")?;
                MeetingRequest::Media {
                    meeting,
                    mic,
                    camera,
                }
            }
            Op::Leave => MeetingRequest::Leave(meeting()?),
            Op::End => MeetingRequest::End(meeting()?),
        })
    }
}

impl From<MeetingRequest> for RequestWire {
    fn from(request: MeetingRequest) -> RequestWire {
        let of = |op: Op, meeting: MeetingId| RequestWire {
            op: Some(op),
            meeting: Some(meeting),
            ..RequestWire::default()
        };
        match request {
            MeetingRequest::Start(gid) => RequestWire {
                op: Some(Op::Start),
                gid: Some(gid),
                ..RequestWire::default()
            },
            MeetingRequest::Join {
                meeting,
                sdp,
                mic,
                camera,
            } => RequestWire {
                sdp: Some(sdp),
                mic: Some(mic),
                camera: Some(camera),
                ..of(Op::Join, meeting)
            },
            MeetingRequest::Answer { meeting, sdp } => RequestWire {
                sdp: Some(sdp),
                ..of(Op::Answer, meeting)
            },
            MeetingRequest::Media {
                meeting,
                mic,
                camera,
            } => RequestWire {
                mic: Some(mic),
                camera: Some(camera),
                ..of(Op::Media, meeting)
            },
            MeetingRequest::Leave(meeting) => of(Op::Leave, meeting),
            MeetingRequest::End(meeting) => of(Op::End, meeting),
        }
    }
}

/// What a client sends on 24888: a call's request or a meeting's, told
/// apart by the `meeting_` prefix of `op`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignallingRequest {
    /// A 1:1 call's request (or `ice_servers`).
    Call(CallRequest),
    /// A meeting's request.
    Meeting(MeetingRequest),
}

impl SignallingRequest {
    /// Reads `op`, then reads and checks the request it names.
    pub fn from_frame(frame: &crate::Frame) -> Result<SignallingRequest, FrameError> {
        let OpOnly { op } = frame.packet()?;
        if op.as_deref().is_some_and(|op| op.starts_with("meeting_")) {
            frame.packet().map(SignallingRequest::Meeting)
        } else {
            frame.packet().map(SignallingRequest::Call)
        }
    }
}

/// Just the `op` of a 24888 request (any other field is skipped unread).
#[derive(Serialize, Deserialize)]
struct OpOnly {
    #[serde(default)]
    op: Option<String>,
}

impl Packet for OpOnly {
    const NAME: &'static str = "SignallingRequest";
}

/// The reply to [`MeetingRequest::Start`]: the meeting to join, new or the
/// one already running in the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingStartReply {
    /// Always 11.
    pub state: crate::State,
    /// The meeting.
    pub meeting: MeetingId,
}

impl Packet for MeetingStartReply {
    const NAME: &'static str = "MeetingStartReply";
}

/// One participant as a participant's own socket is told: who and what they
/// send. Their forwarded tracks are known by their stream id (`a=msid`),
/// which is their user id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Who.
    pub user: UserId,
    /// Whether their microphone sends.
    pub mic: bool,
    /// Whether their camera sends.
    pub camera: bool,
}

fn check_participants(packet: &'static str, list: &[Participant]) -> Result<(), FrameError> {
    if list.len() > MAX_PARTICIPANTS {
        return Err(invalid(
            packet,
            format!(
                "{} participants; expected at most {MAX_PARTICIPANTS}",
                list.len()
            ),
        ));
    }
    Ok(())
}

/// The reply to [`MeetingRequest::Join`]: the server's answer and who is in
/// the meeting now (the joiner included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingJoinReply {
    /// Always 11.
    pub state: crate::State,
    /// The answer to the join's offer.
    pub sdp: String,
    /// Everyone in the meeting, in the order they joined.
    pub participants: Vec<Participant>,
}

impl Packet for MeetingJoinReply {
    const NAME: &'static str = "MeetingJoinReply";
    fn validate(&self) -> Result<(), FrameError> {
        check_sdp(Self::NAME, &self.sdp)?;
        check_participants(Self::NAME, &self.participants)
    }
}

/// Why a meeting is over: for everyone, or (the last three) only for the
/// socket or member told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingEndReason {
    /// Its starter or the group's holder ended it.
    Ended,
    /// Nobody is left in it: the last participant left, was lost or
    /// removed, or nobody joined within [`FIRST_JOIN_GRACE_MS`].
    Empty,
    /// This member is no longer in the group (removed, or left it).
    Removed,
    /// The same user joined from another socket, which carries them now.
    JoinedElsewhere,
    /// This participant's media or signalling was gone too long.
    Lost,
}

/// What a meeting signal says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeetingSignalEvent {
    /// The server renegotiates: media sections added, reused or stopped.
    Offer {
        /// The offer.
        sdp: String,
        /// Everyone in the meeting.
        participants: Vec<Participant>,
    },
    /// Someone's microphone or camera changed (no renegotiation needed).
    Participants(Vec<Participant>),
    /// The meeting is over for this socket.
    Ended(MeetingEndReason),
}

/// A meeting's signal on 24888: `{"signal":{"meeting",…,"event",…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingSignal {
    /// The signal.
    pub signal: MeetingSignalBody,
}

impl Packet for MeetingSignal {
    const NAME: &'static str = "MeetingSignal";
    fn validate(&self) -> Result<(), FrameError> {
        match &self.signal.event {
            MeetingSignalEvent::Offer { sdp, participants } => {
                check_sdp(Self::NAME, sdp)?;
                check_participants(Self::NAME, participants)
            }
            MeetingSignalEvent::Participants(participants) => {
                check_participants(Self::NAME, participants)
            }
            MeetingSignalEvent::Ended(_) => Ok(()),
        }
    }
}

/// One meeting's signal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SignalWire", into = "SignalWire")]
pub struct MeetingSignalBody {
    /// The meeting.
    pub meeting: MeetingId,
    /// What happened.
    pub event: MeetingSignalEvent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Event {
    Offer,
    Participants,
    Ended,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SignalWire {
    meeting: MeetingId,
    event: Event,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sdp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    participants: Option<Vec<Participant>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<MeetingEndReason>,
}

impl TryFrom<SignalWire> for MeetingSignalBody {
    type Error = String;
    fn try_from(wire: SignalWire) -> Result<MeetingSignalBody, String> {
        let event = match wire.event {
            Event::Offer => MeetingSignalEvent::Offer {
                sdp: needed(wire.sdp, "offer", "sdp")?,
                participants: needed(wire.participants, "offer", "participants")?,
            },
            Event::Participants => MeetingSignalEvent::Participants(needed(
                wire.participants,
                "participants",
                "participants",
            )?),
            Event::Ended => MeetingSignalEvent::Ended(needed(wire.reason, "ended", "reason")?),
        };
        Ok(MeetingSignalBody {
            meeting: wire.meeting,
            event,
        })
    }
}

impl From<MeetingSignalBody> for SignalWire {
    fn from(signal: MeetingSignalBody) -> SignalWire {
        let mut wire = SignalWire {
            meeting: signal.meeting,
            event: Event::Ended,
            sdp: None,
            participants: None,
            reason: None,
        };
        match signal.event {
            MeetingSignalEvent::Offer { sdp, participants } => {
                wire.event = Event::Offer;
                wire.sdp = Some(sdp);
                wire.participants = Some(participants);
            }
            MeetingSignalEvent::Participants(participants) => {
                wire.event = Event::Participants;
                wire.participants = Some(participants);
            }
            MeetingSignalEvent::Ended(reason) => wire.reason = Some(reason),
        }
        wire
    }
}

/// A running meeting as its group's members see it, pushed on 20888
/// whenever it starts or someone joins or leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    /// The group.
    pub gid: GroupId,
    /// The meeting.
    pub meeting: MeetingId,
    /// Who started it.
    pub started_by: UserId,
    /// When, in milliseconds since the Unix epoch.
    pub started_at: i64,
    /// Who is in it now, in the order they joined.
    pub participants: Vec<UserId>,
}

/// Pushed on 20888 when a group's meeting is over (for a removed member:
/// over for them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingEnded {
    /// The group.
    pub gid: GroupId,
    /// The meeting.
    pub meeting: MeetingId,
    /// Why: `ended`, `empty`, or `removed`.
    pub reason: MeetingEndReason,
}

/// The content of a type-24 message: a meeting started in the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingStartedNotice {
    /// The meeting.
    pub meeting: MeetingId,
    /// Who started it.
    pub by: UserId,
}

impl Packet for MeetingStartedNotice {
    const NAME: &'static str = "MeetingStartedNotice";
}

/// The content of a type-25 message: a meeting of the group is over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingEndedNotice {
    /// The meeting.
    pub meeting: MeetingId,
    /// Who ended it; absent when it ended because nobody was left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<UserId>,
    /// Seconds from its start to its end.
    pub duration: u32,
    /// Everyone who took part, in the order they first joined.
    pub participants: Vec<UserId>,
}

impl Packet for MeetingEndedNotice {
    const NAME: &'static str = "MeetingEndedNotice";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Frame;
    use crate::envelope::Encoding;

    fn meeting() -> MeetingId {
        MeetingId::generated(0x9a1b_2c3d_4e5f_6071, 0x8293_a4b5_c6d7_e8f9)
    }

    fn frame(json: &str) -> Frame {
        Frame::decode(&Frame::encode_payload(Encoding::Base64, json).expect("encode"))
            .expect("a frame")
    }

    fn decode(json: &str) -> Result<MeetingRequest, FrameError> {
        frame(json).packet()
    }

    #[test]
    fn every_request_kind_travels_flat_and_comes_back() {
        let sdp = || "v=0\r\n".to_owned();
        let requests = [
            MeetingRequest::Start(GroupId::new(7).expect("gid")),
            MeetingRequest::Join {
                meeting: meeting(),
                sdp: sdp(),
                mic: true,
                camera: false,
            },
            MeetingRequest::Answer {
                meeting: meeting(),
                sdp: sdp(),
            },
            MeetingRequest::Media {
                meeting: meeting(),
                mic: false,
                camera: true,
            },
            MeetingRequest::Leave(meeting()),
            MeetingRequest::End(meeting()),
        ];
        for request in requests {
            let json = serde_json::to_string(&request).expect("encode");
            assert!(json.starts_with(r#"{"op":"meeting_"#), "{json}");
            assert_eq!(decode(&json).expect("decode"), request, "{json}");
            assert_eq!(
                SignallingRequest::from_frame(&frame(&json)).expect("dispatch"),
                SignallingRequest::Meeting(request),
                "{json}"
            );
        }
    }

    #[test]
    fn call_requests_still_reach_the_call_side_of_24888() {
        let hangup = r#"{"op":"hangup","call":"c1"}"#;
        assert!(matches!(
            SignallingRequest::from_frame(&frame(hangup)),
            Ok(SignallingRequest::Call(CallRequest::Hangup(_)))
        ));
        assert!(matches!(
            SignallingRequest::from_frame(&frame(r#"{"op":"ice_servers"}"#)),
            Ok(SignallingRequest::Call(CallRequest::IceServers))
        ));
        // An unknown meeting op is refused naming the meeting ops.
        let err = SignallingRequest::from_frame(&frame(r#"{"op":"meeting_dance","meeting":"m"}"#))
            .expect_err("unknown op")
            .to_string();
        assert!(err.contains("meeting_dance"), "{err}");
        // No op at all is a call request without one.
        let err = SignallingRequest::from_frame(&frame(r#"{"call":"c1"}"#))
            .expect_err("no op")
            .to_string();
        assert!(err.contains("`op` is missing"), "{err}");
        let err = SignallingRequest::from_frame(&frame(r#"{"op":7}"#))
            .expect_err("op not text")
            .to_string();
        assert!(err.contains("SignallingRequest"), "{err}");
    }

    #[test]
    fn a_request_missing_what_its_kind_needs_says_which_field() {
        let id = meeting();
        for (json, names) in [
            (r#"{"op":"meeting_start"}"#.to_owned(), "needs `gid`"),
            (r#"{"op":"meeting_leave"}"#.to_owned(), "needs `meeting`"),
            (
                format!(r#"{{"op":"meeting_join","meeting":"{id}","mic":true,"camera":true}}"#),
                "meeting_join needs `sdp`",
            ),
            (
                format!(r#"{{"op":"meeting_join","meeting":"{id}","sdp":"v=0","camera":true}}"#),
                "meeting_join needs `mic`",
            ),
            (
                format!(r#"{{"op":"meeting_media","meeting":"{id}","mic":true}}"#),
                "meeting_media needs `camera`",
            ),
            (
                format!(r#"{{"op":"meeting_answer","meeting":"{id}"}}"#),
                "meeting_answer needs `sdp`",
            ),
            (
                r#"{"op":"meeting_end","meeting":"not a meeting id"}"#.to_owned(),
                "not a meeting id",
            ),
            (
                r#"{"op":"meeting_start","gid":"13800000001"}"#.to_owned(),
                "not a group id",
            ),
        ] {
            let err = decode(&json).expect_err(&json).to_string();
            assert!(err.contains(names), "{json}: {err}");
        }
        let sdp = "a".repeat(crate::packets::call::MAX_SDP_BYTES + 1);
        let json = format!(r#"{{"op":"meeting_answer","meeting":"{id}","sdp":"{sdp}"}}"#);
        assert!(
            decode(&json)
                .expect_err("too long")
                .to_string()
                .contains("32768")
        );
    }

    fn participant(n: u8) -> Participant {
        Participant {
            user: UserId::parse(&format!("138000000{n:02}")).expect("user"),
            mic: true,
            camera: n.is_multiple_of(2),
        }
    }

    #[test]
    fn signals_travel_flat_and_come_back() {
        for event in [
            MeetingSignalEvent::Offer {
                sdp: "v=0".into(),
                participants: vec![participant(1), participant(2)],
            },
            MeetingSignalEvent::Participants(vec![participant(1)]),
            MeetingSignalEvent::Ended(MeetingEndReason::JoinedElsewhere),
        ] {
            let signal = MeetingSignal {
                signal: MeetingSignalBody {
                    meeting: meeting(),
                    event,
                },
            };
            let json = serde_json::to_string(&signal).expect("encode");
            let back: MeetingSignal = frame(&json).packet().expect("decode");
            assert_eq!(back, signal, "{json}");
        }
        for (json, names) in [
            (
                r#"{"signal":{"meeting":"m","event":"ended"}}"#,
                "ended needs `reason`",
            ),
            (
                r#"{"signal":{"meeting":"m","event":"offer","sdp":"v=0"}}"#,
                "offer needs `participants`",
            ),
        ] {
            let err = serde_json::from_str::<MeetingSignal>(json).expect_err(json);
            assert!(err.to_string().contains(names), "{err}");
        }
    }

    #[test]
    fn participant_lists_have_their_limits() {
        let offer = |participants| MeetingSignal {
            signal: MeetingSignalBody {
                meeting: meeting(),
                event: MeetingSignalEvent::Offer {
                    sdp: "v=0".into(),
                    participants,
                },
            },
        };
        let full: Vec<_> = (1..=16).map(participant).collect();
        assert!(offer(full.clone()).validate().is_ok());
        let mut over = full;
        over.push(participant(17));
        let err = offer(over).validate().expect_err("17").to_string();
        assert!(err.contains("expected at most 16"), "{err}");
        let reply = MeetingJoinReply {
            state: crate::State::SUCCESS,
            sdp: String::new(),
            participants: vec![],
        };
        assert!(reply.validate().is_err(), "an empty answer");
    }
}
