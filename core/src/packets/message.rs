//! Messages: 1:1 text (21888), group text (26888), images (22888), voice
//! (23888), and the messages as every recipient receives them (20888, 50888).

use crate::frame_error::FrameError;
use crate::ids::{ClientMsgId, MessageId, Peer, Seq, UserId};
use crate::limits;
use crate::packet::{Packet, check_chars, invalid};
use crate::service::Service;
use crate::text;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// What a message is. Travels as a JSON number; a numeric string is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageType {
    /// 0: 1:1 text.
    Text,
    /// 1: 1:1 image; `content` is the server's file name.
    Image,
    /// 2: 1:1 voice; `content` is the server's file name, `duration` the seconds.
    Voice,
    /// 3: a 1:1 call, stored by the server when it ends, from the caller to
    /// the callee; `content` is a [`crate::packets::call::CallRecord`].
    Call,
    /// 4: a 1:1 recall (PROTOCOL §15.1); `content` is a [`RecallNotice`].
    Recall,
    /// 5: a 1:1 file of any kind; `content` is the server's file name, the
    /// message carries `name` and `size`.
    File,
    /// 6: a 1:1 chat record (merged forward); `content` is a [`ChatRecord`].
    ChatRecord,
    /// 10: group text.
    GroupText,
    /// 11: group image.
    GroupImage,
    /// 12: group voice.
    GroupVoice,
    /// 14: a recall in a group.
    GroupRecall,
    /// 15: a file in a group.
    GroupFile,
    /// 16: a chat record in a group.
    GroupChatRecord,
    /// 19: a discussion group was created; `content` is a [`GroupCreatedNotice`].
    GroupCreated,
    /// 20: a discussion group was renamed; `content` is a [`GroupRenamedNotice`].
    GroupRenamed,
    /// 21: members were added; `content` is a [`GroupMembersNotice`].
    GroupMembersAdded,
    /// 22: members were removed by the holder; `content` is a [`GroupMembersNotice`].
    GroupMembersRemoved,
    /// 23: a member left; `content` is a [`GroupMembersNotice`].
    GroupMemberLeft,
    /// 24: a meeting of the group started; `content` is a
    /// [`crate::packets::meeting::MeetingStartedNotice`].
    MeetingStarted,
    /// 25: a meeting of the group is over; `content` is a
    /// [`crate::packets::meeting::MeetingEndedNotice`].
    MeetingEnded,
    /// A type this build does not know, kept as its number so a newer server
    /// never breaks an older client.
    Unknown(u16),
}

impl MessageType {
    /// The type's number on the wire.
    pub const fn code(self) -> u16 {
        match self {
            MessageType::Text => 0,
            MessageType::Image => 1,
            MessageType::Voice => 2,
            MessageType::Call => 3,
            MessageType::Recall => 4,
            MessageType::File => 5,
            MessageType::ChatRecord => 6,
            MessageType::GroupText => 10,
            MessageType::GroupImage => 11,
            MessageType::GroupVoice => 12,
            MessageType::GroupRecall => 14,
            MessageType::GroupFile => 15,
            MessageType::GroupChatRecord => 16,
            MessageType::GroupCreated => 19,
            MessageType::GroupRenamed => 20,
            MessageType::GroupMembersAdded => 21,
            MessageType::GroupMembersRemoved => 22,
            MessageType::GroupMemberLeft => 23,
            MessageType::MeetingStarted => 24,
            MessageType::MeetingEnded => 25,
            MessageType::Unknown(code) => code,
        }
    }

    /// The type a number stands for.
    pub const fn from_code(code: u16) -> MessageType {
        match code {
            0 => MessageType::Text,
            1 => MessageType::Image,
            2 => MessageType::Voice,
            3 => MessageType::Call,
            4 => MessageType::Recall,
            5 => MessageType::File,
            6 => MessageType::ChatRecord,
            10 => MessageType::GroupText,
            11 => MessageType::GroupImage,
            12 => MessageType::GroupVoice,
            14 => MessageType::GroupRecall,
            15 => MessageType::GroupFile,
            16 => MessageType::GroupChatRecord,
            19 => MessageType::GroupCreated,
            20 => MessageType::GroupRenamed,
            21 => MessageType::GroupMembersAdded,
            22 => MessageType::GroupMembersRemoved,
            23 => MessageType::GroupMemberLeft,
            24 => MessageType::MeetingStarted,
            25 => MessageType::MeetingEnded,
            other => MessageType::Unknown(other),
        }
    }

