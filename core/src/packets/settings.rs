//! 32888: settings — mute (消息免打扰, PROTOCOL §15.5) and sharing read
//! receipts (§16.5).

use crate::frame_error::FrameError;
use crate::ids::Peer;
use crate::packet::{Packet, invalid};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// The most conversations a muted list carries (a user's groups are capped
/// by the directory's size in practice; this keeps a reply bounded).
pub const MAX_MUTED: usize = 10_000;

/// Mute or unmute one conversation: the 32888 request, and the content of
/// the 20888 push `{"conversation":{…}}` that tells the user's other
/// sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationMute {
    /// The conversation: the other person, or the group.
    pub target: Peer,
    /// Muted from now on (`false`: notify again).
    pub muted: bool,
}

impl Packet for ConversationMute {
    const NAME: &'static str = "ConversationMute";
}

/// `{}`: the caller's muted conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MutedQuery {}

impl Packet for MutedQuery {
    const NAME: &'static str = "MutedQuery";
}

/// Conversations joined by commas on the wire, like `member` (§3): user ids
/// and gids mixed, told apart by their length.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Conversations(pub Vec<Peer>);

impl Serialize for Conversations {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let joined: Vec<String> = self.0.iter().map(Peer::to_string).collect();
        serializer.serialize_str(&joined.join(","))
    }
}

impl<'de> Deserialize<'de> for Conversations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Conversations, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| Peer::parse(part).map_err(de::Error::custom))
            .collect::<Result<Vec<_>, _>>()
            .map(Conversations)
    }
}

/// The reply to [`MutedQuery`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MutedList {
    /// Always 11.
    pub state: crate::State,
    /// Every muted conversation, in no particular order.
    pub muted: Conversations,
    /// Whether the caller shares read receipts (their choice, or the
    /// company's default; §16.5). Absent from a server that predates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipts: Option<bool>,
}

impl Packet for MutedList {
    const NAME: &'static str = "MutedList";
    fn validate(&self) -> Result<(), FrameError> {
        if self.muted.0.len() > MAX_MUTED {
            return Err(invalid(
                Self::NAME,
                format!(
                    "{} muted conversations is too many; expected at most {MAX_MUTED}",
                    self.muted.0.len()
                ),
            ));
        }
        Ok(())
    }
}

/// What a client sends on 32888.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsRequest {
    /// `{"target","muted"}`
    Mute(ConversationMute),
    /// `{}`
    List(MutedQuery),
    /// `{"receipts"}` (§16.5)
    Receipts(crate::packets::receipts::ReceiptsSetting),
}

impl SettingsRequest {
    /// Tells a set (it names a `target`) from the receipts choice and the
    /// list (`{}`).
    pub fn from_frame(frame: &crate::Frame) -> Result<SettingsRequest, FrameError> {
        let keys = frame.field_names()?;
        if keys.iter().any(|k| k == "target" || k == "muted") {
            frame.packet().map(SettingsRequest::Mute)
        } else if keys.iter().any(|k| k == "receipts") {
            frame.packet().map(SettingsRequest::Receipts)
        } else {
            frame.packet().map(SettingsRequest::List)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversations_read_users_and_groups_and_skip_empty_parts() {
        let list: Conversations = serde_json::from_str(r#"" 7, 13800000002,,""#).expect("list");
        assert_eq!(
            serde_json::to_string(&list).expect("json"),
            r#""7,13800000002""#
        );
        let err = serde_json::from_str::<Conversations>(r#""7,x""#).expect_err("bad id");
        assert!(err.to_string().contains('x'), "{err}");
    }

    #[test]
    fn a_request_is_a_set_when_it_names_a_target_and_the_list_otherwise() {
        let read = |json: &str| {
            let text = crate::Frame::encode_payload(crate::envelope::Encoding::Plain, json)
                .expect("encodes");
            let frame = crate::Frame::decode(&text).expect("frame");
            SettingsRequest::from_frame(&frame)
        };
        assert_eq!(
            read(r#"{"target":"7","muted":false}"#).expect("set"),
            SettingsRequest::Mute(ConversationMute {
                target: Peer::parse("7").expect("gid"),
                muted: false
            })
        );
        assert_eq!(
            read("{}").expect("list"),
            SettingsRequest::List(MutedQuery {})
        );
        let err = read(r#"{"target":"7"}"#).expect_err("no muted");
        assert!(err.to_string().contains("muted"), "{err}");
    }
}
