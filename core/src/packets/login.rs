//! 20888: login, resume, logout, and the live stream (pushes and acks).

use crate::frame_error::FrameError;
use crate::ids::{Seq, UserId};
use crate::packet::{Packet, invalid};
use crate::packets::broadcast::Broadcast;
use crate::packets::call::{CallEnded, CallInvitation};
use crate::packets::meeting::{Meeting, MeetingEnded};
use crate::packets::message::Message;
use crate::packets::profile::Presence;
use crate::packets::receipts::{DingNotice, GroupReads, PeerRead, ReadMark, Watch};
use crate::packets::settings::ConversationMute;
use crate::text;
use serde::{Deserialize, Serialize};

/// The longest session token accepted (tokens are 64 hex digits).
pub const MAX_TOKEN_LEN: usize = 128;

/// Login with an account and the md5 digest of its password
/// (see [`crate::digest::password_digest`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    /// The account.
    pub user: UserId,
    /// 32 lowercase hex digits: the md5 of the password.
    pub password: String,
}

impl Packet for Login {
    const NAME: &'static str = "Login";
    fn validate(&self) -> Result<(), FrameError> {
        if crate::digest::is_password_digest(&self.password) {
            Ok(())
        } else {
            Err(invalid(
                Self::NAME,
                "password is not an md5 digest; expected 32 lowercase hex digits",
            ))
        }
    }
}

/// Resume a session with the token a login gave, without the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// The account.
    pub user: UserId,
    /// The session token from [`LoginReply`].
    pub token: String,
    /// The client catches up on 50888 itself after every resume, so the
    /// stream need not push the messages it has not acknowledged: only what
    /// is stored from now on. Absent (false): the backlog comes first, as
    /// the document has it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub catch_up: bool,
}

impl Packet for Resume {
    const NAME: &'static str = "Resume";
    fn validate(&self) -> Result<(), FrameError> {
        if self.token.is_empty() || self.token.len() > MAX_TOKEN_LEN {
            Err(invalid(
                Self::NAME,
                format!(
                    "token has {} characters; expected 1 to {MAX_TOKEN_LEN}",
                    self.token.len()
                ),
            ))
        } else {
            Ok(())
        }
    }
}

/// A successful login or resume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginReply {
    /// Always 11.
    pub state: crate::State,
    /// The account.
    pub user: UserId,
    /// The session token: send it as `?token=` on every other port, and in
    /// [`Resume`] to come back without the password.
    pub token: String,
    /// The account's display name (base64 on the wire).
    #[serde(with = "text::b64")]
    pub name: String,
    /// Whether the account may send broadcasts.
    #[serde(default)]
    pub broadcaster: bool,
}

impl Packet for LoginReply {
    const NAME: &'static str = "LoginReply";
}

/// Cumulative acknowledgement of the live stream: every message up to and
/// including `ack` has been stored by the client. Gets no reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamAck {
    /// The highest seq the client has stored.
    pub ack: Seq,
}

impl Packet for StreamAck {
    const NAME: &'static str = "StreamAck";
}

/// End this session: its token is revoked and the connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logout {
    /// Always `true`.
    pub logout: bool,
}

impl Packet for Logout {
    const NAME: &'static str = "Logout";
}

/// A sign of life asked for on the live stream, `{"heartbeat":true}`; the
/// server answers with the same frame. A connection can drop without closing
/// (a network gone silently), and browsers cannot send WebSocket pings, so
/// the client sends this after a silence and takes the connection for lost
/// when nothing at all comes back in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Always `true`.
    pub heartbeat: bool,
}

impl Packet for Heartbeat {
    const NAME: &'static str = "Heartbeat";
}

/// What a client sends on 20888.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamRequest {
    /// `{"user","password"}`
    Login(Login),
    /// `{"user","token"}`
    Resume(Resume),
    /// `{"ack"}`
    Ack(StreamAck),
    /// `{"logout":true}`
    Logout(Logout),
    /// `{"heartbeat":true}`
    Heartbeat(Heartbeat),
    /// `{"read"}`: a read mark (§16.1)
    Read(ReadMark),
    /// `{"watch"}`: a group's marks wanted, or no longer (§16.2)
    Watch(Watch),
}

impl StreamRequest {
    /// Tells the requests apart by their fields, then reads and checks the one found.
    pub fn from_frame(frame: &crate::Frame) -> Result<StreamRequest, FrameError> {
        let keys = frame.field_names()?;
        let has = |name: &str| keys.iter().any(|k| k == name);
        if has("password") {
            frame.packet().map(StreamRequest::Login)
        } else if has("token") {
            frame.packet().map(StreamRequest::Resume)
        } else if has("ack") {
            frame.packet().map(StreamRequest::Ack)
        } else if has("logout") {
            frame.packet().map(StreamRequest::Logout)
        } else if has("heartbeat") {
            frame.packet().map(StreamRequest::Heartbeat)
        } else if has("read") {
            frame.packet().map(StreamRequest::Read)
        } else if has("watch") {
            frame.packet().map(StreamRequest::Watch)
        } else {
            Err(invalid(
                "login-port request",
                "expected a login {user,password}, a resume {user,token}, an ack {ack}, {logout:true}, {heartbeat:true}, a read mark {read} or {watch}",
            ))
        }
    }
}