    /// Whether the message belongs to a group conversation.
    pub const fn is_group(self) -> bool {
        matches!(
            self,
            MessageType::GroupText
                | MessageType::GroupImage
                | MessageType::GroupVoice
                | MessageType::GroupRecall
                | MessageType::GroupFile
                | MessageType::GroupChatRecord
                | MessageType::GroupCreated
                | MessageType::GroupRenamed
                | MessageType::GroupMembersAdded
                | MessageType::GroupMembersRemoved
                | MessageType::GroupMemberLeft
                | MessageType::MeetingStarted
                | MessageType::MeetingEnded
        )
    }

    /// Whether it is a voice message (2 or 12).
    pub const fn is_voice(self) -> bool {
        matches!(self, MessageType::Voice | MessageType::GroupVoice)
    }

    /// Whether it is an image (1 or 11).
    pub const fn is_image(self) -> bool {
        matches!(self, MessageType::Image | MessageType::GroupImage)
    }

    /// Whether it is a recall (4 or 14): it takes back an earlier message and
    /// is never shown or counted itself.
    pub const fn is_recall(self) -> bool {
        matches!(self, MessageType::Recall | MessageType::GroupRecall)
    }

    /// Whether it is a file of any kind (5 or 15).
    pub const fn is_file(self) -> bool {
        matches!(self, MessageType::File | MessageType::GroupFile)
    }

    /// Whether it is a chat record, a merged forward (6 or 16).
    pub const fn is_chat_record(self) -> bool {
        matches!(self, MessageType::ChatRecord | MessageType::GroupChatRecord)
    }

    /// The same kind of message in a 1:1 conversation (`group` false) or a
    /// group (`group` true): a forwarded image becomes 11 in a group. `None`
    /// for kinds that exist on one side only (calls, notices, unknown ones).
    pub const fn for_conversation(self, group: bool) -> Option<MessageType> {
        use MessageType as T;
        let (one_to_one, in_group) = match self {
            T::Text | T::GroupText => (T::Text, T::GroupText),
            T::Image | T::GroupImage => (T::Image, T::GroupImage),
            T::Voice | T::GroupVoice => (T::Voice, T::GroupVoice),
            T::Recall | T::GroupRecall => (T::Recall, T::GroupRecall),
            T::File | T::GroupFile => (T::File, T::GroupFile),
            T::ChatRecord | T::GroupChatRecord => (T::ChatRecord, T::GroupChatRecord),
            _ => return None,
        };
        Some(if group { in_group } else { one_to_one })
    }

    /// Whether the server writes this message itself (a group notice, `from` "0").
    pub const fn is_notice(self) -> bool {
        self.changes_group()
            || matches!(
                self,
                MessageType::MeetingStarted | MessageType::MeetingEnded
            )
    }

    /// Whether it is a notice that the group itself changed: its name or
    /// who is in it (19 to 23; not a meeting's notice).
    pub const fn changes_group(self) -> bool {
        matches!(
            self,
            MessageType::GroupCreated
                | MessageType::GroupRenamed
                | MessageType::GroupMembersAdded
                | MessageType::GroupMembersRemoved
                | MessageType::GroupMemberLeft
        )
    }

    /// The type a user sends on `service` to `to`, or `None` if that service
    /// does not carry messages to such a peer.
    pub fn for_send(service: Service, to: &Peer) -> Option<MessageType> {
        match (service, to) {
            (Service::Text, Peer::User(_)) => Some(MessageType::Text),
            (Service::GroupText, Peer::Group(_)) => Some(MessageType::GroupText),
            (Service::Image, Peer::User(_)) => Some(MessageType::Image),
            (Service::Image, Peer::Group(_)) => Some(MessageType::GroupImage),
            (Service::Voice, Peer::User(_)) => Some(MessageType::Voice),
            (Service::Voice, Peer::Group(_)) => Some(MessageType::GroupVoice),
            _ => None,
        }
    }
}

impl Message {
    /// Whether the message is news its recipient should answer, counted
    /// unread: not a group notice, and of call records only a missed call.
    pub fn calls_for_reply(&self) -> bool {
        match self.kind {
            MessageType::Call => {
                serde_json::from_str::<crate::packets::call::CallRecord>(&self.content)
                    .is_ok_and(|record| record.is_missed())
            }
            _ if self.recalled.is_some() => false,
            kind => !kind.is_notice() && !kind.is_recall(),
        }
    }

    /// The recall this message carries (types 4 and 14), if it is one.
    pub fn recall_notice(&self) -> Option<RecallNotice> {
        self.kind
            .is_recall()
            .then(|| serde_json::from_str(&self.content).ok())
            .flatten()
    }

    /// Takes the recall of message `id` into this message (§15.1): the
    /// original loses its content and file fields and gains `recalled`; a
    /// reply's quote of it reads recalled. Whether anything changed.
    pub fn take_recall(&mut self, id: MessageId, recalled: &Recalled) -> bool {
        if self.id == id {
            let changed = self.recalled.as_ref() != Some(recalled) || !self.content.is_empty();
            self.content.clear();
            self.recalled = Some(recalled.clone());
            self.name = None;
            self.size = None;
            self.quote = None;
            return changed;
        }
        match &mut self.quote {
            Some(quote) if quote.id == id && !quote.recalled => {
                quote.recalled = true;
                quote.content = None;
                true
            }
            _ => false,
        }
    }
}

/// How many characters of a text a quote carries (§15.2).
pub const QUOTE_CHARS: usize = 100;

/// What a quote shows of its original: the first [`QUOTE_CHARS`]
/// characters of a text, or a file's original `name` (given as `text`);
/// nothing of an image or voice message, whose stored file name means
/// nothing to a reader.
pub fn quote_snippet(kind: MessageType, text: &str) -> Option<String> {
    if kind.is_file() {
        return Some(text.to_owned());
    }
    matches!(kind, MessageType::Text | MessageType::GroupText)
        .then(|| text.chars().take(QUOTE_CHARS).collect())
}

impl Quote {
    /// A reply's snapshot of `message`, as the server makes it.
    pub fn of(message: &Message) -> Quote {
        Quote {
            id: message.id,
            from: message.from.clone(),
            kind: message.kind,
            content: quote_snippet(
                message.kind,
                message.name.as_deref().unwrap_or(&message.content),
            ),
            recalled: message.recalled.is_some(),
        }
    }
}

impl Serialize for MessageType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u16(self.code())
    }
}

impl<'de> Deserialize<'de> for MessageType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<MessageType, D::Error> {
        struct TypeVisitor;
        impl Visitor<'_> for TypeVisitor {
            type Value = MessageType;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a message type number (0, 1, 2, 10, 11, 12, 19 …), or a string of one")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<MessageType, E> {
                u16::try_from(n)
                    .map(MessageType::from_code)
                    .map_err(|_| E::custom(format!("message type {n} is out of range")))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<MessageType, E> {
                u64::try_from(n)
                    .map_err(|_| E::custom(format!("message type {n} is negative")))
                    .and_then(|n| self.visit_u64(n))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<MessageType, E> {
                text.trim()
                    .parse::<u16>()
                    .map(MessageType::from_code)
                    .map_err(|_| E::custom(format!("message type {text:?} is not a number")))
            }
        }
        deserializer.deserialize_any(TypeVisitor)
    }
}

/// Who wrote a message: a user, or the server itself (`"0"`, for notices).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sender {
    /// The server: group notices come from `"0"`, as in the protocol document.
    System,
    /// A user.
    User(UserId),
}

impl Sender {
    /// The user, if a user wrote it.
    pub fn user(&self) -> Option<&UserId> {
        match self {
            Sender::User(user) => Some(user),
            Sender::System => None,
        }
    }
}