/// A change of someone's presence, pushed to the users who can see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceChange {
    /// Whose presence.
    pub user: UserId,
    /// Now.
    pub presence: Presence,
}

/// A change of someone's signature, pushed to the users who can see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureChange {
    /// Whose signature.
    pub user: UserId,
    /// The new signature (base64 on the wire).
    #[serde(with = "text::b64")]
    pub signing: String,
}

/// What the server pushes on 20888 after a login.
///
/// Messages are pushed bare, in the document's shape, and are acknowledged
/// with [`StreamAck`]. Other pushes are wrapped in an object with one key that
/// names them, and need no acknowledgement (they are also found by sync).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Push {
    /// A message for the user (or sent by them from another session).
    Message(Box<Message>),
    /// `{"broadcast":{…}}`: a new company broadcast.
    Broadcast {
        /// The broadcast.
        broadcast: Broadcast,
    },
    /// `{"presence":{…}}`: someone's presence changed.
    Presence {
        /// The change.
        presence: PresenceChange,
    },
    /// `{"signature":{…}}`: someone's signature changed.
    Signature {
        /// The change.
        signature: SignatureChange,
    },
    /// `{"signed_out":"…"}`: this session's token was revoked (logout elsewhere
    /// or a password change); the server closes the connection next.
    SignedOut {
        /// Why.
        signed_out: String,
    },
    /// `{"call":{…}}`: someone calls the user (every session rings, §12).
    Call {
        /// The invitation.
        call: Box<CallInvitation>,
    },
    /// `{"call_ended":{…}}`: a ringing call was answered on another device
    /// or ended: stop ringing.
    CallEnded {
        /// Which call, and why.
        call_ended: CallEnded,
    },
    /// `{"meeting":{…}}`: a meeting of one of the user's groups started, or
    /// someone joined or left it (PROTOCOL §13).
    Meeting {
        /// The meeting as it is now.
        meeting: Box<Meeting>,
    },
    /// `{"meeting_ended":{…}}`: a meeting of one of the user's groups is
    /// over (for a member removed from the group: over for them).
    MeetingEnded {
        /// Which meeting, and why.
        meeting_ended: MeetingEnded,
    },
    /// `{"conversation":{"target","muted"}}`: the user muted or unmuted a
    /// conversation in another session (PROTOCOL §15.5).
    Conversation {
        /// The conversation and its setting now.
        conversation: ConversationMute,
    },
    /// `{"read":{…}}`: the user (on another device) or the other person of
    /// a 1:1 conversation read up to a message (PROTOCOL §16.1).
    Read {
        /// Whose mark, on which conversation.
        read: PeerRead,
    },
    /// `{"reads":{…}}`: marks of a group this session watches (§16.2).
    Reads {
        /// The group's marks, all or those that moved.
        reads: GroupReads,
    },
    /// `{"ding":{…}}`: someone reminds the user of a message not read (§16.4).
    Ding {
        /// Who, and which message.
        ding: Box<DingNotice>,
    },
}

impl Packet for Push {
    const NAME: &'static str = "Push";
    fn validate(&self) -> Result<(), FrameError> {
        match self {
            Push::Read { read } => read.validate(),
            Push::Reads { reads } => reads.validate(),
            _ => Ok(()),
        }
    }
}

impl<'de> Deserialize<'de> for Push {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Push, D::Error> {
        use serde::de::Error;
        use serde_json::value::RawValue;
        // The object is kept as raw JSON text, and the part that names the
        // push is read from it with `from_str`: going through a
        // `serde_json::Value` would compile every pushed type a second time,
        // for the `Value` deserializer, into the web bundle.
        let whole = Box::<RawValue>::deserialize(deserializer)?;
        let keys: PushKeys = serde_json::from_str(whole.get()).map_err(D::Error::custom)?;
        if keys.message {
            serde_json::from_str(whole.get())
                .map(|m| Push::Message(Box::new(m)))
                .map_err(D::Error::custom)
        } else if let Some(broadcast) = keys.broadcast {
            part(broadcast).map(|broadcast| Push::Broadcast { broadcast })
        } else if let Some(presence) = keys.presence {
            part(presence).map(|presence| Push::Presence { presence })
        } else if let Some(signature) = keys.signature {
            part(signature).map(|signature| Push::Signature { signature })
        } else if let Some(signed_out) = keys.signed_out {
            part(signed_out).map(|signed_out| Push::SignedOut { signed_out })
        } else if let Some(call) = keys.call {
            part(call).map(|call| Push::Call { call })
        } else if let Some(call_ended) = keys.call_ended {
            part(call_ended).map(|call_ended| Push::CallEnded { call_ended })
        } else if let Some(meeting) = keys.meeting {
            part(meeting).map(|meeting| Push::Meeting { meeting })
        } else if let Some(meeting_ended) = keys.meeting_ended {
            part(meeting_ended).map(|meeting_ended| Push::MeetingEnded { meeting_ended })
        } else if let Some(conversation) = keys.conversation {
            part(conversation).map(|conversation| Push::Conversation { conversation })
        } else if let Some(read) = keys.read {
            part(read).map(|read| Push::Read { read })
        } else if let Some(reads) = keys.reads {
            part(reads).map(|reads| Push::Reads { reads })
        } else if let Some(ding) = keys.ding {
            part(ding).map(|ding| Push::Ding { ding })
        } else {
            Err(D::Error::custom(
                "expected a message, or an object with broadcast, presence, signature, signed_out, \
                 call, call_ended, meeting, meeting_ended, conversation, read, reads or ding",
            ))
        }
    }
}