impl Serialize for Sender {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Sender::System => serializer.serialize_str("0"),
            Sender::User(user) => user.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Sender {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Sender, D::Error> {
        // A visitor rather than a `serde_json::Value`: reading a `Value`
        // adds its whole deserializer to the web bundle.
        struct SenderVisitor;
        impl SenderVisitor {
            fn parse<E: de::Error>(text: &str) -> Result<Sender, E> {
                if text == "0" {
                    return Ok(Sender::System);
                }
                UserId::parse(text).map(Sender::User).map_err(E::custom)
            }
            fn other<E: de::Error>(other: fmt::Arguments<'_>) -> Result<Sender, E> {
                Err(E::custom(format!(
                    "from is {other}; expected a user id or \"0\""
                )))
            }
        }
        impl<'de> Visitor<'de> for SenderVisitor {
            type Value = Sender;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a user id or \"0\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Sender, E> {
                SenderVisitor::parse(text)
            }
            fn visit_u64<E: de::Error>(self, number: u64) -> Result<Sender, E> {
                SenderVisitor::parse(&number.to_string())
            }
            fn visit_i64<E: de::Error>(self, number: i64) -> Result<Sender, E> {
                SenderVisitor::parse(&number.to_string())
            }
            fn visit_f64<E: de::Error>(self, number: f64) -> Result<Sender, E> {
                // Written as serde_json writes the number.
                match serde_json::Number::from_f64(number) {
                    Some(number) => UserId::parse(&number.to_string())
                        .map(Sender::User)
                        .map_err(E::custom),
                    None => SenderVisitor::other(format_args!("null")),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<Sender, E> {
                SenderVisitor::other(format_args!("null"))
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Sender, E> {
                SenderVisitor::other(format_args!("{value}"))
            }
        }
        deserializer.deserialize_any(SenderVisitor)
    }
}

/// A text message sent by a user: 1:1 on 21888 (`type` 0, `to` a user) or to a
/// group on 26888 (`type` 10, `to` a gid).
///
/// `cid` is the client's id for the message: a retried send with the same cid
/// is acknowledged again and never stored twice. The original mobile client
/// sent no cid; such sends are accepted, without that protection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendText {
    /// The sender: must be the session's own user.
    pub from: UserId,
    /// The recipient or group.
    pub to: Peer,
    /// 0 or 10.
    #[serde(rename = "type")]
    pub kind: MessageType,
    /// The text (base64 on the wire).
    #[serde(with = "text::b64")]
    pub content: String,
    /// The message this one replies to (PROTOCOL §15.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<MessageId>,
    /// The group members @-mentioned (PROTOCOL §15.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions: Option<crate::packets::groups::Members>,
    /// @所有人: only the holder may.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mention_all: bool,
    /// The client's id for this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<ClientMsgId>,
}

impl Packet for SendText {
    const NAME: &'static str = "SendText";
    fn validate(&self) -> Result<(), FrameError> {
        if !matches!(self.kind, MessageType::Text | MessageType::GroupText) {
            return Err(invalid(
                Self::NAME,
                format!(
                    "type {} is not a text message; expected 0 or 10",
                    self.kind.code()
                ),
            ));
        }
        if self.content.is_empty() {
            return Err(invalid(Self::NAME, "content is empty; expected some text"));
        }
        self.check_mentions()?;
        check_chars("content", &self.content, limits::MAX_TEXT_CHARS)
    }
}

impl SendText {
    /// §15.4: mentions only in a group, at most [`limits::MAX_MENTIONS`],
    /// each member once.
    fn check_mentions(&self) -> Result<(), FrameError> {
        let mentions = self.mentions.as_ref().map_or(&[][..], |m| &m.0[..]);
        if (self.mention_all || !mentions.is_empty()) && self.kind != MessageType::GroupText {
            return Err(invalid(
                Self::NAME,
                format!(
                    "type {} cannot mention anyone; mentions and mention_all are for group text (10)",
                    self.kind.code()
                ),
            ));
        }
        if mentions.len() > limits::MAX_MENTIONS {
            return Err(invalid(
                Self::NAME,
                format!(
                    "{} mentions is too many; expected at most {}",
                    mentions.len(),
                    limits::MAX_MENTIONS
                ),
            ));
        }
        for (i, user) in mentions.iter().enumerate() {
            if mentions[..i].contains(user) {
                return Err(invalid(
                    Self::NAME,
                    format!("mentions names {user} twice; expected each member once"),
                ));
            }
        }
        Ok(())
    }
}

/// An image (22888) or voice message (23888) with its file, to a user or a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendFile {
    /// The sender: must be the session's own user.
    pub from: UserId,
    /// The recipient or group.
    pub to: Peer,
    /// 1 or 11 for images, 2 or 12 for voice.
    #[serde(rename = "type")]
    pub kind: MessageType,
    /// The file's bytes (base64 on the wire). The format is sniffed from them.
    #[serde(with = "text::b64_bytes")]
    pub data: Vec<u8>,
    /// The file's original name, for display only; never used to store it.
    #[serde(
        default,
        with = "text::b64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// A voice message's length in whole seconds (1 to 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
    /// The client's id for this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<ClientMsgId>,
}

impl Packet for SendFile {
    const NAME: &'static str = "SendFile";
    fn validate(&self) -> Result<(), FrameError> {
        let (max_bytes, voice) = match self.kind {
            MessageType::Image | MessageType::GroupImage => (limits::MAX_IMAGE_BYTES, false),
            MessageType::Voice | MessageType::GroupVoice => (limits::MAX_VOICE_BYTES, true),
            other => {
                return Err(invalid(
                    Self::NAME,
                    format!(
                        "type {} is not a file message; expected 1, 2, 11 or 12",
                        other.code()
                    ),
                ));
            }
        };
        if self.data.is_empty() {
            return Err(invalid(
                Self::NAME,
                "data is empty; expected the file's bytes",
            ));
        }
        if self.data.len() > max_bytes {
            return Err(FrameError::FieldTooLong {
                field: "data",
                len: self.data.len(),
                max: max_bytes,
            });
        }
        if let Some(name) = &self.name {
            check_chars("name", name, limits::MAX_FILE_NAME_CHARS)?;
        }
        match (voice, self.duration) {
            (true, Some(seconds))
                if (limits::MIN_VOICE_SECONDS..=limits::MAX_VOICE_SECONDS).contains(&seconds) =>
            {
                Ok(())
            }
            (true, Some(seconds)) => Err(invalid(
                Self::NAME,
                format!(
                    "duration {seconds} s is out of range; expected {} to {} seconds",
                    limits::MIN_VOICE_SECONDS,
                    limits::MAX_VOICE_SECONDS
                ),
            )),
            (true, None) => Err(invalid(
                Self::NAME,
                "a voice message needs its duration in seconds",
            )),
            (false, Some(_)) => Err(invalid(Self::NAME, "only voice messages have a duration")),
            (false, None) => Ok(()),
        }
    }
}

/// The reply to a send, given only once the message is durably stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendAck {
    /// Always 11.
    pub state: crate::State,
    /// The client's id of the message, when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<ClientMsgId>,
    /// The stored message's id.
    pub id: MessageId,
    /// The sender's own seq for the message (their other sessions receive it under it).
    pub seq: Seq,
    /// When the server stored it, `YYYY-MM-DD HH:MM:SS` in the server's zone.
    pub time: String,
    /// When the server stored it, in milliseconds since the Unix epoch.
    pub ts: i64,
    /// For images and voice: the server's name for the stored file.
    #[serde(
        default,
        with = "text::b64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub content: Option<String>,
}

impl Packet for SendAck {
    const NAME: &'static str = "SendAck";
}

/// A message as its recipients (and the sender's other sessions) receive it:
/// pushed on 20888 and returned by message sync (50888).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who wrote it: a user, or `"0"` for group notices.
    pub from: Sender,
    /// The recipient user, or the group.
    pub to: Peer,
    /// What it is.
    #[serde(rename = "type")]
    pub kind: MessageType,
    /// The text; the server's file name for images and voice; the notice's
    /// JSON for group notices (base64 on the wire).
    #[serde(with = "text::b64")]
    pub content: String,
    /// When the server stored it, `YYYY-MM-DD HH:MM:SS` in the server's zone.
    pub time: String,
    /// When the server stored it, in milliseconds since the Unix epoch.
    pub ts: i64,
    /// The message's server-wide id.
    pub id: MessageId,
    /// The receiving user's seq for it. Absent in history pages for messages
    /// the reader never received (from before they joined a group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<Seq>,
    /// The sender's cid, so the sender's sessions can match it to their outbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<ClientMsgId>,
    /// A voice message's length in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
    /// The message this one replies to, as the server saw it (§15.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<Quote>,
    /// The group members @-mentioned (§15.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions: Option<crate::packets::groups::Members>,
    /// @所有人 (§15.4).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mention_all: bool,
    /// Set once the message was recalled: its `content` is then empty (§15.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recalled: Option<Recalled>,
    /// A file's original name (5, 15; base64 on the wire).
    #[serde(
        default,
        with = "text::b64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// A file's size in bytes (5, 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// The server's snapshot of a quoted message, carried by the reply (§15.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The quoted message.
    pub id: MessageId,
    /// Who wrote it.
    pub from: Sender,
    /// What it is.
    #[serde(rename = "type")]
    pub kind: MessageType,
    /// The first 100 characters of a text, or a file's name (base64 on the
    /// wire); absent for images and voice, and once recalled.
    #[serde(
        default,
        with = "text::b64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub content: Option<String>,
    /// The quoted message was recalled.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recalled: bool,
}