/// Reads the part of a push that names it (`None`: it was `null`).
fn part<T: serde::de::DeserializeOwned, E: serde::de::Error>(
    raw: Option<Box<serde_json::value::RawValue>>,
) -> Result<T, E> {
    let json = raw
        .as_deref()
        .map_or("null", serde_json::value::RawValue::get);
    serde_json::from_str(json).map_err(E::custom)
}

/// Which of a push's keys are present (`Some(None)`: present and `null`),
/// with the raw JSON of the parts that name a push. A later duplicate key
/// wins, as it would in a JSON object read into a map.
#[derive(Default)]
struct PushKeys {
    message: bool,
    broadcast: Option<Option<Box<serde_json::value::RawValue>>>,
    presence: Option<Option<Box<serde_json::value::RawValue>>>,
    signature: Option<Option<Box<serde_json::value::RawValue>>>,
    signed_out: Option<Option<Box<serde_json::value::RawValue>>>,
    call: Option<Option<Box<serde_json::value::RawValue>>>,
    call_ended: Option<Option<Box<serde_json::value::RawValue>>>,
    meeting: Option<Option<Box<serde_json::value::RawValue>>>,
    meeting_ended: Option<Option<Box<serde_json::value::RawValue>>>,
    conversation: Option<Option<Box<serde_json::value::RawValue>>>,
    read: Option<Option<Box<serde_json::value::RawValue>>>,
    reads: Option<Option<Box<serde_json::value::RawValue>>>,
    ding: Option<Option<Box<serde_json::value::RawValue>>>,
}

impl<'de> Deserialize<'de> for PushKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<PushKeys, D::Error> {
        struct KeysVisitor;
        impl<'de> serde::de::Visitor<'de> for KeysVisitor {
            type Value = PushKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<PushKeys, A::Error> {
                let mut keys = PushKeys::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let slot = match &*key {
                        "type" => {
                            keys.message = true;
                            map.next_value::<serde::de::IgnoredAny>()?;
                            continue;
                        }
                        "broadcast" => &mut keys.broadcast,
                        "presence" => &mut keys.presence,
                        "signature" => &mut keys.signature,
                        "call" => &mut keys.call,
                        "call_ended" => &mut keys.call_ended,
                        "meeting" => &mut keys.meeting,
                        "meeting_ended" => &mut keys.meeting_ended,
                        "conversation" => &mut keys.conversation,
                        "read" => &mut keys.read,
                        "reads" => &mut keys.reads,
                        "ding" => &mut keys.ding,
                        "signed_out" => &mut keys.signed_out,
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = Some(map.next_value()?);
                }
                Ok(keys)
            }
        }
        deserializer.deserialize_map(KeysVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_is_named_by_its_key_and_a_null_or_missing_part_is_an_error() {
        let push: Push = serde_json::from_str(r#"{"other":1,"signed_out":"bye"}"#).expect("push");
        assert_eq!(
            push,
            Push::SignedOut {
                signed_out: "bye".into()
            }
        );
        // A later duplicate key wins, as in a map.
        let push: Push =
            serde_json::from_str(r#"{"signed_out":"a","signed_out":"b"}"#).expect("push");
        assert_eq!(
            push,
            Push::SignedOut {
                signed_out: "b".into()
            }
        );
        let err = serde_json::from_str::<Push>(r#"{"broadcast":null}"#).expect_err("null");
        assert!(err.to_string().contains("invalid type: null"), "{err}");
        let err = serde_json::from_str::<Push>(r#"{"x":1}"#).expect_err("unnamed");
        assert!(
            err.to_string().contains("expected a message, or an object"),
            "{err}"
        );
        let err = serde_json::from_str::<Push>(r#"["signed_out"]"#).expect_err("not a map");
        assert!(err.to_string().contains("expected a map"), "{err}");
    }
}