/// Who took a message back, and when (§15.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recalled {
    /// The sender, or the group's holder.
    pub by: UserId,
    /// When, in milliseconds since the Unix epoch.
    pub ts: i64,
}

/// The content of a recall (types 4 and 14, §15.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallNotice {
    /// The message taken back.
    pub id: MessageId,
    /// Who took it back.
    pub by: UserId,
    /// Who had sent it.
    pub sender: UserId,
}

/// The content of a chat record (types 6 and 16, §15.3): forwarded
/// messages merged into one, as the forwarder saw them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatRecord {
    /// The conversation the items came from: the other person, or the group.
    pub source: Peer,
    /// The messages, oldest first.
    pub items: Vec<ChatRecordItem>,
}

/// One message of a [`ChatRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatRecordItem {
    /// Who wrote it.
    pub from: UserId,
    /// Its original type.
    #[serde(rename = "type")]
    pub kind: MessageType,
    /// The text, or the stored file's name (base64 on the wire).
    #[serde(with = "text::b64")]
    pub content: String,
    /// When it was stored, in milliseconds since the Unix epoch.
    pub ts: i64,
    /// The same instant as `YYYY-MM-DD HH:MM:SS`.
    pub time: String,
    /// A voice message's length in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
    /// A file's original name (base64 on the wire).
    #[serde(
        default,
        with = "text::b64_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// A file's size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl Packet for Message {
    const NAME: &'static str = "Message";
}

impl Packet for ChatRecord {
    const NAME: &'static str = "ChatRecord";
}

impl Message {
    /// The conversation this message belongs to, seen by `me`: the group, or
    /// the other person of a 1:1 conversation.
    pub fn conversation(&self, me: &UserId) -> Peer {
        match (&self.to, &self.from) {
            (Peer::Group(gid), _) => Peer::Group(*gid),
            (Peer::User(to), Sender::User(from)) if to == me => Peer::User(from.clone()),
            (to, _) => to.clone(),
        }
    }

    /// Reads the content of a group notice.
    pub fn notice<T: de::DeserializeOwned>(&self) -> Result<T, FrameError> {
        serde_json::from_str(&self.content).map_err(|e| {
            invalid(
                "group notice",
                format!("content of a type {} message: {e}", self.kind.code()),
            )
        })
    }
}

/// The content of a type-19 message: the group as created, in the protocol
/// document's shape (`name` base64 inside the content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCreatedNotice {
    /// Who created it.
    pub holder: UserId,
    /// Its name.
    #[serde(with = "text::b64")]
    pub name: String,
    /// Its members, the holder included.
    pub member: crate::packets::groups::Members,
}

/// The content of a type-20 message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRenamedNotice {
    /// Who renamed it.
    pub by: UserId,
    /// The new name.
    #[serde(with = "text::b64")]
    pub name: String,
}

/// The content of a type-21, 22 or 23 message: who changed the membership,
/// and whom it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMembersNotice {
    /// Who made the change (for 23, the member who left).
    pub by: UserId,
    /// The members added, removed, or the one who left.
    pub member: crate::packets::groups::Members,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(json: &str) -> Result<Sender, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn the_sender_is_zero_for_the_system_or_a_user_id_as_text_or_number() {
        assert_eq!(sender(r#""0""#).expect("text"), Sender::System);
        assert_eq!(sender("0").expect("number"), Sender::System);
        let user = UserId::parse("13800000001").expect("user");
        assert_eq!(
            sender(r#""13800000001""#).expect("text"),
            Sender::User(user.clone())
        );
        assert_eq!(sender("13800000001").expect("number"), Sender::User(user));
        let err = sender("-5").expect_err("negative");
        assert!(err.to_string().contains("\"-5\" is not a user id"), "{err}");
        let err = sender("1.5").expect_err("fraction");
        assert!(
            err.to_string().contains("\"1.5\" is not a user id"),
            "{err}"
        );
        let err = sender("true").expect_err("bool");
        assert!(
            err.to_string().contains("from is true; expected a user id"),
            "{err}"
        );
        let err = sender("null").expect_err("null");
        assert!(
            err.to_string().contains("from is null; expected a user id"),
            "{err}"
        );
    }

    #[test]
    fn mentions_are_for_group_text_at_most_500_each_once() {
        let send = |kind: u8, mentions: &str, all: bool| {
            let json = format!(
                r#"{{"from":"13800000001","to":"{}","type":{kind},"content":"5aW9","mentions":"{mentions}","mention_all":{all}}}"#,
                if kind == 0 { "13800000002" } else { "7" }
            );
            serde_json::from_str::<SendText>(&json)
                .expect("decodes")
                .validate()
        };
        send(10, "13800000002,13800000003", false).expect("two members");
        send(10, "", true).expect("everyone");
        let err = send(0, "13800000002", false).expect_err("1:1");
        assert!(err.to_string().contains("for group text (10)"), "{err}");
        let err = send(0, "", true).expect_err("1:1 everyone");
        assert!(err.to_string().contains("cannot mention"), "{err}");
        let err = send(10, "13800000002,13800000003,13800000002", false).expect_err("twice");
        assert!(err.to_string().contains("13800000002 twice"), "{err}");
        let many: Vec<String> = (0..501).map(|i| format!("138{i:08}")).collect();
        let err = send(10, &many.join(","), false).expect_err("501");
        assert!(
            err.to_string().contains("501 mentions is too many"),
            "{err}"
        );
        send(10, &many[..500].join(","), false).expect("500");
    }

    #[test]
    fn the_new_types_keep_their_numbers_and_their_side() {
        for (code, group) in [
            (4, false),
            (5, false),
            (6, false),
            (14, true),
            (15, true),
            (16, true),
        ] {
            let kind = MessageType::from_code(code);
            assert_eq!(kind.code(), code);
            assert!(!matches!(kind, MessageType::Unknown(_)), "{code} is known");
            assert_eq!(kind.is_group(), group, "{code}");
            assert_eq!(kind.for_conversation(group), Some(kind));
        }
        assert_eq!(
            MessageType::Image.for_conversation(true),
            Some(MessageType::GroupImage)
        );
        assert_eq!(
            MessageType::GroupFile.for_conversation(false),
            Some(MessageType::File)
        );
        assert_eq!(MessageType::Call.for_conversation(true), None);
        assert!(MessageType::GroupRecall.is_recall() && !MessageType::GroupRecall.is_notice());
    }

    #[test]
    fn a_quote_a_recall_and_mentions_read_and_write_as_documented() {
        let json = r#"{"from":"13800000001","to":"7","type":10,"content":"","time":"2026-11-27 21:05:09","ts":1795784709000,"id":"1007","quote":{"id":"1001","from":"13800000002","type":10,"recalled":true},"mentions":"13800000002,13800000003","mention_all":true,"recalled":{"by":"13800000001","ts":1795784719000}}"#;
        let message: Message = serde_json::from_str(json).expect("reads");
        assert_eq!(serde_json::to_string(&message).expect("writes"), json);
        let quote = message.quote.as_ref().expect("quote");
        assert!(quote.recalled && quote.content.is_none());
        assert!(!message.calls_for_reply(), "a recalled message is not news");
        // Without the new fields a message writes exactly as before.
        let plain = r#"{"from":"13800000001","to":"7","type":10,"content":"5aW9","time":"2026-11-27 21:05:09","ts":1795784709000,"id":"1007"}"#;
        let message: Message = serde_json::from_str(plain).expect("reads");
        assert_eq!(serde_json::to_string(&message).expect("writes"), plain);
    }

    #[test]
    fn the_documented_chat_record_reads_and_writes_back() {
        let json = r#"{"source":"13800000002","items":[{"from":"13800000002","type":0,"content":"5ZGo5LqU5byA5Lya","ts":1795784709000,"time":"2026-11-27 21:05:09"},{"from":"13800000001","type":1,"content":"MTAwMi5wbmc=","ts":1795784719000,"time":"2026-11-27 21:05:19"}]}"#;
        let record: ChatRecord = serde_json::from_str(json).expect("reads");
        assert_eq!(record.items[0].content, "周五开会");
        assert_eq!(record.items[1].content, "1002.png");
        assert_eq!(serde_json::to_string(&record).expect("writes"), json);
        let recall: RecallNotice =
            serde_json::from_str(r#"{"id":"1001","by":"13800000002","sender":"13800000002"}"#)
                .expect("recall");
        assert_eq!(recall.id.to_string(), "1001");
    }
}
